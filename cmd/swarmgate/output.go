package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/cmd/internal/cli"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// outputFormat is what -o asks get for, with kubectl's names: a table (wide: more columns),
// yaml or json (the objects with their status), name ("route.swarmgate.io/dmzhttp"), or
// jsonpath=TEMPLATE (kubectl's JSONPath, over the same document json prints).
type outputFormat struct {
	kind     string
	jsonpath *jsonpath.JSONPath
	// traffic adds the Routes' traffic columns to a table (get --server: an operator has them).
	traffic bool
}

func parseOutput(o string) (outputFormat, error) {
	switch {
	case o == "", o == "wide", o == "yaml", o == "json", o == "name":
		return outputFormat{kind: o}, nil
	case strings.HasPrefix(o, "jsonpath="):
		jp := jsonpath.New("output").AllowMissingKeys(false)
		if err := jp.Parse(strings.TrimPrefix(o, "jsonpath=")); err != nil {
			return outputFormat{}, fmt.Errorf("--output jsonpath: %w", err)
		}
		return outputFormat{kind: "jsonpath", jsonpath: jp}, nil
	}
	return outputFormat{}, fmt.Errorf("--output %q: want wide, yaml, json, name or jsonpath=TEMPLATE", o)
}

func (f outputFormat) table() bool { return f.kind == "" || f.kind == "wide" }

// print writes the statuses. objs, when known (not from --server), are the objects the statuses
// are of: yaml, json and jsonpath print them, with their status, as kubectl does; one object
// asked for by name prints alone, others as a List.
func (f outputFormat) print(w io.Writer, statuses []status.ObjectStatus, objs []v1alpha1.Object, single bool) error {
	switch f.kind {
	case "", "wide":
		return printTable(w, statuses, objs, f.kind == "wide", f.traffic)
	case "name":
		for _, s := range statuses {
			fmt.Fprintf(w, "%s.%s/%s\n", cli.TerminalSafe(strings.ToLower(string(s.Kind)), ""), group(), cli.TerminalSafe(s.Name, ""))
		}
		return nil
	}
	doc, err := document(statuses, objs, single)
	if err != nil {
		return err
	}
	// The encoders escape control characters but not Unicode's bidirectional overrides.
	switch f.kind {
	case "json":
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, cli.TerminalSafe(string(b), "\n"))
		return err
	case "yaml":
		b, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, cli.TerminalSafe(string(b), "\n"))
		return err
	}
	var out strings.Builder
	if err := f.jsonpath.Execute(&out, doc); err != nil {
		return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("--output jsonpath: %v", err)}
	}
	_, err = fmt.Fprintln(w, cli.TerminalSafe(out.String(), "\t\n"))
	return err
}

func group() string { return strings.Split(v1alpha1.GroupVersion, "/")[0] }

