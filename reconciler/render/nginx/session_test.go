package nginx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// sessions are Routes whose rules keep sessions on one task: cookies of both lifetimes, a
// header, weighted backends, and a BackendTrafficPolicy's session for a rule without its own.
const sessions = `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: %[1]d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [shop.test]
  rules:
    - matches: [{path: {value: /cookie}}]
      sessionPersistence: {}
      backendRefs: [{name: app, port: %[2]d}]
    - matches: [{path: {value: /permanent}}]
      sessionPersistence: {sessionName: shop-id, absoluteTimeout: 1h, cookieConfig: {lifetimeType: Permanent}}
      backendRefs: [{name: app, port: %[2]d}]
    - matches: [{path: {value: /header}}]
      sessionPersistence: {type: Header, sessionName: X-Session}
      backendRefs: [{name: app, port: %[2]d}]
    - matches: [{path: {value: /split}}]
      sessionPersistence: {}
      backendRefs: [{name: app, port: %[2]d}, {name: other, port: %[2]d}]
    - matches: [{path: {value: /plain}}]
      backendRefs: [{name: app, port: %[2]d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: api}
spec:
  parentRefs: [{name: gw}]
  hostnames: [api.test]
  rules: [{backendRefs: [{name: app, port: %[2]d}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: sticky}
spec:
  targetRefs: [{kind: Route, name: api}]
  sessionPersistence: {type: Header, sessionName: X-Api-Session}
`

// task is a backend task on a loopback address that answers its address in X-Task.
func task(t *testing.T, addr string, port int) (stop func()) {
	l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", addr, port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("X-Task", addr) })}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return func() { _ = srv.Close() }
}

