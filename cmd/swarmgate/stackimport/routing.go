package stackimport

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// What a service's labels route becomes Route rules that match exactly those requests, or
// nothing: a label whose meaning a Route cannot carry (a negation, a regular expression, a
// middleware swarmgate has no filter for) leaves the service without a Route and says so. A
// narrower rule must never become a wider one.

// notRouted says why a service gets no Route; it is a note, not a failure of the import.
// nothingRoutes says no label or flag routes it (a worker, traefik.enable=false): a Service runs
// it instead.
type notRouted struct {
	reason        string
	nothingRoutes bool
}

func (e *notRouted) Error() string { return e.reason }

// unroutedService says a service is one nothing routes.
func unroutedService(format string, args ...any) error {
	return &notRouted{reason: fmt.Sprintf(format, args...), nothingRoutes: true}
}

func skip(format string, args ...any) error {
	return &notRouted{reason: fmt.Sprintf(format, args...)}
}

// routeSet is what a service's labels route: rules grouped by the listeners they attach to (one
// Route each, as a Route's parentRefs hold for all its rules), and the service's port.
type routeSet struct {
	port   int32
	groups []routeGroup
}

// routeGroup is one Route's worth: listeners (none: all of the Gateway's), hostnames and rules.
type routeGroup struct {
	sections  []v1alpha1.SectionName
	hostnames []v1alpha1.Hostname
	rules     []v1alpha1.RouteRule
}

var (
	caddyGroup     = regexp.MustCompile(`^caddy(_[0-9]+)?$`)
	caddyUpstreams = regexp.MustCompile(`^\{\{\s*upstreams(?:\s+https?)?(?:\s+([0-9]+))?\s*\}\}$`)
	// traefikEntrypoint finds an entrypoint in Traefik's command line: --entrypoints.web.address=:80.
	traefikEntrypoint = regexp.MustCompile(`(?i)^--entrypoints\.([^.=]+)\.address=[^:]*:([0-9]+)(?:/tcp)?$`)
	sectionName       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
)

// labels are a service's labels, deploy's (swarm's) over the container's.
func labels(svc types.ServiceConfig) map[string]string {
	out := map[string]string{}
	maps.Copy(out, svc.Labels)
	if svc.Deploy != nil {
		maps.Copy(out, svc.Deploy.Labels)
	}
	return out
}

// proxyLabel tells the labels that are Traefik's or caddy-docker-proxy's.
func proxyLabel(k string) bool {
	first, _, _ := strings.Cut(k, ".")
	return first == "traefik" || caddyGroup.MatchString(first)
}

// routing reads what a service's labels route. A service without proxy labels is routed by its
// name (the blog's nginx virtual hosts) only when it publishes a port or joins the Gateway's
// network; any other is a worker, which a Service runs.
func (c *converter) routing(project *types.Project, svc types.ServiceConfig, network string) (*routeSet, error) {
	ls := labels(svc)
	var traefik, caddy bool
	for k := range ls {
		first, _, _ := strings.Cut(k, ".")
		traefik = traefik || first == "traefik"
		caddy = caddy || caddyGroup.MatchString(first)
	}
	var rs *routeSet
	var err error
	switch {
	case traefik && caddy:
		return nil, skip("it has both Traefik and caddy labels; write its Route by hand")
	case traefik:
		rs, err = c.traefik(svc.Name, ls)
	case caddy:
		rs, err = c.caddy(svc.Name, ls)
	default:
		if len(svc.Ports) == 0 && !joins(project, svc, network) {
			return nil, unroutedService("no Traefik or caddy label, no published port, not on the Gateway's network %s: a worker", network)
		}
		c.note("service %s: no Traefik or caddy label; routed as host %s (its name, as nginx virtual hosts by service name do): delete its Route if the proxy did not route it", svc.Name, svc.Name)
		rs = &routeSet{groups: []routeGroup{{hostnames: []v1alpha1.Hostname{v1alpha1.Hostname(svc.Name)},
			rules: []v1alpha1.RouteRule{{BackendRefs: []v1alpha1.BackendRef{{Name: svc.Name}}}}}}}
	}
	if err != nil {
		return nil, err
	}
	if rs.port == 0 && len(svc.Ports) > 0 {
		rs.port = int32(svc.Ports[0].Target)
	}
	if rs.port == 0 && len(svc.Expose) > 0 {
		first, _, _ := strings.Cut(svc.Expose[0], "/")
		first, _, _ = strings.Cut(first, "-")
		n, _ := strconv.ParseInt(first, 10, 32)
		rs.port = int32(n)
	}
	if rs.port == 0 {
		rs.port = c.opts.BackendPort
	}
	if rs.port == 0 {
		return nil, skip("no port to route to: no Traefik or caddy label, published port or expose names one; pass --backend-port")
	}
	return rs, nil
}

