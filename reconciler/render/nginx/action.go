package nginx

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// action writes what a candidate does with a request it matched: redirect it, or forward it (with
// its filters) to its backends.
func (r *renderer) action(b *bytes.Buffer, c *candidate, indent string) {
	line := func(parts ...string) {
		b.WriteString(indent)
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteString("\n")
	}
	var (
		redirect  *v1alpha1.RequestRedirect
		rewrite   *v1alpha1.URLRewrite
		reqMod    *v1alpha1.HeaderModifier
		respMod   *v1alpha1.HeaderModifier
		pathRules *v1alpha1.PathModifier
	)
	ruleIdentity(c, line)
	for _, f := range c.rule.Filters {
		switch f.Type {
		case v1alpha1.FilterRequestRedirect:
			redirect = f.RequestRedirect
			pathRules = redirect.Path
		case v1alpha1.FilterURLRewrite:
			rewrite = f.URLRewrite
			pathRules = rewrite.Path
		case v1alpha1.FilterRequestHeaderModifier:
			reqMod = f.RequestHeaderModifier
		case v1alpha1.FilterResponseHeaderModifier:
			respMod = f.ResponseHeaderModifier
		case v1alpha1.FilterCORS:
			r.cors(f.CORS, line)
		}
	}

	module := "proxy"
	if c.route.IsGRPC() {
		// Any failure of a gRPC call is answered as gRPC's UNAVAILABLE.
		module = "grpc"
		line("error_page 500 502 503 504 = ", grpcUnavailable, ";")
	}
	if respMod != nil {
		responseHeaders(respMod, line, module)
	}
	var session sessionKey // a redirect goes to no backend
	if redirect == nil {
		session = r.session(c)
	}
	if session.issue != "" {
		line("add_header ", quote(session.header), " ", quote(variable(session.issue)), " always;")
	}
	if respMod != nil || slices.ContainsFunc(c.rule.Filters, func(f v1alpha1.RouteFilter) bool { return f.CORS != nil }) || session.issue != "" {
		b.WriteString(requestIDHeaders(indent, module))
	}
	for _, m := range r.mirrors(c) {
		line("mirror ", quote(m.location), ";")
	}
	// Directives of nginx's rewrite module (set, if, return, rewrite) run in order, and
	// "rewrite ... break" stops them: everything of theirs comes before it.
	newPath := ""
	if pathRules != nil {
		newPath = r.pathExpr(c, pathRules, redirect == nil, line)
	}
	if redirect != nil {
		line("return ", strconv.Itoa(int(*redirect.StatusCode)), " ", quote(redirectTarget(c, redirect, newPath)), ";")
		return
	}
	upstream, choice, targets, ok := r.upstream(c, session.key)
	if !ok {
		// No backend, or every weight is 0, or the one backend is of a kind swarmgate does not
		// know: the Gateway API answers 500 (a GRPCRoute's error page makes it UNAVAILABLE).
		line("return 500;")
		return
	}
	if slices.ContainsFunc(targets, func(t target) bool { return t.addr == "" }) {
		// The share of a backend of unknown kind, or of another namespace that no grant permits,
		// answers 500 (its address is "").
		line("if (", upstream, " = \"\") {")
		line("    return 500;")
		line("}")
	}
	if !strings.HasPrefix(upstream, "$") && !r.pooled() {
		// One backend: a variable makes nginx resolve the name per request, so it starts (and
		// keeps serving other hosts) while a backend service does not exist yet.
		line("set $sg_upstream ", quote(upstream), ";")
		upstream = "$sg_upstream"
	}
	line("set $", backendVar, " ", r.backendName(upstream, choice, targets), ";")
	if newPath == "" {
		newPath = variable("sg_path")
	}
	// Forward the normalized (then rewritten) path: after this rewrite nginx re-encodes the URI it
	// sends and keeps the query string.
	line("rewrite ^ ", quote(newPath), " break;")

	filtered := slices.ContainsFunc(targets, func(t target) bool { return t.mod != nil })
	if reqMod != nil || rewrite != nil && rewrite.Hostname != "" || filtered || c.route.IsGRPC() {
		host := variable("http_host")
		if rewrite != nil && rewrite.Hostname != "" {
			host = literal(string(rewrite.Hostname))
		}
		headers := r.modify(r.backendHeaders(host), reqMod)
		switch {
		case choice != "":
			headers = r.perBackendHeaders(headers, choice, targets)
		case filtered:
			headers = r.modify(headers, targets[0].mod)
		}
		for _, h := range headers {
			if c.route.IsGRPC() && (h.name == "Upgrade" || h.name == "Connection") {
				continue // HTTP/2 has neither
			}
			line(module, "_set_header ", quote(h.name), " ", quote(h.value), ";")
		}
	}
	if t := c.rule.Timeouts; t != nil {
		r.timeouts(t, line, module)
	}
	if rt := c.rule.Retry; rt != nil {
		retry(rt, c.rule.Timeouts, line, module)
	}
	// Validation makes a rule's backends share their BackendTLSPolicy (or none).
	service := ""
	if i := slices.IndexFunc(targets, func(t target) bool { return t.service != "" }); i >= 0 {
		service = targets[i].service
	}
	scheme := r.backendTLS(service, module, line)
	if c.route.IsGRPC() {
		line("grpc_pass ", scheme, "://", upstream, ";")
		return
	}
	line("proxy_pass ", scheme, "://", upstream, ";")
}

