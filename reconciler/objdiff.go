package reconciler

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

// ObjectChange is how a pass changes one applied object, in the terms of its manifest: added,
// deleted, or the fields that change ("spec.hostnames[1]").
type ObjectChange struct {
	Owner   string
	Op      string // "add", "change" or "delete"
	Changes []FieldChange
}

// FieldChange is one manifest field a pass changes; Old or New is empty when the field is added
// or removed. Values that may be secrets (environment variables) are masked.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// ObjectChanges compares the applied objects before the pass with those it converges to and lists
// what changes, object by object, in canonical order. Objects the plan leaves alone (out of scope)
// are not listed.
func ObjectChanges(p *Pass) []ObjectChange {
	before := map[string]v1alpha1.Object{}
	for _, o := range p.Stored {
		before[inventory.OwnerOf(o).String()] = o
	}
	after := map[string]v1alpha1.Object{}
	for _, o := range p.Objects {
		after[inventory.OwnerOf(o).String()] = o
	}
	written := map[string]bool{}
	for _, a := range p.Plan.Actions {
		written[a.Owner] = true
	}
	var out []ObjectChange
	for _, owner := range slices.Sorted(maps.Keys(union(before, after))) {
		if !written[owner] {
			continue
		}
		b, inBefore := before[owner]
		a, inAfter := after[owner]
		switch {
		case !inBefore:
			out = append(out, ObjectChange{Owner: owner, Op: "add", Changes: fieldChanges(nil, a)})
		case !inAfter:
			out = append(out, ObjectChange{Owner: owner, Op: "delete"})
		default:
			if ch := fieldChanges(b, a); len(ch) > 0 {
				out = append(out, ObjectChange{Owner: owner, Op: "change", Changes: ch})
			}
		}
	}
	return out
}

// union is the set of the keys of two maps.
func union[V any](a, b map[string]V) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// secretField matches the fields whose values may not be shown: environment variable values,
// hidden when they may be credentials.
var secretField = regexp.MustCompile(`\.env\[\d+\]\.value$`)

// fieldChanges lists the leaf fields of two objects' specs (and labels) that differ.
func fieldChanges(before, after v1alpha1.Object) []FieldChange {
	old, new := flatten(before), flatten(after)
	var out []FieldChange
	for _, f := range slices.Sorted(maps.Keys(union(old, new))) {
		o, n := old[f], new[f]
		if o == n {
			continue
		}
		if secretField.MatchString(f) {
			name := strings.TrimSuffix(f, ".value") + ".name"
			if secretLike(new[name], n) || secretLike(old[name], o) {
				o, n = mask(o, "(a value)"), mask(n, "(a value)")
				if o != "" && n != "" {
					n = "(another value)"
				}
			}
		}
		out = append(out, FieldChange{Field: f, Old: o, New: n})
	}
	return out
}

// secretLike is v1alpha1.SecretLike of a variable's flattened (JSON) name and value.
func secretLike(name, value string) bool {
	var n, v string
	_ = json.Unmarshal([]byte(name), &n)
	_ = json.Unmarshal([]byte(value), &v)
	return v1alpha1.SecretLike(n, v)
}

func mask(v, as string) string {
	if v == "" {
		return ""
	}
	return as
}

// flatten turns an object's metadata labels and spec into leaf paths and JSON values.
func flatten(o v1alpha1.Object) map[string]string {
	out := map[string]string{}
	if o == nil {
		return out
	}
	b, err := json.Marshal(o)
	if err != nil {
		return out
	}
	var doc map[string]any
	if json.Unmarshal(b, &doc) != nil {
		return out
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		default:
			j, _ := json.Marshal(v)
			out[path] = string(j)
		}
	}
	if m, ok := doc["metadata"].(map[string]any); ok && m["labels"] != nil {
		walk("metadata.labels", m["labels"])
	}
	walk("spec", doc["spec"])
	return out
}

// GatewayConfigs renders, for each gateway the pass changes, its nginx config before (from the
// applied objects) and after: what `diff --show-config` compares. A gateway added or deleted has
// one side empty.
func GatewayConfigs(p *Pass, opts nginx.Options) (map[string][2]string, error) {
	render := func(objs []v1alpha1.Object) (map[string]string, error) {
		routes, grpc := nginx.RoutesOf(objs)
		out := map[string]string{}
		opts := opts
		opts.GRPCRoutes = grpc
		opts.Grants = v1alpha1.GrantsOf(objs)
		opts.Policies = nginx.PoliciesOf(objs)
		for _, o := range objs {
			if gw, ok := o.(*v1alpha1.Gateway); ok {
				conf, err := nginx.Render(gw, routes, opts)
				if err != nil {
					return nil, fmt.Errorf("gateway %s: %w", gw.Metadata.Name, err)
				}
				out[gw.Metadata.QualifiedName()] = string(conf)
			}
		}
		return out, nil
	}
	before, err := render(p.Stored)
	if err != nil {
		return nil, err
	}
	after, err := render(p.Objects)
	if err != nil {
		return nil, err
	}
	out := map[string][2]string{}
	for gw := range union(before, after) {
		if before[gw] != after[gw] {
			out[gw] = [2]string{before[gw], after[gw]}
		}
	}
	return out, nil
}
