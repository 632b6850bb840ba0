package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// kubectlRoute is a Route of the kubectl test's gateway with a service of its own.
func kubectlRoute(name string, hosts ...string) string {
	return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: %[1]s}
spec:
  parentRefs: [{name: kc-gw}]
  hostnames: [%[2]s]
  rules: [{backendRefs: [{name: %[1]s}]}]
  services: [{name: %[1]s, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: %[1]s}]}]
`, name, strings.Join(hosts, ", "))
}

// TestKubectlSemantics: the swarm keeps the applied objects, so applying one file never unroutes
// the others, get and delete work without files, and status keeps sync apart from health.
func TestKubectlSemantics(t *testing.T) {
	const instance, port = "e2e-kc", 18191
	cleanup(t, instance)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gateway := write("gateway.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: kc-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_kc}
`, port))
	r1 := write("r1.yaml", kubectlRoute("kc-one", "one.kc.test"))
	write("r2.yaml", kubectlRoute("kc-two", "two.kc.test"))
	mustSucceed(t, "apply", "-f", dir, "--instance", instance, "--wait", "--timeout", "90s")
	bothAnswer := func(t *testing.T) {
		t.Helper()
		eventually(t, 60*time.Second, func() error { return tasksSeen(port, "one.kc.test", "kc-one", 1) })
		eventually(t, 60*time.Second, func() error { return tasksSeen(port, "two.kc.test", "kc-two", 1) })
	}
	bothAnswer(t)

	t.Run("applying only the gateway's file keeps every route", func(t *testing.T) {
		r := mustSucceed(t, "apply", "-f", gateway, "--instance", instance)
		if strings.TrimSpace(r.stdout) != "no changes" {
			t.Errorf("apply of the gateway file alone:\n%s", r.stdout)
		}
		bothAnswer(t)
	})

	t.Run("applying one route's file leaves the other routed", func(t *testing.T) {
		write("r1.yaml", kubectlRoute("kc-one", "one.kc.test", "uno.kc.test"))
		mustSucceed(t, "apply", "-f", r1, "--instance", instance, "--wait", "--timeout", "90s")
		eventually(t, 60*time.Second, func() error { return tasksSeen(port, "uno.kc.test", "kc-one", 1) })
		bothAnswer(t)
	})

	// From here on there are no manifest files: get and delete read the swarm's store.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}

	t.Run("get without files", func(t *testing.T) {
		g := mustSucceed(t, "get", "--instance", instance)
		for _, want := range []string{"Gateway  kc-gw", "Route    kc-one", "Route    kc-two", "Synced", "Healthy"} {
			if !strings.Contains(g.stdout, want) {
				t.Errorf("get lacks %q:\n%s", want, g.stdout)
			}
		}
		n := mustSucceed(t, "get", "routes", "-o", "name", "--instance", instance)
		if n.stdout != "route.swarmgate.io/kc-one\nroute.swarmgate.io/kc-two\n" {
			t.Errorf("get routes -o name:\n%s", n.stdout)
		}
		jp := mustSucceed(t, "get", "route", "kc-one", "-o", "jsonpath={.spec.hostnames[1]} {.status.sync} {.status.health}", "--instance", instance)
		if strings.TrimSpace(jp.stdout) != "uno.kc.test Synced Healthy" {
			t.Errorf("get -o jsonpath: %q", jp.stdout)
		}
		y := mustSucceed(t, "get", "route/kc-two", "-o", "json", "--instance", instance)
		var obj struct {
			APIVersion string         `json:"apiVersion"`
			Kind       string         `json:"kind"`
			Metadata   map[string]any `json:"metadata"`
			Spec       map[string]any `json:"spec"`
			Status     map[string]any `json:"status"`
		}
		if err := json.Unmarshal([]byte(y.stdout), &obj); err != nil || obj.APIVersion != "swarmgate.io/v1alpha1" || obj.Kind != "Route" ||
			obj.Metadata["name"] != "kc-two" || obj.Spec["hostnames"] == nil || obj.Status["health"] != "Healthy" {
			t.Errorf("get route/kc-two -o json: %v\n%s", err, y.stdout)
		}
		if r := swarmgate(t, "get", "route", "kc-nothing", "--instance", instance); r.code != 1 || !strings.Contains(r.stderr, "Route/kc-nothing is not applied") {
			t.Errorf("get of an object never applied: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("scaled by hand: OutOfSync but Healthy", func(t *testing.T) {
		ctx := context.Background()
		svc, _, err := docker.ServiceInspectWithRaw(ctx, "kc-two", swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		two := uint64(2)
		spec := svc.Spec
		spec.Mode.Replicated.Replicas = &two
		if _, err := docker.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, func() error {
			g := mustSucceed(t, "get", "route", "kc-two", "-o", "jsonpath={.status.sync} {.status.health} {.status.drift[0]}", "--instance", instance)
			if got := strings.TrimSpace(g.stdout); got != "OutOfSync Healthy service/kc-two replicas" {
				return fmt.Errorf("get: %q", got)
			}
			return nil
		})
	})

	t.Run("delete a route by name", func(t *testing.T) {
		r := mustSucceed(t, "delete", "route", "kc-one", "--instance", instance)
		if !strings.Contains(r.stdout, "service/kc-one deleted") || !strings.Contains(r.stdout, " rotated") {
			t.Errorf("delete route kc-one:\n%s", r.stdout)
		}
		if got := applied(t, instance); !slices.Equal(got, []string{"Gateway/kc-gw", "Route/kc-two"}) {
			t.Errorf("applied after the delete: %v", got)
		}
		eventually(t, 60*time.Second, func() error {
			if code, _, err := get(port, "one.kc.test", "/"); err != nil || code != 404 {
				return fmt.Errorf("the deleted route's host: %d %v, want 404", code, err)
			}
			return nil
		})
		eventually(t, 60*time.Second, func() error { return tasksSeen(port, "two.kc.test", "kc-two", 2) })
		if r := swarmgate(t, "delete", "route", "kc-one", "--instance", instance); r.code != 1 || !strings.Contains(r.stderr, "Route/kc-one: not applied") {
			t.Errorf("a second delete: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("a gateway is not deleted while routes attach to it", func(t *testing.T) {
		r := swarmgate(t, "delete", "gateway", "kc-gw", "--instance", instance)
		if r.code != 1 || !strings.Contains(r.stderr, "Route kc-two: spec.parentRefs[0].name: needs Gateway kc-gw, which is being deleted") {
			t.Errorf("delete gateway with a route attached: exit %d\n%s", r.code, r.stderr)
		}
		mustSucceed(t, "delete", "route/kc-two", "gateway/kc-gw", "--instance", instance)
		if got := applied(t, instance); len(got) != 0 {
			t.Errorf("applied after deleting everything: %v", got)
		}
	})
}
