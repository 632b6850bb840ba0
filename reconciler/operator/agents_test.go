package operator

import (
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
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
