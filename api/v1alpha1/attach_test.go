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

// TestPermits: a backendRef to a service of another namespace needs a ReferenceGrant in that
// namespace naming the Route's namespace, and the service or every service.
func TestPermits(t *testing.T) {
	web := "web"
	grant := func(namespace, from string, to *string) *ReferenceGrant {
		return &ReferenceGrant{Metadata: ObjectMeta{Name: "g", Namespace: namespace}, Spec: ReferenceGrantSpec{
			From: []ReferenceGrantFrom{{Kind: KindRoute, Namespace: from}}, To: []ReferenceGrantTo{{Kind: "Service", Name: to}}}}
	}
	route := &Route{Metadata: ObjectMeta{Name: "r", Namespace: "shop"}}
	for _, tc := range []struct {
		name   string
		ref    BackendRef
		grants []*ReferenceGrant
		want   bool
	}{
		{"no namespace", BackendRef{Name: "web"}, nil, true},
		{"the route's own namespace", BackendRef{Name: "web", Namespace: "shop"}, nil, true},
		{"another, no grant", BackendRef{Name: "web", Namespace: "stack"}, nil, false},
		{"another, granted by name", BackendRef{Name: "web", Namespace: "stack"}, []*ReferenceGrant{grant("stack", "shop", &web)}, true},
		{"another, every service", BackendRef{Name: "api", Namespace: "stack"}, []*ReferenceGrant{grant("stack", "shop", nil)}, true},
		{"another service than granted", BackendRef{Name: "api", Namespace: "stack"}, []*ReferenceGrant{grant("stack", "shop", &web)}, false},
		{"granted to another namespace's routes", BackendRef{Name: "web", Namespace: "stack"}, []*ReferenceGrant{grant("stack", "blog", nil)}, false},
		{"a grant in another namespace", BackendRef{Name: "web", Namespace: "stack"}, []*ReferenceGrant{grant("other", "shop", nil)}, false},
	} {
		if got := Permits(tc.grants, route, tc.ref); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
