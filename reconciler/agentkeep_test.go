package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/planner"
)

// TestCLIPlansWhatTheOperatorKept: the operator leaves a gateway with agents on the bootstrap it
// mounts (a route change writes only the store). The CLI's plan of the manifests as the operator
// applied them is then empty, whole or in part; one that changes the gateway's config rotates
// the config secret and replaces the tasks, as the CLI cannot reach the agents.
func TestCLIPlansWhatTheOperatorKept(t *testing.T) {
	manifests := func(host string) []v1alpha1.Object {
		objs, err := loadBytes(t, "agents.yaml", []byte(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  agent: {operatorURL: "http://operator:9090", tokenSecret: agent-token}
  listeners: [{name: http, port: 8080}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  hostnames: [`+host+`]
  rules: [{backendRefs: [{name: app, port: 80}]}]
`))
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	ctx := context.Background()
	engine := &memoryEngine{secrets: []swarm.Secret{{ID: "user-token", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "agent-token"}}}}}
	r := &Reconciler{Engine: engine, Instance: "test"}
	for _, host := range []string{"a.example", "b.example"} {
		p, err := r.Plan(ctx, Input{Objects: manifests(host), All: true}, planner.Options{Prune: true, KeepAgentConfigs: true}, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := engine.converge(p.Plan); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name, host string
		all        bool
		rotates    bool
	}{
		{name: "as applied", host: "b.example"},
		{name: "as applied, the whole set (--prune)", host: "b.example", all: true},
		{name: "a route changed", host: "c.example", rotates: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Plan(ctx, Input{Objects: manifests(tc.host), All: tc.all}, planner.Options{Prune: tc.all}, false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range p.Plan.Actions {
				got = append(got, string(a.Op)+" "+string(a.Kind)+"/"+a.Name)
			}
			rotated := strings.Contains(strings.Join(got, "\n"), "create secret/gw-conf-") && strings.Contains(strings.Join(got, "\n"), "update service/gw")
			switch {
			case tc.rotates && !rotated:
				t.Errorf("the config secret is not rotated:\n%s", strings.Join(got, "\n"))
			case !tc.rotates && len(got) > 0:
				t.Errorf("the manifests as the operator applied them plan writes:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}
