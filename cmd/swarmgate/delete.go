package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newDeleteCommand() *cobra.Command {
	var (
		files  fileOptions
		engine engineOptions
	)
	cmd := &cobra.Command{
		Use:   "delete -f PATH...",
		Short: "Delete what the manifests' objects own on the swarm",
		Long: `Delete exactly the swarm objects this instance created for the objects in the
manifests: their services, config secrets and networks, and the node labels
of their zones. Nothing else is touched.`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, r, c, err := engine.session(cmd, &files)
			if err != nil {
				return err
			}
			defer c.Close()
			pass, err := r.PlanDeletion(cmd.Context(), objs)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if pass.Plan.Empty() {
				fmt.Fprintln(out, "nothing to delete")
				return nil
			}
			return r.Apply(cmd.Context(), pass, printAction(out))
		},
	}
	files.addFlags(cmd)
	engine.addFlags(cmd)
	return cmd
}
