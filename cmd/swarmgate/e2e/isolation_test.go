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

// TestPerRouteIsolation: with PerRoute isolation each Route gets a network of its own that only the
// gateway also joins, so backends of different routes share no network, yet both are served.
// An external backend that does not exist is reported, answers 503, and does not stop the others.
func TestPerRouteIsolation(t *testing.T) {
	const instance, port = "e2e-iso", 18185
	cleanup(t, instance)
	manifests := writeManifests(t, "iso.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: iso-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_iso, isolation: PerRoute}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: iso-a}
spec:
  parentRefs: [{name: iso-gw}]
  hostnames: [a.iso.test]
  rules:
    - backendRefs: [{name: iso-a}]
    - matches: [{path: {value: /missing}}]
      backendRefs: [{name: iso-nowhere, port: 80}]
  services: [{name: iso-a, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: iso-a}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: iso-b}
spec:
  parentRefs: [{name: iso-gw}]
  hostnames: [b.iso.test]
  rules: [{backendRefs: [{name: iso-b}]}]
  services: [{name: iso-b, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: iso-b}]}]
`, port))
	flags := []string{"-f", manifests, "--instance", instance}
	// A missing backend is Synced but Degraded: apply --wait fails, naming it, on every run.
	for range 2 {
		r := swarmgate(t, append([]string{"apply", "--wait", "--timeout", "90s"}, flags...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "Route/iso-a: backend service iso-nowhere does not exist (ResolvedRefs=False)") ||
			!strings.Contains(r.stderr, "Route/iso-a is Degraded (BackendNotFound): unresolved backends: iso-nowhere") {
			t.Errorf("apply --wait with a missing backend: exit %d\n%s", r.code, r.stderr)
		}
	}
	g := mustSucceed(t, "get", "route", "iso-a", "-o", "json", "--instance", instance)
	if !strings.Contains(g.stdout, `"reason": "BackendNotFound"`) || !strings.Contains(g.stdout, "unresolved backends: iso-nowhere") ||
		!strings.Contains(g.stdout, `"sync": "Synced"`) || !strings.Contains(g.stdout, `"health": "Degraded"`) {
		t.Errorf("get does not report the unresolved backend:\n%s", g.stdout)
	}

	ctx := context.Background()
	networksOf := func(name string) []string {
		svc, _, err := docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range svc.Spec.TaskTemplate.Networks {
			info, err := docker.NetworkInspect(ctx, n.Target, networkInspectOptions())
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, info.Name)
		}
		slices.Sort(names)
		return names
	}
	if got := networksOf("iso-a"); !slices.Equal(got, []string{"e2e_iso_iso-a"}) {
		t.Errorf("iso-a is on %v, want only its own network", got)
	}
	if got := networksOf("iso-b"); !slices.Equal(got, []string{"e2e_iso_iso-b"}) {
		t.Errorf("iso-b is on %v, want only its own network", got)
	}
	if got := networksOf("iso-gw"); !slices.Equal(got, []string{"e2e_iso_iso-a", "e2e_iso_iso-b"}) {
		t.Errorf("the gateway is on %v, want both route networks", got)
	}
	start := time.Now()
	eventually(t, 60*time.Second, func() error { return tasksSeen(port, "a.iso.test", "iso-a", 1) })
	eventually(t, 60*time.Second, func() error { return tasksSeen(port, "b.iso.test", "iso-b", 1) })
	t.Logf("both routes answered %s after apply", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if code, _, err := get(port, "a.iso.test", "/missing"); err != nil || code != 503 {
		t.Errorf("request for the missing backend: %d %v, want 503", code, err)
	}
	t.Logf("the missing backend answered 503 in %s", time.Since(start).Round(time.Millisecond))
	mustSucceed(t, append([]string{"delete"}, flags...)...)
}
