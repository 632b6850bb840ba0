package validation

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Limits on the lists of policies.
const (
	maxPolicyTargets = 16
	maxPolicyCIDRs   = 64
)

// validateTargetRefs checks a policy's targetRefs on their own: kinds allows Gateway, and Route
// unless the policy acts before a Route is chosen.
func validateTargetRefs(p *field.Path, refs []v1alpha1.PolicyTargetRef, kinds ...v1alpha1.Kind) field.ErrorList {
	if len(refs) == 0 {
		return field.ErrorList{field.Required(p, "at least one Gateway, listener, Route or rule")}
	}
	errs := tooMany(p, len(refs), maxPolicyTargets)
	for i, t := range refs {
		tp := p.Index(i)
		if t.Group != nil && *t.Group != "swarmgate.io" {
			errs = append(errs, field.NotSupported(tp.Child("group"), "swarmgate.io"))
		}
		errs = append(errs, oneOf(tp.Child("kind"), t.Kind, kinds...)...)
		if t.Name == "" {
			errs = append(errs, field.Required(tp.Child("name"), ""))
		} else {
			errs = append(errs, validateDNSLabel(tp.Child("name"), t.Name)...)
		}
		if t.SectionName != nil {
			errs = append(errs, validateDNSLabel(tp.Child("sectionName"), string(*t.SectionName))...)
		}
		for j := range i {
			if refs[j].Same(t) {
				errs = append(errs, field.Duplicate(tp, "the same target as targetRefs["+strconv.Itoa(j)+"]"))
			}
		}
	}
	return errs
}

// validateCIDRs checks a list of addresses and CIDRs as nginx's allow, deny and set_real_ip_from
// take them: a prefix without host bits set (nginx would warn and ignore them).
func validateCIDRs(p *field.Path, list []string) field.ErrorList {
	errs := tooMany(p, len(list), maxPolicyCIDRs)
	for i, s := range list {
		if _, err := netip.ParseAddr(s); err == nil {
			continue
		}
		prefix, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(p.Index(i), "must be an IP address or a CIDR such as 192.0.2.0/24"))
		case prefix.Masked() != prefix:
			errs = append(errs, field.Invalid(p.Index(i), "has host bits set; write the network address of the CIDR"))
		}
	}
	return errs
}

func validateLimitStatus(p *field.Path, code *int32) field.ErrorList {
	if code != nil && (*code < 400 || *code > 599) {
		return field.ErrorList{field.Invalid(p, "must be 400 to 599")}
	}
	return nil
}

func validateSecurityPolicy(sp *v1alpha1.SecurityPolicy) field.ErrorList {
	p := field.NewPath("spec")
	errs := validateTargetRefs(p.Child("targetRefs"), sp.Spec.TargetRefs, v1alpha1.KindGateway, v1alpha1.KindRoute)
	if sp.Spec.BasicAuth == nil && sp.Spec.IPAccess == nil && sp.Spec.ForwardAuth == nil {
		errs = append(errs, field.Required(p, "at least one of basicAuth, ipAccess, forwardAuth"))
	}
	if a := sp.Spec.ForwardAuth; a != nil {
		errs = append(errs, validateForwardAuth(p.Child("forwardAuth"), a)...)
	}
	if a := sp.Spec.BasicAuth; a != nil {
		ap := p.Child("basicAuth")
		switch {
		case a.Secret == "":
			errs = append(errs, field.Required(ap.Child("secret"), "the swarm secret holding the htpasswd file"))
		case len(a.Secret) > 64 || !secretName.MatchString(a.Secret):
			errs = append(errs, field.Invalid(ap.Child("secret"), "must be a swarm secret name"))
		}
		errs = append(errs, validateHeaderValue(ap.Child("realm"), a.Realm)...)
	}
	if a := sp.Spec.IPAccess; a != nil {
		ap := p.Child("ipAccess")
		if len(a.Allow) == 0 && len(a.Deny) == 0 {
			errs = append(errs, field.Required(ap, "at least one of allow, deny"))
		}
		errs = append(errs, validateCIDRs(ap.Child("allow"), a.Allow)...)
		errs = append(errs, validateCIDRs(ap.Child("deny"), a.Deny)...)
	}
	return errs
}

