package validation

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// set indexes the objects of one snapshot for the checks that span objects.
type set struct {
	gateways map[string]*v1alpha1.Gateway
	zones    map[string]*v1alpha1.Zone
	routes   map[string]*v1alpha1.Route
	matches  *matchClaims
	// kinds records, by "gateway/listener", the Routes and GRPCRoutes (as Routes) read so far
	// that attach there: the Gateway API takes one kind per host of a listener.
	kinds map[string][]*v1alpha1.Route
	// backendTLS is the BackendTLSPolicy of each service a policy targets: the first read.
	backendTLS map[string]*v1alpha1.BackendTLSPolicy
}

// validateSet checks what no object can check alone: unique names, references that resolve, and
// claims (ports, hostnames, services, node labels, router IDs) that two objects may not share.
// When two objects conflict, the error is reported on the one read later and names the other.
func validateSet(objs []v1alpha1.Object) field.ErrorList {
	s := set{gateways: map[string]*v1alpha1.Gateway{}, zones: map[string]*v1alpha1.Zone{}, routes: map[string]*v1alpha1.Route{}, matches: newMatchClaims(objs), kinds: map[string][]*v1alpha1.Route{},
		backendTLS: map[string]*v1alpha1.BackendTLSPolicy{}}
	errs, unique := duplicates(objs)
	for _, o := range unique {
		name := o.GetObjectMeta().Name
		switch o := o.(type) {
		case *v1alpha1.Gateway:
			s.gateways[name] = o
		case *v1alpha1.Zone:
			s.zones[name] = o
		case *v1alpha1.Route:
			s.routes[name] = o
		case *v1alpha1.BackendTLSPolicy:
			for _, t := range o.Spec.TargetRefs {
				if s.backendTLS[t.Name] == nil {
					s.backendTLS[t.Name] = o
				}
			}
		}
	}

	claims := claimSet{}
	for _, o := range unique {
		var e field.ErrorList
		switch o := o.(type) {
		case *v1alpha1.Zone:
			e = s.checkZone(o, claims)
		case *v1alpha1.Gateway:
			e = s.checkGateway(o, claims)
		case *v1alpha1.Route:
			e = append(s.checkRoute(o, claims), s.checkBackendTLS(o)...)
		case *v1alpha1.GRPCRoute:
			rt := o.AsRoute()
			e = append(s.checkRoute(rt, claims), s.checkBackendTLS(rt)...)
		case *v1alpha1.BackendTLSPolicy:
			for i, t := range o.Spec.TargetRefs {
				if first := s.backendTLS[t.Name]; first != o {
					e = append(e, field.Invalid(field.NewPath("spec", "targetRefs").Index(i).Child("name"), "is already the target of "+originOf(first)))
				}
			}
		case v1alpha1.StreamRoute:
			e = s.checkStreamRoute(o, claims)
		case *v1alpha1.Service:
			e = s.checkService(o, claims)
		case *v1alpha1.VirtualIP:
			e = s.checkVirtualIP(o, claims)
		case v1alpha1.Policy:
			e = s.checkPolicyTargets(o)
		}
		errs = append(errs, withObject(e, o)...)
	}
	errs = append(errs, checkDependencies(unique)...)
	return append(errs, checkProxyProtocol(unique)...)
}

// duplicates reports every object whose kind and name an earlier one has, and returns the first
// object of each kind and name: later ones only get the duplicate error.
func duplicates(objs []v1alpha1.Object) (field.ErrorList, []v1alpha1.Object) {
	var errs field.ErrorList
	byName := map[v1alpha1.Kind]map[string]v1alpha1.Object{}
	var unique []v1alpha1.Object
	for _, o := range objs {
		kind, name := o.GetTypeMeta().Kind, o.GetObjectMeta().Name
		if byName[kind] == nil {
			byName[kind] = map[string]v1alpha1.Object{}
		}
		if first, ok := byName[kind][name]; ok {
			errs = append(errs, withObject(field.ErrorList{field.Duplicate(field.NewPath("metadata", "name"),
				"also defined as "+originOf(first))}, o)...)
			continue
		}
		byName[kind][name] = o
		unique = append(unique, o)
	}
	return errs, unique
}

// claimSet records which object first claimed a thing that must be unique, such as a published port.
type claimSet map[string]v1alpha1.Object

// claim records key for o and returns the object that claimed it before, if another did.
func (c claimSet) claim(key string, o v1alpha1.Object) v1alpha1.Object {
	if first, ok := c[key]; ok && first != o {
		return first
	}
	c[key] = o
	return nil
}

