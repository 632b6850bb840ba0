// Package nginx renders the configuration an nginx gateway loads (conf.d/default.conf) from a
// Gateway and the Routes attached to it, following the Gateway API's HTTPRoute semantics. It is
// pure: same input, same bytes, which name the config secret by their hash.
//
// How routing maps onto nginx:
//   - one server block per listener port and hostname, so nginx's server_name selection does the
//     host matching (exact names before wildcards); a default server answers 404 for other hosts;
//   - one location per path matcher (Exact "= /p"; PathPrefix "= /p" and "^~ /p/", which is
//     prefix matching on whole path elements). A location lists every match whose path covers it,
//     in Gateway API precedence order, so that when a longer match's header, method or query
//     conditions fail the request falls back to shorter ones, as the spec requires;
//   - conditions are map blocks that test exact values; a matching candidate is dispatched with
//     "rewrite ... last" to an internal location of its own under /;sg/ (';' never occurs in a
//     validated path, so no route can claim those URIs), and an unconditional one is inlined;
//   - the normalized request path is saved in $sg_path before any dispatch and is what the
//     backend receives (re-encoded by nginx), never the raw $request_uri.
package nginx

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// MaxConfigSize is the most a rendered config may weigh: swarm refuses secrets over 500 KiB.
const MaxConfigSize = 500 * 1024

// AgentConfigBudget is the MaxSize of the next config of a gateway with agents when the configs of
// those before it weigh used bytes of bound (contract.MaxAgentConfigSize): what is left (at least
// 1, as 0 means MaxConfigSize).
func AgentConfigBudget(bound, used int) int {
	return max(bound-used, 1)
}

// Options tune what the renderer cannot know from the manifests.
type Options struct {
	// Resolver is the DNS server nginx resolves backend service names with. Defaults to Docker's
	// embedded DNS server, 127.0.0.11.
	Resolver string
	// ResolverValid is how long nginx caches an answer, so scaled or moved services are found
	// again quickly. Defaults to 10s.
	ResolverValid time.Duration
	// ResolverTimeout bounds a lookup; a backend that cannot be resolved in time answers 503.
	// Defaults to 5s.
	ResolverTimeout time.Duration
	// MaxSize bounds the config; 0 is MaxConfigSize, what a swarm secret holds.
	MaxSize int
	// Backend maps a backend service and port to the host and port nginx connects to. Defaults to
	// the service name itself, resolved through Resolver. Tests map services to stub servers.
	Backend func(service string, port int32) (host string, hostPort int32)
	// CertDir is where the gateway's tasks find the certificates of HTTPS listeners (see
	// CertificateFile). Defaults to contract.CertDir.
	CertDir string
	// ACMEChains are the listeners whose ACME certificate is a chain at ChainFile(ChainDir) with
	// its key at KeyFile; the other HTTPS listeners read their certificateRefs at CertificateFile.
	ACMEChains map[v1alpha1.SectionName]bool
	// ChainDir is where nginx reads ACME chains: contract.ChainDir, where the tasks mount them,
	// or, for a gateway with agents, contract.AgentChainDir, where its agents write the chains
	// they are handed.
	ChainDir string
	// Grants are the ReferenceGrants: a backendRef or mirror to a service of another namespace
	// that none permits answers 500 for its share (is not mirrored).
	Grants []*v1alpha1.ReferenceGrant
	// Services, when set, are the swarm services that exist or are about to (declared by a Route):
	// a backendRef to another one answers 500 for its share, as the Gateway API says, and a
	// mirror to one is not sent. Unset, a missing service answers 503 at request time (nginx
	// cannot resolve its name): the config then does not depend on which services exist.
	Services map[string]bool
	// Tasks, when set, are the addresses of each backend service's running tasks on the gateway's
	// networks, by service name: backends are then pooled upstream blocks of those addresses, with
	// idle connections kept for reuse, instead of names nginx resolves per request. A config
	// naming tasks is stale once they move, so only gateways with agents, which take a new config
	// without a task replaced, get one. A service without a running task answers 503.
	Tasks map[string][]netip.Addr
	// Policies are the set's policies: those targeting this gateway, its listeners or its Routes
	// apply.
	Policies Policies
	// Replicas is how many tasks share the gateway's traffic: the policies' limits, which hold for
	// the whole gateway, are divided among them. 0 is 1.
	Replicas int
	// GRPCRoutes are the set's GRPCRoutes, whose AsRoute forms are among the routes rendered:
	// they hold what those cannot say (regular expressions, a method of any service). A form
	// without its GRPCRoute here is not served.
	GRPCRoutes []*v1alpha1.GRPCRoute
	// AccessLog is where nginx writes the access log's JSON lines. Defaults to
	// DefaultAccessLog; tests read a file.
	AccessLog string
	// StreamRoutes are the set's TCPRoutes, UDPRoutes and TLSRoutes (v1alpha1.StreamRoutesOf):
	// those attached to the gateway's stream listeners serve there.
	StreamRoutes []v1alpha1.StreamRoute
	// SocketDir is where nginx makes the unix sockets its stream and HTTPS servers meet on.
	// Defaults to contract.GatewaySocketDir.
	SocketDir string
	// TrafficLog, when set, is the unix socket (contract.TrafficSocket) where the gateway's agent
	// counts requests for its metrics: nginx sends it every request's JSON line as syslog,
	// whichever the access log's filters keep.
	TrafficLog string
}

