package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// TestMissingBackendWithAgents: through a gateway with agents, a backend service that does not
// exist answers 500 (the Gateway API's), and once someone creates it, the operator (which sees the
// swarm's events) hands the agents a config that routes to it, with no task replaced.
func TestMissingBackendWithAgents(t *testing.T) {
	const instance, port, opPort = "e2e-missing", 18179, 19190
	cleanup(t, instance)
	ctx := context.Background()
	operatorURL, tokenFile := agentSetup(t, opPort)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "missing.yaml"), []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: missing-gw}
spec:
  image: swarmgate/gateway:test
  network: {name: e2e_missing}
  agent: {operatorURL: %q, tokenSecret: e2e-agent-token}
  listeners: [{name: http, port: %d, publishMode: Host}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: missing}
spec:
  parentRefs: [{name: missing-gw}]
  hostnames: [missing.test]
  rules:
    - matches: [{path: {value: /later}}]
      backendRefs: [{name: e2e-later, port: 8888}]
    - backendRefs: [{name: missing-own}]
  services: [{name: missing-own, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: missing-own}]}]
`, operatorURL, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	op := startOperatorOn(t, "unix://"+proxy.Socket, opPort, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--agent-token-file", tokenFile, "--listen", fmt.Sprintf("0.0.0.0:%d", opPort))
	t.Cleanup(func() {
		op.stop(t)
		runCommand(t, command("delete", "-f", dir, "--instance", instance))
	})
	eventually(t, 90*time.Second, func() error {
		if code, _, err := get(port, "missing.test", "/"); err != nil || code != 200 {
			return fmt.Errorf("the route's own service: %d %v", code, err)
		}
		if code, _, err := get(port, "missing.test", "/later"); err != nil || code != 500 {
			return fmt.Errorf("the missing service: %d %v, want 500", code, err)
		}
		return nil
	})
	tasks := func() []string {
		list, err := docker.TaskList(ctx, swarm.TaskListOptions{Filters: filtersFor("missing-gw")})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, task := range list {
			ids = append(ids, task.ID)
		}
		return ids
	}
	before := tasks()

	one := uint64(1)
	removeLeftover(docker.ServiceRemove, "e2e-later")
	svc, err := docker.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "e2e-later"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "swarmgate/echo:test", Env: []string{"SERVICE=e2e-later"}},
			Networks: []swarm.NetworkAttachmentConfig{{Target: "e2e_missing"}}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = docker.ServiceRemove(ctx, svc.ID) })
	created := time.Now()
	eventually(t, 60*time.Second, func() error {
		code, e, err := get(port, "missing.test", "/later")
		if err != nil || code != 200 || e.Service != "e2e-later" {
			return fmt.Errorf("the created service: %d %+v %v", code, e, err)
		}
		return nil
	})
	t.Logf("figure: service created to served through the agents: %s", time.Since(created).Round(time.Millisecond))
	if after := tasks(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the gateway's tasks changed: %v -> %v", before, after)
	}
}
