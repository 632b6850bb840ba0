package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// agentGateway is a gateway with agents: its tasks take new configs from the operator, which
// they reach on the host through their network's gateway address.
func agentGateway(name string, port int, network, operatorURL string) string {
	return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: %s}
spec:
  image: swarmgate/gateway:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: %s}
  agent: {operatorURL: %q, tokenSecret: %s}
`, name, port, network, operatorURL, agentTokenSecret)
}

func hitlessRoute(i int) string {
	services := ""
	if i == 0 {
		services = "  services: [{name: hl-echo, image: swarmgate/echo:test, port: 8888, replicas: 2, endpointMode: dnsrr, env: [{name: SERVICE, value: hl-echo}]}]\n"
	}
	return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: hl-r%d}
spec:
  parentRefs: [{name: hl-gw}]
  hostnames: [r%d.hitless.test]
  rules: [{backendRefs: [{name: hl-echo, port: 8888}]}]
%s`, i, i, services)
}

// agentTokenSecret is the agents' token secret of every e2e gateway with agents.
const agentTokenSecret = "e2e-agent-token"

// agentTokenMade says this test process created agentTokenSecret.
var agentTokenMade atomic.Bool

// agentSetup creates the agents' token secret (the user's: swarmgate mounts it and never changes
// it) and a file with the token for the operator, and returns the URL at which tasks reach an
// operator on this host listening on port: the address of their bridge network's gateway.
func agentSetup(t *testing.T, port int) (operatorURL, tokenFile string) {
	ctx := context.Background()
	// The secret outlives a test whose services are removed after it (cleanups run last first):
	// the next test takes it as it is (the same token), and TestMain removes it at the end if
	// this process made it (the bed's tests run in a process of their own beside this one).
	_, err := docker.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: agentTokenSecret}, Data: []byte("agent-t0ken")})
	switch {
	case err == nil:
		agentTokenMade.Store(true)
	case !cerrdefs.IsAlreadyExists(err) && !cerrdefs.IsConflict(err): // the engine says 409 Conflict
		t.Fatal(err)
	}
	bridge, err := docker.NetworkInspect(ctx, "docker_gwbridge", networkInspectOptions())
	if err != nil || len(bridge.IPAM.Config) == 0 {
		t.Fatalf("docker_gwbridge: %v", err)
	}
	return fmt.Sprintf("http://%s:%d", bridge.IPAM.Config[0].Gateway, port), writeManifests(t, "agent-token", "agent-t0ken\n")
}

// TestHitlessRouteChanges applies route changes one after another through the operator while a
// steady load goes through a gateway with agents: no request may fail, and each new route must
// answer soon after its manifest is written.
func TestHitlessRouteChanges(t *testing.T) {
	const instance = "e2e-hitless"
	cleanup(t, instance)
	ctx := context.Background()
	operatorURL, tokenFile := agentSetup(t, 19196)
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name+".tmp"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, name+".tmp"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	write("gateway.yaml", agentGateway("hl-gw", 18190, "e2e_hitless", operatorURL))
	write("r0.yaml", hitlessRoute(0))
	op := startOperatorOn(t, "unix://"+proxy.Socket, 19196, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--agent-token-file", tokenFile, "--listen", "0.0.0.0:19196")
	t.Cleanup(func() { runCommand(t, command("delete", "-f", dir, "--instance", instance)) })

	served := func(host string) error {
		code, e, err := get(18190, host, "/")
		if err != nil {
			return err
		}
		if code != 200 || e.Service != "hl-echo" {
			return fmt.Errorf("Host %s: HTTP %d from %q", host, code, e.Service)
		}
		return nil
	}
	eventually(t, 90*time.Second, func() error { return served("r0.hitless.test") })
	gatewayTasks := func() []string {
		svc, _, err := docker.ServiceInspectWithRaw(ctx, "hl-gw", swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID))})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, task := range tasks {
			ids = append(ids, task.ID)
		}
		slices.Sort(ids)
		return ids
	}
	before := gatewayTasks()

	const changes = 10
	load := startLoad(200, func() (string, error) { return "", served("r0.hitless.test") })
	time.Sleep(2 * time.Second)
	var took []time.Duration
	// One change every 3 s: half a minute of load, as an operator would see a busy day's deploys.
	for i := 1; i <= changes; i++ {
		if i > 1 {
			time.Sleep(3*time.Second - took[len(took)-1])
		}
		start := time.Now()
		write(fmt.Sprintf("r%d.yaml", i), hitlessRoute(i))
		host := fmt.Sprintf("r%d.hitless.test", i)
		deadline := time.Now().Add(30 * time.Second)
		for served(host) != nil {
			if time.Now().After(deadline) {
				_ = load.finish()
				t.Fatalf("change %d: %s not served within 30s\noperator log:\n%s", i, host, op.log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	time.Sleep(2 * time.Second)
	results := load.finish()

	var failures []string
	for _, r := range results {
		if r.err != nil {
			failures = append(failures, r.start.Format("15:04:05.000")+" "+r.err.Error())
		}
	}
	slices.Sort(took)
	t.Logf("figure: %d route changes under %d requests (200 req/s): %d failed; change to served: median %s, max %s",
		changes, len(results), len(failures), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during route changes: %v", len(failures), len(results), failures[:min(len(failures), 10)])
	}
	if after := gatewayTasks(); !slices.Equal(before, after) {
		t.Errorf("the gateway's tasks changed (%v -> %v): a route change must not replace them", before, after)
	}

	t.Run("status shows each task on the newest config", func(t *testing.T) {
		eventually(t, 10*time.Second, func() error {
			_, err := gatewayConfigCurrent(t, op, "hl-gw")
			return err
		})
		if out := mustSucceed(t, "get", "--server", "http://"+op.listen).stdout; !strings.Contains(out, "hl-gw") || !strings.Contains(out, "current") {
			t.Errorf("get --server does not show the gateway's tasks on the current config:\n%s", out)
		}
	})

	parent := t // the restarted operator serves the tests that follow
	t.Run("with the operator stopped the gateway keeps serving; back, it delivers what changed", func(t *testing.T) {
		op.stop(t)
		if err := served("r1.hitless.test"); err != nil {
			t.Fatalf("without the operator: %v", err)
		}
		write("r21.yaml", hitlessRoute(21))
		op = startOperatorOn(parent, "unix://"+proxy.Socket, 19196, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
			"--agent-token-file", tokenFile, "--listen", "0.0.0.0:19196")
		eventually(t, 30*time.Second, func() error { return served("r21.hitless.test") })
	})

	t.Run("a gateway task swarm restarts starts on its bootstrap config and takes the newest", func(t *testing.T) {
		cs, err := docker.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name=hl-gw"))})
		if err != nil || len(cs) != 1 {
			t.Fatalf("gateway containers: %v, %v", cs, err)
		}
		if err := docker.ContainerKill(ctx, cs[0].ID, "SIGKILL"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if t.Failed() {
				cs, _ := docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name=hl-gw"))})
				for _, c := range cs {
					out, _ := exec.Command("/usr/bin/docker", "logs", "--tail", "20", c.ID).CombinedOutput()
					t.Logf("container %s (%s):\n%s", c.ID[:12], c.State, out)
				}
				t.Logf("operator log:\n%s", op.log.String())
			}
		}()
		eventually(t, 60*time.Second, func() error {
			if tasks := gatewayTasks(); slices.Equal(tasks, before) {
				return fmt.Errorf("no new task yet")
			}
			return served("r21.hitless.test")
		})
	})
}