// document is what yaml, json and jsonpath print: each object (apiVersion, kind, metadata,
// spec) with its status, as generic JSON so that JSONPath walks it as kubectl's does.
func document(statuses []status.ObjectStatus, objs []v1alpha1.Object, single bool) (any, error) {
	items := make([]any, 0, len(statuses))
	for _, st := range statuses {
		item := map[string]any{}
		for _, o := range objs {
			if o.GetTypeMeta().Kind == st.Kind && o.GetObjectMeta().Name == st.Name {
				b, err := json.Marshal(o)
				if err != nil {
					return nil, err
				}
				if err := json.Unmarshal(b, &item); err != nil {
					return nil, err
				}
			}
		}
		b, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		var status any
		if err := json.Unmarshal(b, &status); err != nil {
			return nil, err
		}
		if len(item) == 0 { // from --server: the status alone
			item = map[string]any{"apiVersion": v1alpha1.GroupVersion, "kind": string(st.Kind), "metadata": map[string]any{"name": st.Name}}
		}
		item["status"] = status
		items = append(items, item)
	}
	if single && len(items) == 1 {
		return items[0], nil
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, nil
}

// printTable writes one line per object: its sync and health, and why, side by side; with
// traffic, a Route's requests per second, error ratio and 95th percentile duration (blank when
// the operator has none).
func printTable(w io.Writer, statuses []status.ObjectStatus, objs []v1alpha1.Object, wide, traffic bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "KIND\tNAME\tSYNC\tHEALTH\tTASKS"
	if traffic {
		header += "\tREQ/S\tERRORS\tP95"
	}
	header += "\tMESSAGE"
	if wide {
		header += "\tHOSTNAMES\tPORTS\tCONFIG"
	}
	byOwner := make(map[string]v1alpha1.Object, len(objs))
	for _, o := range objs {
		byOwner[string(o.GetTypeMeta().Kind)+"/"+o.GetObjectMeta().Name] = o
	}
	fmt.Fprintln(tw, header)
	for _, s := range statuses {
		tasks := "-"
		if s.Desired > 0 {
			tasks = fmt.Sprintf("%d/%d", s.Running, s.Desired)
		}
		var msg []string
		if len(s.Drift) > 0 {
			msg = append(msg, "differs: "+strings.Join(s.Drift, ", "))
		}
		if s.Message != "" {
			msg = append(msg, s.Message)
		}
		if len(s.Policies) > 0 {
			// The target's side of policy attachment: what applies to it, and what does not.
			names := make([]string, len(s.Policies))
			for i, p := range s.Policies {
				names[i] = p.String()
			}
			msg = append(msg, "policies: "+strings.Join(names, ", "))
		}
		cells := []string{string(s.Kind), s.Name, string(s.Sync), string(s.Health), tasks}
		if traffic {
			cells = append(cells, trafficCells(s.Traffic)...)
		}
		cells = append(cells, orDash(strings.Join(msg, "; ")))
		if wide {
			hosts, ports := served(byOwner[string(s.Kind)+"/"+s.Name])
			cells = append(cells, orDash(strings.Join(hosts, ",")), orDash(strings.Join(ports, ",")), orDash(s.Config))
		}
		for i, c := range cells {
			cells[i] = cli.TerminalSafe(c, "")
		}
		line := strings.Join(cells, "\t")
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// trafficCells are a Route's traffic columns: blank without traffic data.
func trafficCells(t *status.Traffic) []string {
	if t == nil {
		return []string{"", "", ""}
	}
	return []string{fmt.Sprintf("%.1f", t.RequestsPerSecond), fmt.Sprintf("%.1f%%", 100*t.ErrorRatio), fmt.Sprintf("%.0fms", 1000*t.P95Seconds)}
}

// served lists what an object serves, for get -o wide: a Route's hostnames; a Gateway's listener
// hostnames and ports ("8443/HTTPS"). Unknown objects (get --server) serve "-".
func served(o v1alpha1.Object) (hosts, ports []string) {
	switch o := o.(type) {
	case *v1alpha1.Route:
		for _, h := range o.Spec.Hostnames {
			hosts = append(hosts, string(h))
		}
	case *v1alpha1.GRPCRoute:
		for _, h := range o.Spec.Hostnames {
			hosts = append(hosts, string(h))
		}
	case *v1alpha1.Gateway:
		for _, l := range o.Spec.Listeners {
			if l.Hostname != nil {
				hosts = append(hosts, string(*l.Hostname))
			}
			ports = append(ports, fmt.Sprintf("%d/%s", l.Port, l.Protocol))
		}
		slices.Sort(ports)
		ports = slices.Compact(ports)
	}
	return hosts, ports
}

// terminalSafeWriter writes what it is given terminal-safe, newlines kept: for printers of text
// that may come from an operator. Each Fprintf is one Write, so no rune is split.
type terminalSafeWriter struct{ w io.Writer }

func (t terminalSafeWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, cli.TerminalSafe(string(p), "\n")); err != nil {
		return 0, err
	}
	return len(p), nil
}
