package nginx

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// sharedHosts are hosts that forward every request to one backend, which share their listener's
// server, beside hosts that keep a server of their own: exact and wildcard names on both sides,
// and names that are special words of nginx's map blocks.
const sharedHosts = `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: %d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: exact}
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.example.com]
  rules: [{name: all, backendRefs: [{name: svc-a, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: wild}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: svc-wild, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: wild-b}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["*.b.example.com"]
  rules: [{matches: [{path: {value: /x}}], backendRefs: [{name: svc-wild-b, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: cb}
spec:
  parentRefs: [{name: gw}]
  hostnames: [c.b.example.com]
  rules: [{backendRefs: [{name: svc-cb, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: cond}
spec:
  parentRefs: [{name: gw}]
  hostnames: [d.example.com]
  rules: [{matches: [{headers: [{name: X-D, value: "1"}]}], backendRefs: [{name: svc-d, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: words}
spec:
  parentRefs: [{name: gw}]
  hostnames: [default, include, hostnames, volatile]
  rules: [{backendRefs: [{name: svc-words, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: gone}
spec:
  parentRefs: [{name: gw}]
  hostnames: [gone.example.com]
  rules: [{backendRefs: [{name: svc-gone, port: 80}]}]
`

// TestServeSharedHosts sends requests through the real nginx to hosts that share their
// listener's server and to hosts with a server of their own: each reaches the backend the
// Gateway API's host precedence gives it (an exact name before the longest wildcard), with its
// route named in the access log's variables, whether backends are names nginx resolves or pools
// of tasks.
func TestServeSharedHosts(t *testing.T) {
	stubs := stubBackends(t, "svc-a", "svc-wild", "svc-wild-b", "svc-cb", "svc-d", "svc-words")
	backend := func(service string, port int32) (string, int32) {
		if p, ok := stubs[service]; ok {
			return "127.0.0.1", p
		}
		return service, port
	}
	tasks := map[string][]netip.Addr{}
	for svc := range stubs {
		tasks[svc] = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	}
	for _, mode := range []struct {
		name string
		opts Options
	}{
		{"resolved", Options{Resolver: fmt.Sprintf("127.0.0.1:%d", freePort(t)), ResolverTimeout: time.Second, Backend: backend}},
		{"pooled", Options{Backend: backend, Tasks: tasks}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			port := freePort(t)
			mode.opts.AccessLog = filepath.Join(t.TempDir(), "access.log")
			gw, routes := loadInput(t, "shared.yaml", []byte(fmt.Sprintf(sharedHosts, port)))
			conf, err := Render(gw, routes, mode.opts)
			if err != nil {
				t.Fatal(err)
			}
			// The table below holds only if the hosts are served where this test says.
			for _, own := range []string{`server_name "*.b.example.com";`, `server_name "d.example.com";`} {
				if !strings.Contains(string(conf), own) {
					t.Fatalf("no server of its own (%s) in:\n%s", own, conf)
				}
			}
			for _, shared := range []string{"a.example.com", "*.example.com", "c.b.example.com", "default", "include"} {
				if !strings.Contains(string(conf), "\n        "+quote(shared)+"\n") {
					t.Fatalf("%s is not in a shared server's names:\n%s", shared, conf)
				}
			}
			nginxTest(t, conf)
			startNginx(t, conf, port)
			serveHostTable(t, gw, routes, mode.opts, port)
			// The shared server names each host's route, rule and backend in the access log.
			logged, err := os.ReadFile(mode.opts.AccessLog)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				`"route":"exact","rule":"all","backend":"svc-a"`,
				`"route":"wild","rule":"0","backend":"svc-wild"`,
				`"route":"words","rule":"0","backend":"svc-words"`,
			} {
				if !strings.Contains(string(logged), want) {
					t.Errorf("the access log lacks %s:\n%s", want, logged)
				}
			}
		})
	}
}

func serveHostTable(t *testing.T, gw *v1alpha1.Gateway, routes []*v1alpha1.Route, opts Options, port v1alpha1.PortNumber) {
	ok := func(service string) expect { return expect{status: 200, service: service} }
	for _, tt := range []struct {
		name string
		req  request
		want expect
	}{
		{"exact host", request{host: "a.example.com", path: "/p"}, ok("svc-a")},
		{"exact host, any case, with a port", request{host: "A.Example.COM:80", path: "/"}, ok("svc-a")},
		{"exact host with a trailing dot", request{host: "a.example.com.", path: "/"}, ok("svc-a")},
		{"wildcard host", request{host: "z.example.com", path: "/"}, ok("svc-wild")},
		{"wildcard covers several labels", request{host: "z.y.example.com", path: "/q"}, ok("svc-wild")},
		{"wildcard does not cover the bare domain", request{host: "example.com", path: "/"}, expect{status: 404}},
		{"a longer wildcard with a server of its own wins", request{host: "z.b.example.com", path: "/x"}, ok("svc-wild-b")},
		{"its paths only: no fall back to the shorter wildcard", request{host: "z.b.example.com", path: "/"}, expect{status: 404}},
		{"an exact shared host beats a longer wildcard", request{host: "c.b.example.com", path: "/x"}, ok("svc-cb")},
		{"a host with conditions keeps them", request{host: "d.example.com", path: "/", headers: map[string]string{"X-D": "1"}}, ok("svc-d")},
		{"a host with conditions: no fall back to the wildcard", request{host: "d.example.com", path: "/"}, expect{status: 404}},
		{"a host named default", request{host: "default", path: "/"}, ok("svc-words")},
		{"a host named include", request{host: "include", path: "/"}, ok("svc-words")},
		{"a host named hostnames", request{host: "hostnames", path: "/"}, ok("svc-words")},
		{"a host named volatile", request{host: "volatile", path: "/"}, ok("svc-words")},
		{"an unknown host", request{host: "unknown.test", path: "/"}, expect{status: 404}},
		{"an unreachable backend", request{host: "gone.example.com", path: "/"}, expect{status: 503}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, tt.req.path), nil)
			req.Host = tt.req.host
			for k, v := range tt.req.headers {
				req.Header.Set(k, v)
			}
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.want.status, body)
			}
			agreesWithNginx(t, gw, routes, opts, "http", req, resp.StatusCode, body)
			if tt.want.service == "" {
				return
			}
			var e echo
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("not an echo: %s", body)
			}
			if e.Service != tt.want.service || e.URI != tt.req.path || e.Host != tt.req.host {
				t.Errorf("reached %s %s for Host %q, want %s %s for %q", e.Service, e.URI, e.Host, tt.want.service, tt.req.path, tt.req.host)
			}
		})
	}
}