func validateClientTrafficPolicy(cp *v1alpha1.ClientTrafficPolicy) field.ErrorList {
	p := field.NewPath("spec")
	errs := validateTargetRefs(p.Child("targetRefs"), cp.Spec.TargetRefs, v1alpha1.KindGateway)
	d := cp.Spec.ClientIPDetection
	switch {
	case d == nil:
		errs = append(errs, field.Required(p.Child("clientIPDetection"), ""))
	case len(d.TrustedProxies) == 0:
		errs = append(errs, field.Required(p.Child("clientIPDetection", "trustedProxies"), "the CIDRs of the proxies in front of the gateway"))
	default:
		errs = append(errs, validateCIDRs(p.Child("clientIPDetection", "trustedProxies"), d.TrustedProxies)...)
	}
	return errs
}

func validateBackendTrafficPolicy(bp *v1alpha1.BackendTrafficPolicy) field.ErrorList {
	p := field.NewPath("spec")
	errs := validateTargetRefs(p.Child("targetRefs"), bp.Spec.TargetRefs, v1alpha1.KindGateway, v1alpha1.KindRoute)
	if bp.Spec.RateLimit == nil && bp.Spec.ConnectionLimit == nil && bp.Spec.Compression == nil && bp.Spec.SessionPersistence == nil {
		errs = append(errs, field.Required(p, "at least one of rateLimit, connectionLimit, compression, sessionPersistence"))
	}
	if sp := bp.Spec.SessionPersistence; sp != nil {
		errs = append(errs, validateSessionPersistence(p.Child("sessionPersistence"), sp)...)
	}
	if c := bp.Spec.Compression; c != nil {
		cp := p.Child("compression")
		errs = append(errs, tooMany(cp.Child("contentTypes"), len(c.ContentTypes), maxCompressedTypes)...)
		for i, t := range c.ContentTypes {
			if !mediaType.MatchString(t) {
				errs = append(errs, field.Invalid(cp.Child("contentTypes").Index(i), "must be a media type such as text/css"))
			}
		}
		if c.MinLength != nil && *c.MinLength < 0 {
			errs = append(errs, field.Invalid(cp.Child("minLength"), "must not be negative"))
		}
	}
	if r := bp.Spec.RateLimit; r != nil {
		rp := p.Child("rateLimit")
		if r.Requests < 1 {
			errs = append(errs, field.Invalid(rp.Child("requests"), "must be at least 1"))
		}
		if r.Unit != "" {
			errs = append(errs, oneOf(rp.Child("unit"), r.Unit, v1alpha1.RateUnitSecond, v1alpha1.RateUnitMinute)...)
		}
		if r.Burst != nil && *r.Burst < 0 {
			errs = append(errs, field.Invalid(rp.Child("burst"), "must not be negative"))
		}
		errs = append(errs, validateLimitStatus(rp.Child("statusCode"), r.StatusCode)...)
	}
	if c := bp.Spec.ConnectionLimit; c != nil {
		cp := p.Child("connectionLimit")
		if c.Connections < 1 {
			errs = append(errs, field.Invalid(cp.Child("connections"), "must be at least 1"))
		}
		errs = append(errs, validateLimitStatus(cp.Child("statusCode"), c.StatusCode)...)
	}
	return errs
}

