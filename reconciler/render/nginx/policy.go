package nginx

import (
	"bytes"
	"strconv"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Policies are the policies of a set, each kind in the order that decides between two on one
// target (v1alpha1.PoliciesOf).
type Policies struct {
	Security []*v1alpha1.SecurityPolicy
	Client   []*v1alpha1.ClientTrafficPolicy
	Backend  []*v1alpha1.BackendTrafficPolicy
}

// PoliciesOf picks the policies out of objs.
func PoliciesOf(objs []v1alpha1.Object) Policies {
	return Policies{
		Security: v1alpha1.PoliciesOf[*v1alpha1.SecurityPolicy](objs),
		Client:   v1alpha1.PoliciesOf[*v1alpha1.ClientTrafficPolicy](objs),
		Backend:  v1alpha1.PoliciesOf[*v1alpha1.BackendTrafficPolicy](objs),
	}
}

// UserFileDir is where swarmgate mounts the htpasswd secrets of basic authentication in a
// gateway's tasks.
const UserFileDir = "/run/secrets/swarmgate-auth"

// UserFile is where the users of a SecurityPolicy's basic authentication are mounted: named by
// the policy, so another secret changes the mount and not the config.
func UserFile(p *v1alpha1.SecurityPolicy) string {
	return UserFileDir + "/" + p.Metadata.QualifiedName() + ".htpasswd"
}

// UserFiles are the SecurityPolicies with basic authentication that gw's config may read: those
// targeting gw or a Route among routes that attaches to it.
func UserFiles(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, pols Policies) []*v1alpha1.SecurityPolicy {
	attached := map[string]bool{}
	for _, rt := range routes {
		for i := range gw.Spec.Listeners {
			if rt.AttachesTo(gw, &gw.Spec.Listeners[i]) {
				attached[rt.Metadata.Name] = true
			}
		}
	}
	var out []*v1alpha1.SecurityPolicy
	for _, p := range pols.Security {
		if p.Spec.BasicAuth == nil {
			continue
		}
		for _, t := range p.Spec.TargetRefs {
			if t.Kind == v1alpha1.KindGateway && t.Name == gw.Metadata.Name || t.Kind == v1alpha1.KindRoute && attached[t.Name] {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// clientPolicy writes, in a server of listener l, where the client's address comes from: the
// X-Forwarded-For header of trusted proxies. It acts before anything else reads the address.
func (r *renderer) clientPolicy(b *bytes.Buffer, l *v1alpha1.Listener) {
	p, _, ok := v1alpha1.Applying(r.opts.Policies.Client, v1alpha1.PolicyScope{Gateway: r.gw, Listener: l.Name})
	if !ok {
		return
	}
	b.WriteString("    # ClientTrafficPolicy " + p.Metadata.Name + ": the client is the address trusted proxies forward.\n")
	for _, cidr := range p.Spec.ClientIPDetection.TrustedProxies {
		b.WriteString("    set_real_ip_from " + quote(cidr) + ";\n")
	}
	if p.Spec.ClientIPDetection.ProxyProtocol {
		b.WriteString("    real_ip_header proxy_protocol;\n")
		return
	}
	b.WriteString("    real_ip_header X-Forwarded-For;\n    real_ip_recursive on;\n")
}

// proxyProtocol tells whether connections to listener l start with a PROXY protocol header.
// nginx expects it on the whole port once one server there does; validation makes the listeners
// sharing a port agree.
func (r *renderer) proxyProtocol(l *v1alpha1.Listener) bool {
	p, _, ok := v1alpha1.Applying(r.opts.Policies.Client, v1alpha1.PolicyScope{Gateway: r.gw, Listener: l.Name})
	return ok && p.Spec.ClientIPDetection.ProxyProtocol
}

// policies writes the security and traffic policies that apply to candidate c, in the location
// that serves it: nginx runs them in its access phases, after the rewrite that dispatches a
// conditional candidate, so each location checks its own candidate's.
func (r *renderer) policies(b *bytes.Buffer, c *candidate, indent string) {
	scope := v1alpha1.PolicyScope{Gateway: r.gw, Listener: c.listener, Route: c.route, Rule: c.ruleIdx}
	if p, _, ok := v1alpha1.Applying(r.opts.Policies.Security, scope); ok {
		if a := p.Spec.IPAccess; a != nil {
			for _, cidr := range a.Deny {
				b.WriteString(indent + "deny " + quote(cidr) + ";\n")
			}
			for _, cidr := range a.Allow {
				b.WriteString(indent + "allow " + quote(cidr) + ";\n")
			}
			if len(a.Allow) > 0 {
				b.WriteString(indent + "deny all;\n")
			}
		}
		if a := p.Spec.BasicAuth; a != nil {
			b.WriteString(indent + "auth_basic " + quote(literal(a.Realm)) + ";\n")
			b.WriteString(indent + "auth_basic_user_file " + quote(UserFile(p)) + ";\n")
		}
	}
	p, target, ok := v1alpha1.Applying(r.opts.Policies.Backend, scope)
	if !ok {
		return
	}
	replicas := max(1, r.opts.Replicas)
	// Each target counts apart: one zone per policy and target, shared by the locations it covers.
	key := p.Metadata.Namespace + "/" + p.Metadata.Name + "/" + strconv.Itoa(target)
	if l := p.Spec.RateLimit; l != nil {
		perMinute := int(l.Requests)
		if l.Unit == v1alpha1.RateUnitSecond {
			perMinute *= 60
		}
		// The whole gateway's limit, shared among its tasks: each takes its part.
		rate := max(1, perMinute/replicas)
		zone := r.zone("limit_req_zone", key, " rate="+strconv.Itoa(rate)+"r/m")
		b.WriteString(indent + "limit_req zone=" + zone + " burst=" + strconv.Itoa(ceilDiv(int(*l.Burst), replicas)) + " nodelay;\n")
		b.WriteString(indent + "limit_req_status " + strconv.Itoa(int(*l.StatusCode)) + ";\n")
	}
	if l := p.Spec.ConnectionLimit; l != nil {
		zone := r.zone("limit_conn_zone", key, "")
		b.WriteString(indent + "limit_conn " + zone + " " + strconv.Itoa(ceilDiv(int(l.Connections), replicas)) + ";\n")
		b.WriteString(indent + "limit_conn_status " + strconv.Itoa(int(*l.StatusCode)) + ";\n")
	}
}

// zoneSize is the shared memory of one limit's zone: 10 MiB keeps about 160,000 client addresses.
const zoneSize = "10m"

// zone returns the name of the shared-memory zone a directive (limit_req_zone, limit_conn_zone)
// defines for key, adding it to the http-level blocks once. Zones are named by number: no text
// of a manifest reaches the directive.
func (r *renderer) zone(directive, key, params string) string {
	k := directive + "\x00" + key
	if name, ok := r.blockVars[k]; ok {
		return name
	}
	name := "sg_z" + strconv.Itoa(len(r.blocks)+1)
	r.blockVars[k] = name
	r.blocks = append(r.blocks, directive+" $binary_remote_addr zone="+name+":"+zoneSize+params+";\n")
	return name
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