// retryTries is how many tries a rule's retry allows nginx: its attempts are retries, nginx
// counts the first try too. 0 is no bound, or no retry.
func retryTries(rt *v1alpha1.RouteRetry) int {
	if rt == nil || rt.Attempts == nil || *rt.Attempts == 0 {
		return 0
	}
	return int(*rt.Attempts) + 1
}

// retry has nginx pass a failed request to the next address of the backend: on a connection
// error or timeout, and on the rule's codes, whatever the method (the Gateway API makes no
// exception for non-idempotent requests). Attempts count retries; nginx counts tries. A request
// timeout bounds the retries too.
func retry(rt *v1alpha1.RouteRetry, t *v1alpha1.RouteTimeouts, line func(...string), module string) {
	if rt.Attempts != nil && *rt.Attempts == 0 {
		line(module, "_next_upstream off;")
		return
	}
	conditions := "error timeout"
	codes := slices.Clone(rt.Codes)
	slices.Sort(codes)
	for _, code := range slices.Compact(codes) {
		conditions += " http_" + strconv.Itoa(int(code))
	}
	line(module, "_next_upstream ", conditions, " non_idempotent;")
	if tries := retryTries(rt); tries > 0 {
		line(module, "_next_upstream_tries ", strconv.Itoa(tries), ";")
	}
	if t != nil && t.Request != nil {
		if d, err := time.ParseDuration(string(*t.Request)); err == nil && d > 0 {
			line(module, "_next_upstream_timeout ", strconv.FormatInt(d.Milliseconds(), 10), "ms;")
		}
	}
}

// timeouts bounds a rule's wait for its backend. nginx times each read and write, not a whole
// request: the shorter of the rule's timeouts bounds the wait for the backend to connect, take
// the request and start (and keep) answering, which is what a slow backend does. A timeout answers
// 504, as the Gateway API says: only an unresolvable backend's 502 still becomes 503 here.
func (r *renderer) timeouts(t *v1alpha1.RouteTimeouts, line func(...string), module string) {
	limit := time.Duration(0)
	for _, d := range []*v1alpha1.Duration{t.Request, t.BackendRequest} {
		if d == nil {
			continue
		}
		if v, err := time.ParseDuration(string(*d)); err == nil && v > 0 && (limit == 0 || v < limit) {
			limit = v
		}
	}
	if limit == 0 {
		limit = 24 * time.Hour // "0s": no timeout; nginx needs one
	}
	ms := duration(limit)
	connect, most := ms, resolverConnectTimeout
	if r.pooled() {
		most = poolConnectTimeout
	}
	if limit > most {
		connect = duration(most)
	}
	line(module, "_connect_timeout ", connect, ";")
	line(module, "_send_timeout ", ms, ";")
	line(module, "_read_timeout ", ms, ";")
	if module == "proxy" {
		line("error_page 502 = @sg_unavailable;")
	}
}

