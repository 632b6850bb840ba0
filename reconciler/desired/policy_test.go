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
