package nginx

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestServeTimeouts: a rule's timeout answers 504 when the backend is slower (the Gateway API's
// rules[].timeouts), while a rule without one waits for it.
func TestServeTimeouts(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1500 * time.Millisecond)
		_, _ = w.Write([]byte("late\n"))
	}))
	t.Cleanup(slow.Close)
	slowPort := int32(slow.Listener.Addr().(*net.TCPAddr).Port)
	port := freePort(t)
	gw, routes := loadInput(t, "timeouts.yaml", []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: %d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: r}
spec:
  parentRefs: [{name: gw}]
  hostnames: [slow.test]
  rules:
    - matches: [{path: {value: /bounded}}]
      timeouts: {request: 2s, backendRequest: 300ms}
      backendRefs: [{name: slow, port: 80}]
    - backendRefs: [{name: slow, port: 80}]
`, port)))
	conf, err := Render(gw, routes, Options{Backend: func(string, int32) (string, int32) { return "127.0.0.1", slowPort }})
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, port)
	// The status tells: the backend would answer 200, after the timeout.
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/bounded", 504},
		{"/unbounded", 200},
	} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, tc.path), nil)
		req.Host = "slow.test"
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
	}
}
