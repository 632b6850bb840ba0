package desired

import (
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// TestBuildPolicies checks what a gateway's service gets from policies: the htpasswd secret of a
// basic authentication on one of its Routes, mounted where its config reads it, and rate limits
// divided among its tasks (replicas, or the nodes of its zone in global mode).
func TestBuildPolicies(t *testing.T) {
	const routeAndPolicies = `
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: login, namespace: ops}
spec:
  targetRefs: [{kind: Route, name: app}]
  basicAuth: {secret: app-users}
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: limit}
spec:
  targetRefs: [{kind: Gateway, name: gw}]
  rateLimit: {requests: 600, unit: Minute}
`
	tests := []struct {
		name, gateway, rate string
	}{
		{"three replicas", `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  replicas: 3
  listeners: [{name: http, port: 80}]`, "rate=200r/m"},
		{"global on a zone of two nodes", `apiVersion: swarmgate.io/v1alpha1
kind: Zone
metadata: {name: edge}
spec: {nodes: [n1, n2]}
---
apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  mode: Global
  zone: edge
  listeners: [{name: http, port: 80}]`, "rate=300r/m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := build(t, tt.gateway+routeAndPolicies)
			var conf string
			for _, sec := range s.Secrets {
				if strings.HasPrefix(sec.Name, "gw-conf-") {
					conf = string(sec.Data)
				}
			}
			if !strings.Contains(conf, tt.rate) {
				t.Errorf("config lacks %s", tt.rate)
			}
			for _, svc := range s.Services {
				if svc.Name != "gw" {
					continue
				}
				found := false
				for _, ref := range svc.Spec.TaskTemplate.ContainerSpec.Secrets {
					if ref.SecretName == "app-users" {
						found = ref.File.Name == contract.UserFileDir+"/ops_login.htpasswd" && ref.File.Mode == 0o444
					}
				}
				if !found {
					t.Errorf("app-users is not mounted at %s/ops_login.htpasswd", contract.UserFileDir)
				}
			}
		})
	}
}

// TestBuildGRPCAndBackendTLS checks what a gateway gets for a GRPCRoute whose backend a
// BackendTLSPolicy covers: a config that passes the calls by grpcs, verifying against the
// policy's CA secret, which is mounted where the config reads it; and the backend, owned by the
// GRPCRoute, joins the gateway's network.
func TestBuildGRPCAndBackendTLS(t *testing.T) {
	s := build(t, `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: h2c, port: 50051}]
---
apiVersion: swarmgate.io/v1alpha1
kind: GRPCRoute
metadata: {name: rpc}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: greeter, port: 50051}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTLSPolicy
metadata: {name: greeter, namespace: ops}
spec:
  targetRefs: [{kind: Service, name: greeter}]
  validation: {caCertificateRefs: [{name: internal-ca}], hostname: greeter.internal}
`)
	var conf string
	for _, sec := range s.Secrets {
		if strings.HasPrefix(sec.Name, "gw-conf-") {
			conf = string(sec.Data)
		}
	}
	caFile := contract.BackendCADir + "/ops_greeter.pem"
	for _, want := range []string{"listen 50051 http2", "grpc_pass grpcs://", `grpc_ssl_trusted_certificate "` + caFile + `"`} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %s", want)
		}
	}
	mounted := false
	for _, svc := range s.Services {
		for _, ref := range svc.Spec.TaskTemplate.ContainerSpec.Secrets {
			mounted = mounted || svc.Name == "gw" && ref.SecretName == "internal-ca" && ref.File.Name == caFile
		}
	}
	if !mounted {
		t.Errorf("internal-ca is not mounted at %s", caFile)
	}
	if len(s.ExternalBackends) != 1 || s.ExternalBackends[0].Owner != "GRPCRoute/rpc" || s.ExternalBackends[0].Service != "greeter" {
		t.Errorf("external backends %+v, want greeter of GRPCRoute/rpc", s.ExternalBackends)
	}
}
