package v1alpha1

import "testing"

// TestAttachesTo: a Route attaches to the listeners its parentRefs name that take Routes from its
// namespace (allowedRoutes, Same by default).
func TestAttachesTo(t *testing.T) {
	all := &AllowedRoutes{Namespaces: &RouteNamespaces{From: NamespacesFromAll}}
	gw := &Gateway{Metadata: ObjectMeta{Name: "web", Namespace: "edge"}, Spec: GatewaySpec{Listeners: []Listener{
		{Name: "shared", Port: 80, AllowedRoutes: all}, {Name: "own", Port: 81}}}}
	route := func(namespace string, refs ...ParentRef) *Route {
		return &Route{Metadata: ObjectMeta{Name: "r", Namespace: namespace}, Spec: RouteSpec{ParentRefs: refs}}
	}
	for _, tc := range []struct {
		name        string
		route       *Route
		shared, own bool
	}{
		{"same namespace, every listener", route("edge", ParentRef{Name: "web"}), true, true},
		{"other namespace: the shared listener only", route("shop", ParentRef{Name: "web"}), true, false},
		{"other namespace, the own listener named", route("shop", ParentRef{Name: "web", SectionName: "own"}), false, false},
		{"namespace given and right", route("shop", ParentRef{Name: "web", Namespace: "edge"}), true, false},
		{"namespace given and wrong", route("edge", ParentRef{Name: "web", Namespace: "shop"}), false, false},
		{"another gateway", route("edge", ParentRef{Name: "api"}), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.route.AttachesTo(gw, &gw.Spec.Listeners[0]); got != tc.shared {
				t.Errorf("shared listener: %v, want %v", got, tc.shared)
			}
			if got := tc.route.AttachesTo(gw, &gw.Spec.Listeners[1]); got != tc.own {
				t.Errorf("own listener: %v, want %v", got, tc.own)
			}
		})
	}
}
