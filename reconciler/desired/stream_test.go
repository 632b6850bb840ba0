package desired

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

// TestBuildStreamGateway: a gateway with stream listeners only publishes a TCP and a UDP port of
// one number apart, a TLS port as TCP; a VirtualIP tracking it checks its first TCP listener by
// connecting; a stream route's backends are external services on the gateway's network.
func TestBuildStreamGateway(t *testing.T) {
	s := build(t, `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: l4}
spec:
  agent: {operatorURL: "http://10.0.0.1:9090", tokenSecret: agent-token}
  listeners:
    - {name: dns-tcp, port: 53, protocol: TCP, publishMode: Host}
    - {name: dns, port: 53, protocol: UDP, publishMode: Host}
    - {name: tls, port: 443, protocol: TLS, publishMode: Host, tls: {mode: Passthrough}}
---
apiVersion: swarmgate.io/v1alpha1
kind: VirtualIP
metadata: {name: public}
spec:
  address: 10.99.0.100/24
  virtualRouterID: 51
  nodes: [{hostname: node1, priority: 150}]
  trackGateway: {name: l4}
  image: swarmgate/keepalived:test
---
apiVersion: swarmgate.io/v1alpha1
kind: TCPRoute
metadata: {name: dns}
spec:
  parentRefs: [{name: l4}]
  rules: [{backendRefs: [{name: knot, port: 53}]}]
`, Node{Hostname: "node1", Addr: netip.MustParseAddr("10.99.0.1")})
	var ports []string
	var args []string
	for _, svc := range s.Services {
		switch svc.Name {
		case "l4":
			for _, p := range svc.Spec.EndpointSpec.Ports {
				ports = append(ports, fmt.Sprintf("%s/%d", p.Protocol, p.PublishedPort))
			}
		case "public-vrrp-node1":
			args = svc.Spec.TaskTemplate.ContainerSpec.Args
		}
	}
	if want := []string{string(swarm.PortConfigProtocolTCP) + "/53", string(swarm.PortConfigProtocolUDP) + "/53", "tcp/443"}; !slices.Equal(ports, want) {
		t.Errorf("published ports %v, want %v", ports, want)
	}
	if i := slices.Index(args, "--track-url"); i < 0 || args[i+1] != "tcp://10.99.0.1:53" {
		t.Errorf("VRRP agent args %v, want --track-url tcp://10.99.0.1:53", args)
	}
	want := []ExternalBackend{{Owner: "TCPRoute/dns", Service: "knot", Networks: []string{"nginx_default"}, Answer: AnswersRefused}}
	if !reflect.DeepEqual(s.ExternalBackends, want) {
		t.Errorf("external backends %+v, want %+v", s.ExternalBackends, want)
	}
}
