package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// TestAgentsOverTLS: the operator serves its endpoints over HTTPS with a certificate of the
// test's CA, which the gateway's agents trust from a swarm secret (spec.agent.caSecret): the
// agents take configs over TLS (a route added is served, no task replaced), the endpoints answer
// nothing in clear, and `get --server` reaches them trusting the CA through SSL_CERT_FILE.
func TestAgentsOverTLS(t *testing.T) {
	const instance, port, opPort = "e2e-agenttls", 18197, 19199
	removeSecretsAtEnd(t, "e2e-agent-ca") // after the instance: its gateway mounts it
	cleanup(t, instance)
	ctx := context.Background()
	plainURL, tokenFile := agentSetup(t, opPort)
	u, err := url.Parse(plainURL)
	if err != nil {
		t.Fatal(err)
	}
	operatorURL := "https://" + u.Host
	ca, certDir := newTestCA(t), t.TempDir()
	certFile, keyFile := ca.issue(t, certDir, "operator", time.Now().Add(time.Hour), "127.0.0.1", u.Hostname())
	caFile := filepath.Join(certDir, "ca.pem")
	chain, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := chain[strings.LastIndex(string(chain), "-----BEGIN CERTIFICATE"):]
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	removeLeftover(docker.SecretRemove, "e2e-agent-ca")
	if _, err := docker.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "e2e-agent-ca"}, Data: caPEM}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	route := func(n int) string {
		return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: tls-r%[1]d}
spec:
  parentRefs: [{name: tls-gw}]
  hostnames: [r%[1]d.agenttls.test]
  rules: [{backendRefs: [{name: tls-echo, port: 8888}]}]
`, n)
	}
	write("gateway.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: tls-gw}
spec:
  image: swarmgate/gateway:test
  network: {name: e2e_agenttls}
  agent: {operatorURL: %q, tokenSecret: e2e-agent-token, caSecret: e2e-agent-ca}
  listeners: [{name: http, port: %d, publishMode: Host}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: tls-echo}
spec:
  parentRefs: [{name: tls-gw}]
  hostnames: [echo.agenttls.test]
  rules: [{backendRefs: [{name: tls-echo}]}]
  services: [{name: tls-echo, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: tls-echo}]}]
`, operatorURL, port))
	op := startOperatorOn(t, "unix://"+proxy.Socket, opPort, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--agent-token-file", tokenFile, "--listen", fmt.Sprintf("0.0.0.0:%d", opPort), "--tls-cert-file", certFile, "--tls-key-file", keyFile)
	t.Cleanup(func() {
		op.stop(t)
		runCommand(t, command("delete", "-f", dir, "--instance", instance))
	})
	eventually(t, 90*time.Second, func() error {
		if code, _, err := get(port, "echo.agenttls.test", "/"); err != nil || code != 200 {
			return fmt.Errorf("echo.agenttls.test: %d %v", code, err)
		}
		return nil
	})
	tasks := runningTasks(t, "tls-gw")

	// A route added reaches the gateway through its agents, over TLS: no task replaced.
	write("r1.yaml", route(1))
	eventually(t, 30*time.Second, func() error {
		if code, _, err := get(port, "r1.agenttls.test", "/"); err != nil || code != 200 {
			return fmt.Errorf("r1.agenttls.test: %d %v", code, err)
		}
		return nil
	})
	if now := runningTasks(t, "tls-gw"); !slices.Equal(now, tasks) {
		t.Errorf("the gateway's tasks were replaced: %v, were %v", now, tasks)
	}

	// Nothing in clear: a plain HTTP request gets no answer from the endpoints.
	if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", opPort)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("the operator answers /readyz in clear")
		}
	}
	// The CLI trusts the CA the usual way (SSL_CERT_FILE), and sees every task on the current config.
	get := command("get", "--server", fmt.Sprintf("https://127.0.0.1:%d", opPort))
	get.Env = append(get.Env, "SSL_CERT_FILE="+caFile)
	if r := runCommand(t, get); r.code != 0 || !strings.Contains(r.stdout, "tls-gw") || !strings.Contains(r.stdout, "current") {
		t.Errorf("get --server over HTTPS: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
