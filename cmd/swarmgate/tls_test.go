package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// writePair writes a self-signed certificate valid from notBefore to notAfter for names, and its
// key, and returns their paths.
func writePair(t *testing.T, notBefore, notAfter time.Time, names ...string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: notBefore, NotAfter: notAfter, DNSNames: names}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestCertificateSecret(t *testing.T) {
	now := time.Now()
	cert, key := writePair(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), "shop.example.com", "*.shop.example.com")
	data, labels, err := certificateSecret(cert, key, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "-----BEGIN CERTIFICATE-----") || !strings.Contains(string(data), "PRIVATE KEY-----") {
		t.Errorf("secret data: want the chain, then the key:\n%s", data)
	}
	if labels[inventory.LabelTLSNames] != "*.shop.example.com,shop.example.com" || labels[inventory.LabelTLSNotAfter] == "" {
		t.Errorf("labels %v", labels)
	}

	otherCert, otherKey := writePair(t, now.Add(-time.Hour), now.Add(time.Hour), "other.example.com")
	expiredCert, expiredKey := writePair(t, now.Add(-48*time.Hour), now.Add(-time.Hour), "shop.example.com")
	noNameCert, noNameKey := writePair(t, now.Add(-time.Hour), now.Add(time.Hour))
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"a key of another certificate", cert, otherKey, "the certificate and the key do not make a pair"},
		{"expired", expiredCert, expiredKey, "--cert: the certificate expired on"},
		{"no DNS name", noNameCert, noNameKey, "names no DNS name"},
		{"no key", otherCert, filepath.Join(t.TempDir(), "missing.pem"), "--key: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := certificateSecret(tc.cert, tc.key, now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("the error quotes the key: %v", err)
			}
		})
	}
}

// TestCertificateSecretRefusesWhatNginxRefuses: every block of the chain parses, and keys are as
// large as OpenSSL's security level 2 wants; errors name the file and the block, not the content.
func TestCertificateSecretRefusesWhatNginxRefuses(t *testing.T) {
	now := time.Now()
	cert, key := writePair(t, now.Add(-time.Hour), now.Add(time.Hour), "a.example.com")
	leaf, _ := os.ReadFile(cert)
	garbage := filepath.Join(t.TempDir(), "chain.pem")
	junk := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER at all")})
	if err := os.WriteFile(garbage, append(leaf, junk...), 0o600); err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), DNSNames: []string{"a.example.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsaKey.PublicKey, rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	weakCert, weakKey := filepath.Join(dir, "weak.pem"), filepath.Join(dir, "weak.key")
	_ = os.WriteFile(weakCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(weakKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), 0o600)
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"a garbage second block", garbage, key, "chain.pem: certificate block 2 does not parse"},
		{"RSA-1024", weakCert, weakKey, "weak.pem: certificate block 1 has an RSA key of 1024 bits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := certificateSecret(tc.cert, tc.key, now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "not DER") {
				t.Errorf("the error quotes the content: %v", err)
			}
		})
	}
}
