package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/cmd/internal/cli"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
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
		Long: `Validate the manifests, record their objects on the swarm (one swarm config
each: the store of applied objects), and converge the swarm to every applied
object: node labels, overlay networks, the gateways' config secrets and the
services. As with kubectl, applying some files adds or updates their objects
and leaves the other applied objects alone: a gateway is rendered from every
applied Route, not only from the files given.

With --prune the manifests are the whole instance: applied objects they no
longer hold are deleted. Bad input, alone or with the applied objects (a Route
conflicting with one applied before), changes nothing. Only objects this
instance created are ever updated or deleted.`,
		Example: `  # Bring the seed scenario up
  swarmgate apply -f manifests/examples/seed/

  # See what would change, then apply, removing what the manifests no longer declare
  swarmgate apply -f manifests/ --prune --dry-run
  swarmgate apply -f manifests/ --prune --wait`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			session := engine.session
			if prune {
				session = engine.wholeSession
			}
			objs, r, c, err := session(cmd, &files)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			if prune && len(objs) == 0 && !allowEmpty {
				return &exitCodeError{Code: exitFail, Msg: "the manifests hold no objects: --prune would delete everything of instance " +
					engine.instance + "; pass --allow-empty if that is what you want (swarmgate delete deletes what manifests own)"}
			}
			pass, err := plan(cmd, r, reconciler.Input{Objects: objs, All: prune, Validated: prune}, planner.Options{Prune: prune}, false)
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
			} else if err := refuseWhileLeased(pass, engine.instance, engine.forceConflicts); err != nil {
				return err
			} else if err := r.Apply(ctx, pass, printAction(out)); err != nil {
				return err
			}
			if !wait {
				return nil
			}
			// Every object given, changed or not: a service stuck since an earlier apply fails
			// this one too.
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return waitHealthy(ctx, r, objs, out)
		},
	}
	files.addFlags(cmd)
	engine.addFlags(cmd)
	cmd.Flags().BoolVar(&prune, "prune", false, "the manifests are the whole instance: delete applied objects they no longer hold")
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "with --prune: allow manifests with no objects, which prune everything of the instance")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change, change nothing")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until every object given is Synced and Healthy; fail when one is Degraded (an update paused or rolled back, tasks failing, a backend missing)")
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

// failingGrace is how long tasks may keep failing before --wait gives up on them: a task that
// fails once and then starts (a database not up yet) is not a failed apply; a missing image is.
const failingGrace = 15 * time.Second

// waitHealthy polls the objects' status until each is Synced and Healthy, printing each change
// of health. A Degraded object fails the wait: at once when swarm paused or rolled back an update
// or a backend is missing, after failingGrace when tasks keep failing.
func waitHealthy(ctx context.Context, r *reconciler.Reconciler, objs []v1alpha1.Object, out io.Writer) error {
	given := map[string]bool{}
	for _, o := range objs {
		given[inventory.OwnerOf(o).String()] = true
	}
	last, lastState := map[string]string{}, map[string]string{}
	failingSince := map[string]time.Time{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		pass, err := r.Plan(ctx, reconciler.Input{Objects: objs}, planner.Options{}, true)
		if ctx.Err() != nil {
			return timedOut(last)
		}
		if err != nil {
			return err
		}
		pending := 0
		for _, st := range pass.Status(nil) {
			owner := inventory.NewOwner(st.Kind, st.Name).String()
			if !given[owner] {
				continue
			}
			// Printed when the state or its reason changes, not on every new failed task.
			state := fmt.Sprintf("%s %s %s", st.Sync, st.Health, st.Reason)
			line := fmt.Sprintf("%s %s", st.Sync, st.Health)
			if st.Message != "" {
				line += ": " + cli.TerminalSafe(st.Message, "") // task errors are the swarm's text
			}
			if state != lastState[owner] {
				fmt.Fprintf(out, "%s: %s\n", owner, line)
				lastState[owner] = state
			}
			last[owner] = line
			if st.Health == v1alpha1.Degraded {
				if st.Reason != v1alpha1.ReasonTasksFailing {
					return fmt.Errorf("%s is Degraded (%s): %s", owner, st.Reason, st.Message)
				}
				if failingSince[owner].IsZero() {
					failingSince[owner] = time.Now()
				} else if time.Since(failingSince[owner]) >= failingGrace {
					return fmt.Errorf("%s is Degraded (%s for %s): %s", owner, st.Reason, failingGrace, st.Message)
				}
			} else {
				delete(failingSince, owner)
			}
			if st.Health != v1alpha1.Healthy || st.Sync != v1alpha1.Synced {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return timedOut(last)
		case <-tick.C:
		}
	}
}

// timedOut says how far each object had got when --wait gave up.
func timedOut(last map[string]string) error {
	var parts []string
	for _, owner := range slices.Sorted(maps.Keys(last)) {
		if !strings.HasPrefix(last[owner], "Synced Healthy") {
			parts = append(parts, fmt.Sprintf("%s (%s)", owner, last[owner]))
		}
	}
	return fmt.Errorf("timed out waiting for %s", strings.Join(parts, ", "))
}
