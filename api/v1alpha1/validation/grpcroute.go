package validation

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// The Gateway API's characters of an exact service ("package.Service") and method.
var (
	grpcService = regexp.MustCompile(`^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`)
	grpcMethod  = regexp.MustCompile(`^[A-Za-z_][A-Za-z_0-9]*$`)
)

var grpcFilterTypes = []v1alpha1.GRPCRouteFilterType{v1alpha1.GRPCRouteFilterType(v1alpha1.FilterRequestHeaderModifier),
	v1alpha1.GRPCRouteFilterType(v1alpha1.FilterResponseHeaderModifier), v1alpha1.GRPCRouteFilterType(v1alpha1.FilterRequestMirror)}

// GRPCFilterTypes are the types of a GRPCRoute's filters, for the JSON Schema.
func GRPCFilterTypes() []v1alpha1.GRPCRouteFilterType { return slices.Clone(grpcFilterTypes) }

// validateGRPCRoute checks what a GRPCRoute has of its own (its matches and filter types), and
// the rest as the Route it is routed as: parents, hostnames, rule names, filters, backends,
// timeouts and retries, at the same paths.
func validateGRPCRoute(g *v1alpha1.GRPCRoute) field.ErrorList {
	p := field.NewPath("spec")
	rt := g.AsRoute()
	var errs field.ErrorList
	for i := range g.Spec.Rules {
		rule := &g.Spec.Rules[i]
		rp := p.Child("rules").Index(i)
		errs = append(errs, tooMany(rp.Child("matches"), len(rule.Matches), v1alpha1.MaxMatches)...)
		for j := range rule.Matches {
			errs = append(errs, validateGRPCMatch(rp.Child("matches").Index(j), &rule.Matches[j])...)
		}
		// The rule's matches are checked here; filters of other types only get their type refused.
		rt.Spec.Rules[i].Matches = nil
		rt.Spec.Rules[i].Filters = nil
		for j, f := range rule.Filters {
			fp := rp.Child("filters").Index(j)
			if e := oneOf(fp.Child("type"), f.Type, grpcFilterTypes...); e != nil {
				errs = append(errs, e...)
				continue
			}
			rt.Spec.Rules[i].Filters = append(rt.Spec.Rules[i].Filters, v1alpha1.RouteFilter{Type: v1alpha1.FilterType(f.Type),
				RequestHeaderModifier: f.RequestHeaderModifier, ResponseHeaderModifier: f.ResponseHeaderModifier, RequestMirror: f.RequestMirror})
			errs = append(errs, grpcHeaderNames(fp.Child(filterFields[v1alpha1.FilterType(f.Type)]), f.RequestHeaderModifier, f.ResponseHeaderModifier)...)
		}
		for j, ref := range rule.BackendRefs {
			for k, f := range ref.Filters {
				fp := rp.Child("backendRefs").Index(j).Child("filters").Index(k).Child(filterFields[f.Type])
				errs = append(errs, grpcHeaderNames(fp, f.RequestHeaderModifier, f.ResponseHeaderModifier)...)
			}
		}
	}
	return append(errs, validateRoute(rt)...)
}

// maxGRPCHeaderLength bounds the names of the headers a GRPCRoute's filters change: nginx's grpc
// module keeps them in a hash of 64-byte buckets that no directive grows.
const maxGRPCHeaderLength = 46

// grpcHeaderNames refuses header names longer than maxGRPCHeaderLength in a GRPCRoute filter's
// header modifier (p is the modifier's path).
func grpcHeaderNames(p *field.Path, mods ...*v1alpha1.HeaderModifier) field.ErrorList {
	var errs field.ErrorList
	for _, m := range mods {
		if m == nil {
			continue
		}
		lists := map[string][]v1alpha1.HeaderName{"remove": m.Remove}
		for _, h := range m.Set {
			lists["set"] = append(lists["set"], h.Name)
		}
		for _, h := range m.Add {
			lists["add"] = append(lists["add"], h.Name)
		}
		for _, list := range []string{"set", "add", "remove"} {
			for i, name := range lists[list] {
				if len(name) > maxGRPCHeaderLength {
					ip := p.Child(list).Index(i)
					if list != "remove" {
						ip = ip.Child("name")
					}
					errs = append(errs, field.Invalid(ip, fmt.Sprintf("is longer than %d characters, the most nginx's grpc module takes", maxGRPCHeaderLength)))
				}
			}
		}
	}
	return errs
}

