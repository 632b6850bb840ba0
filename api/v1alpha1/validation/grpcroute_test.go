package validation_test

import (
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

func baseGRPCRoute() *v1alpha1.GRPCRoute {
	return &v1alpha1.GRPCRoute{TypeMeta: typeMeta(v1alpha1.KindGRPCRoute), Metadata: meta("rpc", 5), Spec: v1alpha1.GRPCRouteSpec{
		ParentRefs: []v1alpha1.ParentRef{{Name: "gw", SectionName: "http"}},
		Hostnames:  []v1alpha1.Hostname{"rpc.example.com"},
		Rules: []v1alpha1.GRPCRouteRule{{
			Matches:     []v1alpha1.GRPCRouteMatch{{Method: &v1alpha1.GRPCMethodMatch{Service: "helloworld.Greeter", Method: "SayHello"}}},
			BackendRefs: []v1alpha1.BackendRef{{Name: "greeter", Port: ptr(v1alpha1.PortNumber(50051))}},
		}},
	}}
}

// TestValidateGRPCRoute checks a GRPCRoute's own fields, and the hosts it may share with Routes.
func TestValidateGRPCRoute(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(g *v1alpha1.GRPCRoute)
		want   []string
	}{
		{"valid", func(*v1alpha1.GRPCRoute) {}, nil},
		{"method of any service", func(g *v1alpha1.GRPCRoute) { g.Spec.Rules[0].Matches[0].Method.Service = "" }, nil},
		{"leading dot service", func(g *v1alpha1.GRPCRoute) { g.Spec.Rules[0].Matches[0].Method.Service = ".pkg.Svc" }, nil},
		{"regular expressions", func(g *v1alpha1.GRPCRoute) {
			g.Spec.Rules[0].Matches[0].Method = &v1alpha1.GRPCMethodMatch{Type: v1alpha1.GRPCMethodMatchRegularExpression, Service: `pkg\..*`, Method: "Get|List"}
			g.Spec.Rules[0].Matches[0].Headers = []v1alpha1.GRPCHeaderMatch{{Type: v1alpha1.GRPCHeaderMatchRegularExpression, Name: "x-env", Value: "prod-[0-9]+"}}
		}, nil},
		{"method with a dot", func(g *v1alpha1.GRPCRoute) { g.Spec.Rules[0].Matches[0].Method.Method = "Say.Hello" },
			[]string{"spec.rules[0].matches[0].method.method: is not a gRPC method name"}},
		{"unknown method match type", func(g *v1alpha1.GRPCRoute) { g.Spec.Rules[0].Matches[0].Method.Type = "Prefix" },
			[]string{"spec.rules[0].matches[0].method.type: "}},
		{"regex with whitespace", func(g *v1alpha1.GRPCRoute) {
			g.Spec.Rules[0].Matches[0].Method = &v1alpha1.GRPCMethodMatch{Type: v1alpha1.GRPCMethodMatchRegularExpression, Method: "a b"}
		}, []string{"spec.rules[0].matches[0].method.method: must not contain whitespace or control characters"}},
		{"character code over ff", func(g *v1alpha1.GRPCRoute) {
			g.Spec.Rules[0].Matches[0].Headers = []v1alpha1.GRPCHeaderMatch{{Type: v1alpha1.GRPCHeaderMatchRegularExpression, Name: "x-a", Value: `[\x{41}-\x{100}]`}}
		}, []string{`spec.rules[0].matches[0].headers[0].value: must not name characters over \x{ff} by code`}},
		{"character code up to ff", func(g *v1alpha1.GRPCRoute) {
			g.Spec.Rules[0].Matches[0].Headers = []v1alpha1.GRPCHeaderMatch{{Type: v1alpha1.GRPCHeaderMatchRegularExpression, Name: "x-a", Value: `[\x{41}-\x{0ff}]é\pL`}}
		}, nil},
		{"duplicate header", func(g *v1alpha1.GRPCRoute) {
			g.Spec.Rules[0].Matches[0].Headers = []v1alpha1.GRPCHeaderMatch{{Name: "x-a", Value: "1"}, {Name: "X-A", Value: "2"}}
		}, []string{"spec.rules[0].matches[0].headers[1].name: "}},
		{"unknown filter type", func(g *v1alpha1.GRPCRoute) {
			g.Spec.Rules[0].Filters = []v1alpha1.GRPCRouteFilter{{Type: "URLRewrite"}}
		}, []string{"spec.rules[0].filters[0].type: "}},
		{"long header name", func(g *v1alpha1.GRPCRoute) {
			g.Spec.Rules[0].Filters = []v1alpha1.GRPCRouteFilter{{Type: "ResponseHeaderModifier", ResponseHeaderModifier: &v1alpha1.HeaderModifier{
				Set:    []v1alpha1.HTTPHeader{{Name: v1alpha1.HeaderName(strings.Repeat("x", 46)), Value: "1"}},
				Remove: []v1alpha1.HeaderName{v1alpha1.HeaderName(strings.Repeat("x", 47))}}}}
		}, []string{"spec.rules[0].filters[0].responseHeaderModifier.remove[0]: is longer than 46 characters, the most nginx's grpc module takes"}},
		{"backend without port", func(g *v1alpha1.GRPCRoute) { g.Spec.Rules[0].BackendRefs[0].Port = nil },
			[]string{"spec.rules[0].backendRefs[0]"}},
		{"no parent", func(g *v1alpha1.GRPCRoute) { g.Spec.ParentRefs = nil }, []string{"spec.parentRefs: "}},
		{"a Route's host", func(g *v1alpha1.GRPCRoute) { g.Spec.Hostnames = []v1alpha1.Hostname{"*.example.com"} },
			[]string{"GRPCRoute rpc: spec.hostnames: share a host on Gateway gw listener http with Route app (test.yaml doc 2)"}},
		{"every host", func(g *v1alpha1.GRPCRoute) { g.Spec.Hostnames = nil }, []string{"share a host on Gateway gw listener http with Route app"}},
		{"a Route's host on another listener", func(g *v1alpha1.GRPCRoute) {
			g.Spec.Hostnames = nil
			g.Spec.ParentRefs[0].SectionName = "h2c"
		}, nil},
		{"a listener that takes Routes only", func(g *v1alpha1.GRPCRoute) { g.Spec.ParentRefs[0].SectionName = "web" },
			[]string{"spec.parentRefs[0].sectionName: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(gw *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
				gw.Spec.Listeners = append(gw.Spec.Listeners, v1alpha1.Listener{Name: "h2c", Port: 50051},
					v1alpha1.Listener{Name: "web", Port: 8081, AllowedRoutes: &v1alpha1.AllowedRoutes{Kinds: []v1alpha1.RouteGroupKind{{Kind: "Route"}}}})
				g := baseGRPCRoute()
				tt.mutate(g)
				return []v1alpha1.Object{gw, r, v, z, g}
			}, tt.want...)
		})
	}
}
