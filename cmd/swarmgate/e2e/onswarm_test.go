package e2e

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"go.yaml.in/yaml/v3"

	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// operatorStack is manifests/deploy/swarmgate-stack.yaml as a test runs it: the locally built
// image on a directory of manifests instead of a git branch (so without the git and webhook
// secrets), its endpoints published on a test port. Its agent settings, lease timing, network and
// placement are the file's own.
type operatorStack struct {
	image, manifests, instance string
	replicas, port             int
	// socket is the path, on each node, of the socket of that node's engine, which the stack
	// mounts (the file's /var/run/docker.sock when empty). It may hold {{.Node.Hostname}}: swarm
	// expands a mount's source for each task.
	socket string
}

// file writes the stack file and returns its path.
func (o operatorStack) file(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "manifests/deploy/swarmgate-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var stack map[string]any
	if err := yaml.Unmarshal(data, &stack); err != nil {
		t.Fatal(err)
	}
	svc := stack["services"].(map[string]any)["swarmgate"].(map[string]any)
	svc["image"] = o.image
	command := []any{"run", "--source=dir:/manifests", "--instance=" + o.instance, "--resync=1h"}
	for _, arg := range svc["command"].([]any) {
		if a := arg.(string); slices.ContainsFunc([]string{"--agent-", "--listen", "--on-drift", "--lease-"}, func(p string) bool { return strings.HasPrefix(a, p) }) {
			command = append(command, a)
		}
	}
	svc["command"] = command
	socket := cmp.Or(o.socket, "/var/run/docker.sock")
	svc["volumes"] = []any{socket + ":/var/run/docker.sock", o.manifests + ":/manifests:ro"}
	delete(svc, "secrets")
	delete(stack, "secrets")
	delete(stack, "volumes")
	svc["ports"] = []any{map[string]any{"target": 9090, "published": o.port, "mode": "host"}}
	svc["deploy"].(map[string]any)["replicas"] = o.replicas
	out, err := yaml.Marshal(stack)
	if err != nil {
		t.Fatal(err)
	}
	return writeManifests(t, "stack.yaml", string(out))
}

// buildOperatorImage builds swarmgate's image as make image does (the repository's Dockerfile on
// the static binary under test) under a test tag.
func buildOperatorImage(t *testing.T, tag string) {
	t.Helper()
	ctxDir := t.TempDir()
	for _, f := range []struct{ from, to string }{{binary, "swarmgate"}, {"/etc/ssl/certs/ca-certificates.crt", "ca-certificates.crt"},
		{filepath.Join(repoRoot, "Dockerfile"), "Dockerfile"}} {
		data, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctxDir, f.to), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("/usr/bin/docker", "build", "-q", "-t", tag, ctxDir)
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0", "DOCKER_HOST=unix://"+engineSocket)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", tag, err, out)
	}
}

