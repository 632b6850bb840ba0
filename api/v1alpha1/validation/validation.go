// Package validation checks swarmgate objects, each on its own and the set as a whole, and returns
// every problem it finds with the object's origin and the field's path. Objects are validated after
// defaulting, so rules see the values the reconciler will use.
package validation

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Validate validates every object on its own, then the relations between them (references,
// conflicts, duplicates). It returns all errors, each naming origin, object and field.
func Validate(objs []v1alpha1.Object) field.ErrorList {
	var errs field.ErrorList
	for _, o := range objs {
		errs = append(errs, ValidateObject(o)...)
	}
	return append(errs, validateSet(objs)...)
}

// ValidateObject validates one object on its own.
func ValidateObject(o v1alpha1.Object) field.ErrorList {
	errs := validateMeta(o.GetObjectMeta())
	switch o := o.(type) {
	case *v1alpha1.Gateway:
		// A Gateway's service is named "<namespace>_<name>", as a Service's is; the names of other
		// kinds become no swarm name of that length (a Route's services are checked by their own
		// names).
		if m := o.Metadata; len(errs) == 0 && len(m.QualifiedName()) > v1alpha1.MaxServiceNameLength {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), "with its namespace is longer than 63 characters, the limit of swarm service names"))
		}
		errs = append(errs, validateGateway(o)...)
	case *v1alpha1.Route:
		errs = append(errs, validateRoute(o)...)
	case *v1alpha1.GRPCRoute:
		errs = append(errs, validateGRPCRoute(o)...)
	case v1alpha1.StreamRoute:
		errs = append(errs, validateStreamRoute(o)...)
	case *v1alpha1.Service:
		if m := o.Metadata; len(errs) == 0 && len(m.QualifiedName()) > v1alpha1.MaxServiceNameLength {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), "with its namespace is longer than 63 characters, the limit of swarm service names"))
		}
		errs = append(errs, validateService(o)...)
	case *v1alpha1.Secret:
		errs = append(errs, validateSourceFile(&o.Spec)...)
	case *v1alpha1.Config:
		errs = append(errs, validateSourceFile(&o.Spec)...)
	case *v1alpha1.VirtualIP:
		errs = append(errs, validateVirtualIP(o)...)
	case *v1alpha1.Zone:
		errs = append(errs, validateZone(o)...)
	case *v1alpha1.ReferenceGrant:
		errs = append(errs, validateReferenceGrant(o)...)
	case *v1alpha1.SecurityPolicy:
		errs = append(errs, validateSecurityPolicy(o)...)
	case *v1alpha1.ClientTrafficPolicy:
		errs = append(errs, validateClientTrafficPolicy(o)...)
	case *v1alpha1.BackendTrafficPolicy:
		errs = append(errs, validateBackendTrafficPolicy(o)...)
	case *v1alpha1.BackendTLSPolicy:
		errs = append(errs, validateBackendTLSPolicy(o)...)
	}
	return withObject(errs, o)
}

func withObject(errs field.ErrorList, o v1alpha1.Object) field.ErrorList {
	return errs.WithObject(o.GetObjectMeta().Origin.At, v1alpha1.Ref(o))
}

// originOf formats where another object is, for errors that name two objects.
func originOf(o v1alpha1.Object) string {
	return fmt.Sprintf("%s (%s)", v1alpha1.Ref(o), o.GetObjectMeta().Origin)
}

func validateMeta(m *v1alpha1.ObjectMeta) field.ErrorList {
	p := field.NewPath("metadata")
	var errs field.ErrorList
	if m.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, validateDNSLabel(p.Child("name"), m.Name)...)
	}
	if m.Namespace != "" {
		errs = append(errs, validateDNSLabel(p.Child("namespace"), m.Namespace)...)
	}
	return append(errs, validateLabels(p.Child("labels"), m.Labels)...)
}

