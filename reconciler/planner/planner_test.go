package planner

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/reconciler/acme"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

const manifests = `apiVersion: swarmgate.io/v1alpha1
kind: Zone
metadata: {name: dmz}
spec: {nodes: [node1]}
---
apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 8080}]
  restartPolicy: {condition: on-failure}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example.com]
  rules:
    - backendRefs: [{name: app}]
    - matches: [{path: {value: /legacy}}]
      backendRefs: [{name: legacy, port: 80}]
  services: [{name: app, image: bretfisher/httpenv, port: 8888, replicas: 2, zone: dmz, restartPolicy: {condition: any}}]
`

func build(t *testing.T, yaml string) *desired.State {
	t.Helper()
	return buildWith(t, yaml, desired.Options{Instance: "test"})
}

// buildWith is build with what the manifests do not say (issued and new certificates).
func buildWith(t *testing.T, yaml string, opts desired.Options) *desired.State {
	t.Helper()
	objs, errs := manifest.Decode("test.yaml", []byte(yaml))
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatal(errs)
	}
	d, err := desired.Build(objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// applied is the swarm as it is after d was applied, with what swarm rewrites: images pinned to a
// digest, networks referred to by ID, a restart policy's unset bound stored as 0.
func applied(d *desired.State) *swarmstate.Snapshot {
	s := &swarmstate.Snapshot{}
	for host, labels := range d.NodeLabels {
		l := map[string]string{"foreign": "x", inventory.LabelOwnedNodeLabels + ".test": strings.Join(slices.Sorted(maps.Keys(labels)), ",")}
		for k, v := range labels {
			l[k] = v
		}
		s.Nodes = append(s.Nodes, swarm.Node{ID: "id-" + host, Description: swarm.NodeDescription{Hostname: host}, Spec: swarm.NodeSpec{Annotations: swarm.Annotations{Labels: l}}})
	}
	s.Nodes = append(s.Nodes, swarm.Node{ID: "id-node9", Description: swarm.NodeDescription{Hostname: "node9"}})
	for _, n := range d.Networks {
		s.Networks = append(s.Networks, network.Summary{ID: "net-" + n.Name, Name: n.Name, Driver: "overlay", Attachable: true, Labels: n.Labels})
	}
	for _, sec := range d.Secrets {
		s.Secrets = append(s.Secrets, swarm.Secret{ID: "sec-" + sec.Name, Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: sec.Name, Labels: sec.Labels}}})
	}
	for _, svc := range d.Services {
		spec := svc.Spec
		spec.Labels = map[string]string{}
		for k, v := range svc.Spec.Labels {
			spec.Labels[k] = v
		}
		if r := spec.Mode.Replicated; r != nil {
			n := *r.Replicas
			spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
		}
		c := *spec.TaskTemplate.ContainerSpec
		c.Image += "@sha256:" + strings.Repeat("a", 64)
		spec.TaskTemplate.ContainerSpec = &c
		var nets []swarm.NetworkAttachmentConfig
		for _, n := range spec.TaskTemplate.Networks {
			nets = append(nets, swarm.NetworkAttachmentConfig{Target: "net-" + n.Target})
		}
		spec.TaskTemplate.Networks = nets
		if rp := spec.TaskTemplate.RestartPolicy; rp != nil && rp.MaxAttempts == nil {
			zero := uint64(0)
			r := *rp
			r.MaxAttempts = &zero
			spec.TaskTemplate.RestartPolicy = &r
		}
		s.Services = append(s.Services, swarm.Service{ID: "svc-" + svc.Name, Spec: spec})
	}
	for _, a := range d.Applied {
		s.Applied = append(s.Applied, swarm.Config{ID: "cfg-" + a.Name, Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: a.Name, Labels: a.Labels}, Data: a.Data}})
	}
	for _, c := range d.Configs {
		s.Certificates = append(s.Certificates, swarm.Config{ID: "cfg-" + c.Name, Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: c.Name, Labels: c.Labels}, Data: c.Data}})
	}
	for _, c := range d.SourceConfigs {
		s.SourceConfigs = append(s.SourceConfigs, swarm.Config{ID: "cfg-" + c.Name, Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: c.Name, Labels: c.Labels}}})
	}
	return s
}

