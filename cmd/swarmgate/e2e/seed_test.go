package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// seedManifests is the blog's scenario on this machine: a gateway publishing port in host mode,
// dmz (2 replicas, in zone dmz) and manager (3 replicas) on one overlay network. extraHosts are
// more hostnames of the dmz route; withManager adds the manager route.
func seedManifests(node string, port int, extraHosts []string, withManager bool) string {
	hosts := append([]string{"dmz.seed.test"}, extraHosts...)
	m := fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Zone
metadata: {name: dmz}
spec: {nodes: [%s]}
---
apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: seed-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_seed}
  updatePolicy: {delay: 1s, failureAction: rollback}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: seed-dmz}
spec:
  parentRefs: [{name: seed-gw}]
  hostnames: [%s]
  rules: [{backendRefs: [{name: seed-dmz}]}]
  services:
    - {name: seed-dmz, image: swarmgate/echo:test, port: 8888, replicas: 2, zone: dmz, endpointMode: dnsrr,
       env: [{name: SERVICE, value: seed-dmz}]}
`, node, port, strings.Join(hosts, ", "))
	if withManager {
		m += `---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: seed-manager}
spec:
  parentRefs: [{name: seed-gw}]
  hostnames: [manager.seed.test]
  rules: [{backendRefs: [{name: seed-manager}]}]
  services:
    - {name: seed-manager, image: swarmgate/echo:test, port: 8888, replicas: 3, endpointMode: dnsrr,
       env: [{name: SERVICE, value: seed-manager}]}
