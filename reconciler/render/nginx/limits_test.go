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
	manyHeaders := func(backends int) string {
		names := func(prefix string, n int) string {
			var out []string
			for i := range n {
				out = append(out, fmt.Sprintf("X-%s-%d%s", prefix, i, strings.Repeat("n", 56)))
			}
			return strings.Join(out, ", ")
		}
		modifier := func(prefix string) string {
			var set, add []string
			for i := range 16 {
				set = append(set, fmt.Sprintf("{name: X-%s-s%d%s, value: v}", prefix, i, strings.Repeat("n", 56)))
				add = append(add, fmt.Sprintf("{name: X-%s-a%d%s, value: v}", prefix, i, strings.Repeat("n", 56)))
			}
			return "{set: [" + strings.Join(set, ", ") + "], add: [" + strings.Join(add, ", ") + "], remove: [" + names(prefix+"-r", 16) + "]}"
		}
		var b strings.Builder
		b.WriteString("    - filters:\n        - {type: RequestHeaderModifier, requestHeaderModifier: " + modifier("q") + "}\n")
		b.WriteString("        - {type: ResponseHeaderModifier, responseHeaderModifier: " + modifier("p") + "}\n      backendRefs:\n")
		for i := range backends {
			fmt.Fprintf(&b, "        - {name: s%d, port: 80, filters: [{type: RequestHeaderModifier, requestHeaderModifier: %s}]}\n", i, modifier(fmt.Sprintf("b%d", i)))
		}
		return b.String()
	}
	for _, tt := range []struct{ name, routes string }{
		{"a match with every condition validation allows", route("conds33", "a.example", "    - backendRefs: [{name: s, port: 80}]\n      matches: [{method: GET, headers: ["+func() string {
			var h []string
			for i := range 16 {
				h = append(h, fmt.Sprintf("{name: X-H%d, value: v}", i))
			}
			return strings.Join(h, ", ")
		}()+"], queryParams: ["+func() string {
			var q []string
			for i := range 16 {
				q = append(q, fmt.Sprintf("{name: q%d, value: v}", i))
			}
			return strings.Join(q, ", ")
		}()+"]}]\n")},
		{"every header a rule and its 6 backends may change", route("many", "a.example", manyHeaders(6))},
		{"a 253-character hostname", route("long", longHost, "    - backendRefs: [{name: s, port: 80}]\n")},
		{"900 hostnames", manyHosts(900)},
		{"10,000 hostnames sharing a server, the longest and wildcards among them", manyHosts(9998) +
			route("longest", longHost+", '*."+longHost[2:]+"'", "    - backendRefs: [{name: s, port: 80}]\n") +
			route("wild", "'*.example.com', '*.host-1.example.com'", "    - backendRefs: [{name: w, port: 80}]\n")},
		{"a 256-character header name set on requests", route("hdr", "a.example", "    - backendRefs: [{name: s, port: 80}]\n      filters:\n        - type: RequestHeaderModifier\n          requestHeaderModifier: {set: [{name: "+longHeader+", value: v}], add: [{name: "+longHeader[:250]+"-2, value: v}]}\n")},
		{"a 256-character header name matched", route("match", "a.example", "    - backendRefs: [{name: s, port: 80}]\n      matches: [{headers: [{name: "+longHeader+", value: v}]}]\n")},
		{"1,000 header conditions", route("conds", "a.example", manyConditions(64)) + strings.ReplaceAll(route("conds2", "b.example", manyConditions(64)), "X-C", "X-D")},
		{"a 256-character header name removed from requests", route("rm", "a.example", "    - backendRefs: [{name: s, port: 80}]\n      filters:\n        - type: RequestHeaderModifier\n          requestHeaderModifier: {remove: ["+longHeader+"]}\n")},
		{"a 256-character header name set and removed on responses", route("resp", "a.example", "    - backendRefs: [{name: s, port: 80}]\n      filters:\n        - type: ResponseHeaderModifier\n          responseHeaderModifier: {set: [{name: "+longHeader+", value: v}], remove: ["+longHeader[:250]+"-2]}\n")},
		{"a 256-character header name on one backend", route("be", "a.example", "    - backendRefs:\n        - {name: s, port: 80, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: "+longHeader+", value: v}]}}]}\n")},
		{"a 256-character header name on weighted backends", route("bew", "a.example", "    - backendRefs:\n        - {name: s, port: 80, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: "+longHeader+", value: v}], remove: ["+longHeader[:250]+"-3]}}]}\n        - {name: t, port: 80}\n")},
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
// naming the route and rule, before any config is written: wherever the renderer writes it (the
// location, or a map at the http level).
func TestValueTooLongForNginx(t *testing.T) {
	dollars := strings.Repeat("$", 400)
	var allowHeaders []string
	for i := range 16 {
		allowHeaders = append(allowHeaders, fmt.Sprintf("X-%d%s", i, strings.Repeat("h", 252)))
	}
	for _, tt := range []struct{ name, rule string }{
		{"a header set on requests", `      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: {set: [{name: X-D, value: "` + dollars + `"}]}
      backendRefs: [{name: s, port: 80}]`},
		{"a header set on one of weighted backends", `      backendRefs:
        - {name: s, port: 80, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-D, value: "` + dollars + `"}]}}]}
        - {name: t, port: 80}`},
		{"CORS allowHeaders", `      filters: [{type: CORS, cors: {allowOrigins: ["https://a.example"], allowHeaders: [` + strings.Join(allowHeaders, ", ") + `]}}]
      backendRefs: [{name: s, port: 80}]`},
		{"a CORS origin", `      filters: [{type: CORS, cors: {allowOrigins: ["https://` + strings.Repeat("a", 4090) + `.example"]}}]
      backendRefs: [{name: s, port: 80}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw, routes := loadInput(t, "long.yaml", []byte(`apiVersion: swarmgate.io/v1alpha1
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
    - matches: [{path: {value: /x}}]
`+tt.rule+"\n"))
			_, err := Render(gw, routes, Options{})
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Route.Metadata.Name != "money" || ve.Field != "spec.rules[1]" {
				t.Fatalf("want a ValueError on Route money spec.rules[1], got %v", err)
			}
		})
	}
}
