package reconciler

import (
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/desired"
)

// IssuedCertificate is the current certificate of an ACME listener: the secret it is in and when
// it expires.
type IssuedCertificate struct {
	Secret   string
	NotAfter time.Time
}

// CertificateRequest is a certificate an ACME listener needs: it has none, or its certificate is
// due for renewal.
type CertificateRequest struct {
	// Key is the listener's desired.CertificateKey; Owner and Gateway its gateway's owner label
	// and qualified name.
	Key       string
	Owner     string
	Gateway   string
	Listener  v1alpha1.SectionName
	Hostname  string
	Directory string
	Email     string
}

// issuedCertificates finds, for each ACME listener of objs, its current certificate among the
// instance's secrets: the certificate secret of its gateway and listener that covers its hostname,
// has not expired, and expires last.
func issuedCertificates(objs []v1alpha1.Object, secrets []swarm.Secret, now time.Time) map[string]IssuedCertificate {
	out := map[string]IssuedCertificate{}
	for _, l := range acmeListeners(objs) {
		for _, sec := range secrets {
			labels := sec.Spec.Labels
			if labels[v1alpha1.LabelRole] != v1alpha1.RoleCertificate || labels[v1alpha1.LabelOwner] != l.owner ||
				labels[v1alpha1.LabelListener] != string(l.listener.Name) || !slices.Contains(strings.Split(labels[v1alpha1.LabelTLSNames], ","), l.hostname) {
				continue
			}
			notAfter, err := time.Parse(time.RFC3339, labels[v1alpha1.LabelTLSNotAfter])
			if err != nil || !now.Before(notAfter) {
				continue
			}
			if cur, ok := out[l.key]; !ok || notAfter.After(cur.NotAfter) || notAfter.Equal(cur.NotAfter) && sec.Spec.Name > cur.Secret {
				out[l.key] = IssuedCertificate{Secret: sec.Spec.Name, NotAfter: notAfter}
			}
		}
	}
	return out
}

// DueCertificates lists the ACME listeners of objs whose certificate is missing, or expires within
// renewBefore, in canonical order.
func DueCertificates(objs []v1alpha1.Object, issued map[string]IssuedCertificate, now time.Time, renewBefore time.Duration) []CertificateRequest {
	var out []CertificateRequest
	for _, l := range acmeListeners(objs) {
		if cur, ok := issued[l.key]; ok && cur.NotAfter.Sub(now) > renewBefore {
			continue
		}
		out = append(out, CertificateRequest{Key: l.key, Owner: l.owner, Gateway: l.gateway.Metadata.QualifiedName(), Listener: l.listener.Name,
			Hostname: l.hostname, Directory: l.listener.TLS.ACME.Directory, Email: l.listener.TLS.ACME.Email})
	}
	return out
}

type acmeListener struct {
	key, owner, hostname string
	gateway              *v1alpha1.Gateway
	listener             *v1alpha1.Listener
}

// acmeListeners are the listeners that take their certificate from ACME, in canonical order.
func acmeListeners(objs []v1alpha1.Object) []acmeListener {
	var out []acmeListener
	for _, o := range objs {
		gw, ok := o.(*v1alpha1.Gateway)
		if !ok {
			continue
		}
		for i := range gw.Spec.Listeners {
			l := &gw.Spec.Listeners[i]
			if l.TLS == nil || l.TLS.ACME == nil || l.Hostname == nil {
				continue
			}
			out = append(out, acmeListener{key: desired.CertificateKey(gw.Metadata.QualifiedName(), l.Name), owner: desired.Owner(gw),
				hostname: string(*l.Hostname), gateway: gw, listener: l})
		}
	}
	slices.SortFunc(out, func(a, b acmeListener) int { return strings.Compare(a.key, b.key) })
	return out
}