// missing tells whether the service ref names is known not to exist.
func (o *Options) missing(name string) bool {
	return o.Services != nil && !o.Services[name]
}

// CertificateFile is where the i-th certificate of a listener is mounted under dir: one file
// holding the chain and the key, which nginx reads for both. The path names the listener, not the
// secret, so a new certificate (a renewal, another secret) changes the mount and not the config:
// a task's config never names a file that task lacks.
func CertificateFile(dir string, listener v1alpha1.SectionName, i int) string {
	return dir + "/" + string(listener) + "-" + strconv.Itoa(i) + ".pem"
}

// ChainFile is the chain of a listener's ACME certificate under dir; KeyFile is where its key is
// mounted. The names are the listener's, so a renewal changes neither the config nor, when the
// key is kept, the key's mount.
func ChainFile(dir string, listener v1alpha1.SectionName) string {
	return dir + "/" + contract.ChainFileName(listener)
}

// KeyFile is where the key of a listener's ACME certificate is mounted.
func KeyFile(listener v1alpha1.SectionName) string {
	return contract.CertDir + "/" + contract.KeyFileName(listener)
}

func (o *Options) defaults() {
	if o.MaxSize == 0 {
		o.MaxSize = MaxConfigSize
	}
	if o.Resolver == "" {
		o.Resolver = "127.0.0.11"
	}
	if o.ResolverValid == 0 {
		o.ResolverValid = 10 * time.Second
	}
	if o.ResolverTimeout == 0 {
		o.ResolverTimeout = 5 * time.Second
	}
	if o.Backend == nil {
		o.Backend = func(service string, port int32) (string, int32) { return service, port }
	}
	if o.CertDir == "" {
		o.CertDir = contract.CertDir
	}
	if o.ChainDir == "" {
		o.ChainDir = contract.ChainDir
	}
	if o.AccessLog == "" {
		o.AccessLog = DefaultAccessLog
	}
	if o.SocketDir == "" {
		o.SocketDir = contract.GatewaySocketDir
	}
}

// dispatchPrefix starts the URIs of internal candidate locations. Validation refuses ';' in every
// path a manifest can hold.
const dispatchPrefix = "/;sg/"

// Render returns the nginx configuration of gw, serving the routes among routes that attach to it.
// The objects must be defaulted and valid.
// It fails with a *ValueError when a Route holds a value nginx cannot take, and with a *SizeError
// when the config would not fit a swarm secret: rendering stops as soon as it is over, so that no
// input costs more than a config of that size.
func Render(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, opts Options) ([]byte, error) {
	opts.defaults()
	r := &renderer{opts: opts, blockVars: map[string]string{}, pools: map[string]string{}}
	out := r.render(gw, r.withGRPC(routes))
	switch {
	case r.err != nil:
		return nil, r.err
	case r.overSize || len(out) > opts.MaxSize:
		return nil, &SizeError{Gateway: gw, Limit: opts.MaxSize}
	case longestQuoted(out) > MaxTokenLength:
		return nil, &TokenError{Gateway: gw}
	}
	return out, nil
}

// MinSize is the least gw's config can weigh with routes: its candidates (a match of a rule on
// one host and port) counted, not made, at the least each adds. Counting stops once over
// opts.MaxSize, so it costs no more than Render's own count; a MinSize over MaxSize is a Render
// that fails with a *SizeError.
func MinSize(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, opts Options) int {
	opts.defaults()
	r := &renderer{opts: opts, counting: true}
	r.servers(gw, r.withGRPC(routes))
	return r.nextID * minCandidateBytes
}

// MaxTokenLength bounds one token (a quoted string) of the config: nginx reads its config in 4 KiB
// buffers, and a token must fit one.
const MaxTokenLength = 4000

// ValueError is a value of a Route that nginx cannot take in its config.
type ValueError struct {
	Route *v1alpha1.Route
	// Field is the path of the route's field, e.g. "spec.rules[2]".
	Field  string
	Detail string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s %s: %s: %s", e.Route.RouteKind(), e.Route.Metadata.Name, e.Field, e.Detail)
}

// SizeError is a gateway whose config is over the limit: a swarm secret's size, or the agents'.
type SizeError struct {
	Gateway *v1alpha1.Gateway
	Limit   int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("gateway %s: the rendered nginx config is over the %d bytes a swarm secret may hold; split the routes across gateways",
		e.Gateway.Metadata.Name, e.Limit)
}

// checkTokens records a ValueError for c when the texts rendered for it (its directives, and the
// http-level blocks they added) hold a quoted token longer than nginx takes.
func (r *renderer) checkTokens(c *candidate, texts ...string) {
	for _, text := range texts {
		if r.err == nil && longestQuoted(text) > MaxTokenLength {
			r.err = &ValueError{Route: c.route, Field: fmt.Sprintf("spec.rules[%d]", c.ruleIdx), Detail: tokenTooLong}
		}
	}
}

var tokenTooLong = fmt.Sprintf("a value, once escaped for nginx, is longer than the %d bytes nginx takes in one token (a literal \"$\" takes 12)", MaxTokenLength)

// TokenError is a config holding a token longer than nginx takes that no Route's rule wrote: a
// value of the Gateway's (validation bounds them; this keeps nginx from ever seeing one).
type TokenError struct {
	Gateway *v1alpha1.Gateway
}

func (e *TokenError) Error() string {
	return "gateway " + e.Gateway.Metadata.Name + ": " + tokenTooLong
}

