package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/cmd/internal/cli"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

func newDiffCommand() *cobra.Command {
	var (
		files      fileOptions
		engine     engineOptions
		prune      bool
		showConfig bool
		output     string
	)
	cmd := &cobra.Command{
		Use:   "diff -f PATH...",
		Short: "Show what apply would change: the objects as written, then the swarm's",
		Long: `Compare the manifests with the applied objects and the swarm, and print what
apply would change: first each applied object added, deleted or changed, field
by field, in the terms of its manifest (spec.hostnames[1]: "new.example"); then
every swarm object apply would create (+), update (~) or delete (-), with the
fields that differ. --show-config adds each changed gateway's nginx config as a
unified diff. Secret contents and environment variable values are never
printed. -o json prints the same as one document, for scripts.

Exits 0 when there is no difference, 1 when there is, and 2 on error, as
kubectl diff does.`,
		Example: `  swarmgate diff -f manifests/
  swarmgate diff -f manifests/routes/app.yaml --show-config
  swarmgate diff -f manifests/ --prune -o json | jq '.objects'`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "json" {
				return &exitCodeError{Code: exitError, Msg: fmt.Sprintf("--output %q: want json", output)}
			}
			load := files.loadPart
			if prune {
				load = files.load
			}
			objs, err := load(cmd)
			if err != nil {
				return &exitCodeError{Code: exitError, Msg: ""}
			}
			r, c, err := engine.reconciler()
			if err != nil {
				return err
			}
			defer c.Close()
			pass, err := r.Plan(cmd.Context(), reconciler.Input{Objects: objs, All: prune, Validated: prune}, planner.Options{Prune: prune}, false)
			if err != nil {
				// invalidInput prints the manifests' errors; any other (a secret a service
				// mounts does not exist) is this one's message.
				msg := ""
				if invalidInput(cmd, err) == err {
					msg = err.Error()
				}
				return &exitCodeError{Code: exitError, Msg: msg}
			}
			var configs map[string][2]string
			if showConfig {
				if configs, err = reconciler.GatewayConfigs(pass, nginx.Options{}); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				err = printDiffJSON(out, pass, configs)
			} else {
				printDiff(out, pass, configs)
			}
			if err != nil {
				return err
			}
			if !pass.Plan.Empty() {
				return &exitCodeError{Code: exitFail}
			}
			return nil
		},
	}
	files.addFlags(cmd)
	engine.addFlags(cmd)
	cmd.Flags().BoolVar(&prune, "prune", false, "the manifests are the whole instance: include deleting applied objects they no longer hold")
	cmd.Flags().BoolVar(&showConfig, "show-config", false, "also show each changed gateway's rendered nginx config as a unified diff")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json: print the diff as one JSON document")
	return cmd
}

// printDiff writes the plan as a diff: the applied objects as written, then the swarm objects.
// Secret data never appears: only its name and size.
func printDiff(w io.Writer, pass *reconciler.Pass, configs map[string][2]string) {
	sign := map[string]string{"add": "+", "change": "~", "delete": "-"}
	for _, oc := range reconciler.ObjectChanges(pass) {
		fmt.Fprintf(w, "%s %s\n", sign[oc.Op], oc.Owner)
		printChanges(w, oc.Changes)
	}
	opSign := map[planner.Op]string{planner.Create: "+", planner.Update: "~", planner.Delete: "-"}
	p := pass.Plan
	if len(p.Actions) > 0 {
		fmt.Fprintln(w, "\nswarm objects:")
	}
	for _, a := range p.Actions {
		owner := ""
		if a.Owner != "" {
			owner = " (" + a.Owner + ")"
		}
		fmt.Fprintf(w, "%s %s/%s%s\n", opSign[a.Op], a.Kind, a.Name, owner)
		if a.Kind == planner.KindSecret && a.Op == planner.Create {
			fmt.Fprintf(w, "    data: <%d bytes, not shown>\n", len(a.Secret.Data))
		}
		changes := make([]reconciler.FieldChange, len(a.Changes))
		for i, c := range a.Changes {
			changes[i] = reconciler.FieldChange{Field: c.Field, Old: c.Old, New: c.New}
		}
		printChanges(w, changes)
	}
	for _, o := range p.Orphans {
		fmt.Fprintf(w, "  %s/%s is in no manifest any more (--prune deletes it)\n", o.Kind, o.Name)
	}
	for _, gw := range slices.Sorted(maps.Keys(configs)) {
		fmt.Fprintln(w)
		// The applied config is read back from the swarm: printed terminal-safe like any swarm value.
		var unified strings.Builder
		_ = difflib.WriteUnifiedDiff(&unified, difflib.UnifiedDiff{
			A: difflib.SplitLines(configs[gw][0]), B: difflib.SplitLines(configs[gw][1]),
			FromFile: "gateway/" + gw + " (applied)", ToFile: "gateway/" + gw + " (after apply)", Context: 3,
		})
		io.WriteString(w, cli.TerminalSafe(unified.String(), "\t\n"))
	}
}

