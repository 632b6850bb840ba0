package validation

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// ReservedPath is the path the gateway keeps for itself (its health check answers below it in
// every port's default server, which Routes without hostnames share).
const ReservedPath = "/.well-known/swarmgate"

func validateRoute(r *v1alpha1.Route) field.ErrorList {
	s := &r.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList

	if len(s.ParentRefs) == 0 {
		errs = append(errs, field.Required(p.Child("parentRefs"), "at least one gateway"))
	}
	errs = append(errs, tooMany(p.Child("parentRefs"), len(s.ParentRefs), v1alpha1.MaxParentRefs)...)
	errs = append(errs, tooMany(p.Child("hostnames"), len(s.Hostnames), v1alpha1.MaxHostnames)...)
	errs = append(errs, tooMany(p.Child("rules"), len(s.Rules), v1alpha1.MaxRules)...)
	errs = append(errs, tooMany(p.Child("services"), len(s.Services), v1alpha1.MaxServices)...)
	parents := map[v1alpha1.ParentRef]bool{}
	for i, ref := range s.ParentRefs {
		pp := p.Child("parentRefs").Index(i)
		if ref.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), "the name of a Gateway"))
		} else {
			errs = append(errs, validateDNSLabel(pp.Child("name"), ref.Name)...)
		}
		if ref.SectionName != "" {
			errs = append(errs, validateDNSLabel(pp.Child("sectionName"), string(ref.SectionName))...)
		}
		if ref.Namespace != "" {
			errs = append(errs, validateDNSLabel(pp.Child("namespace"), ref.Namespace)...)
		}
		if parents[ref] {
			errs = append(errs, field.Duplicate(pp, ""))
		}
		parents[ref] = true
	}

	hosts := map[v1alpha1.Hostname]bool{}
	for i, h := range s.Hostnames {
		hp := p.Child("hostnames").Index(i)
		errs = append(errs, validateHostname(hp, h, true)...)
		if hosts[h] {
			errs = append(errs, field.Duplicate(hp, ""))
		}
		hosts[h] = true
	}

	if len(s.Rules) == 0 {
		errs = append(errs, field.Required(p.Child("rules"), "at least one rule"))
	}
	ruleNames := map[v1alpha1.SectionName]bool{}
	for i, rule := range s.Rules {
		if rule.Name == nil {
			continue
		}
		np := p.Child("rules").Index(i).Child("name")
		errs = append(errs, validateDNSLabel(np, string(*rule.Name))...)
		if ruleNames[*rule.Name] {
			errs = append(errs, field.Duplicate(np, "another rule of this Route has it"))
		}
		ruleNames[*rule.Name] = true
	}
	for i := range s.Rules {
		errs = append(errs, validateRule(p.Child("rules").Index(i), &s.Rules[i], s.Services)...)
	}

	services := map[string]bool{}
	for i := range s.Services {
		sp := p.Child("services").Index(i)
		svc := &s.Services[i]
		errs = append(errs, validateRouteService(sp, svc)...)
		if ns := r.Metadata.Namespace; ns != "" && len(v1alpha1.StackName(ns, svc.Name)) > v1alpha1.MaxServiceNameLength {
			errs = append(errs, field.Invalid(sp.Child("name"), "with the route's namespace is longer than 63 characters, the limit of swarm service names"))
		}
		if services[svc.Name] {
			errs = append(errs, field.Duplicate(sp.Child("name"), ""))
		}
		services[svc.Name] = true
	}
	return append(errs, validateRequestBody(p.Child("requestBody"), s.RequestBody)...)
}

// gatewayDurationFormat is the Gateway API's duration (GEP-2257): up to four groups of up to five
// digits, each with a unit of h, m, s or ms.
var gatewayDurationFormat = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

// gatewayDuration parses a Gateway API duration.
func gatewayDuration(d v1alpha1.Duration) (time.Duration, bool) {
	if !gatewayDurationFormat.MatchString(string(d)) {
		return 0, false
	}
	v, err := time.ParseDuration(string(d))
	return v, err == nil
}

// validateRetry refuses what nginx's proxy_next_upstream cannot do.
func validateRetry(p *field.Path, r *v1alpha1.RouteRetry) field.ErrorList {
	errs := tooMany(p.Child("codes"), len(r.Codes), len(v1alpha1.RetryableCodes))
	for i, code := range r.Codes {
		switch {
		case code < 400 || code > 599:
			errs = append(errs, field.Invalid(p.Child("codes").Index(i), "must be 400 to 599"))
		case !slices.Contains(v1alpha1.RetryableCodes, code):
			errs = append(errs, field.Invalid(p.Child("codes").Index(i), "is not one nginx can retry on (403, 404, 429, 500, 502, 503, 504)"))
		}
	}
	if r.Attempts != nil && (*r.Attempts < 0 || *r.Attempts > 10) {
		errs = append(errs, field.Invalid(p.Child("attempts"), "must be 0 to 10"))
	}
	if r.Backoff != nil {
		errs = append(errs, field.Forbidden(p.Child("backoff"), "nginx retries at once and cannot wait between attempts; leave backoff out"))
	}
	return errs
}