// candidate is one match of one rule of one route, on one server.
type candidate struct {
	id int // unique in the config; orders the internal locations
	// name names its internal location (dispatchPrefix+name), from the route's and rule's
	// identity, not a counter: a change to one route renames nothing of another's.
	name     string
	route    *v1alpha1.Route
	rule     *v1alpha1.RouteRule
	ruleIdx  int
	matchIdx int
	match    *v1alpha1.RouteMatch
	exact    bool
	path     string // decoded; a prefix has no trailing '/' unless it is "/"
	port     v1alpha1.PortNumber
	listener v1alpha1.SectionName
	// host ranks the route's hostname that brought it to this server: the characters of a
	// matching non-wildcard hostname, then of a matching hostname (the Gateway API's precedence
	// between routes whose hostnames overlap).
	host [2]int

	// grpc is the GRPCRoute's match the candidate stands for: what its path and exact headers do
	// not say (regular expressions, a method of any service) is tested as a condition.
	grpc *v1alpha1.GRPCRouteMatch

	// Rendered once, written wherever the candidate applies.
	cond   string // the variable that holds when its conditions do
	action string // its directives
}

// conditional reports whether the candidate tests more than the path.
func (c *candidate) conditional() bool {
	return c.match.Method != "" || len(c.match.Headers) > 0 || len(c.match.QueryParams) > 0 || len(c.grpcConditions()) > 0
}

// grpcCondition is a regular expression a GRPCRoute's match tests: on the path ($uri) when
// header is empty, else on the header.
type grpcCondition struct {
	header v1alpha1.HeaderName
	regex  string
}

// variable is the nginx variable the condition tests.
func (g grpcCondition) variable() string {
	if g.header == "" {
		return "uri"
	}
	return headerVar(string(g.header))
}

// grpcConditions are the regular expressions a GRPCRoute's match tests beyond its path and
// exact headers.
func (c *candidate) grpcConditions() []grpcCondition {
	if c.grpc == nil {
		return nil
	}
	var out []grpcCondition
	if re := c.grpc.Method.PathRegex(); re != "" {
		out = append(out, grpcCondition{regex: re})
	}
	for _, h := range c.grpc.Headers {
		if h.Type == v1alpha1.GRPCHeaderMatchRegularExpression {
			out = append(out, grpcCondition{header: h.Name, regex: "^(?:" + h.Value + `)\z`})
		}
	}
	return out
}

// parentPath is the path one element up: "/a/b" -> "/a" -> "/".
func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

// precedes orders candidates by the Gateway API's precedence: the route with the more specific
// hostname, then exact path, longer prefix, method, more headers, more query parameters, then
// route by namespace/name, rule and match order.
func precedes(a, b *candidate) int {
	if n := cmp.Compare(b.host[0], a.host[0]); n != 0 {
		return n
	}
	if n := cmp.Compare(b.host[1], a.host[1]); n != 0 {
		return n
	}
	if a.exact != b.exact {
		if a.exact {
			return -1
		}
		return 1
	}
	if n := cmp.Compare(len(b.path), len(a.path)); n != 0 {
		return n
	}
	if am, bm := a.match.Method != "", b.match.Method != ""; am != bm {
		if am {
			return -1
		}
		return 1
	}
	if n := cmp.Compare(len(b.match.Headers), len(a.match.Headers)); n != 0 {
		return n
	}
	if n := cmp.Compare(len(b.match.QueryParams), len(a.match.QueryParams)); n != 0 {
		return n
	}
	if n := cmp.Compare(routeKey(a.route), routeKey(b.route)); n != 0 {
		return n
	}
	if n := cmp.Compare(a.ruleIdx, b.ruleIdx); n != 0 {
		return n
	}
	return cmp.Compare(a.matchIdx, b.matchIdx)
}

func routeKey(r *v1alpha1.Route) string { return r.Metadata.Namespace + "/" + r.Metadata.Name }

// location is a path matcher of a server: "= path" when exact, else "^~ path/" ("/" for the root).
type location struct {
	exact bool
	path  string
}

func (l location) matcher() string {
	switch {
	case l.exact:
		return "= " + quote(l.path)
	case l.path == "/":
		return "/"
	}
	return "^~ " + quote(l.path+"/")
}

type server struct {
	port       v1alpha1.PortNumber
	hostname   v1alpha1.Hostname
	listener   *v1alpha1.Listener // whose certificate an HTTPS server presents
	candidates []*candidate
	// fallback marks the default server of a port: requests for hosts no server names, which
	// Routes without hostnames serve; it also answers the gateway's health check.
	fallback bool
	// shared marks a host that forwards every request to one backend: its listener's shared
	// server serves it (sharedServer).
	shared bool
}

