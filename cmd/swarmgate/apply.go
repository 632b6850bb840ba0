package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/reconciler/planner"
)

func newApplyCommand() *cobra.Command {
	var (
		files      fileOptions
		engine     engineOptions
		prune      bool
		allowEmpty bool
		dryRun     bool
		wait       bool
		timeout    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "apply -f PATH...",
		Short: "Converge the swarm to the manifests",
		Long: `Validate the manifests, compare them with the swarm, and create, update or
delete what differs: node labels, overlay networks, the gateways' config
secrets and the services. Bad input changes nothing. Only objects this
instance created are ever updated or deleted; objects it created that no
manifest wants any more are deleted only with --prune.`,
		Example: `  # Bring the seed scenario up
  swarmgate apply -f manifests/examples/seed/

  # See what would change, then apply, removing what the manifests no longer declare
  swarmgate apply -f manifests/ --prune --dry-run
  swarmgate apply -f manifests/ --prune --wait`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, r, c, err := engine.session(cmd, &files)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			if prune && len(objs) == 0 && !allowEmpty {
				return &exitCodeError{code: exitFail, msg: "the manifests hold no objects: --prune would delete everything of instance " +
					engine.instance + "; pass --allow-empty if that is what you want (swarmgate delete deletes what manifests own)"}
			}
			pass, err := r.Plan(ctx, objs, planner.Options{Prune: prune}, false)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, w := range pass.Plan.Warnings {
				slog.Warn(w, "reason", "Plan")
			}
			for _, o := range pass.Plan.Orphans {
				fmt.Fprintf(out, "%s/%s is in no manifest any more (kept; --prune deletes it)\n", o.Kind, o.Name)
			}
			if dryRun {
				for _, a := range pass.Plan.Actions {
					fmt.Fprintf(out, "%s (dry run)\n", a)
				}
				return nil
			}
			if pass.Plan.Empty() {
				fmt.Fprintln(out, "no changes")
				return nil
			}
			if err := r.Apply(ctx, pass, printAction(out)); err != nil {
				return err
			}
			if !wait {
				return nil
			}
			var services []string
			for _, a := range pass.Plan.Actions {
				if a.Kind == planner.KindService && a.Op != planner.Delete {
					services = append(services, a.Name)
				}
			}
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return waitConverged(ctx, c, services, out)
		},
	}
	files.addFlags(cmd)
	engine.addFlags(cmd)
	cmd.Flags().BoolVar(&prune, "prune", false, "delete objects of this instance that no manifest declares any more")
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "with --prune: allow manifests with no objects, which prune everything of the instance")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change, change nothing")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until every changed service runs its tasks; fail if swarm rolled one back")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long --wait waits")
	return cmd
}

// printAction reports each write as it completes: "service/dmzhttp created".
func printAction(out io.Writer) func(planner.Action, error) {
	return func(a planner.Action, err error) {
		if err == nil {
			fmt.Fprintln(out, a)
		}
	}
}

// waitConverged polls the services until each has all its tasks running and no update in
// progress, printing progress as it changes. A rolled-back or paused update is a failure.
func waitConverged(ctx context.Context, c *client.Client, services []string, out io.Writer) error {
	last := map[string]string{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var pending []string
		for _, name := range services {
			state, done, err := serviceProgress(ctx, c, name)
			if ctx.Err() != nil {
				return timedOut(services, last)
			}
			if err != nil {
				return err
			}
			if state != last[name] {
				fmt.Fprintf(out, "service/%s: %s\n", name, state)
				last[name] = state
			}
			if !done {
				pending = append(pending, name)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return timedOut(pending, last)
		case <-tick.C:
		}
	}
}

// timedOut says which services --wait gave up on, and how far each had got.
func timedOut(services []string, last map[string]string) error {
	parts := make([]string, len(services))
	for i, s := range services {
		parts[i] = fmt.Sprintf("service/%s (%s)", s, last[s])
	}
	return fmt.Errorf("timed out waiting for %s", strings.Join(parts, ", "))
}

func serviceProgress(ctx context.Context, c *client.Client, name string) (state string, done bool, err error) {
	svc, _, err := c.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if err != nil {
		return "", false, err
	}
	if u := svc.UpdateStatus; u != nil {
		switch u.State {
		case swarm.UpdateStateRollbackCompleted, swarm.UpdateStateRollbackPaused, swarm.UpdateStatePaused:
			return "", false, fmt.Errorf("service %s: update %s: %s", name, u.State, u.Message)
		case swarm.UpdateStateUpdating, swarm.UpdateStateRollbackStarted:
			return fmt.Sprintf("update %s", u.State), false, nil
		}
	}
	tasks, err := c.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID), filters.Arg("desired-state", "running"))})
	if err != nil {
		return "", false, err
	}
	running := 0
	for _, t := range tasks {
		if t.Status.State == swarm.TaskStateRunning {
			running++
		}
	}
	want := len(tasks)
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		want = int(*r.Replicas)
	}
	return fmt.Sprintf("%d/%d tasks running", running, want), running >= want, nil
}
