package reconciler

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

func TestCheckCertificates(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	host := v1alpha1.Hostname("shop.example.com")
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "web"},
		Spec: v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{
			{Name: "http", Port: 80},
			{Name: "shop", Port: 443, Protocol: v1alpha1.ProtocolHTTPS, Hostname: &host,
				TLS: &v1alpha1.ListenerTLS{CertificateRefs: []v1alpha1.SecretObjectReference{{Name: "cert"}}}},
		}}}
	secret := func(notAfter time.Time, names string) []swarm.Secret {
		labels := map[string]string{inventory.LabelTLSNames: names}
		if !notAfter.IsZero() {
			labels[inventory.LabelTLSNotAfter] = notAfter.Format(time.RFC3339)
		}
		return []swarm.Secret{{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "cert", Labels: labels}}}}
	}
	for _, tc := range []struct {
		name         string
		secrets      []swarm.Secret
		err, warning string
	}{
		{"valid and covering", secret(now.Add(24*time.Hour), "shop.example.com,www.example.com"), "", ""},
		{"a wildcard covers one label", secret(now.Add(24*time.Hour), "*.example.com"), "", ""},
		{"expired", secret(now.Add(-time.Hour), "shop.example.com"),
			"Gateway web: spec.listeners[1].tls.certificateRefs[0].name: names a secret whose certificate expired on 2026-11-29T11:00:00Z", ""},
		{"another name", secret(now.Add(24*time.Hour), "*.shop.example.com"), "", "is not valid for the listener's hostname shop.example.com"},
		{"made by hand", secret(time.Time{}, ""), "", "was not made by `swarmgate tls create-secret`"},
		{"missing: the planner's to report", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs, warnings := checkCertificates([]v1alpha1.Object{gw}, tc.secrets, now)
			if got := errs.Error(); (tc.err == "") != (len(errs) == 0) || !strings.Contains(got, tc.err) {
				t.Errorf("errors %q, want %q", got, tc.err)
			}
			if got := strings.Join(warnings, "\n"); (tc.warning == "") != (len(warnings) == 0) || !strings.Contains(got, tc.warning) {
				t.Errorf("warnings %q, want %q", got, tc.warning)
			}
		})
	}
}