// validateSessionPersistence refuses what nginx, which keeps no session state, cannot do: a
// session ends only when the client drops its token, so the one timeout it can keep is a
// permanent cookie's Max-Age.
func validateSessionPersistence(p *field.Path, sp *v1alpha1.SessionPersistence) field.ErrorList {
	var errs field.ErrorList
	if len(sp.SessionName) > maxSessionName || !matchHeaderName.MatchString(sp.SessionName) {
		errs = append(errs, field.Invalid(p.Child("sessionName"), fmt.Sprintf("must be letters, digits and '-', at most %d", maxSessionName)))
	}
	errs = append(errs, oneOf(p.Child("type"), sp.Type, v1alpha1.SessionPersistenceCookie, v1alpha1.SessionPersistenceHeader)...)
	if sp.IdleTimeout != nil {
		errs = append(errs, field.Forbidden(p.Child("idleTimeout"), "nginx keeps no session state to measure idleness by; leave idleTimeout out"))
	}
	if sp.AbsoluteTimeout != nil {
		if d, ok := gatewayDuration(*sp.AbsoluteTimeout); !ok || d < time.Second {
			errs = append(errs, field.Invalid(p.Child("absoluteTimeout"), "must be a duration of at least 1s, such as 1h"))
		}
	}
	if sp.Type == v1alpha1.SessionPersistenceHeader {
		if sp.CookieConfig != nil {
			errs = append(errs, field.Forbidden(p.Child("cookieConfig"), "is for type Cookie"))
		}
		if sp.AbsoluteTimeout != nil {
			errs = append(errs, field.Forbidden(p.Child("absoluteTimeout"), "a header session ends only when the client drops it; use type Cookie with lifetimeType Permanent"))
		}
		return errs
	}
	lifetime := v1alpha1.CookieLifetimeSession
	if sp.CookieConfig != nil {
		lifetime = sp.CookieConfig.LifetimeType
		errs = append(errs, oneOf(p.Child("cookieConfig", "lifetimeType"), lifetime, v1alpha1.CookieLifetimeSession, v1alpha1.CookieLifetimePermanent)...)
	}
	switch {
	case lifetime == v1alpha1.CookieLifetimePermanent && sp.AbsoluteTimeout == nil:
		errs = append(errs, field.Required(p.Child("absoluteTimeout"), "a Permanent cookie's lifetime"))
	case lifetime == v1alpha1.CookieLifetimeSession && sp.AbsoluteTimeout != nil:
		errs = append(errs, field.Forbidden(p.Child("absoluteTimeout"), "nginx keeps no session state to end a Session cookie's session by; set cookieConfig.lifetimeType Permanent, whose cookie expires then"))
	}
	return errs
}

// maxSessionName is the Gateway API's bound on a session's name.
const maxSessionName = 128

// services are the Route's spec.services: a backendRef naming one takes its port.
func validateRule(p *field.Path, rule *v1alpha1.RouteRule, services []v1alpha1.RouteService) field.ErrorList {
	errs := tooMany(p.Child("matches"), len(rule.Matches), v1alpha1.MaxMatches)
	if t := rule.Timeouts; t != nil {
		tp := p.Child("timeouts")
		var request, backend time.Duration
		var requestOK, backendOK bool
		if t.Request != nil {
			request, requestOK = gatewayDuration(*t.Request)
			if !requestOK {
				errs = append(errs, field.Invalid(tp.Child("request"), `is not a Gateway API duration ("10s", "1m30s", "500ms")`))
			}
		}
		if t.BackendRequest != nil {
			backend, backendOK = gatewayDuration(*t.BackendRequest)
			if !backendOK {
				errs = append(errs, field.Invalid(tp.Child("backendRequest"), `is not a Gateway API duration ("10s", "1m30s", "500ms")`))
			}
		}
		if requestOK && backendOK && request > 0 && backend > request {
			errs = append(errs, field.Invalid(tp.Child("backendRequest"), "is longer than timeouts.request, which bounds the whole request"))
		}
	}
	if r := rule.Retry; r != nil {
		errs = append(errs, validateRetry(p.Child("retry"), r)...)
	}
	if sp := rule.SessionPersistence; sp != nil {
		errs = append(errs, validateSessionPersistence(p.Child("sessionPersistence"), sp)...)
	}
	errs = append(errs, tooMany(p.Child("filters"), len(rule.Filters), v1alpha1.MaxFilters)...)
	errs = append(errs, tooMany(p.Child("backendRefs"), len(rule.BackendRefs), v1alpha1.MaxBackendRefs)...)
	for i := range rule.Matches {
		errs = append(errs, validateMatch(p.Child("matches").Index(i), &rule.Matches[i])...)
	}

	seen := map[v1alpha1.FilterType]bool{}
	var redirect, rewrite bool
	for i := range rule.Filters {
		fp := p.Child("filters").Index(i)
		f := &rule.Filters[i]
		errs = append(errs, validateFilter(fp, f, rule)...)
		if seen[f.Type] && f.Type != v1alpha1.FilterRequestMirror {
			errs = append(errs, field.Duplicate(fp.Child("type"), "each filter type but RequestMirror may appear once per rule"))
		}
		seen[f.Type] = true
		redirect = redirect || f.Type == v1alpha1.FilterRequestRedirect
		rewrite = rewrite || f.Type == v1alpha1.FilterURLRewrite
	}
	if redirect && seen[v1alpha1.FilterRequestMirror] {
		errs = append(errs, field.Forbidden(p.Child("filters"), "a RequestRedirect answers before anything is mirrored; RequestMirror does not go with it"))
	}
	if redirect && rewrite {
		errs = append(errs, field.Forbidden(p.Child("filters"), "RequestRedirect and URLRewrite cannot both be used in one rule"))
	}
	if redirect && len(rule.BackendRefs) > 0 {
		errs = append(errs, field.Forbidden(p.Child("backendRefs"), "a rule with a RequestRedirect answers every request itself and has no backends"))
	}

	for i, b := range rule.BackendRefs {
		bp := p.Child("backendRefs").Index(i)
		if g := b.Group; g != nil && *g != "" && (len(*g) > 253 || !apiGroup.MatchString(*g)) {
			errs = append(errs, field.Invalid(bp.Child("group"), "is not an API group (a DNS subdomain)"))
		}
		if k := b.Kind; k != nil && (len(*k) > 63 || !apiKind.MatchString(*k)) {
			errs = append(errs, field.Invalid(bp.Child("kind"), "is not a kind (a letter, then letters, digits and '-')"))
		}
		maxName := v1alpha1.MaxServiceNameLength
		if !b.IsService() {
			maxName = 253 // only reported, never a swarm name
		}
		switch {
		case b.Name == "":
			errs = append(errs, field.Required(bp.Child("name"), "the name of a swarm service"))
		case len(b.Name) > maxName || !serviceName.MatchString(b.Name):
			errs = append(errs, field.Invalid(bp.Child("name"), "is not a valid service name"))
		}
		if b.Namespace != "" {
			errs = append(errs, validateDNSLabel(bp.Child("namespace"), b.Namespace)...)
		}
		switch {
		case b.Port != nil:
			errs = append(errs, validatePort(bp.Child("port"), *b.Port)...)
		case b.IsService():
			errs = append(errs, missingPort(bp, b.Name, services))
		}
		if b.Weight != nil && (*b.Weight < 0 || *b.Weight > v1alpha1.MaxWeight) {
			errs = append(errs, field.Invalid(bp.Child("weight"), fmt.Sprintf("must be 0 to %d", v1alpha1.MaxWeight)))
		}
		errs = append(errs, validateBackendFilters(bp.Child("filters"), b.Filters, rule)...)
		if b.Attach && !b.IsService() {
			errs = append(errs, field.Forbidden(bp.Child("attach"), "only a swarm service can be attached to the gateway's network"))
		}
	}
	return errs
}

