package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/letsencrypt/challtestsrv"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

// pebble runs Let's Encrypt's test ACME server in the test, with a DNS server of its own that
// answers 127.0.0.1 for every name (where the gateway's host-mode ports are) and SERVFAIL for
// the names given. It returns the directory URL, a file holding the CA the server's HTTPS
// certificate is from, and the pool of the CA it issues from. Certificates last validity.
func pebble(t *testing.T, httpPort int, validity time.Duration, servFail ...string) (directory, caFile string, roots *x509.CertPool) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dnsAddr := pc.LocalAddr().String()
	pc.Close()
	dns, err := challtestsrv.New(challtestsrv.Config{DNSAddrs: []string{dnsAddr}, Log: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	dns.SetDefaultDNSIPv6("")
	for _, h := range servFail {
		dns.AddDNSServFailRecord(h)
	}
	go dns.Run()
	t.Cleanup(dns.Shutdown)
	return pebbleWithDNS(t, httpPort, validity, dnsAddr)
}

// pebbleWithDNS runs Pebble asking the DNS server at dnsAddr.
func pebbleWithDNS(t *testing.T, httpPort int, validity time.Duration, dnsAddr string) (directory, caFile string, roots *x509.CertPool) {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	quiet := log.New(io.Discard, "", 0)
	store := db.NewMemoryStore()
	authority := ca.New(quiet, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {ValidityPeriod: uint64(validity.Seconds())}})
	validator := va.New(quiet, httpPort, 0, false, dnsAddr, store)
	front := wfe.New(quiet, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewUnstartedServer(front.Handler())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "pebble-https-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(authority.GetRootCert(0).Cert)
	return srv.URL + "/dir", caFile, roots
}

// servedCertificate is the certificate the gateway on port presents for sni, verified against
// roots (Pebble's).
func servedCertificate(port int, sni string, roots *x509.CertPool) (*x509.Certificate, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: sni, RootCAs: roots})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// httpsStatus is the status of a GET / for host over HTTPS through the gateway on port, its
// certificate verified against roots.
func httpsStatus(t *testing.T, port int, host string, roots *x509.CertPool) int {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: host, RootCAs: roots}}
	req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d/", port), nil)
	req.Host = host
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// certificateObjects lists the instance's ACME certificate chains (configs; secrets of an earlier
// version) and keys (secrets).
func certificateObjects(t *testing.T, instance string) (chains, keys []string) {
	t.Helper()
	ctx := context.Background()
	owned := filters.Arg("label", "swarmgate.io/instance="+instance)
	configs, err := docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: filters.NewArgs(owned, filters.Arg("label", "swarmgate.io/role=certificate"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range configs {
		chains = append(chains, c.Spec.Name)
	}
	secrets, err := docker.SecretList(ctx, swarm.SecretListOptions{Filters: filters.NewArgs(owned)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		switch s.Spec.Labels["swarmgate.io/role"] {
		case "certificate":
			chains = append(chains, s.Spec.Name)
		case "certificate-key":
			keys = append(keys, s.Spec.Name)
		}
	}
	return chains, keys
}

// runningTasks are the IDs of the service's tasks swarm wants running.
func runningTasks(t *testing.T, service string) []string {
	t.Helper()
	list, err := docker.TaskList(context.Background(), swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", service), filters.Arg("desired-state", "running"))})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, task := range list {
		ids = append(ids, task.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestACME: the operator obtains a listener's certificate from an ACME server (Pebble, run in the
// test) with the HTTP-01 challenge answered through the gateway itself, keeps its key in a swarm
// secret and its chain in a swarm config the gateway serves, renews it before it expires with the
// same key, handing the new chain to the gateway's agents: no task replaced, no handshake failed,
// old chains go. It alerts a certificate it cannot get, naming the host and the ACME error.
func TestACME(t *testing.T) {
	const instance, httpPort, httpsPort, opPort = "e2e-acme", 18195, 18196, 19198
	cleanup(t, instance)
	directory, caFile, roots := pebble(t, httpPort, 2*time.Minute, "fail.acme.test")
	operatorURL, tokenFile := agentSetup(t, opPort)
	dir := t.TempDir()
	gateway := fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: acme-gw}
spec:
  image: swarmgate/gateway:test
  network: {name: e2e_acme}
  agent: {operatorURL: %[1]q, tokenSecret: e2e-agent-token}
  listeners:
    - {name: http, port: %[2]d, publishMode: Host, redirectToHTTPS: {port: %[3]d}}
    - {name: shop, port: %[3]d, publishMode: Host, protocol: HTTPS, hostname: shop.acme.test, tls: {acme: {directory: %[4]q, email: ops@acme.test}}}
    - {name: fail, port: %[3]d, publishMode: Host, protocol: HTTPS, hostname: fail.acme.test, tls: {acme: {directory: %[4]q}}}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: acme-shop}
spec:
  parentRefs: [{name: acme-gw}]
  hostnames: [shop.acme.test, fail.acme.test]
  rules: [{backendRefs: [{name: acme-shop}]}]
  services: [{name: acme-shop, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: acme-shop}]}]
`, operatorURL, httpPort, httpsPort, directory)
	if err := os.WriteFile(filepath.Join(dir, "acme.yaml"), []byte(gateway), 0o644); err != nil {
		t.Fatal(err)
	}
	alerts := newReceiver(t)
	started := time.Now()
	args := []string{"--source", "dir:" + dir, "--instance", instance, "--resync", "1h",
		"--agent-token-file", tokenFile, "--listen", fmt.Sprintf("0.0.0.0:%d", opPort), "--acme-ca-file", caFile,
		"--acme-renew-before", "90s", "--alert-webhook", alerts.srv.URL}
	op := startOperatorOn(t, "unix://"+proxy.Socket, opPort, args...)
	t.Cleanup(func() {
		if t.Failed() { // what the gateway's agents saw
			out, _ := exec.Command("/usr/bin/docker", "service", "logs", "--timestamps", "acme-gw").CombinedOutput()
			t.Logf("gateway logs:\n%s", out)
		}
		op.stop(t)
		runCommand(t, command("delete", "-f", dir, "--instance", instance))
	})

	served := func(sni string) (*x509.Certificate, error) { return servedCertificate(httpsPort, sni, roots) }
	var first *x509.Certificate
	eventually(t, 90*time.Second, func() (err error) {
		first, err = served("shop.acme.test")
		return err
	})
	t.Logf("figure: operator start to the first ACME certificate served: %s", time.Since(started).Round(time.Millisecond))
	if n, _ := alerts.count("CertificateIssued", ""); n < 1 {
		t.Errorf("%d CertificateIssued alerts", n)
	}
	if code := httpsStatus(t, httpsPort, "shop.acme.test", roots); code != 200 {
		t.Errorf("HTTPS with the ACME certificate: %d", code)
	}

	// Renewal: Pebble's certificates last 2 minutes and the operator renews 90 s before: about 30 s
	// after the first, a new certificate for the same key is served, through the agents, while
	// HTTPS requests on new connections keep coming, from now on (the renewal may come soon).
	tasks := runningTasks(t, "acme-gw")
	_, keys := certificateObjects(t, instance)
	load := startLoad(20, func() (string, error) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "shop.acme.test", RootCAs: roots}, DisableKeepAlives: true}
		req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d/", httpsPort), nil)
		req.Host = "shop.acme.test"
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("status %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.String(), nil
	})

	// A name whose challenge cannot succeed: alerted with the host and the ACME error, no
	// certificate, so its handshake is refused, and shop's keeps serving.
	eventually(t, 60*time.Second, func() error {
		if n, _ := alerts.count("CertificateFailed", ""); n != 1 {
			return fmt.Errorf("%d CertificateFailed alerts", n)
		}
		return nil
	})
	if msg := alerts.message("CertificateFailed"); !strings.Contains(msg, "fail.acme.test") || !strings.Contains(msg, "acme") {
		t.Errorf("CertificateFailed alert: %s", msg)
	}
	if _, err := served("fail.acme.test"); err == nil {
		t.Error("a name without a certificate completed a TLS handshake")
	}

	var renewed *x509.Certificate
	eventually(t, 150*time.Second, func() (err error) {
		if renewed, err = served("shop.acme.test"); err != nil {
			return err
		}
		if renewed.SerialNumber.Cmp(first.SerialNumber) == 0 {
			return fmt.Errorf("still the first certificate")
		}
		return nil
	})
	time.Sleep(time.Second) // requests on the renewed certificate too
	results := load.finish()
	failed, serials := 0, map[string]bool{}
	for _, r := range results {
		if r.err != nil {
			failed++
			t.Logf("failed at %s: %v", r.start.Format(time.StampMilli), r.err)
		}
		serials[r.node] = true
	}
	t.Logf("figure: renewal under load: %d of %d HTTPS requests (new connections) failed", failed, len(results))
	if failed > 0 || !serials[first.SerialNumber.String()] || !serials[renewed.SerialNumber.String()] {
		t.Errorf("%d of %d requests failed during the renewal, or they did not span it (certificates seen: %v)", failed, len(results), serials)
	}
	if !bytes.Equal(renewed.RawSubjectPublicKeyInfo, first.RawSubjectPublicKeyInfo) {
		t.Error("the renewal has a new key: it could not reach the tasks without replacing them")
	}
	if now := runningTasks(t, "acme-gw"); !slices.Equal(now, tasks) {
		t.Errorf("the gateway's tasks were replaced: %v, were %v", now, tasks)
	}
	// A restarted operator has no key, and needs none: it hands the agents the chain it reads back
	// from its config, the one they serve.
	var before string
	eventually(t, 60*time.Second, func() (err error) {
		before, err = gatewayConfigCurrent(t, op, "acme-gw")
		return err
	})
	issuedBefore, _ := alerts.count("CertificateIssued", "")
	op.stop(t)
	op = startOperatorOn(t, "unix://"+proxy.Socket, opPort, args...)
	eventually(t, 30*time.Second, func() error {
		after, err := gatewayConfigCurrent(t, op, "acme-gw")
		if err != nil {
			return err
		}
		if issued, _ := alerts.count("CertificateIssued", ""); issued == issuedBefore && after != before {
			return fmt.Errorf("the restarted operator hands the agents %s, they served %s", after, before)
		}
		return nil
	})
	if now := runningTasks(t, "acme-gw"); !slices.Equal(now, tasks) {
		t.Errorf("the operator's restart replaced the gateway's tasks: %v, were %v", now, tasks)
	}
	// The chain the tasks mount (their bootstrap) and the newest stay; those between go.
	eventually(t, 30*time.Second, func() error {
		chains, nowKeys := certificateObjects(t, instance)
		if len(chains) > 2 || !slices.Equal(nowKeys, keys) || len(keys) != 1 {
			return fmt.Errorf("chains %v (want at most 2), keys %v (want %v, one)", chains, nowKeys, keys)
		}
		return nil
	})
}