func validateGRPCMatch(p *field.Path, m *v1alpha1.GRPCRouteMatch) field.ErrorList {
	var errs field.ErrorList
	if mm := m.Method; mm != nil {
		mp := p.Child("method")
		errs = append(errs, oneOf(mp.Child("type"), mm.Type, v1alpha1.GRPCMethodMatchExact, v1alpha1.GRPCMethodMatchRegularExpression)...)
		switch {
		case mm.Service == "" && mm.Method == "":
			errs = append(errs, field.Required(mp, "one or both of service and method"))
		case mm.Type == v1alpha1.GRPCMethodMatchExact:
			if mm.Service != "" && (len(mm.Service) > 1024 || !grpcService.MatchString(mm.Service)) {
				errs = append(errs, field.Invalid(mp.Child("service"), "is not a gRPC service name (dot-separated letters, digits and '_')"))
			}
			if mm.Method != "" && (len(mm.Method) > 1024 || !grpcMethod.MatchString(mm.Method)) {
				errs = append(errs, field.Invalid(mp.Child("method"), "is not a gRPC method name (letters, digits and '_')"))
			}
		case mm.Type == v1alpha1.GRPCMethodMatchRegularExpression:
			if mm.Service != "" {
				errs = append(errs, validateRegex(mp.Child("service"), mm.Service)...)
			}
			if mm.Method != "" {
				errs = append(errs, validateRegex(mp.Child("method"), mm.Method)...)
			}
		}
	}
	errs = append(errs, tooMany(p.Child("headers"), len(m.Headers), v1alpha1.MaxHeaders)...)
	headers := map[string]bool{}
	for i, h := range m.Headers {
		hp := p.Child("headers").Index(i)
		errs = append(errs, oneOf(hp.Child("type"), h.Type, v1alpha1.GRPCHeaderMatchExact, v1alpha1.GRPCHeaderMatchRegularExpression)...)
		if e := validateHeaderName(hp.Child("name"), h.Name); e != nil {
			errs = append(errs, e...)
		} else if !matchHeaderName.MatchString(string(h.Name)) {
			errs = append(errs, field.Invalid(hp.Child("name"), "cannot be matched: header matches support names of letters, digits and '-'"))
		}
		if h.Type == v1alpha1.GRPCHeaderMatchRegularExpression {
			errs = append(errs, validateRegex(hp.Child("value"), h.Value)...)
		} else {
			errs = append(errs, validateHeaderValue(hp.Child("value"), h.Value)...)
		}
		if key := strings.ToLower(string(h.Name)); headers[key] {
			errs = append(errs, field.Duplicate(hp.Child("name"), "header names compare case-insensitively"))
		} else {
			headers[key] = true
		}
	}
	return errs
}

// wideHexEscape is a character by its code ("\x{100}"), which PCRE, as nginx uses it (bytes, not
// UTF-8), takes up to \x{ff} only.
var wideHexEscape = regexp.MustCompile(`\\x\{0*[1-9A-Fa-f][0-9A-Fa-f]{2,}\}`)

// validateRegex accepts the regular expressions nginx (PCRE) reads as Go does: those Go's
// syntax takes, printable, without named groups (in nginx, a named group sets a variable) or
// character codes over \x{ff}.
func validateRegex(p *field.Path, re string) field.ErrorList {
	switch {
	case len(re) > 1024:
		return field.ErrorList{field.Invalid(p, "is longer than 1024 characters")}
	case strings.ContainsFunc(re, isSpaceOrControl):
		return field.ErrorList{field.Invalid(p, "must not contain whitespace or control characters")}
	case strings.Contains(re, "(?P<") || strings.Contains(re, "(?<") || strings.Contains(re, "(?'"):
		return field.ErrorList{field.Invalid(p, "must not have named groups, which nginx makes variables of")}
	case wideHexEscape.MatchString(re):
		return field.ErrorList{field.Invalid(p, `must not name characters over \x{ff} by code: nginx matches bytes; write the character itself`)}
	}
	if _, err := regexp.Compile(re); err != nil {
		return field.ErrorList{field.Invalid(p, "is not a regular expression (Go's syntax, which PCRE also reads)")}
	}
	return nil
}
