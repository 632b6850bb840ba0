package operator

import (
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/desired"
)

func TestWithAgents(t *testing.T) {
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "gw", Namespace: "edge"}}
	for _, tc := range []struct {
		name   string
		tasks  []AgentReport
		health v1alpha1.HealthStatus
		reason v1alpha1.ConditionReason
	}{
		{"every task serves the newest", []AgentReport{{Task: "t1", Served: "new"}, {Task: "t2", Served: "new"}}, v1alpha1.Healthy, v1alpha1.ReasonReady},
		{"one task behind", []AgentReport{{Task: "t1", Served: "new"}, {Task: "t2", Served: "old"}}, v1alpha1.Progressing, v1alpha1.ReasonConfigPending},
		{"one task refuses", []AgentReport{{Task: "t1", Served: "old", Rejected: "new", Error: "nginx: [emerg] ..."}, {Task: "t2", Served: "old"}},
			v1alpha1.Degraded, v1alpha1.ReasonConfigRejected},
		{"one task lacks the files the newest reads (being replaced)", []AgentReport{{Task: "t1", Served: "new"},
			{Task: "t2", Served: "old", Rejected: "new", Error: "not mounted in this task: /run/secrets/swarmgate-tls/shop.key", Unmounted: true}},
			v1alpha1.Progressing, v1alpha1.ReasonConfigPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			statuses := []reconciler.ObjectStatus{{Kind: v1alpha1.KindGateway, Name: "gw", Health: v1alpha1.Healthy, Reason: v1alpha1.ReasonReady,
				Conditions: []reconciler.Condition{{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionTrue}}}}
			got := withAgents(statuses, []v1alpha1.Object{gw}, map[string]GatewayConfigStatus{"edge_gw": {Desired: "new", Tasks: tc.tasks}})[0]
			if got.Health != tc.health || got.Reason != tc.reason {
				t.Errorf("got %s %s (%s), want %s %s", got.Health, got.Reason, got.Message, tc.health, tc.reason)
			}
			if ready := got.Condition(v1alpha1.ConditionReady); (ready.Status == v1alpha1.ConditionTrue) != (tc.health == v1alpha1.Healthy) {
				t.Errorf("Ready %s with health %s", ready.Status, got.Health)
			}
		})
	}
}

// TestAgentReportsExpire: a task that stopped polling (swarm replaced it) leaves the status, so
// its old config does not hold its gateway Progressing.
func TestAgentReportsExpire(t *testing.T) {
	h := newAgentHub()
	h.publish(map[string]desired.AgentConfig{"gw": {Config: []byte("server {}\n")}})
	h.reports["gw"] = map[string]AgentReport{
		"gw.1.old": {Task: "gw.1.old", Served: "old", Seen: time.Now().Add(-2 * reportTTL)},
		"gw.1.new": {Task: "gw.1.new", Served: "new", Seen: time.Now()},
	}
	if tasks := h.status()["gw"].Tasks; len(tasks) != 1 || tasks[0].Task != "gw.1.new" {
		t.Errorf("tasks %+v, want the live one only", tasks)
	}
}
