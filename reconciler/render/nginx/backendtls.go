package nginx

import (
	"slices"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// BackendCAFile is where the CA secret of a BackendTLSPolicy is mounted: named by the policy, so
// another secret changes the mount and not the config.
func BackendCAFile(p *v1alpha1.BackendTLSPolicy) string {
	return contract.BackendCADir + "/" + p.Metadata.QualifiedName() + ".pem"
}

func backendTLSPoliciesOf(objs []v1alpha1.Object) []*v1alpha1.BackendTLSPolicy {
	var out []*v1alpha1.BackendTLSPolicy
	for _, o := range objs {
		if p, ok := o.(*v1alpha1.BackendTLSPolicy); ok {
			out = append(out, p)
		}
	}
	return out
}

// backendTLSOf is the BackendTLSPolicy of a swarm service, or nil.
func (p Policies) backendTLSOf(service string) *v1alpha1.BackendTLSPolicy {
	for _, bp := range p.BackendTLS {
		if slices.ContainsFunc(bp.Spec.TargetRefs, func(t v1alpha1.BackendTLSTargetRef) bool { return t.Name == service }) {
			return bp
		}
	}
	return nil
}

// BackendCAs are the BackendTLSPolicies with a CA secret that gw's config may read: those of the
// backends and mirrors of the routes attached to it.
func BackendCAs(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, pols Policies) []*v1alpha1.BackendTLSPolicy {
	var out []*v1alpha1.BackendTLSPolicy
	for _, rt := range routes {
		if !slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool { return rt.AttachesTo(gw, &l) }) {
			continue
		}
		for _, rule := range rt.Spec.Rules {
			refs := slices.Clone(rule.BackendRefs)
			for _, f := range rule.Filters {
				if f.RequestMirror != nil {
					refs = append(refs, f.RequestMirror.BackendRef)
				}
			}
			for _, ref := range refs {
				if p := pols.backendTLSOf(rt.BackendServiceName(ref)); p != nil && len(p.Spec.Validation.CACertificateRefs) > 0 && !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// backendTLS writes how a location speaks TLS to a backend service with a BackendTLSPolicy (module
// is proxy or grpc) and returns the scheme to reach it by: https or grpcs; without a policy it
// writes nothing and returns http or grpc.
func (r *renderer) backendTLS(service, module string, line func(...string)) string {
	scheme := map[string]string{"proxy": "http", "grpc": "grpc"}[module]
	p := r.opts.Policies.backendTLSOf(service)
	if p == nil {
		return scheme
	}
	ca := contract.SystemCAFile
	if len(p.Spec.Validation.CACertificateRefs) > 0 {
		ca = BackendCAFile(p)
	}
	line(module, "_ssl_protocols TLSv1.2 TLSv1.3;")
	line(module, "_ssl_verify on;")
	line(module, "_ssl_verify_depth 4;")
	line(module, "_ssl_trusted_certificate ", quote(ca), ";")
	line(module, "_ssl_name ", quote(string(p.Spec.Validation.Hostname)), ";")
	line(module, "_ssl_server_name on;")
	return map[string]string{"proxy": "https", "grpc": "grpcs"}[module]
}
