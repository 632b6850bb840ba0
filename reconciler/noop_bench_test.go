package reconciler

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

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/applier"
	"github.com/swarmgate/swarmgate/reconciler/planner"
)

// memoryEngine is a swarm in memory that a pass reads: lists answer through JSON, as the Docker
// client's do, so their decoding is measured too. Writing is not supported.
type memoryEngine struct {
	applier.Writer
	nodes    []swarm.Node
	networks []network.Summary
	secrets  []swarm.Secret
	configs  []swarm.Config
	services []swarm.Service
}

func viaJSON[T any](v T) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	return out, json.Unmarshal(b, &out)
}

func (m *memoryEngine) NodeList(context.Context, swarm.NodeListOptions) ([]swarm.Node, error) {
	return viaJSON(m.nodes)
}

func (m *memoryEngine) NetworkList(context.Context, network.ListOptions) ([]network.Summary, error) {
	return viaJSON(m.networks)
}

func (m *memoryEngine) SecretList(context.Context, swarm.SecretListOptions) ([]swarm.Secret, error) {
	return viaJSON(m.secrets)
}

func (m *memoryEngine) ConfigList(context.Context, swarm.ConfigListOptions) ([]swarm.Config, error) {
	return viaJSON(m.configs)
}

func (m *memoryEngine) ServiceList(context.Context, swarm.ServiceListOptions) ([]swarm.Service, error) {
	return viaJSON(m.services)
}

func (m *memoryEngine) NetworkInspect(_ context.Context, name string, _ network.InspectOptions) (network.Inspect, error) {
	if name != "host" {
		return network.Inspect{}, fmt.Errorf("network %s: only the host network is inspected", name)
	}
	return network.Inspect{ID: "host-id", Name: "host", Driver: "host", Scope: "swarm"}, nil
}

func (m *memoryEngine) TaskList(context.Context, swarm.TaskListOptions) ([]swarm.Task, error) {
	return nil, nil
}

// converge writes what a plan does, as the applier would have: creates, service updates, and
// deletes of secrets, configs and services.
func (m *memoryEngine) converge(p *planner.Plan) error {
	now := time.Now()
	for i, a := range p.Actions {
		id := fmt.Sprintf("id%d-%d", now.UnixNano(), i)
		switch {
		case a.Op == planner.Delete && a.Kind == planner.KindSecret:
			m.secrets = slices.DeleteFunc(m.secrets, func(s swarm.Secret) bool { return s.ID == a.ID })
			continue
		case a.Op == planner.Delete && a.Kind == planner.KindConfig:
			m.configs = slices.DeleteFunc(m.configs, func(c swarm.Config) bool { return c.ID == a.ID })
			continue
		case a.Op == planner.Delete && a.Kind == planner.KindService:
			m.services = slices.DeleteFunc(m.services, func(s swarm.Service) bool { return s.ID == a.ID })
			continue
		case a.Op == planner.Update && a.Kind == planner.KindService:
			at := slices.IndexFunc(m.services, func(s swarm.Service) bool { return s.ID == a.ID })
			if at < 0 {
				return fmt.Errorf("%s: no such service", a)
			}
			m.services[at].Spec = a.Service.Spec
			continue
		case a.Op != planner.Create:
			return fmt.Errorf("%s: not supported in memory", a)
		}
		switch a.Kind {
		case planner.KindNetwork:
			m.networks = append(m.networks, network.Summary{ID: id, Name: a.Network.Name, Labels: a.Network.Labels, Driver: "overlay", Attachable: true})
		case planner.KindSecret:
			m.secrets = append(m.secrets, swarm.Secret{ID: id, Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: a.Secret.Name, Labels: a.Secret.Labels}}})
		case planner.KindConfig:
			m.configs = append(m.configs, swarm.Config{ID: id, Meta: swarm.Meta{CreatedAt: now},
				Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: a.Applied.Name, Labels: a.Applied.Labels}, Data: a.Applied.Data}})
		case planner.KindService:
			m.services = append(m.services, swarm.Service{ID: id, Spec: a.Service.Spec})
		default:
			return fmt.Errorf("%s: not supported in memory", a)
		}
	}
	return nil
}

// benchManifest is hack/bench-engine's: a gateway and n Routes, each with its service.
func benchManifest(n int) string {
	var s strings.Builder
	s.WriteString("apiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: bench-gw}\nspec:\n  image: swarmgate/nginx:test\n  replicas: 0\n" +
		"  listeners: [{name: http, port: 18190, publishMode: Host}]\n  network: {name: bench_net}\n")
	for i := range n {
		fmt.Fprintf(&s, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: bench-%d}\nspec:\n  parentRefs: [{name: bench-gw}]\n"+
			"  hostnames: [r%d.bench.test]\n  rules: [{backendRefs: [{name: bench-%d}]}]\n"+
			"  services: [{name: bench-%d, image: swarmgate/echo:test, port: 8888, replicas: 0}]\n", i, i, i, i)
	}
	return s.String()
}

// BenchmarkNoopApply is what `swarmgate apply` of 1,000 Routes does in its process when nothing
// changed: load the manifests, read the swarm (decoding its answers), and plan nothing.
func BenchmarkNoopApply(b *testing.B) {
	file := filepath.Join(b.TempDir(), "bench.yaml")
	if err := os.WriteFile(file, []byte(benchManifest(1000)), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	engine := &memoryEngine{nodes: []swarm.Node{{ID: "n1", Description: swarm.NodeDescription{Hostname: "n1"}}}}
	r := &Reconciler{Engine: engine, Instance: "bench"}
	objs, err := LoadPart([]string{file}, nil)
	if err != nil {
		b.Fatal(err)
	}
	first, err := r.Plan(ctx, Input{Objects: objs}, planner.Options{}, false)
	if err != nil {
		b.Fatal(err)
	}
	if err := engine.converge(first.Plan); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		objs, err := LoadPart([]string{file}, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := r.Plan(ctx, Input{Objects: objs}, planner.Options{}, false)
		if err != nil {
			b.Fatal(err)
		}
		if !p.Plan.Empty() {
			b.Fatalf("a no-op apply plans %d actions, first %s", len(p.Plan.Actions), p.Plan.Actions[0])
		}
	}
}