func validateMatch(p *field.Path, m *v1alpha1.RouteMatch) field.ErrorList {
	errs := tooMany(p.Child("headers"), len(m.Headers), v1alpha1.MaxHeaders)
	errs = append(errs, tooMany(p.Child("queryParams"), len(m.QueryParams), v1alpha1.MaxQueryParams)...)
	if m.Path != nil {
		errs = append(errs, oneOf(p.Child("path", "type"), m.Path.Type, v1alpha1.PathMatchExact, v1alpha1.PathMatchPathPrefix)...)
		errs = append(errs, validatePath(p.Child("path", "value"), m.Path.Value)...)
		if d := strings.TrimRight(v1alpha1.DecodedPath(m.Path.Value), "/"); d == ReservedPath || strings.HasPrefix(d, ReservedPath+"/") {
			errs = append(errs, field.Invalid(p.Child("path", "value"), "is under "+ReservedPath+", which the gateway keeps for its health check"))
		}
	}
	headers := map[string]bool{}
	for i, h := range m.Headers {
		hp := p.Child("headers").Index(i)
		errs = append(errs, oneOf(hp.Child("type"), h.Type, v1alpha1.MatchExact)...)
		if e := validateHeaderName(hp.Child("name"), h.Name); e != nil {
			errs = append(errs, e...)
		} else if !matchHeaderName.MatchString(string(h.Name)) {
			errs = append(errs, field.Invalid(hp.Child("name"), "cannot be matched: header matches support names of letters, digits and '-'"))
		}
		errs = append(errs, validateHeaderValue(hp.Child("value"), h.Value)...)
		if key := strings.ToLower(string(h.Name)); headers[key] {
			errs = append(errs, field.Duplicate(hp.Child("name"), "header names compare case-insensitively"))
		} else {
			headers[key] = true
		}
	}
	params := map[string]bool{}
	for i, q := range m.QueryParams {
		qp := p.Child("queryParams").Index(i)
		errs = append(errs, oneOf(qp.Child("type"), q.Type, v1alpha1.MatchExact)...)
		if len(q.Name) > 256 || !queryParamName.MatchString(q.Name) {
			errs = append(errs, field.Invalid(qp.Child("name"), "is not a supported query parameter name (letters, digits and '_')"))
		}
		errs = append(errs, validateHeaderValue(qp.Child("value"), q.Value)...)
		if params[q.Name] {
			errs = append(errs, field.Duplicate(qp.Child("name"), ""))
		}
		params[q.Name] = true
	}
	if m.Method != "" {
		errs = append(errs, oneOf(p.Child("method"), m.Method, httpMethods...)...)
	}
	return errs
}

var filterTypes = []v1alpha1.FilterType{v1alpha1.FilterRequestHeaderModifier, v1alpha1.FilterResponseHeaderModifier,
	v1alpha1.FilterRequestRedirect, v1alpha1.FilterURLRewrite, v1alpha1.FilterRequestMirror, v1alpha1.FilterCORS}

// FilterFields are the JSON names of the fields that go with each filter type, for the JSON
// Schema.
func FilterFields() map[v1alpha1.FilterType]string { return maps.Clone(filterFields) }

// filterFields are the JSON names of the fields that go with each filter type.
var filterFields = map[v1alpha1.FilterType]string{
	v1alpha1.FilterRequestHeaderModifier:  "requestHeaderModifier",
	v1alpha1.FilterResponseHeaderModifier: "responseHeaderModifier",
	v1alpha1.FilterRequestRedirect:        "requestRedirect",
	v1alpha1.FilterURLRewrite:             "urlRewrite",
	v1alpha1.FilterRequestMirror:          "requestMirror",
	v1alpha1.FilterCORS:                   "cors",
}

