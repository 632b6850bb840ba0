package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// issue returns a certificate for shop.test with serial, for key, signed by itself: the agent
// checks that a chain matches its key, not who signed it.
func issue(t *testing.T, key *ecdsa.PrivateKey, serial int64) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), DNSNames: []string{"shop.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// servedSerial is the serial of the certificate the server on port presents for shop.test, or -1.
func servedSerial(port int) int64 {
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: "shop.test", InsecureSkipVerify: true})
	if err != nil {
		return -1
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestAgentTakesRenewedChains: a task starts on the operator's newest chain rather than the one
// mounted, takes a renewed chain for its key with a reload (the same nginx master, no failed
// handshake), and keeps its chain when handed one for a key it does not have (swarm is replacing
// it with a task that mounts that key).
func TestAgentTakesRenewedChains(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	key := newECKey(t)
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for sub, files := range map[string]map[string]string{
		"keys":   {"shop.key": string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))},
		"chains": {"shop.crt": issue(t, key, 1)}, // the mounted chain: an old one
	} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, sub, name), []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	conf := fmt.Sprintf("server {\n    listen 127.0.0.1:%d ssl;\n    ssl_certificate tls/shop.crt;\n    ssl_certificate_key %s;\n    return 200 ok;\n}\n",
		port, filepath.Join(dir, "keys", "shop.key"))
	o := newOperator(t)
	o.publishBundle(contract.Bundle{Config: conf, Chains: map[string]string{"shop.crt": issue(t, key, 2)}})
	startAgentIn(t, dir, o, []byte(conf))
	waitFor(t, "the gateway answers TLS", func() bool { return servedSerial(port) != -1 })
	if got := servedSerial(port); got != 2 {
		t.Fatalf("the starting task presents certificate %d, want the operator's newest (2), not the mounted one (1)", got)
	}
	master, _ := os.ReadFile(filepath.Join(dir, "run", "nginx.pid"))

	var handshakes, failed atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			handshakes.Add(1)
			if servedSerial(port) == -1 {
				failed.Add(1)
			}
		}
	}()
	renewed := contract.Bundle{Config: conf, Chains: map[string]string{"shop.crt": issue(t, key, 3)}}
	o.publishBundle(renewed)
	waitFor(t, "the renewed chain serves", func() bool { return servedSerial(port) == 3 })

	otherKey := contract.Bundle{Config: conf, Chains: map[string]string{"shop.crt": issue(t, newECKey(t), 4)}}
	o.publishBundle(otherKey)
	waitFor(t, "the agent takes the bundle", func() bool { s, _, _ := o.state(); return s == contract.Hash(otherKey.Encode()) })
	close(done)
	// A worker of an earlier generation may still take a connection for a moment after a reload
	// (nginx retires them gracefully, later on a loaded machine): what matters is that the chain
	// of the other key (4) is never presented, and that the task's own key's chain (3) serves.
	for range 20 {
		if got := servedSerial(port); got == 4 {
			t.Fatalf("after a chain for another key the task presents it")
		}
	}
	waitFor(t, "its own key's chain serves", func() bool { return servedSerial(port) == 3 })
	if _, rejected, _ := o.state(); rejected != "" {
		t.Errorf("the agent reports a rejection: %s", rejected)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "run", "nginx.pid")); string(now) != string(master) {
		t.Errorf("nginx's master changed: %q, was %q", now, master)
	}
	if n, f := handshakes.Load(), failed.Load(); f > 0 || n < 10 {
		t.Errorf("%d of %d handshakes failed during the renewal", f, n)
	}
}