// noSuch reports a reference to an object the set does not hold, naming the one asked for and
// those there are (object names are no secrets): a typo shows at a glance.
func noSuch[T any](p *field.Path, kind v1alpha1.Kind, name string, have map[string]T) *field.Error {
	there := "there is none"
	if len(have) > 0 {
		there = "there are: " + strings.Join(slices.Sorted(maps.Keys(have)), ", ")
	}
	return field.Invalid(p, fmt.Sprintf("%s%s %q (%s)", dangling, kind, name, there))
}

// dangling starts the detail of every reference to an object the set does not hold.
const dangling = "names no "

// Dangling reports whether an error is a reference to an object the set does not hold: with a
// part of the manifests, one that may have been applied from another part.
func Dangling(e *field.Error) bool { return strings.HasPrefix(e.Detail, dangling) }

func (s set) checkZoneRef(p *field.Path, zone string) field.ErrorList {
	if zone == "" || s.zones[zone] != nil {
		return nil
	}
	return field.ErrorList{noSuch(p, v1alpha1.KindZone, zone, s.zones)}
}

func (s set) checkZone(z *v1alpha1.Zone, claims claimSet) field.ErrorList {
	var errs field.ErrorList
	for i, n := range z.Spec.Nodes {
		if first := claims.claim("node/"+n, z); first != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "nodes").Index(i),
				fmt.Sprintf("is already in %s; a node carries one zone label", originOf(first))))
		}
	}
	return errs
}

func (s set) checkService(svc *v1alpha1.Service, claims claimSet) field.ErrorList {
	errs := s.checkZoneRef(field.NewPath("spec", "zone"), svc.Spec.Zone)
	if first := claims.claim("service/"+svc.Metadata.QualifiedName(), svc); first != nil {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), "names the same swarm service as "+originOf(first)))
	}
	return errs
}

func (s set) checkGateway(g *v1alpha1.Gateway, claims claimSet) field.ErrorList {
	p := field.NewPath("spec")
	errs := s.checkZoneRef(p.Child("zone"), g.Spec.Zone)
	for i, l := range g.Spec.Listeners {
		if first := claims.claim(fmt.Sprintf("port/%d", l.Port), g); first != nil && first != v1alpha1.Object(g) {
			errs = append(errs, field.Invalid(p.Child("listeners").Index(i).Child("port"),
				"is already published by "+originOf(first)))
		}
	}
	if first := claims.claim("service/"+g.Metadata.QualifiedName(), g); first != nil {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"),
			"names the same swarm service as "+originOf(first)))
	}
	return errs
}

