package main

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/planner"
)

func newDeleteCommand() *cobra.Command {
	var (
		files  fileOptions
		engine engineOptions
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "delete (KIND NAME... | KIND/NAME... | -f PATH...)",
		Short: "Delete applied objects and what they own on the swarm",
		Long: `Delete applied objects, named or given by manifests: the swarm objects this
instance created for them (services, config secrets, networks, node labels of
zones) and their entries in the store of applied objects. The gateways the
deleted Routes were attached to are rendered again from the Routes that stay.
Nothing else is touched. Works from any manager, without manifest files.`,
		Example: `  swarmgate delete route dmzhttp
  swarmgate delete route/dmzhttp route/mgmt
  swarmgate delete -f manifests/examples/seed/`,
		GroupID: "basic",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 0 && len(files.paths) > 0:
				return &exitCodeError{Code: exitFail, Msg: "name the objects to delete (KIND NAME...) or give their manifests (-f), not both"}
			case len(args) == 0 && len(files.paths) == 0:
				return &exitCodeError{Code: exitFail, Msg: "nothing to delete: name the objects (KIND NAME..., as swarmgate get -o name prints them) or give their manifests (-f)"}
			}
			owners, err := parseRefs(args)
			if err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			var r *reconciler.Reconciler
			if len(files.paths) > 0 {
				objs, rr, c, err := engine.session(cmd, &files)
				if err != nil {
					return err
				}
				defer c.Close()
				r = rr
				for _, o := range objs {
					owners = append(owners, inventory.OwnerOf(o).String())
				}
			} else {
				rr, c, err := engine.reconciler()
				if err != nil {
					return err
				}
				defer c.Close()
				r = rr
			}
			pass, err := plan(cmd, r, reconciler.Input{Delete: owners}, planner.Options{}, false)
			if err != nil {
				return err
			}
			for _, o := range owners {
				if len(args) > 0 && !slices.ContainsFunc(pass.Plan.Actions, func(a planner.Action) bool { return a.Owner == o }) {
					return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("%s: not applied on instance %s; nothing was deleted", o, engine.instance)}
				}
			}
			for _, w := range pass.Plan.Warnings {
				slog.Warn(w, "reason", "Plan")
			}
			out := cmd.OutOrStdout()
			if pass.Plan.Empty() {
				fmt.Fprintln(out, "nothing to delete")
				return nil
			}
			if dryRun {
				for _, a := range pass.Plan.Actions {
					fmt.Fprintf(out, "%s (dry run)\n", a)
				}
				return nil
			}
			if err := refuseWhileLeased(pass, engine.instance, engine.forceConflicts); err != nil {
				return err
			}
			return r.Apply(cmd.Context(), pass, printAction(out))
		},
	}
	files.addFlags(cmd)
	engine.addFlags(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be deleted, delete nothing")
	return cmd
}