// format prints a plan the way the tests compare it.
func format(p *Plan) string {
	var b strings.Builder
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "%s %s/%s (%s)\n", a.Op, a.Kind, a.Name, a.Owner)
		for _, c := range a.Changes {
			fmt.Fprintf(&b, "  %s: %q -> %q\n", c.Field, c.Old, c.New)
		}
	}
	for _, o := range p.Orphans {
		fmt.Fprintf(&b, "orphan %s/%s\n", o.Kind, o.Name)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "warning %s\n", w)
	}
	return b.String()
}

func TestPlan(t *testing.T) {
	want := build(t, manifests)
	secret := want.Secrets[0].Name
	tests := []struct {
		name   string
		snap   func() *swarmstate.Snapshot
		opts   Options
		expect string
	}{
		{"empty swarm: everything in order", func() *swarmstate.Snapshot {
			return &swarmstate.Snapshot{Nodes: []swarm.Node{{ID: "id-node1", Description: swarm.NodeDescription{Hostname: "node1"}}}}
		}, Options{}, `create config/sg-test-gateway-gw-3a8c1349ef (Gateway/gw)
create config/sg-test-route-app-b6842841f0 (Route/app)
create config/sg-test-zone-dmz-2e9e86ef0c (Zone/dmz)
update node/node1 (Zone/dmz)
  label.zone: "" -> "dmz"
  label.swarmgate.io/owned-labels.test: "" -> "zone"
create network/nginx_default (Gateway/gw)
create secret/` + secret + ` (Gateway/gw)
create service/app (Route/app)
create service/gw (Gateway/gw)
warning Route/app: backend service legacy does not exist (ResolvedRefs=False); its requests answer 503
`},
		{"applied: nothing to do, whatever swarm rewrote", func() *swarmstate.Snapshot { return applied(want) }, Options{},
			"warning Route/app: backend service legacy does not exist (ResolvedRefs=False); its requests answer 503\n"},
		{"scaled by hand", func() *swarmstate.Snapshot {
			s := applied(want)
			five := uint64(5)
			s.Services[0].Spec.Mode.Replicated.Replicas = &five
			s.Services[0].Version.Index = 42
			return s
		}, Options{}, "update service/app (Route/app)\n  replicas: \"5\" -> \"2\"\nwarning Route/app: backend service legacy does not exist (ResolvedRefs=False); its requests answer 503\n"},
		{"image changed and a label added by hand", func() *swarmstate.Snapshot {
			s := applied(want)
			c := *s.Services[0].Spec.TaskTemplate.ContainerSpec
			c.Image = "nginx:latest@sha256:" + strings.Repeat("b", 64)
			s.Services[0].Spec.TaskTemplate.ContainerSpec = &c
			s.Services[0].Spec.Labels["added.by"] = "hand"
			return s
		}, Options{}, "update service/app (Route/app)\n  image: \"nginx:latest\" -> \"bretfisher/httpenv:latest\"\nwarning Route/app: backend service legacy does not exist (ResolvedRefs=False); its requests answer 503\n"},
		{"existing backend on the gateway network", func() *swarmstate.Snapshot {
			s := applied(want)
			s.Services = append(s.Services, swarm.Service{ID: "svc-legacy", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "legacy"},
				TaskTemplate: swarm.TaskSpec{Networks: []swarm.NetworkAttachmentConfig{{Target: "net-nginx_default"}}}}})
			return s
		}, Options{}, ""},
		{"existing backend elsewhere", func() *swarmstate.Snapshot {
			s := applied(want)
			s.Services = append(s.Services, swarm.Service{ID: "svc-legacy", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "legacy"}}})
			return s
		}, Options{}, "warning Route/app: backend service legacy is not on network nginx_default of its gateway (ResolvedRefs=False); backendRefs[].attach: true would attach it\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(want, tt.snap(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := format(p); got != tt.expect {
				t.Errorf("plan:\n%s\nwant:\n%s", got, tt.expect)
			}
		})
	}
}