// invalidBackend tells whether a backendRef with a share of requests names something other than
// a swarm service.
func invalidBackend(ref v1alpha1.BackendRef) bool {
	return !ref.IsService() && ref.Weight != nil && *ref.Weight > 0
}

// target is a backend that gets requests: its address ("" when its share answers 500: a kind
// swarmgate does not know, or another namespace's service no grant permits), its share, and its
// own request header changes.
type target struct {
	addr    string
	service string
	weight  int64
	mod     *v1alpha1.HeaderModifier
}

// upstream returns the host:port proxy_pass connects to, or for several weighted backends the
// variable that picks one (its address, "" for one answering 500); choice, when the backends have
// filters of their own, is the variable holding the index of the one picked. It returns false
// when no backend gets requests, or the only one answers 500. session, when set, is the variable
// holding the request's session token, which picks the backend and its task.
func (r *renderer) upstream(c *candidate, session string) (upstream, choice string, targets []target, ok bool) {
	var total int64
	for _, ref := range c.rule.BackendRefs {
		t := target{}
		switch {
		case ref.Weight == nil || *ref.Weight == 0:
			continue
		case invalidBackend(ref) || !v1alpha1.Permits(r.opts.Grants, c.route, ref) || r.opts.missing(c.route.BackendServiceName(ref)):
		case ref.Port != nil && r.pooled():
			t.addr = r.pool(c.route.BackendServiceName(ref), int32(*ref.Port), retryTries(c.rule.Retry), session)
		case ref.Port != nil:
			host, port := r.opts.Backend(c.route.BackendServiceName(ref), int32(*ref.Port))
			t.addr = host + ":" + strconv.Itoa(int(port))
		default:
			continue
		}
		if t.addr != "" {
			t.service = c.route.BackendServiceName(ref)
		}
		t.weight = int64(*ref.Weight)
		for _, f := range ref.Filters {
			if f.RequestHeaderModifier != nil {
				t.mod = f.RequestHeaderModifier
			}
		}
		targets = append(targets, t)
		total += t.weight
	}
	switch {
	case len(targets) == 0 || len(targets) == 1 && targets[0].addr == "":
		return "", "", nil, false
	case len(targets) == 1:
		return targets[0].addr, "", targets, true
	}
	filtered := slices.ContainsFunc(targets, func(t target) bool { return t.mod != nil })
	// split_clients shares requests by percentage, with two decimals; the last backend takes the
	// remainder, so rounding never loses requests. With filters it picks an index, which maps to
	// the address and to each header's value.
	value := func(i int) string {
		if filtered {
			return strconv.Itoa(i)
		}
		return targets[i].addr
	}
	var lines strings.Builder
	for i, t := range targets {
		if i == len(targets)-1 {
			fmt.Fprintf(&lines, "    * %s;\n", quote(value(i)))
			break
		}
		hundredths := t.weight * 10000 / total
		if hundredths == 0 {
			continue
		}
		fmt.Fprintf(&lines, "    %d.%02d%% %s;\n", hundredths/100, hundredths%100, quote(value(i)))
	}
	by := "request_id"
	if session != "" {
		by = session
	}
	split := r.addBlock("split_clients "+quote(variable(by)), lines.String())
	if !filtered {
		return "$" + split, "", targets, true
	}
	var addrs strings.Builder
	for i, t := range targets {
		fmt.Fprintf(&addrs, "    %s %s;\n", quote(strconv.Itoa(i)), quote(t.addr))
	}
	addrs.WriteString("    default \"\";\n")
	return "$" + r.addBlock("map $"+split, addrs.String()), split, targets, true
}

