package nginx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// certificateRef finds the certificate files a config reads from CertDir; acmeKeyRef the keys of
// ACME certificates there, and acmeChainRef their chains where the tasks mount them.
var (
	certificateRef = regexp.MustCompile(regexp.QuoteMeta(contract.CertDir) + `/([A-Za-z0-9_.-]+)\.pem`)
	acmeKeyRef     = regexp.MustCompile(regexp.QuoteMeta(contract.CertDir) + `/([A-Za-z0-9_.-]+)\.key`)
	acmeChainRef   = regexp.MustCompile(regexp.QuoteMeta(contract.ChainDir) + `/([A-Za-z0-9_.-]+)\.crt`)
	backendCARef   = regexp.MustCompile(regexp.QuoteMeta(contract.BackendCADir) + `/([A-Za-z0-9_.-]+)\.pem`)
)

// withTestCertificates writes, for each certificate file a config names, a self-signed
// certificate and its key into dir (its common name is the file's name, "<listener>-<index>", so
// a test can tell which one nginx presented), and points the config at them. An ACME listener's
// chain goes to dir/tls (where a config with agents reads it, relative to the main config in dir)
// and its key to dir/keys; a BackendTLSPolicy's CAs (a certificate of the policy's name) to
// dir/backend-ca.
func withTestCertificates(t testing.TB, conf []byte, dir string) []byte {
	t.Helper()
	write := func(path string, data []byte) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range certificateRef.FindAllSubmatch(conf, -1) {
		name := string(m[1])
		path := filepath.Join(dir, "tls", name+".pem")
		if _, err := os.Stat(path); err == nil {
			continue
		}
		write(path, selfSigned(t, name))
	}
	for _, m := range acmeKeyRef.FindAllSubmatch(conf, -1) {
		name := string(m[1])
		pair := selfSigned(t, name)
		keyAt := bytes.Index(pair, []byte("-----BEGIN EC PRIVATE KEY"))
		write(filepath.Join(dir, "tls", name+".crt"), pair[:keyAt])
		write(filepath.Join(dir, "keys", name+".key"), pair[keyAt:])
	}
	for _, m := range backendCARef.FindAllSubmatch(conf, -1) {
		pair := selfSigned(t, string(m[1]))
		write(filepath.Join(dir, "backend-ca", string(m[1])+".pem"), pair[:bytes.Index(pair, []byte("-----BEGIN EC PRIVATE KEY"))])
	}
	conf = backendCARef.ReplaceAll(conf, []byte(filepath.Join(dir, "backend-ca")+"/$1.pem"))
	conf = acmeKeyRef.ReplaceAll(conf, []byte(filepath.Join(dir, "keys")+"/$1.key"))
	conf = acmeChainRef.ReplaceAll(conf, []byte(filepath.Join(dir, "tls")+"/$1.crt"))
	return certificateRef.ReplaceAll(conf, []byte(filepath.Join(dir, "tls")+"/$1.pem"))
}

// selfSigned is a PEM certificate for name followed by its PEM key, as a certificate secret holds.
func selfSigned(t testing.TB, name string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{name}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...)
}

// TestServeHTTPS serves HTTPS listeners that share a port by hostname through a real nginx: SNI
// picks the certificate of the listener whose hostname matches best, a name no listener has is
// refused in the handshake, HTTP/2 is offered, and the HTTP listener redirects to HTTPS while still
// answering the health check.
func TestServeHTTPS(t *testing.T) {
	httpPort, httpsPort := freePort(t), freePort(t)
	gw, routes := loadInput(t, "https.yaml", []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners:
    - {name: http, port: %[1]d, redirectToHTTPS: {port: %[2]d}}
    - {name: exact, port: %[2]d, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: cert-a}], options: {swarmgate.io/min-version: "1.3"}}}
    - name: wild
      port: %[2]d
      protocol: HTTPS
      hostname: "*.example.com"
      tls: {certificateRefs: [{name: cert-wild}], options: {swarmgate.io/min-version: "1.3"}}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: a}
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.example.com]
  rules: [{backendRefs: [{name: svc-a, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: 0-any} # before "a" by name: the more specific hostname wins all the same
spec:
  parentRefs: [{name: gw}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: svc-any, port: 80}]}]
`, httpPort, httpsPort)))
	stubs := stubBackends(t, "svc-a", "svc-any")
	conf, err := Render(gw, routes, Options{Backend: func(service string, _ int32) (string, int32) { return "127.0.0.1", stubs[service] }})
	if err != nil {
		t.Fatal(err)
	}
	startNginx(t, conf, httpPort, httpsPort)

	for _, tc := range []struct {
		sni, host   string
		cert, svc   string
		tls13, h2   bool
		refused     bool
		description string
	}{
		{sni: "a.example.com", host: "a.example.com", cert: "exact-0", svc: "svc-a", tls13: true, h2: true, description: "the exact listener's certificate and route"},
		{sni: "b.example.com", host: "b.example.com", cert: "wild-0", svc: "svc-any", tls13: true, h2: true, description: "the wildcard listener's"},
		{sni: "c.d.example.com", host: "c.d.example.com", cert: "wild-0", svc: "svc-any", tls13: true, h2: true, description: "a wildcard covers several labels"},
		{sni: "other.test", host: "other.test", refused: true, description: "no listener has the name: refused in the handshake"},
		{sni: "", host: "a.example.com", refused: true, description: "no server name: refused"},
	} {
		t.Run(tc.description, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d/", httpsPort), nil)
			req.Host = tc.host
			resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
			if tc.refused {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("handshake accepted, status %d", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e echo
			_ = json.NewDecoder(resp.Body).Decode(&e)
			state := resp.TLS
			if got := state.PeerCertificates[0].Subject.CommonName; got != tc.cert {
				t.Errorf("certificate %s, want %s", got, tc.cert)
			}
			if e.Service != tc.svc || resp.StatusCode != 200 {
				t.Errorf("answered by %q with %d, want %s", e.Service, resp.StatusCode, tc.svc)
			}
			if tc.h2 && resp.ProtoMajor != 2 {
				t.Errorf("protocol %s, want HTTP/2", resp.Proto)
			}
			if tc.tls13 && state.Version != tls.VersionTLS13 {
				t.Errorf("TLS version %x, want 1.3", state.Version)
			}
			if got := e.Headers.Get("X-Forwarded-Proto"); got != "https" {
				t.Errorf("X-Forwarded-Proto %q, want https", got)
			}
		})
	}

	// The port's minimum is 1.3: TLS 1.2 is refused whatever the name.
	for _, sni := range []string{"a.example.com", "b.example.com"} {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), &tls.Config{ServerName: sni, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
		if err == nil {
			conn.Close()
			t.Errorf("TLS 1.2 to %s accepted under a minimum of 1.3", sni)
		}
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/x/y?z=1", httpPort), nil)
	req.Host = "a.example.com"
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := fmt.Sprintf("https://a.example.com:%d/x/y?z=1", httpsPort); resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		t.Errorf("HTTP: %d to %q, want 301 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", httpPort, contract.HealthPath))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("health check on the redirecting listener: %d %q", resp.StatusCode, body)
	}
}
