package status

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// TestJudgeWithAgents: what a gateway's agents report is folded into its health where every
// other health is judged, so get, /status and the alerts cannot disagree.
func TestJudgeWithAgents(t *testing.T) {
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "gw", Namespace: "edge"}}
	one := uint64(1)
	snap := &swarmstate.Snapshot{
		Services: []swarm.Service{{ID: "s1", Spec: swarm.ServiceSpec{
			Annotations: swarm.Annotations{Name: "edge_gw", Labels: map[string]string{inventory.LabelOwner: "Gateway/gw", inventory.LabelManagedBy: inventory.ManagedByValue}},
			Mode:        swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}}}}},
		Tasks: []swarm.Task{{ServiceID: "s1", Slot: 1, DesiredState: swarm.TaskStateRunning,
			Status: swarm.TaskStatus{State: swarm.TaskStateRunning, Timestamp: time.Now()}}},
	}
	for _, tc := range []struct {
		name   string
		agents map[string]GatewayAgents
		health v1alpha1.HealthStatus
		reason v1alpha1.ConditionReason
	}{
		{"no operator", nil, v1alpha1.Healthy, v1alpha1.ReasonReady},
		{"every task serves the newest", agents(AgentReport{Task: "t1", Served: "new"}, AgentReport{Task: "t2", Served: "new"}), v1alpha1.Healthy, v1alpha1.ReasonReady},
		{"one task behind", agents(AgentReport{Task: "t1", Served: "new"}, AgentReport{Task: "t2", Served: "old"}), v1alpha1.Progressing, v1alpha1.ReasonConfigPending},
		{"one task refuses", agents(AgentReport{Task: "t1", Served: "old", Rejected: "new", Error: "nginx: [emerg] ..."}, AgentReport{Task: "t2", Served: "old"}),
			v1alpha1.Degraded, v1alpha1.ReasonConfigRejected},
		{"one task lacks the files the newest reads (being replaced)", agents(AgentReport{Task: "t1", Served: "new"},
			AgentReport{Task: "t2", Served: "old", Rejected: "new", Error: "not mounted in this task: /run/secrets/swarmgate-tls/shop.key", Unmounted: true}),
			v1alpha1.Progressing, v1alpha1.ReasonConfigPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Judge(Input{Objects: []v1alpha1.Object{gw}, Plan: &planner.Plan{}, Snapshot: snap, Agents: tc.agents})[0]
			if got.Health != tc.health || got.Reason != tc.reason {
				t.Errorf("got %s %s (%s), want %s %s", got.Health, got.Reason, got.Message, tc.health, tc.reason)
			}
			if ready := got.Condition(v1alpha1.ConditionReady); ready == nil || (ready.Status == v1alpha1.ConditionTrue) != (tc.health == v1alpha1.Healthy) {
				t.Errorf("Ready %+v with health %s", ready, got.Health)
			}
		})
	}
}

func agents(tasks ...AgentReport) map[string]GatewayAgents {
	return map[string]GatewayAgents{"edge_gw": {Desired: "new", Tasks: tasks}}
}

func TestTaskState(t *testing.T) {
	g := GatewayAgents{Desired: "c2"}
	for _, tt := range []struct {
		task AgentReport
		want string
	}{
		{AgentReport{Served: "c2"}, "current"},
		{AgentReport{Served: "c1"}, "converging"},
		{AgentReport{Served: "c1", Rejected: "c2", Error: "unknown directive"}, "refuses the desired config: unknown directive"},
		{AgentReport{Served: "c1", Rejected: "c2", Error: "no file", Unmounted: true}, "waits to be replaced: no file"},
		{AgentReport{Served: "c2", Rejected: "c1", Error: "old"}, "current"},
	} {
		if got := g.TaskState(tt.task); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.task, got, tt.want)
		}
	}
}