// backendName is the value naming, in the access log, the backend service a request goes to: the
// service of the one target, or of the one that upstream's split (choice's, when the backends
// have filters) picked; "" for a share that answers 500.
func (r *renderer) backendName(upstream, choice string, targets []target) string {
	if len(targets) == 1 {
		return quote(literal(targets[0].service))
	}
	var body strings.Builder
	seen := map[string]bool{}
	for i, t := range targets {
		key := t.addr
		if choice != "" {
			key = strconv.Itoa(i)
		}
		if !seen[key] { // shares answering 500 have the same address, and no service
			seen[key] = true
			fmt.Fprintf(&body, "    %s %s;\n", quote(key), quote(literal(t.service)))
		}
	}
	body.WriteString("    default \"\";\n")
	pick := strings.TrimPrefix(upstream, "$")
	if choice != "" {
		pick = choice
	}
	return "$" + r.addBlock("map $"+pick, body.String())
}

// cors writes a CORS filter: a preflight request is answered here, 204, with the CORS headers
// when its origin is allowed; other answers to an allowed origin get theirs. Each header's value
// comes from a map keyed by the origin's, so a request from an origin not allowed gets none (nginx
// leaves out a header whose value is empty). These directives come first: the preflight's return
// must run before the rule's rewrites, redirect or proxying.
func (r *renderer) cors(f *v1alpha1.CORSFilter, line func(...string)) {
	creds := f.AllowCredentials != nil && *f.AllowCredentials
	// The origin to answer: the request's own, or "*" for every origin without credentials.
	var body strings.Builder
	body.WriteString("    \"\" \"\";\n")
	reflect := true
	if len(f.AllowOrigins) == 1 && f.AllowOrigins[0] == "*" {
		if creds {
			fmt.Fprintf(&body, "    default %s;\n", quote(variable("http_origin")))
		} else {
			body.WriteString("    default \"*\";\n")
			reflect = false
		}
	} else {
		for _, o := range f.AllowOrigins {
			fmt.Fprintf(&body, "    %s %s;\n", quote("~*"+originRegex(o)), quote(variable("http_origin")))
		}
		body.WriteString("    default \"\";\n")
	}
	origin := r.addBlock("map $http_origin", body.String())
	// whenAllowed is a variable holding value for an allowed origin, "" otherwise.
	whenAllowed := func(value string) string {
		return variable(r.addBlock("map $"+origin, "    \"\" \"\";\n    default "+quote(value)+";\n"))
	}
	// listOrWildcard is a list's header value; with credentials a "*" answers what was asked.
	listOrWildcard := func(values []string, asked string) string {
		if len(values) == 1 && values[0] == "*" && creds {
			return variable(asked)
		}
		return literal(strings.Join(values, ", "))
	}
	headerNames := func(names []v1alpha1.HeaderName) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = string(n)
		}
		return out
	}
	common := []header{{"Access-Control-Allow-Origin", variable(origin)}}
	if creds {
		common = append(common, header{"Access-Control-Allow-Credentials", whenAllowed("true")})
	}
	if reflect {
		common = append(common, header{"Vary", whenAllowed("Origin")})
	}
	// Expose-Headers goes on the preflight's answer too, as the Gateway API's conformance cases
	// expect, though browsers read it from the actual answer only.
	if len(f.ExposeHeaders) > 0 {
		common = append(common, header{"Access-Control-Expose-Headers", whenAllowed(literal(strings.Join(headerNames(f.ExposeHeaders), ", ")))})
	}
	preflight := slices.Clone(common)
	if len(f.AllowMethods) > 0 {
		preflight = append(preflight, header{"Access-Control-Allow-Methods", whenAllowed(listOrWildcard(f.AllowMethods, "http_access_control_request_method"))})
	}
	if len(f.AllowHeaders) > 0 {
		preflight = append(preflight, header{"Access-Control-Allow-Headers", whenAllowed(listOrWildcard(headerNames(f.AllowHeaders), "http_access_control_request_headers"))})
	}
	preflight = append(preflight, header{"Access-Control-Max-Age", whenAllowed(strconv.Itoa(int(f.MaxAge)))})
	actual := common

	isPreflight := r.addBlock(`map "${request_method} ${http_access_control_request_method} ${http_origin}"`, "    \"~^OPTIONS [^ ]+ [^ ]\" 1;\n    default \"\";\n")
	line("if ($", isPreflight, ") {")
	for _, h := range preflight {
		line("    add_header ", quote(h.name), " ", quote(h.value), " always;")
	}
	line("    add_header ", RequestIDHeader, " $", requestIDVar, " always;")
	line("    return 204;")
	line("}")
	for _, h := range actual {
		if h.name != "Vary" {
			line("proxy_hide_header ", quote(h.name), ";")
		}
		line("add_header ", quote(h.name), " ", quote(h.value), " always;")
	}
}

