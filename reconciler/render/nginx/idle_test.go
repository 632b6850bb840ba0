package nginx

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// TestIdleTimeoutDefault: without spec.idleTimeout a gateway lets backend connections stay silent
// for an hour, not nginx's 60s: a websocket or long poll that goes quiet for 90s survives.
func TestIdleTimeoutDefault(t *testing.T) {
	gw, routes := loadInput(t, "idle.yaml", oneRoute(8080, "idle.test", "    - backendRefs: [{name: app, port: 80}]\n"))
	conf, err := Render(gw, routes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	for _, want := range []string{"\nproxy_read_timeout 3600000ms;\n", "\nproxy_send_timeout 3600000ms;\n"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("the config lacks %q", want)
		}
	}
}

// TestServeIdleTimeout, through a real nginx with a short spec.idleTimeout: a websocket (echoed
// by the backend) and a long poll survive a silence shorter than it and are cut by a longer one.
// The pauses are the behaviour under test (nginx's timers), not a speed target.
func TestServeIdleTimeout(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			websocket.Server{Handler: func(ws *websocket.Conn) { _, _ = io.Copy(ws, ws) }}.ServeHTTP(w, r)
			return
		}
		time.Sleep(1500 * time.Millisecond) // a long poll that answers late
		_, _ = io.WriteString(w, "late\n")
	}))
	t.Cleanup(backend.Close)
	backendPort := int32(backend.Listener.Addr().(*net.TCPAddr).Port)
	opts := Options{Backend: func(string, int32) (string, int32) { return "127.0.0.1", backendPort }}
	serve := func(idle string) v1alpha1.PortNumber {
		port := freePort(t)
		gw, routes := loadInput(t, "idle.yaml", []byte(strings.Replace(string(oneRoute(port, "idle.test", "    - backendRefs: [{name: app, port: 80}]\n")),
			"  listeners:", "  idleTimeout: "+idle+"\n  listeners:", 1)))
		conf, err := Render(gw, routes, opts)
		if err != nil {
			t.Fatal(err)
		}
		nginxTest(t, conf)
		startNginx(t, conf, port)
		return port
	}
	// echoAfter opens a websocket through the gateway, has a message echoed, stays silent for
	// pause and has another echoed.
	echoAfter := func(port v1alpha1.PortNumber, pause time.Duration) error {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return err
		}
		defer conn.Close()
		config, _ := websocket.NewConfig("ws://idle.test/socket", "http://idle.test")
		ws, err := websocket.NewClient(config, conn)
		if err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		for i, msg := range []string{"first", "after the silence"} {
			if i == 1 {
				time.Sleep(pause)
			}
			if err := websocket.Message.Send(ws, msg); err != nil {
				return err
			}
			var back string
			if err := websocket.Message.Receive(ws, &back); err != nil {
				return fmt.Errorf("%q: %w", msg, err)
			}
		}
		return nil
	}
	short, long := serve("500ms"), serve("3s")
	for _, tc := range []struct {
		name       string
		port       v1alpha1.PortNumber
		wsSurvives bool
		pollStatus int
		wsPause    time.Duration
	}{
		// Without a rule timeout, a backend that does not answer in time is "unavailable": 503.
		{"silence longer than the idle timeout", short, false, 503, 1500 * time.Millisecond},
		{"silence shorter than the idle timeout", long, true, 200, 1500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := echoAfter(tc.port, tc.wsPause)
			if survived := err == nil; survived != tc.wsSurvives {
				t.Errorf("websocket survived: %v (%v), want %v", survived, err, tc.wsSurvives)
			}
			if got := statusOf(t, tc.port, "idle.test", "GET", "/poll"); got != tc.pollStatus {
				t.Errorf("long poll: %d, want %d", got, tc.pollStatus)
			}
		})
	}
}
