package v1alpha1

import "regexp"

// KindGRPCRoute routes gRPC calls (the Gateway API's GRPCRoute).
const KindGRPCRoute Kind = "GRPCRoute"

// GRPCRoute routes gRPC calls for its hostnames from a Gateway's HTTP or HTTPS listener to backend
// swarm services that speak gRPC: by service and method, and by header. It follows the Gateway
// API's GRPCRoute. An HTTP listener that a GRPCRoute attaches to takes HTTP/2 without TLS (h2c,
// with prior knowledge) on its port; an HTTPS listener offers HTTP/2 by ALPN.
type GRPCRoute struct {
	TypeMeta `json:",inline"`
	// Metadata names the route.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired route.
	Spec GRPCRouteSpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (g *GRPCRoute) GetObjectMeta() *ObjectMeta { return &g.Metadata }

// GRPCRouteSpec is the desired state of a GRPCRoute.
type GRPCRouteSpec struct {
	// ParentRefs are the gateways (and optionally listeners) the route attaches to. At least one.
	ParentRefs []ParentRef `json:"parentRefs"`
	// Hostnames are the virtual hosts the route serves, matched against the call's authority, as
	// a Route's are. None: every host of the listeners. A hostname that a Route (an HTTPRoute)
	// also serves on the same listener is the Route's: the Gateway API accepts one kind per host.
	Hostnames []Hostname `json:"hostnames,omitempty"`
	// Rules say which calls go where. At least one.
	Rules []GRPCRouteRule `json:"rules"`
}

// GRPCRouteRule is a set of matches, the filters applied to matching calls, and the backends that
// serve them.
type GRPCRouteRule struct {
	// Name, when set, names the rule within its route: unique there, a DNS-1123 label.
	Name *SectionName `json:"name,omitempty"`
	// Matches are ORed: a call that satisfies any one of them is handled by this rule. Unset
	// matches every call.
	Matches []GRPCRouteMatch `json:"matches,omitempty"`
	// Filters modify matching calls' request and response headers.
	Filters []GRPCRouteFilter `json:"filters,omitempty"`
	// BackendRefs are the gRPC services that serve matching calls, sharing them by weight, reached
	// over HTTP/2 without TLS. A rule without backends answers UNAVAILABLE (14).
	BackendRefs []BackendRef `json:"backendRefs,omitempty"`
	// Timeouts bound how long the gateway waits for the backend, as a Route's do; a call that
	// takes longer fails UNAVAILABLE.
	Timeouts *RouteTimeouts `json:"timeouts,omitempty"`
	// Retry has the gateway try a call again on another address of the backend when it could not
	// connect or timed out, as a Route's does; codes are HTTP statuses, which gRPC servers rarely
	// answer.
	Retry *RouteRetry `json:"retry,omitempty"`
}

// GRPCRouteMatch is a set of conditions that are ANDed.
type GRPCRouteMatch struct {
	// Method matches the call's service and method. Unset matches every one.
	Method *GRPCMethodMatch `json:"method,omitempty"`
	// Headers match request metadata (headers), all of them.
	Headers []GRPCHeaderMatch `json:"headers,omitempty"`
}

// GRPCMethodMatchType says how a GRPCMethodMatch compares.
type GRPCMethodMatchType string

// The method match types.
const (
	// GRPCMethodMatchExact compares service and method exactly.
	GRPCMethodMatchExact GRPCMethodMatchType = "Exact"
	// GRPCMethodMatchRegularExpression matches service and method against regular expressions
	// (anchored at both ends), in the syntax Go and PCRE share.
	GRPCMethodMatchRegularExpression GRPCMethodMatchType = "RegularExpression"
)

// GRPCMethodMatch matches a call's service ("package.Service") and method. At least one of
// service and method is set; an unset one matches any.
type GRPCMethodMatch struct {
	// Type is Exact (the default) or RegularExpression.
	Type GRPCMethodMatchType `json:"type,omitempty"`
	// Service is the fully qualified service, e.g. "grpc.health.v1.Health".
	Service string `json:"service,omitempty"`
	// Method is the method, e.g. "Check".
	Method string `json:"method,omitempty"`
}

// GRPCHeaderMatchType says how a GRPCHeaderMatch compares.
type GRPCHeaderMatchType string

// The header match types of a GRPCRoute.
const (
	// GRPCHeaderMatchExact compares the value exactly.
	GRPCHeaderMatchExact GRPCHeaderMatchType = "Exact"
	// GRPCHeaderMatchRegularExpression matches the value against a regular expression (anchored
	// at both ends), in the syntax Go and PCRE share.
	GRPCHeaderMatchRegularExpression GRPCHeaderMatchType = "RegularExpression"
)

// GRPCHeaderMatch matches one request header (gRPC metadata).
type GRPCHeaderMatch struct {
	// Type is Exact (the default) or RegularExpression.
	Type GRPCHeaderMatchType `json:"type,omitempty"`
	// Name of the header.
	Name HeaderName `json:"name"`
	// Value the header must have, or match.
	Value string `json:"value"`
}

// GRPCRouteFilterType names a GRPCRouteFilter: RequestHeaderModifier, ResponseHeaderModifier or
// RequestMirror, as a Route's filters of those types.
type GRPCRouteFilterType string

// GRPCRouteFilter changes a call's headers on its way. Exactly the field named by Type is set.
type GRPCRouteFilter struct {
	// Type is RequestHeaderModifier, ResponseHeaderModifier or RequestMirror.
	Type GRPCRouteFilterType `json:"type"`
	// RequestHeaderModifier changes the headers sent to the backend.
	RequestHeaderModifier *HeaderModifier `json:"requestHeaderModifier,omitempty"`
	// ResponseHeaderModifier changes the headers sent to the client.
	ResponseHeaderModifier *HeaderModifier `json:"responseHeaderModifier,omitempty"`
	// RequestMirror sends a copy of each call (or of a share of them) to another gRPC service,
	// whose answers are thrown away. A rule may have several.
	RequestMirror *RequestMirror `json:"requestMirror,omitempty"`
}

// Default implements Object.
func (g *GRPCRoute) Default() {
	for i := range g.Spec.Rules {
		rule := &g.Spec.Rules[i]
		if len(rule.Matches) == 0 {
			rule.Matches = []GRPCRouteMatch{{}}
		}
		for j := range rule.Matches {
			m := &rule.Matches[j]
			if m.Method != nil && m.Method.Type == "" {
				m.Method.Type = GRPCMethodMatchExact
			}
			for k := range m.Headers {
				if m.Headers[k].Type == "" {
					m.Headers[k].Type = GRPCHeaderMatchExact
				}
			}
		}
		for j := range rule.BackendRefs {
			if rule.BackendRefs[j].Weight == nil {
				rule.BackendRefs[j].Weight = ptr(int32(1))
			}
		}
		for j := range rule.Filters {
			if m := rule.Filters[j].RequestMirror; m != nil && m.Fraction != nil && m.Fraction.Denominator == nil {
				m.Fraction.Denominator = ptr(int32(100))
			}
		}
	}
}

// AsRoute is the route in a Route's terms, which the gateway routes by: the same parents,
// hostnames, filters and backends; each match's exact service and method as a path ("/service/"
// prefix, "/service/method" exactly), its exact headers as header matches. What a Route cannot
// say (a regular expression, a method of any service) stays in the GRPCRoute's match of the same
// rule and index. Its kind stays GRPCRoute, which names it in errors and as the owner of what
// it asks of the swarm.
func (g *GRPCRoute) AsRoute() *Route {
	rt := &Route{TypeMeta: g.TypeMeta, Metadata: g.Metadata}
	rt.Kind = KindGRPCRoute
	rt.Spec.ParentRefs, rt.Spec.Hostnames = g.Spec.ParentRefs, g.Spec.Hostnames
	rt.Spec.Rules = make([]RouteRule, len(g.Spec.Rules))
	for i, gr := range g.Spec.Rules {
		r := &rt.Spec.Rules[i]
		r.Name, r.Timeouts, r.Retry, r.BackendRefs = gr.Name, gr.Timeouts, gr.Retry, gr.BackendRefs
		for _, f := range gr.Filters {
			r.Filters = append(r.Filters, RouteFilter{Type: FilterType(f.Type), RequestHeaderModifier: f.RequestHeaderModifier,
				ResponseHeaderModifier: f.ResponseHeaderModifier, RequestMirror: f.RequestMirror})
		}
		r.Matches = make([]RouteMatch, len(gr.Matches))
		for j, gm := range gr.Matches {
			m := &r.Matches[j]
			m.Path = &PathMatch{Type: PathMatchPathPrefix, Value: "/"}
			if mm := gm.Method; mm != nil && mm.Type == GRPCMethodMatchExact && mm.Service != "" {
				m.Path.Value = "/" + mm.Service
				if mm.Method != "" {
					m.Path = &PathMatch{Type: PathMatchExact, Value: "/" + mm.Service + "/" + mm.Method}
				}
			}
			for _, h := range gm.Headers {
				if h.Type == GRPCHeaderMatchExact {
					m.Headers = append(m.Headers, HeaderMatch{Type: MatchExact, Name: h.Name, Value: h.Value})
				}
			}
		}
	}
	return rt
}

// PathRegex is the regular expression, anchored at both ends, that the call's path must match
// beyond what AsRoute's path says: for a RegularExpression match, or an Exact one of a method in
// any service; "" when the path says it all.
func (m *GRPCMethodMatch) PathRegex() string {
	if m == nil {
		return ""
	}
	service, method := "[^/]+", "[^/]+"
	switch {
	case m.Type == GRPCMethodMatchRegularExpression:
		if m.Service != "" {
			service = "(?:" + m.Service + ")"
		}
		if m.Method != "" {
			method = "(?:" + m.Method + ")"
		}
	case m.Service == "" && m.Method != "":
		method = regexp.QuoteMeta(m.Method)
	default:
		return ""
	}
	return "^/" + service + "/" + method + `\z`
}

// IsGRPC tells whether the route is a GRPCRoute in a Route's terms (AsRoute).
func (r *Route) IsGRPC() bool { return r.Kind == KindGRPCRoute }

// RouteKind is the kind of a route: Route, or GRPCRoute for one made by AsRoute.
func (r *Route) RouteKind() Kind {
	if r.IsGRPC() {
		return KindGRPCRoute
	}
	return KindRoute
}
