package nginx

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// zeros is a request body of any length generated as it is read: no file, no memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// countingBackend answers each request with the number of body bytes it read, and signals on
// started once it has read the first bytes of a body.
func countingBackend(t *testing.T) (port int32, started chan struct{}) {
	started = make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		var n int64
		for {
			k, err := r.Body.Read(buf)
			if n == 0 && k > 0 {
				started <- struct{}{}
			}
			n += int64(k)
			if err != nil {
				break
			}
		}
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
	}))
	t.Cleanup(srv.Close)
	return int32(srv.Listener.Addr().(*net.TCPAddr).Port), started
}

// TestServeRequestBodies: uploads through a real nginx. The default limit takes a 5 MB upload and
// refuses one over 100 MiB; a Route's limit refuses a larger body (with or without a length) and
// overrides its Gateway's, also when it shares a location with another Route; "0" with buffering
// off takes any size, and the backend reads the body while the client still sends it.
func TestServeRequestBodies(t *testing.T) {
	backend, started := countingBackend(t)
	opts := Options{Backend: func(string, int32) (string, int32) { return "127.0.0.1", backend }}
	_, defaults := serveOneRoute(t, "default.test", "    - backendRefs: [{name: app, port: 80}]\n", opts)

	port := freePort(t)
	gw, routes := loadInput(t, "bodies.yaml", []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: %d}]
  requestBody: {maxSize: 10Mi}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: files}
spec:
  parentRefs: [{name: gw}]
  hostnames: [bodies.test]
  requestBody: {maxSize: "0", buffering: false}
  rules:
    - matches: [{path: {value: /upload}}]
      backendRefs: [{name: store, port: 80}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: api}
spec:
  parentRefs: [{name: gw}]
  hostnames: [bodies.test]
  requestBody: {maxSize: 1Mi}
  rules:
    - matches: [{path: {value: /upload}, headers: [{name: X-Api, value: "1"}]}]
      backendRefs: [{name: api, port: 80}]
    - matches: [{path: {value: /api}}]
      backendRefs: [{name: api, port: 80}]
`, port)))
	conf, err := Render(gw, routes, opts)
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, port)

	const mib = 1 << 20
	for _, tc := range []struct {
		name    string
		port    int
		host    string
		path    string
		header  string // X-Api, when set
		size    int64
		chunked bool // sent without a length
		status  int
	}{
		{"default limit: 5 MB passes", int(defaults), "default.test", "/", "", 5_000_000, false, 200},
		{"default limit: 5 MB without a length passes", int(defaults), "default.test", "/", "", 5_000_000, true, 200},
		{"default limit: over 100 MiB is refused", int(defaults), "default.test", "/", "", 100*mib + 1, false, 413},
		{"route limit: 512 KiB passes", int(port), "bodies.test", "/api", "", 512 << 10, false, 200},
		{"route limit: 2 MiB is refused", int(port), "bodies.test", "/api", "", 2 * mib, false, 413},
		{"route limit: 2 MiB without a length is refused", int(port), "bodies.test", "/api", "", 2 * mib, true, 413},
		{"route limit in a shared location: 2 MiB is refused", int(port), "bodies.test", "/upload", "1", 2 * mib, false, 413},
		{"route limit in a shared location, without a length", int(port), "bodies.test", "/upload", "1", 2 * mib, true, 413},
		{"no limit: 200 MiB streams", int(port), "bodies.test", "/upload", "", 200 * mib, false, 200},
		{"no limit: 200 MiB without a length streams", int(port), "bodies.test", "/upload", "", 200 * mib, true, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = io.LimitReader(zeros{}, tc.size)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length from net/http
			}
			req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d%s", tc.port, tc.path), body)
			if !tc.chunked {
				req.ContentLength = tc.size
			}
			req.Host = tc.host
			if tc.header != "" {
				req.Header.Set("X-Api", tc.header)
			}
			resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 200 && strings.TrimSpace(string(got)) != strconv.FormatInt(tc.size, 10) {
				t.Errorf("the backend read %s bytes, want %d", got, tc.size)
			}
		})
	}
	drain := func() {
		for len(started) > 0 {
			<-started
		}
	}

	// Streaming: the backend has the first bytes while the client holds the rest back.
	drain()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/upload", port), pr)
	req.Host = "bodies.test"
	done := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if _, err := pw.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Error("the backend got nothing of a streamed body before the client finished it")
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