type renderer struct {
	opts Options
	b    bytes.Buffer
	// blockVars finds the variable of an http-level block (map, split_clients) by the block's
	// text, so identical blocks are written once; blocks keeps their text in the order first needed.
	blockVars map[string]string
	blocks    []string
	nextID    int
	// pools finds a pooled upstream's name by its body; upstreams keeps them in the order first
	// needed.
	pools     map[string]string
	upstreams []string
	// grpc are the GRPCRoutes served, by the Route each is served as; h2c are the HTTP ports
	// they are served on, which take HTTP/2 without TLS.
	grpc map[*v1alpha1.Route]*v1alpha1.GRPCRoute
	h2c  map[v1alpha1.PortNumber]bool
	// logs tells whether the gateway logs requests; logIf, when set, is the variable that
	// selects those it logs.
	logs  bool
	logIf string
	// err is the first value nginx cannot take.
	err error
	// overSize says the config would be over MaxSize: found before writing it, by counting candidates.
	overSize bool
	// counting makes candidates count a route's matches instead of making them: render counts
	// first, as a candidate weighs far more in memory than the bytes it adds to the config.
	counting bool
	// acme is where the gateway's HTTP servers send ACME's HTTP-01 challenges (the operator), or
	// "" when no listener takes its certificate from ACME.
	acme string

	// The gateway and routes rendered, for its policies.
	gw     *v1alpha1.Gateway
	routes []*v1alpha1.Route
	// copied are the headers forward authentication copies to backends (backendHeaders).
	copied []header
	// serverAuth are the SecurityPolicies whose forward authentication the server being
	// written asks, by index in Options.Policies.Security.
	serverAuth map[int]*v1alpha1.SecurityPolicy
	// gatewayBody is how the gateway takes request bodies, written once in the http block;
	// locations write only what their Route changes.
	gatewayBody bodyPolicy
	// streamVars and streamBlocks are blockVars and blocks of the stream part.
	streamVars   map[string]string
	streamBlocks []string
	// streamKeys and streamKeyLen are the most server names of a port's map and the longest,
	// which size the stream block's map hashes.
	streamKeys, streamKeyLen int
}

func (r *renderer) render(gw *v1alpha1.Gateway, routes []*v1alpha1.Route) []byte {
	r.acme = acmeSolver(gw)
	r.gw, r.routes = gw, routes
	r.gatewayBody = gatewayBody(gw)
	if r.logs = gw.Spec.AccessLog.Logs(); r.logs {
		r.logIf = r.accessLogFilter(gw.Spec.AccessLog)
	}
	// Counted before any is made: a gateway over its size costs the count, not candidates that
	// weigh in memory many times the size limit.
	r.counting = true
	r.servers(gw, routes)
	r.counting, r.nextID = false, 0
	if r.overSize {
		return nil
	}
	servers, fallbacks := r.servers(gw, routes)
	for _, s := range append(slices.Collect(maps.Values(fallbacks)), servers...) {
		if s.listener.Protocol == v1alpha1.ProtocolHTTP && slices.ContainsFunc(s.candidates, func(c *candidate) bool { return c.route.IsGRPC() }) {
			r.h2c[s.port] = true
		}
	}

	b := &r.b
	b.Grow(1024 * (len(servers) + 1))
	fmt.Fprintf(b, "# Generated by swarmgate for Gateway %s. Do not edit: swarmgate replaces it.\n\n", gw.Metadata.QualifiedName())
	if !slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool { return !l.Protocol.Stream() }) {
		// No HTTP server: the http block's definitions would name variables no server sets.
		b.WriteString("# No HTTP or HTTPS listener.\n")
		r.stream(b, gw)
		return b.Bytes()
	}
	fmt.Fprintf(b, "resolver %s valid=%ds ipv6=off;\nresolver_timeout %ds;\n", r.opts.Resolver, int(r.opts.ResolverValid.Seconds()), int(r.opts.ResolverTimeout.Seconds()))
	b.WriteString("proxy_http_version 1.1;\nproxy_connect_timeout " + r.connectTimeout() + ";\n")
	b.WriteString("# Request bodies (uploads): the gateway's limit, and whether they stream to the backends.\n")
	writeBody(b, r.gatewayBody, "")
	writeIdleTimeouts(b, gw)
	b.WriteString("# Every backend gets these, unless a route's filter changes request headers.\n")
	for _, h := range r.backendHeaders(variable("http_host")) {
		b.WriteString("proxy_set_header " + quote(h.name) + " " + quote(h.value) + ";\n")
	}
	shared := r.shared(servers)
	mapHashSize(b, servers, shared)
	fmt.Fprintf(b, "\n# A literal \"$\" in values that expand variables.\ngeo $%s {\n    default \"$\";\n}\n\n", dollarVar)
	accessLogDefinitions(b, gw)
	b.WriteString("# Upgrade (websocket) requests keep their Connection header; others send none, so a pooled\n# backend connection stays open for the next request.\nmap $http_upgrade $sg_connection {\n    default upgrade;\n    \"\" \"\";\n}\n")

	if slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool { return l.Protocol == v1alpha1.ProtocolHTTPS }) {
		b.WriteString(tlsDefaults)
	}
	r.defaultServers(b, gw, fallbacks)
	for _, s := range servers {
		if b.Len() > r.opts.MaxSize || r.err != nil {
			return b.Bytes() // Render reports it; rendering more would only cost
		}
		if !s.shared {
			r.server(b, s)
		}
	}
	for i := range gw.Spec.Listeners {
		if l := &gw.Spec.Listeners[i]; len(shared[l]) > 0 {
			r.sharedServer(b, l, shared[l])
		}
	}
	// nginx binds variables once the whole config is read, so the blocks defining the servers'
	// condition and split variables can follow them.
	if len(r.blocks) > 0 {
		b.WriteString("\n# Conditions, weighted splits and host maps used by the servers above.\n")
	}
	for _, block := range r.blocks {
		b.WriteString("\n")
		b.WriteString(block)
	}
	if len(r.upstreams) > 0 {
		b.WriteString("\n# Backend pools: the running tasks of each backend service.\n")
	}
	for _, u := range r.upstreams {
		b.WriteString("\n")
		b.WriteString(u)
	}
	r.hashSizes(b, servers)
	r.stream(b, gw)
	return b.Bytes()
}

