package validation

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
)

// hostile is the largest cross-route check the list limits allow: a Gateway with 64 listeners and
// Routes on all of them, each with 16 hostnames and 16 rules of 64 matches.
func hostile(routes int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  listeners:\n")
	for i := range 64 {
		fmt.Fprintf(&b, "    - {name: l%d, port: %d}\n", i, 1000+i)
	}
	for r := range routes {
		fmt.Fprintf(&b, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: r%d}\nspec:\n  parentRefs: [{name: gw}]\n  hostnames: [", r)
		for h := range 16 {
			fmt.Fprintf(&b, "h%d.example,", h)
		}
		b.WriteString("]\n  rules:\n")
		for range 16 {
			b.WriteString("    - backendRefs: [{name: s, port: 80}]\n      matches:\n")
			for m := range 64 {
				fmt.Fprintf(&b, "        - path: {value: /r%d/%d}\n", r, m)
			}
		}
	}
	return []byte(b.String())
}

// BenchmarkValidateHostile reports the time and memory of validating hostile(4): about 180 KB of
// manifests that the old check (one key per listener, hostname and match) took gigabytes for.
func BenchmarkValidateHostile(b *testing.B) {
	data := hostile(4)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		objs, errs := manifest.Decode("hostile.yaml", data)
		for _, o := range objs {
			o.Default()
		}
		if errs := ValidateSnapshot(objs, errs); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
