// Package acme is swarmgate's model of ACME certificates, the pure part: which listeners take
// their certificate from ACME, which certificate each has (read from the swarm's labelled configs
// and secrets), which are due, and what a new one is. The operator orders them (acmeclient speaks
// the protocol); a pass stores them; desired mounts them.
package acme

import (
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// Certificate is a certificate the operator obtained with ACME for a listener, not yet stored: the
// pass that plans it stores it (the applier is the one writer) and moves the gateway to it; the
// previous one is deleted after.
type Certificate struct {
	// Owner is the gateway's owner label ("Gateway/web"), Gateway its qualified name, Listener
	// the listener's name.
	Owner    string
	Gateway  string
	Listener v1alpha1.SectionName
	// Chain is the certificate chain, leaf first, in PEM.
	Chain []byte
	// Key is a new private key (PEM) and CSR its certificate request (DER); Key is nil when the
	// certificate is for the key already in KeySecret.
	Key, CSR  []byte
	KeySecret string
	NotBefore time.Time
	NotAfter  time.Time
	Names     []string
	// ARIID is the certificate's ARI ID (RFC 9773), if the server gave one.
	ARIID string
}

// Key names a listener among all gateways: "<gateway qualified name>/<listener>".
func Key(gateway string, listener v1alpha1.SectionName) string {
	return gateway + "/" + string(listener)
}

// IssuedCertificate is the current certificate of an ACME listener: the config holding its chain
// and the secret holding its key, when it became valid (zero if unknown) and expires, and its ARI
// ID (RFC 9773; empty if unknown).
type IssuedCertificate struct {
	// Name is the config of the chain; for a certificate an earlier version stored (Legacy), the
	// secret holding chain and key.
	Name   string
	Legacy bool
	// Chain is the chain (PEM, leaf first); KeySecret the secret of its key, and CSR that key's
	// certificate request (DER), which renews it with the same key.
	Chain               []byte
	KeySecret           string
	CSR                 []byte
	NotBefore, NotAfter time.Time
	ARIID               string
	// Issuer is the ACME server the listener uses now.
	Issuer *v1alpha1.ACMEIssuer
}

// CertificateRequest is a certificate an ACME listener needs: it has none, or its certificate is
// due for renewal.
type CertificateRequest struct {
	// Key is the listener's Key; Owner and Gateway its gateway's owner label
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
	// KeySecret and CSR, when set, renew with the key of the current certificate: the gateway's
	// tasks keep the key they have mounted and only take a new chain (no task is replaced where
	// agents deliver it). Unset, the order makes a new key.
	KeySecret string
	CSR       []byte
}

// Issued finds, for each ACME listener of objs, its current certificate among the
// instance's certificate configs (and secrets an earlier version stored): the one of its gateway
// and listener that covers its hostname, has not expired, has its key secret, and expires last.
func Issued(objs []v1alpha1.Object, chains []swarm.Config, secrets []swarm.Secret, now time.Time) map[string]IssuedCertificate {
	keys := map[string]swarm.Secret{}
	for _, sec := range secrets {
		if sec.Spec.Labels[inventory.LabelRole] == inventory.RoleCertificateKey {
			keys[sec.Spec.Name] = sec
		}
	}
	type candidate struct {
		name   string
		labels map[string]string
		chain  []byte
		legacy bool
	}
	var candidates []candidate
	for _, c := range chains {
		candidates = append(candidates, candidate{name: c.Spec.Name, labels: c.Spec.Labels, chain: c.Spec.Data})
	}
	for _, sec := range secrets {
		if sec.Spec.Labels[inventory.LabelRole] == inventory.RoleCertificate {
			candidates = append(candidates, candidate{name: sec.Spec.Name, labels: sec.Spec.Labels, legacy: true})
		}
	}
	out := map[string]IssuedCertificate{}
	for _, l := range acmeListeners(objs) {
		for _, c := range candidates {
			labels := c.labels
			if labels[inventory.LabelOwner] != l.owner || labels[inventory.LabelListener] != string(l.listener.Name) ||
				!slices.Contains(strings.Split(labels[inventory.LabelTLSNames], ","), l.hostname) {
				continue
			}
			key, hasKey := keys[labels[inventory.LabelTLSKey]]
			if !c.legacy && !hasKey {
				continue // its key is gone: it cannot be served
			}
			notAfter, err := time.Parse(time.RFC3339, labels[inventory.LabelTLSNotAfter])
			if err != nil || !now.Before(notAfter) {
				continue
			}
			if cur, ok := out[l.key]; ok && (notAfter.Before(cur.NotAfter) || notAfter.Equal(cur.NotAfter) && c.name <= cur.Name) {
				continue
			}
			notBefore, _ := time.Parse(time.RFC3339, labels[inventory.LabelTLSNotBefore])
			issued := IssuedCertificate{Name: c.name, Legacy: c.legacy, Chain: c.chain, NotBefore: notBefore, NotAfter: notAfter,
				ARIID: labels[inventory.LabelACMEARIID], Issuer: l.listener.TLS.ACME}
			if !c.legacy {
				issued.KeySecret = key.Spec.Name
				// A key renews only for the names its request asks for.
				if key.Spec.Labels[inventory.LabelTLSNames] == l.hostname {
					issued.CSR, _ = base64.StdEncoding.DecodeString(key.Spec.Labels[inventory.LabelTLSCSR])
				}
			}
			out[l.key] = issued
		}
	}
	return out
}

// Due lists the ACME listeners of objs whose certificate is missing, is due for
// renewal, or is one the ACME server asked to be renewed by now (renewNow, by ARI ID), in
// canonical order. A renewal keeps the certificate's key unless the server's window for it is
// already past (renewNow's newKey: it was revoked, perhaps for a compromised key), or the key
// cannot renew it (another hostname, an earlier version's certificate).
func Due(objs []v1alpha1.Object, issued map[string]IssuedCertificate, now time.Time, renewBefore time.Duration, renewNow func(ariID string) (renew, newKey bool)) []CertificateRequest {
	var out []CertificateRequest
	for _, l := range acmeListeners(objs) {
		cur, ok := issued[l.key]
		renew, newKey := false, false
		if ok && cur.ARIID != "" {
			renew, newKey = renewNow(cur.ARIID)
		}
		if ok && !cur.due(now, renewBefore) && !renew {
			continue
		}
		a := l.listener.TLS.ACME
		req := CertificateRequest{Key: l.key, Owner: l.owner, Gateway: l.gateway.Metadata.QualifiedName(), Listener: l.listener.Name,
			Hostname: l.hostname, Directory: a.Directory, Email: a.Email, Replaces: cur.ARIID}
		if a.DNS01 != nil {
			req.DNS01 = a.DNS01.RFC2136
		}
		if ok && !newKey && cur.CSR != nil {
			req.KeySecret, req.CSR = cur.KeySecret, cur.CSR
		}
		out = append(out, req)
	}
	return out
}

// due tells whether the certificate is due for renewal by now.
func (c IssuedCertificate) due(now time.Time, renewBefore time.Duration) bool {
	return !now.Before(c.DueAt(renewBefore))
}

// DueAt is when the certificate is due for renewal: renewBefore before it expires, or at the last
// third of its lifetime if that is later: a CA issuing certificates shorter-lived than renewBefore
// (six-day ones, say) must not have every new certificate due at once, renewed in a loop.
func (c IssuedCertificate) DueAt(renewBefore time.Duration) time.Time {
	if !c.NotBefore.IsZero() && c.NotAfter.After(c.NotBefore) {
		renewBefore = min(renewBefore, c.NotAfter.Sub(c.NotBefore)/3)
	}
	return c.NotAfter.Add(-renewBefore)
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
			out = append(out, acmeListener{key: Key(gw.Metadata.QualifiedName(), l.Name), owner: inventory.OwnerOf(gw).String(),
				hostname: string(*l.Hostname), gateway: gw, listener: l})
		}
	}
	slices.SortFunc(out, func(a, b acmeListener) int { return strings.Compare(a.key, b.key) })
	return out
}

// WithKeys leaves out the certificates obtained for a key kept in a secret that is gone since (its
// listener changed, or someone removed it): they cannot be served. The next pass orders anew.
func WithKeys(certs []Certificate, secrets []swarm.Secret) []Certificate {
	return slices.DeleteFunc(slices.Clone(certs), func(c Certificate) bool {
		return c.Key == nil && !slices.ContainsFunc(secrets, func(s swarm.Secret) bool { return s.Spec.Name == c.KeySecret })
	})
}