func validateGateway(g *v1alpha1.Gateway) field.ErrorList {
	s := &g.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	errs = append(errs, validateImage(p.Child("image"), s.Image)...)
	errs = append(errs, validateReplicas(p, s.Mode, s.Replicas)...)
	if s.Zone != "" {
		errs = append(errs, validateDNSLabel(p.Child("zone"), s.Zone)...)
	}
	if len(s.Listeners) == 0 {
		errs = append(errs, field.Required(p.Child("listeners"), "at least one listener"))
	}
	errs = append(errs, tooMany(p.Child("listeners"), len(s.Listeners), v1alpha1.MaxListeners)...)
	names := map[v1alpha1.SectionName]bool{}
	ports := map[string]*v1alpha1.Listener{} // by transport and port: UDP has ports of its own
	firstHTTPS := map[v1alpha1.PortNumber]*v1alpha1.Listener{}
	hosts := map[string]bool{}
	for i, l := range s.Listeners {
		lp := p.Child("listeners").Index(i)
		if l.Name == "" {
			errs = append(errs, field.Required(lp.Child("name"), ""))
		} else {
			errs = append(errs, validateDNSLabel(lp.Child("name"), string(l.Name))...)
		}
		if names[l.Name] {
			errs = append(errs, field.Duplicate(lp.Child("name"), ""))
		}
		names[l.Name] = true
		errs = append(errs, validatePort(lp.Child("port"), l.Port)...)
		if l.Hostname != nil {
			errs = append(errs, validateHostname(lp.Child("hostname"), *l.Hostname, true)...)
		}
		// Listeners may share a port when they differ by hostname, as the Gateway API allows;
		// one port speaks one protocol (or TLS and HTTPS, told apart by the server name) and is
		// published one way. UDP ports are apart from the others.
		host := "(none)"
		if l.Hostname != nil {
			host = string(*l.Hostname)
		}
		portKey := transport(l.Protocol) + "/" + strconv.Itoa(int(l.Port))
		if first := ports[portKey]; first != nil {
			switch {
			case !sharePort(first.Protocol, l.Protocol) || first.PublishMode != l.PublishMode:
				errs = append(errs, field.Invalid(lp.Child("port"), "is also listener "+string(first.Name)+"'s, with another protocol or publish mode"))
			case l.Protocol == v1alpha1.ProtocolTCP:
				errs = append(errs, field.Duplicate(lp.Child("port"), "is also TCP listener "+string(first.Name)+"'s; a TCP listener takes every connection of its port"))
			case l.Protocol == v1alpha1.ProtocolHTTPS && firstHTTPS[l.Port] != nil && minTLS(firstHTTPS[l.Port]) != minTLS(&l):
				errs = append(errs, field.Invalid(lp.Child("tls", "options").Key(v1alpha1.TLSOptionMinVersion),
					"differs from listener "+string(firstHTTPS[l.Port].Name)+"'s on the same port; nginx agrees on the TLS version before it knows the host, so one port has one minimum"))
			case hosts[portKey+"/"+host]:
				errs = append(errs, field.Duplicate(lp.Child("port"), "another listener of this gateway publishes it for the same hostname; give each a different hostname"))
			}
		} else {
			ports[portKey] = &s.Listeners[i]
		}
		if l.Protocol == v1alpha1.ProtocolHTTPS && firstHTTPS[l.Port] == nil {
			firstHTTPS[l.Port] = &s.Listeners[i]
		}
		hosts[portKey+"/"+host] = true
		errs = append(errs, oneOf(lp.Child("protocol"), l.Protocol, v1alpha1.ProtocolHTTP, v1alpha1.ProtocolHTTPS,
			v1alpha1.ProtocolTLS, v1alpha1.ProtocolTCP, v1alpha1.ProtocolUDP)...)
		if l.Protocol.Stream() {
			errs = append(errs, validateStreamListener(lp, &l, s.Agent != nil, s.Network.Isolation)...)
		}
		errs = append(errs, oneOf(lp.Child("publishMode"), l.PublishMode, v1alpha1.PublishModeIngress, v1alpha1.PublishModeHost)...)
		errs = append(errs, validateListenerTLS(lp, &l)...)
		if a := l.AllowedRoutes; a != nil {
			errs = append(errs, validateAllowedRoutes(lp.Child("allowedRoutes"), a, l.Protocol)...)
		}
	}
	// ACME's HTTP-01 challenge comes in on port 80 of the host, through the gateway's HTTP
	// listener, which hands it to the operator: the agent's operatorURL says where that is.
	for i, l := range s.Listeners {
		if l.TLS == nil || l.TLS.ACME == nil || !l.TLS.ACME.HTTP01() {
			continue
		}
		ap := p.Child("listeners").Index(i).Child("tls", "acme")
		if s.Agent == nil {
			errs = append(errs, field.Invalid(ap, "needs spec.agent: the gateway hands the ACME server's challenges to the operator at its operatorURL"))
		}
		if g.HealthListener() == nil {
			errs = append(errs, field.Invalid(ap, "needs an HTTP listener on the gateway (port 80 where clients reach it), which the ACME server's HTTP-01 challenge comes in on"))
		}
	}
	np := p.Child("network")
	if !NetworkName(s.Network.Name) {
		errs = append(errs, field.Invalid(np.Child("name"), "is not a valid network name"))
	}
	errs = append(errs, oneOf(np.Child("isolation"), s.Network.Isolation, v1alpha1.IsolationShared, v1alpha1.IsolationPerRoute)...)
	errs = append(errs, validateUpdatePolicy(p.Child("updatePolicy"), s.UpdatePolicy)...)
	errs = append(errs, validateUpdatePolicy(p.Child("rollbackPolicy"), s.RollbackPolicy)...)
	errs = append(errs, validateRestartPolicy(p.Child("restartPolicy"), s.RestartPolicy)...)
	if a := s.Agent; a != nil {
		ap := p.Child("agent")
		// Both unset: an operator on the swarm gives its own (desired.AgentDefaults).
		if why := OperatorURL(a.OperatorURL); a.OperatorURL != "" && why != "" {
			errs = append(errs, field.Invalid(ap.Child("operatorURL"), why))
		}
		if a.TokenSecret != "" && (len(a.TokenSecret) > v1alpha1.MaxSecretNameLength || !secretName.MatchString(a.TokenSecret)) {
			errs = append(errs, field.Invalid(ap.Child("tokenSecret"), "is not a swarm secret name"))
		}
		switch {
		case a.CASecret == "":
		case len(a.CASecret) > v1alpha1.MaxSecretNameLength || !secretName.MatchString(a.CASecret):
			errs = append(errs, field.Invalid(ap.Child("caSecret"), "is not a swarm secret name"))
		case !strings.HasPrefix(a.OperatorURL, "https://"):
			errs = append(errs, field.Invalid(ap.Child("caSecret"), "needs an https operatorURL: the agents trust these CAs for the operator's TLS certificate"))
		}
	}
	errs = append(errs, validateRequestBody(p.Child("requestBody"), s.RequestBody)...)
	if d := s.IdleTimeout; d != nil {
		if v, ok := gatewayDuration(*d); !ok || v <= 0 {
			errs = append(errs, field.Invalid(p.Child("idleTimeout"), `is not a Gateway API duration longer than 0 ("90s", "1h", "500ms")`))
		}
	}
	errs = append(errs, validateAccessLog(p.Child("accessLog"), s.AccessLog)...)
	return append(errs, validateResources(p.Child("resources"), s.Resources)...)
}

