package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// testCA is a certificate authority of the test's own, which its clients trust.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "swarmgate e2e CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue writes a leaf certificate for names (DNS names or IP addresses; the chain: leaf, then the
// CA) and its key into dir, valid until notAfter, and returns their paths.
func (ca *testCA) issue(t *testing.T, dir, name string, notAfter time.Time, names ...string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	if err := os.WriteFile(cert, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// removeSecretsAtEnd removes the user's secrets a test made, once its services are gone.
func removeSecretsAtEnd(t *testing.T, names ...string) {
	t.Cleanup(func() {
		for _, n := range names {
			removeEventually(func() error { return docker.SecretRemove(context.Background(), n) })
		}
	})
}

// TestHTTPS serves HTTPS through the real gateway on the swarm: certificates from swarm secrets
// that `swarmgate tls create-secret` checked, two listeners on one port told apart by SNI, an
// unknown name refused in the handshake, HTTP redirected to HTTPS, and an expired certificate
// refused before any write.
func TestHTTPS(t *testing.T) {
	const instance, httpPort, httpsPort = "e2e-tls", 18193, 18194
	removeSecretsAtEnd(t, "e2e-tls-shop", "e2e-tls-wild", "e2e-tls-expired")
	cleanup(t, instance)
	ca := newTestCA(t)
	dir := t.TempDir()
	shopCert, shopKey := ca.issue(t, dir, "shop", time.Now().Add(24*time.Hour), "shop.tls.test")
	wildCert, wildKey := ca.issue(t, dir, "wild", time.Now().Add(24*time.Hour), "*.tls.test")
	for _, name := range []string{"e2e-tls-shop", "e2e-tls-wild", "e2e-tls-expired"} {
		removeLeftover(docker.SecretRemove, name)
	}
	mustSucceed(t, "tls", "create-secret", "e2e-tls-shop", "--cert", shopCert, "--key", shopKey)
	mustSucceed(t, "tls", "create-secret", "e2e-tls-wild", "--cert", wildCert, "--key", wildKey)
	if r := swarmgate(t, "tls", "create-secret", "e2e-tls-bad", "--cert", shopCert, "--key", wildKey); r.code != 1 ||
		!strings.Contains(r.stderr, "do not make a pair") || strings.Contains(r.stderr, "PRIVATE KEY") {
		t.Errorf("a mismatched pair: exit %d\n%s", r.code, r.stderr)
	}

	gateway := func(shopSecret string) string {
		return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: tls-gw}
spec:
  image: swarmgate/nginx:test
  network: {name: e2e_tls}
  listeners:
    - {name: http, port: %[1]d, publishMode: Host, redirectToHTTPS: {port: %[2]d}}
    - name: shop
      port: %[2]d
      publishMode: Host
      protocol: HTTPS
      hostname: shop.tls.test
      tls: {certificateRefs: [{name: %[3]s}]}
    - name: wild
      port: %[2]d
      publishMode: Host
      protocol: HTTPS
      hostname: "*.tls.test"
      tls: {certificateRefs: [{name: e2e-tls-wild}]}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: tls-shop}
spec:
  parentRefs: [{name: tls-gw}]
  hostnames: [shop.tls.test]
  rules: [{backendRefs: [{name: tls-shop}]}]
  services: [{name: tls-shop, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: tls-shop}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: tls-any}
spec:
  parentRefs: [{name: tls-gw}]
  hostnames: ["*.tls.test"]
  rules: [{backendRefs: [{name: tls-any}]}]
  services: [{name: tls-any, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: tls-any}]}]