// servers lists the servers of gw's ports with the candidates of the routes that serve each, and
// the default server of each port that routes without hostnames serve; render writes them,
// Explain follows a request through them.
func (r *renderer) servers(gw *v1alpha1.Gateway, routes []*v1alpha1.Route) ([]*server, map[v1alpha1.PortNumber]*server) {
	// Only the routes that name gw are sorted: a gateway among many costs what its own routes do.
	var attached []*v1alpha1.Route
	for _, rt := range routes {
		if slices.ContainsFunc(rt.Spec.ParentRefs, func(p v1alpha1.ParentRef) bool { return p.Refers(gw) }) {
			attached = append(attached, rt)
		}
	}
	slices.SortFunc(attached, func(a, b *v1alpha1.Route) int { return cmp.Compare(routeKey(a), routeKey(b)) })

	// A host on a port belongs to the listener whose hostname matches it most exactly (the
	// Gateway API's rule); only the routes attached to that listener serve it there.
	owner := func(port v1alpha1.PortNumber, host v1alpha1.Hostname) *v1alpha1.Listener {
		var best *v1alpha1.Listener
		for i := range gw.Spec.Listeners {
			l := &gw.Spec.Listeners[i]
			if l.Port == port && (l.Hostname == nil || l.Hostname.Matches(host)) &&
				(best == nil || v1alpha1.Specificity(l.Hostname) > v1alpha1.Specificity(best.Hostname)) {
				best = l
			}
		}
		return best
	}
	var servers []*server
	fallbacks := map[v1alpha1.PortNumber]*server{}
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		if l.RedirectToHTTPS != nil {
			continue // it answers every request with the redirect
		}
		byHost := map[v1alpha1.Hostname]*server{}
		var anyHost []*v1alpha1.Route // routes without hostnames: every host that reaches l
		for _, rt := range attached {
			if r.tooManyCandidates() {
				return nil, nil // writing them would only cost
			}
			if !rt.AttachesTo(gw, l) {
				continue
			}
			hostnames := rt.Spec.Hostnames
			if len(hostnames) == 0 {
				if l.Hostname == nil {
					anyHost = append(anyHost, rt)
					continue
				}
				hostnames = []v1alpha1.Hostname{*l.Hostname} // the listener's, by intersection
			}
			for _, rh := range hostnames {
				h, ok := v1alpha1.IntersectHostname(l.Hostname, rh)
				if !ok || owner(l.Port, h) != l {
					continue
				}
				s := byHost[h]
				if s == nil {
					s = &server{port: l.Port, hostname: h, listener: l}
					byHost[h] = s
				}
				s.candidates = append(s.candidates, r.candidates(rt, l, rh)...)
			}
		}
		hosts := make([]v1alpha1.Hostname, 0, len(byHost))
		for h := range byHost {
			hosts = append(hosts, h)
		}
		slices.Sort(hosts)
		for _, h := range hosts {
			servers = append(servers, byHost[h])
		}
		// A route without hostnames serves every host of the listener, after the routes that
		// name the host (its hostname has no characters to match): in each server of the
		// listener, and in the port's default server for the hosts no server names.
		if len(anyHost) > 0 {
			fb := &server{port: l.Port, hostname: "_", listener: l, fallback: true}
			fallbacks[l.Port] = fb
			for _, s := range append([]*server{fb}, servers...) {
				if s.listener != l {
					continue
				}
				for _, rt := range anyHost {
					if r.tooManyCandidates() {
						return nil, nil
					}
					s.candidates = append(s.candidates, r.candidates(rt, l, "")...)
				}
			}
		}
	}
	return servers, fallbacks
}

// minCandidateBytes is the least a candidate (a match of a rule on one host and port) adds to a
// config, unless an identical one shadows it: its location, or its condition, and its action. A
// gateway with more than MaxSize/minCandidateBytes candidates is over MaxSize, which the renderer
// knows before it spends anything on writing them: however many listeners and hostnames multiply
// a Route's matches, rendering costs what the size limit allows.
const minCandidateBytes = 16

// tooManyCandidates records, and reports, that the candidates so far are more than MaxSize could
// hold. Without a MaxSize (Explain writes nothing) there is no bound.
func (r *renderer) tooManyCandidates() bool {
	if r.opts.MaxSize > 0 && r.nextID > r.opts.MaxSize/minCandidateBytes {
		r.overSize = true
	}
	return r.overSize
}

// candidates lists the matches of a route on listener l, one candidate each; host is the route's
// hostname that brought it to the server.
func (r *renderer) candidates(rt *v1alpha1.Route, l *v1alpha1.Listener, host v1alpha1.Hostname) []*candidate {
	rank := [2]int{0, len(host)}
	if !strings.HasPrefix(string(host), "*") {
		rank[0] = len(host)
	}
	if r.counting {
		for i := range rt.Spec.Rules {
			r.nextID += len(rt.Spec.Rules[i].Matches)
		}
		return nil
	}
	var out []*candidate
	for i := range rt.Spec.Rules {
		rule := &rt.Spec.Rules[i]
		for j := range rule.Matches {
			m := &rule.Matches[j]
			r.nextID++
			c := &candidate{id: r.nextID, route: rt, rule: rule, ruleIdx: i, matchIdx: j, match: m, port: l.Port, listener: l.Name, host: rank,
				exact: m.Path.Type == v1alpha1.PathMatchExact, path: v1alpha1.DecodedPath(m.Path.Value)}
			if g := r.grpc[rt]; g != nil {
				c.grpc = &g.Spec.Rules[i].Matches[j]
			}
			if !c.exact && c.path != "/" {
				c.path = strings.TrimRight(c.path, "/")
				if c.path == "" {
					c.path = "/"
				}
			}
			out = append(out, c)
		}
	}
	return out
}