func TestPlanRotationPruneAndOwnership(t *testing.T) {
	old := build(t, manifests)
	changed := build(t, strings.Replace(manifests, "hostnames: [app.example.com]", "hostnames: [app.example.com, www.example.com]", 1))
	s := applied(old)
	p, err := New(changed, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := format(p)
	wantOrder := []string{"create secret/" + changed.Secrets[0].Name, "update service/gw", "delete secret/" + old.Secrets[0].Name}
	at := 0
	for _, w := range wantOrder {
		i := strings.Index(got[at:], w)
		if i < 0 {
			t.Fatalf("rotation plan lacks %q after position %d:\n%s", w, at, got)
		}
		at += i
	}
	first := p.Actions[slices.IndexFunc(p.Actions, func(a Action) bool { return a.Kind == KindSecret })]
	if !strings.Contains(got, "secrets: \""+old.Secrets[0].Name) || !strings.HasSuffix(first.String(), " rotated") {
		t.Errorf("rotation is not reported as such:\n%s\n%s", got, first)
	}

	// A route removed: its service is an orphan, deleted only with Prune.
	without := build(t, strings.Split(manifests, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route")[0])
	p, err = New(without, applied(old), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := format(p); !strings.Contains(got, "orphan service/app") || strings.Contains(got, "delete service/app") {
		t.Errorf("without prune:\n%s", got)
	}
	p, _ = New(without, applied(old), Options{Prune: true})
	if got := format(p); !strings.Contains(got, "delete service/app (Route/app)") {
		t.Errorf("with prune:\n%s", got)
	}

	// Foreign objects: a service with a wanted name, a node label with another value.
	s = applied(old)
	delete(s.Services[0].Spec.Labels, inventory.LabelInstance)
	s.Nodes[0].Spec.Labels = map[string]string{"zone": "manager"}
	_, err = New(old, s, Options{Prune: true})
	if err == nil || !strings.Contains(err.Error(), `service app exists and was not created by swarmgate instance "test"; rename the service in spec.services of Route app, or remove that service`) ||
		!strings.Contains(err.Error(), "node node1: label zone=manager was not set by swarmgate; refusing to change it to dmz") {
		t.Errorf("want both refusals, got %v", err)
	}

	// The same label value set by someone else is left alone and never taken over.
	s = applied(old)
	s.Nodes[0].Spec.Labels = map[string]string{"zone": "dmz"}
	p, err = New(old, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := format(p); strings.Contains(got, "node/") {
		t.Errorf("a label with the wanted value set by someone else was touched:\n%s", got)
	}

	// A zone removed: only the labels this instance set go.
	noZone := build(t, strings.Replace(strings.SplitN(manifests, "---\n", 2)[1], " zone: dmz,", "", 1))
	p, _ = New(noZone, applied(old), Options{})
	if got := format(p); !strings.Contains(got, "update node/node1 (Zone/dmz)\n  label.zone: \"dmz\" -> \"\"\n  label.swarmgate.io/owned-labels.test: \"zone\" -> \"\"") {
		t.Errorf("zone removal:\n%s", got)
	}
	// What the applier writes: the structured changes.
	owned := inventory.LabelOwnedNodeLabels + ".test"
	unlabeled := applied(old)
	unlabeled.Nodes[0].Spec.Labels = nil
	for _, tc := range []struct {
		name string
		from *swarmstate.Snapshot
		to   *desired.State
		want LabelChanges
	}{
		{"zone added", unlabeled, old, LabelChanges{Set: map[string]string{"zone": "dmz", owned: "zone"}}},
		{"zone removed", applied(old), noZone, LabelChanges{Set: map[string]string{}, Remove: []string{"zone", owned}}},
	} {
		p, err := New(tc.to, tc.from, Options{})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(p.Actions, func(a Action) bool { return a.Kind == KindNode })
		if i < 0 || p.Actions[i].Labels == nil || !reflect.DeepEqual(*p.Actions[i].Labels, tc.want) {
			t.Errorf("%s: the node update's labels are not %+v:\n%s", tc.name, tc.want, format(p))
		}
	}
}

// TestEnvValuesAreMasked: values that may be credentials (by name, or a URL with user info) are
// never shown; other values are configuration, shown as get -o yaml shows them.
func TestEnvValuesAreMasked(t *testing.T) {
	spec := func(env ...string) map[string]string {
		return Project(swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Env: env}}}, nil)
	}
	changes := Diff(spec("PASSWORD=hunter2", "A=1", "NEW_API_TOKEN=x7", "DB=postgres://u:hunter3@db", "LOG=debug"),
		spec("A=1", "PASSWORD=changed", "OLD_SECRET=y9", "DB=postgres://db", "LOG=info"))
	want := []Change{
		{Field: "env.DB", Old: "postgres://db", New: "(another value)"},
		{Field: "env.LOG", Old: "info", New: "debug"},
		{Field: "env.NEW_API_TOKEN", New: "(a value)"},
		{Field: "env.PASSWORD", Old: "(a value)", New: "(another value)"},
		{Field: "env.OLD_SECRET", Old: "(a value)"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes %+v, want %+v", changes, want)
	}
	// No hash either: a short value could be guessed back from one.
	for _, c := range changes {
		if strings.ContainsAny(c.Old+c.New, "0123456789") || strings.Contains(c.Old+c.New, "hunter") {
			t.Errorf("an env value leaks into the diff: %+v", c)
		}
	}
}

// TestKeepAgentConfigs: for a gateway with agents, the operator (KeepAgentConfigs) leaves the
// service on the config secret it mounts, making and deleting no secret; the CLI rotates as for
// any gateway, except for the gateways it leaves as applied (Unchanged). The agents' token is the
// user's secret: a missing one fails the plan.
func TestKeepAgentConfigs(t *testing.T) {
	gateway := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 8080}]
  agent: {operatorURL: "http://10.0.0.1:9090", tokenSecret: agent-token}
`
	route := func(host string) string {
		return "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [" + host +
			"]\n  rules: [{backendRefs: [{name: app, port: 80}]}]\n"
	}
	old := applied(build(t, gateway+route("a.example")))
	old.UserSecrets = []swarm.Secret{{ID: "user-token", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "agent-token"}}}}
	changed := build(t, gateway+route("b.example"))

	p, err := New(changed, old, Options{KeepAgentConfigs: true})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(p.Actions, func(a Action) bool { return a.Kind != KindConfig }) {
		t.Errorf("the operator's plan for a route change of a gateway with agents writes more than the store:\n%s", format(p))
	}
	p, err = New(changed, old, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := format(p); !strings.Contains(got, "create secret/gw-conf-") || !strings.Contains(got, "update service/gw") {
		t.Errorf("the CLI's plan does not rotate the config:\n%s", got)
	}
	p, err = New(changed, old, Options{Unchanged: []string{"Gateway/gw"}})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(p.Actions, func(a Action) bool { return a.Kind != KindConfig }) {
		t.Errorf("the CLI's plan for a gateway whose config it leaves as applied writes more than the store:\n%s", format(p))
	}
	old.UserSecrets = nil
	if _, err := New(changed, old, Options{KeepAgentConfigs: true}); err == nil || !strings.Contains(err.Error(), "secret agent-token does not exist") {
		t.Errorf("a missing token secret: %v", err)
	}
}

// TestRenewalThroughAgents: for a gateway with agents, a certificate renewed with the key its
// tasks mount is stored and handed to the agents, the service left as it is (the mounted chain,
// its bootstrap, kept); the CLI moves the service to it. A renewal with a new key moves the
// service (the tasks need the key) to the new chain too, and the old chain and key go after.
func TestRenewalThroughAgents(t *testing.T) {
	const gateway = `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  agent: {operatorURL: "http://10.0.0.1:9090", tokenSecret: agent-token}
  listeners:
    - {name: http, port: 80}
    - name: shop
      port: 443
      protocol: HTTPS
      hostname: shop.example.com
      tls: {acme: {email: ops@example.com}}
`
	cert := func(chain, key, keySecret string) acme.Certificate {
		c := acme.Certificate{Owner: "Gateway/gw", Gateway: "gw", Listener: "shop", Chain: []byte(chain), KeySecret: keySecret,
			NotBefore: time.Now(), NotAfter: time.Now().Add(90 * 24 * time.Hour), Names: []string{"shop.example.com"}}
		if key != "" {
			c.Key, c.CSR = []byte(key), []byte("csr of "+key)
		}
		return c
	}
	build := func(issued map[string]acme.IssuedCertificate, c acme.Certificate) *desired.State {
		return buildWith(t, gateway, desired.Options{Instance: "test", Issued: issued, Certificates: []acme.Certificate{c}})
	}
	first := build(nil, cert("chain 1", "key 1", ""))
	old := applied(first)
	old.UserSecrets = []swarm.Secret{{ID: "user-token", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "agent-token"}}}}
	chain1, key1 := first.Configs[0].Name, ""
	for _, sec := range first.Secrets {
		if sec.Labels[inventory.LabelRole] == inventory.RoleCertificateKey {
			key1 = sec.Name
		}
	}
	if key1 == "" || first.AgentConfigs["gw"].Chains["shop.crt"] == nil {
		t.Fatalf("no key secret, or no chain for the agents: %+v", first)
	}
	issued := map[string]acme.IssuedCertificate{"gw/shop": {Name: chain1, KeySecret: key1, Chain: []byte("chain 1")}}

	renewed := build(issued, cert("chain 2", "", key1))
	if got := string(renewed.AgentConfigs["gw"].Chains["shop.crt"]); got != "chain 2" {
		t.Errorf("the agents are handed %q, want the renewed chain", got)
	}
	p, err := New(renewed, old, Options{KeepAgentConfigs: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := format(p); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "create certificate/gw-shop-tls-") {
		t.Errorf("the operator's plan for a renewal with the same key does more than store the chain:\n%s", got)
	}
	p, err = New(renewed, old, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := format(p); !strings.Contains(got, "update service/gw") || !strings.Contains(got, "delete certificate/"+chain1) || strings.Contains(got, "secret/gw-shop") {
		t.Errorf("the CLI's plan does not move the gateway to the renewed chain, keeping the key:\n%s", got)
	}

	rekeyed := build(issued, cert("chain 3", "key 3", ""))
	p, err = New(rekeyed, old, Options{KeepAgentConfigs: true})
	if err != nil {
		t.Fatal(err)
	}
	got := format(p)
	for _, want := range []string{"create secret/gw-shop-tlskey-", "create certificate/gw-shop-tls-", "update service/gw", "delete certificate/" + chain1, "delete secret/" + key1} {
		if !strings.Contains(got, want) {
			t.Errorf("a renewal with a new key: no %q in\n%s", want, got)
		}
	}
	for _, a := range p.Actions {
		if a.Kind == KindService {
			for _, ref := range a.Service.Spec.TaskTemplate.ContainerSpec.Configs {
				if ref.ConfigName == chain1 {
					t.Errorf("the gateway moved to the new key keeps the old chain %s", chain1)
				}
			}
		}
	}
}

// TestPlanStore: the store of applied objects is written first, an object's older version and a
// deleted object's entry are removed last, and an unchanged object is not written again.
func TestPlanStore(t *testing.T) {
	old := build(t, manifests)
	s := applied(old)
	if p, err := New(old, s, Options{}); err != nil || !p.Empty() {
		t.Fatalf("unchanged: %v\n%v", err, p)
	}

	// The Route deleted: its service, and then its entry, go; the gateway's config is rendered
	// without it; the zone and gateway entries stay.
	without := build(t, strings.Split(manifests, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route")[0])
	p, err := New(without, s, Options{Delete: []string{"Route/app"}})
	if err != nil {
		t.Fatal(err)
	}
	got := format(p)
	var ops []string
	for _, a := range p.Actions {
		ops = append(ops, fmt.Sprintf("%s %s %s", a.Op, a.Kind, a.Owner))
	}
	want := []string{"create secret Gateway/gw", "update service Gateway/gw", "delete service Route/app", "delete secret Gateway/gw", "delete config Route/app"}
	if !slices.Equal(ops, want) {
		t.Errorf("delete Route/app:\n%s\nwant the operations %q", got, want)
	}

	// A pass stopped between storing a new version and removing the old: the old is removed.
	s.Applied = append(s.Applied, swarm.Config{ID: "cfg-stale", Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "sg-test-route-app-0000000000",
		Labels: map[string]string{inventory.LabelOwner: "Route/app"}}}})
	p, err = New(old, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := format(p); !strings.HasPrefix(got, "delete config/sg-test-route-app-0000000000 (Route/app)\nwarning") {
		t.Errorf("a stale entry:\n%s", got)
	}
}

// TestPlanInvalidBackendKind: a backendRef of a kind swarmgate does not know is reported
// (ResolvedRefs False, InvalidKind), never looked up as a service.
func TestPlanInvalidBackendKind(t *testing.T) {
	want := build(t, strings.Replace(manifests, "backendRefs: [{name: legacy, port: 80}]", "backendRefs: [{group: storage.example.com, kind: Bucket, name: legacy}]", 1))
	p, err := New(want, applied(want), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, expect := format(p), "warning Route/app: backend storage.example.com/Bucket legacy is not a swarm service (ResolvedRefs=False, InvalidKind); its requests answer 500\n"; got != expect {
		t.Errorf("plan:\n%s\nwant:\n%s", got, expect)
	}
	if len(p.Unresolved) != 1 || p.Unresolved[0].Reason != v1alpha1.ReasonInvalidKind || p.Unresolved[0].Owner != "Route/app" {
		t.Errorf("unresolved %+v", p.Unresolved)
	}
}

// TestPlanServiceRuntime: a Route service's command, hostname, mounts, health check, placement,
// extra networks and stop settings reach its spec, compare as applied (no change on a second
// pass), show by name when changed by hand, and a network that does not exist stops the pass
// before any write.
func TestPlanServiceRuntime(t *testing.T) {
	want := build(t, `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 8080}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example.com]
  rules: [{backendRefs: [{name: app}]}]
  services:
    - name: app
      image: bretfisher/httpenv
      port: 8888
      command: [/bin/httpenv]
      hostname: "{{.Node.Hostname}}-app"
      mounts:
        - {source: app-data, target: /data}
        - {type: bind, source: /etc/localtime, target: /etc/localtime, readOnly: true}
        - {type: tmpfs, target: /tmp, size: 64Mi}
      healthcheck: {test: [CMD, /bin/httpenv, -check], interval: 5s, timeout: 2s, retries: 3, startPeriod: 10s}
      placement:
        constraints: ["node.role!=manager"]
        preferences: [{spread: node.labels.rack}]
        maxReplicasPerNode: 1
      networks: [legacy_net]
      stopSignal: SIGINT
      stopGracePeriod: 30s
