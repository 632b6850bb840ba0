package reconciler

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

func TestIssuedAndDueCertificates(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	host := v1alpha1.Hostname("shop.example.com")
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "web"},
		Spec: v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{{Name: "shop", Port: 443, Protocol: v1alpha1.ProtocolHTTPS, Hostname: &host,
			TLS: &v1alpha1.ListenerTLS{ACME: &v1alpha1.ACMEIssuer{Directory: "https://acme.test/dir"}}}}}}
	secret := func(name, owner, listener, names string, notAfter time.Time) swarm.Secret {
		return swarm.Secret{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: map[string]string{
			v1alpha1.LabelRole: v1alpha1.RoleCertificate, v1alpha1.LabelOwner: owner, v1alpha1.LabelListener: listener,
			v1alpha1.LabelTLSNames: names, v1alpha1.LabelTLSNotAfter: notAfter.Format(time.RFC3339), v1alpha1.LabelACMEARIID: "id-" + name}}}}
	}
	// shortLived is a six-day certificate issued age ago.
	shortLived := func(name string, age time.Duration) swarm.Secret {
		sec := secret(name, "Gateway/web", "shop", "shop.example.com", now.Add(6*24*time.Hour-age))
		sec.Spec.Labels[v1alpha1.LabelTLSNotBefore] = now.Add(-age).Format(time.RFC3339)
		return sec
	}
	// The ACME server asks for the certificate in secret "revoked" to be renewed (ARI).
	renewNow := func(id string) bool { return id == "id-revoked" }
	objs := []v1alpha1.Object{gw}
	for _, tc := range []struct {
		name    string
		secrets []swarm.Secret
		issued  string
		due     bool
	}{
		{"none yet", nil, "", true},
		{"a valid one", []swarm.Secret{secret("a", "Gateway/web", "shop", "shop.example.com", now.Add(60*24*time.Hour))}, "a", false},
		{"due for renewal", []swarm.Secret{secret("a", "Gateway/web", "shop", "shop.example.com", now.Add(10*24*time.Hour))}, "a", true},
		{"short-lived, in its first two thirds", []swarm.Secret{shortLived("a", 24*time.Hour)}, "a", false},
		{"short-lived, in its last third", []swarm.Secret{shortLived("a", 5*24*time.Hour)}, "a", true},
		{"the server asks for a renewal", []swarm.Secret{secret("revoked", "Gateway/web", "shop", "shop.example.com", now.Add(60*24*time.Hour))}, "revoked", true},
		{"the later of two", []swarm.Secret{secret("a", "Gateway/web", "shop", "shop.example.com", now.Add(40*24*time.Hour)),
			secret("b", "Gateway/web", "shop", "shop.example.com", now.Add(80*24*time.Hour))}, "b", false},
		{"expired, another name, another listener, another gateway", []swarm.Secret{
			secret("a", "Gateway/web", "shop", "shop.example.com", now.Add(-time.Hour)),
			secret("b", "Gateway/web", "shop", "www.example.com", now.Add(80*24*time.Hour)),
			secret("c", "Gateway/web", "blog", "shop.example.com", now.Add(80*24*time.Hour)),
			secret("d", "Gateway/other", "shop", "shop.example.com", now.Add(80*24*time.Hour))}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issued := issuedCertificates(objs, tc.secrets, now)
			if got := issued["web/shop"].Secret; got != tc.issued {
				t.Errorf("issued %q, want %q", got, tc.issued)
			}
			due := DueCertificates(objs, issued, now, 30*24*time.Hour, renewNow)
			if (len(due) == 1) != tc.due {
				t.Fatalf("due %+v, want due=%v", due, tc.due)
			}
			if tc.due && (due[0].Hostname != "shop.example.com" || due[0].Owner != "Gateway/web" || !strings.HasSuffix(due[0].Directory, "/dir")) {
				t.Errorf("request %+v", due[0])
			}
			// A renewal names the certificate it replaces.
			if tc.due && tc.issued != "" && due[0].Replaces != "id-"+tc.issued {
				t.Errorf("replaces %q, want id-%s", due[0].Replaces, tc.issued)
			}
		})
	}
}
