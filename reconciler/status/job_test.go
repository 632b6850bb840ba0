package status

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

func TestJudgeJob(t *testing.T) {
	two := uint64(2)
	job := swarm.Service{ID: "job", Spec: swarm.ServiceSpec{Mode: swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{TotalCompletions: &two}}},
		JobStatus: &swarm.JobStatus{JobIteration: swarm.Version{Index: 1}}}
	global := swarm.Service{ID: "job", Spec: swarm.ServiceSpec{Mode: swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}}}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	task := func(iteration uint64, desired, state swarm.TaskState, err string, age int) swarm.Task {
		return swarm.Task{ServiceID: "job", NodeID: "n" + string(rune('0'+age)), JobIteration: &swarm.Version{Index: iteration}, DesiredState: desired,
			Status: swarm.TaskStatus{State: state, Err: err, Timestamp: at.Add(-time.Duration(age) * time.Second)}}
	}
	const (
		complete = swarm.TaskStateComplete
		running  = swarm.TaskStateRunning
		failed   = swarm.TaskStateFailed
		shutdown = swarm.TaskStateShutdown
	)
	tests := []struct {
		name   string
		svc    swarm.Service
		tasks  []swarm.Task
		want   JobState
		counts [2]int
		health v1alpha1.ConditionReason
		msg    string
	}{
		{"no task yet", job, nil, JobRunning, [2]int{0, 2}, v1alpha1.ReasonJobRunning, "job running: 0 of 2 tasks completed"},
		{"the last run's tasks do not count", job, []swarm.Task{task(0, complete, complete, "", 9), task(0, complete, complete, "", 8)},
			JobRunning, [2]int{0, 2}, v1alpha1.ReasonJobRunning, ""},
		{"one completed, one runs", job, []swarm.Task{task(1, complete, complete, "", 2), task(1, complete, running, "", 1)},
			JobRunning, [2]int{1, 2}, v1alpha1.ReasonJobRunning, ""},
		{"all completed", job, []swarm.Task{task(1, complete, complete, "", 2), task(1, complete, complete, "", 1)},
			JobSucceeded, [2]int{2, 2}, v1alpha1.ReasonJobSucceeded, "job succeeded: 2 of 2 tasks completed"},
		{"a failure swarm has not taken note of yet", job, []swarm.Task{task(1, complete, complete, "", 2), task(1, complete, failed, "task: non-zero exit (1)", 1)},
			JobRunning, [2]int{1, 2}, v1alpha1.ReasonJobRunning, ""},
		{"a failure retried", job, []swarm.Task{task(1, complete, complete, "", 3), task(1, shutdown, failed, "task: non-zero exit (1)", 2), task(1, complete, running, "", 1)},
			JobRunning, [2]int{1, 2}, v1alpha1.ReasonJobRunning, ""},
		{"failed for good", job, []swarm.Task{task(1, complete, complete, "", 3), task(1, shutdown, failed, "task: non-zero exit (2)", 1), task(1, shutdown, failed, "task: non-zero exit (1)", 2)},
			JobFailed, [2]int{1, 2}, v1alpha1.ReasonJobFailed, "job failed: 1 of 2 tasks completed; task 0 failed: task: non-zero exit (2)"},
		{"a global job, done on every node", global, []swarm.Task{task(0, complete, complete, "", 1), task(0, complete, complete, "", 2)},
			JobSucceeded, [2]int{2, 2}, v1alpha1.ReasonJobSucceeded, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := JudgeJob(tt.svc, tt.tasks)
			if j.State != tt.want || j.Completed != tt.counts[0] || j.Total != tt.counts[1] {
				t.Errorf("got %+v, want %s with %v", j, tt.want, tt.counts)
			}
			_, reason, msg := ServiceHealth(tt.svc, tt.tasks)
			if reason != tt.health || tt.msg != "" && msg != tt.msg {
				t.Errorf("health %s %q, want %s %q", reason, msg, tt.health, tt.msg)
			}
		})
	}
}