// TestOperatorOnSwarmHitless deploys the operator as the README says (its stack file, on the
// swarm) and a Gateway with `agent: {}`: no operator URL, no token secret made by hand. Its
// agents must reach the operator by its service name, with the token the operator made, and a
// route change under load must fail no request.
func TestOperatorOnSwarmHitless(t *testing.T) {
	const (
		instance = "e2e-onswarm"
		stack    = "e2e-onswarm"
		image    = "swarmgate/swarmgate:e2e"
		port     = 18290 // the gateway's
		opPort   = 19290 // the operator's endpoints
	)
	ctx := context.Background()
	t.Cleanup(func() {
		// The operator's network (its stack leaves it while the gateway uses it), once the
		// gateway's task has stopped gracefully (up to its 30 s grace period).
		eventually(t, time.Minute, func() error {
			if err := docker.NetworkRemove(ctx, "swarmgate-control"); err != nil && !cerrdefs.IsNotFound(err) {
				return err
			}
			return nil
		})
	})
	cleanup(t, instance)
	buildOperatorImage(t, image)
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name+".tmp"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, name+".tmp"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	route := func(i int) string {
		services := ""
		if i == 0 {
			services = "  services: [{name: os-echo, image: swarmgate/echo:test, port: 8888, replicas: 2, endpointMode: dnsrr, env: [{name: SERVICE, value: os-echo}]}]\n"
		}
		return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: os-r%d}
spec:
  parentRefs: [{name: os-gw}]
  hostnames: [r%d.onswarm.test]
  rules: [{backendRefs: [{name: os-echo, port: 8888}]}]
%s`, i, i, services)
	}
	write("gateway.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: os-gw}
spec:
  image: swarmgate/gateway:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_onswarm}
  agent: {}
`, port))
	write("r0.yaml", route(0))

	deploy := exec.Command("/usr/bin/docker", "stack", "deploy", "-c",
		operatorStack{image: image, manifests: dir, instance: instance, replicas: 1, port: opPort}.file(t), stack)
	deploy.Env = append(os.Environ(), "DOCKER_HOST=unix://"+engineSocket)
	if out, err := deploy.CombinedOutput(); err != nil {
		t.Fatalf("docker stack deploy: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		// The operator first, so it recreates nothing the instance's cleanup removes.
		_ = exec.Command("/usr/bin/docker", "stack", "rm", stack).Run()
		eventually(t, 30*time.Second, func() error {
			cs, err := docker.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.stack.namespace="+stack))})
			if err == nil && len(cs) > 0 {
				err = fmt.Errorf("%d operator containers left", len(cs))
			}
			return err
		})
	})
	operatorLog := func() string {
		out, _ := exec.Command("/usr/bin/docker", "service", "logs", "--raw", stack+"_swarmgate").CombinedOutput()
		return string(out)
	}

	served := func(host string) error {
		code, e, err := get(port, host, "/")
		if err != nil {
			return err
		}
		if code != 200 || e.Service != "os-echo" {
			return fmt.Errorf("Host %s: HTTP %d from %q", host, code, e.Service)
		}
		return nil
	}
	start := time.Now()
	defer func() {
		if t.Failed() {
			gw, _ := exec.Command("/usr/bin/docker", "service", "logs", "--raw", "os-gw").CombinedOutput()
			t.Logf("operator log:\n%s\ngateway log:\n%s", operatorLog(), gw)
		}
	}()
	eventually(t, 60*time.Second, func() error { return served("r0.onswarm.test") })
	t.Logf("figure: stack deployed to served through the gateway in %s", time.Since(start).Round(time.Millisecond))
	op := &operator{listen: fmt.Sprintf("127.0.0.1:%d", opPort)}
	eventually(t, 20*time.Second, func() error {
		_, err := gatewayConfigCurrent(t, op, "os-gw")
		return err
	})

	// The gateway's tasks mount the operator's own token secret and join its network.
	svc, _, err := docker.ServiceInspectWithRaw(ctx, "os-gw", swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := docker.SecretList(ctx, swarm.SecretListOptions{Filters: filters.NewArgs(
		filters.Arg("label", inventory.LabelInstance+"="+instance), filters.Arg("label", inventory.LabelRole+"="+inventory.RoleAgentToken))})
	if err != nil || len(secrets) != 1 {
		t.Fatalf("the operator's agent token secrets: %v, %v", secrets, err)
	}
	if !slices.ContainsFunc(svc.Spec.TaskTemplate.ContainerSpec.Secrets, func(r *swarm.SecretReference) bool { return r.SecretID == secrets[0].ID }) {
		t.Errorf("the gateway does not mount the operator's token secret %s", secrets[0].Spec.Name)
	}
	control, err := docker.NetworkInspect(ctx, "swarmgate-control", networkInspectOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(svc.Spec.TaskTemplate.Networks, func(n swarm.NetworkAttachmentConfig) bool { return n.Target == control.ID }) {
		t.Errorf("the gateway does not join the operator's network: %+v", svc.Spec.TaskTemplate.Networks)
	}
	if log := operatorLog(); strings.Contains(log, "token\":\"") {
		t.Errorf("the operator's log shows a token:\n%s", log)
	}

	load := startLoad(200, func() (string, error) { return "", served("r0.onswarm.test") })
	time.Sleep(time.Second)
	changed := time.Now()
	write("r1.yaml", route(1))
	deadline := time.Now().Add(20 * time.Second)
	for served("r1.onswarm.test") != nil {
		if time.Now().After(deadline) {
			_ = load.finish()
			t.Fatalf("r1.onswarm.test not served within 20s\noperator log:\n%s", operatorLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(changed)
	time.Sleep(time.Second)
	results := load.finish()
	var failures []string
	for _, r := range results {
		if r.err != nil {
			failures = append(failures, r.start.Format("15:04:05.000")+" "+r.err.Error())
		}
	}
	t.Logf("figure: a route change through the operator on the swarm under %d requests (200 req/s): %d failed; served after %s",
		len(results), len(failures), took.Round(time.Millisecond))
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the route change: %v", len(failures), len(results), failures[:min(len(failures), 10)])
	}
	after, _, err := docker.ServiceInspectWithRaw(ctx, "os-gw", swarm.ServiceInspectOptions{})
	if err != nil || after.Version.Index != svc.Version.Index {
		t.Errorf("the gateway's service was updated by a route change (%v)", err)
	}
}
