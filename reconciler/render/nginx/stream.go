package nginx

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// The stream part of a gateway's config serves its TCP, UDP and TLS listeners with nginx's stream
// module. It must sit in a stream block of nginx's main config, which the http-level config file
// cannot open: it follows the http part in the same file, each line commented out with
// contract.StreamLine, and the gateway's agent writes it (contract.SplitStream) into the stream
// block of the main config it writes. One file keeps one config, one hash and one secret per
// gateway.
//
// How stream routing maps onto nginx:
//   - a TCP or UDP listener is a server on its port that proxies to the route's backends; weighted
//     backends are a split_clients on the client's address and port;
//   - a port with TLS listeners is a server with ssl_preread that picks the backend by the
//     client's server name through a map with hostnames (exact names before the longest
//     wildcard, as the Gateway API orders them); names an HTTPS listener of the port owns, and
//     the rest when one takes every name, go to the HTTPS servers, which then listen on a unix
//     socket (HTTPSSocket) instead of the port; names nothing takes are refused;
//   - the HTTPS servers behind a stream server would see it, not the client, as their peer: it
//     sends them the client's address by the PROXY protocol, which they alone believe, from the
//     socket alone. nginx sends the header from a whole stream server, and a TLS backend takes
//     none, so on such a port the TLSRoutes' connections go through a second stream server
//     (tlsRelaySocket) that takes the header, keeps the client's address and passes the
//     connection on without it;
//   - backends are names nginx resolves per connection (a variable in proxy_pass), so a missing
//     service refuses its connections instead of failing the whole config.

// udpResponseTimeout bounds the wait for a backend's answer to a UDP datagram: a DNS client asks
// again within seconds, and each unanswered datagram holds a session until then.
const udpResponseTimeout = 10 * time.Second

// HTTPSSocket is the unix socket under dir that the HTTPS servers of a port shared with TLS
// listeners listen on: the port's stream server hands them the connections that are theirs.
func HTTPSSocket(dir string, port v1alpha1.PortNumber) string {
	return dir + "/sg-https-" + strconv.Itoa(int(port)) + ".sock"
}

// tlsRelaySocket is where the stream server of a port shared with HTTPS listeners sends the
// connections of its TLSRoutes, with the client's address in a PROXY header: a stream server
// there takes the header and passes them on to their backends without it.
func tlsRelaySocket(dir string, port v1alpha1.PortNumber) string {
	return dir + "/sg-tls-" + strconv.Itoa(int(port)) + ".sock"
}

// refuseSocket is where connections for server names nothing takes go: a stream server there
// closes them at once.
func refuseSocket(dir string) string { return dir + "/sg-refuse.sock" }

// sharedTLSPort tells whether the gateway's HTTPS servers on port sit behind a TLS listener's
// stream server.
func sharedTLSPort(gw *v1alpha1.Gateway, port v1alpha1.PortNumber) bool {
	return hasListener(gw, port, v1alpha1.ProtocolTLS)
}

// hasListener tells whether gw has a listener of protocol on port.
func hasListener(gw *v1alpha1.Gateway, port v1alpha1.PortNumber, protocol v1alpha1.ListenerProtocol) bool {
	return slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool {
		return l.Port == port && l.Protocol == protocol
	})
}

// streamBackend is where a stream listener's connections go: a quoted address, or a variable
// that a weighted split sets; "" refuses them.
func (r *renderer) streamBackend(rt v1alpha1.StreamRoute) string {
	rules := rt.StreamRules()
	if len(rules) == 0 {
		return ""
	}
	type target struct {
		addr   string
		weight int64
	}
	var targets []target
	var total int64
	for _, ref := range rules[0].BackendRefs {
		if *ref.Weight == 0 || !ref.IsService() || ref.Port == nil {
			continue
		}
		host, port := r.opts.Backend(v1alpha1.StreamBackendServiceName(ref), int32(*ref.Port))
		targets = append(targets, target{addr: host + ":" + strconv.Itoa(int(port)), weight: int64(*ref.Weight)})
		total += int64(*ref.Weight)
	}
	switch len(targets) {
	case 0:
		return ""
	case 1:
		return quote(targets[0].addr)
	}
	// As for HTTP (action.go): shares in hundredths of a percent, the last takes the remainder.
	var lines strings.Builder
	for i, t := range targets {
		if i == len(targets)-1 {
			fmt.Fprintf(&lines, "    * %s;\n", quote(t.addr))
			break
		}
		if hundredths := t.weight * 10000 / total; hundredths > 0 {
			fmt.Fprintf(&lines, "    %d.%02d%% %s;\n", hundredths/100, hundredths%100, quote(t.addr))
		}
	}
	return "$" + r.addStreamBlock(`split_clients "${remote_addr}:${remote_port}"`, lines.String())
}

