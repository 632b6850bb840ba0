package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/cmd/internal/cli"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/operator"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

func newGetCommand() *cobra.Command {
	var (
		files     fileOptions
		engine    engineOptions
		output    string
		server    string
		tokenFile string
	)
	cmd := &cobra.Command{
		Use:   "get [KIND [NAME...] | KIND/NAME...] [-f PATH...]",
		Short: "Show the applied objects: are they in sync, are they healthy",
		Long: `Show every applied object (or those of one kind, or the named ones), read
from the swarm's store of applied objects: no manifest files needed, from any
manager. With -f, show the manifests' objects instead, as they would be once
applied.

SYNC says whether the swarm holds what the object asks for: Synced, or
OutOfSync with what differs. HEALTH says whether it serves: Healthy,
Progressing (tasks starting, an update rolling out, a job running), Degraded
(with the reason: tasks failing and the task's error, a job failed, an update
paused or rolled back, a backend not found, a virtual IP held by no node) or
Missing. A job (a Service) that succeeded is Healthy, and says so. The two are
apart: a Route scaled by hand is OutOfSync and Healthy; a Route whose backend
is missing is Synced and Degraded.`,
		Example: `  swarmgate get
  swarmgate get routes
  swarmgate get route dmzhttp -o yaml
  swarmgate get -o name
  swarmgate get route dmzhttp -o jsonpath='{.status.health}'

  # The manifests' objects, as they would be applied
  swarmgate get -f manifests/

  # Ask a running operator (swarmgate run)
  swarmgate get --server http://manager1:9090`,
		GroupID: "basic",
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				statuses []status.ObjectStatus
				objs     []v1alpha1.Object
				configs  map[string]status.GatewayAgents
				warnings []string
			)
			where := "instance " + engine.instance
			if server != "" {
				where = server
			}
			format, err := parseOutput(output)
			if err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			if server != "" {
				format.traffic = true
				token, err := cli.ReadToken("--token-file", tokenFile)
				if err != nil {
					return &exitCodeError{Code: exitFail, Msg: err.Error()}
				}
				doc, err := fetchStatus(cmd.Context(), server, token)
				if err != nil {
					return err
				}
				statuses, configs = doc.Objects, doc.GatewayConfigs
				if format.table() {
					printOperator(cmd.OutOrStdout(), doc)
				}
			} else if statuses, objs, warnings, err = localStatus(cmd, &files, &engine); err != nil {
				return err
			}
			statuses, err = selectStatuses(statuses, args)
			if err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			if len(statuses) == 0 && format.table() {
				// As kubectl says it: an empty table reads as a hang or a bug, and a mistyped
				// --instance as nothing applied. What a delete left behind is said too.
				fmt.Fprintf(cmd.ErrOrStderr(), "No resources found in %s.\n", where)
				for _, w := range warnings {
					slog.Warn(w, "reason", "Plan")
				}
				return nil
			}
			single := len(args) == 2 && !strings.Contains(args[0], "/") || len(args) == 1 && strings.Contains(args[0], "/")
			if err := format.print(cmd.OutOrStdout(), statuses, objs, single); err != nil {
				return err
			}
			if len(configs) > 0 && format.table() {
				printGatewayConfigs(cmd.OutOrStdout(), configs)
			}
			return nil
		},
	}
	files.addFlags(cmd)
	engine.addFlags(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide, yaml, json, name or jsonpath=TEMPLATE (default: a table)")
	cmd.Flags().StringVar(&server, "server", "", "`URL` of a running operator (swarmgate run) to ask instead of the swarm")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "with --server: file holding the operator's --read-token-file token")
	cmd.MarkFlagsMutuallyExclusive("filename", "server")
	return cmd
}

// localStatus computes the status of the applied objects, or of the manifests' objects (as they
// would be with the applied ones), against the swarm.
// It returns the plan's warnings too: what a delete left in place.
func localStatus(cmd *cobra.Command, files *fileOptions, engine *engineOptions) ([]status.ObjectStatus, []v1alpha1.Object, []string, error) {
	var (
		objs []v1alpha1.Object
		r    *reconciler.Reconciler
	)
	if len(files.paths) > 0 {
		o, rr, c, err := engine.session(cmd, files)
		if err != nil {
			return nil, nil, nil, err
		}
		defer c.Close()
		objs, r = o, rr
	} else {
		rr, c, err := engine.reconciler()
		if err != nil {
			return nil, nil, nil, err
		}
		defer c.Close()
		r = rr
	}
	// A gateway with agents serves what the operator hands them, not its bootstrap secret: a
	// bootstrap older than the routes is no drift (get --server shows what each task serves).
	pass, err := plan(cmd, r, reconciler.Input{Objects: objs}, planner.Options{KeepAgentConfigs: true}, true)
	if err != nil {
		return nil, nil, nil, err
	}
	pass.ObserveVirtualIPs(cmd.Context())
	statuses := pass.Status(nil)
	all := pass.Objects
	if len(files.paths) > 0 { // only the manifests' objects
		given := map[string]bool{}
		for _, o := range objs {
			given[inventory.OwnerOf(o).String()] = true
		}
		statuses = slices.DeleteFunc(statuses, func(s status.ObjectStatus) bool { return !given[inventory.NewOwner(s.Kind, s.Name).String()] })
		all = objs
	}
	return statuses, all, pass.Plan.Warnings, nil
}