// validateAccessLog checks a gateway's access log filters.
func validateAccessLog(p *field.Path, a *v1alpha1.AccessLog) field.ErrorList {
	if a == nil {
		return nil
	}
	errs := validateDuration(p.Child("slowerThan"), a.SlowerThan)
	if sp := a.SamplePercent; sp != nil && (*sp < 1 || *sp > 100) {
		errs = append(errs, field.Invalid(p.Child("samplePercent"), "must be 1 to 100 (to log nothing, set enabled: false)"))
	}
	return errs
}

// validateDNS01 checks how the operator reaches the DNS server that takes the challenge records.
func validateDNS01(p *field.Path, d *v1alpha1.ACMEDNS01) field.ErrorList {
	r := d.RFC2136
	if r == nil {
		return field.ErrorList{field.Required(p.Child("rfc2136"), "the DNS server that takes the challenge's TXT records (RFC 2136 dynamic updates)")}
	}
	p = p.Child("rfc2136")
	var errs field.ErrorList
	if !validNameserver(r.Nameserver) {
		errs = append(errs, field.Invalid(p.Child("nameserver"), `is not a "host" or "host:port" address`))
	}
	if r.TSIGKeyName != "" && (len(r.TSIGKeyName) > 253 || !tsigKeyName.MatchString(r.TSIGKeyName)) {
		errs = append(errs, field.Invalid(p.Child("tsigKeyName"), "is not a DNS name"))
	}
	if r.TSIGAlgorithm != "" {
		errs = append(errs, oneOf(p.Child("tsigAlgorithm"), r.TSIGAlgorithm, v1alpha1.TSIGHMACSHA1, v1alpha1.TSIGHMACSHA256, v1alpha1.TSIGHMACSHA512)...)
	}
	if ref := r.TSIGSecretRef; ref != nil && (len(ref.Name) > v1alpha1.MaxSecretNameLength || !secretName.MatchString(ref.Name)) {
		errs = append(errs, field.Invalid(p.Child("tsigSecretRef", "name"), "is not a swarm secret name"))
	}
	// A key name without its secret, or the reverse, would send unsigned updates the user meant
	// to sign.
	switch {
	case r.TSIGKeyName != "" && r.TSIGSecretRef == nil:
		errs = append(errs, field.Required(p.Child("tsigSecretRef"), "the swarm secret holding the TSIG key's secret"))
	case r.TSIGKeyName == "" && (r.TSIGSecretRef != nil || r.TSIGAlgorithm != ""):
		errs = append(errs, field.Required(p.Child("tsigKeyName"), "the TSIG key's name, as the DNS server knows it"))
	}
	return errs
}