// joins tells whether a service names the Gateway's network among its own.
func joins(project *types.Project, svc types.ServiceConfig, network string) bool {
	for key := range svc.Networks {
		if def, ok := project.Networks[key]; ok && bool(def.External) && cmp.Or(def.Name, key) == network {
			return true
		}
	}
	return false
}

// middlewareLabel is one label of a middleware: its field as written (header names keep their
// case) and its value. Middlewares are kept by name and lowercased field.
type middlewareLabel struct{ field, value string }

// addMiddlewares keeps the middlewares a service's labels define: Traefik's docker and swarm
// providers share them between all services.
func (c *converter) addMiddlewares(ls map[string]string) {
	for k, v := range ls {
		rest, ok := strings.CutPrefix(k, "traefik.http.middlewares.")
		if !ok {
			continue
		}
		name, f, _ := strings.Cut(rest, ".")
		if c.middlewares[name] == nil {
			c.middlewares[name] = map[string]middlewareLabel{}
		}
		c.middlewares[name][strings.ToLower(f)] = middlewareLabel{field: f, value: v}
	}
}

// traefikRouter is the labels of one router, by their lowercased field (rule, entrypoints, ...).
type traefikRouter map[string]string

// traefik reads a service's Traefik labels.
func (c *converter) traefik(service string, ls map[string]string) (*routeSet, error) {
	if strings.EqualFold(ls["traefik.enable"], "false") {
		return nil, unroutedService("traefik.enable=false")
	}
	routers := map[string]traefikRouter{}
	ports := map[int32]bool{}
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		v := ls[k]
		kind, rest, _ := strings.Cut(strings.TrimPrefix(k, "traefik."), ".")
		name, _, _ := strings.Cut(rest, ".")
		switch {
		case kind == "http" && strings.HasPrefix(rest, "routers."):
			router, f, _ := strings.Cut(strings.TrimPrefix(rest, "routers."), ".")
			if routers[router] == nil {
				routers[router] = traefikRouter{}
			}
			routers[router][strings.ToLower(f)] = v
		case kind == "http" && strings.HasPrefix(rest, "services."):
			_, f, _ := strings.Cut(strings.TrimPrefix(rest, "services."), ".")
			if strings.ToLower(f) != "loadbalancer.server.port" {
				c.note("service %s: label %s is not carried over", service, k)
				continue
			}
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("label %s: not a port (1 to 65535)", k)
			}
			ports[int32(n)] = true
		case kind == "tcp" || kind == "udp":
			c.note("service %s: label %s (a %s router) is not carried over: swarmgate routes HTTP", service, k, strings.ToUpper(kind))
		case kind == "http" && name == "middlewares", kind == "enable", kind == "docker", kind == "swarm":
			// Middlewares are read where a router uses them; the provider's settings route nothing.
		default:
			c.note("service %s: label %s is not carried over", service, k)
		}
	}
	if len(ports) > 1 {
		return nil, skip("its Traefik labels name %d ports; a Route sends to one", len(ports))
	}
	rs := &routeSet{}
	for p := range ports {
		rs.port = p
	}
	if len(routers) == 0 {
		return nil, skip("no traefik.http.routers.NAME.rule label (Traefik's defaultRule is not in the labels)")
	}
	groups := map[string]*routeGroup{}
	hostsOf := map[string]map[string]map[v1alpha1.Hostname]bool{} // group, rule key: hosts
	for _, name := range slices.Sorted(maps.Keys(routers)) {
		sections, rule, hosts, err := c.traefikRouter(service, name, routers[name])
		if err != nil {
			return nil, err
		}
		key := fmt.Sprint(sections)
		g := groups[key]
		if g == nil {
			g = &routeGroup{sections: sections}
			groups[key], hostsOf[key] = g, map[string]map[v1alpha1.Hostname]bool{}
		}
		g.rules = append(g.rules, rule)
		set := map[v1alpha1.Hostname]bool{}
		for _, h := range hosts {
			set[h] = true
			if !slices.Contains(g.hostnames, h) {
				g.hostnames = append(g.hostnames, h)
			}
		}
		hostsOf[key][name] = set
	}
	for _, key := range slices.Sorted(maps.Keys(groups)) {
		g := groups[key]
		// A Route's hostnames hold for all its rules: routers on the same listeners must route
		// the same hosts, or one would gain the other's.
		for router, set := range hostsOf[key] {
			if len(set) != len(g.hostnames) {
				return nil, skip("its routers route different hosts on the same entrypoints (router %s routes %d of %d); one Route's hostnames hold for all its rules: write its Routes by hand", router, len(set), len(g.hostnames))
			}
		}
		rs.groups = append(rs.groups, *g)
	}
	return rs, nil
}