func (r *renderer) server(b *bytes.Buffer, s *server) {
	r.serverAuth = map[int]*v1alpha1.SecurityPolicy{}
	var locs []location
	seen := map[location]bool{}
	add := func(l location) {
		if !seen[l] {
			seen[l] = true
			locs = append(locs, l)
		}
	}
	names := map[string]int{}
	for _, c := range s.candidates {
		c.name = internalName(c, names)
		if c.exact || c.path != "/" {
			add(location{exact: true, path: c.path})
		}
		if !c.exact {
			add(location{path: c.path})
		}
	}
	add(location{path: "/"}) // requests no path claims end here, with 404
	slices.SortFunc(locs, func(a, b location) int {
		if n := cmp.Compare(a.path, b.path); n != 0 {
			return n
		}
		if a.exact != b.exact {
			if a.exact {
				return -1
			}
			return 1
		}
		return 0
	})

	if s.fallback {
		b.WriteString("\n# Port " + strconv.Itoa(int(s.port)) + ": hosts no server names, served by the routes without hostnames, and the health check of the gateway.\nserver {\n    listen " +
			r.listen(s.listener, true) + ";\n    server_name _;\n")
		r.certificates(b, s.listener)
		b.WriteString(healthLocation)
	} else {
		b.WriteString("\nserver {\n    listen " + r.listen(s.listener, false) + ";\n    server_name " + quote(string(s.hostname)) + ";\n")
		r.certificates(b, s.listener)
	}
	r.clientPolicy(b, s.listener)
	r.serverAccessLog(b, s.listener)
	r.acmeLocation(b, s.listener)
	b.WriteString("    # The normalized path, saved before any internal dispatch changes $uri.\n    set $sg_path $uri;\n")
	b.WriteString("    # An unresolvable or unreachable backend answers 503.\n    error_page 502 504 = @sg_unavailable;\n")

	// The candidates that cover a location are looked up, not searched, so a host with many paths
	// costs what it writes.
	paths := indexPaths(s.candidates)
	dispatched := map[int]*candidate{}
	for _, l := range locs {
		if b.Len() > r.opts.MaxSize || r.err != nil {
			return
		}
		b.WriteString("\n    location " + l.matcher() + " {\n")
		r.dispatch(b, paths.at(l), dispatched)
		b.WriteString("    }\n")
	}
	ids := make([]int, 0, len(dispatched))
	for id := range dispatched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := dispatched[id]
		rule := strconv.Itoa(c.ruleIdx)
		if c.rule.Name != nil { // a DNS-1123 label: nothing a comment could be ended by
			rule += " (" + string(*c.rule.Name) + ")"
		}
		fmt.Fprintf(b, "\n    # %s %s rule %s match %d.\n    location = %s {\n        internal;\n", c.route.RouteKind(), routeKey(c.route), rule, c.matchIdx, quote(dispatchPrefix+c.name))
		r.writeBodyOverride(b, r.body(c), "        ")
		b.WriteString(r.actionText(c))
		b.WriteString("    }\n")
	}
	for _, c := range s.candidates {
		r.mirrorLocations(b, c)
	}
	r.authLocations(b)
	if slices.ContainsFunc(s.candidates, func(c *candidate) bool { return c.route.IsGRPC() }) {
		b.WriteString(grpcUnavailableLocation)
	}
	b.WriteString("\n    location @sg_unavailable {\n        return 503;\n    }\n}\n")
}

// grpcUnavailable answers a gRPC call that no backend takes with gRPC's UNAVAILABLE (14): a
// "trailers-only" answer, the status in its headers, as the Gateway API expects. A call no route
// matches gets the 404 of any request, which gRPC clients read as UNIMPLEMENTED.
const (
	grpcUnavailable         = "@sg_grpc_unavailable"
	grpcUnavailableLocation = "\n    location " + grpcUnavailable + " {\n        default_type application/grpc;\n" +
		"        add_header grpc-status 14 always;\n        add_header grpc-message unavailable always;\n        return 200 \"\";\n    }\n"
)

// withGRPC finds the GRPCRoute of each route that is one's AsRoute form, and returns the routes
// without the forms whose GRPCRoute is not in Options.GRPCRoutes.
func (r *renderer) withGRPC(routes []*v1alpha1.Route) []*v1alpha1.Route {
	if !slices.ContainsFunc(routes, (*v1alpha1.Route).IsGRPC) {
		return routes
	}
	r.grpc, r.h2c = map[*v1alpha1.Route]*v1alpha1.GRPCRoute{}, map[v1alpha1.PortNumber]bool{}
	byKey := make(map[string]*v1alpha1.GRPCRoute, len(r.opts.GRPCRoutes))
	for _, g := range r.opts.GRPCRoutes {
		byKey[g.Metadata.Namespace+"/"+g.Metadata.Name] = g
	}
	out := make([]*v1alpha1.Route, 0, len(routes))
	for _, rt := range routes {
		if rt.IsGRPC() {
			g := byKey[routeKey(rt)]
			if g == nil || len(g.Spec.Rules) != len(rt.Spec.Rules) {
				continue
			}
			r.grpc[rt] = g
		}
		out = append(out, rt)
	}
	return out
}