// originRegex matches an allowed origin ("https://*.example.com:8443"): the scheme, the host (a
// leading "*" covers any labels to its left), and the port, which may be left out when it is the
// scheme's (browsers leave it out).
func originRegex(origin string) string {
	scheme, rest, _ := strings.Cut(origin, "://")
	host, port, hasPort := strings.Cut(rest, ":")
	defaultPort := map[string]string{"http": "80", "https": "443"}[scheme]
	re := "^" + regexLiteral(scheme+"://")
	switch {
	case host == "*":
		re += "[^/:]+"
	case strings.HasPrefix(host, "*."):
		re += "[^/:]+" + regexLiteral(host[1:])
	default:
		re += regexLiteral(host)
	}
	switch {
	case !hasPort || port == defaultPort:
		re += "(" + regexLiteral(":"+defaultPort) + ")?"
	default:
		re += regexLiteral(":" + port)
	}
	return re + `\z`
}

// mirror is one RequestMirror filter of a candidate: the internal location its copies go through,
// its target, and the share of requests it gets, in hundredths of a percent.
type mirror struct {
	location, target, service string
	hundredths                int64
}

// mirrors lists the RequestMirror filters of c that get any request.
func (r *renderer) mirrors(c *candidate) []mirror {
	var out []mirror
	for _, f := range c.rule.Filters {
		m := f.RequestMirror
		if m == nil || m.BackendRef.Port == nil || !v1alpha1.Permits(r.opts.Grants, c.route, m.BackendRef) || r.opts.missing(c.route.BackendServiceName(m.BackendRef)) {
			continue
		}
		share := int64(10000)
		switch {
		case m.Percent != nil:
			share = int64(*m.Percent) * 100
		case m.Fraction != nil && m.Fraction.Denominator != nil && *m.Fraction.Denominator > 0:
			share = int64(m.Fraction.Numerator) * 10000 / int64(*m.Fraction.Denominator)
		}
		if share <= 0 {
			continue
		}
		service := c.route.BackendServiceName(m.BackendRef)
		host, port := r.opts.Backend(service, int32(*m.BackendRef.Port))
		out = append(out, mirror{location: dispatchPrefix + c.name + "/m" + strconv.Itoa(len(out)),
			target: host + ":" + strconv.Itoa(int(port)), service: service, hundredths: min(share, 10000)})
	}
	return out
}

