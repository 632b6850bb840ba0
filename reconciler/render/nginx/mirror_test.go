package nginx

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeRequestMirror: a RequestMirror filter sends a copy of each request (method, URI as
// sent, body) to its service, whose answer is thrown away, for its share of requests; a rule may
// have several mirrors. The client gets the backend's answer.
func TestServeRequestMirror(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{} // service -> "METHOD URI body" of each request
	ports := map[string]int32{}
	for _, svc := range []string{"app", "all", "half", "none"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			seen[svc] = append(seen[svc], r.Method+" "+r.RequestURI+" "+string(body))
			mu.Unlock()
			if svc != "app" {
				w.WriteHeader(500) // a mirror's answer never reaches the client
			}
			_, _ = w.Write([]byte(svc))
		}))
		t.Cleanup(srv.Close)
		ports[svc] = int32(srv.Listener.Addr().(*net.TCPAddr).Port)
	}
	_, port := serveOneRoute(t, "mirror.test", `    - filters:
        - {type: RequestMirror, requestMirror: {backendRef: {name: all, port: 80}}}
        - {type: RequestMirror, requestMirror: {backendRef: {name: half, port: 80}, fraction: {numerator: 1, denominator: 2}}}
        - {type: RequestMirror, requestMirror: {backendRef: {name: none, port: 80}, percent: 0}}
      backendRefs: [{name: app, port: 80}]
`, Options{Backend: func(svc string, _ int32) (string, int32) { return "127.0.0.1", ports[svc] }})
	const n = 200
	for i := range n {
		method, body := "GET", ""
		if i%2 == 1 {
			method, body = "POST", fmt.Sprintf("payload-%d", i)
		}
		req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d/a/%%7Eb?q=%d", port, i), strings.NewReader(body))
		req.Host = "mirror.test"
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != "app" {
			t.Fatalf("request %d: %d %q, want the backend's 200", i, resp.StatusCode, got)
		}
	}
	// A mirror's request may end just after the client's answer: wait for the copies.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := len(seen["all"]) == n
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen["app"]) != n || len(seen["all"]) != n {
		t.Errorf("backend got %d, full mirror %d, want %d each", len(seen["app"]), len(seen["all"]), n)
	}
	if h := len(seen["half"]); h < n/4 || h > 3*n/4 {
		t.Errorf("half mirror got %d of %d", h, n)
	}
	if len(seen["none"]) != 0 {
		t.Errorf("0%% mirror got %d", len(seen["none"]))
	}
	// The copy is the request as the client sent it: method, raw URI, body.
	for _, want := range []string{"GET /a/%7Eb?q=0 ", "POST /a/%7Eb?q=1 payload-1"} {
		found := false
		for _, r := range seen["all"] {
			found = found || r == want
		}
		if !found {
			t.Errorf("the mirror saw no %q among %q", want, seen["all"][:4])
		}
	}
}