// validNameserver tells whether s is a host or host:port a DNS client can dial.
func validNameserver(s string) bool {
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	if net.ParseIP(host) != nil {
		return true
	}
	return len(host) <= 253 && nodeHostname.MatchString(host)
}

// validateAllowedRoutes checks what a listener says of the Routes it takes.
func validateAllowedRoutes(p *field.Path, a *v1alpha1.AllowedRoutes, protocol v1alpha1.ListenerProtocol) field.ErrorList {
	var errs field.ErrorList
	if n := a.Namespaces; n != nil && n.From != "" {
		if n.From == "Selector" {
			errs = append(errs, field.Invalid(p.Child("namespaces", "from"), "is Selector, which needs namespace labels; stacks have none: use Same or All"))
		} else {
			errs = append(errs, oneOf(p.Child("namespaces", "from"), n.From, v1alpha1.NamespacesFromSame, v1alpha1.NamespacesFromAll)...)
		}
	}
	errs = append(errs, tooMany(p.Child("kinds"), len(a.Kinds), 8)...)
	want := routeKinds(protocol)
	for i, k := range a.Kinds {
		if !slices.Contains(want, v1alpha1.Kind(k.Kind)) || k.Group != nil && *k.Group != "swarmgate.io" {
			errs = append(errs, field.Invalid(p.Child("kinds").Index(i), "is not a kind of route an "+string(protocol)+" listener takes: "+kindList(want)+", group swarmgate.io"))
		}
	}
	return errs
}

// minTLS is a listener's minimum TLS version.
func minTLS(l *v1alpha1.Listener) string {
	if l.TLS == nil || l.TLS.Options[v1alpha1.TLSOptionMinVersion] == "" {
		return "1.2"
	}
	return l.TLS.Options[v1alpha1.TLSOptionMinVersion]
}