// checkPolicyTargets checks that each target of a policy is in the set: the Gateway with the
// listener, the Route with the rule it names.
func (s set) checkPolicyTargets(pol v1alpha1.Policy) field.ErrorList {
	var errs field.ErrorList
	for i, t := range pol.Targets() {
		tp := field.NewPath("spec", "targetRefs").Index(i)
		switch t.Kind {
		case v1alpha1.KindGateway:
			gw := s.gateways[t.Name]
			switch {
			case gw == nil:
				errs = append(errs, field.Invalid(tp.Child("name"), "names no Gateway"))
			case t.SectionName != nil && gw.Listener(*t.SectionName) == nil:
				errs = append(errs, field.Invalid(tp.Child("sectionName"), "names no listener of Gateway "+t.Name))
			case t.SectionName != nil && gw.Listener(*t.SectionName).Protocol.Stream():
				errs = append(errs, field.Invalid(tp.Child("sectionName"), "names a "+string(gw.Listener(*t.SectionName).Protocol)+" listener; policies apply to HTTP and HTTPS listeners"))
			}
		case v1alpha1.KindRoute:
			rt := s.routes[t.Name]
			switch {
			case rt == nil:
				errs = append(errs, field.Invalid(tp.Child("name"), "names no Route"))
			case t.SectionName != nil && !hasRule(rt, *t.SectionName):
				errs = append(errs, field.Invalid(tp.Child("sectionName"), "names no rule of Route "+t.Name))
			}
		}
	}
	return errs
}

func hasRule(rt *v1alpha1.Route, name v1alpha1.SectionName) bool {
	for _, r := range rt.Spec.Rules {
		if r.Name != nil && *r.Name == name {
			return true
		}
	}
	return false
}

// checkProxyProtocol reports, for each Gateway, a port some of whose listeners take the PROXY
// protocol and others not (nginx would expect it on all), a VirtualIP tracking such a port (its
// health check sends no PROXY header), and a policy on an HTTPS listener sharing its port with TLS
// listeners (the port's stream server sends its servers the client's address by the PROXY
// protocol, and nginx reads the address from one place only). The error is the
// ClientTrafficPolicy's that brought it.
func checkProxyProtocol(objs []v1alpha1.Object) field.ErrorList {
	clients := v1alpha1.PoliciesOf[*v1alpha1.ClientTrafficPolicy](objs)
	if len(clients) == 0 {
		return nil
	}
	var errs field.ErrorList
	for _, o := range objs {
		gw, ok := o.(*v1alpha1.Gateway)
		if !ok {
			continue
		}
		// Per port, the policy that turns the PROXY protocol on, and a listener without it.
		withPP := map[v1alpha1.PortNumber]*v1alpha1.ClientTrafficPolicy{}
		ppTarget := map[v1alpha1.PortNumber]int{}
		without := map[v1alpha1.PortNumber]v1alpha1.SectionName{}
		for _, l := range gw.Spec.Listeners {
			p, target, ok := v1alpha1.Applying(clients, v1alpha1.PolicyScope{Gateway: gw, Listener: l.Name})
			if ok && l.Protocol == v1alpha1.ProtocolHTTPS && slices.ContainsFunc(gw.Spec.Listeners, func(o v1alpha1.Listener) bool {
				return o.Port == l.Port && o.Protocol == v1alpha1.ProtocolTLS
			}) {
				errs = append(errs, withObject(field.ErrorList{field.Invalid(field.NewPath("spec", "targetRefs").Index(target), fmt.Sprintf(
					"applies to HTTPS listener %s of Gateway %s, which shares port %d with TLS listeners: the gateway's stream server there gives it the client's address, and nginx takes the address from one source only; target other listeners",
					l.Name, gw.Metadata.Name, l.Port))}, p)...)
				continue
			}
			if ok && p.Spec.ClientIPDetection != nil && p.Spec.ClientIPDetection.ProxyProtocol {
				if l.Protocol.Stream() {
					// nginx's stream servers here take no PROXY header, nor pass one on.
					errs = append(errs, withObject(field.ErrorList{field.Invalid(field.NewPath("spec", "targetRefs").Index(target), fmt.Sprintf(
						"turns on the PROXY protocol for %s listener %s of Gateway %s, which takes none: target the gateway's HTTP and HTTPS listeners", l.Protocol, l.Name, gw.Metadata.Name))}, p)...)
					continue
				}
				if withPP[l.Port] == nil {
					withPP[l.Port], ppTarget[l.Port] = p, target
				}
			} else if _, seen := without[l.Port]; !seen {
				without[l.Port] = l.Name
			}
		}
		for _, l := range gw.Spec.Listeners {
			p := withPP[l.Port]
			if p == nil {
				continue
			}
			tp := field.NewPath("spec", "targetRefs").Index(ppTarget[l.Port])
			if other, ok := without[l.Port]; ok {
				errs = append(errs, withObject(field.ErrorList{field.Invalid(tp, fmt.Sprintf(
					"turns on the PROXY protocol on port %d of Gateway %s, which listener %s shares without it; nginx takes it for a whole port: target every listener of the port", l.Port, gw.Metadata.Name, other))}, p)...)
			}
			delete(withPP, l.Port) // one error per port
			for _, x := range objs {
				vip, ok := x.(*v1alpha1.VirtualIP)
				if !ok || vip.Spec.TrackGateway == nil || vip.Spec.TrackGateway.Name != gw.Metadata.Name {
					continue
				}
				tracked := gw.TrackedListener(vip.Spec.TrackGateway.Listener)
				if tracked != nil && tracked.Port == l.Port {
					errs = append(errs, withObject(field.ErrorList{field.Invalid(tp, fmt.Sprintf(
						"turns on the PROXY protocol on port %d, which %s tracks; its health check sends no PROXY header: track another listener", l.Port, originOf(vip)))}, p)...)
				}
			}
		}
	}
	return errs
}

