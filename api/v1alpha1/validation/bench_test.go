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

// shared is routes Routes with the same hostnames and matches, each on a listener of its own:
// the check for conflicting Routes must tell them apart by listener, not by walking every earlier
// claimant (which took minutes for a few thousand).
func shared(routes int) []byte {
	var b strings.Builder
	for g := range (routes + 63) / 64 {
		fmt.Fprintf(&b, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: gw%d}\nspec:\n  listeners:\n", g)
		for l := range 64 {
			fmt.Fprintf(&b, "    - {name: l%d, port: %d}\n", l, 1000+g*64+l)
		}
	}
	for r := range routes {
		fmt.Fprintf(&b, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: r%d}\nspec:\n", r)
		fmt.Fprintf(&b, "  parentRefs: [{name: gw%d, sectionName: l%d}]\n  hostnames: [a.example, b.example, c.example, d.example]\n  rules:\n", r/64, r%64)
		b.WriteString("    - backendRefs: [{name: s, port: 80}]\n      matches:\n")
		for m := range 8 {
			fmt.Fprintf(&b, "        - path: {value: /%d}\n", m)
		}
	}
	return []byte(b.String())
}

// BenchmarkValidateShared reports the time and memory of validating shared(4096).
func BenchmarkValidateShared(b *testing.B) {
	data := shared(4096)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		objs, errs := manifest.Decode("shared.yaml", data)
		for _, o := range objs {
			o.Default()
		}
		if errs := ValidateSnapshot(objs, errs); len(errs) > 0 {
			b.Fatal(errs[:1])
		}
	}
}