// addStreamBlock is addBlock for the stream block's maps and splits.
func (r *renderer) addStreamBlock(open, body string) string {
	key := open + "\x00" + body
	if name, ok := r.streamVars[key]; ok {
		return name
	}
	name := "sg_s" + strconv.Itoa(len(r.streamBlocks)+1)
	r.streamVars[key] = name
	r.streamBlocks = append(r.streamBlocks, open+" $"+name+" {\n"+body+"}\n")
	return name
}

// stream writes the stream part of gw's config (nothing when gw has no stream listener), each
// line prefixed with contract.StreamLine.
func (r *renderer) stream(out *bytes.Buffer, gw *v1alpha1.Gateway) {
	if !slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool { return l.Protocol.Stream() }) {
		return
	}
	r.streamVars = map[string]string{}
	var b bytes.Buffer
	fmt.Fprintf(&b, "resolver %s valid=%ds ipv6=off;\nresolver_timeout %ds;\n", r.opts.Resolver, int(r.opts.ResolverValid.Seconds()), int(r.opts.ResolverTimeout.Seconds()))
	b.WriteString("proxy_connect_timeout " + duration(resolverConnectTimeout) + ";\n")
	idle := v1alpha1.DefaultIdleTimeout
	if gw.Spec.IdleTimeout != nil {
		idle = *gw.Spec.IdleTimeout
	}
	d, _ := time.ParseDuration(string(idle))
	idleTimeout := duration(d)
	var tlsPorts []v1alpha1.PortNumber
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		switch l.Protocol {
		case v1alpha1.ProtocolTLS:
			if !slices.Contains(tlsPorts, l.Port) {
				tlsPorts = append(tlsPorts, l.Port)
			}
			continue
		case v1alpha1.ProtocolTCP, v1alpha1.ProtocolUDP:
		default:
			continue
		}
		rt := r.streamRoute(gw, l)
		route := "no route"
		if rt != nil {
			route = string(rt.GetTypeMeta().Kind) + " " + rt.GetObjectMeta().QualifiedName()
		}
		// Listener, kind and route names are DNS labels (validation): nothing ends a comment.
		fmt.Fprintf(&b, "\n# Listener %s (%s port %d): %s.\nserver {\n", l.Name, l.Protocol, l.Port, route)
		backend := ""
		if rt != nil {
			backend = r.streamBackend(rt)
		}
		listen := strconv.Itoa(int(l.Port))
		timeout := idleTimeout
		if l.Protocol == v1alpha1.ProtocolUDP {
			listen += " udp"
			timeout = duration(udpResponseTimeout)
		}
		b.WriteString("    listen " + listen + ";\n")
		if backend == "" {
			b.WriteString("    # No backend: every connection is refused.\n    return \"\";\n}\n")
			continue
		}
		if l.Protocol == v1alpha1.ProtocolUDP {
			b.WriteString("    # A datagram is a request that gets one datagram back.\n    proxy_responses 1;\n")
		}
		b.WriteString("    proxy_timeout " + timeout + ";\n    set $sg_backend " + backend + ";\n    proxy_pass $sg_backend;\n}\n")
	}
	for _, port := range tlsPorts {
		r.tlsPort(&b, gw, port, idleTimeout)
	}
	if len(tlsPorts) > 0 {
		b.WriteString("\n# Server names no listener takes: closed at once.\nserver {\n    listen " + quote("unix:"+refuseSocket(r.opts.SocketDir)) + ";\n    return \"\";\n}\n")
	}
	// nginx sizes a map's hash as it reads the map: the sizes go before the maps.
	if hashEntry(r.streamKeyLen)+8 > 32 {
		fmt.Fprintf(&b, "\nmap_hash_bucket_size %d;\n", hashBucket(r.streamKeyLen))
	}
	if r.streamKeys > 256 {
		fmt.Fprintf(&b, "map_hash_max_size %d;\n", max(2048, nextPow2(8*r.streamKeys)))
	}
	for _, block := range r.streamBlocks {
		b.WriteString("\n")
		b.WriteString(block)
	}
	out.WriteString("\n# The stream block of nginx's main config (TCP, UDP and TLS passthrough listeners): the\n# gateway's agent writes these lines there, without their \"" + contract.StreamLine + "\".\n")
	for line := range strings.Lines(b.String()) {
		out.WriteString(contract.StreamLine)
		out.WriteString(line)
	}
}