`, httpPort, httpsPort, shopSecret)
	}
	manifests := writeManifests(t, "tls.yaml", gateway("e2e-tls-shop"))
	mustSucceed(t, "apply", "-f", manifests, "--instance", instance, "--wait", "--timeout", "90s")

	// The client trusts only the test's CA and checks the name: a certificate for another name fails.
	httpsGet := func(sni string) (echo, *tls.ConnectionState, error) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: sni, RootCAs: ca.pool}, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d/", httpsPort), nil)
		req.Host = sni
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return echo{}, nil, err
		}
		defer resp.Body.Close()
		var e echo
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 200 {
			return e, resp.TLS, fmt.Errorf("status %d: %v", resp.StatusCode, err)
		}
		if resp.ProtoMajor != 2 {
			return e, resp.TLS, fmt.Errorf("protocol %s, want HTTP/2", resp.Proto)
		}
		return e, resp.TLS, nil
	}
	for sni, want := range map[string]struct{ service, cert string }{
		"shop.tls.test": {"tls-shop", "shop.tls.test"},
		"blog.tls.test": {"tls-any", "*.tls.test"},
	} {
		eventually(t, 60*time.Second, func() error {
			e, state, err := httpsGet(sni)
			if err != nil {
				return fmt.Errorf("%s: %w", sni, err)
			}
			if e.Service != want.service || state.PeerCertificates[0].Subject.CommonName != want.cert {
				return fmt.Errorf("%s: answered by %s with the certificate of %s, want %s with %s", sni, e.Service, state.PeerCertificates[0].Subject.CommonName, want.service, want.cert)
			}
			return nil
		})
	}
	if _, _, err := httpsGet("other.example"); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Errorf("a name no listener has: %v, want a TLS handshake failure", err)
	}
	noRedirect := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/cart?id=7", httpPort), nil)
	req.Host = "shop.tls.test"
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := fmt.Sprintf("https://shop.tls.test:%d/cart?id=7", httpsPort); resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		t.Errorf("HTTP: %d to %q, want 301 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	// An expired certificate (a secret made by hand, whose labels say so) is refused before any write.
	if _, err := docker.SecretCreate(context.Background(), swarm.SecretSpec{Annotations: swarm.Annotations{Name: "e2e-tls-expired",
		Labels: map[string]string{"swarmgate.io/tls-not-after": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "swarmgate.io/tls-names": "shop.tls.test"}},
		Data: []byte("expired")}); err != nil {
		t.Fatal(err)
	}
	expired := writeManifests(t, "expired.yaml", gateway("e2e-tls-expired"))
	count := proxy.Reset()
	r := swarmgate(t, "apply", "-f", expired, "--instance", instance)
	if _, writes := count(); r.code != 1 || len(writes) != 0 || !strings.Contains(r.stderr, "spec.listeners[1].tls.certificateRefs[0].name: names a secret whose certificate expired on") {
		t.Errorf("apply with an expired certificate: exit %d, writes %v\n%s", r.code, writes, r.stderr)
	}
	mustSucceed(t, "delete", "-f", manifests, "--instance", instance)
}

// TestMultiNodeHTTPS: every replica of a gateway, one per node of the bed, serves the same
// certificate from the one swarm secret, which the swarm hands to each node.
func TestMultiNodeHTTPS(t *testing.T) {
	c := needBed(t)
	const instance, port = "e2e-bed-tls", 18443
	ca := newTestCA(t)
	dir := t.TempDir()
	cert, key := ca.issue(t, dir, "bed", time.Now().Add(24*time.Hour), "bed.tls.test")
	manifests := writeManifests(t, "bed-tls.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: bed-tls-gw}
spec:
  image: swarmgate/nginx:test
  mode: Global
  network: {name: e2e_bed_tls}
  listeners:
    - {name: https, port: %d, publishMode: Host, protocol: HTTPS, tls: {certificateRefs: [{name: e2e-bed-tls}]}}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: bed-tls}
spec:
  parentRefs: [{name: bed-tls-gw}]
  hostnames: [bed.tls.test]
  rules: [{backendRefs: [{name: bed-tls}]}]
  services: [{name: bed-tls, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: bed-tls}]}]
`, port))
	t.Cleanup(func() {
		runCommand(t, commandOn(bedHost, "delete", "-f", manifests, "--instance", instance))
		removeEventually(func() error { return c.SecretRemove(context.Background(), "e2e-bed-tls") })
	})
	onBed(t, "tls", "create-secret", "e2e-bed-tls", "--cert", cert, "--key", key)
	onBed(t, "apply", "-f", manifests, "--instance", instance, "--wait", "--timeout", "2m")
	var served []string
	for n := 1; n <= 3; n++ {
		addr := fmt.Sprintf("10.99.0.%d:%d", n, port)
		eventually(t, 60*time.Second, func() error {
			tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "bed.tls.test", RootCAs: ca.pool}}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", "https://"+addr+"/", nil)
			req.Host = "bed.tls.test"
			resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				return fmt.Errorf("%s: %w", addr, err)
			}
			defer resp.Body.Close()
			var e echo
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Service != "bed-tls" {
				return fmt.Errorf("%s: answered %q (HTTP %d, %v)", addr, e.Service, resp.StatusCode, err)
			}
			served = append(served, string(resp.TLS.PeerCertificates[0].Raw))
			return nil
		})
	}
	if len(served) != 3 || served[0] != served[1] || served[1] != served[2] {
		t.Errorf("the three gateway replicas serve %d certificates, want the same one", len(served))
	}
}
