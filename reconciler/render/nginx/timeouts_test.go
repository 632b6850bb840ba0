package nginx

import (
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
	_, port := serveOneRoute(t, "slow.test", `    - matches: [{path: {value: /bounded}}]
      timeouts: {request: 2s, backendRequest: 300ms}
      backendRefs: [{name: slow, port: 80}]
    - backendRefs: [{name: slow, port: 80}]
`, Options{Backend: func(string, int32) (string, int32) { return "127.0.0.1", slowPort }})
	// The status tells: the backend would answer 200, after the timeout.
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/bounded", 504},
		{"/unbounded", 200},
	} {
		if got := statusOf(t, port, "slow.test", "GET", tc.path); got != tc.status {
			t.Errorf("%s: %d, want %d", tc.path, got, tc.status)
		}
	}
}
