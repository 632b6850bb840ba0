package nginx

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// benchRoutes builds n routes, each with its own hostname, a catch-all rule and a canary rule with a
// header match on /api, like a gateway serving n small apps.
func benchRoutes(n int) (*v1alpha1.Gateway, []*v1alpha1.Route) {
	gw := &v1alpha1.Gateway{Metadata: v1alpha1.ObjectMeta{Name: "gw"},
		Spec: v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{{Name: "http", Port: 8080}}}}
	gw.Default()
	port := v1alpha1.PortNumber(8080)
	routes := make([]*v1alpha1.Route, n)
	for i := range routes {
		name := fmt.Sprintf("app-%d", i)
		r := &v1alpha1.Route{Metadata: v1alpha1.ObjectMeta{Name: name}, Spec: v1alpha1.RouteSpec{
			ParentRefs: []v1alpha1.ParentRef{{Name: "gw"}},
			Hostnames:  []v1alpha1.Hostname{v1alpha1.Hostname(name + ".example.com")},
			Rules: []v1alpha1.RouteRule{
				{BackendRefs: []v1alpha1.BackendRef{{Name: name, Port: &port}}},
				{
					Matches:     []v1alpha1.RouteMatch{{Path: &v1alpha1.PathMatch{Value: "/api"}, Headers: []v1alpha1.HeaderMatch{{Name: "X-Canary", Value: "true"}}}},
					BackendRefs: []v1alpha1.BackendRef{{Name: name + "-canary", Port: &port}},
				},
			},
		}}
		r.Default()
		routes[i] = r
	}
	return gw, routes
}

// BenchmarkRender measures rendering alone. Large route counts render configs over the secret size
// limit, so it calls the renderer below Render's size check.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		gw, routes := benchRoutes(n)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				r := &renderer{opts: Options{}, blockVars: map[string]string{}}
				r.opts.defaults()
				size = len(r.render(gw, routes))
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

func TestRenderRefusesConfigOverSecretLimit(t *testing.T) {
	gw, routes := benchRoutes(1000) // about 1.1 MB of config
	_, err := Render(gw, routes, Options{})
	if err == nil || !strings.Contains(err.Error(), "gateway gw: the rendered nginx config is over the 512000 bytes a swarm secret may hold") {
		t.Fatalf("want a size error, got %v", err)
	}
	gw, routes = benchRoutes(100)
	if _, err := Render(gw, routes, Options{}); err != nil {
		t.Fatalf("100 routes: %v", err)
	}
}

// TestRenderRefusesBeforeWriting: a gateway whose matches, multiplied by its hostnames and
// listeners, are more than its size limit could hold is refused before anything is written, so
// a hostile manifest costs no more than the limit allows.
func TestRenderRefusesBeforeWriting(t *testing.T) {
	gw, routes := benchRoutes(100) // 200 candidates
	r := &renderer{opts: Options{MaxSize: 150 * minCandidateBytes}, blockVars: map[string]string{}}
	r.opts.defaults()
	if out := r.render(gw, routes); !r.overSize || len(out) != 0 {
		t.Fatalf("over size %v after writing %d bytes; want it known before writing", r.overSize, len(out))
	}
	if _, err := Render(gw, routes, Options{MaxSize: 150 * minCandidateBytes}); err == nil || !strings.Contains(err.Error(), "is over the 2400 bytes") {
		t.Fatalf("want a size error, got %v", err)
	}
}
