package nginx

import (
	"bytes"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// Policies are the policies of a set, each kind in the order that decides between two on one
// target (v1alpha1.PoliciesOf).
type Policies struct {
	Security []*v1alpha1.SecurityPolicy
	Client   []*v1alpha1.ClientTrafficPolicy
	Backend  []*v1alpha1.BackendTrafficPolicy
	// BackendTLS are the BackendTLSPolicies, in the order read: the first that targets a service
	// applies to it (validation refuses a second).
	BackendTLS []*v1alpha1.BackendTLSPolicy
}

// PoliciesOf picks the policies out of objs.
func PoliciesOf(objs []v1alpha1.Object) Policies {
	return Policies{
		Security:   v1alpha1.PoliciesOf[*v1alpha1.SecurityPolicy](objs),
		Client:     v1alpha1.PoliciesOf[*v1alpha1.ClientTrafficPolicy](objs),
		Backend:    v1alpha1.PoliciesOf[*v1alpha1.BackendTrafficPolicy](objs),
		BackendTLS: backendTLSPoliciesOf(objs),
	}
}

// UserFile is where the users of a SecurityPolicy's basic authentication are mounted: named by
// the policy, so another secret changes the mount and not the config.
func UserFile(p *v1alpha1.SecurityPolicy) string {
	return contract.UserFileDir + "/" + p.Metadata.QualifiedName() + ".htpasswd"
}

// UserFiles are the SecurityPolicies with basic authentication that gw's config may read.
func UserFiles(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, pols Policies) []*v1alpha1.SecurityPolicy {
	return slices.DeleteFunc(securityPoliciesOf(gw, routes, pols), func(p *v1alpha1.SecurityPolicy) bool { return p.Spec.BasicAuth == nil })
}

// securityPoliciesOf are the SecurityPolicies that may apply on gw: those targeting it or a Route
// among routes that attaches to it.
func securityPoliciesOf(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, pols Policies) []*v1alpha1.SecurityPolicy {
	attached := map[string]bool{}
	for _, rt := range routes {
		for i := range gw.Spec.Listeners {
			if !rt.IsGRPC() && rt.AttachesTo(gw, &gw.Spec.Listeners[i]) {
				attached[rt.Metadata.Name] = true
			}
		}
	}
	var out []*v1alpha1.SecurityPolicy
	for _, p := range pols.Security {
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
// PROXY header of the gateway's own stream server in front of it, or what trusted proxies say
// (validation lets no ClientTrafficPolicy apply to a listener behind the stream server: nginx
// reads the address from one place). It acts before anything else reads the address.
func (r *renderer) clientPolicy(b *bytes.Buffer, l *v1alpha1.Listener) {
	if r.behindStream(l) {
		b.WriteString("    # The client is the address the port's stream server sends; only it reaches the socket.\n")
		b.WriteString("    set_real_ip_from unix:;\n    real_ip_header proxy_protocol;\n")
		return
	}
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
		if a := p.Spec.ForwardAuth; a != nil {
			r.forwardAuth(b, c, p, indent)
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
	if c := p.Spec.Compression; c != nil {
		b.WriteString(indent + "gzip on;\n" + indent + "gzip_proxied any;\n" + indent + "gzip_vary on;\n")
		b.WriteString(indent + "gzip_min_length " + strconv.Itoa(int(*c.MinLength)) + ";\n" + indent + "gzip_types")
		for _, t := range c.ContentTypes {
			b.WriteString(" " + quote(t))
		}
		b.WriteString(";\n")
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

// authVar is the variable holding a header of the auth service's answer, for the backend.
// Validation admits only letters, digits and '-' in the names.
func authVar(name v1alpha1.HeaderName) string {
	return "sg_auth_" + strings.ReplaceAll(strings.ToLower(string(name)), "-", "_")
}

// backendHeaders are the headers every backend receives: forwardingHeaders, and those forward
// authentication copies from its auth service's answer, a variable empty (so the header is not
// sent, not even the client's own) wherever no auth service answered.
func (r *renderer) backendHeaders(host string) []header {
	headers := forwardingHeaders(host)
	if r.copied == nil {
		r.copied = []header{}
		seen := map[string]bool{}
		for _, p := range securityPoliciesOf(r.gw, r.routes, r.opts.Policies) {
			if a := p.Spec.ForwardAuth; a != nil {
				for _, h := range a.HeadersToBackend {
					if v := authVar(h); !seen[v] {
						seen[v] = true
						r.copied = append(r.copied, header{string(h), variable(v)})
					}
				}
			}
		}
	}
	return append(headers, r.copied...)
}

// forwardAuth writes, in c's location, the subrequest to SecurityPolicy p's auth service and the
// copies of its answer's headers. Its 401 goes to @sg_auth_denied, which answers a redirect the
// service made as that redirect (nginx's auth_request takes only 2xx, 401 and 403), else 401.
func (r *renderer) forwardAuth(b *bytes.Buffer, c *candidate, p *v1alpha1.SecurityPolicy, indent string) {
	id := slices.Index(r.opts.Policies.Security, p)
	r.serverAuth[id] = p
	b.WriteString(indent + "auth_request " + quote(authPath(id)) + ";\n")
	for _, h := range p.Spec.ForwardAuth.HeadersToBackend {
		b.WriteString(indent + "auth_request_set $" + authVar(h) + " " + variable("upstream_"+headerVar(string(h))) + ";\n")
	}
	b.WriteString(indent + "error_page 401 = @sg_auth_denied;\n")
	if c.rule.Timeouts == nil {
		// A location's error_page replaces the server's, which action writes again only for a
		// rule with timeouts.
		b.WriteString(indent + "error_page 502 504 = @sg_unavailable;\n")
	}
}

// authPath is the internal location that asks the auth service of the id-th SecurityPolicy.
func authPath(id int) string { return dispatchPrefix + "auth/" + strconv.Itoa(id) }

// redirectCodes are the redirects an auth service's answer is passed on as.
var redirectCodes = []string{"301", "302", "303", "307", "308"}

// authLocations writes the internal locations of the server's forward authentications, and the
// named locations that pass their redirects on; nothing when none applies in the server.
func (r *renderer) authLocations(b *bytes.Buffer) {
	if len(r.serverAuth) == 0 {
		return
	}
	ids := make([]int, 0, len(r.serverAuth))
	for id := range r.serverAuth {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := r.serverAuth[id]
		u, _ := url.Parse(p.Spec.ForwardAuth.URL) // validated
		host, port := u.Hostname(), int32(80)
		if u.Scheme == "https" {
			port = 443
		}
		if n, err := strconv.Atoi(u.Port()); err == nil {
			port = int32(n)
		}
		h, hp := r.opts.Backend(host, port)
		target := u.Scheme + "://" + net.JoinHostPort(h, strconv.Itoa(int(hp))) + u.EscapedPath()
		b.WriteString("\n    # SecurityPolicy " + p.Metadata.Name + ": forward authentication.\n    location = " + quote(authPath(id)) + " {\n        internal;\n")
		b.WriteString("        proxy_pass_request_body off;\n")
		for _, hd := range []header{
			{"Content-Length", ""},
			{"Host", literal(u.Host)},
			{"X-Forwarded-Method", variable("request_method")},
			{"X-Forwarded-Proto", variable("scheme")},
			{"X-Forwarded-Host", variable("http_host")},
			{"X-Forwarded-Uri", variable("request_uri")},
			{"X-Forwarded-For", variable("proxy_add_x_forwarded_for")},
			{"X-Original-URL", variable("scheme") + "://" + variable("http_host") + variable("request_uri")},
		} {
			b.WriteString("        proxy_set_header " + quote(hd.name) + " " + quote(hd.value) + ";\n")
		}
		b.WriteString("        proxy_intercept_errors on;\n        error_page " + strings.Join(redirectCodes, " ") + " = @sg_auth_redirect;\n")
		b.WriteString("        set $sg_auth_upstream " + quote(literal(target)) + ";\n        proxy_pass $sg_auth_upstream;\n    }\n")
	}
	// Shared by the main request and its auth subrequest: the subrequest's redirect is kept here.
	b.WriteString("\n    location @sg_auth_redirect {\n        set $sg_auth_status $upstream_status;\n        set $sg_auth_location $upstream_http_location;\n        return 401;\n    }\n")
	b.WriteString("\n    location @sg_auth_denied {\n")
	for _, code := range redirectCodes {
		b.WriteString("        if ($sg_auth_status = " + code + ") {\n            return " + code + " $sg_auth_location;\n        }\n")
	}
	b.WriteString("        return 401;\n    }\n")
}
