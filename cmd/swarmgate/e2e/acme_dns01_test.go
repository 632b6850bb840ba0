package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/lego"
	"github.com/miekg/dns"
)

// knot runs Debian's Knot DNS on loopback for the test, authoritative for zone, taking dynamic
// updates (RFC 2136) signed with one TSIG key (hmac-sha256). It returns the server's address and
// the key's name and base64 secret.
func knot(t *testing.T, zone string) (addr, keyName, secret string) {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/knotd"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no /usr/sbin/knotd: hack/deps.sh installs knot")
		}
		t.Skip("no /usr/sbin/knotd (apt-get install knot)")
	}
	dir := t.TempDir()
	// A port free for UDP; Knot listens on it for TCP too.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = pc.LocalAddr().String()
	pc.Close()
	host, port, _ := net.SplitHostPort(addr)
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	keyName, secret = "swarmgate-e2e.", base64.StdEncoding.EncodeToString(raw)
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil { // its journal of updates
		t.Fatal(err)
	}
	zoneFile := filepath.Join(dir, "zone")
	if err := os.WriteFile(zoneFile, []byte(fmt.Sprintf(`$ORIGIN %[1]s
$TTL 60
@ SOA ns.%[1]s hostmaster.%[1]s 1 3600 600 86400 60
@ NS ns.%[1]s
ns A 127.0.0.1
`, zone)), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`server:
  listen: %[1]s@%[2]s
  rundir: %[3]s
  user: root:root
log:
  - target: stderr
    any: info
database:
  storage: %[3]s/db
key:
  - id: %[4]s
    algorithm: hmac-sha256
    secret: %[5]s
acl:
  - id: update
    key: %[4]s
    action: update
zone:
  - domain: %[6]s
    file: %[7]s
    acl: update
    zonefile-sync: -1
    journal-content: changes
`, host, port, dir, keyName, secret, zone, zoneFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	server := exec.Command("/usr/sbin/knotd", "-c", config)
	var log strings.Builder
	server.Stdout, server.Stderr = &log, &log
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = server.Process.Kill()
		_ = server.Wait()
		if t.Failed() {
			t.Logf("knotd:\n%s", log.String())
		}
	})
	eventually(t, 10*time.Second, func() error {
		_, err := lookupTXT(addr, "ns."+zone)
		return err
	})
	return addr, keyName, secret
}

// lookupTXT asks the server at addr for the TXT records of name.
func lookupTXT(addr, name string) ([]string, error) {
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	in, err := dns.Exchange(m, addr)
	if err != nil {
		return nil, err
	}
	if in.Rcode != dns.RcodeSuccess && in.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%s: %s", name, dns.RcodeToString[in.Rcode])
	}
	var out []string
	for _, rr := range in.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, txt.Txt...)
		}
	}
	return out, nil
}

// TestACMEDNS01: the operator obtains a wildcard certificate with the DNS-01 challenge, writing its
// TXT record to a DNS server (Knot, on loopback) with TSIG-signed RFC 2136 updates and removing it
// after; the gateway serves it for any name under the wildcard. A listener whose updates the
// server refuses is alerted, naming its host. A certificate revoked at the ACME server is replaced:
// the operator asks the server when to renew (ARI), the answer is "now", the secret rotates and the
// old one goes.
func TestACMEDNS01(t *testing.T) {
	const instance, httpsPort, opPort = "e2e-dns01", 18198, 19199
	cleanup(t, instance)
	nameserver, keyName, secret := knot(t, "dns.test.")
	directory, caFile, roots := pebbleWithDNS(t, 0, time.Hour, nameserver)

	dir, secrets := t.TempDir(), t.TempDir()
	stranger := make([]byte, 32)
	_, _ = rand.Read(stranger)
	for name, content := range map[string]string{"e2e-tsig": secret + "\n", "e2e-tsig-stranger": base64.StdEncoding.EncodeToString(stranger)} {
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	accountKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(accountKey)
	keyFile := filepath.Join(secrets, "account.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	manifests := fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: dns01-gw}
spec:
  image: swarmgate/nginx:test
  network: {name: e2e_dns01}
  listeners:
    - name: wild
      port: %[1]d
      publishMode: Host
      protocol: HTTPS
      hostname: "*.wild.dns.test"
      tls:
        acme:
          directory: %[2]q
          dns01: {rfc2136: {nameserver: %[3]q, tsigKeyName: %[4]q, tsigSecretRef: {name: e2e-tsig}}}
    - name: denied
      port: %[1]d
      publishMode: Host
      protocol: HTTPS
      hostname: "*.denied.dns.test"
      tls:
        acme:
          directory: %[2]q
          dns01: {rfc2136: {nameserver: %[3]q, tsigKeyName: stranger., tsigSecretRef: {name: e2e-tsig-stranger}}}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: dns01-app}
spec:
  parentRefs: [{name: dns01-gw}]
  hostnames: [app.wild.dns.test, app.denied.dns.test]
  rules: [{backendRefs: [{name: dns01-app}]}]
  services: [{name: dns01-app, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: dns01-app}]}]