`
	}
	return m
}

func selfNode(t *testing.T) swarm.Node {
	t.Helper()
	ctx := context.Background()
	info, err := docker.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node, _, err := docker.NodeInspectWithRaw(ctx, info.Swarm.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	return node
}

// tasksSeen sends requests for host until every one of want tasks has answered, and fails if
// another service answers.
func tasksSeen(port int, host, service string, want int) error {
	seen := map[string]bool{}
	for range 60 {
		code, e, err := get(port, host, "/")
		if err != nil {
			return err
		}
		if code != 200 || e.Service != service {
			return fmt.Errorf("Host %s: status %d from service %q, want %s", host, code, e.Service, service)
		}
		seen[e.Task] = true
		if len(seen) == want {
			return nil
		}
	}
	return fmt.Errorf("Host %s reached %d distinct tasks of %s in 60 requests, want %d", host, len(seen), service, want)
}

func TestSeedScenario(t *testing.T) {
	const instance, port = "e2e-seed", 18181
	top := t // subtests write manifests that later subtests read
	cleanup(t, instance)
	self := selfNode(t)
	node := self.Description.Hostname
	// When another instance (or a person) already set zone=dmz on this node, this one must leave it alone.
	foreignZone := self.Spec.Labels["zone"] != ""
	manifests := writeManifests(t, "seed.yaml", seedManifests(node, port, nil, true))
	flags := []string{"-f", manifests, "--instance", instance}

	t.Run("apply brings the scenario up", func(t *testing.T) {
		r := mustSucceed(t, append([]string{"apply", "--wait", "--timeout", "90s"}, flags...)...)
		for _, want := range []string{"network/e2e_seed created", "service/seed-dmz created", "service/seed-manager created", "service/seed-gw created"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("apply output lacks %q:\n%s", want, r.stdout)
			}
		}
		// Each host reaches only its own service, and all of its replicas (dnsrr, round robin).
		eventually(t, 60*time.Second, func() error { return tasksSeen(port, "dmz.seed.test", "seed-dmz", 2) })
		eventually(t, 60*time.Second, func() error { return tasksSeen(port, "manager.seed.test", "seed-manager", 3) })
		if code, _, err := get(port, "unknown.seed.test", "/"); err != nil || code != 404 {
			t.Errorf("unknown host: %d %v, want 404", code, err)
		}
		if got := selfNode(t).Spec.Labels["zone"]; got != "dmz" {
			t.Errorf("node label zone=%q, want dmz", got)
		}
		svc, _, err := docker.ServiceInspectWithRaw(context.Background(), "seed-dmz", swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c := svc.Spec.TaskTemplate.Placement; c == nil || !slices.Contains(c.Constraints, "node.labels.zone==dmz") {
			t.Errorf("seed-dmz placement %+v, want node.labels.zone==dmz", c)
		}
	})

	t.Run("a second apply writes nothing", func(t *testing.T) {
		count := proxy.Reset()
		r := mustSucceed(t, append([]string{"apply"}, flags...)...)
		reads, writes := count()
		if strings.TrimSpace(r.stdout) != "no changes" || len(writes) != 0 {
			t.Fatalf("second apply: %q, writes %v", r.stdout, writes)
		}
		t.Logf("a no-op apply made %d read requests and no write", reads)
		if d := swarmgate(t, append([]string{"diff"}, flags...)...); d.code != 0 {
			t.Errorf("diff after apply: exit %d\n%s", d.code, d.stdout)
		}
	})

	t.Run("a hand-made change is drift, and apply restores it", func(t *testing.T) {
		ctx := context.Background()
		svc, _, err := docker.ServiceInspectWithRaw(ctx, "seed-manager", swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		five := uint64(5)
		spec := svc.Spec
		spec.Mode.Replicated.Replicas = &five
		if _, err := docker.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		g := mustSucceed(t, append([]string{"get", "route", "seed-manager"}, flags...)...)
		if !strings.Contains(g.stdout, "OutOfSync") || !strings.Contains(g.stdout, "replicas") {
			t.Errorf("get after scaling by hand:\n%s", g.stdout)
		}
		d := swarmgate(t, append([]string{"diff"}, flags...)...)
		if d.code != 1 || !strings.Contains(d.stdout, "~ service/seed-manager (Route/seed-manager)") || !strings.Contains(d.stdout, "replicas: 5 -> 3") {
			t.Errorf("diff: exit %d\n%s", d.code, d.stdout)
		}
		a := mustSucceed(t, append([]string{"apply"}, flags...)...)
		if !strings.Contains(a.stdout, "service/seed-manager updated") {
			t.Errorf("apply: %s", a.stdout)
		}
		svc, _, _ = docker.ServiceInspectWithRaw(ctx, "seed-manager", swarm.ServiceInspectOptions{})
		if n := *svc.Spec.Mode.Replicated.Replicas; n != 3 {
			t.Errorf("replicas %d after apply, want 3", n)
		}
	})

	t.Run("a changed route rotates the config secret and traffic follows", func(t *testing.T) {
		_, before, _ := owned(t, instance)
		changed := writeManifests(top, "changed.yaml", seedManifests(node, port, []string{"new.seed.test"}, true))
		r := mustSucceed(t, "apply", "-f", changed, "--instance", instance, "--wait", "--timeout", "90s")
		if !strings.Contains(r.stdout, " rotated") || !strings.Contains(r.stdout, "service/seed-gw updated") {
			t.Errorf("apply output:\n%s", r.stdout)
		}
		_, after, _ := owned(t, instance)
		if len(after) != 1 || slices.Contains(before, after[0]) {
			t.Errorf("secrets before %v, after %v: want exactly one new secret", before, after)
		}
		eventually(t, 60*time.Second, func() error { return tasksSeen(port, "new.seed.test", "seed-dmz", 2) })
		manifests = changed
		flags = []string{"-f", manifests, "--instance", instance}
	})

	t.Run("a Route left out of the files stays applied without --prune and goes with it", func(t *testing.T) {
		fewer := writeManifests(top, "fewer.yaml", seedManifests(node, port, []string{"new.seed.test"}, false))
		r := mustSucceed(t, "apply", "-f", fewer, "--instance", instance)
		if strings.Contains(r.stdout, "seed-manager") {
			t.Errorf("apply without --prune touched the Route it was not given:\n%s", r.stdout)
		}
		if services, _, _ := owned(t, instance); !slices.Contains(services, "seed-manager") || !slices.Contains(applied(t, instance), "Route/seed-manager") {
			t.Fatalf("seed-manager was deleted without --prune: %v, applied %v", services, applied(t, instance))
		}
		if err := tasksSeen(port, "manager.seed.test", "seed-manager", 1); err != nil {
			t.Errorf("the gateway stopped routing to a Route the files left out: %v", err)
		}
		r = mustSucceed(t, "apply", "-f", fewer, "--instance", instance, "--prune")
		if !strings.Contains(r.stdout, "service/seed-manager deleted") {
			t.Errorf("apply --prune:\n%s", r.stdout)
		}
		if services, _, _ := owned(t, instance); slices.Contains(services, "seed-manager") || slices.Contains(applied(t, instance), "Route/seed-manager") {
			t.Errorf("seed-manager survived --prune: %v, applied %v", services, applied(t, instance))
		}
		flags = []string{"-f", fewer, "--instance", instance}
	})

	t.Run("delete removes exactly what the manifests own", func(t *testing.T) {
		r := mustSucceed(t, append([]string{"delete"}, flags...)...)
		for _, want := range []string{"service/seed-dmz deleted", "service/seed-gw deleted", "network/e2e_seed deleted"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("delete output lacks %q:\n%s", want, r.stdout)
			}
		}
		labeled := strings.Contains(r.stdout, "node/"+node+" labeled")
		zone := selfNode(t).Spec.Labels["zone"]
		switch {
		case foreignZone && (labeled || zone != self.Spec.Labels["zone"]):
			t.Errorf("delete changed the zone label another owner set: %q -> %q", self.Spec.Labels["zone"], zone)
		case !foreignZone && (!labeled || zone != ""):
			t.Errorf("delete left the zone label it set: %q\n%s", zone, r.stdout)
		}
		// Swarm removes a network once the last task has left it.
		eventually(t, 30*time.Second, func() error {
			if services, secrets, networks := owned(t, instance); len(services)+len(secrets)+len(networks)+len(applied(t, instance)) > 0 {
				return fmt.Errorf("left behind: services %v, secrets %v, networks %v, applied %v", services, secrets, networks, applied(t, instance))
			}
			return nil
		})
	})
}

// TestApplyWaitFailsOnRollback: `apply --wait` follows the update and exits non-zero when swarm
// rolls it back, or pauses it (then on every run).
func TestApplyWaitFailsOnRollback(t *testing.T) {
	const instance = "e2e-wait"
	cleanup(t, instance)
	manifest := func(image string) string {
		return `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: wait-gw}
