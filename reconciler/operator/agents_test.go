package operator

import (
	"testing"
	"time"

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
