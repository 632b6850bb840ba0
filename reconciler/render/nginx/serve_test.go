package nginx

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// echo is what a stub backend answers: who it is and what request reached it.
type echo struct {
	Service string      `json:"service"`
	Method  string      `json:"method"`
	URI     string      `json:"uri"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
}

// stubBackends starts one HTTP server per service on loopback.
func stubBackends(t *testing.T, services ...string) map[string]int32 {
	ports := map[string]int32{}
	for _, svc := range services {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Resp", "original")
			w.Header().Set("X-Backend-Secret", "s3cret")
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(echo{Service: svc, Method: r.Method, URI: r.RequestURI, Host: r.Host, Headers: r.Header})
		}))
		t.Cleanup(srv.Close)
		ports[svc] = int32(srv.Listener.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func freePort(t *testing.T) v1alpha1.PortNumber {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return v1alpha1.PortNumber(l.Addr().(*net.TCPAddr).Port)
}

// startNginx runs the real nginx in the foreground on conf until the test ends.
func startNginx(t *testing.T, conf []byte, ports ...v1alpha1.PortNumber) {
	bin := nginxBinary(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "default.conf"), withTestCertificates(t, conf, dir), 0o644); err != nil {
		t.Fatal(err)
	}
	main := nginxConf(t, dir, conf, "daemon off;\nmaster_process off;\n")
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "error.log")); err == nil {
				t.Logf("nginx error.log:\n%s", log)
			}
		}
	})
	for _, p := range ports {
		waitForPort(t, fmt.Sprintf("127.0.0.1:%d", p))
	}
}

// waitForPort waits for nginx to listen: it starts in milliseconds, but the test must not race it.
func waitForPort(t *testing.T, addr string) {
	delay := 5 * time.Millisecond
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); delay *= 2 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(delay)
	}
	t.Fatalf("nginx does not listen on %s", addr)
}

type request struct {
	method  string
	host    string
	path    string
	headers map[string]string
	port    int // listener index
}

type expect struct {
	status      int
	service     string
	uri         string            // the request URI the backend saw
	location    string            // the Location of a redirect; PORT stands for the listener port
	sent        map[string]string // headers the backend received ("" means absent)
	respHeaders map[string]string // headers of the response ("" means absent)
	backendHost string
}

// TestServePrecedence sends requests through a real nginx serving the precedence golden config,
// with every backend service mapped to a stub server on loopback, and checks which backend
// answers, what it received and what the client got.
func TestServePrecedence(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/precedence.txtar")
	if err != nil {
		t.Fatal(err)
	}
	gw, routes := loadInput(t, "precedence.yaml", archiveFile(t, ar, "input.yaml"))
	listenerPorts := []v1alpha1.PortNumber{freePort(t), freePort(t)}
	for i := range gw.Spec.Listeners {
		gw.Spec.Listeners[i].Port = listenerPorts[i]
	}
	stubs := stubBackends(t, "svc-root", "svc-exact", "svc-api", "svc-api-v2", "svc-api-post", "svc-canary",
		"svc-canary-eu", "svc-debug", "svc-v2-canary-get", "svc-or", "svc-a", "svc-b", "svc-z", "svc-abc",
		"svc-cafe", "svc-tie-alpha", "svc-tie-beta", "svc-beta", "svc-wild", "svc-other")
	deadDNS := freePort(t) // nothing answers there: names not mapped to a stub do not resolve
	opts := Options{
		Resolver:        fmt.Sprintf("127.0.0.1:%d", deadDNS),
		ResolverTimeout: time.Second,
		Backend: func(service string, port int32) (string, int32) {
			if p, ok := stubs[service]; ok {
				return "127.0.0.1", p
			}
			return service, port
		},
	}
	conf, err := Render(gw, routes, opts)
	if err != nil {
		t.Fatal(err)
	}
	startNginx(t, conf, listenerPorts...)

	app := "app.example.com"
	ok := func(service, uri string) expect { return expect{status: 200, service: service, uri: uri} }
	tests := []struct {
		name string
		req  request
		want expect
	}{
		{"root", request{host: app, path: "/"}, ok("svc-root", "/")},
		{"anything falls to root", request{host: app, path: "/anything/else"}, ok("svc-root", "/anything/else")},
		{"exact", request{host: app, path: "/exact"}, ok("svc-exact", "/exact")},
		{"exact is not a prefix", request{host: app, path: "/exact/sub"}, ok("svc-root", "/exact/sub")},
		{"prefix itself", request{host: app, path: "/api"}, ok("svc-api", "/api")},
		{"prefix with slash", request{host: app, path: "/api/"}, ok("svc-api", "/api/")},
		{"prefix below", request{host: app, path: "/api/users"}, ok("svc-api", "/api/users")},
		{"prefix matches whole elements", request{host: app, path: "/apix"}, ok("svc-root", "/apix")},
		{"longer prefix wins (trailing slash ignored)", request{host: app, path: "/api/v2"}, ok("svc-api-v2", "/api/v2")},
		{"longer prefix below", request{host: app, path: "/api/v2/items"}, ok("svc-api-v2", "/api/v2/items")},
		{"longer prefix on element boundary only", request{host: app, path: "/api/v20"}, ok("svc-api", "/api/v20")},
		{"method match", request{method: "POST", host: app, path: "/api/x"}, ok("svc-api-post", "/api/x")},
		{"longer prefix beats method", request{method: "POST", host: app, path: "/api/v2/x"}, ok("svc-api-v2", "/api/v2/x")},
		{"header match", request{host: app, path: "/api/x", headers: map[string]string{"X-Canary": "true"}}, ok("svc-canary", "/api/x")},
		{"header value differs", request{host: app, path: "/api/x", headers: map[string]string{"X-Canary": "false"}}, ok("svc-api", "/api/x")},
		{"header values are case-sensitive", request{host: app, path: "/api/x", headers: map[string]string{"X-Canary": "TRUE"}}, ok("svc-api", "/api/x")},
		{"header names are not", request{host: app, path: "/api/x", headers: map[string]string{"x-canary": "true"}}, ok("svc-canary", "/api/x")},
		{"more headers win", request{host: app, path: "/api/x", headers: map[string]string{"X-Canary": "true", "X-Region": "eu"}}, ok("svc-canary-eu", "/api/x")},
		{"all headers must match", request{host: app, path: "/api/x", headers: map[string]string{"X-Canary": "true", "X-Region": "us"}}, ok("svc-canary", "/api/x")},
		{"method beats headers", request{method: "POST", host: app, path: "/api/x", headers: map[string]string{"X-Canary": "true"}}, ok("svc-api-post", "/api/x")},
		{"query match", request{host: app, path: "/api/x?debug=1"}, ok("svc-debug", "/api/x?debug=1")},
		{"query value differs", request{host: app, path: "/api/x?debug=2"}, ok("svc-api", "/api/x?debug=2")},
		{"headers beat query", request{host: app, path: "/api/x?debug=1", headers: map[string]string{"X-Canary": "true"}}, ok("svc-canary", "/api/x?debug=1")},
		{"method and header on a longer prefix", request{host: app, path: "/api/v2/x", headers: map[string]string{"X-Canary": "true"}}, ok("svc-v2-canary-get", "/api/v2/x")},
		{"failed method falls back to the same prefix", request{method: "POST", host: app, path: "/api/v2/x", headers: map[string]string{"X-Canary": "true"}}, ok("svc-api-v2", "/api/v2/x")},
		{"conditions on the prefix itself", request{host: app, path: "/api/v2", headers: map[string]string{"X-Canary": "true"}}, ok("svc-v2-canary-get", "/api/v2")},
		{"matches are ORed: exact", request{host: app, path: "/both"}, ok("svc-or", "/both")},
		{"matches are ORed: exact only", request{host: app, path: "/both/x"}, ok("svc-root", "/both/x")},
		{"matches are ORed: prefix", request{host: app, path: "/either/x"}, ok("svc-or", "/either/x")},
		{"redirect with prefix replaced", request{host: app, path: "/legacy/page?q=1"}, expect{status: 301, location: "http://app.example.com:PORT/new/page?q=1"}},
		{"redirect of the prefix itself", request{host: app, path: "/legacy"}, expect{status: 301, location: "http://app.example.com:PORT/new"}},
		{"redirect to https", request{host: app, path: "/secure/x?a=b"}, expect{status: 302, location: "https://app.example.com/secure/x?a=b"}},
		{"rewrite prefix", request{host: app, path: "/old/thing?x=1"}, ok("svc-api", "/v1/thing?x=1")},
		{"rewrite the prefix itself", request{host: app, path: "/old"}, ok("svc-api", "/v1")},
		{"rewrite prefix to root", request{host: app, path: "/strip/a/b"}, ok("svc-api", "/a/b")},
		{"rewrite prefix to root, nothing left", request{host: app, path: "/strip"}, ok("svc-api", "/")},
		{"rewrite prefix keeps an encoded space encoded once", request{host: app, path: "/old/a%20b"}, ok("svc-api", "/v1/a%20b")},
		{"rewrite prefix keeps encoded UTF-8 encoded once", request{host: app, path: "/old/%C3%A9"}, ok("svc-api", "/v1/%C3%A9")},
		{"rewrite prefix keeps a plus", request{host: app, path: "/old/a+b%20c"}, ok("svc-api", "/v1/a+b%20c")},
		{"rewrite prefix to root keeps the rest encoded once", request{host: app, path: "/strip/a%20b/%C3%A9"}, ok("svc-api", "/a%20b/%C3%A9")},
		{"rewrite full path of an encoded request", request{host: app, path: "/full/a%20b"}, expect{status: 200, service: "svc-root", uri: "/replaced", backendHost: "internal.example"}},
		{"redirect with prefix replaced keeps the rest encoded once", request{host: app, path: "/legacy/a%20b/%C3%A9?q=1"}, expect{status: 301, location: "http://app.example.com:PORT/new/a%20b/%C3%A9?q=1"}},
		{"rewrite full path and host", request{host: app, path: "/full/x"}, expect{status: 200, service: "svc-root", uri: "/replaced", backendHost: "internal.example"}},
		{"literal dollar in a rewrite", request{host: app, path: "/dollar"}, ok("svc-root", "/cost$5")},
		{"request and response header filters", request{host: app, path: "/hdr", headers: map[string]string{"X-Add": "a0", "X-Remove": "r", "X-Set": "client"}},
			expect{status: 200, service: "svc-root", uri: "/hdr",
				sent:        map[string]string{"X-Set": "a", "X-Add": "a0,b", "X-Remove": "", "X-Forwarded-Proto": "http"},
				respHeaders: map[string]string{"X-Resp": "r", "X-Backend-Secret": "", "X-Extra": `50% off; really {not} a "directive"`}}},
		{"added header without a client value", request{host: app, path: "/hdr"}, expect{status: 200, service: "svc-root", uri: "/hdr", sent: map[string]string{"X-Add": "b"}}},
		{"forwarding headers", request{host: app + ":PORT", path: "/"},
			expect{status: 200, service: "svc-root", uri: "/", backendHost: app + ":PORT",
				sent: map[string]string{"X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http"}}},
		{"websocket upgrade", request{host: app, path: "/", headers: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}},
			expect{status: 200, service: "svc-root", uri: "/", sent: map[string]string{"Upgrade": "websocket", "Connection": "upgrade"}}},
		{"no backends", request{host: app, path: "/empty"}, expect{status: 500}},
		{"only zero weights", request{host: app, path: "/zero"}, expect{status: 500}},
		{"unresolvable backend", request{host: app, path: "/missing"}, expect{status: 503}},
		{"prefix /abc", request{host: app, path: "/abc"}, ok("svc-abc", "/abc")},
		{"prefix /abc does not match /abcd", request{host: app, path: "/abcd"}, ok("svc-root", "/abcd")},
		{"percent-encoded prefix", request{host: app, path: "/caf%C3%A9/menu"}, ok("svc-cafe", "/caf%C3%A9/menu")},
		{"rewrite to a percent-encoded path, forwarded encoded once", request{host: app, path: "/encoded"}, ok("svc-cafe", "/caf%C3%A9")},
		{"health check of a host no route claims", request{host: "10.99.0.100", path: contract.HealthPath},
			expect{status: 200, respHeaders: map[string]string{contract.NodeHeader: hostname(t)}}},
		{"the health check is not on a route's host", request{host: app, path: contract.HealthPath}, ok("svc-root", contract.HealthPath)},
		{"the normalized path is routed and forwarded", request{host: app, path: "/exact/../api/x"}, ok("svc-api", "/api/x")},
		{"encoded characters are forwarded encoded", request{host: app, path: "/api/a%20b"}, ok("svc-api", "/api/a%20b")},
		{"encoded slash is decoded, routed and forwarded alike", request{host: app, path: "/api%2Fx"}, ok("svc-api", "/api/x")},
		{"routes merge per host", request{host: app, path: "/beta/1"}, ok("svc-beta", "/beta/1")},
		{"tie across routes goes to the first by name", request{host: app, path: "/tie", headers: map[string]string{"X-A": "1", "X-B": "1"}}, ok("svc-tie-alpha", "/tie")},
		{"tie: second route when the first does not match", request{host: app, path: "/tie", headers: map[string]string{"X-B": "1"}}, ok("svc-tie-beta", "/tie")},
		{"tie: neither", request{host: app, path: "/tie"}, ok("svc-root", "/tie")},
		{"wildcard host", request{host: "foo.example.com", path: "/x"}, ok("svc-wild", "/x")},
		{"wildcard covers several labels", request{host: "a.b.example.com", path: "/"}, ok("svc-wild", "/")},
		{"wildcard does not cover the bare domain", request{host: "example.com", path: "/"}, expect{status: 404}},
		{"exact host beats wildcard", request{host: "APP.example.com", path: "/exact"}, ok("svc-exact", "/exact")},
		{"unknown host", request{host: "unknown.test", path: "/"}, expect{status: 404}},
		{"other listener", request{host: "other.example.com", path: "/", port: 1}, ok("svc-other", "/")},
		{"host of another listener", request{host: "other.example.com", path: "/"}, ok("svc-wild", "/")},
		{"route attached to all listeners", request{host: "x.example.com", path: "/", port: 1}, ok("svc-wild", "/")},
		{"route of one listener only", request{host: app, path: "/", port: 1}, ok("svc-wild", "/")},
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := fmt.Sprint(listenerPorts[tt.req.port])
			method := tt.req.method
			if method == "" {
				method = "GET"
			}
			req, err := http.NewRequest(method, "http://127.0.0.1:"+port+tt.req.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = strings.ReplaceAll(tt.req.host, "PORT", port)
			for k, v := range tt.req.headers {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.want.status, body)
			}
			agreesWithNginx(t, gw, routes, opts, gw.Spec.Listeners[tt.req.port].Name, req, resp.StatusCode, body)
			if loc := strings.ReplaceAll(tt.want.location, "PORT", port); loc != resp.Header.Get("Location") {
				t.Errorf("Location %q, want %q", resp.Header.Get("Location"), loc)
			}
			for k, v := range tt.want.respHeaders {
				if got := strings.Join(resp.Header.Values(k), ","); got != v {
					t.Errorf("response header %s = %q, want %q", k, got, v)
				}
			}
			if tt.want.service == "" {
				return
			}
			var e echo
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("not an echo: %s", body)
			}
			if e.Service != tt.want.service || e.URI != tt.want.uri || e.Method != method {
				t.Errorf("reached %s %s %s, want %s %s %s", e.Service, e.Method, e.URI, tt.want.service, method, tt.want.uri)
			}
			wantHost := tt.want.backendHost
			if wantHost == "" {
				wantHost = tt.req.host
			}
			if wantHost = strings.ReplaceAll(wantHost, "PORT", port); e.Host != wantHost {
				t.Errorf("backend saw Host %q, want %q", e.Host, wantHost)
			}
			for k, v := range tt.want.sent {
				if got := strings.Join(e.Headers.Values(k), ","); got != v {
					t.Errorf("backend got header %s = %q, want %q", k, got, v)
				}
			}
		})
	}

	t.Run("weighted backends share requests", func(t *testing.T) {
		seen := map[string]int{}
		for range 60 {
			req, _ := http.NewRequest("GET", "http://127.0.0.1:"+fmt.Sprint(listenerPorts[0])+"/split", nil)
			req.Host = app
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e echo
			err = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			seen[e.Service]++
		}
		if seen["svc-a"] == 0 || seen["svc-b"] == 0 || seen["svc-z"] != 0 || len(seen) != 2 {
			t.Errorf("60 requests reached %v; want both svc-a and svc-b, never svc-z (weight 0)", seen)
		}
	})
}

// hostname is the machine's, which nginx's $hostname holds.
func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// oneRoute is the manifests most request tables serve: Gateway gw with one HTTP listener on port,
// and Route r for host attached to it, whose rules (YAML, indented as a list under "rules:")
// the caller gives.
func oneRoute(port v1alpha1.PortNumber, host, rules string) []byte {
	return []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
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
  hostnames: [%s]
  rules:
%s`, port, host, rules))
}

// serveOneRoute renders oneRoute with opts, checks it with nginx -t and serves it with the real
// nginx until the test ends; it returns the config and the port.
func serveOneRoute(t *testing.T, host, rules string, opts Options) ([]byte, v1alpha1.PortNumber) {
	t.Helper()
	port := freePort(t)
	gw, routes := loadInput(t, host+".yaml", oneRoute(port, host, rules))
	conf, err := Render(gw, routes, opts)
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, port)
	return conf, port
}

// statusOf sends one request for host through the gateway on port and returns its status.
func statusOf(t *testing.T, port v1alpha1.PortNumber, host, method, path string) int {
	t.Helper()
	req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	req.Host = host
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
