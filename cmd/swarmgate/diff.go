package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/planner"
)

func newDiffCommand() *cobra.Command {
	var (
		files  fileOptions
		engine engineOptions
		prune  bool
	)
	cmd := &cobra.Command{
		Use:   "diff -f PATH...",
		Short: "Show what apply would change, field by field",
		Long: `Compare the manifests with the swarm and print every object apply would
create (+), update (~) or delete (-), with the fields that differ. Secret
contents are never printed. Exits 0 when there is no difference, 1 when
there is, and 2 on error, as kubectl diff does.`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := files.loadPart(cmd)
			if err != nil {
				return &exitCodeError{code: exitError, msg: ""}
			}
			r, c, err := engine.reconciler()
			if err != nil {
				return err
			}
			defer c.Close()
			pass, err := r.Plan(cmd.Context(), reconciler.Input{Objects: objs, All: prune}, planner.Options{Prune: prune}, false)
			if err != nil {
				_ = invalidInput(cmd, err)
				return &exitCodeError{code: exitError, msg: ""}
			}
			printDiff(cmd.OutOrStdout(), pass.Plan)
			if !pass.Plan.Empty() {
				return &exitCodeError{code: exitFail}
			}
			return nil
		},
	}
	files.addFlags(cmd)
	engine.addFlags(cmd)
	cmd.Flags().BoolVar(&prune, "prune", false, "include deleting objects no manifest declares any more")
	return cmd
}

// printDiff writes the plan as a diff. Secret data never appears: only its name and size.
func printDiff(w io.Writer, p *planner.Plan) {
	sign := map[planner.Op]string{planner.Create: "+", planner.Update: "~", planner.Delete: "-"}
	for _, a := range p.Actions {
		owner := ""
		if a.Owner != "" {
			owner = " (" + a.Owner + ")"
		}
		fmt.Fprintf(w, "%s %s/%s%s\n", sign[a.Op], a.Kind, a.Name, owner)
		if a.Kind == planner.KindSecret && a.Op == planner.Create {
			fmt.Fprintf(w, "    data: <%d bytes, not shown>\n", len(a.Secret.Data))
		}
		for _, c := range a.Changes {
			switch {
			case c.Old == "":
				fmt.Fprintf(w, "    %s: %s\n", c.Field, c.New)
			case c.New == "":
				fmt.Fprintf(w, "    %s: %s -> (unset)\n", c.Field, c.Old)
			default:
				fmt.Fprintf(w, "    %s: %s -> %s\n", c.Field, c.Old, c.New)
			}
		}
	}
	for _, o := range p.Orphans {
		fmt.Fprintf(w, "  %s/%s is in no manifest any more (--prune deletes it)\n", o.Kind, o.Name)
	}
}