// validateListenerTLS checks what an HTTPS listener needs (a certificate) and what an HTTP one
// may not have.
func validateListenerTLS(lp *field.Path, l *v1alpha1.Listener) field.ErrorList {
	var errs field.ErrorList
	if l.Protocol.Stream() {
		return nil // validateStreamListener
	}
	if l.Protocol != v1alpha1.ProtocolHTTPS {
		if l.TLS != nil {
			errs = append(errs, field.Forbidden(lp.Child("tls"), "only an HTTPS listener has TLS"))
		}
		if r := l.RedirectToHTTPS; r != nil && r.Port != nil {
			errs = append(errs, validatePort(lp.Child("redirectToHTTPS", "port"), *r.Port)...)
		}
		return errs
	}
	if l.RedirectToHTTPS != nil {
		errs = append(errs, field.Forbidden(lp.Child("redirectToHTTPS"), "an HTTPS listener does not redirect to itself"))
	}
	tp := lp.Child("tls")
	if l.TLS == nil {
		return append(errs, field.Required(tp, "an HTTPS listener needs tls.certificateRefs"))
	}
	errs = append(errs, oneOf(tp.Child("mode"), l.TLS.Mode, v1alpha1.TLSModeTerminate)...)
	switch a := l.TLS.ACME; {
	case a == nil && len(l.TLS.CertificateRefs) == 0:
		errs = append(errs, field.Required(tp.Child("certificateRefs"), "name the swarm secret holding the certificate and its key, or set tls.acme"))
	case a != nil && len(l.TLS.CertificateRefs) > 0:
		errs = append(errs, field.Forbidden(tp.Child("acme"), "a listener takes its certificate from certificateRefs or from ACME, not both"))
	case a != nil:
		ap := tp.Child("acme")
		if u, err := url.Parse(a.Directory); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			errs = append(errs, field.Invalid(ap.Child("directory"), "is not an https URL without credentials"))
		}
		if a.Email != "" && (len(a.Email) > 254 || !emailAddress.MatchString(a.Email)) {
			errs = append(errs, field.Invalid(ap.Child("email"), "is not an email address"))
		}
		switch {
		case l.Hostname == nil:
			errs = append(errs, field.Required(lp.Child("hostname"), "a listener with ACME certificates names the host they are for"))
		case strings.HasPrefix(string(*l.Hostname), "*") && a.HTTP01():
			errs = append(errs, field.Invalid(lp.Child("hostname"), "is a wildcard, which only a DNS-01 challenge can prove: set tls.acme.dns01, name the hosts, or bring the certificate (certificateRefs)"))
		}
		if a.DNS01 != nil {
			errs = append(errs, validateDNS01(ap.Child("dns01"), a.DNS01)...)
		}
	}
	errs = append(errs, tooMany(tp.Child("certificateRefs"), len(l.TLS.CertificateRefs), 2)...)
	for j, ref := range l.TLS.CertificateRefs {
		if len(ref.Name) > v1alpha1.MaxSecretNameLength || !secretName.MatchString(ref.Name) {
			errs = append(errs, field.Invalid(tp.Child("certificateRefs").Index(j).Child("name"), "is not a swarm secret name"))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(l.TLS.Options)) {
		op := tp.Child("options").Key(k)
		switch k {
		case v1alpha1.TLSOptionMinVersion:
			errs = append(errs, oneOf(op, l.TLS.Options[k], "1.2", "1.3")...)
		default:
			errs = append(errs, field.NotSupported(op, v1alpha1.TLSOptionMinVersion))
		}
	}
	return errs
}

func validateZone(z *v1alpha1.Zone) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if len(z.Spec.Nodes) == 0 {
		errs = append(errs, field.Required(p.Child("nodes"), "at least one node hostname"))
	}
	seen := map[string]bool{}
	for i, n := range z.Spec.Nodes {
		np := p.Child("nodes").Index(i)
		errs = append(errs, validateNodeHostname(np, n)...)
		if seen[n] {
			errs = append(errs, field.Duplicate(np, ""))
		}
		seen[n] = true
	}
	lp := p.Child("labels")
	for _, k := range slices.Sorted(maps.Keys(z.Spec.Labels)) {
		v := z.Spec.Labels[k]
		switch {
		case k == v1alpha1.ZoneLabel:
			errs = append(errs, field.Forbidden(lp.Key(k), "the zone label is set from metadata.name"))
		default:
			errs = append(errs, validateLabels(lp, map[string]string{k: v})...)
		}
		if !constraintValue.MatchString(v) {
			errs = append(errs, field.Invalid(lp.Key(k), "is not a valid node label value (letters, digits, '.', '_', '/', '-')"))
		}
	}
	return errs
}

