package acme

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

func TestIssuedAndDue(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	host := v1alpha1.Hostname("shop.example.com")
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "web"},
		Spec: v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{{Name: "shop", Port: 443, Protocol: v1alpha1.ProtocolHTTPS, Hostname: &host,
			TLS: &v1alpha1.ListenerTLS{ACME: &v1alpha1.ACMEIssuer{Directory: "https://acme.test/dir"}}}}}}
	labels := func(owner, listener, names string, notAfter time.Time, name string) map[string]string {
		return map[string]string{inventory.LabelRole: inventory.RoleCertificate, inventory.LabelOwner: owner, inventory.LabelListener: listener,
			inventory.LabelTLSNames: names, inventory.LabelTLSNotAfter: notAfter.Format(time.RFC3339), inventory.LabelACMEARIID: "id-" + name,
			inventory.LabelTLSKey: "key"}
	}
	chain := func(name, owner, listener, names string, notAfter time.Time) swarm.Config {
		return swarm.Config{Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name, Labels: labels(owner, listener, names, notAfter, name)},
			Data: []byte("chain " + name)}}
	}
	// shortLived is a six-day certificate issued age ago.
	shortLived := func(name string, age time.Duration) swarm.Config {
		c := chain(name, "Gateway/web", "shop", "shop.example.com", now.Add(6*24*time.Hour-age))
		c.Spec.Labels[inventory.LabelTLSNotBefore] = now.Add(-age).Format(time.RFC3339)
		return c
	}
	csr := []byte{0x30, 1, 2}
	key := func(names string) swarm.Secret {
		return swarm.Secret{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "key", Labels: map[string]string{
			inventory.LabelRole: inventory.RoleCertificateKey, inventory.LabelOwner: "Gateway/web", inventory.LabelListener: "shop",
			inventory.LabelTLSNames: names, inventory.LabelTLSCSR: base64.StdEncoding.EncodeToString(csr)}}}}
	}
	legacy := swarm.Secret{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "legacy",
		Labels: labels("Gateway/web", "shop", "shop.example.com", now.Add(60*24*time.Hour), "legacy")}}}
	legacyDue := legacy
	legacyDue.Spec.Labels = labels("Gateway/web", "shop", "shop.example.com", now.Add(10*24*time.Hour), "legacy")
	// The ACME server asks for the certificate "early" to be renewed (ARI), and for "revoked" to
	// be replaced at once: its window is past.
	renewNow := func(id string) (bool, bool) { return id == "id-early" || id == "id-revoked", id == "id-revoked" }
	objs := []v1alpha1.Object{gw}
	shopKey := key("shop.example.com")
	for _, tc := range []struct {
		name    string
		chains  []swarm.Config
		secrets []swarm.Secret
		issued  string
		due     bool
		// reuse: a due renewal keeps the key.
		reuse bool
	}{
		{"none yet", nil, nil, "", true, false},
		{"a valid one", []swarm.Config{chain("a", "Gateway/web", "shop", "shop.example.com", now.Add(60*24*time.Hour))}, []swarm.Secret{shopKey}, "a", false, false},
		{"its key is gone", []swarm.Config{chain("a", "Gateway/web", "shop", "shop.example.com", now.Add(60*24*time.Hour))}, nil, "", true, false},
		{"due for renewal: same key", []swarm.Config{chain("a", "Gateway/web", "shop", "shop.example.com", now.Add(10*24*time.Hour))}, []swarm.Secret{shopKey}, "a", true, true},
		{"due, its key asks for other names: a new key", []swarm.Config{chain("a", "Gateway/web", "shop", "shop.example.com", now.Add(10*24*time.Hour))},
			[]swarm.Secret{key("www.example.com")}, "a", true, false},
		{"short-lived, in its first two thirds", []swarm.Config{shortLived("a", 24*time.Hour)}, []swarm.Secret{shopKey}, "a", false, false},
		{"short-lived, in its last third", []swarm.Config{shortLived("a", 5*24*time.Hour)}, []swarm.Secret{shopKey}, "a", true, true},
		{"the server asks for a renewal", []swarm.Config{chain("early", "Gateway/web", "shop", "shop.example.com", now.Add(60*24*time.Hour))}, []swarm.Secret{shopKey}, "early", true, true},
		{"revoked: a new key", []swarm.Config{chain("revoked", "Gateway/web", "shop", "shop.example.com", now.Add(60*24*time.Hour))}, []swarm.Secret{shopKey}, "revoked", true, false},
		{"the later of two", []swarm.Config{chain("a", "Gateway/web", "shop", "shop.example.com", now.Add(40*24*time.Hour)),
			chain("b", "Gateway/web", "shop", "shop.example.com", now.Add(80*24*time.Hour))}, []swarm.Secret{shopKey}, "b", false, false},
		{"expired, another name, another listener, another gateway", []swarm.Config{
			chain("a", "Gateway/web", "shop", "shop.example.com", now.Add(-time.Hour)),
			chain("b", "Gateway/web", "shop", "www.example.com", now.Add(80*24*time.Hour)),
			chain("c", "Gateway/web", "blog", "shop.example.com", now.Add(80*24*time.Hour)),
			chain("d", "Gateway/other", "shop", "shop.example.com", now.Add(80*24*time.Hour))}, []swarm.Secret{shopKey}, "", true, false},
		{"an earlier version's", nil, []swarm.Secret{legacy}, "legacy", false, false},
		{"an earlier version's, due: a new key", nil, []swarm.Secret{legacyDue}, "legacy", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issued := Issued(objs, tc.chains, tc.secrets, now)
			cur := issued["web/shop"]
			if cur.Name != tc.issued {
				t.Errorf("issued %q, want %q", cur.Name, tc.issued)
			}
			if tc.issued != "" && (cur.Legacy != (tc.issued == "legacy") || !cur.Legacy && (cur.KeySecret != "key" || string(cur.Chain) != "chain "+tc.issued)) {
				t.Errorf("issued %+v", cur)
			}
			due := Due(objs, issued, now, 30*24*time.Hour, renewNow)
			if (len(due) == 1) != tc.due {
				t.Fatalf("due %+v, want due=%v", due, tc.due)
			}
			if !tc.due {
				return
			}
			if due[0].Hostname != "shop.example.com" || due[0].Owner != "Gateway/web" || !strings.HasSuffix(due[0].Directory, "/dir") {
				t.Errorf("request %+v", due[0])
			}
			// A renewal names the certificate it replaces.
			if tc.issued != "" && due[0].Replaces != "id-"+tc.issued {
				t.Errorf("replaces %q, want id-%s", due[0].Replaces, tc.issued)
			}
			if reused := due[0].KeySecret == "key" && string(due[0].CSR) == string(csr); reused != tc.reuse {
				t.Errorf("renewal keeps the key: %v, want %v (%+v)", reused, tc.reuse, due[0])
			}
		})
	}
}

// TestWithKeys: a certificate obtained for a key whose secret is gone since is not stored (it
// could not be served); one with a key of its own, or whose key is there, is.
func TestWithKeys(t *testing.T) {
	certs := []Certificate{{Chain: []byte("own key"), Key: []byte("k")}, {Chain: []byte("kept"), KeySecret: "key-a"}, {Chain: []byte("gone"), KeySecret: "key-b"}}
	secrets := []swarm.Secret{{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "key-a"}}}}
	var got []string
	for _, c := range WithKeys(certs, secrets) {
		got = append(got, string(c.Chain))
	}
	if strings.Join(got, ",") != "own key,kept" {
		t.Errorf("stored %v, want own key and kept", got)
	}
}
