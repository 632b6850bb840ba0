package validation

import (
	"fmt"
	"strings"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// transport is what a listener's port is a port of: UDP ports are apart from TCP's (which HTTP,
// HTTPS, TLS and TCP listeners use).
func transport(p v1alpha1.ListenerProtocol) string {
	if p == v1alpha1.ProtocolUDP {
		return "udp"
	}
	return "tcp"
}

// sharePort tells whether listeners of two protocols may share a port: those of one protocol,
// and TLS with HTTPS, which the gateway tells apart by the client's server name before either
// handles the connection.
func sharePort(a, b v1alpha1.ListenerProtocol) bool {
	tls := func(p v1alpha1.ListenerProtocol) bool {
		return p == v1alpha1.ProtocolTLS || p == v1alpha1.ProtocolHTTPS
	}
	return a == b || tls(a) && tls(b)
}

// routeKinds are the kinds of route a listener of the protocol takes.
func routeKinds(p v1alpha1.ListenerProtocol) []v1alpha1.Kind {
	switch p {
	case v1alpha1.ProtocolTLS:
		return []v1alpha1.Kind{v1alpha1.KindTLSRoute}
	case v1alpha1.ProtocolTCP:
		return []v1alpha1.Kind{v1alpha1.KindTCPRoute}
	case v1alpha1.ProtocolUDP:
		return []v1alpha1.Kind{v1alpha1.KindUDPRoute}
	}
	return []v1alpha1.Kind{v1alpha1.KindRoute, v1alpha1.KindGRPCRoute}
}

// kindList names kinds for a message: "kind Route or GRPCRoute".
func kindList(kinds []v1alpha1.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return "kind " + strings.Join(names, " or ")
}

// validateStreamListener checks a TLS, TCP or UDP listener: served by the stream block the agent
// writes, with nothing of HTTP's; a TLS listener passes TLS through.
func validateStreamListener(lp *field.Path, l *v1alpha1.Listener, agent bool, isolation v1alpha1.Isolation) field.ErrorList {
	var errs field.ErrorList
	if !agent {
		errs = append(errs, field.Invalid(lp.Child("protocol"), "is "+string(l.Protocol)+", which needs spec.agent: the agent writes nginx's stream block that serves it"))
	}
	if isolation == v1alpha1.IsolationPerRoute {
		errs = append(errs, field.Invalid(lp.Child("protocol"), "is "+string(l.Protocol)+", whose routes have no network of their own: use network.isolation Shared"))
	}
	if l.RedirectToHTTPS != nil {
		errs = append(errs, field.Forbidden(lp.Child("redirectToHTTPS"), "only an HTTP listener redirects"))
	}
	if l.Protocol != v1alpha1.ProtocolTLS {
		if l.Hostname != nil {
			errs = append(errs, field.Forbidden(lp.Child("hostname"), "a "+string(l.Protocol)+" listener takes every connection of its port: nothing in it names a host"))
		}
		if l.TLS != nil {
			errs = append(errs, field.Forbidden(lp.Child("tls"), "only HTTPS and TLS listeners have TLS"))
		}
		return errs
	}
	tp := lp.Child("tls")
	switch t := l.TLS; {
	case t == nil:
		errs = append(errs, field.Required(tp.Child("mode"), "a TLS listener passes TLS through: set tls.mode: Passthrough"))
	case t.Mode != v1alpha1.TLSModePassthrough:
		errs = append(errs, field.Invalid(tp.Child("mode"), "must be Passthrough on a TLS listener (an HTTPS listener terminates TLS)"))
	case len(t.CertificateRefs) > 0 || t.ACME != nil || len(t.Options) > 0:
		errs = append(errs, field.Forbidden(tp, "a passthrough listener has no certificate or TLS options: its backends terminate TLS"))
	}
	return errs
}

// validateStreamRoute checks a TCPRoute, UDPRoute or TLSRoute on its own.
func validateStreamRoute(r v1alpha1.StreamRoute) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	errs = append(errs, validateParentRefs(p.Child("parentRefs"), r.Parents())...)
	if tls, ok := r.(*v1alpha1.TLSRoute); ok {
		hp := p.Child("hostnames")
		errs = append(errs, tooMany(hp, len(tls.Spec.Hostnames), v1alpha1.MaxHostnames)...)
		for i, h := range tls.Spec.Hostnames {
			errs = append(errs, validateHostname(hp.Index(i), h, true)...)
		}
	}
	rules := r.StreamRules()
	rp := p.Child("rules")
	if len(rules) != 1 {
		errs = append(errs, field.Invalid(rp, "must hold exactly one rule: nothing in a connection tells rules apart"))
	}
	for i, rule := range rules {
		if i > 0 {
			break
		}
		if rule.Name != nil {
			errs = append(errs, validateDNSLabel(rp.Index(i).Child("name"), string(*rule.Name))...)
		}
		bp := rp.Index(i).Child("backendRefs")
		errs = append(errs, tooMany(bp, len(rule.BackendRefs), v1alpha1.MaxBackendRefs)...)
		for j, ref := range rule.BackendRefs {
			errs = append(errs, validateStreamBackendRef(bp.Index(j), ref, r.GetObjectMeta().Namespace)...)
		}
	}
	return errs
}

