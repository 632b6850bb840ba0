package nginx

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// TestServeBackendTLS reaches backends over TLS through the real nginx, as BackendTLSPolicies
// say: an HTTPS backend verified against its CA and hostname answers; the same backend under a
// policy naming another hostname, or trusting another CA, is refused (503); a gRPC backend is
// reached by grpcs.
func TestServeBackendTLS(t *testing.T) {
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "tls %s", r.TLS.ServerName)
	}))
	t.Cleanup(backend.Close)
	backendPort := int32(backend.Listener.Addr().(*net.TCPAddr).Port)

	pair := selfSigned(t, "grpc.backend.test")
	cert, err := tls.X509KeyPair(pair, pair)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcServer := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			if err := stream.RecvMsg(new(healthpb.HealthCheckRequest)); err != nil {
				return err
			}
			return stream.SendMsg(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING})
		}))
	go func() { _ = grpcServer.Serve(l) }()
	t.Cleanup(grpcServer.Stop)
	grpcPort := int32(l.Addr().(*net.TCPAddr).Port)

	// The GRPCRoute has a port of its own: Debian's nginx takes only HTTP/2 on an h2c port.
	port, h2c := freePort(t), freePort(t)
	input := []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: %d}, {name: h2c, port: %d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: web}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [web.test]
  rules:
    - matches: [{path: {value: /verified}}]
      backendRefs: [{name: verified, port: 443}]
    - matches: [{path: {value: /wrong-name}}]
      backendRefs: [{name: wrong-name, port: 443}]
    - matches: [{path: {value: /wrong-ca}}]
      backendRefs: [{name: wrong-ca, port: 443}]
---
# A host that forwards everything to one backend: over TLS, it keeps a server of its own.
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: whole}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [whole.test]
  rules: [{backendRefs: [{name: verified, port: 443}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: GRPCRoute
metadata: {name: rpc}
spec:
  parentRefs: [{name: gw, sectionName: h2c}]
  hostnames: [rpc.test]
  rules:
    - backendRefs: [{name: rpc, port: 443}]
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTLSPolicy
metadata: {name: verified}
spec:
  targetRefs: [{kind: Service, name: verified}]
  validation: {caCertificateRefs: [{name: backend-ca}], hostname: example.com}
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTLSPolicy
metadata: {name: wrong-name}
spec:
  targetRefs: [{kind: Service, name: wrong-name}]
  validation: {caCertificateRefs: [{name: backend-ca}], hostname: backend.other.test}
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTLSPolicy
metadata: {name: wrong-ca}
spec:
  targetRefs: [{kind: Service, name: wrong-ca}]
  validation: {caCertificateRefs: [{name: other-ca}], hostname: example.com}
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTLSPolicy
metadata: {name: rpc}
spec:
  targetRefs: [{kind: Service, name: rpc}]
  validation: {caCertificateRefs: [{name: grpc-ca}], hostname: grpc.backend.test}
`, port, h2c))
	gw, routes := loadInput(t, "backendtls.yaml", input)
	objs, _ := manifest.Decode("backendtls.yaml", input)
	for _, o := range objs {
		o.Default()
	}
	opts := Options{Policies: PoliciesOf(objs), GRPCRoutes: grpcRoutesIn(input),
		Backend: func(service string, _ int32) (string, int32) {
			if service == "rpc" {
				return "127.0.0.1", grpcPort
			}
			return "127.0.0.1", backendPort
		}}
	if got := len(BackendCAs(gw, routes, opts.Policies)); got != 4 {
		t.Fatalf("BackendCAs: %d policies, want 4", got)
	}
	conf, err := Render(gw, routes, opts)
	if err != nil {
		t.Fatal(err)
	}

	// The CA secrets, where the test's nginx reads them.
	dir := t.TempDir()
	cas := map[string][]byte{
		"verified":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: backend.Certificate().Raw}),
		"wrong-name": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: backend.Certificate().Raw}),
		"wrong-ca":   pair[:bytes.Index(pair, []byte("-----BEGIN EC PRIVATE KEY"))],
		"rpc":        pair[:bytes.Index(pair, []byte("-----BEGIN EC PRIVATE KEY"))],
	}
	for name, pemData := range cas {
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), pemData, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf = bytes.ReplaceAll(conf, []byte(contract.BackendCADir), []byte(dir))
	nginxTest(t, conf)
	startNginx(t, conf, port, h2c)

	for path, want := range map[string]int{"/verified": 200, "/wrong-name": 503, "/wrong-ca": 503} {
		if got := statusOf(t, port, "web.test", "GET", path); got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}
	if got := statusOf(t, port, "whole.test", "GET", "/"); got != 200 {
		t.Errorf("GET whole.test/: %d, want 200", got)
	}
	if code, _ := grpcCall(t, fmt.Sprintf("127.0.0.1:%d", h2c), "rpc.test", "/any.Svc/Call", insecure.NewCredentials()); code != codes.OK {
		t.Errorf("gRPC call to a TLS backend: %v, want OK", code)
	}
}