spec:
  replicas: 0
  listeners: [{name: http, port: 18188, publishMode: Host}]
  network: {name: e2e_wait}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: wait}
spec:
  parentRefs: [{name: wait-gw}]
  hostnames: [wait.test]
  rules: [{backendRefs: [{name: wait}]}]
  services:
    - name: wait
      image: ` + image + `
      port: 8888
      endpointMode: dnsrr
      updatePolicy: {failureAction: rollback, monitor: 2s}
      restartPolicy: {condition: any, delay: 1s}
`
	}
	good := writeManifests(t, "good.yaml", manifest("swarmgate/echo:test"))
	mustSucceed(t, "apply", "-f", good, "--instance", instance, "--wait", "--timeout", "60s")
	bad := writeManifests(t, "bad.yaml", manifest("swarmgate/no-such-image:1"))
	r := swarmgate(t, "apply", "-f", bad, "--instance", instance, "--wait", "--timeout", "90s")
	if r.code == 0 || !strings.Contains(r.stderr, "Route/wait is Degraded (") {
		t.Errorf("apply --wait of an update swarm rolls back: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	// An update swarm pauses: in sync, but Degraded with the task's error, and apply --wait
	// fails on every run, also when there is nothing left to change.
	paused := writeManifests(t, "paused.yaml", strings.Replace(manifest("swarmgate/no-such-image:2"), "failureAction: rollback", "failureAction: pause", 1))
	for run := range 2 {
		r := swarmgate(t, "apply", "-f", paused, "--instance", instance, "--wait", "--timeout", "90s")
		if r.code == 0 || !strings.Contains(r.stderr, "Route/wait is Degraded (UpdatePaused)") || !strings.Contains(r.stderr, "No such image: swarmgate/no-such-image:2") {
			t.Errorf("apply --wait #%d of an update swarm pauses: exit %d\nstdout:\n%s\nstderr:\n%s", run+1, r.code, r.stdout, r.stderr)
		}
		if run == 1 && !strings.Contains(r.stdout, "no changes") {
			t.Errorf("the second apply changed something:\n%s", r.stdout)
		}
	}
	g := mustSucceed(t, "get", "route", "wait", "--instance", instance)
	if !strings.Contains(g.stdout, "Synced") || !strings.Contains(g.stdout, "Degraded") || !strings.Contains(g.stdout, "No such image") {
		t.Errorf("get of a paused update:\n%s", g.stdout)
	}
	if d := swarmgate(t, "diff", "-f", paused, "--instance", instance); d.code != 0 {
		t.Errorf("diff of a paused update that is in sync: exit %d\n%s", d.code, d.stdout)
	}
	mustSucceed(t, "delete", "-f", good, "--instance", instance)
}
