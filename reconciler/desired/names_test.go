package desired

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

// What swarm accepts (its own checks): names of services and networks, and of secrets and configs.
var (
	swarmServiceName = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$`)
	swarmSecretName  = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$`)
)

// TestNamesAtTheirLimits: objects whose names validation takes at their longest give swarm
// objects whose names swarm takes: whatever validates can be written. Each name one longer is
// refused by validation, naming the field.
func TestNamesAtTheirLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	ns := "ns"
	// The longest each name may be: a gateway's name with its namespace (a swarm service), a
	// route's (its own network under PerRoute isolation), a network, a route's service with its
	// namespace, a virtual IP's name and node hostname (one service and one config per node), a
	// listener's name.
	gatewayName := long(v1alpha1.MaxServiceNameLength - len(ns) - 1)
	routeName := "r" + long(62) // a route's own name is no swarm name: with its namespace, longer than one
	network := long(v1alpha1.MaxNetworkNameLength)
	serviceName := "s" + long(v1alpha1.MaxServiceNameLength-len(ns)-2)
	vipName := "v" + long(v1alpha1.MaxServiceNameLength-2)
	node := "n" + long(62)
	listener := "l" + long(62)
	manifests := func(gw, rt, svc, net string) string {
		return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: %[1]s, namespace: %[5]s}
spec:
  listeners:
  - {name: %[6]s, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  network: {name: %[4]s, isolation: PerRoute}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: %[2]s, namespace: %[5]s}
spec:
  parentRefs: [{name: %[1]s, namespace: %[5]s}]
  hostnames: [app.example.com]
  rules: [{backendRefs: [{name: %[3]s}]}]
  services: [{name: %[3]s, image: swarmgate/echo:test, port: 8080}]
---
apiVersion: swarmgate.io/v1alpha1
kind: VirtualIP
metadata: {name: %[7]s}
spec:
  address: 10.0.0.100/24
  virtualRouterID: 51
  nodes: [{hostname: %[8]s, priority: 150}]
  trackGateway: {name: %[1]s, listener: %[6]s}
  image: swarmgate/keepalived:test
`, gw, rt, svc, net, ns, listener, vipName, node)
	}
	objs, errs := manifest.Decode("limits.yaml", []byte(manifests(gatewayName, routeName, serviceName, network)))
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatalf("the longest names do not validate: %v", errs)
	}
	s, err := Build(objs, Options{Instance: long(63), Nodes: []Node{{Hostname: node, Addr: netip.MustParseAddr("10.0.0.1")}}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(kind, name string, max int, pattern *regexp.Regexp) {
		if len(name) > max || !pattern.MatchString(name) {
			t.Errorf("%s name %q (%d characters) is not one swarm takes (at most %d)", kind, name, len(name), max)
		}
	}
	for _, n := range s.Networks {
		check("network", n.Name, v1alpha1.MaxNetworkNameLength, swarmServiceName)
	}
	for _, svc := range s.Services {
		check("service", svc.Name, v1alpha1.MaxServiceNameLength, swarmServiceName)
	}
	for _, sec := range s.Secrets {
		check("secret", sec.Name, v1alpha1.MaxSecretNameLength, swarmSecretName)
	}
	for _, c := range s.Configs {
		check("config", c.Name, v1alpha1.MaxSecretNameLength, swarmSecretName)
	}
	for _, a := range s.Applied {
		check("config", a.Name, v1alpha1.MaxSecretNameLength, swarmSecretName)
	}
	if len(s.Networks) < 1 || len(s.Services) < 3 || len(s.Secrets) < 2 {
		t.Errorf("the state lacks objects: %d networks, %d services, %d secrets", len(s.Networks), len(s.Services), len(s.Secrets))
	}

	// One character more, and validation refuses, naming the field.
	for _, tt := range []struct {
		name, yaml, field string
	}{
		{"gateway", manifests(gatewayName+"a", routeName, serviceName, network), "metadata.name"},
		{"service", manifests(gatewayName, routeName, serviceName+"a", network), "spec.services[0].name"},
		{"network", manifests(gatewayName, routeName, serviceName, network+"a"), "spec.network.name"},
	} {
		objs, errs := manifest.Decode("limits.yaml", []byte(tt.yaml))
		for _, o := range objs {
			o.Default()
		}
		errs = validation.ValidateSnapshot(objs, errs)
		if len(errs) == 0 || !strings.Contains(errs.Error(), tt.field) {
			t.Errorf("%s one character too long: %v, want an error at %s", tt.name, errs, tt.field)
		}
	}
}
