package e2e

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestGRPCRouteBackendTLS calls gRPC methods through a gateway with agents on the swarm, over h2c:
// a GRPCRoute sends them by service to a gRPC echo, and to another one over TLS that a
// BackendTLSPolicy verifies against a CA from a swarm secret; a rule without backends fails
// UNAVAILABLE and a method no rule takes UNIMPLEMENTED.
func TestGRPCRouteBackendTLS(t *testing.T) {
	const instance, httpPort, h2cPort, operatorPort = "e2e-grpc", 18251, 18252, 19251
	removeSecretsAtEnd(t, "e2e-grpc-cert", "e2e-grpc-ca")
	cleanup(t, instance)
	ctx := context.Background()
	ca := newTestCA(t)
	certFile, keyFile := ca.issue(t, t.TempDir(), "grpc", time.Now().Add(24*time.Hour), "grpc-echo-tls.internal")
	chain, _ := os.ReadFile(certFile)
	key, _ := os.ReadFile(keyFile)
	for name, data := range map[string][]byte{"e2e-grpc-cert": append(chain, key...), "e2e-grpc-ca": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})} {
		removeLeftover(docker.SecretRemove, name)
		if _, err := docker.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: name}, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	operatorURL, tokenFile := agentSetup(t, operatorPort)
	dir := t.TempDir()
	manifests := fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: grpc-gw}
spec:
  image: swarmgate/gateway:test
  # Debian's nginx takes only HTTP/2 on a port serving GRPCRoutes: the health check has its own.
  listeners: [{name: http, port: %d, publishMode: Host}, {name: h2c, port: %d, publishMode: Host}]
  network: {name: e2e_grpc}
  agent: {operatorURL: %q, tokenSecret: %s}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: grpc-echoes}
spec:
  parentRefs: [{name: grpc-gw, sectionName: http}]
  hostnames: [echoes.grpc.test]
  rules: [{backendRefs: [{name: grpc-echo}]}]
  services:
    - name: grpc-echo
      image: swarmgate/echo:test
      port: 9000
      env: [{name: GRPC, value: "1"}, {name: ADDR, value: ":9000"}, {name: SERVICE, value: grpc-echo}]
    - name: grpc-echo-tls
      image: swarmgate/echo:test
      port: 9443
      env: [{name: GRPC, value: "1"}, {name: ADDR, value: ":9443"}, {name: SERVICE, value: grpc-echo-tls}, {name: TLS_CERT, value: /run/secrets/cert.pem}]
      secrets: [{name: e2e-grpc-cert, target: cert.pem}]
---
apiVersion: swarmgate.io/v1alpha1
kind: GRPCRoute
metadata: {name: grpc-calls}
spec:
  parentRefs: [{name: grpc-gw, sectionName: h2c}]
  hostnames: [grpc.test]
  rules:
    - matches: [{method: {service: echo.Plain}}]
      backendRefs: [{name: grpc-echo, port: 9000}]
    - matches: [{method: {type: RegularExpression, service: 'echo\.Sec.*', method: Call}}]
      backendRefs: [{name: grpc-echo-tls, port: 9443}]
    - matches: [{method: {service: echo.Nowhere}}]
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTLSPolicy
metadata: {name: grpc-echo-tls}
spec:
  targetRefs: [{kind: Service, name: grpc-echo-tls}]
  validation: {caCertificateRefs: [{name: e2e-grpc-ca}], hostname: grpc-echo-tls.internal}
`, httpPort, h2cPort, operatorURL, agentTokenSecret)
	if err := os.WriteFile(filepath.Join(dir, "grpc.yaml"), []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	op := startOperatorOn(t, "unix://"+proxy.Socket, operatorPort, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--agent-token-file", tokenFile, "--listen", fmt.Sprintf("0.0.0.0:%d", operatorPort))
	t.Cleanup(func() { runCommand(t, command("delete", "-f", dir, "--instance", instance)) })

	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", h2cPort), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("grpc.test"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	call := func(method string) (codes.Code, string) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var header metadata.MD
		err := conn.Invoke(ctx, method, &healthpb.HealthCheckRequest{}, new(healthpb.HealthCheckResponse), grpc.Header(&header))
		service := ""
		if v := header.Get("echo-service"); len(v) > 0 {
			service = v[0]
		}
		return status.Code(err), service
	}
	served := func(method, want string) func() error {
		return func() error {
			if code, service := call(method); code != codes.OK || service != want {
				return fmt.Errorf("%s: %v from %q, want OK from %s", method, code, service, want)
			}
			return nil
		}
	}
	eventually(t, 90*time.Second, served("/echo.Plain/Call", "grpc-echo"))
	eventually(t, 30*time.Second, served("/echo.Secure/Call", "grpc-echo-tls"))
	for method, want := range map[string]codes.Code{"/echo.Nowhere/Call": codes.Unavailable, "/echo.Secure/Other": codes.Unimplemented} {
		if code, _ := call(method); code != want {
			t.Errorf("%s: %v, want %v", method, code, want)
		}
	}
	// The new kinds are listed with the others, as the operator sees them.
	out := mustSucceed(t, "get", "--server", "http://"+op.listen).stdout
	for _, want := range []string{"GRPCRoute", "grpc-calls", "BackendTLSPolicy", "grpc-echo-tls"} {
		if !strings.Contains(out, want) {
			t.Errorf("get lacks %s:\n%s", want, out)
		}
	}
}
