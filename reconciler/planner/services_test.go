package planner

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"

	"github.com/swarmgate/swarmgate/reconciler/desired"
)

// stack is a shop's stack: a database and a worker no Route reaches, a migration job that must
// succeed before the app, and the app, routed, after the database.
const stack = `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  listeners: [{name: http, port: 8080}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: app}]}]
  services:
    - {name: app, image: shop:2, port: 8080, dependsOn: [db], networks: [shop_net]}
---
apiVersion: swarmgate.io/v1alpha1
kind: Service
metadata: {name: worker, namespace: shop}
spec: {image: shop:2, args: [worker], dependsOn: [db], networks: [shop_net]}
---
apiVersion: swarmgate.io/v1alpha1
kind: Service
metadata: {name: migrate, namespace: shop}
spec:
  image: shop:2
  args: [migrate]
  mode: ReplicatedJob
  restartPolicy: {condition: on-failure, maxAttempts: 2}
  hook: {before: [app, worker]}
  dependsOn: [db]
  networks: [shop_net]
---
apiVersion: swarmgate.io/v1alpha1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  image: postgres:16
  mounts: [{source: pgdata, target: /var/lib/postgresql/data}]
  healthcheck: {test: [CMD-SHELL, pg_isready], interval: 5s}
  networks: [shop_net]
`

// TestPlanServices: Services are created in the order of their dependsOn and hooks, owned by
// their Service; a second pass plans nothing; a change by hand is an update field by field;
// a job's change is one too; a Service no manifest wants is an orphan.
func TestPlanServices(t *testing.T) {
	want := build(t, stack)
	snap := applied(want)
	snap.Services = nil
	snap.Networks = append(snap.Networks, network.Summary{ID: "net-shop_net", Name: "shop_net", Driver: "overlay", Attachable: true})
	p, err := New(want, snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, a := range p.Actions {
		if a.Kind == KindService {
			order = append(order, a.Name+" ("+a.Owner+")")
		}
	}
	if got, exp := strings.Join(order, ", "), "shop_db (Service/db), shop_migrate (Service/migrate), shop_app (Route/app), shop_worker (Service/worker), shop_gw (Gateway/gw)"; got != exp {
		t.Errorf("order:\n got  %s\n want %s", got, exp)
	}
	for _, svc := range want.Services {
		switch svc.Name {
		case "shop_app", "shop_worker":
			if strings.Join(svc.Hooks, ",") != "shop_migrate" || strings.Join(svc.DependsOn, ",") != "shop_db" {
				t.Errorf("%s: hooks %v, dependsOn %v", svc.Name, svc.Hooks, svc.DependsOn)
			}
		case "shop_migrate":
			if r := svc.Spec.Mode.ReplicatedJob; r == nil || *r.TotalCompletions != 1 || svc.HookTimeout.String() != "2m0s" || svc.Spec.UpdateConfig != nil {
				t.Errorf("job: mode %+v, timeout %s", svc.Spec.Mode, svc.HookTimeout)
			}
		case "shop_db":
			if len(svc.Spec.TaskTemplate.Networks) != 1 || svc.Spec.TaskTemplate.Networks[0].Target != "shop_net" {
				t.Errorf("db joins %+v, want shop_net alone", svc.Spec.TaskTemplate.Networks)
			}
		}
	}

	snap = applied(want)
	snap.Networks = append(snap.Networks, network.Summary{ID: "net-shop_net", Name: "shop_net", Driver: "overlay", Attachable: true})
	if p, err := New(want, snap, Options{}); err != nil || !p.Empty() {
		t.Fatalf("second pass: %v\n%s", err, format(p))
	}

	for i := range snap.Services {
		switch snap.Services[i].Spec.Name {
		case "shop_db":
			c := *snap.Services[i].Spec.TaskTemplate.ContainerSpec
			c.Image = "postgres:15"
			snap.Services[i].Spec.TaskTemplate.ContainerSpec = &c
		case "shop_migrate":
			n := uint64(3)
			job := *snap.Services[i].Spec.Mode.ReplicatedJob
			job.TotalCompletions = &n
			snap.Services[i].Spec.Mode.ReplicatedJob = &job
		}
	}
	p, err = New(want, snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := format(p)
	for _, line := range []string{"update service/shop_db (Service/db)\n  image: \"postgres:15\" -> \"postgres:16\"",
		"update service/shop_migrate (Service/migrate)\n  replicas: \"3\" -> \"1\""} {
		if !strings.Contains(got, line) {
			t.Errorf("no %q in\n%s", line, got)
		}
	}

	// The worker's Service leaves the manifests: its service is an orphan, deleted with Prune.
	worker := "---\napiVersion: swarmgate.io/v1alpha1\nkind: Service\nmetadata: {name: worker, namespace: shop}\nspec: {image: shop:2, args: [worker], dependsOn: [db], networks: [shop_net]}\n"
	fewer := build(t, strings.NewReplacer(worker, "", "before: [app, worker]", "before: [app]").Replace(stack))
	snap = applied(want)
	snap.Networks = append(snap.Networks, network.Summary{ID: "net-shop_net", Name: "shop_net", Driver: "overlay", Attachable: true})
	services := func(p *Plan) string {
		var out []string
		for _, a := range slices.Concat(p.Actions, p.Orphans) {
			if a.Kind == KindService {
				out = append(out, a.String())
			}
		}
		return strings.Join(out, "; ")
	}
	p, err = New(fewer, snap, Options{})
	if err != nil || services(p) != "service/shop_worker deleted" || len(p.Orphans) != 2 {
		t.Errorf("without the worker: %v\n%s", err, format(p))
	}
	p, err = New(fewer, snap, Options{Prune: true})
	if err != nil || services(p) != "service/shop_worker deleted" || len(p.Orphans) != 0 {
		t.Errorf("without the worker, pruned: %v\n%s", err, format(p))
	}
}

func TestServiceOrder(t *testing.T) {
	svc := func(name, owner string, dependsOn, hooks []string) desired.Service {
		return desired.Service{Name: name, Owner: owner, DependsOn: dependsOn, Hooks: hooks}
	}
	tests := []struct {
		name     string
		services []desired.Service
		want     string
	}{
		{"by name, gateways last", []desired.Service{svc("gw", "Gateway/gw", nil, nil), svc("b", "Route/b", nil, nil), svc("a", "Service/a", nil, nil)}, "a b gw"},
		{"after what it depends on", []desired.Service{svc("app", "Route/app", []string{"db"}, nil), svc("db", "Service/db", []string{"cache"}, nil),
			svc("cache", "Service/cache", nil, nil)}, "cache db app"},
		{"after its hooks", []desired.Service{svc("app", "Route/app", nil, []string{"migrate"}), svc("migrate", "Service/migrate", nil, nil)}, "migrate app"},
		{"a dependency not declared here (an applied part) orders nothing", []desired.Service{svc("app", "Route/app", []string{"elsewhere"}, nil)}, "app"},
		{"a cycle (validation refuses it) still places every service", []desired.Service{svc("a", "Service/a", []string{"b"}, nil), svc("b", "Service/b", []string{"a"}, nil)}, "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range serviceOrder(tt.services) {
				got = append(got, s.Name)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("order %v, want %s", got, tt.want)
			}
		})
	}
}
