package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/controller"
	"github.com/swarmgate/swarmgate/reconciler/planner"
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
		Use:   "get [KIND [NAME]] -f PATH...",
		Short: "Show each object's desired versus actual state",
		Long: `For every object of the manifests (or of one kind, or one object), show
whether the swarm matches it (SYNCED), differs (DRIFTED, with the fields) or
lacks it (MISSING), its running and desired tasks, the config secret a
gateway uses, and its conditions (Accepted, ResolvedRefs, Programmed, Ready).`,
		Example: `  swarmgate get -f manifests/
  swarmgate get route dmzhttp -f manifests/ -o yaml

  # Ask a running operator (swarmgate run) instead of reading manifests
  swarmgate get --server http://manager1:9090`,
		GroupID: "basic",
		Args:    cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var statuses []reconciler.ObjectStatus
			var configs map[string]controller.GatewayConfigStatus
			if server != "" {
				token, err := readToken("--token-file", tokenFile)
				if err != nil {
					return &exitCodeError{code: exitFail, msg: err.Error()}
				}
				doc, err := fetchStatus(cmd.Context(), server, token)
				if err != nil {
					return err
				}
				statuses, configs = doc.Objects, doc.GatewayConfigs
			} else {
				var err error
				if statuses, err = localStatus(cmd, &files, &engine); err != nil {
					return err
				}
			}
			statuses, err := selectStatuses(statuses, args)
			if err != nil {
				return &exitCodeError{code: exitFail, msg: err.Error()}
			}
			if err := printStatuses(cmd, statuses, output); err != nil {
				return err
			}
			if len(configs) > 0 && (output == "" || output == "wide") {
				printGatewayConfigs(cmd.OutOrStdout(), configs)
			}
			return nil
		},
	}
	files.addFlags(cmd)
	engine.addFlags(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide, yaml or json (default: a table)")
	cmd.Flags().StringVar(&server, "server", "", "URL of a running `swarmgate run` to ask instead of reading manifests")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "with --server: file holding the operator's --read-token-file token")
	cmd.MarkFlagsOneRequired("filename", "server")
	cmd.MarkFlagsMutuallyExclusive("filename", "server")
	return cmd
}

// localStatus computes the status of the manifests' objects against the swarm.
func localStatus(cmd *cobra.Command, files *fileOptions, engine *engineOptions) ([]reconciler.ObjectStatus, error) {
	objs, r, c, err := engine.session(cmd, files)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// A gateway with agents serves what the operator hands them, not its bootstrap secret: a
	// bootstrap older than the routes is no drift (get --server shows what each task serves).
	pass, err := r.Plan(cmd.Context(), objs, planner.Options{KeepAgentConfigs: true}, true)
	if err != nil {
		return nil, err
	}
	pass.ObserveVirtualIPs(cmd.Context())
	return reconciler.Status(objs, pass), nil
}

// fetchStatus reads GET /status of a running operator.
func fetchStatus(ctx context.Context, server, token string) (*controller.StatusDocument, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+"/status", nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/status answered %s", server, resp.Status)
	}
	var doc controller.StatusDocument
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s/status: %w", server, err)
	}
	return &doc, nil
}

// selectStatuses keeps the statuses of one kind (case-insensitive, singular or plural) and name.
func selectStatuses(all []reconciler.ObjectStatus, args []string) ([]reconciler.ObjectStatus, error) {
	if len(args) == 0 {
		return all, nil
	}
	var kind v1alpha1.Kind
	for _, k := range v1alpha1.Kinds {
		if a := strings.ToLower(args[0]); a == strings.ToLower(string(k)) || a == strings.ToLower(string(k))+"s" {
			kind = k
		}
	}
	if kind == "" {
		return nil, fmt.Errorf("unknown kind %q: want one of gateway, route, virtualip, zone", args[0])
	}
	var out []reconciler.ObjectStatus
	for _, s := range all {
		if s.Kind == kind && (len(args) < 2 || s.Name == args[1]) {
			out = append(out, s)
		}
	}
	if len(args) == 2 && len(out) == 0 {
		return nil, fmt.Errorf("%s %q is in no manifest", kind, args[1])
	}
	return out, nil
}

func printStatuses(cmd *cobra.Command, statuses []reconciler.ObjectStatus, output string) error {
	w := cmd.OutOrStdout()
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(statuses)
	case "yaml":
		b, err := yaml.Marshal(statuses)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "", "wide":
	default:
		return &exitCodeError{code: exitFail, msg: fmt.Sprintf("--output %q: want wide, yaml or json", output)}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "KIND\tNAME\tSTATUS\tTASKS\tREADY"
	if output == "wide" {
		header += "\tCONFIG\tDETAILS"
	}
	fmt.Fprintln(tw, header)
	for _, s := range statuses {
		ready, detail := string(v1alpha1.ConditionFalse), strings.Join(s.Drift, "; ")
		if c := s.Condition(v1alpha1.ConditionReady); c != nil {
			ready = string(c.Status)
			if s.Kind == v1alpha1.KindVirtualIP && detail == "" {
				detail = c.Message // who holds the address
			}
		}
		tasks := "-"
		if s.Desired > 0 {
			tasks = fmt.Sprintf("%d/%d", s.Running, s.Desired)
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", s.Kind, s.Name, s.Status, tasks, ready)
		if output == "wide" {
			line += fmt.Sprintf("\t%s\t%s", orDash(s.Config), orDash(detail))
		} else if detail != "" {
			line += "\t(" + detail + ")"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printGatewayConfigs shows, for each gateway with agents, the config each task serves: a task
// on another config than the desired one is converging (its agent takes the new one at once), or
// refuses it (with nginx's reason).
func printGatewayConfigs(w io.Writer, configs map[string]controller.GatewayConfigStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nGATEWAY\tTASK\tSERVES\tDESIRED\tSTATE")
	for _, gw := range slices.Sorted(maps.Keys(configs)) {
		c := configs[gw]
		for _, task := range c.Tasks {
			state := "current"
			switch {
			case task.Rejected == c.Desired:
				state = "refuses the desired config: " + task.Error
			case task.Served != c.Desired:
				state = "converging"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", gw, task.Task, task.Served, c.Desired, state)
		}
	}
	_ = tw.Flush()
}