// maxCompressedTypes bounds the media types a compression names.
const maxCompressedTypes = 32

// mediaType is a media type without parameters: RFC 6838's type/subtype, which nginx's
// gzip_types takes as one token.
var mediaType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`)

// maxForwardedHeaders bounds the headers a forward authentication copies to backends.
const maxForwardedHeaders = 16

// gatewayHeaders are the headers the gateway sends every backend (the renderer's
// forwardingHeaders, which its tests hold to this list): an auth service's answer cannot replace
// them.
var gatewayHeaders = []string{"Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP", "Upgrade", "Connection", "X-Request-Id"}

// maxCopiedHeaderLength bounds the name of a header forward authentication copies.
const maxCopiedHeaderLength = 46

func validateForwardAuth(p *field.Path, a *v1alpha1.ForwardAuth) field.ErrorList {
	var errs field.ErrorList
	up := p.Child("url")
	u, err := url.Parse(a.URL)
	switch {
	case a.URL == "":
		errs = append(errs, field.Required(up, "the auth service's endpoint, e.g. http://authelia:9091/api/authz/forward-auth"))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "":
		errs = append(errs, field.Invalid(up, "must be an http:// or https:// URL"))
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		errs = append(errs, field.Invalid(up, "must have no user, query or fragment"))
	case !validHost(u.Hostname()):
		errs = append(errs, field.Invalid(up, "must name a swarm service, a host name or an IP address"))
	case u.Port() != "" && !validPortString(u.Port()):
		errs = append(errs, field.Invalid(up, "has a port out of 1 to 65535"))
	case u.Path != "":
		errs = append(errs, validatePath(up, u.EscapedPath())...)
	}
	hp := p.Child("headersToBackend")
	errs = append(errs, tooMany(hp, len(a.HeadersToBackend), maxForwardedHeaders)...)
	for i, h := range a.HeadersToBackend {
		// Each becomes the name of an nginx variable holding the service's answer, and joins
		// nginx's hash of the headers sent to backends, whose default buckets take 46 bytes.
		switch {
		case !matchHeaderName.MatchString(string(h)) || len(h) > maxCopiedHeaderLength:
			errs = append(errs, field.Invalid(hp.Index(i), fmt.Sprintf("must be a header name of letters, digits and '-', at most %d long", maxCopiedHeaderLength)))
		case slices.ContainsFunc(gatewayHeaders, func(g string) bool { return strings.EqualFold(g, string(h)) }):
			errs = append(errs, field.Invalid(hp.Index(i), "is a header the gateway sets for every backend itself"))
		}
	}
	return errs
}

func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return len(h) <= 253 && serviceName.MatchString(h)
}

func validPortString(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}
