package reconciler

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// TestRunningTasks: a task joins the pools once it runs and leaves them as soon as swarm starts
// shutting it down, before it stops; each of its networks gives an address.
func TestRunningTasks(t *testing.T) {
	task := func(id string, desiredState, state swarm.TaskState, addrs ...string) swarm.Task {
		tk := swarm.Task{ID: id, ServiceID: "s1", DesiredState: desiredState, Status: swarm.TaskStatus{State: state}}
		for i, a := range addrs {
			n := swarm.Network{Spec: swarm.NetworkSpec{Annotations: swarm.Annotations{Name: []string{"edge", "back"}[i]}}}
			tk.NetworksAttachments = append(tk.NetworksAttachments, swarm.NetworkAttachment{Network: n, Addresses: []string{a}})
		}
		return tk
	}
	tests := []struct {
		name string
		task swarm.Task
		want []desired.Task
	}{
		{"running", task("a", swarm.TaskStateRunning, swarm.TaskStateRunning, "10.0.1.5/24", "10.0.2.5/24"),
			[]desired.Task{{Service: "api", Network: "edge", Addr: netip.MustParseAddr("10.0.1.5")}, {Service: "api", Network: "back", Addr: netip.MustParseAddr("10.0.2.5")}}},
		{"starting", task("b", swarm.TaskStateRunning, swarm.TaskStateStarting, "10.0.1.6/24"), nil},
		{"being shut down", task("c", swarm.TaskStateShutdown, swarm.TaskStateRunning, "10.0.1.7/24"), nil},
		{"of an unknown service", func() swarm.Task {
			tk := task("d", swarm.TaskStateRunning, swarm.TaskStateRunning, "10.0.1.8/24")
			tk.ServiceID = "gone"
			return tk
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := &swarmstate.Snapshot{Services: []swarm.Service{{ID: "s1", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "api"}}}},
				Tasks: []swarm.Task{tt.task}}
			if got := RunningTasks(snap); !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
