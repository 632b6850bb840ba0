package nginx

import (
	"strings"
	"testing"
)

// TestInternalNamesStable: a Route added (sorted before another) renames none of the other Route's
// internal locations, so a config diff shows only what changed.
func TestInternalNamesStable(t *testing.T) {
	const gateway = "apiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: gw}\nspec: {listeners: [{name: http, port: 8080}]}\n---\n"
	route := func(name string) string {
		return "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: " + name + "}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [app.example.com]\n" +
			"  rules:\n    - matches: [{path: {value: /" + name + "}, headers: [{name: X-Canary, value: \"1\"}]}]\n      backendRefs: [{name: " + name + "-canary, port: 80}]\n" +
			"    - matches: [{path: {value: /" + name + "}}]\n      backendRefs: [{name: " + name + ", port: 80}]\n---\n"
	}
	internal := func(conf []byte) []string {
		var out []string
		for _, l := range strings.Split(string(conf), "\n") {
			if strings.Contains(l, dispatchPrefix+"web/") {
				out = append(out, strings.TrimSpace(l))
			}
		}
		return out
	}
	gw, routes := loadInput(t, "one.yaml", []byte(gateway+route("web")))
	before, err := Render(gw, routes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gw, routes = loadInput(t, "two.yaml", []byte(gateway+route("api")+route("web")))
	after, err := Render(gw, routes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, a := internal(before), internal(after)
	if len(b) == 0 || strings.Join(b, "\n") != strings.Join(a, "\n") {
		t.Errorf("Route web's internal locations changed when Route api came:\nbefore:\n%s\nafter:\n%s", strings.Join(b, "\n"), strings.Join(a, "\n"))
	}
}
