package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// TestForeignObjectsSurvive makes a service, a network, a secret and a node label with the Docker
// API directly, and a stack with `docker stack deploy`; none may change through apply, prune or
// delete, even when swarmgate routes to them or uses their network.
func TestForeignObjectsSurvive(t *testing.T) {
	const instance = "e2e-foreign"
	cleanup(t, instance)
	ctx := context.Background()

	removeLeftover(docker.SecretRemove, "e2e-foreign-secret")
	removeLeftover(docker.ServiceRemove, "e2e-foreign-svc")
	removeLeftover(docker.NetworkRemove, "e2e_foreign_net")
	net, err := docker.NetworkCreate(ctx, "e2e_foreign_net", network.CreateOptions{Driver: "overlay", Attachable: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeEventually(func() error { return docker.NetworkRemove(ctx, net.ID) }) })
	zero := uint64(0)
	svc, err := docker.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "e2e-foreign-svc"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "swarmgate/echo:test"}, Networks: []swarm.NetworkAttachmentConfig{{Target: net.ID}}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = docker.ServiceRemove(ctx, svc.ID) })
	sec, err := docker.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "e2e-foreign-secret"}, Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeEventually(func() error { return docker.SecretRemove(ctx, sec.ID) }) })
	setNodeLabel(t, "e2e.foreign", "keep")
	t.Cleanup(func() { setNodeLabel(t, "e2e.foreign", "") })

	compose := filepath.Join(t.TempDir(), "stack.yaml")
	if err := os.WriteFile(compose, []byte(`version: "3.8"
services:
  web:
    image: swarmgate/echo:test
    networks: [e2e_foreign_net]
    deploy: {replicas: 0}
networks:
  e2e_foreign_net: {external: true}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/bin/docker", "stack", "deploy", "--resolve-image", "never", "-c", compose, "e2efstack").CombinedOutput(); err != nil {
		t.Fatalf("docker stack deploy: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("/usr/bin/docker", "stack", "rm", "e2efstack").Run() })

	before := foreignVersions(t)
	manifests := writeManifests(t, "foreign.yaml", `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: foreign-gw}
spec:
  image: swarmgate/nginx:test
  replicas: 0
  listeners: [{name: http, port: 18182, publishMode: Host}]
  network: {name: e2e_foreign_net}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: foreign-route}
spec:
  parentRefs: [{name: foreign-gw}]
  hostnames: [web.foreign.test, svc.foreign.test]
  rules:
    - matches: [{path: {value: /web}}]
      backendRefs: [{name: web, namespace: e2efstack, port: 8888}]
    - backendRefs: [{name: e2e-foreign-svc, port: 8888}]
---
# The stack's owners let Routes without a namespace use its service web.
apiVersion: swarmgate.io/v1alpha1
kind: ReferenceGrant
metadata: {name: e2efstack-web, namespace: e2efstack}
spec:
  from: [{kind: Route, namespace: ""}]
  to: [{kind: Service, name: web}]
`)
	flags := []string{"-f", manifests, "--instance", instance}
	r := mustSucceed(t, append([]string{"apply", "--prune"}, flags...)...)
	// The store's configs carry the instance's name; nothing else may.
	written := regexp.MustCompile(`(?m)^config/sg-`+instance+`-\S+ created$`).ReplaceAllString(r.stdout, "")
	if strings.Contains(written, "e2e-foreign") || strings.Contains(written, "e2efstack") {
		t.Errorf("apply wrote a foreign object:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "service/foreign-gw created") || strings.Contains(r.stdout, "network/") {
		t.Errorf("apply should create the gateway on the existing network, and no network:\n%s", r.stdout)
	}
	g := mustSucceed(t, append([]string{"get", "route", "-o", "json"}, flags...)...)
	if !strings.Contains(g.stdout, `"reason": "ResolvedRefs"`) {
		t.Errorf("external backends on the gateway's network should resolve:\n%s", g.stdout)
	}
	mustSucceed(t, append([]string{"apply", "--prune"}, flags...)...)
	mustSucceed(t, append([]string{"delete"}, flags...)...)
	if after := foreignVersions(t); !slices.Equal(before, after) {
		t.Errorf("foreign objects changed:\nbefore %v\nafter  %v", before, after)
	}

	// A Route service named like a foreign service is refused before any write.
	clash := writeManifests(t, "clash.yaml", `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: clash-gw}
spec:
  replicas: 0
  listeners: [{name: http, port: 18183, publishMode: Host}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: clash}
spec:
  parentRefs: [{name: clash-gw}]
  hostnames: [clash.test]
  rules: [{backendRefs: [{name: e2e-foreign-svc}]}]
  services: [{name: e2e-foreign-svc, image: swarmgate/echo:test, port: 8888, replicas: 0}]
