package status

import (
	"fmt"
	"slices"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// JobState is where a job's current run stands.
type JobState string

// The states of a job's run.
const (
	JobRunning   JobState = "Running"
	JobSucceeded JobState = "Succeeded"
	JobFailed    JobState = "Failed"
)

// Job is the current run of a job service (its tasks of the service's current job iteration,
// which a change to the service starts): how many tasks completed of how many, and, when it
// failed, the error of its newest failed task.
type Job struct {
	State     JobState
	Completed int
	Total     int
	Error     string
}

// endedStates are the states of a task that will not change any more.
var endedStates = []swarm.TaskState{swarm.TaskStateComplete, swarm.TaskStateFailed, swarm.TaskStateRejected,
	swarm.TaskStateShutdown, swarm.TaskStateOrphaned, swarm.TaskStateRemove}

// stoppedStates are the desired states of a task swarm will not run again.
var stoppedStates = []swarm.TaskState{swarm.TaskStateShutdown, swarm.TaskStateRemove, swarm.TaskStateOrphaned}

// IsJob reports whether a service runs its tasks to completion.
func IsJob(svc swarm.Service) bool {
	return svc.Spec.Mode.ReplicatedJob != nil || svc.Spec.Mode.GlobalJob != nil
}

// JudgeJob judges the current run of a job service from its tasks (those of other services
// are left out). It succeeded once as many tasks completed as it must complete (one per node
// its tasks went to, for a global job); it failed once no task runs or will, and swarm has
// taken note of each failed task (one it retries gets a replacement at once; one it does not is
// shut down); until then it runs.
func JudgeJob(svc swarm.Service, tasks []swarm.Task) Job {
	var iteration uint64
	if svc.JobStatus != nil {
		iteration = svc.JobStatus.JobIteration.Index
	}
	var current []swarm.Task
	nodes := map[string]bool{}
	for _, t := range tasks {
		if t.ServiceID != svc.ID || t.JobIteration == nil && iteration != 0 || t.JobIteration != nil && t.JobIteration.Index != iteration {
			continue
		}
		current = append(current, t)
		nodes[t.NodeID] = true
	}
	j := Job{State: JobRunning}
	if r := svc.Spec.Mode.ReplicatedJob; r != nil && r.TotalCompletions != nil {
		j.Total = int(*r.TotalCompletions)
	} else {
		j.Total = len(nodes)
	}
	settled := true // no task runs or will, and every failure was taken note of
	failed := false
	for _, t := range current {
		switch {
		case t.Status.State == swarm.TaskStateComplete:
			j.Completed++
		case !slices.Contains(endedStates, t.Status.State):
			settled = false
		case slices.Contains(failedStates, t.Status.State):
			failed = true
			settled = settled && slices.Contains(stoppedStates, t.DesiredState)
		}
	}
	switch {
	case j.Total > 0 && j.Completed >= j.Total:
		j.State = JobSucceeded
	case failed && settled:
		j.State, j.Error = JobFailed, newestFailure(current)
	}
	return j
}

// jobHealth judges a job service: Healthy once its run succeeded, Degraded when it failed (with
// the task's error), Progressing while it runs.
func jobHealth(j Job) (v1alpha1.HealthStatus, v1alpha1.ConditionReason, string) {
	switch j.State {
	case JobSucceeded:
		return v1alpha1.Healthy, v1alpha1.ReasonJobSucceeded, fmt.Sprintf("job succeeded: %d of %d tasks completed", j.Completed, j.Total)
	case JobFailed:
		return v1alpha1.Degraded, v1alpha1.ReasonJobFailed, fmt.Sprintf("job failed: %d of %d tasks completed; %s", j.Completed, j.Total, j.Error)
	}
	return v1alpha1.Progressing, v1alpha1.ReasonJobRunning, fmt.Sprintf("job running: %d of %d tasks completed", j.Completed, j.Total)
}
