package operator

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/operator/lease"
	"github.com/swarmgate/swarmgate/reconciler/status"
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