`)
	count := proxy.Reset()
	r = swarmgate(t, "apply", "-f", clash, "--instance", instance)
	if _, writes := count(); r.code == 0 || len(writes) != 0 || !strings.Contains(r.stderr, "service e2e-foreign-svc exists and was not created by swarmgate") {
		t.Errorf("apply over a foreign service: exit %d, writes %v\n%s", r.code, writes, r.stderr)
	}
}

// foreignVersions records the version of every foreign object, and the label, to compare.
func foreignVersions(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, name := range []string{"e2e-foreign-svc", "e2efstack_web"} {
		s, _, err := docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, fmt.Sprintf("service %s v%d", name, s.Version.Index))
	}
	sec, _, err := docker.SecretInspectWithRaw(ctx, "e2e-foreign-secret")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, fmt.Sprintf("secret v%d", sec.Version.Index))
	n, err := docker.NetworkInspect(ctx, "e2e_foreign_net", network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, fmt.Sprintf("network %s %v", n.ID, n.Labels))
	return append(out, "label e2e.foreign="+selfNode(t).Spec.Labels["e2e.foreign"])
}

// setNodeLabel sets (or with "" removes) a label on this node, as a person would.
func setNodeLabel(t *testing.T, key, value string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		node := selfNode(t)
		spec := node.Spec
		labels := map[string]string{}
		for k, v := range spec.Labels {
			labels[k] = v
		}
		if value == "" {
			delete(labels, key)
		} else {
			labels[key] = value
		}
		spec.Labels = labels
		return docker.NodeUpdate(context.Background(), node.ID, node.Version, spec)
	})
}

// TestInvalidManifestsMakeNoRequest: bad input is refused before swarmgate talks to the engine.
// Without --prune the files join the applied objects, so what crosses objects (a route conflict)
// is refused once the store was read: with reads, never a write.
func TestInvalidManifestsMakeNoRequest(t *testing.T) {
	for _, file := range []string{"route-conflict.yaml", "vip-auth-pass-too-long.yaml", "malformed-yaml.yaml"} {
		count := proxy.Reset()
		r := swarmgate(t, "apply", "--prune", "-f", filepath.Join(repoRoot, "manifests", "invalid", file), "--instance", "e2e-invalid")
		reads, writes := count()
		if r.code != 1 || reads+len(writes) != 0 || !strings.Contains(r.stderr, "nothing was changed") {
			t.Errorf("%s: exit %d, %d reads, writes %v\n%s", file, r.code, reads, writes, r.stderr)
		}
		count = proxy.Reset()
		r = swarmgate(t, "apply", "-f", filepath.Join(repoRoot, "manifests", "invalid", file), "--instance", "e2e-invalid")
		if _, writes := count(); r.code != 1 || len(writes) != 0 || !strings.Contains(r.stderr, "nothing was changed") {
			t.Errorf("%s without --prune: exit %d, writes %v\n%s", file, r.code, writes, r.stderr)
		}
	}
}

// TestEngineRestartDuringApply restarts dockerd while an apply runs; the apply (or the next one)
// converges, and no orphaned secret or network remains.
func TestEngineRestartDuringApply(t *testing.T) {
	if _, err := os.Stat("/run/swarmgate-hack/dockerd.pid"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dockerd was not started by hack/swarm.sh up, so this test cannot restart it")
		}
		t.Skip("dockerd was not started by hack/swarm.sh up")
	}
	const instance = "e2e-restart"
	cleanup(t, instance)
	var b strings.Builder
	b.WriteString(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: restart-gw}
spec:
  replicas: 0
  listeners: [{name: http, port: 18184, publishMode: Host}]
  network: {name: e2e_restart}
`)
	for i := range 6 {
		fmt.Fprintf(&b, `---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: restart-%d}
spec:
  parentRefs: [{name: restart-gw}]
  hostnames: [r%d.restart.test]
  rules: [{backendRefs: [{name: restart-%d}]}]
  services: [{name: restart-%d, image: swarmgate/echo:test, port: 8888, replicas: 0}]
`, i, i, i, i)
	}
	manifests := writeManifests(t, "restart.yaml", b.String())

	cmd := command("apply", "-f", manifests, "--instance", instance)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatal("apply printed nothing")
	}
	t.Logf("restarting dockerd after %q", lines.Text())
	if out, err := exec.Command(filepath.Join(repoRoot, "hack", "swarm.sh"), "restart-engine").CombinedOutput(); err != nil {
		t.Fatalf("restart-engine: %v\n%s", err, out)
	}
	for lines.Scan() {
		t.Log(lines.Text())
	}
	t.Logf("the interrupted apply ended with %v %s", cmd.Wait(), stderr.String())

	// Whatever the interrupted apply managed, the next one converges.
	eventually(t, 60*time.Second, func() error {
		if r := swarmgate(t, "apply", "-f", manifests, "--instance", instance); r.code != 0 {
			return fmt.Errorf("apply: exit %d: %s", r.code, r.stderr)
		}
		return nil
	})
	if d := swarmgate(t, "diff", "-f", manifests, "--instance", instance); d.code != 0 {
		t.Errorf("not converged:\n%s", d.stdout)
	}
	services, secrets, networks := owned(t, instance)
	if len(services) != 7 || len(secrets) != 1 || !slices.Equal(networks, []string{"e2e_restart"}) {
		t.Errorf("after the restart: services %v, secrets %v, networks %v; want 7 services, 1 secret, 1 network", services, secrets, networks)
	}
	mustSucceed(t, "delete", "-f", manifests, "--instance", instance)
}
