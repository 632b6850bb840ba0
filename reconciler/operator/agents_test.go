package operator

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/operator/lease"
	"github.com/swarmgate/swarmgate/reconciler/status"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// TestAgentReportsExpire: a task that stopped polling (swarm replaced it) leaves the status, so
// its old config does not hold its gateway Progressing.
func TestAgentReportsExpire(t *testing.T) {
	h := newAgentHub()
	h.publish(map[string]desired.AgentConfig{"gw": {Owner: "Gateway/gw", Config: []byte("server {}\n")}})
	h.reports["gw"] = map[string]status.AgentReport{
		"gw.1.old": {Task: "gw.1.old", Served: "old", Seen: time.Now().Add(-2 * reportTTL)},
		"gw.1.new": {Task: "gw.1.new", Served: "new", Seen: time.Now()},
	}
	if tasks := h.status()["gw"].Tasks; len(tasks) != 1 || tasks[0].Task != "gw.1.new" {
		t.Errorf("tasks %+v, want the live one only", tasks)
	}
}

// TestRefusalsForgotten: a refusal is remembered (alerted once) while its config is handed out,
// and forgotten once the gateway has another, so the memory stays the size of the gateways.
func TestRefusalsForgotten(t *testing.T) {
	h := newAgentHub()
	h.publish(map[string]desired.AgentConfig{"gw": {Owner: "Gateway/gw", Config: []byte("server {}\n")}})
	first := contract.Hash(h.configs["gw"])
	h.rejected["gw "+first] = true
	h.publish(map[string]desired.AgentConfig{"gw": {Owner: "Gateway/gw", Config: []byte("server {}\n")}})
	if !h.rejected["gw "+first] {
		t.Error("a refusal of the config still handed out was forgotten")
	}
	h.publish(map[string]desired.AgentConfig{"gw": {Owner: "Gateway/gw", Config: []byte("server { listen 81; }\n")}})
	if len(h.rejected) != 0 {
		t.Errorf("refusals of configs no longer handed out kept: %v", h.rejected)
	}
}

// leaseOf is a Leaser whose lease is writable or not.
type leaseOf bool

func (leaseOf) TryAcquire(context.Context) error { return nil }
func (leaseOf) Release(context.Context) error    { return nil }
func (leaseOf) Timing() lease.Timing             { return lease.DefaultTiming() }
func (l leaseOf) Writable() bool                 { return bool(l) }
func (leaseOf) Floor() uint64                    { return 0 }

// TestHandOutFenced: an operator hands agents a config only while its lease is writable, as its
// engine writes: one whose renewals fail (a raft election) must not feed the gateways a config a
// standby may contradict.
func TestHandOutFenced(t *testing.T) {
	configs := map[string]desired.AgentConfig{"gw": {Owner: "Gateway/gw", Config: []byte("server {}\n")}}
	for _, tt := range []struct {
		name  string
		lease Leaser
		want  int
	}{
		{"no lease", nil, 1},
		{"writable", leaseOf(true), 1},
		{"not writable", leaseOf(false), 0},
	} {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		c := New(&reconciler.Reconciler{}, nil, Options{Lease: tt.lease}, alert.NewDispatcher(log, nil, alert.FormatJSON), NewMetrics(), log)
		c.handOut(configs)
		if got := len(c.agents.configs); got != tt.want {
			t.Errorf("%s: %d configs handed out, want %d", tt.name, got, tt.want)
		}
	}
}

// TestStaleRead: a snapshot whose lease predates the operator's last renewal is refused.
func TestStaleRead(t *testing.T) {
	at := func(v uint64) *swarm.Config { return &swarm.Config{Meta: swarm.Meta{Version: swarm.Version{Index: v}}} }
	for _, tt := range []struct {
		name  string
		floor uint64
		lease *swarm.Config
		stale bool
	}{
		{"no lease held", 0, nil, false},
		{"as renewed", 41, at(41), false},
		{"renewed since", 41, at(57), false},
		{"older", 41, at(12), true},
		{"no lease shown", 41, nil, true},
	} {
		if err := staleRead(tt.floor, &swarmstate.Snapshot{Lease: tt.lease}); (err != nil) != tt.stale {
			t.Errorf("%s: %v, want stale %v", tt.name, err, tt.stale)
		}
	}
}