// mirrorLocations writes the internal locations c's mirrors send their copies through: the
// request as the client sent it ($request_uri: method, URI, headers and body), to the mirror's
// service, for its share of requests (a GRPCRoute's by grpc_pass, HTTP/2). The answers are thrown away; short timeouts, because nginx
// finishes a request (and goes on to the next on its connection) only once its mirrors are done.
func (r *renderer) mirrorLocations(b *bytes.Buffer, c *candidate) {
	for i, m := range r.mirrors(c) {
		fmt.Fprintf(b, "\n    # %s %s rule %d match %d: mirror %d.\n    location = %s {\n        internal;\n", c.route.RouteKind(), routeKey(c.route), c.ruleIdx, c.matchIdx, i, quote(m.location))
		if m.hundredths < 10000 {
			// A key of its own per mirror: mirrors with equal shares copy different requests.
			sample := r.addBlock(`split_clients "${request_id}`+strconv.Itoa(i)+`"`, fmt.Sprintf("    %d.%02d%% 1;\n    * \"\";\n", m.hundredths/100, m.hundredths%100))
			fmt.Fprintf(b, "        if ($%s = \"\") {\n            return 204;\n        }\n", sample)
		}
		v := "sg_mirror_" + strconv.Itoa(c.id) + "_" + strconv.Itoa(i)
		fmt.Fprintf(b, "        set $%s %s;\n", v, quote(m.target))
		module := "proxy"
		if c.route.IsGRPC() {
			module = "grpc"
		}
		b.WriteString("        " + module + "_connect_timeout 2s;\n        " + module + "_send_timeout 10s;\n        " + module + "_read_timeout 10s;\n")
		scheme := r.backendTLS(m.service, module, func(parts ...string) {
			b.WriteString("        " + strings.Join(parts, "") + "\n")
		})
		if c.route.IsGRPC() {
			// grpc_pass takes no URI: the call's own path, which the mirror's location replaced.
			fmt.Fprintf(b, "        rewrite ^ $request_uri break;\n        grpc_pass %s://$%s;\n    }\n", scheme, v)
			continue
		}
		fmt.Fprintf(b, "        proxy_pass %s://$%s$request_uri;\n    }\n", scheme, v)
	}
}

type header struct{ name, value string }

// forwardingHeaders are the headers every backend receives: the client's Host header as sent
// ($http_host; $host would drop the port), the client chain, and what a websocket upgrade needs.
func forwardingHeaders(host string) []header {
	return []header{
		{"Host", host},
		{"X-Forwarded-For", variable("proxy_add_x_forwarded_for")},
		{"X-Forwarded-Proto", variable("scheme")},
		{"X-Real-IP", variable("remote_addr")},
		{"Upgrade", variable("http_upgrade")},
		{"Connection", variable("sg_connection")},
		{RequestIDHeader, variable(requestIDVar)},
	}
}

// modify returns headers with a header modifier's changes, which may replace them (mod may be
// nil). nginx sends a header set to "" not at all.
func (r *renderer) modify(headers []header, mod *v1alpha1.HeaderModifier) []header {
	headers = slices.Clone(headers)
	set := func(name, value string) {
		for i := range headers {
			if strings.EqualFold(headers[i].name, name) {
				headers[i].value = value
				return
			}
		}
		headers = append(headers, header{name, value})
	}
	if mod == nil {
		return headers
	}
	for _, h := range mod.Set {
		set(string(h.Name), literal(h.Value))
	}
	for _, h := range mod.Add {
		// Append to the client's value when it sent one.
		v := headerVar(string(h.Name))
		joined := r.addBlock("map $"+v, "    \"\" "+quote(literal(h.Value))+";\n    default "+quote(variable(v)+","+literal(h.Value))+";\n")
		set(string(h.Name), variable(joined))
	}
	for _, name := range mod.Remove {
		set(string(name), "")
	}
	return headers
}

// perBackendHeaders returns the headers sent to whichever backend choice picked: each backend's
// filters applied to the rule's headers; a header whose value differs between backends takes it
// from a map keyed by the pick, and a backend that does not change a header another sets passes
// the client's value on.
func (r *renderer) perBackendHeaders(base []header, choice string, targets []target) []header {
	lists := make([][]header, len(targets))
	var names []string
	for i, t := range targets {
		lists[i] = r.modify(base, t.mod)
		for _, h := range lists[i] {
			if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, h.name) }) {
				names = append(names, h.name)
			}
		}
	}
	out := make([]header, 0, len(names))
	for _, name := range names {
		values := make([]string, len(targets))
		for i := range targets {
			values[i] = variable(headerVar(name)) // the client's, passed on
			if j := slices.IndexFunc(lists[i], func(h header) bool { return strings.EqualFold(h.name, name) }); j >= 0 {
				values[i] = lists[i][j].value
			}
		}
		if len(slices.Compact(slices.Clone(values))) == 1 {
			out = append(out, header{name, values[0]})
			continue
		}
		var body strings.Builder
		for i, v := range values {
			fmt.Fprintf(&body, "    %s %s;\n", quote(strconv.Itoa(i)), quote(v))
		}
		body.WriteString("    default \"\";\n")
		out = append(out, header{name, variable(r.addBlock("map $"+choice, body.String()))})
	}
	return out
}