// internalName names a candidate's internal location in its server: "ns.route/rule/match", the
// rule by its name when it has one (DNS-1123 labels: no character a URI or nginx would read). The
// same match brought by two of the route's hostnames gets "~2".
func internalName(c *candidate, taken map[string]int) string {
	name := c.route.Metadata.Name
	if c.route.Metadata.Namespace != "" {
		name = c.route.Metadata.Namespace + "." + name
	}
	rule := strconv.Itoa(c.ruleIdx)
	if c.rule.Name != nil {
		rule = string(*c.rule.Name)
	}
	name += "/" + rule + "/" + strconv.Itoa(c.matchIdx)
	taken[name]++
	if n := taken[name]; n > 1 {
		name += "~" + strconv.Itoa(n)
	}
	return name
}

// dispatch writes a location's body: conditional candidates in precedence order, each sending a
// matching request to its internal location, then the first unconditional candidate inline, or 404.
// The location takes the largest body any of them does (nginx checks a request's length before
// any rewrite); an unconditional candidate that takes less goes to its internal location too,
// which checks its own.
func (r *renderer) dispatch(b *bytes.Buffer, cands []*candidate, dispatched map[int]*candidate) {
	if i := slices.IndexFunc(cands, func(c *candidate) bool { return !c.conditional() }); i >= 0 {
		cands = cands[:i+1]
	}
	policy := r.gatewayBody
	var inline *candidate
	if len(cands) > 0 {
		policy.maxSize = r.loosest(cands)
		if last := cands[len(cands)-1]; !last.conditional() && r.body(last).maxSize == policy.maxSize {
			inline = last
			policy.stream = r.body(last).stream
		}
	}
	r.writeBodyOverride(b, policy, "        ")
	for _, c := range cands {
		if c == inline {
			b.WriteString(r.actionText(c))
			return
		}
		dispatched[c.id] = c
		if !c.conditional() {
			b.WriteString("        rewrite ^ " + quote(dispatchPrefix+c.name) + " last;\n")
			return
		}
		if c.cond == "" {
			before := len(r.blocks)
			c.cond = r.condition(c)
			r.checkTokens(c, r.blocks[before:]...)
		}
		b.WriteString("        if ($")
		b.WriteString(c.cond)
		b.WriteString(") {\n            rewrite ^ " + quote(dispatchPrefix+c.name) + " last;\n        }\n")
	}
	b.WriteString("        return 404;\n")
}

// actionText renders c's action once; a candidate often applies in several locations.
func (r *renderer) actionText(c *candidate) string {
	if c.action == "" {
		var b bytes.Buffer
		before := len(r.blocks)
		r.policies(&b, c, "        ")
		r.action(&b, c, "        ")
		c.action = b.String()
		r.checkTokens(c, append([]string{c.action}, r.blocks[before:]...)...)
	}
	return c.action
}

// condition returns the variable that is "1" when every condition of c's match holds.
func (r *renderer) condition(c *candidate) string {
	var atoms []string
	m := c.match
	if m.Method != "" {
		atoms = append(atoms, r.exactMap("request_method", string(m.Method)))
	}
	for _, h := range m.Headers {
		atoms = append(atoms, r.exactMap(headerVar(string(h.Name)), h.Value))
	}
	for _, q := range m.QueryParams {
		atoms = append(atoms, r.exactMap("arg_"+q.Name, q.Value))
	}
	for _, g := range c.grpcConditions() {
		atoms = append(atoms, r.addBlock("map $"+g.variable(), "    "+quote("~"+g.regex)+" 1;\n    default \"\";\n"))
	}
	if len(atoms) == 1 {
		return atoms[0]
	}
	var src, want strings.Builder
	for _, a := range atoms {
		src.WriteString(variable(a))
		want.WriteString("1")
	}
	return r.addBlock("map "+quote(src.String()), "    "+quote(want.String())+" 1;\n    default \"\";\n")
}

// exactMap returns a variable that is "1" when nginx variable v equals value exactly. A regex, not a
// string key: map compares string keys case-insensitively.
func (r *renderer) exactMap(v, value string) string {
	return r.addBlock("map $"+v, "    "+quote("~^"+regexLiteral(value)+`\z`)+" 1;\n    default \"\";\n")
}

// addBlock adds the http-level block "<open> $<variable> {<body>}", reusing an identical block
// when there is one, and returns the variable's name. No text passes through a format string.
func (r *renderer) addBlock(open, body string) string {
	key := open + "\x00" + body
	if name, ok := r.blockVars[key]; ok {
		return name
	}
	name := "sg_v" + strconv.Itoa(len(r.blocks)+1)
	r.blockVars[key] = name
	r.blocks = append(r.blocks, open+" $"+name+" {\n"+body+"}\n")
	return name
}