// streamRoute is the route a TCP or UDP listener takes: the first attached, by namespace and name
// (validation lets one attach).
func (r *renderer) streamRoute(gw *v1alpha1.Gateway, l *v1alpha1.Listener) v1alpha1.StreamRoute {
	for _, rt := range r.opts.StreamRoutes {
		if v1alpha1.StreamAttachesTo(rt, gw, l) {
			return rt
		}
	}
	return nil
}

// tlsTarget is where the stream server of a port with TLS listeners sends a server name: to the
// port's HTTPS servers, or to a TLSRoute's backends; to neither, it refuses the connection.
type tlsTarget struct {
	listener *v1alpha1.Listener // the listener that owns the name; nil for names none owns
	https    bool
	route    v1alpha1.StreamRoute
}

// tlsTargets are the targets of the server names of a port with TLS listeners ("" for every
// other name), and the names the TLSRoutes take, in the order they take them.
func (r *renderer) tlsTargets(gw *v1alpha1.Gateway, port v1alpha1.PortNumber) (map[v1alpha1.Hostname]tlsTarget, []v1alpha1.Hostname) {
	// owner is the listener of the port whose hostname matches name most exactly.
	owner := func(name v1alpha1.Hostname) *v1alpha1.Listener {
		var best *v1alpha1.Listener
		for i := range gw.Spec.Listeners {
			l := &gw.Spec.Listeners[i]
			if l.Port == port && (l.Protocol == v1alpha1.ProtocolTLS || l.Protocol == v1alpha1.ProtocolHTTPS) &&
				(l.Hostname == nil || name != "" && l.Hostname.Matches(name)) &&
				(best == nil || v1alpha1.Specificity(l.Hostname) > v1alpha1.Specificity(best.Hostname)) {
				best = l
			}
		}
		return best
	}
	targets := map[v1alpha1.Hostname]tlsTarget{}
	var taken []v1alpha1.Hostname
	// Each listener's hostname first: names its routes do not take are its own, refused or
	// served by HTTPS, not the next listener's.
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		if l.Port != port || (l.Protocol != v1alpha1.ProtocolTLS && l.Protocol != v1alpha1.ProtocolHTTPS) {
			continue
		}
		var name v1alpha1.Hostname
		if l.Hostname != nil {
			name = *l.Hostname
		}
		targets[name] = tlsTarget{listener: l, https: l.Protocol == v1alpha1.ProtocolHTTPS}
	}
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		if l.Port != port || l.Protocol != v1alpha1.ProtocolTLS {
			continue
		}
		for _, rt := range r.opts.StreamRoutes {
			if !v1alpha1.StreamAttachesTo(rt, gw, l) {
				continue
			}
			names := rt.ServerNames()
			if len(names) == 0 {
				names = []v1alpha1.Hostname{""} // every name the listener takes
			}
			for _, rh := range names {
				name := rh
				if rh == "" && l.Hostname != nil {
					name = *l.Hostname
				} else if rh != "" {
					var ok bool
					if name, ok = v1alpha1.IntersectHostname(l.Hostname, rh); !ok || owner(name) != l {
						continue
					}
				}
				if t := targets[name]; t.https || t.route != nil {
					continue // an earlier route (by namespace and name) has it: validation reports it
				}
				targets[name] = tlsTarget{listener: l, route: rt}
				taken = append(taken, name)
			}
		}
	}
	return targets, taken
}

