package nginx

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// Request is a request to explain: what a client sends to one port of a gateway.
type Request struct {
	// Listener names the listener whose port received the request; empty when the gateway
	// listens on one port only.
	Listener v1alpha1.SectionName
	// Host is the Host header (a port in it is ignored, as nginx does); on a port with TLS
	// listeners, also the server name the client sends in its TLS handshake (SNI). A TCP or
	// UDP listener needs none.
	Host string
	// Target is the request target: a path, with a query string or not, percent-encoded as sent.
	Target string
	Method string
	// Headers are the request's headers; nginx compares the first value of a name.
	Headers map[string][]string
}

// Explanation says how the gateway's nginx answers a request, and why.
type Explanation struct {
	Gateway  string               `json:"gateway"`
	Port     v1alpha1.PortNumber  `json:"port"`
	Listener v1alpha1.SectionName `json:"listener,omitempty"` // the listener that owns the host, when one does
	// Stream is the protocol of the stream listener that took the connection (TCP, UDP or TLS
	// passed through), which no server or location of the http part sees; empty for HTTP.
	Stream v1alpha1.ListenerProtocol `json:"stream,omitempty"`
	// Server is the server_name that took the request: a hostname, or "_" for the port's
	// default server (hosts no server names); empty for a stream listener's connection.
	Server string `json:"server,omitempty"`
	// Location is the nginx location that took the path, e.g. `^~ "/api/"`.
	Location string `json:"location,omitempty"`
	// Answer is what the client gets when no rule serves it: "404", a redirect, the health
	// check; empty when Chosen serves it.
	Answer string `json:"answer,omitempty"`
	// Chosen is the rule that serves the request, nil when none does.
	Chosen *Verdict `json:"chosen,omitempty"`
	// Passed are the candidates of higher precedence that did not match, in precedence order,
	// each with the reason.
	Passed []Verdict `json:"passed,omitempty"`
}

// Verdict is one match of one rule of a route, with what it does or why it did not match.
type Verdict struct {
	Kind     v1alpha1.Kind `json:"kind"`  // Route, GRPCRoute, TLSRoute, TCPRoute or UDPRoute
	Route    string        `json:"route"` // namespace/name ("/name" without a namespace)
	Rule     int           `json:"rule"`
	RuleName string        `json:"ruleName,omitempty"`
	Match    int           `json:"match"`
	// Reason says why the match did not hold, for a passed candidate.
	Reason string `json:"reason,omitempty"`
	// Filters are the rule's filters in the order nginx applies them, for the chosen one.
	Filters []string `json:"filters,omitempty"`
	// Backends are the services that share the chosen rule's requests.
	Backends []Backend `json:"backends,omitempty"`
}

// Backend is one backend of a chosen rule with its share of the requests.
type Backend struct {
	Service string   `json:"service"` // the swarm service: "<namespace>_<name>" for a namespaced one
	Port    int32    `json:"port"`
	Weight  int32    `json:"weight"`
	Filters []string `json:"filters,omitempty"`
	// Refused says why the gateway does not send to it, when it does not.
	Refused string `json:"refused,omitempty"`
}