// validateStreamBackendRef checks a stream route's backend: an existing service of the route's
// own namespace (ReferenceGrants share services with Routes only) and its port.
func validateStreamBackendRef(p *field.Path, ref v1alpha1.BackendRef, namespace string) field.ErrorList {
	var errs field.ErrorList
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, validateDNSLabel(p.Child("name"), ref.Name)...)
	}
	if ref.Namespace != "" && ref.Namespace != namespace {
		errs = append(errs, field.Invalid(p.Child("namespace"), "is not the route's own: a stream route's backends are services of its namespace (ReferenceGrants share services with Routes only)"))
	}
	if !ref.IsService() {
		errs = append(errs, field.Invalid(p.Child("kind"), `is not a swarm service (group "", kind Service), the only backend of a stream route`))
	}
	if ref.Port == nil {
		errs = append(errs, field.Required(p.Child("port"), "the port the service takes the connections on"))
	} else {
		errs = append(errs, validatePort(p.Child("port"), *ref.Port)...)
	}
	if w := ref.Weight; w != nil && (*w < 0 || *w > v1alpha1.MaxWeight) {
		errs = append(errs, field.Invalid(p.Child("weight"), fmt.Sprintf("must be 0 to %d", v1alpha1.MaxWeight)))
	}
	if len(ref.Filters) > 0 {
		errs = append(errs, field.Forbidden(p.Child("filters"), "a stream route forwards connections whole: there is nothing to filter"))
	}
	if ref.Attach {
		errs = append(errs, field.Forbidden(p.Child("attach"), "a stream route's backends must already be on the gateway's network"))
	}
	return errs
}

// checkStreamRoute checks a stream route against the set: its parents resolve to listeners of
// its protocol that take it, a TCP or UDP listener takes one route, and no two TLSRoutes claim a
// server name on one listener (nor a TLSRoute one that an HTTPS listener of the port names).
func (s set) checkStreamRoute(r v1alpha1.StreamRoute, claims claimSet) field.ErrorList {
	p := field.NewPath("spec", "parentRefs")
	var errs field.ErrorList
	for i, ref := range r.Parents() {
		pp := p.Index(i)
		gw := s.gateways[ref.Name]
		if gw == nil {
			errs = append(errs, noSuch(pp.Child("name"), v1alpha1.KindGateway, ref.Name, s.gateways))
			continue
		}
		if !ref.Refers(gw) {
			errs = append(errs, field.Invalid(pp.Child("namespace"), "is not the namespace of Gateway "+ref.Name))
			continue
		}
		var attached []*v1alpha1.Listener
		for j := range gw.Spec.Listeners {
			if l := &gw.Spec.Listeners[j]; v1alpha1.StreamAttachesTo(r, gw, l) {
				attached = append(attached, l)
			}
		}
		if len(attached) == 0 {
			at := pp.Child("name")
			if ref.SectionName != "" {
				at = pp.Child("sectionName")
			}
			errs = append(errs, field.Invalid(at, "names no "+string(r.ListenerProtocol())+" listener of Gateway "+ref.Name+" that takes routes from this namespace"))
			continue
		}
		for _, l := range attached {
			errs = append(errs, s.claimStream(r, gw, l, pp, claims)...)
		}
	}
	return errs
}

// claimStream claims what r takes on listener l: the whole listener for a TCPRoute or UDPRoute,
// each server name (intersected with the listener's) for a TLSRoute.
func (s set) claimStream(r v1alpha1.StreamRoute, gw *v1alpha1.Gateway, l *v1alpha1.Listener, pp *field.Path, claims claimSet) field.ErrorList {
	where := "Gateway " + gw.Metadata.Name + " listener " + string(l.Name)
	key := "stream/" + gw.Metadata.QualifiedName() + "/" + string(l.Name)
	if l.Protocol != v1alpha1.ProtocolTLS {
		if first := claims.claim(key, r); first != nil {
			return field.ErrorList{field.Invalid(pp, where+" is already taken by "+originOf(first)+"; one route takes a "+string(l.Protocol)+" listener")}
		}
		return nil
	}
	names := r.ServerNames()
	if len(names) == 0 {
		names = []v1alpha1.Hostname{"*"}
		if l.Hostname != nil {
			names = []v1alpha1.Hostname{*l.Hostname}
		}
	}
	var errs field.ErrorList
	served := false
	for _, h := range names {
		host := h
		if h != "*" {
			var ok bool
			if host, ok = v1alpha1.IntersectHostname(l.Hostname, h); !ok {
				continue
			}
		}
		served = true
		if first := claims.claim(key+"/"+string(host), r); first != nil {
			errs = append(errs, field.Invalid(pp, fmt.Sprintf("server name %q on %s is already claimed by %s", host, where, originOf(first))))
		}
		for _, other := range gw.Spec.Listeners {
			if other.Protocol == v1alpha1.ProtocolHTTPS && other.Port == l.Port && other.Hostname != nil && *other.Hostname == host {
				errs = append(errs, field.Invalid(pp, fmt.Sprintf("server name %q on port %d of Gateway %s is HTTPS listener %s's", host, l.Port, gw.Metadata.Name, other.Name)))
			}
		}
	}
	if !served {
		errs = append(errs, field.Invalid(pp, "no hostname of spec.hostnames matches the hostname of "+where))
	}
	return errs
}
