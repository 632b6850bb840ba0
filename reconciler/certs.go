package reconciler

import (
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// checkCertificates checks the certificate secrets of the gateways' HTTPS listeners before any
// write, from what their labels say (swarm never gives a secret's data back; `swarmgate tls
// create-secret` records the certificate's expiry and names in labels). An expired certificate is
// an error of the listener; a listener hostname the certificate does not cover, and a secret
// without those labels (which cannot be checked), are warnings. A missing secret is the planner's.
func checkCertificates(objs []v1alpha1.Object, userSecrets []swarm.Secret, now time.Time) (field.ErrorList, []string) {
	byName := map[string]swarm.Secret{}
	for _, s := range userSecrets {
		byName[s.Spec.Name] = s
	}
	var (
		errs     field.ErrorList
		warnings []string
	)
	for _, o := range objs {
		gw, ok := o.(*v1alpha1.Gateway)
		if !ok {
			continue
		}
		for i, l := range gw.Spec.Listeners {
			if l.TLS == nil {
				continue
			}
			for j, ref := range l.TLS.CertificateRefs {
				sec, ok := byName[ref.Name]
				if !ok {
					continue
				}
				where := fmt.Sprintf("Gateway %s listener %s: certificate secret %s", gw.Metadata.Name, l.Name, ref.Name)
				notAfter, err := time.Parse(time.RFC3339, sec.Spec.Labels[inventory.LabelTLSNotAfter])
				if err != nil {
					warnings = append(warnings, where+" was not made by `swarmgate tls create-secret`: its expiry and names cannot be checked before nginx loads it")
					continue
				}
				if !now.Before(notAfter) {
					errs = append(errs, &field.Error{Origin: gw.Metadata.Origin.String(), Object: v1alpha1.Ref(gw),
						Field:  fmt.Sprintf("spec.listeners[%d].tls.certificateRefs[%d].name", i, j),
						Detail: fmt.Sprintf("names a secret whose certificate expired on %s; create one with a valid certificate (swarmgate tls create-secret) and name it here", notAfter.UTC().Format(time.RFC3339))})
					continue
				}
				if l.Hostname != nil && !covers(sec.Spec.Labels[inventory.LabelTLSNames], *l.Hostname) {
					warnings = append(warnings, fmt.Sprintf("%s is not valid for the listener's hostname %s; clients will refuse it", where, *l.Hostname))
				}
			}
		}
	}
	return errs, warnings
}

// covers reports whether a certificate's DNS names cover a hostname: a name equal to it, or a
// wildcard covering one label ("*.example.com" covers "a.example.com", as TLS clients match).
func covers(names string, h v1alpha1.Hostname) bool {
	for _, n := range strings.Split(names, ",") {
		if n == string(h) {
			return true
		}
		if domain, ok := strings.CutPrefix(n, "*"); ok {
			if rest, ok := strings.CutSuffix(string(h), domain); ok && rest != "" && !strings.Contains(rest, ".") {
				return true
			}
		}
	}
	return false
}
