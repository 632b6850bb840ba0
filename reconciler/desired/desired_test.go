package desired

import (
	"slices"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

func TestConversions(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"nginx", "nginx:latest"}, {"nginx:stable", "nginx:stable"}, {"registry:5000/a/b", "registry:5000/a/b:latest"},
		{"registry:5000/a/b:1", "registry:5000/a/b:1"}, {"a@sha256:" + strings.Repeat("0", 64), "a@sha256:" + strings.Repeat("0", 64)},
	} {
		if got := CanonicalImage(tt.in); got != tt.want {
			t.Errorf("CanonicalImage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for in, want := range map[string]int64{"": 0, "1": 1e9, "0.5": 5e8, "2.25": 2.25e9, "0.000000001": 1} {
		if got := nanoCPUs(in); got != want {
			t.Errorf("nanoCPUs(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]int64{"512": 512, "1k": 1024, "256m": 256 << 20, "1Gi": 1 << 30, "2GB": 2 << 30, "1t": 1 << 40} {
		if got := memoryBytes(in); got != want {
			t.Errorf("memoryBytes(%q) = %d, want %d", in, got, want)
		}
	}
}

func build(t *testing.T, yaml string) *State {
	t.Helper()
	objs, errs := manifest.Decode("test.yaml", []byte(yaml))
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatal(errs)
	}
	s, err := Build(objs, Options{Instance: "i"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildPerRouteIsolation(t *testing.T) {
	s := build(t, `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 80}]
  network: {name: edge, isolation: PerRoute, encrypted: true}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: a, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.test]
  rules: [{backendRefs: [{name: web}, {name: ext, port: 80}]}]
  services: [{name: web, image: x, port: 8080}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: b}
spec:
  parentRefs: [{name: gw}]
  hostnames: [b.test]
  rules: [{backendRefs: [{name: web, namespace: shop, port: 8080}]}]
`)
	var nets []string
	for _, n := range s.Networks {
		nets = append(nets, n.Name)
		if !n.Encrypted || n.Labels[v1alpha1.LabelOwner] != "Gateway/gw" {
			t.Errorf("network %+v", n)
		}
	}
	if !slices.Equal(nets, []string{"edge_b", "edge_shop_a"}) {
		t.Errorf("networks %v", nets)
	}
	byName := map[string]Service{}
	for _, svc := range s.Services {
		byName[svc.Name] = svc
	}
	if got := byName["shop_web"].Spec.TaskTemplate.Networks; len(got) != 1 || got[0].Target != "edge_shop_a" {
		t.Errorf("shop_web networks %+v", got)
	}
	if got := byName["gw"].Spec.TaskTemplate.Networks; len(got) != 2 {
		t.Errorf("gateway networks %+v", got)
	}
	// shop_web is declared by route a, so only ext is external.
	if len(s.ExternalBackends) != 1 || s.ExternalBackends[0].Service != "ext" || !slices.Equal(s.ExternalBackends[0].Networks, []string{"edge_shop_a"}) {
		t.Errorf("external backends %+v", s.ExternalBackends)
	}
	if h := byName["gw"].Spec.Labels[v1alpha1.LabelSpecHash]; h == "" || h != SpecHash(byName["gw"].Spec) {
		t.Errorf("spec hash label %q is not the spec's hash", h)
	}
	if !strings.HasPrefix(s.Secrets[0].Name, "gw-conf-") || len(s.Secrets[0].Name) != len("gw-conf-")+10 {
		t.Errorf("config secret name %q", s.Secrets[0].Name)
	}
}
