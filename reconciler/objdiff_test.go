package reconciler

import (
	"reflect"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

func TestObjectChangesAndGatewayConfigs(t *testing.T) {
	decode := func(yaml string) []v1alpha1.Object {
		t.Helper()
		objs, errs := manifest.Decode("test.yaml", []byte(yaml))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, o := range objs {
			o.Default()
		}
		return objs
	}
	const gw = "apiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: gw}\nspec: {listeners: [{name: http, port: 8080}]}\n---\n"
	route := func(name, hosts, env string) string {
		return "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: " + name + "}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [" + hosts +
			"]\n  rules: [{backendRefs: [{name: " + name + "}]}]\n  services: [{name: " + name + ", image: app:1, port: 80, env: [{name: PASSWORD, value: " + env + "}]}]\n---\n"
	}
	pass := &Pass{
		Stored:  decode(gw + route("a", "a.example", "hunter2") + route("gone", "gone.example", "x")),
		Objects: decode(gw + route("a", "a.example, b.example", "hunter3") + route("new", "new.example", "why")),
		Plan: &planner.Plan{Actions: []planner.Action{
			{Owner: "Gateway/gw"}, {Owner: "Route/a"}, {Owner: "Route/gone"}, {Owner: "Route/new"},
		}},
	}
	got := ObjectChanges(pass)
	var ops []string
	for _, oc := range got {
		ops = append(ops, oc.Op+" "+oc.Owner)
	}
	if want := []string{"change Route/a", "delete Route/gone", "add Route/new"}; !reflect.DeepEqual(ops, want) {
		t.Errorf("objects: %q, want %q", ops, want)
	}
	want := []FieldChange{
		{Field: "spec.hostnames[1]", New: `"b.example"`},
		{Field: "spec.services[0].env[0].value", Old: "(a value)", New: "(another value)"},
	}
	if !reflect.DeepEqual(got[0].Changes, want) {
		t.Errorf("Route/a changes %+v, want %+v", got[0].Changes, want)
	}
	// A new object's credential reads as a value, not as "another" one.
	for _, c := range got[2].Changes {
		if strings.HasSuffix(c.Field, ".env[0].value") && c.New != "(a value)" {
			t.Errorf("Route/new %s: %q", c.Field, c.New)
		}
	}
	for _, oc := range got {
		for _, c := range oc.Changes {
			if strings.Contains(c.Old+c.New, "hunter") || strings.Contains(c.Old+c.New, "why") {
				t.Errorf("an environment value is shown: %+v", c)
			}
		}
	}

	configs, err := GatewayConfigs(pass, nginx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pair, ok := configs["gw"]
	if !ok || len(configs) != 1 || !strings.Contains(pair[0], "gone.example") || strings.Contains(pair[1], "gone.example") ||
		!strings.Contains(pair[1], "new.example") || !strings.Contains(pair[1], "b.example") {
		t.Errorf("gateway configs: %d gateways\nbefore:\n%s\nafter:\n%s", len(configs), pair[0], pair[1])
	}
}
