package v1alpha1

// ReferenceGrant lets Routes of other namespaces send requests to services of its own namespace
// (the Gateway API's ReferenceGrant). A backendRef or a mirror naming a service of another
// namespace (backendRefs[].namespace, a stack other than the Route's) needs one there; without it
// the reference's share of requests answers 500 and the Route reports ResolvedRefs False
// (RefNotPermitted). The grant belongs to the namespace whose services it shares: its owners
// decide who may use them.
type ReferenceGrant struct {
	TypeMeta `json:",inline"`
	// Metadata names the grant; its namespace (required) is the one whose services it shares.
	Metadata ObjectMeta `json:"metadata"`
	// Spec says who may refer to what.
	Spec ReferenceGrantSpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (g *ReferenceGrant) GetObjectMeta() *ObjectMeta { return &g.Metadata }

// ReferenceGrantSpec is who may refer to what.
type ReferenceGrantSpec struct {
	// From are the Routes allowed, by namespace. At least one, at most 16.
	From []ReferenceGrantFrom `json:"from"`
	// To are the services they may use: every service of the grant's namespace, or the named
	// ones. At least one, at most 16.
	To []ReferenceGrantTo `json:"to"`
}

// ReferenceGrantFrom is a namespace whose Routes may refer.
type ReferenceGrantFrom struct {
	// Group defaults to swarmgate.io.
	Group *string `json:"group,omitempty"`
	// Kind is Route.
	Kind Kind `json:"kind"`
	// Namespace of the Routes; "" for Routes without one (the Gateway API requires a
	// namespace; objects here may have none).
	Namespace string `json:"namespace"`
}

// ReferenceGrantTo is what may be referred to.
type ReferenceGrantTo struct {
	// Group is "" (core), the default.
	Group *string `json:"group,omitempty"`
	// Kind is Service.
	Kind string `json:"kind"`
	// Name, when set, is the one service shared; unset shares every service of the namespace.
	Name *string `json:"name,omitempty"`
}

// Default implements Object. A ReferenceGrant has no optional fields with defaults.
func (g *ReferenceGrant) Default() {}

// CrossNamespace tells whether ref, of route r, names a service of another namespace: an
// explicit namespace other than the Route's. A ref without one keeps its meaning from before
// grants (one of the Route's services, or a service of that plain name) and needs no grant.
func (r *Route) CrossNamespace(ref BackendRef) bool {
	return ref.Namespace != "" && ref.Namespace != r.Metadata.Namespace
}

// Permits tells whether one of grants lets route r use the service ref names.
func Permits(grants []*ReferenceGrant, r *Route, ref BackendRef) bool {
	if !r.CrossNamespace(ref) {
		return true
	}
	for _, g := range grants {
		if g.Metadata.Namespace != ref.Namespace {
			continue
		}
		from, to := false, false
		for _, f := range g.Spec.From {
			from = from || f.Kind == r.RouteKind() && f.Namespace == r.Metadata.Namespace
		}
		for _, t := range g.Spec.To {
			to = to || t.Kind == "Service" && (t.Group == nil || *t.Group == "") && (t.Name == nil || *t.Name == ref.Name)
		}
		if from && to {
			return true
		}
	}
	return false
}

// GrantsOf picks the ReferenceGrants out of objs.
func GrantsOf(objs []Object) []*ReferenceGrant {
	var out []*ReferenceGrant
	for _, o := range objs {
		if g, ok := o.(*ReferenceGrant); ok {
			out = append(out, g)
		}
	}
	return out
}
