package reconciler

import (
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/desired"
)

// IssuedCertificate is the current certificate of an ACME listener: the secret it is in, when it
// became valid (zero if unknown) and expires, and its ARI ID (RFC 9773; empty if unknown).
type IssuedCertificate struct {
	Secret              string
	NotBefore, NotAfter time.Time
	ARIID               string
	// Issuer is the ACME server the listener uses now.
	Issuer *v1alpha1.ACMEIssuer
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
	// DNS01 is the DNS server that takes the challenge's record; nil for HTTP-01.
	DNS01 *v1alpha1.ACMERFC2136
	// Replaces is the ARI ID of the certificate the new one replaces, if any.
	Replaces string
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
				notBefore, _ := time.Parse(time.RFC3339, labels[v1alpha1.LabelTLSNotBefore])
				out[l.key] = IssuedCertificate{Secret: sec.Spec.Name, NotBefore: notBefore, NotAfter: notAfter, ARIID: labels[v1alpha1.LabelACMEARIID], Issuer: l.listener.TLS.ACME}
			}
		}
	}
	return out
}

// DueCertificates lists the ACME listeners of objs whose certificate is missing, is due for
// renewal, or is one the ACME server asked to be renewed by now (renewNow, by ARI ID), in
// canonical order.
func DueCertificates(objs []v1alpha1.Object, issued map[string]IssuedCertificate, now time.Time, renewBefore time.Duration, renewNow func(ariID string) bool) []CertificateRequest {
	var out []CertificateRequest
	for _, l := range acmeListeners(objs) {
		cur, ok := issued[l.key]
		if ok && !cur.due(now, renewBefore) && (cur.ARIID == "" || !renewNow(cur.ARIID)) {
			continue
		}
		a := l.listener.TLS.ACME
		req := CertificateRequest{Key: l.key, Owner: l.owner, Gateway: l.gateway.Metadata.QualifiedName(), Listener: l.listener.Name,
			Hostname: l.hostname, Directory: a.Directory, Email: a.Email, Replaces: cur.ARIID}
		if a.DNS01 != nil {
			req.DNS01 = a.DNS01.RFC2136
		}
		out = append(out, req)
	}
	return out
}

// due tells whether the certificate expires within renewBefore, or within the last third of its
// lifetime if that is shorter: a CA issuing certificates shorter-lived than renewBefore (six-day
// ones, say) must not have every new certificate due at once, renewed in a loop.
func (c IssuedCertificate) due(now time.Time, renewBefore time.Duration) bool {
	if !c.NotBefore.IsZero() && c.NotAfter.After(c.NotBefore) {
		renewBefore = min(renewBefore, c.NotAfter.Sub(c.NotBefore)/3)
	}
	return c.NotAfter.Sub(now) <= renewBefore
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