`)
	var svc *desired.Service
	for i := range want.Services {
		if want.Services[i].Name == "app" {
			svc = &want.Services[i]
		}
	}
	c := svc.Spec.TaskTemplate.ContainerSpec
	if c.Hostname != "{{.Node.Hostname}}-app" || len(c.Mounts) != 3 || c.Mounts[2].TmpfsOptions.SizeBytes != 64<<20 || c.Healthcheck.Retries != 3 ||
		c.StopSignal != "SIGINT" || *c.StopGracePeriod != 30*time.Second || svc.Spec.TaskTemplate.Placement.MaxReplicas != 1 {
		t.Errorf("spec %+v", svc.Spec.TaskTemplate)
	}
	snap := applied(want)
	snap.Networks = append(snap.Networks, network.Summary{ID: "net-legacy_net", Name: "legacy_net", Driver: "overlay"})
	p, err := New(want, snap, Options{})
	if err != nil || len(p.Actions) != 0 {
		t.Fatalf("second pass: %v\n%s", err, format(p))
	}
	for i := range snap.Services {
		if snap.Services[i].Spec.Name == "app" {
			c := *snap.Services[i].Spec.TaskTemplate.ContainerSpec
			c.Mounts = c.Mounts[:2]
			c.Healthcheck = nil
			snap.Services[i].Spec.TaskTemplate.ContainerSpec = &c
		}
	}
	p, err = New(want, snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := format(p)
	for _, field := range []string{"mounts:", "healthcheck.test:", "healthcheck.retries:"} {
		if !strings.Contains(got, field) {
			t.Errorf("a change by hand: no %s in\n%s", field, got)
		}
	}
	if _, err := New(want, applied(want), Options{}); err == nil || !strings.Contains(err.Error(), "Route/app: network legacy_net does not exist") {
		t.Errorf("missing network: %v", err)
	}
}

// TestPlanAttach: a backendRef with attach: true has an existing service that is on no network of
// its gateway attached to the first one (the one write to a foreign object); one already there is
// left alone, and without attach it is only reported.
func TestPlanAttach(t *testing.T) {
	want := build(t, strings.Replace(manifests, "backendRefs: [{name: legacy, port: 80}]", "backendRefs: [{name: legacy, port: 80, attach: true}]", 1))
	foreign := swarm.Service{ID: "svc-legacy", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "legacy"}}}
	s := applied(want)
	s.Services = append(s.Services, foreign)
	p, err := New(want, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := format(p); got != "update attachment/legacy (Route/app)\n  networks: \"\" -> \"+nginx_default\"\n" {
		t.Errorf("plan:\n%s", got)
	}
	if len(p.Actions) != 1 || p.Actions[0].ID != "svc-legacy" || p.Actions[0].String() != "service/legacy attached to network nginx_default (not swarmgate's: backendRefs[].attach)" {
		t.Errorf("actions %+v", p.Actions)
	}
	s = applied(want)
	foreign.Spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "net-nginx_default"}}
	s.Services = append(s.Services, foreign)
	if p, err := New(want, s, Options{}); err != nil || !p.Empty() {
		t.Errorf("attached already: %v\n%s", err, format(p))
	}
}

// TestPlanKeepsNetworkAForeignServiceUses: an owned network no manifest wants is deleted, unless
// a service swarmgate does not own uses it (removing it would need changing that service).
func TestPlanKeepsNetworkAForeignServiceUses(t *testing.T) {
	want := build(t, manifests)
	s := applied(want)
	s.Networks = append(s.Networks, network.Summary{ID: "net-old", Name: "old", Driver: "overlay", Attachable: true,
		Labels: map[string]string{inventory.LabelManagedBy: inventory.ManagedByValue, inventory.LabelInstance: "test", inventory.LabelOwner: "Gateway/gone"}})
	p, err := New(want, s, Options{Prune: true})
	if err != nil || !strings.Contains(format(p), "delete network/old") {
		t.Fatalf("an unused owned network: %v\n%s", err, format(p))
	}
	s.Services = append(s.Services, swarm.Service{ID: "svc-theirs", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "theirs"},
		TaskTemplate: swarm.TaskSpec{Networks: []swarm.NetworkAttachmentConfig{{Target: "net-old"}}}}})
	p, err = New(want, s, Options{Prune: true})
	if err != nil || strings.Contains(format(p), "delete network/old") || !strings.Contains(format(p), "network old is no longer wanted but service theirs") || !strings.Contains(format(p), "docker service update --network-rm old theirs && docker network rm old") {
		t.Errorf("a network a foreign service uses: %v\n%s", err, format(p))
	}
}

// TestMissingMirror: a service a Route only mirrors to that does not exist is reported as not
// mirrored to, not as answering for requests; one it also sends requests to answers as a backend.
func TestMissingMirror(t *testing.T) {
	d := build(t, `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 8080}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: r}