// traefikRouter reads one router: the listeners it attaches to, its rule and its hosts.
func (c *converter) traefikRouter(service, name string, r traefikRouter) ([]v1alpha1.SectionName, v1alpha1.RouteRule, []v1alpha1.Hostname, error) {
	label := func(f string) string { return "traefik.http.routers." + name + "." + f }
	var rule v1alpha1.RouteRule
	for _, f := range slices.Sorted(maps.Keys(r)) {
		switch {
		case f == "rule", f == "entrypoints", f == "middlewares", f == "service":
		case f == "tls", strings.HasPrefix(f, "tls."):
			if f == "tls" && strings.EqualFold(r[f], "false") {
				continue
			}
			c.note("service %s: router %s serves HTTPS only (label %s); the Route attaches to the Gateway's listeners, which import makes HTTP: give the listener tls (tls create-secret, or tls.acme) before exposing it", service, name, label(f))
		case f == "priority":
			c.note("service %s: router %s: label %s is not carried over (a Route's most specific match wins)", service, name, label(f))
		default:
			return nil, rule, nil, skip("router %s: label %s has no Route equivalent", name, label(f))
		}
	}
	if s := r["service"]; s != "" && strings.Contains(s, "@") {
		return nil, rule, nil, skip("router %s: label %s names a service of another provider", name, label("service"))
	}
	if r["rule"] == "" {
		return nil, rule, nil, skip("router %s has no rule (label %s)", name, label("rule"))
	}
	alts, err := parseTraefikRule(r["rule"])
	if err != nil {
		return nil, rule, nil, skip("router %s: label %s: %v", name, label("rule"), err)
	}
	var hosts []v1alpha1.Hostname
	all := false
	hostsOf := map[string]map[v1alpha1.Hostname]bool{} // by match (printed; "" for every request)
	for _, conj := range alts {
		host, m, ok, err := routeMatch(conj)
		if err != nil {
			return nil, rule, nil, skip("router %s: label %s: %v", name, label("rule"), err)
		}
		if !ok {
			continue // this alternative matches no request
		}
		if !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
		key := ""
		if m == nil {
			all = true
		} else if key = matchKey(*m); hostsOf[key] == nil {
			rule.Matches = append(rule.Matches, *m)
		}
		if hostsOf[key] == nil {
			hostsOf[key] = map[v1alpha1.Hostname]bool{}
		}
		hostsOf[key][host] = true
	}
	if len(hosts) == 0 {
		return nil, rule, nil, skip("router %s: label %s matches no request", name, label("rule"))
	}
	// A Route's hostnames hold for every match of its rules: each match must be the rule's for
	// all its hosts, or one host would gain another's paths.
	for _, set := range hostsOf {
		if len(set) != len(hosts) {
			return nil, rule, nil, skip("router %s: label %s routes different requests on different hosts; one Route's hostnames hold for all its matches: write its Routes by hand", name, label("rule"))
		}
	}
	if all {
		rule.Matches = nil
	}
	if rule.Filters, err = c.traefikMiddlewares(name, r["middlewares"], rule.Matches, all); err != nil {
		return nil, rule, nil, err
	}
	if !slices.ContainsFunc(rule.Filters, func(f v1alpha1.RouteFilter) bool { return f.Type == v1alpha1.FilterRequestRedirect }) {
		rule.BackendRefs = []v1alpha1.BackendRef{{Name: service}}
	}
	sections, err := c.listeners(service, name, label("entrypoints"), r["entrypoints"])
	if err != nil {
		return nil, rule, nil, err
	}
	return sections, rule, hosts, nil
}

