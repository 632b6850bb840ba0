package desired

import (
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/acme"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// Config is a swarm config swarmgate owns other than the store's: the public certificate chain of
// an ACME listener, or a Config's file. Its name carries a hash of its data. Data is nil for one
// that exists already.
type Config struct {
	Name   string
	Owner  string
	Data   []byte
	Labels map[string]string
	// Keep is how many earlier configs of its owner, no longer wanted, stay on the swarm: a
	// Config's revision history.
	Keep int
}

// acmeCertificate is where an ACME listener's certificate is: the config of its chain (and the
// chain) and the secret of its key.
type acmeCertificate struct {
	chainConfig, keySecret string
	chain                  []byte
}

// withCertificates returns gw with the certificate of each ACME listener an earlier version stored
// filled in as its certificateRefs (served as a file of chain and key, like the user's), and the
// certificates of the others, recording the secrets and configs they are in: a new certificate
// (opts.Certificates) becomes a new chain config, and a new key secret if it has a new key; an
// issued one (opts.Issued) is kept. A listener with neither has no certificate yet, and the gateway
// refuses TLS for its host until it has.
func (s *State) withCertificates(gw *v1alpha1.Gateway, opts Options) (*v1alpha1.Gateway, map[v1alpha1.SectionName]acmeCertificate) {
	if !slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool { return l.TLS != nil && l.TLS.ACME != nil }) {
		return gw, nil
	}
	out := *gw
	out.Spec.Listeners = slices.Clone(gw.Spec.Listeners)
	owner := inventory.OwnerOf(gw).String()
	certs := map[v1alpha1.SectionName]acmeCertificate{}
	for i := range out.Spec.Listeners {
		l := &out.Spec.Listeners[i]
		if l.TLS == nil || l.TLS.ACME == nil {
			continue
		}
		tls := *l.TLS
		tls.CertificateRefs = nil
		l.TLS = &tls
		key := acme.Key(gw.Metadata.QualifiedName(), l.Name)
		if j := slices.IndexFunc(opts.Certificates, func(c acme.Certificate) bool { return acme.Key(c.Gateway, c.Listener) == key }); j >= 0 {
			certs[l.Name] = s.storeCertificate(gw, l.Name, opts.Certificates[j])
			continue
		}
		issued, ok := opts.Issued[key]
		switch {
		case !ok:
		case issued.Legacy:
			s.Secrets = append(s.Secrets, Secret{Name: issued.Name, Owner: owner}) // exists: kept, never written
			tls.CertificateRefs = []v1alpha1.SecretObjectReference{{Name: issued.Name}}
		default:
			s.Secrets = append(s.Secrets, Secret{Name: issued.KeySecret, Owner: owner})
			s.Configs = append(s.Configs, Config{Name: issued.Name, Owner: owner})
			certs[l.Name] = acmeCertificate{chainConfig: issued.Name, keySecret: issued.KeySecret, chain: issued.Chain}
		}
	}
	return &out, certs
}

// storeCertificate records the config and, for a new key, the secret that store a certificate
// the operator obtained for listener of gw.
func (s *State) storeCertificate(gw *v1alpha1.Gateway, listener v1alpha1.SectionName, c acme.Certificate) acmeCertificate {
	owner := inventory.OwnerOf(gw).String()
	base := gw.Metadata.QualifiedName() + "-" + string(listener)
	keySecret := c.KeySecret
	if c.Key != nil {
		keySecret = hashedName(base+"-tlskey", c.Key)
		s.Secrets = append(s.Secrets, Secret{Name: keySecret, Owner: owner, Data: c.Key, Labels: s.labels(owner, map[string]string{
			inventory.LabelRole:     inventory.RoleCertificateKey,
			inventory.LabelListener: string(listener),
			inventory.LabelTLSNames: strings.Join(c.Names, ","),
			inventory.LabelTLSCSR:   base64.StdEncoding.EncodeToString(c.CSR),
		})})
	} else {
		s.Secrets = append(s.Secrets, Secret{Name: keySecret, Owner: owner}) // exists: kept
	}
	name := hashedName(base+"-tls", c.Chain)
	s.Configs = append(s.Configs, Config{Name: name, Owner: owner, Data: c.Chain, Labels: s.labels(owner, map[string]string{
		inventory.LabelRole:         inventory.RoleCertificate,
		inventory.LabelListener:     string(listener),
		inventory.LabelTLSKey:       keySecret,
		inventory.LabelTLSNotBefore: c.NotBefore.UTC().Format(time.RFC3339),
		inventory.LabelTLSNotAfter:  c.NotAfter.UTC().Format(time.RFC3339),
		inventory.LabelTLSNames:     strings.Join(c.Names, ","),
		inventory.LabelACMEARIID:    c.ARIID,
	})})
	return acmeCertificate{chainConfig: name, keySecret: keySecret, chain: c.Chain}
}
