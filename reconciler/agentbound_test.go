package reconciler

import (
	"fmt"
	"strings"
	"testing"

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