// ExplainIn explains req at a gateway of a set of objects: the named Gateway, or the only one,
// with the set's Routes, GRPCRoutes, stream routes and ReferenceGrants.
func ExplainIn(objs []v1alpha1.Object, gateway string, req Request) (*Explanation, error) {
	var (
		gateways []*v1alpha1.Gateway
		names    []string
	)
	for _, o := range objs {
		if o, ok := o.(*v1alpha1.Gateway); ok {
			names = append(names, o.Metadata.Name)
			if gateway == "" || o.Metadata.Name == gateway {
				gateways = append(gateways, o)
			}
		}
	}
	switch {
	case len(gateways) == 1:
		routes, grpc := RoutesOf(objs)
		return Explain(gateways[0], routes, req, Options{Grants: v1alpha1.GrantsOf(objs), GRPCRoutes: grpc, StreamRoutes: v1alpha1.StreamRoutesOf(objs)})
	case len(names) == 0:
		return nil, fmt.Errorf("there is no Gateway")
	case gateway != "":
		return nil, fmt.Errorf("--gateway %s: no such Gateway; there are: %s", gateway, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("there are several Gateways (%s): name one with --gateway", strings.Join(names, ", "))
}

// Explain follows req through the config Render writes for gw and routes: which server and
// location nginx picks, which candidates it tries in which order, and which serves the request.
// It uses the renderer's own server and precedence code, so the two cannot disagree on what a
// config routes; a request table run through the real nginx checks the rest (how nginx compares
// hosts, paths, methods, headers and query parameters).
// A connection to a stream listener is followed as its stream server takes it: a TCP or UDP
// listener's route, or on a port with TLS listeners the target of the server name (Host), which
// may be the port's HTTPS servers.
// opts are the renderer's: its Grants and Services say which backends answer 500 instead, its
// GRPCRoutes and StreamRoutes are the set's.
func Explain(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, req Request, opts Options) (*Explanation, error) {
	port, err := requestPort(gw, req.Listener)
	if err != nil {
		return nil, err
	}
	opts.defaults()
	r := &renderer{opts: opts, blockVars: map[string]string{}, gw: gw}
	host := normalizeHost(req.Host)
	ex := &Explanation{Gateway: gw.Metadata.Name, Port: port, Server: "_"}
	if l := gw.Listener(req.Listener); l != nil && (l.Protocol == v1alpha1.ProtocolTCP || l.Protocol == v1alpha1.ProtocolUDP) {
		r.explainStream(ex, l)
		return ex, nil
	}
	if host == "" {
		return nil, fmt.Errorf("the request names no host")
	}
	if hasListener(gw, port, v1alpha1.ProtocolTLS) {
		targets, _ := r.tlsTargets(gw, port)
		t := serverNameTarget(targets, host)
		if !t.https {
			r.explainServerName(ex, t, host)
			return ex, nil
		}
	}
	path, query, err := normalizeTarget(req.Target)
	if err != nil {
		return nil, err
	}
	r.acme = acmeSolver(gw)
	servers, fallbacks := r.servers(gw, r.withGRPC(routes))

	s := pickServer(servers, port, host)
	if s == nil {
		// No route names the host: the listener that would own it may redirect it, else the
		// port's default server answers.
		if l := hostListener(gw, port, host); l != nil && l.RedirectToHTTPS != nil {
			ex.Listener = l.Name
			if l.Hostname != nil {
				ex.Server = string(*l.Hostname)
			}
			ex.Answer = "301 redirect to https (listener " + string(l.Name) + " redirects every request)"
			return ex, nil
		}
		s = fallbacks[port]
	}
	if s == nil {
		ex.Listener = defaultListenerName(gw, port)
		switch {
		case path == contract.HealthPath:
			ex.Answer = "200, the gateway's health check"
		case r.acme != "" && strings.HasPrefix(path, contract.ACMEChallengePath):
			ex.Answer = "the operator's answer to an ACME HTTP-01 challenge"
		case redirectsPort(gw, port):
			ex.Answer = "301 redirect to https (the port's listener without hostname redirects)"
		case ex.Listener == "" && portProtocol(gw, port) == v1alpha1.ProtocolHTTPS:
			ex.Answer = "no answer: every listener of this HTTPS port has a hostname, so the TLS handshake is refused"
		default:
			ex.Answer = "404: no route serves this host on this port"
		}
		return ex, nil
	}
	ex.Listener = s.listener.Name
	if !s.fallback {
		ex.Server = string(s.hostname)
	}
	switch {
	case s.fallback && path == contract.HealthPath:
		ex.Answer = "200, the gateway's health check"
		return ex, nil
	case r.acme != "" && s.listener.Protocol == v1alpha1.ProtocolHTTP && strings.HasPrefix(path, contract.ACMEChallengePath):
		ex.Answer = "the operator's answer to an ACME HTTP-01 challenge"
		return ex, nil
	}

	loc, cands := indexPaths(s.candidates).pick(path)
	ex.Location = loc.matcher()
	var chosen *candidate
	for _, c := range cands {
		if mismatch(c, req, path, query) != "" {
			continue
		}
		chosen = c
		v := verdict(c, "")
		v.Filters = filterNames(c.rule.Filters)
		v.Backends = r.backends(c)
		ex.Chosen = &v
		break
	}
	// The server's candidates of other paths that precede the chosen one (all of them when none
	// serves) are passed over for their path: listed, so that a user sees why a rule that looks
	// more specific did not take the request.
	all := slices.Clone(s.candidates)
	slices.SortFunc(all, precedes)
	for _, c := range all {
		if c == chosen {
			break
		}
		if slices.Contains(cands, c) {
			ex.Passed = append(ex.Passed, verdict(c, mismatch(c, req, path, query)))
		} else {
			ex.Passed = append(ex.Passed, verdict(c, "path: "+pathRule(c)+" does not take "+path))
		}
	}
	if ex.Chosen == nil {
		ex.Answer = "404: no rule of the routes serving this host matches"
	}
	return ex, nil
}

// pathIndex finds the candidates that cover a location: the exact ones at its path and the
// prefixes at it or above. server writes a location per path; Explain picks the one nginx would.
type pathIndex struct{ exactAt, prefixAt map[string][]*candidate }

func indexPaths(cands []*candidate) pathIndex {
	ix := pathIndex{exactAt: map[string][]*candidate{}, prefixAt: map[string][]*candidate{}}
	for _, c := range cands {
		if c.exact {
			ix.exactAt[c.path] = append(ix.exactAt[c.path], c)
		} else {
			ix.prefixAt[c.path] = append(ix.prefixAt[c.path], c)
		}
	}
	return ix
}

// at returns the candidates of a location in precedence order.
func (ix pathIndex) at(l location) []*candidate {
	var cands []*candidate
	if l.exact {
		cands = append(cands, ix.exactAt[l.path]...)
	}
	for p := l.path; ; p = parentPath(p) {
		cands = append(cands, ix.prefixAt[p]...)
		if p == "/" {
			break
		}
	}
	slices.SortFunc(cands, precedes)
	return cands
}

// pick returns the location nginx chooses for a normalized path, and its candidates: an exact
// location ("= /a", written for exact matches and for prefixes other than "/"), else the longest
// prefix location ("^~ /a/"), else "/".
func (ix pathIndex) pick(path string) (location, []*candidate) {
	if len(ix.exactAt[path]) > 0 || (path != "/" && len(ix.prefixAt[path]) > 0) {
		l := location{exact: true, path: path}
		return l, ix.at(l)
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] == '/' && len(ix.prefixAt[path[:i]]) > 0 {
			l := location{path: path[:i]}
			return l, ix.at(l)
		}
	}
	l := location{path: "/"}
	return l, ix.at(l)
}

// explainStream says where a TCP or UDP listener's stream server sends a connection.
func (r *renderer) explainStream(ex *Explanation, l *v1alpha1.Listener) {
	ex.Listener, ex.Stream, ex.Server = l.Name, l.Protocol, ""
	rt := r.streamRoute(r.gw, l)
	if rt == nil {
		ex.Answer = "no route: nginx closes every connection"
		return
	}
	ex.Chosen = r.streamVerdict(rt)
}

// explainServerName says where the stream server of a port with TLS listeners sends a server
// name that is not its HTTPS servers'.
func (r *renderer) explainServerName(ex *Explanation, t tlsTarget, name string) {
	ex.Stream, ex.Server = v1alpha1.ProtocolTLS, ""
	if t.listener != nil {
		ex.Listener = t.listener.Name
	}
	if t.route == nil {
		ex.Answer = "no answer: no route of this port takes server name " + name + ", so nginx closes the connection"
		return
	}
	ex.Chosen = r.streamVerdict(t.route)
}

// streamVerdict is a stream route's rule as its stream server takes it: passed on, TLS
// unopened, to its backends by weight (streamBackend).
func (r *renderer) streamVerdict(rt v1alpha1.StreamRoute) *Verdict {
	v := &Verdict{Kind: rt.GetTypeMeta().Kind, Route: rt.GetObjectMeta().Namespace + "/" + rt.GetObjectMeta().Name, Backends: []Backend{}}
	rules := rt.StreamRules()
	if len(rules) == 0 {
		return v
	}
	for _, ref := range rules[0].BackendRefs {
		b := Backend{Service: v1alpha1.StreamBackendServiceName(ref), Weight: *ref.Weight}
		if ref.Port != nil {
			b.Port = int32(*ref.Port)
		}
		switch {
		case !ref.IsService() || ref.Port == nil:
			b.Refused = "not a swarm service: takes no connections"
		case r.opts.missing(b.Service):
			b.Refused = "does not exist: its connections are refused"
		}
		v.Backends = append(v.Backends, b)
	}
	return v
}

// mismatch returns why c does not take the request, or "" when it does. nginx compares the method
// and header values exactly (case-sensitive), header names without case, and query parameters by
// their first occurrence, name without case, value as sent; a GRPCRoute's regular expressions
// against the normalized path and a header's first value.
func mismatch(c *candidate, req Request, path, query string) string {
	m := c.match
	if m.Method != "" && string(m.Method) != req.Method {
		return fmt.Sprintf("method: wants %s", m.Method)
	}
	for _, h := range m.Headers {
		v, ok := firstHeader(req.Headers, string(h.Name))
		switch {
		case !ok:
			return fmt.Sprintf("header %s: absent", h.Name)
		case v != h.Value:
			return fmt.Sprintf("header %s: another value", h.Name)
		}
	}
	for _, q := range m.QueryParams {
		v, ok := firstArg(query, q.Name)
		switch {
		case !ok:
			return fmt.Sprintf("query parameter %s: absent", q.Name)
		case v != q.Value:
			return fmt.Sprintf("query parameter %s: another value", q.Name)
		}
	}
	for _, g := range c.grpcConditions() {
		v, ok := path, true
		if g.header != "" {
			v, ok = firstHeader(req.Headers, string(g.header))
		}
		switch {
		case !ok:
			return fmt.Sprintf("header %s: absent", g.header)
		case regexp.MustCompile(g.regex).MatchString(v): // validated as one nginx and Go read alike
		case g.header != "":
			return fmt.Sprintf("header %s: does not match %s", g.header, g.regex)
		default:
			return "gRPC service and method: " + path + " does not match " + g.regex
		}
	}
	return ""
}

func firstHeader(headers map[string][]string, name string) (string, bool) {
	for k, vs := range headers {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

// firstArg is nginx's $arg_NAME: the value of the first "NAME=" in the query string, the name
// compared without case, the value as sent.
func firstArg(query, name string) (string, bool) {
	for part := range strings.SplitSeq(query, "&") {
		k, v, ok := strings.Cut(part, "=")
		if ok && strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func verdict(c *candidate, reason string) Verdict {
	v := Verdict{Kind: c.route.RouteKind(), Route: routeKey(c.route), Rule: c.ruleIdx, Match: c.matchIdx, Reason: reason}
	if c.rule.Name != nil {
		v.RuleName = string(*c.rule.Name)
	}
	return v
}

func pathRule(c *candidate) string {
	if c.exact {
		return "exactly " + c.path
	}
	return "prefix " + c.path
}

func filterNames(filters []v1alpha1.RouteFilter) []string {
	names := make([]string, 0, len(filters))
	for _, f := range filters {
		names = append(names, string(f.Type))
	}
	return names
}

// backends are the backends of c's rule as the renderer sends to them (upstream): those it cannot
// send to say why, their share answering 500.
func (r *renderer) backends(c *candidate) []Backend {
	out := make([]Backend, 0, len(c.rule.BackendRefs))
	for _, ref := range c.rule.BackendRefs {
		b := Backend{Service: c.route.BackendServiceName(ref), Weight: 1, Filters: filterNames(ref.Filters)}
		if ref.Port != nil {
			b.Port = int32(*ref.Port)
		}
		if ref.Weight != nil {
			b.Weight = *ref.Weight
		}
		switch {
		case invalidBackend(ref):
			b.Refused = "not a swarm service: its share answers 500"
		case !v1alpha1.Permits(r.opts.Grants, c.route, ref):
			b.Refused = "of another namespace, and no ReferenceGrant permits it: its share answers 500"
		case r.opts.missing(b.Service):
			b.Refused = "does not exist: its share answers 500"
		}
		out = append(out, b)
	}
	return out
}

// requestPort is the port of the named listener, or the gateway's only HTTP or HTTPS port.
func requestPort(gw *v1alpha1.Gateway, listener v1alpha1.SectionName) (v1alpha1.PortNumber, error) {
	var ports []v1alpha1.PortNumber
	for _, l := range gw.Spec.Listeners {
		if listener != "" && l.Name == listener {
			return l.Port, nil
		}
		if !l.Protocol.Stream() && !slices.Contains(ports, l.Port) {
			ports = append(ports, l.Port)
		}
	}
	switch {
	case listener != "":
		return 0, fmt.Errorf("gateway %s has no listener named %s", gw.Metadata.Name, listener)
	case len(ports) != 1:
		return 0, fmt.Errorf("gateway %s listens on %d ports: name the listener", gw.Metadata.Name, len(ports))
	}
	return ports[0], nil
}

// pickServer is nginx's choice among the servers of a port by server_name: the exact name, else
// the longest wildcard name ("*.example.com" covers any labels to the left). Default servers
// are not among them.
func pickServer(servers []*server, port v1alpha1.PortNumber, host string) *server {
	var best *server
	for _, s := range servers {
		if s.port != port || s.fallback {
			continue
		}
		name := string(s.hostname)
		if name == host {
			return s
		}
		if suffix, ok := strings.CutPrefix(name, "*"); ok && strings.HasSuffix(host, suffix) && len(host) > len(suffix) &&
			(best == nil || len(name) > len(best.hostname)) {
			best = s
		}
	}
	return best
}

// hostListener is the listener of a port that owns host: the most specific hostname matching it.
func hostListener(gw *v1alpha1.Gateway, port v1alpha1.PortNumber, host string) *v1alpha1.Listener {
	var best *v1alpha1.Listener
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		if l.Port == port && l.Hostname != nil && l.Hostname.Matches(v1alpha1.Hostname(host)) &&
			(best == nil || v1alpha1.Specificity(l.Hostname) > v1alpha1.Specificity(best.Hostname)) {
			best = l
		}
	}
	return best
}

func redirectsPort(gw *v1alpha1.Gateway, port v1alpha1.PortNumber) bool {
	return slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool {
		return l.Port == port && l.Hostname == nil && l.RedirectToHTTPS != nil
	})
}

func portProtocol(gw *v1alpha1.Gateway, port v1alpha1.PortNumber) v1alpha1.ListenerProtocol {
	for _, l := range gw.Spec.Listeners {
		if l.Port == port && !l.Protocol.Stream() {
			return l.Protocol
		}
	}
	return ""
}

func defaultListenerName(gw *v1alpha1.Gateway, port v1alpha1.PortNumber) v1alpha1.SectionName {
	for _, l := range gw.Spec.Listeners {
		if l.Port == port && l.Hostname == nil {
			return l.Name
		}
	}
	return ""
}

// normalizeHost is the host as nginx compares it with server names: lower case, without a port
// or a trailing dot.
func normalizeHost(h string) string {
	h = strings.ToLower(h)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}

// normalizeTarget splits a request target into nginx's $uri (percent-decoded, "//" merged, "."
// and ".." resolved) and the query string as sent ($args).
func normalizeTarget(target string) (path, query string, err error) {
	raw, query, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(raw, "/") {
		return "", "", fmt.Errorf("the path must start with /")
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		return "", "", fmt.Errorf("the path is not valid percent-encoding")
	}
	segs := strings.Split(decoded, "/")
	var out []string
	for _, seg := range segs[1:] {
		switch seg {
		case "", ".":
		case "..":
			if len(out) == 0 {
				return "", "", fmt.Errorf("the path leaves the root: nginx answers 400")
			}
			out = out[:len(out)-1]
		default:
			out = append(out, seg)
		}
	}
	path = "/" + strings.Join(out, "/")
	// A path ending in "/", "/." or "/.." names a directory: nginx keeps the trailing slash.
	if last := segs[len(segs)-1]; (last == "" || last == "." || last == "..") && path != "/" {
		path += "/"
	}
	return path, query, nil
}
