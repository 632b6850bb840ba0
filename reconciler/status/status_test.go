package status

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

func TestServiceHealth(t *testing.T) {
	three := uint64(3)
	svc := func(u *swarm.UpdateStatus) swarm.Service {
		return swarm.Service{ID: "s", Spec: swarm.ServiceSpec{Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &three}}}, UpdateStatus: u}
	}
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	task := func(slot int, state swarm.TaskState, desired swarm.TaskState, err string, age time.Duration) swarm.Task {
		return swarm.Task{ServiceID: "s", Slot: slot, DesiredState: desired, Status: swarm.TaskStatus{State: state, Err: err, Timestamp: at.Add(-age)}}
	}
	running := func(slot int) swarm.Task {
		return task(slot, swarm.TaskStateRunning, swarm.TaskStateRunning, "", time.Minute)
	}
	withPort := func(s swarm.Service) swarm.Service {
		s.Spec.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{Protocol: swarm.PortConfigProtocolTCP, PublishedPort: 8080, PublishMode: swarm.PortConfigPublishModeHost}}}
		return s
	}
	onNode := func(t swarm.Task) swarm.Task {
		t.Spec.Placement = &swarm.Placement{}
		return t
	}
	noImage := task(3, swarm.TaskStateRejected, swarm.TaskStateShutdown, "No such image: x:1", time.Second)
	for _, tc := range []struct {
		name    string
		svc     swarm.Service
		tasks   []swarm.Task
		health  v1alpha1.HealthStatus
		reason  v1alpha1.ConditionReason
		message string
	}{
		{"every task runs", svc(nil), []swarm.Task{running(1), running(2), running(3)}, v1alpha1.Healthy, v1alpha1.ReasonReady, ""},
		{"an old failure, since replaced", svc(nil), []swarm.Task{running(1), running(2), running(3),
			task(3, swarm.TaskStateFailed, swarm.TaskStateShutdown, "exit 1", time.Hour)}, v1alpha1.Healthy, v1alpha1.ReasonReady, ""},
		{"a task starting", svc(nil), []swarm.Task{running(1), running(2), task(3, swarm.TaskStateStarting, swarm.TaskStateRunning, "", 0)},
			v1alpha1.Progressing, v1alpha1.ReasonTasksNotRunning, "2 of 3 tasks running"},
		{"the newest task failed", svc(nil), []swarm.Task{running(1), running(2), noImage},
			v1alpha1.Degraded, v1alpha1.ReasonTasksFailing, "2 of 3 tasks running; task 3 rejected: No such image: x:1"},
		{"failed, then a new task is being made", svc(nil), []swarm.Task{running(1), running(2), noImage, task(3, swarm.TaskStatePending, swarm.TaskStateRunning, "", 0)},
			v1alpha1.Progressing, v1alpha1.ReasonTasksNotRunning, "2 of 3 tasks running; task 3 rejected: No such image: x:1"},
		{"a task no node can take yet", svc(nil), []swarm.Task{running(1), running(2), task(3, swarm.TaskStatePending, swarm.TaskStateRunning, "no suitable node", 0)},
			v1alpha1.Progressing, v1alpha1.ReasonTasksNotRunning, "2 of 3 tasks running; task 3 pending: no suitable node"},
		{"a host port something else holds", withPort(svc(nil)), []swarm.Task{running(1), running(2), task(3, swarm.TaskStatePending, swarm.TaskStateRunning, "host-mode port already in use on 1 node", 0)},
			v1alpha1.Degraded, v1alpha1.ReasonHostPortInUse, "2 of 3 tasks running; host port 8080/tcp in use; task 3 pending: host-mode port already in use on 1 node"},
		{"a host port its own stopping task still holds", withPort(svc(nil)), []swarm.Task{running(1), running(2),
			task(3, swarm.TaskStateRunning, swarm.TaskStateShutdown, "", time.Second), task(3, swarm.TaskStatePending, swarm.TaskStateRunning, "host-mode port already in use on 1 node", 0)},
			v1alpha1.Progressing, v1alpha1.ReasonTasksNotRunning, "2 of 3 tasks running; task 3 pending: host-mode port already in use on 1 node"},
		{"update paused, with the task's error", svc(&swarm.UpdateStatus{State: swarm.UpdateStatePaused, Message: "update paused due to failure or early termination of task t"}),
			[]swarm.Task{running(1), running(2), noImage}, v1alpha1.Degraded, v1alpha1.ReasonUpdatePaused,
			"update paused: update paused due to failure or early termination of task t; task 3 rejected: No such image: x:1"},
		{"rolled back", svc(&swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted, Message: "rollback completed"}),
			[]swarm.Task{running(1), running(2), running(3)}, v1alpha1.Degraded, v1alpha1.ReasonRolledBack, "update rolled back: rollback completed"},
		{"updating", svc(&swarm.UpdateStatus{State: swarm.UpdateStateUpdating}), []swarm.Task{running(1), running(2), running(3)},
			v1alpha1.Progressing, v1alpha1.ReasonUpdating, "update updating"},
		{"updated, the old tasks still running", func() swarm.Service {
			s := svc(nil)
			s.Spec.TaskTemplate.ForceUpdate = 1
			return s
		}(), []swarm.Task{running(1), running(2), running(3)}, v1alpha1.Progressing, v1alpha1.ReasonUpdating, "update pending: 0 of 3 tasks on the new spec"},
		{"only placement constraints changed: swarm keeps the tasks", func() swarm.Service {
			s := svc(nil)
			s.Spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.role==manager"}}
			return s
		}(), []swarm.Task{onNode(running(1)), onNode(running(2)), onNode(running(3))}, v1alpha1.Healthy, v1alpha1.ReasonReady, ""},
		{"an update that completed", svc(&swarm.UpdateStatus{State: swarm.UpdateStateCompleted}), []swarm.Task{running(1), running(2), running(3)},
			v1alpha1.Healthy, v1alpha1.ReasonReady, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, r, m := ServiceHealth(tc.svc, tc.tasks)
			if h != tc.health || r != tc.reason || m != tc.message {
				t.Errorf("got %s %s %q, want %s %s %q", h, r, m, tc.health, tc.reason, tc.message)
			}
		})
	}
}