// routeMatch turns one alternative of a rule into its host and a Route match (nil: every request
// of the host); ok is false for an alternative no request meets (two different hosts).
func routeMatch(conj conjunction) (host v1alpha1.Hostname, m *v1alpha1.RouteMatch, ok bool, err error) {
	match := v1alpha1.RouteMatch{}
	var h string
	for _, x := range conj {
		switch x.kind {
		case "Host":
			v := strings.ToLower(x.value)
			if h != "" && h != v {
				return "", nil, false, nil
			}
			h = v
		case "Path", "PathPrefix":
			if match.Path != nil {
				return "", nil, false, fmt.Errorf("two paths in one && (%s and %s): a Route match has one", match.Path.Type, x.kind)
			}
			if strings.ContainsAny(x.value, "{}") {
				return "", nil, false, fmt.Errorf("%s with a {variable} or regular expression has no Route match that means the same", x.kind)
			}
			t := v1alpha1.PathMatchExact
			if x.kind == "PathPrefix" {
				t = v1alpha1.PathMatchPathPrefix
			}
			match.Path = &v1alpha1.PathMatch{Type: t, Value: x.value}
		case "Method":
			method := v1alpha1.HTTPMethod(strings.ToUpper(x.value))
			if match.Method != "" && match.Method != method {
				return "", nil, false, nil
			}
			match.Method = method
		case "Header":
			match.Headers = append(match.Headers, v1alpha1.HeaderMatch{Name: v1alpha1.HeaderName(x.name), Value: x.value})
		case "Query":
			match.QueryParams = append(match.QueryParams, v1alpha1.QueryParamMatch{Name: x.name, Value: x.value})
		}
	}
	if h == "" {
		return "", nil, false, fmt.Errorf("an alternative without Host matches every host; a Route names its hosts")
	}
	if match.Path == nil && match.Method == "" && match.Headers == nil && match.QueryParams == nil {
		return v1alpha1.Hostname(h), nil, true, nil
	}
	return v1alpha1.Hostname(h), &match, true, nil
}

// matchKey tells matches apart by what they match.
func matchKey(m v1alpha1.RouteMatch) string {
	var path v1alpha1.PathMatch
	if m.Path != nil {
		path = *m.Path
	}
	return fmt.Sprint(path, m.Method, m.Headers, m.QueryParams)
}

