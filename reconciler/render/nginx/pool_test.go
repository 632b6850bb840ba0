package nginx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// simulator stands for the tasks of backend services on loopback addresses, as the Gateway API
// conformance suite's retry simulator does: it fails a request's first tries (X-Fail-Tries) with
// a status (X-Fail-Status), or by dropping the connection when that is 0, counting the tries of
// each request (by its X-Request-Id) over all tasks and the connections each task accepted. It
// answers the Connection header it received in X-Connection.
type simulator struct {
	mu          sync.Mutex
	tries       map[string]int
	connections map[string]int // by task address
}

func (s *simulator) startTask(t *testing.T, addr string, port int) {
	l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", addr, port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.mu.Lock()
				s.connections[addr]++
				s.mu.Unlock()
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			s.tries[r.Header.Get("X-Request-Id")]++
			try := s.tries[r.Header.Get("X-Request-Id")]
			s.mu.Unlock()
			failures, _ := strconv.Atoi(r.Header.Get("X-Fail-Tries"))
			status, _ := strconv.Atoi(r.Header.Get("X-Fail-Status"))
			if try <= failures {
				if status == 0 {
					panic(http.ErrAbortHandler) // drops the connection: a connection error
				}
				w.WriteHeader(status)
				return
			}
			w.Header().Set("X-Task", addr)
			w.Header().Set("X-Connection", r.Header.Get("Connection"))
		}),
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// TestServePools serves pooled backends (Options.Tasks) with the real nginx: requests reuse
// backend connections, upgrades keep their Connection header, a service without tasks answers
// 503 and a missing one 500, and a rule's retry bounds the tries of a request exactly, also
// against a backend of one task.
func TestServePools(t *testing.T) {
	backendPort := int(freePort(t))
	sim := &simulator{tries: map[string]int{}, connections: map[string]int{}}
	for _, addr := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		sim.startTask(t, addr, backendPort)
	}
	conf, port := serveOneRoute(t, "pools.test", fmt.Sprintf(`    - matches: [{path: {value: /one}}]
      backendRefs: [{name: one, port: %[1]d}]
    - matches: [{path: {value: /retry-one}}]
      retry: {codes: [503], attempts: 2}
      backendRefs: [{name: one, port: %[1]d}]
    - matches: [{path: {value: /retry-two}}]
      retry: {codes: [503], attempts: 2}
      backendRefs: [{name: two, port: %[1]d}]
    - matches: [{path: {value: /no-retry}}]
      retry: {codes: [503], attempts: 0}
      backendRefs: [{name: one, port: %[1]d}]
    - matches: [{path: {value: /weighted}}]
      backendRefs: [{name: one, port: %[1]d, weight: 1}, {name: two, port: %[1]d, weight: 1}]
    - matches: [{path: {value: /idle}}]
      backendRefs: [{name: idle, port: %[1]d}]
    - matches: [{path: {value: /missing}}]
      backendRefs: [{name: missing, port: %[1]d}]
`, backendPort), Options{
		Services: map[string]bool{"one": true, "two": true, "idle": true},
		Tasks: map[string][]netip.Addr{
			"one": {netip.MustParseAddr("127.0.0.1")},
			"two": {netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")},
		},
	})
	if !strings.Contains(string(conf), "keepalive 64;") {
		t.Fatalf("no pooled upstream in:\n%s", conf)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	nextID := 0
	send := func(path string, headers map[string]string) *http.Response {
		t.Helper()
		nextID++
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		req.Host = "pools.test"
		req.Header.Set("X-Request-Id", fmt.Sprintf("%s-%d", t.Name(), nextID))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	t.Run("requests reuse backend connections", func(t *testing.T) {
		const requests = 50
		for range requests {
			if resp := send("/one", nil); resp.StatusCode != 200 || resp.Header.Get("X-Connection") != "" {
				t.Fatalf("status %d, backend got Connection %q; want 200 and none", resp.StatusCode, resp.Header.Get("X-Connection"))
			}
		}
		sim.mu.Lock()
		defer sim.mu.Unlock()
		if n := sim.connections["127.0.0.1"]; n >= requests/10 {
			t.Errorf("%d requests opened %d backend connections; want them reused", requests, n)
		}
	})
	t.Run("upgrades keep their Connection header", func(t *testing.T) {
		if got := send("/one", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}).Header.Get("X-Connection"); got != "upgrade" {
			t.Errorf("backend got Connection %q, want upgrade", got)
		}
	})

	tests := []struct {
		name     string
		path     string
		failures int // the backend's failed tries per request
		status   int // the failures' status; 0 drops the connection
		want     int
		tries    int // tries the backend saw
	}{
		{"one task, fails twice, attempts 2", "/retry-one", 2, 503, 200, 3},
		{"one task, fails three times, attempts 2", "/retry-one", 3, 503, 503, 3},
		{"one task, connection errors retried", "/retry-one", 2, 0, 200, 3},
		{"one task, a code not listed stands", "/retry-one", 1, 500, 500, 1},
		{"two tasks, fails twice, attempts 2", "/retry-two", 2, 503, 200, 3},
		{"two tasks, fails three times, attempts 2", "/retry-two", 3, 503, 503, 3},
		{"attempts 0", "/no-retry", 1, 503, 503, 1},
		{"no task answers 503", "/idle", 0, 0, 503, 0},
		{"missing service answers 500", "/missing", 0, 0, 500, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(tt.path, map[string]string{"X-Fail-Tries": strconv.Itoa(tt.failures), "X-Fail-Status": strconv.Itoa(tt.status)})
			sim.mu.Lock()
			tries := sim.tries[resp.Request.Header.Get("X-Request-Id")]
			sim.mu.Unlock()
			if resp.StatusCode != tt.want || tries != tt.tries {
				t.Errorf("status %d after %d tries, want %d after %d", resp.StatusCode, tries, tt.want, tt.tries)
			}
		})
	}

	t.Run("weighted backends are pools too", func(t *testing.T) {
		seen := map[string]int{}
		for range 40 {
			resp := send("/weighted", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			seen[resp.Header.Get("X-Task")]++
		}
		if len(seen) != 3 {
			t.Errorf("40 requests reached %v; want every task of both backends", seen)
		}
	})
}