// printChanges writes field changes; old values come from the swarm, where anyone with access to
// the engine may have written escape sequences into them.
func printChanges(w io.Writer, changes []reconciler.FieldChange) {
	for _, c := range changes {
		switch {
		case c.Old == "":
			fmt.Fprintf(w, "    %s: %s\n", c.Field, cli.TerminalSafe(c.New, ""))
		case c.New == "":
			fmt.Fprintf(w, "    %s: %s -> (unset)\n", c.Field, cli.TerminalSafe(c.Old, ""))
		default:
			fmt.Fprintf(w, "    %s: %s -> %s\n", c.Field, cli.TerminalSafe(c.Old, ""), cli.TerminalSafe(c.New, ""))
		}
	}
}

// printDiffJSON writes the diff for scripts: the same facts as printDiff, never secret data.
func printDiffJSON(w io.Writer, pass *reconciler.Pass, configs map[string][2]string) error {
	type action struct {
		Op      planner.Op               `json:"op"`
		Kind    planner.Kind             `json:"kind"`
		Name    string                   `json:"name"`
		Owner   string                   `json:"owner,omitempty"`
		Changes []reconciler.FieldChange `json:"changes,omitempty"`
	}
	type object struct {
		Object  string                   `json:"object"`
		Op      string                   `json:"op"`
		Changes []reconciler.FieldChange `json:"changes,omitempty"`
	}
	type config struct {
		Gateway string `json:"gateway"`
		Diff    string `json:"diff"`
	}
	doc := struct {
		Objects  []object `json:"objects"`
		Actions  []action `json:"actions"`
		Orphans  []action `json:"orphans,omitempty"`
		Warnings []string `json:"warnings,omitempty"`
		Configs  []config `json:"configs,omitempty"`
	}{Objects: []object{}, Actions: []action{}, Warnings: pass.Plan.Warnings}
	for _, oc := range reconciler.ObjectChanges(pass) {
		doc.Objects = append(doc.Objects, object{Object: oc.Owner, Op: oc.Op, Changes: oc.Changes})
	}
	conv := func(a planner.Action) action {
		out := action{Op: a.Op, Kind: a.Kind, Name: a.Name, Owner: a.Owner}
		for _, c := range a.Changes {
			out.Changes = append(out.Changes, reconciler.FieldChange{Field: c.Field, Old: c.Old, New: c.New})
		}
		return out
	}
	for _, a := range pass.Plan.Actions {
		doc.Actions = append(doc.Actions, conv(a))
	}
	for _, a := range pass.Plan.Orphans {
		doc.Orphans = append(doc.Orphans, conv(a))
	}
	for _, gw := range slices.Sorted(maps.Keys(configs)) {
		d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(configs[gw][0]), B: difflib.SplitLines(configs[gw][1]),
			FromFile: "gateway/" + gw + " (applied)", ToFile: "gateway/" + gw + " (after apply)", Context: 3})
		if err != nil {
			return err
		}
		doc.Configs = append(doc.Configs, config{Gateway: gw, Diff: d})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