func (s set) checkRoute(r *v1alpha1.Route, claims claimSet) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	var listeners []string // "gateway/listener" pairs the route attaches to
	// A route serves on a listener the hostnames it shares with it (the Gateway API's
	// intersection); one that shares none does not attach there.
	serves := func(l *v1alpha1.Listener) bool {
		if len(r.Spec.Hostnames) == 0 {
			return true // reported as missing on its own
		}
		for _, h := range r.Spec.Hostnames {
			if _, ok := v1alpha1.IntersectHostname(l.Hostname, h); ok {
				return true
			}
		}
		return false
	}
	// notAllowed says why a listener takes no Routes from this one's namespace.
	notAllowed := func(gw *v1alpha1.Gateway) string {
		own := "no namespace"
		if gw.Metadata.Namespace != "" {
			own = "namespace " + gw.Metadata.Namespace
		}
		return "takes Routes from its Gateway's own " + own + " only (allowedRoutes.namespaces.from: Same, the default); from: All shares it with other namespaces"
	}
	for i, ref := range r.Spec.ParentRefs {
		pp := p.Child("parentRefs").Index(i)
		gw := s.gateways[ref.Name]
		switch {
		case gw == nil:
			errs = append(errs, noSuch(pp.Child("name"), v1alpha1.KindGateway, ref.Name, s.gateways))
		case !ref.Refers(gw):
			errs = append(errs, field.Invalid(pp.Child("namespace"), "is not the namespace of Gateway "+ref.Name))
		case ref.SectionName == "":
			var serving, allowed int
			for _, l := range gw.Spec.Listeners {
				if l.Protocol.Stream() || !serves(&l) || !l.AllowsKind(r.RouteKind()) {
					continue
				}
				serving++
				if l.Allows(gw.Metadata.Namespace, r.Metadata.Namespace) {
					allowed++
					listeners = append(listeners, ref.Name+"/"+string(l.Name))
				}
			}
			switch {
			case serving == 0:
				errs = append(errs, field.Invalid(pp.Child("name"), "no listener of Gateway "+ref.Name+" that takes "+string(r.RouteKind())+"s has a hostname matching spec.hostnames"))
			case allowed == 0:
				errs = append(errs, field.Invalid(pp.Child("name"), "Gateway "+ref.Name+" "+notAllowed(gw)))
			}
		case gw.Listener(ref.SectionName) == nil:
			errs = append(errs, field.Invalid(pp.Child("sectionName"),
				dangling+"listener of Gateway "+ref.Name))
		case gw.Listener(ref.SectionName).Protocol.Stream():
			errs = append(errs, field.Invalid(pp.Child("sectionName"), "names a "+string(gw.Listener(ref.SectionName).Protocol)+" listener; a "+string(r.RouteKind())+" attaches to HTTP and HTTPS listeners"))
		case !gw.Listener(ref.SectionName).AllowsKind(r.RouteKind()):
			errs = append(errs, field.Invalid(pp.Child("sectionName"), "names a listener that takes no "+string(r.RouteKind())+"s (allowedRoutes.kinds)"))
		case !serves(gw.Listener(ref.SectionName)):
			errs = append(errs, field.Invalid(pp.Child("sectionName"), "names a listener whose hostname matches none of spec.hostnames"))
		case !gw.Listener(ref.SectionName).Allows(gw.Metadata.Namespace, r.Metadata.Namespace):
			errs = append(errs, field.Invalid(pp.Child("sectionName"), "names a listener that "+notAllowed(gw)))
		default:
			listeners = append(listeners, ref.Name+"/"+string(ref.SectionName))
		}
	}
	slices.Sort(listeners)
	listeners = slices.Compact(listeners)
	if !r.IsGRPC() {
		// A GRPCRoute's matches may differ in what a Route cannot say (regular expressions).
		errs = append(errs, s.matches.claim(r, s.attachments(listeners))...)
	}
	errs = append(errs, s.claimKind(r, listeners)...)
	for i, svc := range r.Spec.Services {
		sp := p.Child("services").Index(i)
		errs = append(errs, s.checkZoneRef(sp.Child("zone"), svc.Zone)...)
		name := v1alpha1.StackName(r.Metadata.Namespace, svc.Name)
		if first := claims.claim("service/"+name, r); first != nil {
			errs = append(errs, field.Invalid(sp.Child("name"), "is already a swarm service declared by "+originOf(first)))
		}
	}
	return errs
}

// attachments gives each "gateway/listener" of listeners its hostname.
func (s set) attachments(listeners []string) []attachment {
	out := make([]attachment, len(listeners))
	for i, name := range listeners {
		gw, listener, _ := strings.Cut(name, "/")
		out[i] = attachment{name: name, hostname: s.gateways[gw].Listener(v1alpha1.SectionName(listener)).Hostname}
	}
	return out
}

// checkBackendTLS reports the rules of r whose backends are not all reached alike: nginx speaks
// TLS, and verifies it, one way per rule.
func (s set) checkBackendTLS(r *v1alpha1.Route) field.ErrorList {
	var errs field.ErrorList
	for i, rule := range r.Spec.Rules {
		for j, ref := range rule.BackendRefs {
			if j > 0 && ref.IsService() && rule.BackendRefs[0].IsService() &&
				s.backendTLS[r.BackendServiceName(ref)] != s.backendTLS[r.BackendServiceName(rule.BackendRefs[0])] {
				errs = append(errs, field.Invalid(field.NewPath("spec", "rules").Index(i).Child("backendRefs").Index(j),
					"is reached with another BackendTLSPolicy (or none) than backendRefs[0]: nginx speaks TLS one way per rule; split the rule"))
				break
			}
		}
	}
	return errs
}

// claimKind reports the first listener where a route of the other kind (Route, GRPCRoute) read
// earlier serves a host r serves too: the Gateway API accepts one of the two, here the one read
// first.
func (s set) claimKind(r *v1alpha1.Route, listeners []string) field.ErrorList {
	var errs field.ErrorList
	for _, l := range listeners {
		for _, other := range s.kinds[l] {
			if other.IsGRPC() != r.IsGRPC() && hostsOverlap(r.Spec.Hostnames, other.Spec.Hostnames) && len(errs) == 0 {
				gw, listener, _ := strings.Cut(l, "/")
				errs = append(errs, field.Invalid(field.NewPath("spec", "hostnames"), fmt.Sprintf(
					"share a host on Gateway %s listener %s with %s: a listener serves a host with Routes or with GRPCRoutes, not both", gw, listener, originOf(other))))
			}
		}
		s.kinds[l] = append(s.kinds[l], r)
	}
	return errs
}

