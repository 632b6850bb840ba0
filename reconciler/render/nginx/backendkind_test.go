package nginx

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// TestServeInvalidBackendKind: a backendRef of a kind swarmgate does not know answers 500 for its
// share of the rule's requests (the Gateway API's HTTPRouteInvalidBackendRefUnknownKind), while
// the rule's other backends and the route's other rules serve.
func TestServeInvalidBackendKind(t *testing.T) {
	ports := stubBackends(t, "svc")
	port := freePort(t)
	gw, routes := loadInput(t, "kind.yaml", []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
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
  hostnames: [kind.test]
  rules:
    - matches: [{path: {value: /unknown}}]
      backendRefs: [{group: storage.example.com, kind: Bucket, name: assets}]
    - matches: [{path: {value: /half}}]
      backendRefs: [{name: svc, port: 80}, {kind: Bucket, name: assets}]
    - backendRefs: [{name: svc, port: 80, kind: Service, group: ""}]
`, port)))
	conf, err := Render(gw, routes, Options{Backend: func(string, int32) (string, int32) { return "127.0.0.1", ports["svc"] }})
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, port)
	count := func(path string, n int) map[int]int {
		statuses := map[int]int{}
		for range n {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
			req.Host = "kind.test"
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			statuses[resp.StatusCode]++
		}
		return statuses
	}
	if got := count("/unknown", 5); got[500] != 5 {
		t.Errorf("/unknown: %v, want 500 only", got)
	}
	if got := count("/other", 5); got[200] != 5 {
		t.Errorf("/other: %v, want 200 only", got)
	}
	// Half the requests each: 200 of them fall on one side with odds of 2^-199.
	if got := count("/half", 200); got[200] == 0 || got[500] == 0 || got[200]+got[500] != 200 {
		t.Errorf("/half: %v, want both 200 and 500", got)
	}
}

// TestServeReferenceGrant: a backendRef to a service of another namespace answers 500 unless a
// ReferenceGrant there permits it (the Gateway API's RefNotPermitted), and a mirror to one is not
// sent.
func TestServeReferenceGrant(t *testing.T) {
	ports := stubBackends(t, "stack_web", "stack_api")
	port := freePort(t)
	gw, routes := loadInput(t, "grant.yaml", []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  listeners: [{name: http, port: %d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: r, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grant.test]
  rules:
    - matches: [{path: {value: /web}}]
      backendRefs: [{name: web, namespace: stack, port: 80}]
    - backendRefs: [{name: api, namespace: stack, port: 80}]
`, port)))
	web := "web"
	grants := []*v1alpha1.ReferenceGrant{{Metadata: v1alpha1.ObjectMeta{Name: "g", Namespace: "stack"}, Spec: v1alpha1.ReferenceGrantSpec{
		From: []v1alpha1.ReferenceGrantFrom{{Kind: v1alpha1.KindRoute, Namespace: "shop"}}, To: []v1alpha1.ReferenceGrantTo{{Kind: "Service", Name: &web}}}}}
	conf, err := Render(gw, routes, Options{Grants: grants, Backend: func(svc string, _ int32) (string, int32) { return "127.0.0.1", ports[svc] }})
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, port)
	for path, want := range map[string]int{"/web": 200, "/api": 500} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		req.Host = "grant.test"
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