func validateFilter(p *field.Path, f *v1alpha1.RouteFilter, rule *v1alpha1.RouteRule) field.ErrorList {
	errs := oneOf(p.Child("type"), f.Type, filterTypes...)
	// Exactly the field named by type is set.
	set := map[v1alpha1.FilterType]bool{
		v1alpha1.FilterRequestHeaderModifier:  f.RequestHeaderModifier != nil,
		v1alpha1.FilterResponseHeaderModifier: f.ResponseHeaderModifier != nil,
		v1alpha1.FilterRequestRedirect:        f.RequestRedirect != nil,
		v1alpha1.FilterURLRewrite:             f.URLRewrite != nil,
		v1alpha1.FilterRequestMirror:          f.RequestMirror != nil,
		v1alpha1.FilterCORS:                   f.CORS != nil,
	}
	for _, t := range filterTypes {
		name := filterFields[t]
		switch {
		case t == f.Type && !set[t]:
			errs = append(errs, field.Required(p.Child(name), fmt.Sprintf("type %s needs it", t)))
		case t != f.Type && set[t]:
			errs = append(errs, field.Forbidden(p.Child(name), fmt.Sprintf("it does not go with type %s", f.Type)))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	switch f.Type {
	case v1alpha1.FilterRequestHeaderModifier:
		errs = append(errs, validateHeaderModifier(p.Child("requestHeaderModifier"), f.RequestHeaderModifier)...)
	case v1alpha1.FilterResponseHeaderModifier:
		errs = append(errs, validateHeaderModifier(p.Child("responseHeaderModifier"), f.ResponseHeaderModifier)...)
	case v1alpha1.FilterRequestRedirect:
		rp := p.Child("requestRedirect")
		rd := f.RequestRedirect
		if rd.Scheme != "" {
			errs = append(errs, oneOf(rp.Child("scheme"), rd.Scheme, "http", "https")...)
		}
		if rd.Hostname != "" {
			errs = append(errs, validateHostname(rp.Child("hostname"), rd.Hostname, false)...)
		}
		if rd.Port != nil {
			errs = append(errs, validatePort(rp.Child("port"), *rd.Port)...)
		}
		errs = append(errs, validatePathModifier(rp.Child("path"), rd.Path, rule)...)
		if rd.StatusCode != nil {
			switch *rd.StatusCode {
			case 301, 302, 303, 307, 308:
			default:
				errs = append(errs, field.Invalid(rp.Child("statusCode"), "is not a redirect status (301, 302, 303, 307 or 308)"))
			}
		}
	case v1alpha1.FilterURLRewrite:
		up := p.Child("urlRewrite")
		if f.URLRewrite.Hostname != "" {
			errs = append(errs, validateHostname(up.Child("hostname"), f.URLRewrite.Hostname, false)...)
		}
		errs = append(errs, validatePathModifier(up.Child("path"), f.URLRewrite.Path, rule)...)
	case v1alpha1.FilterRequestMirror:
		errs = append(errs, validateMirror(p.Child("requestMirror"), f.RequestMirror)...)
	case v1alpha1.FilterCORS:
		errs = append(errs, validateCORS(p.Child("cors"), f.CORS)...)
	}
	return errs
}

// corsOrigin is an origin the CORS filter allows: http or https, a host that may start with
// "*" (or be "*"), and a port.
var corsOrigin = regexp.MustCompile(`^https?://(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)(:[0-9]{1,5})?$`)

// validateCORS checks a CORS filter's lists, each a wildcard alone or values of their kind.
func validateCORS(p *field.Path, c *v1alpha1.CORSFilter) field.ErrorList {
	errs := tooMany(p.Child("allowOrigins"), len(c.AllowOrigins), 64)
	errs = append(errs, tooMany(p.Child("allowMethods"), len(c.AllowMethods), 9)...)
	errs = append(errs, tooMany(p.Child("allowHeaders"), len(c.AllowHeaders), 64)...)
	errs = append(errs, tooMany(p.Child("exposeHeaders"), len(c.ExposeHeaders), 64)...)
	wildcardAlone := func(lp *field.Path, values []string) {
		if slices.Contains(values, "*") && len(values) > 1 {
			errs = append(errs, field.Invalid(lp, `holds "*" with other values; "*" alone allows all`))
		}
	}
	wildcardAlone(p.Child("allowOrigins"), c.AllowOrigins)
	for i, o := range c.AllowOrigins {
		if o == "*" {
			continue
		}
		m := corsOrigin.FindStringSubmatch(o)
		if m == nil {
			errs = append(errs, field.Invalid(p.Child("allowOrigins").Index(i), `is not an origin ("https://shop.example.com", "https://*.example.com:8443")`))
			continue
		}
		if port := m[6]; port != "" {
			if n, err := strconv.Atoi(port[1:]); err != nil || n < 1 || n > 65535 {
				errs = append(errs, field.Invalid(p.Child("allowOrigins").Index(i), "has a port outside 1 to 65535"))
			}
		}
	}
	wildcardAlone(p.Child("allowMethods"), c.AllowMethods)
	for i, m := range c.AllowMethods {
		if m != "*" {
			errs = append(errs, oneOf(p.Child("allowMethods").Index(i), v1alpha1.HTTPMethod(m), httpMethods...)...)
		}
	}
	headers := func(lp *field.Path, names []v1alpha1.HeaderName) {
		values := make([]string, len(names))
		for i, h := range names {
			values[i] = string(h)
			if h != "*" {
				errs = append(errs, validateHeaderName(lp.Index(i), h)...)
			}
		}
		wildcardAlone(lp, values)
	}
	headers(p.Child("allowHeaders"), c.AllowHeaders)
	headers(p.Child("exposeHeaders"), c.ExposeHeaders)
	if c.AllowCredentials != nil && *c.AllowCredentials && slices.Contains(c.ExposeHeaders, "*") {
		errs = append(errs, field.Invalid(p.Child("exposeHeaders"), `is "*", which browsers read as a header name when credentials are allowed; name the headers`))
	}
	if c.MaxAge < 1 {
		errs = append(errs, field.Invalid(p.Child("maxAge"), "must be at least 1 (second)"))
	}
	return errs
}

// validateBackendFilters checks the filters of one backendRef: request header changes only,
// once, on names nginx can pass a client's value of (letters, digits, '-').
func validateBackendFilters(p *field.Path, filters []v1alpha1.RouteFilter, rule *v1alpha1.RouteRule) field.ErrorList {
	errs := tooMany(p, len(filters), 1)
	for i := range filters {
		fp := p.Index(i)
		f := &filters[i]
		if f.Type != v1alpha1.FilterRequestHeaderModifier {
			errs = append(errs, field.Invalid(fp.Child("type"), "is not RequestHeaderModifier, the one filter of a backendRef here; put the others on the rule"))
			continue
		}
		fe := validateFilter(fp, f, rule)
		errs = append(errs, fe...)
		if len(fe) > 0 || f.RequestHeaderModifier == nil {
			continue
		}
		m := f.RequestHeaderModifier
		check := func(lp *field.Path, j int, name v1alpha1.HeaderName) {
			if !matchHeaderName.MatchString(string(name)) {
				errs = append(errs, field.Invalid(lp.Index(j).Child("name"), "on a backendRef, a header name is letters, digits and '-'"))
			}
		}
		mp := fp.Child("requestHeaderModifier")
		for j, h := range m.Set {
			check(mp.Child("set"), j, h.Name)
		}
		for j, h := range m.Add {
			check(mp.Child("add"), j, h.Name)
		}
		for j, name := range m.Remove {
			if !matchHeaderName.MatchString(string(name)) {
				errs = append(errs, field.Invalid(mp.Child("remove").Index(j), "on a backendRef, a header name is letters, digits and '-'"))
			}
		}
	}
	return errs
}

// missingPort reports a backendRef without a port. When its name is a near miss of a spec.services
// entry's, the name is the likelier mistake: that entry's port would have been taken.
func missingPort(bp *field.Path, name string, services []v1alpha1.RouteService) *field.Error {
	names := make([]string, 0, len(services))
	for _, svc := range services {
		if svc.Port != nil {
			names = append(names, svc.Name)
		}
	}
	if best := field.Nearest(name, names); best != "" {
		return field.Invalid(bp.Child("name"), fmt.Sprintf("is no spec.services entry (did you mean %q, whose port it would take?); a service declared elsewhere needs backendRefs[].port", best))
	}
	return field.Required(bp.Child("port"), "the port the service listens on (it defaults only for a spec.services entry with a port)")
}

// validateMirror checks a mirror's service and share.
func validateMirror(p *field.Path, m *v1alpha1.RequestMirror) field.ErrorList {
	bp := p.Child("backendRef")
	ref := m.BackendRef
	var errs field.ErrorList
	switch {
	case !ref.IsService():
		errs = append(errs, field.Invalid(bp.Child("kind"), "a mirror's backend is a swarm service (group \"\", kind Service)"))
	case ref.Name == "":
		errs = append(errs, field.Required(bp.Child("name"), "the name of a swarm service"))
	case len(ref.Name) > v1alpha1.MaxServiceNameLength || !serviceName.MatchString(ref.Name):
		errs = append(errs, field.Invalid(bp.Child("name"), "is not a valid service name"))
	}
	if ref.Namespace != "" {
		errs = append(errs, validateDNSLabel(bp.Child("namespace"), ref.Namespace)...)
	}
	if ref.Port == nil {
		errs = append(errs, field.Required(bp.Child("port"), "the port the service listens on (it defaults only for a spec.services entry with a port)"))
	} else {
		errs = append(errs, validatePort(bp.Child("port"), *ref.Port)...)
	}
	if ref.Weight != nil {
		errs = append(errs, field.Forbidden(bp.Child("weight"), "a mirror takes a percent or a fraction, not a weight"))
	}
	if len(ref.Filters) > 0 {
		errs = append(errs, field.Forbidden(bp.Child("filters"), "a mirror's copies are sent as received"))
	}
	if ref.Attach {
		errs = append(errs, field.Forbidden(bp.Child("attach"), "attach the service through a backendRef of the rule"))
	}
	switch f := m.Fraction; {
	case m.Percent != nil && f != nil:
		errs = append(errs, field.Forbidden(p.Child("fraction"), "give percent or fraction, not both"))
	case m.Percent != nil && (*m.Percent < 0 || *m.Percent > 100):
		errs = append(errs, field.Invalid(p.Child("percent"), "must be 0 to 100"))
	case f != nil && f.Denominator != nil && (*f.Denominator < 1 || f.Numerator < 0 || f.Numerator > *f.Denominator):
		errs = append(errs, field.Invalid(p.Child("fraction"), "must be a numerator from 0 to a denominator of at least 1"))
	}
	return errs
}

func validateHeaderModifier(p *field.Path, m *v1alpha1.HeaderModifier) field.ErrorList {
	errs := tooMany(p.Child("set"), len(m.Set), v1alpha1.MaxHeaders)
	errs = append(errs, tooMany(p.Child("add"), len(m.Add), v1alpha1.MaxHeaders)...)
	errs = append(errs, tooMany(p.Child("remove"), len(m.Remove), v1alpha1.MaxHeaders)...)
	if len(m.Set)+len(m.Add)+len(m.Remove) == 0 {
		errs = append(errs, field.Required(p, "at least one header to set, add or remove"))
	}
	seen := map[string]bool{}
	claim := func(fp *field.Path, name v1alpha1.HeaderName) {
		if e := validateHeaderName(fp, name); e != nil {
			errs = append(errs, e...)
			return
		}
		key := strings.ToLower(string(name))
		if seen[key] {
			errs = append(errs, field.Duplicate(fp, "a header may be named once per modifier"))
		}
		seen[key] = true
	}
	for _, list := range []struct {
		name    string
		headers []v1alpha1.HTTPHeader
	}{{"set", m.Set}, {"add", m.Add}} {
		for i, h := range list.headers {
			hp := p.Child(list.name).Index(i)
			claim(hp.Child("name"), h.Name)
			if list.name == "add" && headerToken.MatchString(string(h.Name)) && !matchHeaderName.MatchString(string(h.Name)) {
				// Appending reads the header's current value as an nginx $http_ variable.
				errs = append(errs, field.Invalid(hp.Child("name"), "cannot be appended to: add supports names of letters, digits and '-'"))
			}
			errs = append(errs, validateHeaderValue(hp.Child("value"), h.Value)...)
		}
	}
	for i, name := range m.Remove {
		claim(p.Child("remove").Index(i), name)
	}
	return errs
}

func validatePathModifier(p *field.Path, m *v1alpha1.PathModifier, rule *v1alpha1.RouteRule) field.ErrorList {
	if m == nil {
		return nil
	}
	errs := oneOf(p.Child("type"), m.Type, v1alpha1.ReplaceFullPath, v1alpha1.ReplacePrefixMatch)
	switch m.Type {
	case v1alpha1.ReplaceFullPath:
		if m.ReplacePrefixMatch != "" {
			errs = append(errs, field.Forbidden(p.Child("replacePrefixMatch"), "it does not go with type ReplaceFullPath"))
		}
		errs = append(errs, validatePath(p.Child("replaceFullPath"), m.ReplaceFullPath)...)
	case v1alpha1.ReplacePrefixMatch:
		if m.ReplaceFullPath != "" {
			errs = append(errs, field.Forbidden(p.Child("replaceFullPath"), "it does not go with type ReplacePrefixMatch"))
		}
		errs = append(errs, validatePath(p.Child("replacePrefixMatch"), m.ReplacePrefixMatch)...)
		for _, match := range rule.Matches {
			if match.Path == nil || match.Path.Type != v1alpha1.PathMatchPathPrefix {
				errs = append(errs, field.Forbidden(p.Child("type"), "ReplacePrefixMatch needs every match of the rule to be a PathPrefix match"))
				break
			}
		}
	}
	return errs
}

func validateRouteService(p *field.Path, svc *v1alpha1.RouteService) field.ErrorList {
	var errs field.ErrorList
	if svc.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, validateDNSLabel(p.Child("name"), svc.Name)...)
	}
	if svc.Mode.Job() {
		errs = append(errs, field.Forbidden(p.Child("mode"), "a Route's service serves requests; declare a job as a Service"))
	}
	if svc.Hook != nil {
		errs = append(errs, field.Forbidden(p.Child("hook"), "only a job is a hook; declare it as a Service"))
	}
	return append(errs, validateServiceSpec(p, &svc.ServiceSpec)...)
}

