// Command hostile writes the manifests hack/hostile.sh validates: gateways with agents (whose
// configs share one bound instead of a secret's size each) and Routes shaped to cost the most a
// byte of manifest can, or a large set that must validate.
//
//	hostile -shape limits|small|one|shared -out DIR [-gateways N] [-files N] [-bytes N]
//
// limits: Routes at every list limit (32 parentRefs, 16 hostnames, 16 rules of 64 matches) on
// gateways of 64 listeners, each Route its own hostnames; small: Routes of one hostname and two
// rules, one parentRef each; one: 10,000 small Routes on one gateway; shared: Routes with the
// same hostnames and matches, each on a listener of its own (one per listener of the gateways),
// which the check for conflicting Routes must tell apart by listener. Routes fill -files files of
// at most -bytes each; the gateways are in a file of their own.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	shape := flag.String("shape", "limits", "limits, small, one or shared")
	out := flag.String("out", "", "directory to write the manifests to")
	gateways := flag.Int("gateways", 120, "gateways with agents")
	files := flag.Int("files", 1, "files of Routes")
	size := flag.Int("bytes", 8<<20-4096, "most bytes of Routes a file holds")
	flag.Parse()
	if *out == "" {
		log.Fatal("-out is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	listeners, route, routes := 64, limitsRoute, -1
	switch *shape {
	case "limits":
	case "small":
		listeners, route = 1, smallRoute
	case "one":
		*gateways, listeners, route, routes = 1, 1, smallRoute, 10000
	case "shared":
		route, routes = sharedRoute, *gateways*listeners
	default:
		log.Fatalf("-shape %q: want limits, small, one or shared", *shape)
	}
	write(filepath.Join(*out, "gateways.yaml"), gatewayDocs(*gateways, listeners))
	n := 0
	for f := range *files {
		var docs strings.Builder
		for routes < 0 || n < routes {
			doc := route(n, *gateways)
			if docs.Len()+len(doc)+4 > *size {
				break
			}
			docs.WriteString("---\n" + doc)
			n++
		}
		write(filepath.Join(*out, fmt.Sprintf("routes-%d.yaml", f)), docs.String())
	}
}

func write(path, text string) {
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		log.Fatal(err)
	}
}

// gatewayDocs declares n gateways with agents, each with listeners listeners on ports of its own.
func gatewayDocs(n, listeners int) string {
	var b strings.Builder
	for g := range n {
		fmt.Fprintf(&b, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: gw%d}\nspec:\n", g)
		b.WriteString("  agent: {operatorURL: \"http://operator:9090\", tokenSecret: agent-token}\n  listeners:\n")
		for l := range listeners {
			fmt.Fprintf(&b, "    - {name: l%d, port: %d, protocol: HTTP}\n", l, 1000+g*listeners+l)
		}
	}
	return b.String()
}

// limitsRoute is Route i at every list limit, attached to 32 of the gateways.
func limitsRoute(i, gateways int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: r%d}\nspec:\n  parentRefs: [", i)
	for p := range min(32, gateways) {
		fmt.Fprintf(&b, "{name: gw%d},", (i+p)%gateways)
	}
	b.WriteString("]\n  hostnames: [")
	for h := range 16 {
		fmt.Fprintf(&b, "h%d.r%d.example,", h, i)
	}
	b.WriteString("]\n  rules:\n")
	for u := range 16 {
		b.WriteString("    - backendRefs: [{name: s, port: 80}]\n      matches:\n")
		for m := range 64 {
			fmt.Fprintf(&b, "        - path: {value: /%d/%d}\n", u, m)
		}
	}
	return b.String()
}

// smallRoute is Route i of one app: its hostname, a catch-all rule and a canary rule.
func smallRoute(i, gateways int) string {
	return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app-%d}
spec:
  parentRefs: [{name: gw%d}]
  hostnames: [app-%d.example.com]
  rules:
    - backendRefs: [{name: app-%d, port: 80}]
    - matches: [{path: {value: /api}, headers: [{name: X-Canary, value: "true"}]}]
      backendRefs: [{name: app-%d-canary, port: 80}]
`, i, i%gateways, i, i, i)
}

// sharedRoute is Route i on listener i%64 of gateway i/64, with the hostnames and matches of every
// other sharedRoute.
func sharedRoute(i, _ int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: r%d}\nspec:\n", i)
	fmt.Fprintf(&b, "  parentRefs: [{name: gw%d, sectionName: l%d}]\n  hostnames: [a.example, b.example, c.example, d.example]\n  rules:\n", i/64, i%64)
	for u := range 2 {
		b.WriteString("    - backendRefs: [{name: s, port: 80}]\n      matches:\n")
		for m := range 4 {
			fmt.Fprintf(&b, "        - path: {value: /%d/%d}\n", u, m)
		}
	}
	return b.String()
}