// maxStatusSize bounds what get --server reads of /status: an operator's document for hundreds of
// objects is well under 1 MiB, and a server streaming without end must not take the CLI's memory.
const maxStatusSize = 8 << 20

// statusTimeout bounds a get --server request, the body's reading included.
const statusTimeout = 30 * time.Second

// fetchStatus reads GET /status of a running operator.
func fetchStatus(ctx context.Context, server, token string) (*operator.StatusDocument, error) {
	var doc operator.StatusDocument
	if err := fetchOperator(ctx, server, "/status", nil, token, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// fetchOperator reads a JSON document of a running operator into doc. What the server says is
// not trusted: its body is bounded in size and time, and its text is made terminal-safe where it
// is printed (errors by run). A refusal's reason (the body of a 4xx) is part of the error.
func fetchOperator(ctx context.Context, server, path string, query url.Values, token string, doc any) error {
	u := strings.TrimSuffix(server, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: statusTimeout}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusSize+1))
	if err != nil {
		return fmt.Errorf("%s%s: %w", server, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusBadRequest:
		return fmt.Errorf("%s%s: %s", server, path, strings.TrimSpace(string(body[:min(len(body), 4096)])))
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s%s answered %s", server, path, resp.Status)
	case len(body) > maxStatusSize:
		return fmt.Errorf("%s%s: the answer is larger than %d MiB", server, path, maxStatusSize>>20)
	}
	if err := json.Unmarshal(body, doc); err != nil {
		return fmt.Errorf("%s%s: %w", server, path, err)
	}
	return nil
}

// selectStatuses keeps the statuses of one kind and, if named, those objects: "KIND [NAME...]"
// or "KIND/NAME...".
func selectStatuses(all []status.ObjectStatus, args []string) ([]status.ObjectStatus, error) {
	if len(args) == 0 {
		return all, nil
	}
	if len(args) == 1 && !strings.Contains(args[0], "/") {
		kind, err := parseKind(args[0])
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(slices.Clone(all), func(s status.ObjectStatus) bool { return s.Kind != kind }), nil
	}
	owners, err := parseRefs(args)
	if err != nil {
		return nil, err
	}
	var out []status.ObjectStatus
	for _, o := range owners {
		i := slices.IndexFunc(all, func(s status.ObjectStatus) bool { return inventory.NewOwner(s.Kind, s.Name).String() == o })
		if i < 0 {
			return nil, fmt.Errorf("%s is not applied", o)
		}
		out = append(out, all[i])
	}
	return out, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printOperator heads get --server with what the operator is at: the revision applied and the
// newest seen, why they differ, and whether it is suspended.
func printOperator(w io.Writer, doc *operator.StatusDocument) {
	line := "operator: revision " + orDash(cli.TerminalSafe(doc.Revision, "")) + " applied"
	if doc.SeenRevision != "" && doc.SeenRevision != doc.Revision {
		line += ", " + cli.TerminalSafe(doc.SeenRevision, "") + " seen and not applied"
	}
	if doc.Suspended {
		line += "; suspended (POST /resume)"
	}
	fmt.Fprintln(w, line)
	if doc.LastError != "" {
		fmt.Fprintln(w, "last error: "+cli.TerminalSafe(doc.LastError, ""))
	}
	fmt.Fprintln(w)
}

// printGatewayConfigs shows, for each gateway with agents, the config each task serves and where
// it stands with the desired one.
func printGatewayConfigs(w io.Writer, configs map[string]status.GatewayAgents) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nGATEWAY\tTASK\tSERVES\tDESIRED\tSTATE")
	for _, gw := range slices.Sorted(maps.Keys(configs)) {
		c := configs[gw]
		for _, task := range c.Tasks {
			cells := []string{gw, task.Task, task.Served, c.Desired, c.TaskState(task)}
			for i, cell := range cells {
				cells[i] = cli.TerminalSafe(cell, "")
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
	}
	_ = tw.Flush()
}