// validateServiceSpec checks how a service runs, a Service's or a Route's.
func validateServiceSpec(p *field.Path, svc *v1alpha1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateImage(p.Child("image"), svc.Image)...)
	for i, a := range svc.Args {
		if strings.ContainsRune(a, 0) {
			errs = append(errs, field.Invalid(p.Child("args").Index(i), "must not contain NUL"))
		}
	}
	errs = append(errs, validateServiceMode(p, svc)...)
	if svc.Zone != "" {
		errs = append(errs, validateDNSLabel(p.Child("zone"), svc.Zone)...)
	}
	if svc.Port != nil {
		errs = append(errs, validatePort(p.Child("port"), *svc.Port)...)
	}
	env := map[string]bool{}
	errs = append(errs, tooMany(p.Child("env"), len(svc.Env), v1alpha1.MaxEnv)...)
	for i, e := range svc.Env {
		ep := p.Child("env").Index(i)
		if !envName.MatchString(e.Name) {
			errs = append(errs, field.Invalid(ep.Child("name"), "is not a valid environment variable name"))
		}
		if env[e.Name] {
			errs = append(errs, field.Duplicate(ep.Child("name"), ""))
		}
		env[e.Name] = true
		if strings.ContainsRune(e.Value, 0) {
			errs = append(errs, field.Invalid(ep.Child("value"), "must not contain NUL"))
		}
	}
	errs = append(errs, oneOf(p.Child("endpointMode"), svc.EndpointMode, v1alpha1.EndpointModeVIP, v1alpha1.EndpointModeDNSRR)...)
	errs = append(errs, validateUpdatePolicy(p.Child("updatePolicy"), svc.UpdatePolicy)...)
	errs = append(errs, validateRestartPolicy(p.Child("restartPolicy"), svc.RestartPolicy)...)
	errs = append(errs, validateFileMounts(p, svc)...)
	errs = append(errs, validateDependencies(p, svc)...)
	errs = append(errs, validateServiceRuntime(p, svc)...)
	return append(errs, validateResources(p.Child("resources"), svc.Resources)...)
}

