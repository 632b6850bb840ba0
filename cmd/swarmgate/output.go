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
	"github.com/swarmgate/swarmgate/reconciler"
)

// outputFormat is what -o asks get for, with kubectl's names: a table (wide: more columns),
// yaml or json (the objects with their status), name ("route.swarmgate.io/dmzhttp"), or
// jsonpath=TEMPLATE (kubectl's JSONPath, over the same document json prints).
type outputFormat struct {
	kind     string
	jsonpath *jsonpath.JSONPath
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
func (f outputFormat) print(w io.Writer, statuses []reconciler.ObjectStatus, objs []v1alpha1.Object, single bool) error {
	switch f.kind {
	case "", "wide":
		return printTable(w, statuses, objs, f.kind == "wide")
	case "name":
		for _, s := range statuses {
			fmt.Fprintf(w, "%s.%s/%s\n", strings.ToLower(string(s.Kind)), group(), s.Name)
		}
		return nil
	}
	doc, err := document(statuses, objs, single)
	if err != nil {
		return err
	}
	switch f.kind {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "yaml":
		b, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if err := f.jsonpath.Execute(w, doc); err != nil {
		return &exitCodeError{code: exitFail, msg: fmt.Sprintf("--output jsonpath: %v", err)}
	}
	fmt.Fprintln(w)
	return nil
}

func group() string { return strings.Split(v1alpha1.GroupVersion, "/")[0] }

// document is what yaml, json and jsonpath print: each object (apiVersion, kind, metadata,
// spec) with its status, as generic JSON so that JSONPath walks it as kubectl's does.
func document(statuses []reconciler.ObjectStatus, objs []v1alpha1.Object, single bool) (any, error) {
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

// printTable writes one line per object: its sync and health, and why, side by side.
func printTable(w io.Writer, statuses []reconciler.ObjectStatus, objs []v1alpha1.Object, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "KIND\tNAME\tSYNC\tHEALTH\tTASKS\tMESSAGE"
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
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", s.Kind, s.Name, s.Sync, s.Health, tasks, orDash(strings.Join(msg, "; ")))
		if wide {
			hosts, ports := served(byOwner[string(s.Kind)+"/"+s.Name])
			line += "\t" + orDash(strings.Join(hosts, ",")) + "\t" + orDash(strings.Join(ports, ",")) + "\t" + orDash(s.Config)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// served lists what an object serves, for get -o wide: a Route's hostnames; a Gateway's listener
// hostnames and ports ("8443/HTTPS"). Unknown objects (get --server) serve "-".
func served(o v1alpha1.Object) (hosts, ports []string) {
	switch o := o.(type) {
	case *v1alpha1.Route:
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
