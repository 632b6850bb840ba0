package nginx

import (
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// TestServeInvalidBackendKind: a backendRef of a kind swarmgate does not know answers 500 for its
// share of the rule's requests (the Gateway API's HTTPRouteInvalidBackendRefUnknownKind), while
// the rule's other backends and the route's other rules serve.
func TestServeInvalidBackendKind(t *testing.T) {
	ports := stubBackends(t, "svc")
	_, port := serveOneRoute(t, "kind.test", `    - matches: [{path: {value: /unknown}}]
      backendRefs: [{group: storage.example.com, kind: Bucket, name: assets}]
    - matches: [{path: {value: /half}}]
      backendRefs: [{name: svc, port: 80}, {kind: Bucket, name: assets}]
    - backendRefs: [{name: svc, port: 80, kind: Service, group: ""}]
`, Options{Backend: func(string, int32) (string, int32) { return "127.0.0.1", ports["svc"] }})
	count := func(path string, n int) map[int]int {
		statuses := map[int]int{}
		for range n {
			statuses[statusOf(t, port, "kind.test", "GET", path)]++
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
// ReferenceGrant there permits it (the Gateway API's RefNotPermitted).
func TestServeReferenceGrant(t *testing.T) {
	ports := stubBackends(t, "stack_web", "stack_api")
	web := "web"
	grants := []*v1alpha1.ReferenceGrant{{Metadata: v1alpha1.ObjectMeta{Name: "g", Namespace: "stack"}, Spec: v1alpha1.ReferenceGrantSpec{
		From: []v1alpha1.ReferenceGrantFrom{{Kind: v1alpha1.KindRoute, Namespace: ""}}, To: []v1alpha1.ReferenceGrantTo{{Kind: "Service", Name: &web}}}}}
	_, port := serveOneRoute(t, "grant.test", `    - matches: [{path: {value: /web}}]
      backendRefs: [{name: web, namespace: stack, port: 80}]
    - backendRefs: [{name: api, namespace: stack, port: 80}]
`, Options{Grants: grants, Backend: func(svc string, _ int32) (string, int32) { return "127.0.0.1", ports[svc] }})
	for path, want := range map[string]int{"/web": 200, "/api": 500} {
		if got := statusOf(t, port, "grant.test", "GET", path); got != want {
			t.Errorf("%s: %d, want %d", path, got, want)
		}
	}
}

// TestServeMissingService: when the renderer knows which services exist (a gateway with agents),
// a backend service that does not exist answers 500 for its share (the Gateway API's), and a
// mirror to one is not sent; one that exists is served.
func TestServeMissingService(t *testing.T) {
	ports := stubBackends(t, "here")
	conf, port := serveOneRoute(t, "missing.test", `    - matches: [{path: {value: /gone}}]
      backendRefs: [{name: gone, port: 80}]
    - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: gone, port: 80}}}]
      backendRefs: [{name: here, port: 80}]
`, Options{Services: map[string]bool{"here": true}, Backend: func(svc string, _ int32) (string, int32) { return "127.0.0.1", ports[svc] }})
	if strings.Contains(string(conf), "mirror ") {
		t.Errorf("a mirror to a missing service is configured:\n%s", conf)
	}
	for path, want := range map[string]int{"/gone": 500, "/": 200} {
		if got := statusOf(t, port, "missing.test", "GET", path); got != want {
			t.Errorf("%s: %d, want %d", path, got, want)
		}
	}
}