// traefikMiddlewares turns a router's middlewares into Route filters: stripprefix (for a rule of
// those prefixes only), redirectscheme and headers' custom request and response headers.
// Anything else (an authentication, a rate limit) left out would widen what is served, so the
// service is not routed.
func (c *converter) traefikMiddlewares(router, list string, matches []v1alpha1.RouteMatch, all bool) ([]v1alpha1.RouteFilter, error) {
	var filters []v1alpha1.RouteFilter
	for _, ref := range strings.Split(list, ",") {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		name, provider, _ := strings.Cut(ref, "@")
		def := c.middlewares[name]
		if (provider != "" && provider != "docker" && provider != "swarm") || def == nil {
			return nil, skip("router %s: middleware %s is not defined in the stack files' labels", router, ref)
		}
		label := "traefik.http.middlewares." + name
		var kinds []string
		for f := range def {
			kind, _, _ := strings.Cut(f, ".")
			if !slices.Contains(kinds, kind) {
				kinds = append(kinds, kind)
			}
		}
		if len(kinds) != 1 {
			return nil, skip("router %s: middleware %s (labels %s.*) is not one known kind", router, ref, label)
		}
		var f v1alpha1.RouteFilter
		switch kinds[0] {
		case "stripprefix":
			prefixes := strings.Split(def["stripprefix.prefixes"].value, ",")
			for k := range def {
				if k != "stripprefix.prefixes" && k != "stripprefix.forceslash" {
					return nil, skip("router %s: middleware %s: label %s.%s has no Route equivalent", router, ref, label, def[k].field)
				}
			}
			// A Route's ReplacePrefixMatch replaces the prefix its match matched: every
			// alternative of the rule must be one of the prefixes stripped.
			stripsMatch := func(m v1alpha1.RouteMatch) bool {
				return m.Path != nil && m.Path.Type == v1alpha1.PathMatchPathPrefix && slices.ContainsFunc(prefixes, func(p string) bool {
					return strings.TrimSuffix(strings.TrimSpace(p), "/") == strings.TrimSuffix(m.Path.Value, "/")
				})
			}
			if all || len(matches) == 0 || !slices.ContainsFunc(matches, stripsMatch) || slices.ContainsFunc(matches, func(m v1alpha1.RouteMatch) bool { return !stripsMatch(m) }) {
				return nil, skip("router %s: middleware %s strips a prefix its rule does not match by PathPrefix; a Route rewrites the prefix it matched", router, ref)
			}
			f = v1alpha1.RouteFilter{Type: v1alpha1.FilterURLRewrite, URLRewrite: &v1alpha1.URLRewrite{
				Path: &v1alpha1.PathModifier{Type: v1alpha1.ReplacePrefixMatch, ReplacePrefixMatch: "/"}}}
		case "redirectscheme":
			rd := &v1alpha1.RequestRedirect{Scheme: strings.ToLower(def["redirectscheme.scheme"].value), StatusCode: ptr(int32(302))}
			for k, l := range def {
				v := l.value
				switch k {
				case "redirectscheme.scheme":
				case "redirectscheme.permanent":
					if strings.EqualFold(v, "true") {
						rd.StatusCode = ptr(int32(301))
					}
				case "redirectscheme.port":
					n, err := strconv.ParseInt(v, 10, 32)
					if err != nil || n < 1 || n > 65535 {
						return nil, fmt.Errorf("label %s.%s: not a port (1 to 65535)", label, l.field)
					}
					rd.Port = ptr(v1alpha1.PortNumber(n))
				default:
					return nil, skip("router %s: middleware %s: label %s.%s has no Route equivalent", router, ref, label, l.field)
				}
			}
			f = v1alpha1.RouteFilter{Type: v1alpha1.FilterRequestRedirect, RequestRedirect: rd}
		case "headers":
			req, resp := &v1alpha1.HeaderModifier{}, &v1alpha1.HeaderModifier{}
			for _, k := range slices.Sorted(maps.Keys(def)) {
				mod, prefix := req, "headers.customrequestheaders."
				if !strings.HasPrefix(k, prefix) {
					mod, prefix = resp, "headers.customresponseheaders."
				}
				if !strings.HasPrefix(k, prefix) || len(k) == len(prefix) {
					return nil, skip("router %s: middleware %s: label %s.%s has no Route equivalent (custom request and response headers do)", router, ref, label, def[k].field)
				}
				header := v1alpha1.HeaderName(def[k].field[len(prefix):])
				// An empty value removes the header (Traefik's meaning).
				if v := def[k].value; v == "" {
					mod.Remove = append(mod.Remove, header)
				} else {
					mod.Set = append(mod.Set, v1alpha1.HTTPHeader{Name: header, Value: v})
				}
			}
			if len(req.Set)+len(req.Remove) > 0 {
				filters = append(filters, v1alpha1.RouteFilter{Type: v1alpha1.FilterRequestHeaderModifier, RequestHeaderModifier: req})
			}
			if len(resp.Set)+len(resp.Remove) > 0 {
				filters = append(filters, v1alpha1.RouteFilter{Type: v1alpha1.FilterResponseHeaderModifier, ResponseHeaderModifier: resp})
			}
			continue
		default:
			return nil, skip("router %s: middleware %s (%s) has no swarmgate filter here; leaving it out would serve what it guards", router, ref, kinds[0])
		}
		filters = append(filters, f)
	}
	if slices.ContainsFunc(filters, func(f v1alpha1.RouteFilter) bool { return f.Type == v1alpha1.FilterRequestRedirect }) && len(filters) > 1 {
		return nil, skip("router %s: a redirectscheme with other middlewares: a redirect answers before them", router)
	}
	return filters, nil
}

