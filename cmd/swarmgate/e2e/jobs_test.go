package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// TestServicesAndHooks: a database-like Service no Route reaches runs, owned by its Service, and
// is drift like any other service when changed by hand; a migration job is a hook that must
// succeed before its app is created; `get` says how the job ended. A changed migration that fails
// holds the new version of the app back: the old one keeps serving, and the operator alerts the
// failed pass, naming the hook and the task's error.
func TestServicesAndHooks(t *testing.T) {
	const instance, port = "e2e-hooks", 18261
	t.Cleanup(func() { // after the instance: its service mounts it
		removeEventually(func() error { return docker.VolumeRemove(context.Background(), "e2e-hooks-data", true) })
	})
	cleanup(t, instance)
	manifest := func(version string, migrate string) string {
		return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw, namespace: hk}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_hooks}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app, namespace: hk}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.test]
  rules: [{backendRefs: [{name: app}]}]
  services:
    - name: app
      image: swarmgate/echo:test
      port: 8888
      endpointMode: dnsrr
      env: [{name: SERVICE, value: app}, {name: VERSION, value: "%s"}]
      dependsOn: [db]
---
apiVersion: swarmgate.io/v1alpha1
kind: Service
metadata: {name: db, namespace: hk}
spec:
  image: swarmgate/echo:test
  env: [{name: SERVICE, value: db}]
  endpointMode: dnsrr
  mounts: [{source: e2e-hooks-data, target: /data}]
  networks: [e2e_hooks]
  stopGracePeriod: 1s
---
apiVersion: swarmgate.io/v1alpha1
kind: Service
metadata: {name: migrate, namespace: hk}
spec:
  image: swarmgate/nginx:test
  command: [/usr/sbin/nginx, %s]
  mode: ReplicatedJob
  restartPolicy: {condition: on-failure, maxAttempts: 1, delay: 1s}
  hook: {before: [app], timeout: 30s}
  dependsOn: [db]
`, port, version, migrate)
	}
	const succeeds, fails = "-v", "-c, /no/such/nginx.conf"
	// diff names what the swarm lacks, before any write.
	missing := writeManifests(t, "missing.yaml", manifest("1", succeeds)+"  secrets: [{name: e2e-hooks-no-such-secret}]\n")
	if d := swarmgate(t, "diff", "-f", missing, "--instance", instance); d.code != 2 ||
		!strings.Contains(d.stderr, "Service/migrate: secret e2e-hooks-no-such-secret does not exist") {
		t.Errorf("diff with a missing secret: exit %d\n%s", d.code, d.stderr)
	}
	v1 := writeManifests(t, "v1.yaml", manifest("1", succeeds))
	applied := mustSucceed(t, "apply", "-f", v1, "--instance", instance, "--wait", "--timeout", "60s")
	lines := strings.Split(strings.TrimSpace(applied.stdout), "\n")
	created := slices.DeleteFunc(lines, func(l string) bool { return !strings.HasPrefix(l, "service/") })
	if want := []string{"service/hk_db created", "service/hk_migrate created", "service/hk_app created", "service/hk_gw created"}; !slices.Equal(created, want) {
		t.Errorf("created %q, want %q (dependsOn and the hook first)", created, want)
	}
	db, _, err := docker.ServiceInspectWithRaw(context.Background(), "hk_db", swarm.ServiceInspectOptions{})
	if err != nil || db.Spec.Labels["swarmgate.io/owner"] != "Service/db" {
		t.Fatalf("hk_db: %v, labels %v", err, db.Spec.Labels)
	}
	listed := mustSucceed(t, "get", "services", "--instance", instance)
	for _, want := range []string{"service hk_migrate: job succeeded: 1 of 1 tasks completed", "Service  db       Synced  Healthy"} {
		if !strings.Contains(listed.stdout, want) {
			t.Errorf("get services: no %q in\n%s", want, listed.stdout)
		}
	}
	if again := mustSucceed(t, "apply", "-f", v1, "--instance", instance); strings.Contains(again.stdout, "service/") {
		t.Errorf("a second apply wrote:\n%s", again.stdout)
	}
	serves := func() error {
		code, e, err := get(port, "app.test", "/")
		if err == nil && (code != 200 || e.Service != "app") {
			err = fmt.Errorf("answer %d from %q", code, e.Service)
		}
		return err
	}
	eventually(t, 30*time.Second, serves)

	// The operator runs what was applied: the database scaled by hand is drift, alerted and healed.
	dir := t.TempDir()
	write := func(content string) {
		if err := os.WriteFile(filepath.Join(dir, "all.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(manifest("1", succeeds))
	alerts := newReceiver(t)
	op := startOperatorOn(t, "unix://"+proxy.Socket, 19261, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h", "--alert-webhook", alerts.srv.URL)
	scale(t, "hk_db", 2)
	eventually(t, 30*time.Second, func() error {
		if d, _ := alerts.count("Drift", "service/hk_db"); d != 1 || replicas(t, "hk_db") != 1 {
			return fmt.Errorf("%d drift alerts, %d replicas", d, replicas(t, "hk_db"))
		}
		return nil
	})

	// The next version's migration fails: the operator holds the app back and alerts.
	write(manifest("2", fails))
	eventually(t, 30*time.Second, func() error {
		if n, _ := alerts.count("PassFailed", ""); n == 0 {
			return fmt.Errorf("no PassFailed alert")
		}
		return nil
	})
	op.stop(t)
	msg := alerts.message("PassFailed")
	if !strings.Contains(msg, "hook hk_migrate did not succeed, so hk_app kept as it was: failed: 0 of 1 tasks completed; task 0 failed: task: non-zero exit (1)") {
		t.Errorf("the alert: %s", msg)
	}
	app, _, err := docker.ServiceInspectWithRaw(context.Background(), "hk_app", swarm.ServiceInspectOptions{})
	if err != nil || !slices.Contains(app.Spec.TaskTemplate.ContainerSpec.Env, "VERSION=1") {
		t.Errorf("hk_app: %v, env %v, want VERSION=1 still", err, app.Spec.TaskTemplate.ContainerSpec.Env)
	}
	if err := serves(); err != nil {
		t.Errorf("the old version does not serve: %v", err)
	}
	listed = swarmgate(t, "get", "service", "migrate", "--instance", instance)
	if !strings.Contains(listed.stdout, "Degraded") || !strings.Contains(listed.stdout, "job failed: 0 of 1 tasks completed; task 0 failed: task: non-zero exit (1)") {
		t.Errorf("get service migrate:\n%s", listed.stdout)
	}
}
