package reconciler

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

// TestAgentConfigsShareOneBound: the configs of the gateways with agents share one bound, so that
// however many such gateways a manifest declares, validating them renders no more than it; the
// gateway whose config no longer fits is the one named.
func TestAgentConfigsShareOneBound(t *testing.T) {
	var docs []string
	for i := range 3 {
		docs = append(docs, fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw%d}
spec:
  agent: {operatorURL: "http://operator:9090", tokenSecret: agent-token}
  listeners: [{name: http, port: %d, protocol: HTTP}]
`, i, 8080+i))
	}
	docs = append(docs, `apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw0}, {name: gw1}, {name: gw2}]
  hostnames: [app.example.com]
  rules: [{backendRefs: [{name: app, port: 80}]}]
`)
	objs, err := loadBytes(t, "agents.yaml", []byte(strings.Join(docs, "---\n")))
	if err != nil {
		t.Fatal(err)
	}
	var route *v1alpha1.Route
	for _, o := range objs {
		if rt, ok := o.(*v1alpha1.Route); ok {
			route = rt
		}
	}
	conf, err := nginx.Render(objs[0].(*v1alpha1.Gateway), []*v1alpha1.Route{route}, nginx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Room for two configs and a half: the third gateway's is refused, and only it.
	errs := renderable(objs, 2*len(conf)+len(conf)/2)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Gateway gw2: its nginx config, with every Route attached, is over what is left of the") {
		t.Fatalf("want one error, on gw2; got %v", errs)
	}
	if errs := renderable(objs, 4*len(conf)); len(errs) != 0 {
		t.Fatalf("room for all: %v", errs)
	}
}

// TestAgentsFitCountsBeforeChecking: gateways with agents whose Routes are far over their shared
// bound (120 gateways of 64 listeners, Routes at every list limit on 32 of them) are refused by
// counting, before the check for conflicting Routes and rendering, and what refusing them
// allocates stays a small multiple of the manifests (it was gigabytes).
func TestAgentsFitCountsBeforeChecking(t *testing.T) {
	var b strings.Builder
	for g := range 120 {
		fmt.Fprintf(&b, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: gw%d}\nspec:\n  agent: {operatorURL: \"http://operator:9090\", tokenSecret: agent-token}\n  listeners:\n", g)
		for l := range 64 {
			fmt.Fprintf(&b, "    - {name: l%d, port: %d}\n", l, 1000+64*g+l)
		}
	}
	for r := range 16 {
		fmt.Fprintf(&b, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: r%d}\nspec:\n  parentRefs: [", r)
		for p := range 32 {
			fmt.Fprintf(&b, "{name: gw%d},", (r+p)%120)
		}
		b.WriteString("]\n  hostnames: [")
		for h := range 16 {
			fmt.Fprintf(&b, "h%d.r%d.example,", h, r)
		}
		b.WriteString("]\n  rules:\n")
		for u := range 16 {
			b.WriteString("    - backendRefs: [{name: s, port: 80}]\n      matches:\n")
			for m := range 64 {
				fmt.Fprintf(&b, "        - path: {value: /%d/%d}\n", u, m)
			}
		}
	}
	data := []byte(b.String())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := LoadManifests([]string{manifest.Stdin}, bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	var errs field.ErrorList
	if !errors.As(err, &errs) || len(errs) == 0 || !strings.Contains(errs[0].Error(), "is over what is left of the") {
		t.Fatalf("want the gateways refused for the agents' bound, got %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200*uint64(len(data)) {
		t.Fatalf("refusing %d bytes of manifests allocated %d bytes", len(data), alloc)
	}
}