// hostsOverlap tells whether two routes' hostnames (none: every host) share a host.
func hostsOverlap(a, b []v1alpha1.Hostname) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, h := range a {
		for _, o := range b {
			if _, ok := v1alpha1.IntersectHostname(&h, o); ok {
				return true
			}
		}
	}
	return false
}

// matchClaims records, for each hostname and match, the routes that claim it and on which
// listeners. A hostname and match costs one entry for each set of listeners it is claimed on, not
// one per listener: a route on 2,048 listeners is not multiplied out, and a route claiming what
// another claimed on the same listeners conflicts at once. Only a hostname and match claimed on a
// second set of listeners is indexed by listener, so finding a conflict costs a lookup per
// listener, not a walk through every earlier claimant; those entries are bounded
// (maxListenerClaims), as what they would render is.
type matchClaims struct {
	// firsts is the first claimant of each hostname and match (the digest of both).
	firsts map[[16]byte]firstClaim
	// bySet is the first claimant of a hostname and match on each set of listeners, once the
	// hostname and match is claimed on a second set.
	bySet map[setClaim]int32
	// byListener is the first claimant of a hostname and match on each listener where the
	// hostname is served, once it is claimed on a second set of listeners.
	byListener map[listenerClaim]int32
	claimants  []claimant
	listenerID map[string]int32
	listeners  []attachment // by listener ID
	setID      map[string]int32
	// limit bounds byListener (maxListenerClaims); over says it was reached: the set is refused
	// and checked no further.
	limit int
	over  bool
}

type firstClaim struct {
	claimant int32 // index in claimants
	indexed  bool  // its claims are in bySet and byListener
}

type setClaim struct {
	key [16]byte
	set int32
}

type listenerClaim struct {
	key      [16]byte
	listener int32
}

// attachment is a listener a route attaches to.
type attachment struct {
	name     string // "gateway/listener"
	hostname *v1alpha1.Hostname
}

type claimant struct {
	route     *v1alpha1.Route
	listeners []int32 // sorted IDs
	set       int32   // the ID of listeners: routes on the same listeners share it
}

// maxListenerClaims bounds the (hostname, match, listener) claims indexed for conflicts: 1 Mi of
// them, about 80 MB and a second. Each is about a location on a server of a gateway's config, so a
// set over it renders configs of more than 16 MiB, a quarter of all agents' configs together.
const maxListenerClaims = 1 << 20

// newMatchClaims sizes the index for the routes among objs, so it is not grown pair by pair.
func newMatchClaims(objs []v1alpha1.Object) *matchClaims {
	pairs := 0
	for _, o := range objs {
		if r, ok := o.(*v1alpha1.Route); ok && !exceedsListLimits(r) {
			for _, rule := range r.Spec.Rules {
				pairs += max(len(r.Spec.Hostnames), 1) * len(rule.Matches)
			}
		}
	}
	return &matchClaims{firsts: make(map[[16]byte]firstClaim, pairs), bySet: map[setClaim]int32{}, byListener: map[listenerClaim]int32{},
		listenerID: map[string]int32{}, setID: map[string]int32{}, limit: maxListenerClaims}
}