// TestServeSessionPersistence sends sessions through the real nginx to pooled backends of three
// tasks: a session's requests reach one task, sessions spread over the tasks, and when a task goes
// (it stops answering, or it leaves the pool) only its sessions move.
func TestServeSessionPersistence(t *testing.T) {
	backendPort := int(freePort(t))
	addrs := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	stops := map[string]func(){}
	for _, a := range append(addrs, "127.0.0.4") {
		stops[a] = task(t, a, backendPort)
	}
	tasks := func(app ...string) map[string][]netip.Addr {
		out := map[string][]netip.Addr{"other": {netip.MustParseAddr("127.0.0.4")}}
		for _, a := range app {
			out["app"] = append(out["app"], netip.MustParseAddr(a))
		}
		return out
	}
	// render serves the sessions with opts on a port of their own.
	render := func(opts Options) v1alpha1.PortNumber {
		port := freePort(t)
		manifests := []byte(fmt.Sprintf(sessions, port, backendPort))
		gw, routes := loadInput(t, "sessions.yaml", manifests)
		opts.Policies = policiesIn(manifests)
		conf, err := Render(gw, routes, opts)
		if err != nil {
			t.Fatal(err)
		}
		nginxTest(t, conf)
		startNginx(t, conf, port)
		return port
	}
	// serve serves the sessions pooled to the app's tasks.
	serve := func(app ...string) v1alpha1.PortNumber { return render(Options{Tasks: tasks(app...)}) }
	port := serve(addrs...)
	client := &http.Client{Timeout: 5 * time.Second}
	// send asks for path on host through the gateway on port with the given request headers and
	// returns the task that answered and the response's headers.
	send := func(port v1alpha1.PortNumber, host, path string, headers map[string]string) (string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		req.Host = host
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s%s: status %d", host, path, resp.StatusCode)
		}
		return resp.Header.Get("X-Task"), resp.Header
	}
	token := regexp.MustCompile(`^[0-9a-f]{32}$`)
	// cookieSession starts a session on path and returns its cookie and its task.
	cookieSession := func(port v1alpha1.PortNumber, path, name, attributes string) (cookie, first string) {
		t.Helper()
		first, h := send(port, "shop.test", path, nil)
		value, ok := strings.CutPrefix(h.Get("Set-Cookie"), name+"=")
		value, rest, _ := strings.Cut(value, ";")
		if !ok || !token.MatchString(value) || rest != attributes {
			t.Fatalf("a new session got Set-Cookie %q, want %s=<token>;%s", h.Get("Set-Cookie"), name, attributes)
		}
		return name + "=" + value, first
	}
	// sticks checks that a session's requests through port all reach the task its first one did,
	// and that no answer hands it another token.
	sticks := func(t *testing.T, port v1alpha1.PortNumber, first, host, path string, headers map[string]string, issued string) {
		t.Helper()
		for range 10 {
			got, h := send(port, host, path, headers)
			if got != first || h.Get(issued) != "" {
				t.Fatalf("a request of the session reached %s (first %s), answered %s %q", got, first, issued, h.Get(issued))
			}
		}
	}

	t.Run("a cookie session stays on its task", func(t *testing.T) {
		cookie, first := cookieSession(port, "/cookie", "sg-session", " Path=/; HttpOnly")
		sticks(t, port, first, "shop.test", "/cookie", map[string]string{"Cookie": "a=1; " + cookie + "; b=2"}, "Set-Cookie")
	})
	t.Run("a permanent cookie lives absoluteTimeout", func(t *testing.T) {
		cookie, first := cookieSession(port, "/permanent", "shop-id", " Path=/; HttpOnly; Max-Age=3600")
		sticks(t, port, first, "shop.test", "/permanent", map[string]string{"Cookie": cookie}, "Set-Cookie")
	})
	t.Run("a header session stays on its task", func(t *testing.T) {
		first, h := send(port, "shop.test", "/header", nil)
		if !token.MatchString(h.Get("X-Session")) || h.Get("Set-Cookie") != "" {
			t.Fatalf("a new session got X-Session %q, Set-Cookie %q", h.Get("X-Session"), h.Get("Set-Cookie"))
		}
		sticks(t, port, first, "shop.test", "/header", map[string]string{"X-Session": h.Get("X-Session")}, "X-Session")
	})
	t.Run("a BackendTrafficPolicy's session", func(t *testing.T) {
		first, h := send(port, "api.test", "/", nil)
		if !token.MatchString(h.Get("X-Api-Session")) {
			t.Fatalf("a new session got X-Api-Session %q", h.Get("X-Api-Session"))
		}
		sticks(t, port, first, "api.test", "/", map[string]string{"X-Api-Session": h.Get("X-Api-Session")}, "X-Api-Session")
	})
	keepsBackend := func(t *testing.T, port v1alpha1.PortNumber) {
		seen := map[string]bool{}
		for range 20 {
			cookie, first := cookieSession(port, "/split", "sg-session", " Path=/; HttpOnly")
			seen[first] = true
			sticks(t, port, first, "shop.test", "/split", map[string]string{"Cookie": cookie}, "Set-Cookie")
		}
		if !seen["127.0.0.4"] || len(seen) < 2 {
			t.Errorf("20 sessions reached %v; want both backends", seen)
		}
	}
	t.Run("a session keeps its weighted backend", func(t *testing.T) { keepsBackend(t, port) })
	t.Run("without agents, a session keeps its weighted backend", func(t *testing.T) {
		// Names nginx resolves: app is its first task, other its only one.
		keepsBackend(t, render(Options{Backend: func(service string, port int32) (string, int32) {
			return map[string]string{"app": "127.0.0.1", "other": "127.0.0.4"}[service], port
		}}))
	})
	t.Run("a rule without session persistence hands out no token", func(t *testing.T) {
		if _, h := send(port, "shop.test", "/plain", nil); h.Get("Set-Cookie") != "" {
			t.Errorf("Set-Cookie %q", h.Get("Set-Cookie"))
		}
	})

	// Sessions by task, for the moves below.
	const n = 30
	cookies, onTask := make([]string, n), make([]string, n)
	byTask := map[string]int{}
	for i := range n {
		cookies[i], onTask[i] = cookieSession(port, "/cookie", "sg-session", " Path=/; HttpOnly")
		byTask[onTask[i]]++
	}
	if len(byTask) != len(addrs) {
		t.Fatalf("%d sessions reached %v; want all %d tasks", n, byTask, len(addrs))
	}
	gone := onTask[0]
	// moves checks, on port, that the sessions of the task that went reach another and the others
	// stay where they were.
	moves := func(t *testing.T, port v1alpha1.PortNumber) {
		for i, cookie := range cookies {
			got, _ := send(port, "shop.test", "/cookie", map[string]string{"Cookie": cookie})
			switch {
			case onTask[i] == gone && got == gone:
				t.Errorf("session %d still reached %s, which went", i, gone)
			case onTask[i] != gone && got != onTask[i]:
				t.Errorf("session %d moved from %s to %s, though its task stayed", i, onTask[i], got)
			}
		}
	}
	t.Run("a task leaving the pool moves its sessions only", func(t *testing.T) {
		var rest []string
		for _, a := range addrs {
			if a != gone {
				rest = append(rest, a)
			}
		}
		moves(t, serve(rest...))
	})
	t.Run("a task that stops answering moves its sessions only", func(t *testing.T) {
		stops[gone]()
		moves(t, port)
	})
}

// TestSessionCookieSecure: a session cookie handed out on an HTTPS listener is Secure, one on an
// HTTP listener of the same rule is not.
func TestSessionCookieSecure(t *testing.T) {
	gw, routes := loadInput(t, "secure.yaml", []byte(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners:
    - {name: http, port: 8080}
    - {name: https, port: 8443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [shop.test]
  rules: [{sessionPersistence: {}, backendRefs: [{name: app, port: 80}]}]
`))
	conf, err := Render(gw, routes, Options{Tasks: map[string][]netip.Addr{"app": {netip.MustParseAddr("10.0.1.5")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"" "sg-session=${request_id}; Path=/; HttpOnly";`, `"" "sg-session=${request_id}; Path=/; HttpOnly; Secure";`} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("the config lacks %s:\n%s", want, conf)
		}
	}
	nginxTest(t, conf)
}
