package desired

import (
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

// gatewayTasks is how many tasks share a gateway's traffic, which its policies' whole-gateway
// limits are divided by: its replicas, or in global mode the nodes it runs on (its zone's, else
// the swarm's).
func gatewayTasks(gw *v1alpha1.Gateway, zone *v1alpha1.Zone, nodes []Node) int {
	switch {
	case gw.Spec.Mode != v1alpha1.ServiceModeGlobal:
		return int(*gw.Spec.Replicas)
	case zone != nil:
		return max(1, len(zone.Spec.Nodes))
	}
	return max(1, len(nodes))
}

// userFiles mounts, read-only, the htpasswd secrets of the basic authentication gw's config may
// read, where the config reads them (nginx.UserFile). The secrets exist already: the manifest
// names them only, never holds passwords.
func userFiles(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, pols nginx.Policies) []*swarm.SecretReference {
	var refs []*swarm.SecretReference
	for _, p := range nginx.UserFiles(gw, routes, pols) {
		// nginx's workers read it: world-readable inside the task, as the config is.
		refs = append(refs, &swarm.SecretReference{SecretName: p.Spec.BasicAuth.Secret,
			File: &swarm.SecretReferenceFileTarget{Name: nginx.UserFile(p), UID: "0", GID: "0", Mode: 0o444}})
	}
	return refs
}

// backendCAs mounts, read-only, the CA secrets of the BackendTLSPolicies gw's config may read,
// where the config reads them (nginx.BackendCAFile).
func backendCAs(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, pols nginx.Policies) []*swarm.SecretReference {
	var refs []*swarm.SecretReference
	for _, p := range nginx.BackendCAs(gw, routes, pols) {
		refs = append(refs, &swarm.SecretReference{SecretName: p.Spec.Validation.CACertificateRefs[0].Name,
			File: &swarm.SecretReferenceFileTarget{Name: nginx.BackendCAFile(p), UID: "0", GID: "0", Mode: 0o444}})
	}
	return refs
}