// claim records every hostname and match of r on its listeners, and reports each match that a
// route read earlier claims on a listener where r serves that hostname too.
func (c *matchClaims) claim(r *v1alpha1.Route, listeners []attachment) field.ErrorList {
	if len(listeners) == 0 || exceedsListLimits(r) || c.over {
		return nil // already reported: the check would only repeat it, at a cost
	}
	me := int32(len(c.claimants))
	c.claimants = append(c.claimants, c.claimantOf(r, listeners))
	hosts := r.Spec.Hostnames
	if len(hosts) == 0 {
		hosts = []v1alpha1.Hostname{"*"} // every host: two such routes claim alike
	}
	var errs field.ErrorList
	var buf []byte // a match's digest, then a hostname
	for i, rule := range r.Spec.Rules {
		for j, m := range rule.Matches {
			match := sha256.Sum256([]byte(matchKey(m)))
			buf = append(buf[:0], match[:]...)
			reported := false
			for _, h := range hosts {
				// 128 bits of the digest of both: two pairs share a key only by a collision of SHA-256.
				buf = append(buf[:sha256.Size], h...)
				sum := sha256.Sum256(buf)
				other, ok := c.claimOn([16]byte(sum[:16]), h, me)
				if c.over {
					return append(errs, field.Invalid(field.NewPath("spec", "rules").Index(i).Child("matches").Index(j), fmt.Sprintf(
						"takes the hostnames and matches that Routes share on listeners past the %d that one set may hold (each about a location of a gateway's config): attach these Routes to fewer listeners",
						c.limit)))
				}
				if ok && !reported {
					reported = true
					gw, listener, _ := strings.Cut(c.listeners[other.listener].name, "/")
					errs = append(errs, field.Errorf(field.NewPath("spec", "rules").Index(i).Child("matches").Index(j),
						"host %q with this match on Gateway %s listener %s is already claimed by %s", h, gw, listener, originOf(c.claimants[other.claimant].route)))
				}
			}
		}
	}
	return errs
}