// responseHeaders writes the response header changes: set replaces what the backend sent, add
// adds a value beside it, remove hides it. "always" applies them to error responses too.
func responseHeaders(mod *v1alpha1.HeaderModifier, line func(...string), module string) {
	for _, name := range mod.Remove {
		line(module, "_hide_header ", quote(string(name)), ";")
	}
	for _, h := range mod.Set {
		line(module, "_hide_header ", quote(string(h.Name)), ";")
		line("add_header ", quote(string(h.Name)), " ", quote(literal(h.Value)), " always;")
	}
	for _, h := range mod.Add {
		line("add_header ", quote(string(h.Name)), " ", quote(literal(h.Value)), " always;")
	}
}

// pathExpr returns the value expression of the path a redirect or rewrite produces, writing the
// directives it needs first.
// A rewritten path is the decoded form, which nginx encodes as it forwards it; a redirect's is
// the encoded form the Location header carries.
func (r *renderer) pathExpr(c *candidate, m *v1alpha1.PathModifier, forwarded bool, line func(...string)) string {
	if m.Type == v1alpha1.ReplaceFullPath {
		if forwarded {
			return literal(v1alpha1.DecodedPath(m.ReplaceFullPath))
		}
		return literal(m.ReplaceFullPath)
	}
	// ReplacePrefixMatch: the part of the path after the matched prefix, kept. Validation ensures
	// the rule's matches are all prefixes; this candidate's is c.path.
	// The rewrite module escapes a numbered capture when the request's URI held escapes: right for
	// a Location, but a forwarded path is escaped again as nginx sends it. A named capture is set
	// as matched (decoded), so the forwarded rest is escaped once.
	rest := "(/.*)"
	if forwarded {
		rest = "(?<sg_rest>/.*)"
	}
	line("set $sg_rest \"\";")
	if c.path != "/" {
		line("if ($sg_path ~ ", quote("(?s)^"+regexLiteral(c.path)+rest+`?\z`), ") {")
	} else {
		line("if ($sg_path ~ ", quote("(?s)^"+rest+`\z`), ") {")
	}
	if !forwarded {
		line("    set $sg_rest $1;")
	}
	line("}")
	prefix := strings.TrimRight(m.ReplacePrefixMatch, "/")
	if forwarded {
		prefix = v1alpha1.DecodedPath(prefix)
	}
	if prefix == "" {
		// Replaced by "/": the rest, or "/" when nothing is left.
		line("if ($sg_rest = \"\") {")
		line("    set $sg_rest /;")
		line("}")
		return variable("sg_rest")
	}
	return literal(prefix) + variable("sg_rest")
}

// redirectTarget builds the Location of a redirect. Unset parts keep the request's own; the port is
// the one asked for, else the scheme's well-known port when the scheme changes, else the listener's,
// and is left out when it is the scheme's well-known port.
func redirectTarget(c *candidate, rd *v1alpha1.RequestRedirect, newPath string) string {
	scheme := rd.Scheme
	if scheme == "" {
		scheme = "http"
	}
	host := variable("host")
	if rd.Hostname != "" {
		host = literal(string(rd.Hostname))
	}
	port := int32(c.port)
	switch {
	case rd.Port != nil:
		port = int32(*rd.Port)
	case rd.Scheme != "":
		port = wellKnownPort(scheme)
	}
	target := scheme + "://" + host
	if port != wellKnownPort(scheme) {
		target += ":" + strconv.Itoa(int(port))
	}
	if newPath == "" {
		return target + variable("request_uri")
	}
	return target + newPath + variable("is_args") + variable("args")
}

func wellKnownPort(scheme string) int32 {
	if scheme == "https" {
		return 443
	}
	return 80
}
