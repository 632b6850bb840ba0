package dashboard

import (
	"os"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/status"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// now is the fixture's clock: the certificate expires ten days later.
var now = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// fixture is a running instance, without a swarm: a gateway with two tasks on two nodes, a
// Route with its service and an existing one, a VirtualIP held by node1, and alerts. It holds
// secrets (an environment password, the VRRP password) the page must never show, and text
// shaped like markup that it must escape.
func fixture(t *testing.T) Input {
	t.Helper()
	data, err := os.ReadFile("testdata/instance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, errs := manifest.Decode("testdata/instance.yaml", data)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, o := range objs {
		o.Default() // as the operator holds them
	}
	owned := func(id, name, owner string) swarm.Service {
		return swarm.Service{ID: id, Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: name,
			Labels: map[string]string{inventory.LabelOwner: owner, inventory.LabelManagedBy: inventory.ManagedByValue}}}}
	}
	task := func(service, node string, state swarm.TaskState) swarm.Task {
		return swarm.Task{ServiceID: service, NodeID: node, DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: state}}
	}
	node := func(id, host string, leader bool) swarm.Node {
		n := swarm.Node{ID: id, Description: swarm.NodeDescription{Hostname: host}, Status: swarm.NodeStatus{State: swarm.NodeStateReady, Addr: "10.0.0." + id},
			Spec: swarm.NodeSpec{Role: swarm.NodeRoleWorker, Availability: swarm.NodeAvailabilityActive}}
		if leader {
			n.Spec.Role, n.ManagerStatus = swarm.NodeRoleManager, &swarm.ManagerStatus{Leader: true, Reachability: swarm.ReachabilityReachable}
		}
		return n
	}
	snap := &swarmstate.Snapshot{
		Nodes: []swarm.Node{node("1", "node1", true), node("2", "node2", false)},
		Services: []swarm.Service{owned("gw", "web", "Gateway/web"), owned("app", "app", "Route/app"),
			{ID: "legacy", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "legacy"}}}},
		Tasks: []swarm.Task{task("gw", "1", swarm.TaskStateRunning), task("gw", "2", swarm.TaskStateRunning),
			task("app", "1", swarm.TaskStateRunning), task("app", "2", swarm.TaskStateStarting)},
		UserSecrets: []swarm.Secret{{Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "app-cert",
			Labels: map[string]string{inventory.LabelTLSNotAfter: now.Add(10 * 24 * time.Hour).Format(time.RFC3339)}}}}},
	}
	statuses := []status.ObjectStatus{
		{Kind: v1alpha1.KindGateway, Name: "web", Sync: v1alpha1.Synced, Health: v1alpha1.Healthy, Running: 2, Desired: 2},
		{Kind: v1alpha1.KindRoute, Name: "app", Sync: v1alpha1.OutOfSync, Drift: []string{"service/app replicas"}, Health: v1alpha1.Progressing,
			Message: "service app: 1 of 2 tasks running", Running: 1, Desired: 2},
		{Kind: v1alpha1.KindVirtualIP, Name: "public", Sync: v1alpha1.Synced, Health: v1alpha1.Healthy, Message: "held by node1",
			VirtualIP: &status.Observation{Nodes: []status.NodeReport{{Node: "node1", Report: &contract.Report{Holds: true}}, {Node: "node2", Report: &contract.Report{}}}}},
	}
	return Input{
		Now: now, Objects: objs, Statuses: statuses, Snapshot: snap,
		Agents: map[string]status.GatewayAgents{"web": {Desired: "web-config-2", Tasks: []status.AgentReport{
			{Task: "web.1", Served: "web-config-2"}, {Task: "web.2", Served: "web-config-1", Rejected: "web-config-2", Error: "nginx: [emerg] unknown directive"}}}},
		Operator: Operator{Ready: true, Source: "git:https://REDACTED@git.example.com/ops.git@main/", Revision: "0123abc"},
		Events: []alert.Event{
			{Time: now.Add(-time.Minute), Reason: alert.ReasonDrift, Object: "service/app", Owner: "Route/app",
				Changes: []alert.Change{{Field: "replicas", Swarm: "value-on-swarm", Manifest: "value-in-manifest"}}, Message: "service/app drifted"},
			{Time: now.Add(-time.Hour), Reason: alert.ReasonInvalidManifests, Message: `manifests do not validate: <script>alert("x")</script>`},
		},
	}
}