// claimantOf is r on listeners, their IDs and the ID of their set.
func (c *matchClaims) claimantOf(r *v1alpha1.Route, listeners []attachment) claimant {
	ids := make([]int32, 0, len(listeners))
	for _, l := range listeners {
		id, ok := c.listenerID[l.name]
		if !ok {
			id = int32(len(c.listeners))
			c.listenerID[l.name] = id
			c.listeners = append(c.listeners, l)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	name := fmt.Sprint(ids)
	set, ok := c.setID[name]
	if !ok {
		set = int32(len(c.setID))
		c.setID[name] = set
	}
	return claimant{route: r, listeners: ids, set: set}
}

// conflict is an earlier claimant of a hostname and match on a listener.
type conflict struct{ claimant, listener int32 }

// claimOn records claimant me's claim of the hostname and match key (of hostname h) and returns
// an earlier claimant on a listener where both serve h, if there is one.
func (c *matchClaims) claimOn(key [16]byte, h v1alpha1.Hostname, me int32) (conflict, bool) {
	first, seen := c.firsts[key]
	switch {
	case !seen:
		c.firsts[key] = firstClaim{claimant: me}
		return conflict{}, false
	case first.claimant == me:
		return conflict{}, false // the route names the hostname twice
	case c.claimants[first.claimant].set == c.claimants[me].set:
		return c.sameListeners(first.claimant, me, h)
	case !first.indexed:
		c.index(key, h, first.claimant)
		c.firsts[key] = firstClaim{claimant: first.claimant, indexed: true}
	}
	if earlier, ok := c.bySet[setClaim{key, c.claimants[me].set}]; ok {
		return c.sameListeners(earlier, me, h)
	}
	return c.index(key, h, me)
}

// sameListeners is the conflict of me with an earlier claimant on the same listeners: on the
// first where h is served, if any is.
func (c *matchClaims) sameListeners(earlier, me int32, h v1alpha1.Hostname) (conflict, bool) {
	for _, l := range c.claimants[me].listeners {
		if servedOn(c.listeners[l], h) {
			return conflict{claimant: earlier, listener: l}, true
		}
	}
	return conflict{}, false
}

// index records claimant who's claim of key on its set of listeners and on each of them that
// serves h, and returns the first listener that an earlier claimant holds, with that claimant.
func (c *matchClaims) index(key [16]byte, h v1alpha1.Hostname, who int32) (conflict, bool) {
	c.bySet[setClaim{key, c.claimants[who].set}] = who
	found, earlier := conflict{}, false
	for _, l := range c.claimants[who].listeners {
		if !servedOn(c.listeners[l], h) {
			continue
		}
		k := listenerClaim{key, l}
		if owner, held := c.byListener[k]; held {
			if owner != who && !earlier {
				found, earlier = conflict{claimant: owner, listener: l}, true
			}
			continue
		}
		if len(c.byListener) >= c.limit {
			c.over = true
			return found, earlier
		}
		c.byListener[k] = who
	}
	return found, earlier
}

// servedOn tells whether a route's hostname is served on a listener (their intersection is not
// empty); "*" stands for a route without hostnames, served everywhere.
func servedOn(l attachment, h v1alpha1.Hostname) bool {
	if h == "*" {
		return true
	}
	_, ok := v1alpha1.IntersectHostname(l.hostname, h)
	return ok
}

// matchKey is a canonical text of a match: two matches with the same key select the same requests.
func matchKey(m v1alpha1.RouteMatch) string {
	var b strings.Builder
	if m.Path != nil {
		// Paths that decode alike are one path to nginx, and PathPrefix ignores a trailing "/".
		path := v1alpha1.DecodedPath(m.Path.Value)
		if m.Path.Type == v1alpha1.PathMatchPathPrefix && path != "/" {
			path = strings.TrimRight(path, "/")
		}
		fmt.Fprintf(&b, "path=%s:%q", m.Path.Type, path)
	}
	fmt.Fprintf(&b, " method=%s", m.Method)
	headers := make([]string, len(m.Headers))
	for i, h := range m.Headers {
		headers[i] = fmt.Sprintf("%q=%q", strings.ToLower(string(h.Name)), h.Value)
	}
	params := make([]string, len(m.QueryParams))
	for i, q := range m.QueryParams {
		params[i] = fmt.Sprintf("%q=%q", q.Name, q.Value)
	}
	fmt.Fprintf(&b, " headers=%s query=%s", sortedJoin(headers), sortedJoin(params))
	return b.String()
}

func sortedJoin(s []string) string {
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	return strings.Join(slices.Compact(sorted), ",")
}

func (s set) checkVirtualIP(v *v1alpha1.VirtualIP, claims claimSet) field.ErrorList {
	p := field.NewPath("spec")
	errs := s.checkZoneRef(p.Child("zone"), v.Spec.Zone)
	if z := s.zones[v.Spec.Zone]; z != nil && len(z.Spec.Nodes) > v1alpha1.MaxZoneNodesForVirtualIP {
		errs = append(errs, field.Invalid(p.Child("zone"), fmt.Sprintf(
			"names a Zone of %d nodes; VRRP priorities give a virtual IP at most %d: list the nodes in spec.nodes or use a smaller zone",
			len(z.Spec.Nodes), v1alpha1.MaxZoneNodesForVirtualIP)))
	}
	if first := claims.claim(fmt.Sprintf("vrid/%d", v.Spec.VirtualRouterID), v); first != nil {
		errs = append(errs, field.Invalid(p.Child("virtualRouterID"),
			"is already used by "+originOf(first)+"; each virtual IP needs its own virtual router ID"))
	}
	// Compared as addresses: fd00::5 and fd00:0::5 are one.
	if prefix, err := netip.ParsePrefix(v.Spec.Address); err == nil {
		if first := claims.claim("vip/"+prefix.Addr().String(), v); first != nil {
			errs = append(errs, field.Invalid(p.Child("address"),
				"is already held by "+originOf(first)+"; all nodes of one virtual IP form one VRRP instance: list them in one VirtualIP, which gives them one virtualRouterID"))
		}
	}
	if t := v.Spec.TrackGateway; t != nil {
		tp := p.Child("trackGateway")
		gw := s.gateways[t.Name]
		switch {
		case gw == nil:
			errs = append(errs, noSuch(tp.Child("name"), v1alpha1.KindGateway, t.Name, s.gateways))
		case t.Listener != "" && gw.Listener(t.Listener) == nil:
			errs = append(errs, field.Invalid(tp.Child("listener"), dangling+"listener of Gateway "+t.Name))
		case t.Listener != "" && gw.Listener(t.Listener).Protocol == v1alpha1.ProtocolHTTPS:
			errs = append(errs, field.Invalid(tp.Child("listener"), "names an HTTPS listener; the health check is plain HTTP: track an HTTP listener of the gateway (one that redirects to HTTPS will do)"))
		case t.Listener != "" && gw.Listener(t.Listener).Protocol == v1alpha1.ProtocolUDP:
			errs = append(errs, field.Invalid(tp.Child("listener"), "names a UDP listener, which no check can tell is up: track an HTTP, TCP or TLS listener of the gateway"))
		case gw.TrackedListener(t.Listener) == nil:
			errs = append(errs, field.Invalid(tp.Child("name"), "names a Gateway without an HTTP, TCP or TLS listener to check: give it one (an HTTP one that redirects to HTTPS will do)"))
		}
		if gw != nil {
			for _, l := range gw.Spec.Listeners {
				if l.Port == v.Spec.StatusPort {
					errs = append(errs, field.Invalid(p.Child("statusPort"), "is the port of listener "+string(l.Name)+" of Gateway "+t.Name+"; the agent reports on the nodes' host network and needs a port of its own"))
				}
			}
		}
	}
	return errs
}
