package v1alpha1

import (
	"cmp"
	"slices"
)

// The kinds of stream routes: whole connections (TCP, or TLS by its server name) and datagrams
// (UDP) forwarded to backends, as the Gateway API's TCPRoute, TLSRoute and UDPRoute (v1alpha2).
const (
	KindTCPRoute Kind = "TCPRoute"
	KindTLSRoute Kind = "TLSRoute"
	KindUDPRoute Kind = "UDPRoute"
)

// TCPRoute forwards every connection of a Gateway's TCP listener to backend swarm services: a
// database, SSH to a git server, MQTT. The gateway reads nothing of the connection, so one route
// takes a listener.
type TCPRoute struct {
	TypeMeta `json:",inline"`
	// Metadata names the route.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired route.
	Spec StreamRouteSpec `json:"spec"`
}

// UDPRoute forwards the datagrams of a Gateway's UDP listener to backend swarm services. Each
// datagram from a client is a request that gets one datagram back (DNS and the like: nginx's
// proxy_responses 1); a protocol whose exchanges are longer is beyond the gateway.
type UDPRoute struct {
	TypeMeta `json:",inline"`
	// Metadata names the route.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired route.
	Spec StreamRouteSpec `json:"spec"`
}

// TLSRoute forwards the TLS connections of a Gateway's TLS listener (tls.mode Passthrough) for
// its hostnames, read from the client's server name (SNI), to backend swarm services that
// terminate TLS themselves. TLSRoutes and the HTTPS listeners of the gateway may share a port.
type TLSRoute struct {
	TypeMeta `json:",inline"`
	// Metadata names the route.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired route.
	Spec TLSRouteSpec `json:"spec"`
}

// StreamRouteSpec is the desired state of a TCPRoute or UDPRoute.
type StreamRouteSpec struct {
	// ParentRefs are the gateways (and optionally listeners) the route attaches to. At least one.
	ParentRefs []ParentRef `json:"parentRefs"`
	// Rules say where the connections go. Exactly one: nothing in a connection tells rules apart.
	Rules []StreamRouteRule `json:"rules"`
}

// TLSRouteSpec is the desired state of a TLSRoute.
type TLSRouteSpec struct {
	// ParentRefs are the gateways (and optionally listeners) the route attaches to. At least one.
	ParentRefs []ParentRef `json:"parentRefs"`
	// Hostnames are the server names (SNI) the route takes, exact or "*." wildcards; on a
	// listener, those it shares with the listener's hostname. Unset: every name the listener
	// takes. A connection goes to the route with the most specific hostname that matches it.
	Hostnames []Hostname `json:"hostnames,omitempty"`
	// Rules say where the connections go. Exactly one: the server name is all the gateway reads.
	Rules []StreamRouteRule `json:"rules"`
}

// StreamRouteRule names the backends that share a stream route's connections (or datagrams).
type StreamRouteRule struct {
	// Name, when set, names the rule within its route (the Gateway API's rules[].name).
	Name *SectionName `json:"name,omitempty"`
	// BackendRefs are the existing swarm services that take the connections, shared by weight:
	// each names a port, and neither filters nor attach. A rule without backends refuses them.
	BackendRefs []BackendRef `json:"backendRefs,omitempty"`
}

// GetObjectMeta implements Object.
func (r *TCPRoute) GetObjectMeta() *ObjectMeta { return &r.Metadata }

// GetObjectMeta implements Object.
func (r *UDPRoute) GetObjectMeta() *ObjectMeta { return &r.Metadata }

// GetObjectMeta implements Object.
func (r *TLSRoute) GetObjectMeta() *ObjectMeta { return &r.Metadata }

// Default implements Object.
func (r *TCPRoute) Default() { defaultStreamRules(r.Spec.Rules) }

// Default implements Object.
func (r *UDPRoute) Default() { defaultStreamRules(r.Spec.Rules) }

// Default implements Object.
func (r *TLSRoute) Default() { defaultStreamRules(r.Spec.Rules) }

