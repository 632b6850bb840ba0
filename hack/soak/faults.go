package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// faultClass is one kind of fault the schedule draws from.
type faultClass string

const (
	operatorKilled  faultClass = "operator SIGKILL"
	gatewayKilled   faultClass = "gateway task killed"
	keepalivedDied  faultClass = "keepalived killed on holder"
	engineRestarted faultClass = "dockerd stopped+started"
	leaderRestarted faultClass = "raft leader's dockerd restarted"
	linkCut         faultClass = "link cut+restored"
	engineSlowed    faultClass = "engine API slowed"
)

var faultClasses = []faultClass{operatorKilled, gatewayKilled, keepalivedDied, engineRestarted, leaderRestarted, linkCut, engineSlowed}

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

// schedule draws the faults from a seed. Classes come as from a shuffled deck, every class once
// before any comes again, so that a short run draws each of them (a uniform draw left one class
// out of a 10-minute run).
type schedule struct {
	rng  *rand.Rand
	deck []faultClass
}

// draw picks the next fault. Every node of the bed is a manager, so the faults that take a node
// away (its engine, its link) hit any of them; the raft leader's is found when it is injected.
func (s *schedule) draw() fault {
	if len(s.deck) == 0 {
		s.deck = slices.Clone(faultClasses)
		s.rng.Shuffle(len(s.deck), func(i, j int) { s.deck[i], s.deck[j] = s.deck[j], s.deck[i] })
	}
	f := fault{Class: s.deck[0]}
	s.deck = s.deck[1:]
	switch f.Class {
	case operatorKilled:
		f.Hold = 5 * time.Second // the deploy stack's restart delay
	case gatewayKilled:
		f.Node = 1 + s.rng.IntN(3)
	case engineRestarted, linkCut:
		f.Node = 1 + s.rng.IntN(3)
		f.Hold = time.Duration(4+s.rng.IntN(7)) * time.Second
	case leaderRestarted:
		f.Hold = time.Duration(1+s.rng.IntN(3)) * time.Second
	case engineSlowed:
		f.Hold = time.Duration(6+s.rng.IntN(7)) * time.Second
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

// manager returns a node whose engine answers as a manager of a swarm that has a leader: after a
// manager's fault, the one that had it may still be finding its way back into the raft.
func (b *bed) manager(ctx context.Context) (*client.Client, error) {
	var errs []error
	for n := 1; n <= len(b.nodes); n++ {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := b.node(n).NodeList(ctx, swarm.NodeListOptions{})
		cancel()
		if err == nil {
			return b.node(n), nil
		}
		errs = append(errs, fmt.Errorf("node%d: %w", n, err))
	}
	return nil, fmt.Errorf("no manager answers: %w", errors.Join(errs...))
}

// leader returns the node that leads the raft of the managers.
func (b *bed) leader(ctx context.Context) (int, error) {
	m, err := b.manager(ctx)
	if err != nil {
		return 0, err
	}
	nodes, err := m.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return 0, fmt.Errorf("listing the nodes: %w", err)
	}
	for _, n := range nodes {
		var node int
		if n.ManagerStatus != nil && n.ManagerStatus.Leader {
			if _, err := fmt.Sscanf(n.Description.Hostname, "node%d", &node); err != nil {
				return 0, fmt.Errorf("the leader's hostname %q: %w", n.Description.Hostname, err)
			}
			return node, nil
		}
	}
	return 0, errors.New("no manager leads")
}

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
	case leaderRestarted:
		leader, err := s.bed.leader(ctx)
		if err != nil {
			return nil, err
		}
		f.Node = leader
		return func() error { return s.bed.run("start-engine", fmt.Sprint(f.Node)) }, s.bed.run("stop-engine", fmt.Sprint(f.Node))
	case engineRestarted:
		return func() error { return s.bed.run("start-engine", fmt.Sprint(f.Node)) }, s.bed.run("stop-engine", fmt.Sprint(f.Node))
	case linkCut:
		return func() error { return s.bed.run("link-up", fmt.Sprint(f.Node)) }, s.bed.run("link-down", fmt.Sprint(f.Node))
	case engineSlowed:
		s.ops.slowAPI(slowAPIDelay)
		return func() error { s.ops.slowAPI(0); return nil }, nil
	}
	return nil, fmt.Errorf("unknown fault %q", f.Class)
}
