package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// faultClass is one kind of fault the schedule draws from.
type faultClass string

const (
	operatorKilled  faultClass = "operator SIGKILL"
	gatewayKilled   faultClass = "gateway task killed"
	keepalivedDied  faultClass = "keepalived killed on holder"
	engineRestarted faultClass = "dockerd stopped+started"
	linkCut         faultClass = "link cut+restored"
	engineSlowed    faultClass = "engine API slowed"
)

var faultClasses = []faultClass{operatorKilled, gatewayKilled, keepalivedDied, engineRestarted, linkCut, engineSlowed}

// slowAPIDelay is how long the slowed engine API holds each of the operators' requests: a pass
// of some dozens of requests takes seconds, and a lease renewal (a read and an update) a fifth of
// the renewal period.
const slowAPIDelay = 200 * time.Millisecond

// fault is one drawn from the schedule: what, where, and how long it lasts before it is healed.
type fault struct {
	Class faultClass    `json:"class"`
	Node  int           `json:"node,omitempty"`
	Hold  time.Duration `json:"hold"`
}

// draw picks the next fault. The bed has one manager (node1), so the faults that take a node away
// (its engine, its link) hit the workers only: the manager's are the swarm API itself.
func draw(rng *rand.Rand) fault {
	f := fault{Class: faultClasses[rng.IntN(len(faultClasses))]}
	switch f.Class {
	case operatorKilled:
		f.Hold = 5 * time.Second // the deploy stack's restart delay
	case gatewayKilled:
		f.Node = 1 + rng.IntN(3)
	case engineRestarted, linkCut:
		f.Node = 2 + rng.IntN(2)
		f.Hold = time.Duration(4+rng.IntN(7)) * time.Second
	case engineSlowed:
		f.Hold = time.Duration(6+rng.IntN(7)) * time.Second
	}
	return f
}

func (f fault) String() string {
	if f.Node != 0 {
		return fmt.Sprintf("%s on node%d", f.Class, f.Node)
	}
	return string(f.Class)
}

// bed drives the 3-node test bed.
type bed struct {
	script string
	nodes  [3]*client.Client
}

func (b *bed) run(args ...string) error {
	if out, err := exec.Command(b.script, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %w: %s", b.script, args, err, out)
	}
	return nil
}

func (b *bed) node(n int) *client.Client { return b.nodes[n-1] }

// killService kills the running container of a service on node n.
func (b *bed) killService(ctx context.Context, n int, service string) error {
	cs, err := b.node(n).ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+service), filters.Arg("status", "running"))})
	if err != nil {
		return fmt.Errorf("node%d: listing the containers of %s: %w", n, service, err)
	}
	if len(cs) == 0 {
		return fmt.Errorf("node%d runs no container of %s", n, service)
	}
	return b.node(n).ContainerKill(ctx, cs[0].ID, "KILL")
}

// inject causes the fault and returns what heals it (after its hold).
func (s *soak) inject(ctx context.Context, f *fault) (heal func() error, err error) {
	none := func() error { return nil }
	switch f.Class {
	case operatorKilled:
		slot := s.ops.active()
		if slot < 0 {
			return nil, fmt.Errorf("no operator is active to kill")
		}
		if err := s.ops.kill(slot); err != nil {
			return nil, err
		}
		return func() error { return s.ops.start(slot) }, nil
	case gatewayKilled:
		return none, s.bed.killService(ctx, f.Node, gatewayName)
	case keepalivedDied:
		holder, err := s.vipHolder()
		if err != nil {
			return nil, err
		}
		f.Node = holder
		return none, s.bed.killService(ctx, holder, fmt.Sprintf("public-vrrp-node%d", holder))
	case engineRestarted:
		return func() error { return s.bed.run("start-engine", fmt.Sprint(f.Node)) }, s.bed.run("stop-engine", fmt.Sprint(f.Node))
	case linkCut:
		return func() error { return s.bed.run("link-up", fmt.Sprint(f.Node)) }, s.bed.run("link-down", fmt.Sprint(f.Node))
	case engineSlowed:
		s.slow.setDelay(slowAPIDelay)
		return func() error { s.slow.setDelay(0); return nil }, nil
	}
	return nil, fmt.Errorf("unknown fault %q", f.Class)
}
