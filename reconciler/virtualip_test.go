package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/planner"
)

// TestVirtualIPPasswordRotation: a VirtualIP with a password plans nothing once applied, however
// often, and a new password replaces its config secrets, and so its keepalived tasks, once.
func TestVirtualIPPasswordRotation(t *testing.T) {
	manifests := func(password string) []v1alpha1.Object {
		objs, err := loadBytes(t, "vip.yaml", []byte(`apiVersion: swarmgate.io/v1alpha1
kind: VirtualIP
metadata: {name: public}
spec:
  address: 10.99.0.100/24
  virtualRouterID: 51
  nodes: [{hostname: node1, priority: 150}, {hostname: node2, priority: 120}]
  auth: {password: `+password+`}
  image: swarmgate/keepalived:test
`))
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	node := func(host, addr string) swarm.Node {
		return swarm.Node{ID: host, Description: swarm.NodeDescription{Hostname: host}, Status: swarm.NodeStatus{Addr: addr}}
	}
	ctx := context.Background()
	engine := &memoryEngine{nodes: []swarm.Node{node("node1", "10.99.0.1"), node("node2", "10.99.0.2")}}
	r := &Reconciler{Engine: engine, Instance: "test"}
	plan := func(password string) []string {
		t.Helper()
		p, err := r.Plan(ctx, Input{Objects: manifests(password), All: true}, planner.Options{Prune: true, KeepAgentConfigs: true}, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := engine.converge(p.Plan); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range p.Plan.Actions {
			got = append(got, string(a.Op)+" "+string(a.Kind)+"/"+a.Name)
		}
		return got
	}
	if got := plan("s3cret"); len(got) == 0 {
		t.Fatal("the first pass writes nothing")
	}
	for range 2 {
		if got := plan("s3cret"); len(got) != 0 {
			t.Fatalf("a pass with nothing changed writes:\n%s", strings.Join(got, "\n"))
		}
	}
	got := strings.Join(plan("n3w"), "\n")
	for _, want := range []string{"update service/public-vrrp-node1", "update service/public-vrrp-node2", "create secret/public-vrrp-node1-", "delete secret/public-vrrp-node1-"} {
		if !strings.Contains(got, want) {
			t.Errorf("a new password: no %q in\n%s", want, got)
		}
	}
	if got := plan("n3w"); len(got) != 0 {
		t.Errorf("a pass after the new password writes:\n%s", strings.Join(got, "\n"))
	}
}