// validateFileMounts checks the secrets and configs a service mounts.
func validateFileMounts(p *field.Path, svc *v1alpha1.ServiceSpec) field.ErrorList {
	var mountErrs field.ErrorList
	for _, kind := range []string{"secrets", "configs"} {
		mounts := svc.Secrets
		if kind == "configs" {
			mounts = svc.Configs
		}
		targets := map[string]bool{}
		for j, fm := range mounts {
			mp := p.Child(kind).Index(j)
			if len(fm.Name) > v1alpha1.MaxSecretNameLength || !secretName.MatchString(fm.Name) {
				mountErrs = append(mountErrs, field.Invalid(mp.Child("name"), "is not a swarm "+strings.TrimSuffix(kind, "s")+" name"))
			}
			target := fm.Target
			if target == "" {
				target = fm.Name
			}
			if len(target) > 255 || strings.Contains(target, "..") || strings.ContainsFunc(target, isSpaceOrControl) || strings.HasSuffix(target, "/") ||
				(!strings.HasPrefix(target, "/") && strings.Contains(target, "/")) {
				mountErrs = append(mountErrs, field.Invalid(mp.Child("target"), "is not an absolute file path or a file name"))
			}
			if targets[target] {
				mountErrs = append(mountErrs, field.Duplicate(mp.Child("target"), "two files at one path"))
			}
			targets[target] = true
			for _, id := range []struct{ name, v string }{{"uid", fm.UID}, {"gid", fm.GID}} {
				if id.v != "" && !numericID.MatchString(id.v) {
					mountErrs = append(mountErrs, field.Invalid(mp.Child(id.name), "is not a numeric ID"))
				}
			}
			if fm.Mode != "" && !fileMode.MatchString(fm.Mode) {
				mountErrs = append(mountErrs, field.Invalid(mp.Child("mode"), `is not an octal file mode ("0400")`))
			}
		}
	}
	return mountErrs
}

