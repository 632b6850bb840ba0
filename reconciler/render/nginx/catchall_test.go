package nginx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// TestServeRoutesWithoutHostnames: a Route without hostnames serves every host of its listener
// (the Gateway API's rule): hosts no route names, and, after the routes that name it, a named host.
func TestServeRoutesWithoutHostnames(t *testing.T) {
	if !strings.HasPrefix(contract.HealthPath, validation.ReservedPath+"/") {
		t.Fatalf("the health check %s is not under the path validation reserves, %s", contract.HealthPath, validation.ReservedPath)
	}
	port := freePort(t)
	gw, routes := loadInput(t, "catchall.yaml", []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: %d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: named}
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.example.com]
  rules:
    - matches: [{path: {type: PathPrefix, value: /api}}]
      backendRefs: [{name: svc-named, port: 80}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: all}
spec:
  parentRefs: [{name: gw}]
  rules:
    - backendRefs: [{name: svc-all, port: 80}]
    - matches: [{path: {type: Exact, value: /api/special}}]
      backendRefs: [{name: svc-all-special, port: 80}]
`, port)))
	stubs := stubBackends(t, "svc-named", "svc-all", "svc-all-special")
	conf, err := Render(gw, routes, Options{Backend: func(service string, _ int32) (string, int32) { return "127.0.0.1", stubs[service] }})
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, port)
	for _, tc := range []struct {
		host, path, want string
	}{
		{"a.example.com", "/api/x", "svc-named"},
		{"a.example.com", "/other", "svc-all"},         // the named host falls through to the route for every host
		{"a.example.com", "/api/special", "svc-named"}, // the route naming the host takes precedence, even over an exact path
		{"b.example.com", "/api/x", "svc-all"},
		{"b.example.com", "/api/special", "svc-all-special"},
		{"anything.test", "/", "svc-all"},
	} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, tc.path), nil)
		req.Host = tc.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e echo
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if e.Service != tc.want {
			t.Errorf("%s%s: answered by %q (%d), want %s", tc.host, tc.path, e.Service, resp.StatusCode, tc.want)
		}
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, contract.HealthPath))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(contract.NodeHeader) == "" {
		t.Errorf("the health check beside a route for every host: %d", resp.StatusCode)
	}
}