// ValidatePart validates objects that are part of a set (the files of a partial apply): each on
// its own, and no kind and name twice. What crosses objects is checked once they are merged with
// the rest of the set.
func ValidatePart(objs []v1alpha1.Object, decodeErrs field.ErrorList) field.ErrorList {
	errs := append(field.ErrorList{}, decodeErrs...)
	for _, o := range objs {
		errs = append(errs, ValidateObject(o)...)
	}
	dups, _ := duplicates(objs)
	return append(errs, dups...)
}

// ValidateSnapshot validates the objects of a snapshot some of whose documents may have failed to
// decode (decodeErrs). Those errors come first; then each decoded object is validated on its own,
// and the set as a whole only when everything decoded: with objects missing, checks across objects
// would report references to them as broken.
func ValidateSnapshot(objs []v1alpha1.Object, decodeErrs field.ErrorList) field.ErrorList {
	if len(decodeErrs) == 0 {
		return Validate(objs)
	}
	errs := append(field.ErrorList{}, decodeErrs...)
	for _, o := range objs {
		errs = append(errs, ValidateObject(o)...)
	}
	return errs
}

// validateReferenceGrant checks a grant: it lives in the namespace it shares, and names Routes
// and services, the kinds swarmgate has.
func validateReferenceGrant(g *v1alpha1.ReferenceGrant) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if g.Metadata.Namespace == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "namespace"), "the namespace (stack) whose services the grant shares"))
	}
	if len(g.Spec.From) == 0 {
		errs = append(errs, field.Required(p.Child("from"), "the namespaces whose Routes may refer"))
	}
	if len(g.Spec.To) == 0 {
		errs = append(errs, field.Required(p.Child("to"), "the services they may use"))
	}
	errs = append(errs, tooMany(p.Child("from"), len(g.Spec.From), 16)...)
	errs = append(errs, tooMany(p.Child("to"), len(g.Spec.To), 16)...)
	for i, f := range g.Spec.From {
		fp := p.Child("from").Index(i)
		if f.Kind != v1alpha1.KindRoute && f.Kind != v1alpha1.KindGRPCRoute || f.Group != nil && *f.Group != "swarmgate.io" {
			errs = append(errs, field.Invalid(fp.Child("kind"), "is not Route or GRPCRoute (group swarmgate.io), the kinds that refer to services"))
		}
		if f.Namespace != "" {
			errs = append(errs, validateDNSLabel(fp.Child("namespace"), f.Namespace)...)
		}
	}
	for i, t := range g.Spec.To {
		tp := p.Child("to").Index(i)
		if t.Kind != "Service" || t.Group != nil && *t.Group != "" {
			errs = append(errs, field.Invalid(tp.Child("kind"), "is not Service (group \"\"), the one kind swarmgate routes to"))
		}
		if t.Name != nil && (len(*t.Name) > v1alpha1.MaxServiceNameLength || !serviceName.MatchString(*t.Name)) {
			errs = append(errs, field.Invalid(tp.Child("name"), "is not a valid service name"))
		}
	}
	return errs
}

// NetworkName reports whether name is a valid swarm network name.
func NetworkName(name string) bool {
	return len(name) <= v1alpha1.MaxNetworkNameLength && networkName.MatchString(name)
}

// OperatorURL says what is wrong with a gateway agent's operator URL, "" if nothing: the
// operatorURL of a manifest, or the default an operator on the swarm gives (run --agent-url).
func OperatorURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return `is not an http or https URL without credentials (e.g. "http://10.0.0.1:9090")`
	}
	if len(s) > maxOperatorURL || !operatorHost(u.Hostname()) || !portString(u.Port()) {
		// Its host and port become a token of nginx's config (HTTP-01 challenges go there).
		return fmt.Sprintf("must name a host (a DNS name or an IP address) and, if any, a port from 1 to 65535, in at most %d characters", maxOperatorURL)
	}
	return ""
}

// maxOperatorURL bounds a gateway agent's operatorURL: a flag of every agent, and its host a token
// of nginx's config.
const maxOperatorURL = 2048

// operatorHost reports whether host, from a URL, is a DNS name or an IP address.
func operatorHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return len(host) <= 253 && nodeHostname.MatchString(host)
}

// portString reports whether a URL's port is absent or 1 to 65535.
func portString(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}
