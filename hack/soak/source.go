package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// The instance the soak runs on the bed, and what it is made of.
const (
	instance    = "soak"
	gatewayName = "soak-gw"
	vipAddress  = "10.99.0.100"
	// stableHost is the route the load goes to: it is never changed.
	stableHost = "stable.soak"
	// agentToken is the name of the agents' token secret the soak creates on the bed.
	agentToken = "soak-agent-token"
)

// backends are the echo services the routes send to.
var backends = []string{"soak-a", "soak-b"}

// baseManifests is everything but the churning routes: a gateway with agents on every node,
// the floating address over the three nodes, two backends and the route the load uses. The load's
// backend keeps its two replicas on two nodes: with both on the node a fault takes away, the
// route has no backend (HTTP 503) until swarm reschedules them, which is no failure of swarmgate.
func baseManifests(operatorURL string) string {
	return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: %[1]s}
spec:
  image: swarmgate/gateway:test
  mode: Global
  listeners: [{name: http, port: 8080, publishMode: Host}]
  network: {name: soak_net}
  agent: {operatorURL: %[2]q, tokenSecret: %[3]s}
  restartPolicy: {condition: any, delay: 1s}
---
apiVersion: swarmgate.io/v1alpha1
kind: VirtualIP
metadata: {name: public}
spec:
  address: %[4]s/24
  interface: eth0
  virtualRouterID: 54
  version: 3
  advertInterval: 100ms
  nodes: [{hostname: node1, priority: 150}, {hostname: node2, priority: 120}, {hostname: node3, priority: 100}]
  trackGateway: {name: %[1]s, listener: http}
  image: swarmgate/keepalived:test
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: stable}
spec:
  parentRefs: [{name: %[1]s}]
  hostnames: [%[5]s]
  rules: [{backendRefs: [{name: soak-a, port: 8888}]}]
  services:
    - {name: soak-a, image: swarmgate/echo:test, port: 8888, replicas: 2, placement: {maxReplicasPerNode: 1}, endpointMode: dnsrr, env: [{name: SERVICE, value: soak-a}], restartPolicy: {condition: any, delay: 1s}}
    - {name: soak-b, image: swarmgate/echo:test, port: 8888, replicas: 1, endpointMode: dnsrr, env: [{name: SERVICE, value: soak-b}], restartPolicy: {condition: any, delay: 1s}}
`, gatewayName, operatorURL, agentToken, vipAddress, stableHost)
}

// churnRoute is one of the routes the soak adds, changes and removes.
type churnRoute struct {
	id      int
	path    int
	backend string
}

func (r churnRoute) file() string { return fmt.Sprintf("churn-%d.yaml", r.id) }

func (r churnRoute) manifest() string {
	return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: churn-%[1]d}
spec:
  parentRefs: [{name: %[2]s}]
  hostnames: [r%[1]d.churn.soak]
  rules: [{matches: [{path: {type: PathPrefix, value: /v%[3]d}}], backendRefs: [{name: %[4]s, port: 8888}]}]
`, r.id, gatewayName, r.path, r.backend)
}

// source is the operators' dir: source, changed by the soak as a user would.
type source struct {
	dir    string
	rng    *rand.Rand
	routes []churnRoute
	nextID int
	// changes counts the changes written.
	changes int
}

func newSource(dir, operatorURL string, rng *rand.Rand) (*source, error) {
	s := &source{dir: dir, rng: rng}
	return s, s.write("base.yaml", baseManifests(operatorURL))
}

// write replaces a file at once (a rename), so that an operator never reads half of it.
func (s *source) write(name, content string) error {
	tmp := filepath.Join(s.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return os.Rename(tmp, filepath.Join(s.dir, name))
}

// change adds, changes or removes one churning route (between 2 and 6 of them), and says what.
func (s *source) change() (string, error) {
	s.changes++
	op := s.rng.IntN(3)
	switch {
	case len(s.routes) < 2:
		op = 0
	case len(s.routes) >= 6:
		op = 2
	}
	switch op {
	case 0:
		r := churnRoute{id: s.nextID, path: s.rng.IntN(100), backend: backends[s.rng.IntN(len(backends))]}
		s.nextID++
		s.routes = append(s.routes, r)
		return "add churn-" + fmt.Sprint(r.id), s.write(r.file(), r.manifest())
	case 1:
		i := s.rng.IntN(len(s.routes))
		s.routes[i].path = s.rng.IntN(100)
		s.routes[i].backend = backends[s.rng.IntN(len(backends))]
		return "change churn-" + fmt.Sprint(s.routes[i].id), s.write(s.routes[i].file(), s.routes[i].manifest())
	default:
		i := s.rng.IntN(len(s.routes))
		r := s.routes[i]
		s.routes = slices.Delete(s.routes, i, i+1)
		if err := os.Remove(filepath.Join(s.dir, r.file())); err != nil {
			return "", fmt.Errorf("removing %s: %w", r.file(), err)
		}
		return "remove churn-" + fmt.Sprint(r.id), nil
	}
}
