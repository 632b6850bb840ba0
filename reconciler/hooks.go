package reconciler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// hookPoll is how often a pass reads a hook job's tasks while it waits for it.
const hookPoll = 250 * time.Millisecond

// awaitHook waits for the hook job named job (a service of d) to finish its current run, for up to
// its hook timeout, and returns why it did not succeed: the error of its failed task, or the
// timeout.
func (r *Reconciler) awaitHook(ctx context.Context, d *desired.State, job string) error {
	timeout := time.Duration(0)
	for _, svc := range d.Services {
		if svc.Name == job {
			timeout = svc.HookTimeout
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		j, err := r.readJob(ctx, job)
		switch {
		case errors.Is(err, context.DeadlineExceeded) || err == nil && ctx.Err() != nil:
			return fmt.Errorf("did not finish within %s", timeout)
		case err != nil:
			return err
		case j.State == status.JobSucceeded:
			return nil
		case j.State == status.JobFailed:
			return fmt.Errorf("failed: %d of %d tasks completed; %s", j.Completed, j.Total, j.Error)
		}
		select {
		case <-ctx.Done():
		case <-time.After(hookPoll):
		}
	}
}

// readJob reads a job service and its tasks, and judges its current run.
func (r *Reconciler) readJob(ctx context.Context, name string) (status.Job, error) {
	svc, _, err := r.Engine.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if err != nil {
		return status.Job{}, fmt.Errorf("reading job %s: %w", name, err)
	}
	if !status.IsJob(svc) {
		return status.Job{}, fmt.Errorf("service %s is no job", name)
	}
	tasks, err := r.Engine.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID))})
	if err != nil {
		return status.Job{}, fmt.Errorf("listing the tasks of job %s: %w", name, err)
	}
	return status.JudgeJob(svc, tasks), nil
}