func defaultStreamRules(rules []StreamRouteRule) {
	for i := range rules {
		for j := range rules[i].BackendRefs {
			if ref := &rules[i].BackendRefs[j]; ref.Weight == nil {
				ref.Weight = ptr(int32(1))
			}
		}
	}
}

// IsStreamRouteKind tells whether kind is TCPRoute, UDPRoute or TLSRoute.
func IsStreamRouteKind(kind Kind) bool {
	return kind == KindTCPRoute || kind == KindUDPRoute || kind == KindTLSRoute
}

// StreamRoute is a TCPRoute, UDPRoute or TLSRoute: what the gateway's stream block serves.
type StreamRoute interface {
	Object
	// Parents are the route's parentRefs.
	Parents() []ParentRef
	// StreamRules are the route's rules.
	StreamRules() []StreamRouteRule
	// ServerNames are a TLSRoute's hostnames; nil for the others.
	ServerNames() []Hostname
	// ListenerProtocol is the protocol of the listeners the route attaches to.
	ListenerProtocol() ListenerProtocol
}

// Parents implements StreamRoute.
func (r *TCPRoute) Parents() []ParentRef { return r.Spec.ParentRefs }

// Parents implements StreamRoute.
func (r *UDPRoute) Parents() []ParentRef { return r.Spec.ParentRefs }

// Parents implements StreamRoute.
func (r *TLSRoute) Parents() []ParentRef { return r.Spec.ParentRefs }

// StreamRules implements StreamRoute.
func (r *TCPRoute) StreamRules() []StreamRouteRule { return r.Spec.Rules }

// StreamRules implements StreamRoute.
func (r *UDPRoute) StreamRules() []StreamRouteRule { return r.Spec.Rules }

// StreamRules implements StreamRoute.
func (r *TLSRoute) StreamRules() []StreamRouteRule { return r.Spec.Rules }

// ServerNames implements StreamRoute.
func (r *TCPRoute) ServerNames() []Hostname { return nil }

// ServerNames implements StreamRoute.
func (r *UDPRoute) ServerNames() []Hostname { return nil }

// ServerNames implements StreamRoute.
func (r *TLSRoute) ServerNames() []Hostname { return r.Spec.Hostnames }

// ListenerProtocol implements StreamRoute.
func (r *TCPRoute) ListenerProtocol() ListenerProtocol { return ProtocolTCP }

// ListenerProtocol implements StreamRoute.
func (r *UDPRoute) ListenerProtocol() ListenerProtocol { return ProtocolUDP }

// ListenerProtocol implements StreamRoute.
func (r *TLSRoute) ListenerProtocol() ListenerProtocol { return ProtocolTLS }

// StreamRoutesOf picks the stream routes out of objs, ordered by namespace and name: the order
// that decides between two that claim alike.
func StreamRoutesOf(objs []Object) []StreamRoute {
	var out []StreamRoute
	for _, o := range objs {
		if r, ok := o.(StreamRoute); ok {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b StreamRoute) int {
		am, bm := a.GetObjectMeta(), b.GetObjectMeta()
		return cmp.Or(cmp.Compare(am.Namespace, bm.Namespace), cmp.Compare(am.Name, bm.Name), cmp.Compare(a.GetTypeMeta().Kind, b.GetTypeMeta().Kind))
	})
	return out
}

// StreamAttachesTo reports whether a stream route attaches to listener l of gateway gw: a
// parentRef names them, l speaks the route's protocol, and l's allowedRoutes admit the route's
// namespace (hostnames aside).
func StreamAttachesTo(r StreamRoute, gw *Gateway, l *Listener) bool {
	if l.Protocol != r.ListenerProtocol() || !l.Allows(gw.Metadata.Namespace, r.GetObjectMeta().Namespace) {
		return false
	}
	for _, p := range r.Parents() {
		if p.Refers(gw) && (p.SectionName == "" || p.SectionName == l.Name) {
			return true
		}
	}
	return false
}

// StreamBackendServiceName is the swarm service a stream route's backendRef names:
// "<namespace>_<name>" for an explicit namespace, else the plain name (stream routes run no
// services of their own).
func StreamBackendServiceName(ref BackendRef) string {
	return StackName(ref.Namespace, ref.Name)
}
