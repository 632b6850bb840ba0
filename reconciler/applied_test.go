package reconciler

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"sigs.k8s.io/yaml"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

func TestStoredMergeAndScope(t *testing.T) {
	config := func(name, owner, data string, age time.Duration) swarm.Config {
		if j, err := yaml.YAMLToJSON([]byte(data)); err == nil {
			data = string(j) // the store keeps JSON
		}
		return swarm.Config{Meta: swarm.Meta{CreatedAt: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).Add(-age)},
			Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name, Labels: map[string]string{inventory.LabelOwner: owner}}, Data: []byte(data)}}
	}
	route := func(name, gateway, host string) string {
		return "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: " + name + "}\nspec: {parentRefs: [{name: " + gateway +
			"}], hostnames: [" + host + "], rules: [{backendRefs: [{name: x, port: 80}]}]}\n"
	}
	gateway := func(name string) string {
		return "apiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: " + name + "}\nspec: {listeners: [{name: http, port: 8080}]}\n"
	}
	configs := []swarm.Config{
		config("gw-a", "Gateway/a", gateway("a"), time.Hour),
		config("gw-b", "Gateway/b", strings.Replace(gateway("b"), "8080", "8081", 1), time.Hour),
		config("r1-old", "Route/r1", route("r1", "a", "old.example"), time.Hour),
		config("r1-new", "Route/r1", route("r1", "a", "new.example"), time.Minute), // a pass stopped before removing r1-old
		config("r2", "Route/r2", route("r2", "a", "two.example"), time.Hour),
		config("bad", "Route/gone", "kind: Nonsense\n", time.Hour),
	}
	if _, err := Stored(configs, nil); err == nil || !strings.Contains(err.Error(), "swarm config bad doc 1: Route/gone: cannot be read") {
		t.Fatalf("an unreadable entry: %v", err)
	}
	stored, err := Stored(configs, []string{"Route/gone"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range stored {
		names = append(names, v1alpha1.Ref(o))
		if rt, ok := o.(*v1alpha1.Route); ok && rt.Metadata.Name == "r1" && rt.Spec.Hostnames[0] != "new.example" {
			t.Errorf("r1 is the older version: %v", rt.Spec.Hostnames)
		}
	}
	if got := strings.Join(names, ","); got != "Gateway a,Gateway b,Route r1,Route r2" {
		t.Errorf("stored: %s", got)
	}

	// r2 moves from gateway a to b: both gateways are in scope, r1 and the gateways stay applied.
	moved, _ := Stored([]swarm.Config{config("r2", "Route/r2", route("r2", "b", "two.example"), 0)}, nil)
	in := Input{Objects: moved}
	merged := merge(in, stored)
	var refs []string
	for _, o := range merged {
		refs = append(refs, v1alpha1.Ref(o))
	}
	if got := strings.Join(refs, ","); got != "Gateway a,Gateway b,Route r1,Route r2" { // the given r2 last
		t.Errorf("merged: %s", got)
	}
	if got := strings.Join(scope(in, stored), ","); got != "Gateway/a,Gateway/b,Route/r2" {
		t.Errorf("scope: %s", got)
	}
	if got := merge(Input{Objects: moved, All: true}, stored); len(got) != 1 {
		t.Errorf("all: %d objects, want only the one given", len(got))
	}

	// Deleting gateway a while r1 still attaches to it is refused, naming r1's field.
	in = Input{Delete: []string{"Gateway/a"}}
	err = deletable(merge(in, stored), in.Delete)
	if err == nil || !strings.Contains(err.Error(), "Route r1: spec.parentRefs[0].name: needs Gateway a, which is being deleted") {
		t.Errorf("delete of a gateway in use: %v", err)
	}
	in = Input{Delete: []string{"Gateway/a", "Route/r1", "Route/r2"}}
	if err := deletable(merge(in, stored), in.Delete); err != nil {
		t.Errorf("delete of a gateway with its routes: %v", err)
	}
}

// TestVRRPSalts: a VirtualIP with a password keeps its store entry's salt while the password is
// the one stored; a new password, a VirtualIP not stored or stored without a salt (by an earlier
// version) draw a new one; one without a password has none.
func TestVRRPSalts(t *testing.T) {
	vip := func(name, password string) v1alpha1.Object {
		v := &v1alpha1.VirtualIP{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindVirtualIP}, Metadata: v1alpha1.ObjectMeta{Name: name}}
		if password != "" {
			v.Spec.Auth = &v1alpha1.VRRPAuth{Password: password}
		}
		return v
	}
	entry := func(owner, salt string, age time.Duration) swarm.Config {
		labels := map[string]string{inventory.LabelOwner: owner}
		if salt != "" {
			labels[inventory.LabelVRRPSalt] = salt
		}
		return swarm.Config{Meta: swarm.Meta{CreatedAt: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).Add(-age)},
			Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: owner + salt, Labels: labels}}}
	}
	stored := []v1alpha1.Object{vip("kept", "s3cret"), vip("changed", "old"), vip("unsalted", "s3cret"), vip("open", "")}
	entries := []swarm.Config{entry("VirtualIP/kept", "salt-old", time.Hour), entry("VirtualIP/kept", "salt-kept", time.Minute),
		entry("VirtualIP/changed", "salt-changed", time.Hour), entry("VirtualIP/unsalted", "", time.Hour), entry("VirtualIP/open", "", time.Hour)}
	objs := []v1alpha1.Object{vip("kept", "s3cret"), vip("changed", "new"), vip("unsalted", "s3cret"), vip("open", ""), vip("added", "pw")}
	salts, err := vrrpSalts(objs, stored, entries)
	if err != nil {
		t.Fatal(err)
	}
	again, err := vrrpSalts(objs, stored, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		owner string
		want  string // "new": drawn at random, "": none
	}{
		{"VirtualIP/kept", "salt-kept"},
		{"VirtualIP/changed", "new"},
		{"VirtualIP/unsalted", "new"},
		{"VirtualIP/added", "new"},
		{"VirtualIP/open", ""},
	} {
		got, ok := salts[tc.owner]
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s: a salt for a VirtualIP without a password", tc.owner)
		case tc.want == "new" && (len(got) != 32 || got == again[tc.owner]):
			t.Errorf("%s: salt %q (then %q), want a new random one", tc.owner, got, again[tc.owner])
		case tc.want != "new" && got != tc.want:
			t.Errorf("%s: salt %q, want %q", tc.owner, got, tc.want)
		}
	}
}
