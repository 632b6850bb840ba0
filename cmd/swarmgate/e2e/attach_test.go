package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// TestAttachForeignService: an existing service on no network of the gateway is only reported;
// with backendRefs[].attach the gateway's network is added to it (its one foreign write), the
// rest of its spec as its owner left it, and it is served; a second apply writes nothing; deleting
// the gateway leaves the network to the service, which keeps using it.
func TestAttachForeignService(t *testing.T) {
	const instance, port = "e2e-attach", 18178
	cleanup(t, instance)
	ctx := context.Background()
	one := uint64(1)
	removeLeftover(docker.ServiceRemove, "e2e-attach-legacy")
	svc, err := docker.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "e2e-attach-legacy", Labels: map[string]string{"owner": "someone-else"}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "swarmgate/echo:test", Env: []string{"SERVICE=e2e-attach-legacy"}}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = docker.ServiceRemove(ctx, svc.ID) })
	manifest := func(attach bool) string {
		return writeManifests(t, fmt.Sprintf("attach-%v.yaml", attach), fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: attach-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_attach}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: attach}
spec:
  parentRefs: [{name: attach-gw}]
  hostnames: [attach.test]
  rules: [{backendRefs: [{name: e2e-attach-legacy, port: 8888, attach: %v}]}]
`, port, attach))
	}
	r := mustSucceed(t, "apply", "-f", manifest(false), "--instance", instance)
	if !strings.Contains(r.stderr, "backend service e2e-attach-legacy is not on network e2e_attach of its gateway") {
		t.Errorf("without attach, the unreachable backend is not reported:\n%s", r.stderr)
	}
	// A Route alone is refused offline (its Gateway is not in the file) and valid with the applied objects.
	routeOnly := writeManifests(t, "attach-route.yaml", `apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: attach-more}
spec:
  parentRefs: [{name: attach-gw}]
  hostnames: [more.attach.test]
  rules: [{backendRefs: [{name: e2e-attach-legacy, port: 8888}]}]
`)
	if v := swarmgate(t, "validate", "-f", routeOnly); v.code != 1 || !strings.Contains(v.stderr, "validate --server-side") {
		t.Errorf("validate offline: exit %d\n%s", v.code, v.stderr)
	}
	if v := swarmgate(t, "validate", "-f", routeOnly, "--server-side", "--instance", instance); v.code != 0 || !strings.Contains(v.stdout, "valid with the objects applied to instance "+instance) {
		t.Errorf("validate --server-side: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	before, _, err := docker.ServiceInspectWithRaw(ctx, svc.ID, swarm.ServiceInspectOptions{})
	if err != nil || len(before.Spec.TaskTemplate.Networks) != 0 {
		t.Fatalf("without attach the service was changed: %+v %v", before.Spec.TaskTemplate.Networks, err)
	}

	attached := manifest(true)
	r = mustSucceed(t, "apply", "-f", attached, "--instance", instance, "--wait", "--timeout", "90s")
	if !strings.Contains(r.stdout, "service/e2e-attach-legacy attached to network e2e_attach") {
		t.Errorf("apply with attach:\n%s", r.stdout)
	}
	// --wait means serving: it followed the attached service's tasks onto the network.
	if code, e, err := get(port, "attach.test", "/"); err != nil || code != 200 || e.Service != "e2e-attach-legacy" {
		t.Errorf("right after apply --wait: %d %+v %v", code, e, err)
	}
	after, _, err := docker.ServiceInspectWithRaw(ctx, svc.ID, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Spec.TaskTemplate.Networks) != 1 || after.Spec.Labels["owner"] != "someone-else" ||
		after.Spec.TaskTemplate.ContainerSpec.Env[0] != "SERVICE=e2e-attach-legacy" || after.Spec.Labels["swarmgate.io/managed-by"] != "" {
		t.Errorf("the attached service's spec: %+v", after.Spec)
	}
	eventually(t, 60*time.Second, func() error {
		code, e, err := get(port, "attach.test", "/")
		if err == nil && (code != 200 || e.Service != "e2e-attach-legacy") {
			return fmt.Errorf("%d %+v", code, e)
		}
		return err
	})
	count := proxy.Reset()
	mustSucceed(t, "apply", "-f", attached, "--instance", instance)
	if _, writes := count(); len(writes) != 0 {
		t.Errorf("a second apply wrote %v", writes)
	}
	// Deleting the gateway leaves its network to the service that still uses it.
	// It says how to finish once the service no longer needs it, and get says so too.
	finish := "docker service update --network-rm e2e_attach e2e-attach-legacy && docker network rm e2e_attach"
	if d := mustSucceed(t, "delete", "-f", attached, "--instance", instance); !strings.Contains(d.stderr, "network e2e_attach is no longer wanted but service e2e-attach-legacy") ||
		!strings.Contains(d.stderr, finish) {
		t.Errorf("delete:\nstdout:\n%s\nstderr:\n%s", d.stdout, d.stderr)
	}
	if g := mustSucceed(t, "get", "--instance", instance); g.stdout != "" || !strings.Contains(g.stderr, "No resources found in instance "+instance+".") ||
		!strings.Contains(g.stderr, finish) {
		t.Errorf("get after delete:\nstdout:\n%s\nstderr:\n%s", g.stdout, g.stderr)
	}
	if final, _, err := docker.ServiceInspectWithRaw(ctx, svc.ID, swarm.ServiceInspectOptions{}); err != nil {
		t.Errorf("the attached service is gone after delete: %v", err)
	} else if len(final.Spec.TaskTemplate.Networks) != 1 {
		t.Errorf("delete changed the attached service: %+v", final.Spec.TaskTemplate.Networks)
	}
}
