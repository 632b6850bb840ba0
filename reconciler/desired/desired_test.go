package desired

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
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

func build(t *testing.T, yaml string, nodes ...Node) *State {
	t.Helper()
	return buildWith(t, yaml, Options{Instance: "i", Nodes: nodes})
}

// buildWith is build with what the manifests do not say.
func buildWith(t *testing.T, yaml string, opts Options) *State {
	t.Helper()
	objs, errs := manifest.Decode("test.yaml", []byte(yaml))
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatal(errs)
	}
	s, err := Build(objs, opts)
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
  listeners: [{name: http, port: 80, allowedRoutes: {namespaces: {from: All}}}]
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
		if !n.Encrypted || n.Labels[inventory.LabelOwner] != "Gateway/gw" {
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
	if h := byName["gw"].Spec.Labels[inventory.LabelSpecHash]; h == "" || h != SpecHash(byName["gw"].Spec) {
		t.Errorf("spec hash label %q is not the spec's hash", h)
	}
	if !strings.HasPrefix(s.Secrets[0].Name, "gw-conf-") || len(s.Secrets[0].Name) != len("gw-conf-")+10 {
		t.Errorf("config secret name %q", s.Secrets[0].Name)
	}
}

func TestBuildVirtualIP(t *testing.T) {
	s := build(t, `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 8080, publishMode: Host}]
---
apiVersion: swarmgate.io/v1alpha1
kind: VirtualIP
metadata: {name: public}
spec:
  address: 10.99.0.100/24
  virtualRouterID: 51
  nodes: [{hostname: node1, priority: 150}, {hostname: node2.example.com, priority: 120}, {hostname: gone, priority: 100}]
  trackGateway: {name: gw}
  image: swarmgate/keepalived:test
`, Node{Hostname: "node1", Addr: netip.MustParseAddr("10.99.0.1")}, Node{Hostname: "node2.example.com", Addr: netip.MustParseAddr("10.99.0.2")},
		Node{Hostname: "elsewhere", Addr: netip.MustParseAddr("10.99.0.3")})

	if !slices.Contains(s.Warnings, "VirtualIP public: node gone is not in the swarm; no keepalived runs there") {
		t.Errorf("no warning for the node the swarm lacks: %q", s.Warnings)
	}
	var services []string
	for _, svc := range s.Services {
		if svc.Owner == "VirtualIP/public" {
			services = append(services, svc.Name)
		}
	}
	if want := []string{"public-vrrp-node1", "public-vrrp-node2-example-com"}; !slices.Equal(services, want) {
		t.Fatalf("keepalived services %v, want %v", services, want)
	}
	svc := s.Services[slices.IndexFunc(s.Services, func(s Service) bool { return s.Name == "public-vrrp-node1" })]
	c := svc.Spec.TaskTemplate.ContainerSpec
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"placement", svc.Spec.TaskTemplate.Placement.Constraints, []string{"node.hostname==node1"}},
		{"network", svc.Spec.TaskTemplate.Networks[0].Target, HostNetwork},
		{"capabilities", c.CapabilityAdd, []string{"CAP_NET_ADMIN", "CAP_NET_BROADCAST", "CAP_NET_RAW"}},
		{"config", c.Secrets[0].File.Name, contract.KeepalivedConfigPath},
		{"args", c.Args, []string{"--node", "node1", "--address", "10.99.0.100/24", "--interface", "eth0", "--listen", ":9177",
			"--track-url", "http://10.99.0.1:8080/.well-known/swarmgate/health"}},
	} {
		if !reflect.DeepEqual(check.got, check.want) {
			t.Errorf("%s: %v, want %v", check.what, check.got, check.want)
		}
	}
	// Each node's config names its own unicast source and the other node as its peer.
	for _, sec := range s.Secrets {
		if sec.Node == "node1" && (!strings.Contains(string(sec.Data), "unicast_src_ip 10.99.0.1") || !strings.Contains(string(sec.Data), "10.99.0.2\n")) {
			t.Errorf("node1's config:\n%s", sec.Data)
		}
	}
	if len(s.VirtualIPs) != 1 || s.VirtualIPs[0].HealthPort != 8080 || len(s.VirtualIPs[0].Nodes) != 2 || !slices.Equal(s.VirtualIPs[0].Missing, []string{"gone"}) {
		t.Errorf("VirtualIPs: %+v", s.VirtualIPs)
	}
}