`, httpsPort, directory, nameserver, keyName)
	if err := os.WriteFile(filepath.Join(dir, "dns01.yaml"), []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	alerts := newReceiver(t)
	started := time.Now()
	op := startOperatorOn(t, "unix://"+proxy.Socket, opPort, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--acme-ca-file", caFile, "--acme-account-key-file", keyFile, "--secrets-dir", secrets,
		"--acme-dns01-recursive-nameservers", nameserver, "--acme-dns01-recursive-nameservers-only",
		"--acme-renewal-info-interval", "2s", "--alert-webhook", alerts.srv.URL)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("/usr/bin/docker", "service", "ps", "--no-trunc", "dns01-gw").CombinedOutput()
			logs, _ := exec.Command("/usr/bin/docker", "service", "logs", "--timestamps", "dns01-gw").CombinedOutput()
			t.Logf("gateway tasks:\n%s\ngateway logs:\n%s", out, logs)
		}
		op.stop(t)
		runCommand(t, command("delete", "-f", dir, "--instance", instance))
	})

	served := func(sni string) (*x509.Certificate, error) { return servedCertificate(httpsPort, sni, roots) }
	var first *x509.Certificate
	eventually(t, 90*time.Second, func() (err error) {
		first, err = served("app.wild.dns.test")
		return err
	})
	t.Logf("figure: operator start to the first DNS-01 wildcard certificate served: %s", time.Since(started).Round(time.Millisecond))
	if len(first.DNSNames) != 1 || first.DNSNames[0] != "*.wild.dns.test" {
		t.Errorf("certificate names %v, want the wildcard", first.DNSNames)
	}
	// A wildcard certificate covers one label (RFC 6125), the listener's wildcard any number: a
	// client refuses the certificate for a name two labels down (README says so).
	if _, err := served("deeper.name.wild.dns.test"); err == nil {
		t.Error("a wildcard certificate was accepted for a name two labels down")
	}
	if code := httpsStatus(t, httpsPort, "app.wild.dns.test", roots); code != 200 {
		t.Errorf("HTTPS with the wildcard certificate: %d", code)
	}
	// The challenge's record is gone from the zone once the order is done.
	if txt, err := lookupTXT(nameserver, "_acme-challenge.wild.dns.test"); err != nil || len(txt) != 0 {
		t.Errorf("challenge record after the order: %v %v", txt, err)
	}

	// Updates signed with a key the server does not know are refused: alerted with the host.
	eventually(t, 60*time.Second, func() error {
		if n, _ := alerts.count("CertificateFailed", ""); n != 1 {
			return fmt.Errorf("%d CertificateFailed alerts", n)
		}
		return nil
	})
	if msg := alerts.message("CertificateFailed"); !strings.Contains(msg, "*.denied.dns.test") || !strings.Contains(msg, "DNS update") || strings.Contains(msg, secret) {
		t.Errorf("CertificateFailed alert: %s", msg)
	}
	if _, err := served("app.denied.dns.test"); err == nil {
		t.Error("a name without a certificate completed a TLS handshake")
	}

	// Revocation: the account revokes the served certificate at the ACME server; the operator
	// learns it from the server's renewal info and replaces it.
	client := acmeClient(t, directory, caFile, accountKey)
	if err := client.Certificate.Revoke(context.Background(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: first.Raw})); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	chainsBefore, keysBefore := certificateObjects(t, instance)
	eventually(t, 90*time.Second, func() error {
		cert, err := served("app.wild.dns.test")
		if err != nil {
			return err
		}
		if cert.SerialNumber.Cmp(first.SerialNumber) == 0 {
			return fmt.Errorf("still the revoked certificate")
		}
		// A revoked certificate's key may be compromised: the replacement has a new one.
		chains, keys := certificateObjects(t, instance)
		if len(chains) != 1 || len(chainsBefore) != 1 || chains[0] == chainsBefore[0] || len(keys) != 1 || len(keysBefore) != 1 || keys[0] == keysBefore[0] {
			return fmt.Errorf("chains %v (before %v), keys %v (before %v): want the replacement's only", chains, chainsBefore, keys, keysBefore)
		}
		if bytes.Equal(cert.RawSubjectPublicKeyInfo, first.RawSubjectPublicKeyInfo) {
			return fmt.Errorf("the replacement has the revoked certificate's key")
		}
		return nil
	})
	t.Logf("figure: revocation to the replacement served: %s", time.Since(revoked).Round(time.Millisecond))
}

// acmeClient is a lego client of the account with key at the ACME server at directory, whose
// HTTPS certificate is from the CA in caFile.
func acmeClient(t *testing.T, directory, caFile string, key crypto.Signer) *lego.Client {
	t.Helper()
	data, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(data)
	u := &acmeUser{key: key}
	config := lego.NewConfig(u)
	config.CADirURL = directory
	config.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	client, err := lego.NewClient(config)
	if err != nil {
		t.Fatal(err)
	}
	if u.reg, err = client.Registration.ResolveAccountByKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	return client
}

type acmeUser struct {
	key crypto.Signer
	reg *acme.ExtendedAccount
}

func (u *acmeUser) GetEmail() string                       { return "" }
func (u *acmeUser) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *acmeUser) GetPrivateKey() crypto.Signer           { return u.key }