// longestQuoted returns the length of the longest double-quoted token in text, as quote writes
// them (a backslash escapes the next byte).
func longestQuoted[T string | []byte](text T) int {
	longest := 0
	for i := 0; i < len(text); i++ {
		if text[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(text) && text[j] != '"' {
			if text[j] == '\\' {
				j++
			}
			j++
		}
		longest = max(longest, j-i+1)
		i = j
	}
	return longest
}

// hashSizes writes the sizes of nginx's hashes of names where its defaults (64-byte buckets, 512
// or 1024 entries) fall short for this config: a long hostname, header or variable name, or many
// hosts or conditions would otherwise make nginx refuse the whole config. nginx builds these
// hashes once the http block is read, so the directives may come last.
func (r *renderer) hashSizes(b *bytes.Buffer, servers []*server) {
	const builtinVariables = 128 // nginx's own variables, and those of its modules
	var hostLen, headerLen, varLen, headers int
	hosts, vars := 1, len(r.blocks)+builtinVariables
	for _, s := range servers {
		hosts++
		hostLen = max(hostLen, len(s.hostname))
		for _, c := range s.candidates {
			for _, h := range c.match.Headers {
				varLen = max(varLen, len(headerVar(string(h.Name))))
			}
			for _, q := range c.match.QueryParams {
				varLen = max(varLen, len("arg_"+q.Name))
			}
			for _, g := range c.grpcConditions() {
				varLen = max(varLen, len(g.variable()))
			}
			names := modifiedHeaders(c.rule)
			headers = max(headers, len(names))
			for _, name := range names {
				headerLen = max(headerLen, len(name))
			}
		}
	}
	var lines []string
	if hashEntry(hostLen)+8 > 64 || hosts > 128 {
		lines = append(lines, fmt.Sprintf("server_names_hash_bucket_size %d;", hashBucket(hostLen)),
			fmt.Sprintf("server_names_hash_max_size %d;", max(512, nextPow2(8*hosts))))
	}
	headers += len(forwardingHeaders(""))
	if hashEntry(headerLen)+8 > 64 || headers > 64 {
		lines = append(lines, fmt.Sprintf("proxy_headers_hash_bucket_size %d;", hashBucket(headerLen)),
			fmt.Sprintf("proxy_headers_hash_max_size %d;", max(1024, nextPow2(8*headers))))
	}
	if hashEntry(varLen)+8 > 64 || vars > 256 {
		lines = append(lines, fmt.Sprintf("variables_hash_bucket_size %d;", hashBucket(varLen)),
			fmt.Sprintf("variables_hash_max_size %d;", max(1024, nextPow2(8*vars))))
	}
	if len(lines) > 0 {
		b.WriteString("\n# Hash sizes for the names above, larger than nginx's defaults.\n")
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
}

// mapHashSize writes the sizes of the maps' hashes where nginx's defaults fall short: a bucket
// of a cache line (32 bytes on some machines) may not hold their longest exact key (a condition
// map's, one "1" per condition of a match, or a shared server's hostname), and 2048 entries do
// not hold the hosts of a shared server. nginx takes them only before the first map.
func mapHashSize(b *bytes.Buffer, servers []*server, shared map[*v1alpha1.Listener][]*server) {
	keyLen, keys := 0, 0
	for _, s := range servers {
		for _, c := range s.candidates {
			keyLen = max(keyLen, len(c.match.Headers)+len(c.match.QueryParams)+len(c.grpcConditions())+1)
		}
	}
	for _, hosts := range shared {
		keys = max(keys, len(hosts))
		for _, s := range hosts {
			keyLen = max(keyLen, len(s.hostname))
		}
	}
	if hashEntry(keyLen)+8 > 32 {
		fmt.Fprintf(b, "map_hash_bucket_size %d;\n", hashBucket(keyLen))
	}
	if keys > 256 {
		fmt.Fprintf(b, "map_hash_max_size %d;\n", max(2048, nextPow2(8*keys)))
	}
}

// modifiedHeaders are the names of the headers a rule's filters and its backends' filters change.
// nginx keeps those of requests (proxy_set_header) and those hidden from responses
// (proxy_hide_header, also before a response header is set) in a location's proxy_headers hash.
func modifiedHeaders(rule *v1alpha1.RouteRule) []v1alpha1.HeaderName {
	var names []v1alpha1.HeaderName
	addFilters := func(filters []v1alpha1.RouteFilter) {
		for _, f := range filters {
			for _, m := range []*v1alpha1.HeaderModifier{f.RequestHeaderModifier, f.ResponseHeaderModifier} {
				if m == nil {
					continue
				}
				for _, h := range slices.Concat(m.Set, m.Add) {
					names = append(names, h.Name)
				}
				names = append(names, m.Remove...)
			}
		}
	}
	addFilters(rule.Filters)
	for _, b := range rule.BackendRefs {
		addFilters(b.Filters)
	}
	return names
}

// hashEntry is what a name of length n takes in one of nginx's name hashes: a pointer and the name
// with two bytes, aligned to a pointer. A bucket ends with a pointer, so nginx's default 64-byte
// bucket takes names of up to 46 bytes.
func hashEntry(n int) int { return 8 + (n+2+7)/8*8 }

// hashBucket is a bucket size, in cache lines, that holds two of the longest names (n bytes): room
// for nginx to find a hash size.
func hashBucket(n int) int { return max(64, (2*hashEntry(n)+8+63)/64*64) }

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// RoutesOf picks what Render serves out of objs: the Routes and the GRPCRoutes' AsRoute forms,
// and the GRPCRoutes themselves, for Options.GRPCRoutes.
func RoutesOf(objs []v1alpha1.Object) ([]*v1alpha1.Route, []*v1alpha1.GRPCRoute) {
	var routes []*v1alpha1.Route
	var grpc []*v1alpha1.GRPCRoute
	for _, o := range objs {
		switch o := o.(type) {
		case *v1alpha1.Route:
			routes = append(routes, o)
		case *v1alpha1.GRPCRoute:
			routes = append(routes, o.AsRoute())
			grpc = append(grpc, o)
		}
	}
	return routes, grpc
}