var (
	// placementConstraint is a constraint swarm takes: a node attribute or label, == or !=, a value.
	placementConstraint = regexp.MustCompile(`^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9][A-Za-z0-9._/-]*)|engine\.labels\.[A-Za-z0-9][A-Za-z0-9._/-]*) *(==|!=) *[A-Za-z0-9._/-]+$`)
	// spreadLabel is what a placement preference spreads over.
	spreadLabel = regexp.MustCompile(`^(node|engine)\.labels\.[A-Za-z0-9][A-Za-z0-9._/-]*$`)
	// volumeName is what docker calls a volume.
	volumeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// signalName is a signal by name ("SIGINT", "INT") or number.
	signalName = regexp.MustCompile(`^((SIG)?[A-Z][A-Z0-9+-]*|[0-9]{1,2})$`)
)

// validateServiceRuntime checks how a service runs: command, hostname, mounts, health
// check, placement, networks and stopping.
func validateServiceRuntime(p *field.Path, svc *v1alpha1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	for i, a := range svc.Command {
		if strings.ContainsRune(a, 0) {
			errs = append(errs, field.Invalid(p.Child("command").Index(i), "must not contain NUL"))
		}
	}
	if h := svc.Hostname; h != "" && (len(h) > 253 || strings.ContainsFunc(h, isSpaceOrControl)) {
		errs = append(errs, field.Invalid(p.Child("hostname"), "is not a hostname (at most 253 characters, no spaces or control characters)"))
	}
	errs = append(errs, tooMany(p.Child("mounts"), len(svc.Mounts), 32)...)
	targets := map[string]bool{}
	for i, m := range svc.Mounts {
		mp := p.Child("mounts").Index(i)
		errs = append(errs, oneOf(mp.Child("type"), m.Type, v1alpha1.MountVolume, v1alpha1.MountBind, v1alpha1.MountTmpfs)...)
		switch {
		case !absolutePath(m.Target):
			errs = append(errs, field.Invalid(mp.Child("target"), "is not an absolute path without '..'"))
		case targets[path.Clean(m.Target)]:
			errs = append(errs, field.Duplicate(mp.Child("target"), "another mount has it"))
		}
		targets[path.Clean(m.Target)] = true
		switch m.Type {
		case v1alpha1.MountBind:
			if !absolutePath(m.Source) {
				errs = append(errs, field.Invalid(mp.Child("source"), "is not the node's absolute path (without '..') a bind mounts"))
			}
		case v1alpha1.MountTmpfs:
			if m.Source != "" {
				errs = append(errs, field.Forbidden(mp.Child("source"), "a tmpfs has no source"))
			}
		default:
			if m.Source != "" && (len(m.Source) > 255 || !volumeName.MatchString(m.Source)) {
				errs = append(errs, field.Invalid(mp.Child("source"), "is not a volume name"))
			}
		}
		if m.Size != "" {
			if m.Type != v1alpha1.MountTmpfs {
				errs = append(errs, field.Forbidden(mp.Child("size"), "only a tmpfs has a size"))
			} else if _, err := v1alpha1.ParseMemory(m.Size); err != nil {
				errs = append(errs, field.Invalid(mp.Child("size"), err.Error()))
			}
		}
	}
	if h := svc.Healthcheck; h != nil {
		hp := p.Child("healthcheck")
		switch {
		case len(h.Test) == 0:
			errs = append(errs, field.Required(hp.Child("test"), `["CMD", program, args...], ["CMD-SHELL", command], or ["NONE"]`))
		case h.Test[0] == "NONE" && len(h.Test) != 1, h.Test[0] == "CMD" && len(h.Test) < 2, h.Test[0] == "CMD-SHELL" && len(h.Test) != 2:
			errs = append(errs, field.Invalid(hp.Child("test"), `is not ["CMD", program, args...], ["CMD-SHELL", command], or ["NONE"]`))
		case h.Test[0] != "NONE" && h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL":
			errs = append(errs, field.Invalid(hp.Child("test").Index(0), `is not CMD, CMD-SHELL or NONE`))
		}
		for i, a := range h.Test {
			if strings.ContainsRune(a, 0) {
				errs = append(errs, field.Invalid(hp.Child("test").Index(i), "must not contain NUL"))
			}
		}
		for _, d := range []struct {
			name string
			v    *v1alpha1.Duration
		}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"startPeriod", h.StartPeriod}} {
			errs = append(errs, validateServiceDuration(hp.Child(d.name), d.v)...)
		}
		if h.Retries != nil && (*h.Retries < 0 || *h.Retries > 100) {
			errs = append(errs, field.Invalid(hp.Child("retries"), "must be 0 to 100"))
		}
	}
	if pl := svc.Placement; pl != nil {
		pp := p.Child("placement")
		errs = append(errs, tooMany(pp.Child("constraints"), len(pl.Constraints), 32)...)
		errs = append(errs, tooMany(pp.Child("preferences"), len(pl.Preferences), 8)...)
		for i, c := range pl.Constraints {
			if len(c) > 512 || !placementConstraint.MatchString(c) {
				errs = append(errs, field.Invalid(pp.Child("constraints").Index(i), `is not a placement constraint ("node.labels.disk==ssd", "node.role!=manager")`))
			}
		}
		for i, pref := range pl.Preferences {
			if len(pref.Spread) > 256 || !spreadLabel.MatchString(pref.Spread) {
				errs = append(errs, field.Invalid(pp.Child("preferences").Index(i).Child("spread"), `is not a node label ("node.labels.rack")`))
			}
		}
		if m := pl.MaxReplicasPerNode; m != nil && *m < 0 {
			errs = append(errs, field.Invalid(pp.Child("maxReplicasPerNode"), "must be 0 (no bound) or more"))
		}
		if pl.MaxReplicasPerNode != nil && *pl.MaxReplicasPerNode > 0 && (svc.Mode == v1alpha1.ServiceModeGlobal || svc.Mode == v1alpha1.ServiceModeGlobalJob) {
			errs = append(errs, field.Forbidden(pp.Child("maxReplicasPerNode"), "a global service runs one task per node already"))
		}
	}
	errs = append(errs, tooMany(p.Child("networks"), len(svc.Networks), 16)...)
	nets := map[string]bool{}
	for i, n := range svc.Networks {
		np := p.Child("networks").Index(i)
		switch {
		case len(n) > v1alpha1.MaxNetworkNameLength || !networkName.MatchString(n):
			errs = append(errs, field.Invalid(np, "is not a network name"))
		case nets[n]:
			errs = append(errs, field.Duplicate(np, ""))
		}
		nets[n] = true
	}
	if s := svc.StopSignal; s != "" && (len(s) > 16 || !signalName.MatchString(s)) {
		errs = append(errs, field.Invalid(p.Child("stopSignal"), `is not a signal ("SIGINT", "SIGQUIT", "15")`))
	}
	return append(errs, validateServiceDuration(p.Child("stopGracePeriod"), svc.StopGracePeriod)...)
}

