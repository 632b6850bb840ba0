package nginx

import (
	"bytes"
	"slices"
	"strings"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Many hosts, one server. A server block costs nginx tens of kilobytes and its share of every
// reload, so the hosts of a listener that only forward every request, unchanged, to one backend
// share one server, and maps keyed by the host give each its route and backend. The shared server
// names each of those hosts, so nginx's server selection (an exact name, then the longest
// wildcard) still chooses between it and the hosts that keep a server of their own; within it, a
// hostnames map looks the request's host up among the same names by the same rules, so it finds
// the name that selected the server.

// shared marks, and returns by listener in the order of servers, the servers that share their
// listener's server.
func (r *renderer) shared(servers []*server) map[*v1alpha1.Listener][]*server {
	out := map[*v1alpha1.Listener][]*server{}
	for _, s := range servers {
		if s.shared = r.forwardsAll(s); s.shared {
			out[s.listener] = append(out[s.listener], s)
		}
	}
	return out
}

// forwardsAll tells whether s, a host's server, holds one rule that takes every request of the
// host and forwards it as it is to one backend service: one unconditional match of every path,
// no filters, timeouts, retries or session persistence, the gateway's request body settings, no
// policy, and one backend that gets all requests and exists, is permitted and has a port, reached
// by plain HTTP (not a GRPCRoute's, nor one a BackendTLSPolicy covers).
// Anything else keeps a server of its own, rendered as always.
func (r *renderer) forwardsAll(s *server) bool {
	if s.fallback || len(s.candidates) != 1 {
		return false
	}
	c := s.candidates[0]
	if c.route.IsGRPC() {
		return false
	}
	if c.exact || c.path != "/" || c.conditional() || len(c.rule.Filters) > 0 || c.rule.Timeouts != nil || c.rule.Retry != nil ||
		c.rule.SessionPersistence != nil || r.body(c) != r.gatewayBody {
		return false
	}
	scope := v1alpha1.PolicyScope{Gateway: r.gw, Listener: c.listener, Route: c.route, Rule: c.ruleIdx}
	if _, _, ok := v1alpha1.Applying(r.opts.Policies.Security, scope); ok {
		return false
	}
	if _, _, ok := v1alpha1.Applying(r.opts.Policies.Backend, scope); ok {
		return false
	}
	weighted := slices.DeleteFunc(slices.Clone(c.rule.BackendRefs), func(ref v1alpha1.BackendRef) bool { return ref.Weight == nil || *ref.Weight == 0 })
	if len(weighted) != 1 {
		return false
	}
	ref := weighted[0]
	return ref.Port != nil && len(ref.Filters) == 0 && !invalidBackend(ref) && v1alpha1.Permits(r.opts.Grants, c.route, ref) &&
		!r.opts.missing(c.route.BackendServiceName(ref)) && r.opts.Policies.backendTLSOf(c.route.BackendServiceName(ref)) == nil
}

// sharedServer writes the server that hosts of listener l share: each host's route, rule,
// upstream and backend come from a hostnames map keyed by the request's host.
func (r *renderer) sharedServer(b *bytes.Buffer, l *v1alpha1.Listener, hosts []*server) {
	values := make([][4]string, len(hosts)) // route, rule, upstream, backend
	for i, s := range hosts {
		c := s.candidates[0]
		route, rule := ruleNames(c)
		_, _, targets, _ := r.upstream(c, "") // one target with an address, no session: forwardsAll
		values[i] = [4]string{route, rule, targets[0].addr, targets[0].service}
	}
	// hostValue is the value of the i-th variable: the one every host has, else a map's.
	hostValue := func(i int) string {
		if !slices.ContainsFunc(values, func(v [4]string) bool { return v[i] != values[0][i] }) {
			return quote(literal(values[0][i]))
		}
		var m strings.Builder
		m.WriteString("    hostnames;\n")
		for j, s := range hosts {
			m.WriteString("    " + mapKey(string(s.hostname)) + " " + quote(literal(values[j][i])) + ";\n")
		}
		return quote(variable(r.addBlock("map $host", m.String())))
	}
	b.WriteString("\n# Listener " + string(l.Name) + ": the hosts that forward every request to one backend.\nserver {\n    listen " +
		r.listen(l, false) + ";\n    server_name")
	for _, s := range hosts {
		b.WriteString("\n        " + quote(string(s.hostname)))
	}
	b.WriteString(";\n")
	r.certificates(b, l)
	r.clientPolicy(b, l)
	r.serverAccessLog(b, l)
	r.acmeLocation(b, l)
	b.WriteString("    # The normalized path, saved before any internal dispatch changes $uri.\n    set $sg_path $uri;\n")
	b.WriteString("    # An unresolvable or unreachable backend answers 503.\n    error_page 502 504 = @sg_unavailable;\n")
	b.WriteString("\n    location / {\n")
	for i, name := range [4]string{routeVar, ruleVar, "sg_upstream", backendVar} {
		b.WriteString("        set $" + name + " " + hostValue(i) + ";\n")
	}
	b.WriteString("        rewrite ^ " + quote(variable("sg_path")) + " break;\n        proxy_pass http://$sg_upstream;\n    }\n")
	b.WriteString("\n    location @sg_unavailable {\n        return 503;\n    }\n}\n")
}
