package desired

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Certificate is a certificate the operator obtained with ACME for a listener, not yet kept in a
// swarm secret: the pass that plans it stores it (the applier is the one writer), mounts it and
// moves the gateway to it; the previous one is deleted after.
type Certificate struct {
	// Owner is the gateway's owner label ("Gateway/web"), Gateway its qualified name, Listener
	// the listener's name.
	Owner    string
	Gateway  string
	Listener v1alpha1.SectionName
	// Data is the chain (leaf first), then the key, in PEM.
	Data                []byte
	NotBefore, NotAfter time.Time
	Names               []string
	// ARIID is the certificate's ARI ID (RFC 9773), if the server gave one.
	ARIID string
}

// CertificateKey names a listener among all gateways: "<gateway qualified name>/<listener>".
func CertificateKey(gateway string, listener v1alpha1.SectionName) string {
	return gateway + "/" + string(listener)
}

// withCertificates returns gw with the certificate of each ACME listener filled in as its
// certificateRefs, and records the secrets they are in: a new certificate (opts.Certificates)
// becomes a new secret; an issued one (opts.Issued) is kept. A listener with neither has no
// certificate yet, and the gateway refuses TLS for its host until it has.
func (s *State) withCertificates(gw *v1alpha1.Gateway, opts Options) *v1alpha1.Gateway {
	if !slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool { return l.TLS != nil && l.TLS.ACME != nil }) {
		return gw
	}
	out := *gw
	out.Spec.Listeners = slices.Clone(gw.Spec.Listeners)
	owner := Owner(gw)
	for i := range out.Spec.Listeners {
		l := &out.Spec.Listeners[i]
		if l.TLS == nil || l.TLS.ACME == nil {
			continue
		}
		key := CertificateKey(gw.Metadata.QualifiedName(), l.Name)
		var name string
		if j := slices.IndexFunc(opts.Certificates, func(c Certificate) bool { return CertificateKey(c.Gateway, c.Listener) == key }); j >= 0 {
			c := opts.Certificates[j]
			sum := sha256.Sum256(c.Data)
			name = swarmName(gw.Metadata.QualifiedName()+"-"+string(l.Name)+"-tls", 64-11) + "-" + hex.EncodeToString(sum[:])[:10]
			labels := s.labels(owner, map[string]string{
				v1alpha1.LabelRole:         v1alpha1.RoleCertificate,
				v1alpha1.LabelListener:     string(l.Name),
				v1alpha1.LabelTLSNotBefore: c.NotBefore.UTC().Format(time.RFC3339),
				v1alpha1.LabelTLSNotAfter:  c.NotAfter.UTC().Format(time.RFC3339),
				v1alpha1.LabelTLSNames:     strings.Join(c.Names, ","),
				v1alpha1.LabelACMEARIID:    c.ARIID,
			})
			s.Secrets = append(s.Secrets, Secret{Name: name, Owner: owner, Data: c.Data, Labels: labels})
		} else if issued, ok := opts.Issued[key]; ok {
			name = issued
			s.Secrets = append(s.Secrets, Secret{Name: name, Owner: owner}) // exists: kept, never written
		}
		tls := *l.TLS
		tls.CertificateRefs = nil
		if name != "" {
			tls.CertificateRefs = []v1alpha1.SecretObjectReference{{Name: name}}
		}
		l.TLS = &tls
	}
	return &out
}