// serverNameTarget is the target of a server name as nginx's map with hostnames finds it: the
// exact name, else the longest wildcard that covers it, else the default.
func serverNameTarget(targets map[v1alpha1.Hostname]tlsTarget, name string) tlsTarget {
	if t, ok := targets[v1alpha1.Hostname(name)]; ok && name != "" {
		return t
	}
	best, found := "", false
	for n := range targets {
		if suffix, ok := strings.CutPrefix(string(n), "*"); ok && strings.HasSuffix(name, suffix) && len(name) > len(suffix) && len(n) > len(best) {
			best, found = string(n), true
		}
	}
	if found {
		return targets[v1alpha1.Hostname(best)]
	}
	return targets[""]
}

// tlsPort writes the stream server of a port with TLS listeners: the server name picks a TLSRoute's
// backends or the port's HTTPS servers.
func (r *renderer) tlsPort(b *bytes.Buffer, gw *v1alpha1.Gateway, port v1alpha1.PortNumber, idleTimeout string) {
	https := quote("unix:" + HTTPSSocket(r.opts.SocketDir, port))
	refuse := quote("unix:" + refuseSocket(r.opts.SocketDir))
	targets, taken := r.tlsTargets(gw, port)
	entries := map[v1alpha1.Hostname]string{} // server name ("" for the rest) -> target
	for name, t := range targets {
		switch {
		case t.https:
			entries[name] = https
		case t.route != nil:
			entries[name] = cmp.Or(r.streamBackend(t.route), refuse)
		default:
			entries[name] = refuse
		}
	}
	var comments []string
	for _, name := range taken {
		rt := targets[name].route
		comments = append(comments, fmt.Sprintf("%s %s: %s", rt.GetTypeMeta().Kind, rt.GetObjectMeta().QualifiedName(), cmp.Or(string(name), "every other name")))
	}
	names := make([]v1alpha1.Hostname, 0, len(entries))
	for n := range entries {
		if n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	r.streamKeys = max(r.streamKeys, len(names))
	for _, n := range names {
		r.streamKeyLen = max(r.streamKeyLen, len(n))
	}
	// nameMap is the map from server name to target, with replace applied to the targets.
	nameMap := func(replace func(string) string) string {
		var body strings.Builder
		body.WriteString("    hostnames;\n")
		for _, n := range names {
			body.WriteString("    " + quote(string(n)) + " " + replace(entries[n]) + ";\n")
		}
		body.WriteString("    default " + replace(cmp.Or(entries[""], refuse)) + ";\n")
		return r.addStreamBlock("map $ssl_preread_server_name", body.String())
	}
	backends := nameMap(func(t string) string { return t })
	fmt.Fprintf(b, "\n# Port %d: TLS by server name, to the TLSRoutes' backends or the HTTPS listeners.\n", port)
	for _, c := range comments {
		// Kinds, route names and hostnames are DNS names (validation): nothing ends a comment.
		b.WriteString("#   " + c + "\n")
	}
	if !hasListener(gw, port, v1alpha1.ProtocolHTTPS) {
		b.WriteString("server {\n    listen " + strconv.Itoa(int(port)) + ";\n    ssl_preread on;\n    proxy_timeout " + idleTimeout +
			";\n    proxy_pass $" + backends + ";\n}\n")
		return
	}
	relay := quote("unix:" + tlsRelaySocket(r.opts.SocketDir, port))
	front := nameMap(func(t string) string {
		if t == https || t == refuse {
			return t
		}
		return relay
	})
	b.WriteString("# The client's address goes to the HTTPS servers and the relay in a PROXY header.\n")
	b.WriteString("server {\n    listen " + strconv.Itoa(int(port)) + ";\n    ssl_preread on;\n    proxy_protocol on;\n    proxy_timeout " + idleTimeout +
		";\n    proxy_pass $" + front + ";\n}\n")
	fmt.Fprintf(b, "\n# Port %d: the TLSRoutes' connections, from the client's address, to their backends without the header.\n", port)
	b.WriteString("server {\n    listen " + relay + " proxy_protocol;\n    set_real_ip_from unix:;\n    ssl_preread on;\n    proxy_timeout " + idleTimeout +
		";\n    proxy_pass $" + backends + ";\n}\n")
}
