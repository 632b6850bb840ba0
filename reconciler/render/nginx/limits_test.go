package nginx

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// TestLimitsNginxTakes renders the largest names and counts validation admits and checks that the
// real nginx accepts the config: one team's long hostname or header must not take the gateway down.
func TestLimitsNginxTakes(t *testing.T) {
	label := strings.Repeat("a", 63)
	longHost := strings.Join([]string{label, label, label, strings.Repeat("b", 61)}, ".") // 253
	longHeader := "X-" + strings.Repeat("h", 254)                                         // 256
	route := func(name, hosts, rules string) string {
		return fmt.Sprintf("---\napiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: %s}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [%s]\n  rules:\n%s", name, hosts, rules)
	}
	manyHosts := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(route(fmt.Sprintf("r%d", i), fmt.Sprintf("host-%d.example.com", i), "    - backendRefs: [{name: s, port: 80}]\n"))
		}
		return b.String()
	}
	manyConditions := func(n int) string {
		var b strings.Builder
		b.WriteString("    - backendRefs: [{name: s, port: 80}]\n      matches:\n")
		for i := range n {
			fmt.Fprintf(&b, "        - {path: {value: /c%d}, headers: [{name: X-C%d, value: v%d}]}\n", i, i, i)
		}
		return b.String()
	}
	for _, tt := range []struct{ name, routes string }{
		{"a 253-character hostname", route("long", longHost, "    - backendRefs: [{name: s, port: 80}]\n")},
		{"900 hostnames", manyHosts(900)},
		{"a 256-character header name set on requests", route("hdr", "a.example", "    - backendRefs: [{name: s, port: 80}]\n      filters:\n        - type: RequestHeaderModifier\n          requestHeaderModifier: {set: [{name: "+longHeader+", value: v}], add: [{name: "+longHeader[:250]+"-2, value: v}]}\n")},
		{"a 256-character header name matched", route("match", "a.example", "    - backendRefs: [{name: s, port: 80}]\n      matches: [{headers: [{name: "+longHeader+", value: v}]}]\n")},
		{"1,000 header conditions", route("conds", "a.example", manyConditions(64)) + strings.ReplaceAll(route("conds2", "b.example", manyConditions(64)), "X-C", "X-D")},
		{"a value of 300 dollars", route("dollars", "a.example", "    - backendRefs: [{name: s, port: 80}]\n      filters:\n        - type: RequestHeaderModifier\n          requestHeaderModifier: {set: [{name: X-D, value: \""+strings.Repeat("$", 300)+"\"}]}\n")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw, routes := loadInput(t, "limits.yaml", []byte("apiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  listeners: [{name: http, port: 8080}]\n"+tt.routes))
			// 900 servers take more than a swarm secret holds once each logs its listener and
			// rules: a gateway this large has agents, and their limit.
			conf, err := Render(gw, routes, Options{MaxSize: contract.MaxAgentConfigSize})
			if err != nil {
				t.Fatal(err)
			}
			nginxTest(t, conf)
		})
	}
}

// TestValueTooLongForNginx: a value whose escaped form nginx cannot read as one token is refused,
// naming the route and rule, before any config is written.
func TestValueTooLongForNginx(t *testing.T) {
	gw, routes := loadInput(t, "dollars.yaml", []byte(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 8080}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: money}
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.example]
  rules:
    - backendRefs: [{name: s, port: 80}]
    - backendRefs: [{name: s, port: 80}]
      matches: [{path: {value: /x}}]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: {set: [{name: X-D, value: "`+strings.Repeat("$", 400)+`"}]}
`))
	_, err := Render(gw, routes, Options{})
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Route.Metadata.Name != "money" || ve.Field != "spec.rules[1]" {
		t.Fatalf("want a ValueError on Route money spec.rules[1], got %v", err)
	}
}