// listeners maps a router's entrypoints to the Gateway's listeners; none means all of them, as
// in Traefik.
func (c *converter) listeners(service, router, label, entrypoints string) ([]v1alpha1.SectionName, error) {
	var sections []v1alpha1.SectionName
	for _, ep := range strings.Split(entrypoints, ",") {
		if ep = strings.TrimSpace(ep); ep == "" {
			continue
		}
		s, ok := c.entrypoints[strings.ToLower(ep)]
		if !ok {
			if c.listenerCount == 1 {
				c.note("service %s: router %s: entrypoint %s (label %s) is taken for the Gateway's one listener", service, router, ep, label)
				return nil, nil
			}
			return nil, skip("router %s: entrypoint %s (label %s) is none of the Gateway's listeners", router, ep, label)
		}
		if !slices.Contains(sections, s) {
			sections = append(sections, s)
		}
	}
	slices.Sort(sections)
	return sections, nil
}

// caddy reads a service's caddy-docker-proxy labels: each caddy or caddy_N label is a site, and
// its reverse_proxy to {{upstreams PORT}} is the only directive a Route carries.
func (c *converter) caddy(service string, ls map[string]string) (*routeSet, error) {
	sites := map[string]map[string]string{}
	for k, v := range ls {
		site, directive, _ := strings.Cut(k, ".")
		if !caddyGroup.MatchString(site) {
			continue
		}
		if sites[site] == nil {
			sites[site] = map[string]string{}
		}
		sites[site][directive] = v
	}
	rs := &routeSet{}
	g := routeGroup{rules: []v1alpha1.RouteRule{{BackendRefs: []v1alpha1.BackendRef{{Name: service}}}}}
	for _, site := range slices.Sorted(maps.Keys(sites)) {
		d := sites[site]
		for _, directive := range slices.Sorted(maps.Keys(d)) {
			switch directive {
			case "", "reverse_proxy":
			case "tls":
				c.note("service %s: label %s.tls is not carried over", service, site)
			default:
				return nil, skip("label %s.%s: a caddy directive a Route does not carry (only reverse_proxy {{upstreams PORT}} is)", site, directive)
			}
		}
		m := caddyUpstreams.FindStringSubmatch(strings.TrimSpace(d["reverse_proxy"]))
		if m == nil {
			return nil, skip("label %s.reverse_proxy: want {{upstreams}} or {{upstreams PORT}} alone (a matcher or other upstreams have no Route equivalent)", site)
		}
		port := int32(80) // caddy-docker-proxy's default upstream port
		if m[1] != "" {
			n, err := strconv.ParseInt(m[1], 10, 32)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("label %s.reverse_proxy: not a port (1 to 65535)", site)
			}
			port = int32(n)
		}
		if rs.port != 0 && rs.port != port {
			return nil, skip("its caddy labels name several ports; a Route sends to one")
		}
		rs.port = port
		for _, addr := range strings.FieldsFunc(d[""], func(r rune) bool { return r == ',' || r == ' ' }) {
			h, https, err := caddyAddress(addr)
			if err != nil {
				return nil, skip("label %s: %v", site, err)
			}
			if https {
				c.note("service %s: caddy serves %s over HTTPS (label %s); the Route attaches to the Gateway's listeners, which import makes HTTP: give the listener tls (tls create-secret, or tls.acme) before exposing it", service, h, site)
			}
			if !slices.Contains(g.hostnames, h) {
				g.hostnames = append(g.hostnames, h)
			}
		}
		if d[""] == "" {
			return nil, skip("label %s names no site address", site)
		}
	}
	rs.groups = []routeGroup{g}
	return rs, nil
}

// caddyAddress reads a caddy site address: [scheme://]host[:port]; https tells whether caddy
// serves it over HTTPS (any scheme but http://).
func caddyAddress(addr string) (host v1alpha1.Hostname, https bool, err error) {
	https = !strings.HasPrefix(addr, "http://")
	rest := strings.TrimPrefix(strings.TrimPrefix(addr, "https://"), "http://")
	if strings.Contains(rest, "/") {
		return "", false, fmt.Errorf("a site address with a path has no Route equivalent")
	}
	h, port, hasPort := strings.Cut(rest, ":")
	if h == "" {
		return "", false, fmt.Errorf("a site address without a host matches every host; a Route names its hosts")
	}
	if hasPort && port != "80" && port != "443" {
		return "", false, fmt.Errorf("a site address on port %s: caddy listens there, the Gateway on its own listeners", port)
	}
	return v1alpha1.Hostname(strings.ToLower(h)), https, nil
}
