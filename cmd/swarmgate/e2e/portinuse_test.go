package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// TestHostPortInUse: a gateway whose host-mode port another service holds fails apply --wait at
// once, naming the port and the holder, instead of waiting out --timeout.
func TestHostPortInUse(t *testing.T) {
	const instance, port = "e2e-portinuse", 18176
	cleanup(t, instance)
	ctx := context.Background()
	one := uint64(1)
	removeLeftover(docker.ServiceRemove, "e2e-portinuse-holder")
	holder, err := docker.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "e2e-portinuse-holder"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "swarmgate/echo:test"}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		EndpointSpec: &swarm.EndpointSpec{Ports: []swarm.PortConfig{{Protocol: swarm.PortConfigProtocolTCP, TargetPort: 8888, PublishedPort: port,
			PublishMode: swarm.PortConfigPublishModeHost}}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = docker.ServiceRemove(ctx, holder.ID) })
	eventually(t, 60*time.Second, func() error {
		if _, _, err := get(port, "x", "/"); err != nil {
			return fmt.Errorf("the holder does not answer yet: %w", err)
		}
		return nil
	})
	manifests := writeManifests(t, "portinuse.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: portinuse-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_portinuse}
`, port))
	t.Cleanup(func() { cleanup(t, instance) })
	start := time.Now()
	r := swarmgate(t, "apply", "-f", manifests, "--instance", instance, "--wait", "--timeout", "2m")
	took := time.Since(start)
	want := fmt.Sprintf("host port %d/tcp in use", port)
	if r.code == 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "held by service e2e-portinuse-holder") {
		t.Errorf("apply --wait: exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.code, took.Round(time.Second), r.stdout, r.stderr)
	}
	t.Logf("apply --wait failed after %s", took.Round(time.Millisecond))
}
