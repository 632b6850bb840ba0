package validation

import (
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// claimingRoute is a Route of one hostname and one match.
func claimingRoute(name string) *v1alpha1.Route {
	return &v1alpha1.Route{Metadata: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.RouteSpec{
		Hostnames: []v1alpha1.Hostname{"app.example.com"},
		Rules:     []v1alpha1.RouteRule{{Matches: []v1alpha1.RouteMatch{{Path: &v1alpha1.PathMatch{Type: v1alpha1.PathMatchPathPrefix, Value: "/api"}}}}},
	}}
}

// TestMatchClaimsBound: the claims indexed by listener stop at their limit, with an error on the
// Route that reached it.
func TestMatchClaimsBound(t *testing.T) {
	c := newMatchClaims(nil)
	c.limit = 2
	on := []attachment{{name: "gw/a"}, {name: "gw/b"}, {name: "gw/c"}}
	r1, r2 := claimingRoute("app"), claimingRoute("other")
	if errs := c.claim(r1, on); len(errs) != 0 {
		t.Fatalf("the first claim: %v", errs)
	}
	errs := c.claim(r2, []attachment{{name: "gw/a"}, {name: "gw/d"}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec.rules[0].matches[0]: takes the hostnames and matches that Routes share on listeners past the 2 that one set may hold") {
		t.Fatalf("got %v, want the bound reached", errs)
	}
	if errs := c.claim(claimingRoute("third"), on); len(errs) != 0 || len(c.byListener) != 2 {
		t.Errorf("after the bound: %v, %d claims indexed; want nothing more", errs, len(c.byListener))
	}
}