func TestSwarmName(t *testing.T) {
	long := strings.Repeat("a", 70)
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"public-vrrp-node1", "public-vrrp-node1"},
		{"public-vrrp-node_2.lan", "public-vrrp-node-2-lan"},
	} {
		if got := swarmName(tt.in, 63); got != tt.want {
			t.Errorf("swarmName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	a, b := swarmName(long+"1", 63), swarmName(long+"2", 63)
	if len(a) != 63 || a == b {
		t.Errorf("long names %q and %q: want 63 characters each, different", a, b)
	}
}

// TestBuildMissingBackendWithAgents: knowing the swarm's services, a gateway with agents renders a
// backend service that neither exists nor is declared as answering 500, and says so; one without
// agents keeps answering 503 from nginx (its config does not follow the services).
func TestBuildMissingBackendWithAgents(t *testing.T) {
	yaml := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: agents}
spec:
  agent: {operatorURL: "http://10.0.0.1:9090", tokenSecret: token}
  listeners: [{name: http, port: 80}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: plain}
spec:
  listeners: [{name: http, port: 81}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: a}
spec:
  parentRefs: [{name: agents}]
  hostnames: [a.test]
  rules: [{backendRefs: [{name: gone, port: 80}, {name: legacy, port: 80}, {name: own}]}]
  services: [{name: own, image: x, port: 8080}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: b}
spec:
  parentRefs: [{name: plain}]
  hostnames: [b.test]
  rules: [{backendRefs: [{name: gone, port: 80}]}]
`
	objs, errs := manifest.Decode("test.yaml", []byte(yaml))
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatal(errs)
	}
	s, err := Build(objs, Options{Instance: "i", Services: []string{"legacy"}})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(s.AgentConfigs["agents"].Config)
	if !strings.Contains(conf, `"legacy:80"`) || !strings.Contains(conf, `"own:8080"`) || strings.Contains(conf, "gone:80") {
		t.Errorf("the agents' config routes to gone, or not to legacy and own:\n%s", conf)
	}
	answers := map[string]MissingAnswer{}
	for _, b := range s.ExternalBackends {
		answers[b.Owner+" "+b.Service] = b.Answer
	}
	if answers["Route/a gone"] != AnswersError || answers["Route/b gone"] != AnswersUnavailable {
		t.Errorf("answers %v", answers)
	}
}

// TestBuildPools: knowing the running tasks, a gateway with agents pools each backend's
// connections to its tasks on the gateway's network, and its agents get a new config as tasks come
// and go, while its bootstrap secret, which would replace its tasks, stays; a gateway without
// agents resolves names.
func TestBuildPools(t *testing.T) {
	yaml := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: agents}
spec:
  agent: {operatorURL: "http://10.0.0.1:9090", tokenSecret: token}
  listeners: [{name: http, port: 80}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: plain}
spec:
  listeners: [{name: http, port: 81}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: a}
spec:
  parentRefs: [{name: agents}, {name: plain}]
  rules: [{backendRefs: [{name: api, port: 8080}]}]
`
	task := func(network, addr string) Task {
		return Task{Service: "api", Network: network, Addr: netip.MustParseAddr(addr)}
	}
	tests := []struct {
		name    string
		tasks   []Task
		servers []string // of the agents' config
	}{
		{"tasks not read", nil, nil},
		{"no task", []Task{}, []string{`server 127.0.0.1:1 down;`}},
		{"two tasks, one on another network", []Task{task(v1alpha1.DefaultNetworkName, "10.0.1.7"), task(v1alpha1.DefaultNetworkName, "10.0.1.5"), task("other", "10.9.0.1")},
			[]string{`server "10.0.1.5:8080" max_fails=0;`, `server "10.0.1.7:8080" max_fails=0;`}},
	}
	var secrets []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildWith(t, yaml, Options{Instance: "i", Services: []string{"api"}, Tasks: tt.tasks})
			conf := string(s.AgentConfigs["agents"].Config)
			var servers []string
			for _, line := range strings.Split(conf, "\n") {
				if strings.HasPrefix(line, "    server ") {
					servers = append(servers, strings.TrimSpace(line))
				}
			}
			if !slices.Equal(servers, tt.servers) {
				t.Errorf("agents' pool servers %q, want %q", servers, tt.servers)
			}
			for _, sec := range s.Secrets {
				if strings.HasPrefix(sec.Name, "agents-conf-") {
					secrets = append(secrets, sec.Name)
				}
				if strings.Contains(string(sec.Data), "\nupstream ") {
					t.Errorf("secret %s names tasks", sec.Name)
				}
			}
		})
	}
	if len(slices.Compact(secrets)) != 1 {
		t.Errorf("the bootstrap secret changed with the tasks: %v", secrets)
	}
}

// TestBuildTrafficMetrics: spec.agent.metrics has the gateway's configs, the agents' and the
// bootstrap secret, send each request's line to the agent's traffic socket, and tells the
// operator to keep the gateway's traffic, and deepens the socket's queue in its tasks; a gateway
// with agents and no switch does none of it.
func TestBuildTrafficMetrics(t *testing.T) {
	yaml := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: counted}
spec:
  agent: {operatorURL: "http://10.0.0.1:9090", tokenSecret: token, metrics: true}
  listeners: [{name: http, port: 80}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: quiet}
spec:
  agent: {operatorURL: "http://10.0.0.1:9090", tokenSecret: token}
  listeners: [{name: http, port: 81}]
`
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
	for gw, want := range map[string]bool{"counted": true, "quiet": false} {
		ac := s.AgentConfigs[gw]
		if ac.Metrics != want || strings.Contains(string(ac.Config), contract.TrafficSocket) != want {
			t.Errorf("%s: metrics %v, traffic socket in the agents' config %v; want %v", gw, ac.Metrics, !want, want)
		}
		boot := 0
		for _, sec := range s.Secrets {
			if strings.HasPrefix(sec.Name, gw+"-conf") {
				boot++
				if strings.Contains(string(sec.Data), contract.TrafficSocket) != want {
					t.Errorf("%s: the bootstrap config sends to the traffic socket: %v, want %v", gw, !want, want)
				}
			}
		}
		if boot != 1 {
			t.Errorf("%s: %d bootstrap configs", gw, boot)
		}
		for _, svc := range s.Services {
			if svc.Name == gw {
				if got := svc.Spec.TaskTemplate.ContainerSpec.Sysctls[contract.TrafficQueueSysctl]; (got != "") != want {
					t.Errorf("%s: the traffic socket's queue length is %q", gw, got)
				}
			}
		}
	}
}