// absolutePath tells whether p is an absolute path that does not climb with "..".
func absolutePath(p string) bool {
	return strings.HasPrefix(p, "/") && len(p) <= 4096 && !strings.ContainsRune(p, 0) && !slices.Contains(strings.Split(p, "/"), "..")
}

// validateServiceDuration checks a Go duration of a service's: positive, at most a day.
func validateServiceDuration(p *field.Path, d *v1alpha1.Duration) field.ErrorList {
	if d == nil {
		return nil
	}
	if v, err := time.ParseDuration(string(*d)); err != nil || v <= 0 || v > 24*time.Hour {
		return field.ErrorList{field.Invalid(p, `is not a duration from 1ns to 24h ("30s", "1m30s")`)}
	}
	return nil
}

// tooMany reports a list longer than its limit (v1alpha1.Max*).
func tooMany(p *field.Path, n, limit int) field.ErrorList {
	if n <= limit {
		return nil
	}
	return field.ErrorList{field.Errorf(p, "has %d items; at most %d are allowed", n, limit)}
}

// exceedsListLimits reports whether a route's lists exceed what the cross-route checks take on.
func exceedsListLimits(r *v1alpha1.Route) bool {
	s := &r.Spec
	if len(s.ParentRefs) > v1alpha1.MaxParentRefs || len(s.Hostnames) > v1alpha1.MaxHostnames || len(s.Rules) > v1alpha1.MaxRules {
		return true
	}
	for _, rule := range s.Rules {
		if len(rule.Matches) > v1alpha1.MaxMatches {
			return true
		}
	}
	return false
}
