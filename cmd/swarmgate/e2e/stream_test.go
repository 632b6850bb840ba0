package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// TestStreamRoutes serves a TCPRoute and two TLSRoutes through a gateway with agents: HTTP spoken
// over the TCP listener reaches its backend, and TLS on the passthrough listener reaches, by the
// server name, the backend that terminates it (its own certificate), while a name no route
// takes is refused. An HTTPS listener shares the passthrough port: its requests reach their
// backend with the client's address, not the stream server's socket, in X-Forwarded-For.
func TestStreamRoutes(t *testing.T) {
	const instance, tcpPort, tlsPort, opPort = "e2e-stream", 18301, 18302, 19197
	removeSecretsAtEnd(t, "e2e-l4-www")
	cleanup(t, instance)
	ctx := context.Background()
	ca := newTestCA(t)
	certFile, keyFile := ca.issue(t, t.TempDir(), "www", time.Now().Add(24*time.Hour), "www.l4.test")
	chain, _ := os.ReadFile(certFile)
	key, _ := os.ReadFile(keyFile)
	removeLeftover(docker.SecretRemove, "e2e-l4-www")
	if _, err := docker.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "e2e-l4-www"}, Data: append(chain, key...)}); err != nil {
		t.Fatal(err)
	}
	operatorURL, tokenFile := agentSetup(t, opPort)
	dir := t.TempDir()
	manifests := fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: l4-gw}
spec:
  image: swarmgate/gateway:test
  listeners:
    - {name: tcp, port: %[1]d, protocol: TCP, publishMode: Host}
    - {name: tls, port: %[2]d, protocol: TLS, publishMode: Host, tls: {mode: Passthrough}}
    - {name: www, port: %[2]d, protocol: HTTPS, publishMode: Host, hostname: www.l4.test, tls: {certificateRefs: [{name: e2e-l4-www}]}}
  network: {name: e2e_l4}
  agent: {operatorURL: %[3]q, tokenSecret: %[4]s}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: l4-www}
spec:
  parentRefs: [{name: l4-gw, sectionName: www}]
  rules: [{backendRefs: [{name: l4-tcp, port: 8888}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: TCPRoute
metadata: {name: l4-tcp}
spec:
  parentRefs: [{name: l4-gw}]
  rules: [{backendRefs: [{name: l4-tcp, port: 8888}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: TLSRoute
metadata: {name: l4-a}
spec:
  parentRefs: [{name: l4-gw}]
  hostnames: [a.l4.test]
  rules: [{backendRefs: [{name: l4-a, port: 8888}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: TLSRoute
metadata: {name: l4-b}
spec:
  parentRefs: [{name: l4-gw, sectionName: tls}]
  hostnames: ["*.b.l4.test"]
  rules: [{backendRefs: [{name: l4-b, port: 8888}]}]
`, tcpPort, tlsPort, operatorURL, agentTokenSecret)
	if err := os.WriteFile(filepath.Join(dir, "l4.yaml"), []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	op := startOperatorOn(t, "unix://"+proxy.Socket, opPort, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--agent-token-file", tokenFile, "--listen", "0.0.0.0:"+fmt.Sprint(opPort))
	t.Cleanup(func() { runCommand(t, command("delete", "-f", dir, "--instance", instance)) })

	// The backends are existing services on the gateway's network, which the operator creates.
	eventually(t, 60*time.Second, func() error {
		_, err := docker.NetworkInspect(ctx, "e2e_l4", networkInspectOptions())
		return err
	})
	one := uint64(1)
	for name, tlsName := range map[string]string{"l4-tcp": "", "l4-a": "a.l4.test", "l4-b": "x.b.l4.test"} {
		env := []string{"SERVICE=" + name}
		if tlsName != "" {
			env = append(env, "TLS_NAME="+tlsName)
		}
		removeLeftover(docker.ServiceRemove, name)
		svc, err := docker.ServiceCreate(ctx, swarm.ServiceSpec{
			Annotations: swarm.Annotations{Name: name},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "swarmgate/echo:test", Env: env},
				Networks: []swarm.NetworkAttachmentConfig{{Target: "e2e_l4"}}},
			Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
			EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR}, // as the other tests' backends
		}, swarm.ServiceCreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = docker.ServiceRemove(ctx, svc.ID) })
	}

	t.Run("tcp", func(t *testing.T) {
		eventually(t, 60*time.Second, func() error {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort), 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			return answeredBy(c, "tcp.l4.test", "l4-tcp")
		})
	})
	for _, tc := range []struct{ serverName, service string }{{"a.l4.test", "l4-a"}, {"x.b.l4.test", "l4-b"}} {
		t.Run("tls/"+tc.serverName, func(t *testing.T) {
			eventually(t, 60*time.Second, func() error {
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", tlsPort),
					&tls.Config{ServerName: tc.serverName, InsecureSkipVerify: true})
				if err != nil {
					return err
				}
				defer c.Close()
				// The backend's own certificate: the gateway passed TLS through.
				if cn := c.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != tc.serverName {
					return fmt.Errorf("certificate of %q, not the backend's", cn)
				}
				return answeredBy(c, tc.serverName, tc.service)
			})
		})
	}
	t.Run("https on the shared port keeps the client's address", func(t *testing.T) {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.pool, ServerName: "www.l4.test"}}}
		eventually(t, 60*time.Second, func() error {
			req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d/", tlsPort), nil)
			req.Host = "www.l4.test"
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var e struct {
				Service string      `json:"service"`
				Headers http.Header `json:"headers"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				return err
			}
			// The client's address as the gateway's task sees it (a host-mode port: loopback or
			// the docker bridge's), never the stream server's socket ("unix:").
			if forwarded := e.Headers.Get("X-Forwarded-For"); e.Service != "l4-tcp" || net.ParseIP(forwarded) == nil {
				return fmt.Errorf("answered by %q with X-Forwarded-For %q", e.Service, forwarded)
			}
			return nil
		})
	})
	t.Run("a server name no route takes is refused", func(t *testing.T) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", tlsPort),
			&tls.Config{ServerName: "other.l4.test", InsecureSkipVerify: true})
		if err == nil {
			c.Close()
			t.Errorf("a TLS connection for other.l4.test was accepted")
		}
	})
	if t.Failed() {
		out, _ := exec.Command("/usr/bin/docker", "service", "logs", "--tail", "30", "l4-gw").CombinedOutput()
		t.Logf("gateway log:\n%s\noperator log:\n%s", out, op.log.String())
	}
}

// answeredBy sends an HTTP request for host over c and checks that the echo backend service
// answered it.
func answeredBy(c net.Conn, host, service string) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echo
	if err := json.Unmarshal(body, &e); err != nil {
		return fmt.Errorf("answer %q: %w", body, err)
	}
	if e.Service != service {
		return fmt.Errorf("answered by %q, want %q", e.Service, service)
	}
	return nil
}