spec:
  parentRefs: [{name: gw}]
  hostnames: [r.example]
  rules:
    - backendRefs: [{name: live, port: 80}]
      filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 80}}}]
    - matches: [{path: {value: /both}}]
      backendRefs: [{name: both, port: 80}]
      filters: [{type: RequestMirror, requestMirror: {backendRef: {name: both, port: 80}}}]
`)
	p, err := New(d, &swarmstate.Snapshot{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := format(p)
	for _, want := range []string{
		"warning Route/r: backend service shadow does not exist (ResolvedRefs=False); nothing is mirrored to it\n",
		"warning Route/r: backend service live does not exist (ResolvedRefs=False); its requests answer 503\n",
		"warning Route/r: backend service both does not exist (ResolvedRefs=False); its requests answer 503\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
}

// TestMountsReadAsPlaces: a mount reads "NAME at PATH", so that in a diff "->" only ever means
// "changed to".
func TestMountsReadAsPlaces(t *testing.T) {
	spec := func(secret string) map[string]string {
		return Project(swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Secrets: []*swarm.SecretReference{
			{SecretName: secret, File: &swarm.SecretReferenceFileTarget{Name: "/etc/nginx/nginx.conf", UID: "0", GID: "0", Mode: 0o444}}}}}}, nil)
	}
	changes := Diff(spec("gw-conf-new"), spec("gw-conf-old"))
	if len(changes) != 1 || changes[0].Old != "gw-conf-old at /etc/nginx/nginx.conf uid=0 gid=0 mode=444" ||
		strings.Contains(changes[0].Old+changes[0].New, "->") {
		t.Errorf("changes %+v", changes)
	}
}
