package nginx

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// agreesWithNginx checks that Explain says of req what the real nginx did with it: the service
// that answered is among the chosen rule's backends, a 404 is explained as no rule serving, a
// redirect by a redirect, a 500 by a rule without a backend to send to.
func agreesWithNginx(t *testing.T, gw *v1alpha1.Gateway, routes []*v1alpha1.Route, opts Options, listener v1alpha1.SectionName, req *http.Request, status int, body []byte) {
	t.Helper()
	ex, err := Explain(gw, routes, Request{Listener: listener, Host: req.Host, Target: req.URL.RequestURI(), Method: req.Method, Headers: req.Header}, opts)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	var e echo
	served := json.Unmarshal(body, &e) == nil && e.Service != ""
	switch {
	case served && ex.Chosen == nil:
		t.Errorf("nginx sent it to %s; explain says %q", e.Service, ex.Answer)
	case served && !slices.ContainsFunc(ex.Chosen.Backends, func(b Backend) bool { return b.Service == e.Service }):
		t.Errorf("nginx sent it to %s; explain chose %s rule %d with backends %+v", e.Service, ex.Chosen.Route, ex.Chosen.Rule, ex.Chosen.Backends)
	case served:
	case status == http.StatusNotFound && (ex.Chosen != nil || !strings.HasPrefix(ex.Answer, "404")):
		t.Errorf("nginx answered 404; explain says %+v", ex)
	case status == http.StatusMovedPermanently || status == http.StatusFound:
		if !strings.Contains(ex.Answer, "redirect") && (ex.Chosen == nil || !slices.Contains(ex.Chosen.Filters, string(v1alpha1.FilterRequestRedirect))) {
			t.Errorf("nginx redirected; explain says %+v", ex)
		}
	case status == http.StatusInternalServerError:
		if ex.Chosen == nil || slices.ContainsFunc(ex.Chosen.Backends, func(b Backend) bool { return b.Weight > 0 && b.Refused == "" }) {
			t.Errorf("nginx answered 500 (no backend); explain says %+v", ex)
		}
	case status == http.StatusOK && ex.Chosen == nil && !strings.Contains(ex.Answer, "health check"):
		t.Errorf("nginx answered 200 itself; explain says %+v", ex)
	}
}

func TestExplain(t *testing.T) {
	gw, routes := loadInput(t, "explain.yaml", []byte(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 80}]
  - name: canary
    matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: X-Canary, value: "true"}]}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Seen, value: "1"}]}}]
    backendRefs: [{name: api-canary, port: 80, weight: 9}, {name: api, port: 80, weight: 1}]
  - matches: [{path: {type: Exact, value: /login}, method: POST}]
    backendRefs: [{name: auth, port: 80}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: shared}
spec:
  parentRefs: [{name: gw}]
  hostnames: [shared.example.com]
  rules:
  - backendRefs: [{name: shared, namespace: other, port: 80}, {name: gone, port: 80}, {name: api, port: 80}]
`))
	tests := []struct {
		name     string
		req      Request
		chosen   string // "route rule" of the chosen rule, "" for none
		answer   string // the start of Answer when none is chosen
		location string
		passed   []string // reasons of the passed candidates, in order
	}{
		{"prefix", Request{Host: "app.example.com", Target: "/api/x", Method: "GET"}, "/app 0", "", `^~ "/api/"`,
			[]string{"path: exactly /login does not take /api/x", "header X-Canary: absent"}},
		{"header wins", Request{Host: "APP.example.com:8080", Target: "/api/x", Method: "GET", Headers: map[string][]string{"x-canary": {"true"}}}, "/app 1", "", `^~ "/api/"`, []string{"path: exactly /login does not take /api/x"}},
		{"header value differs", Request{Host: "app.example.com", Target: "/api", Method: "GET", Headers: map[string][]string{"X-Canary": {"TRUE"}}}, "/app 0", "", `= "/api"`,
			[]string{"path: exactly /login does not take /api", "header X-Canary: another value"}},
		{"exact path and method", Request{Host: "app.example.com", Target: "/login", Method: "POST"}, "/app 2", "", `= "/login"`, nil},
		{"wrong method", Request{Host: "app.example.com", Target: "/login", Method: "GET"}, "", "404", `= "/login"`,
			[]string{"method: wants POST", "path: prefix /api does not take /login", "path: prefix /api does not take /login"}},
		{"normalized path", Request{Host: "app.example.com", Target: "/x/../api//y?z=1", Method: "GET"}, "/app 0", "", `^~ "/api/"`, []string{"path: exactly /login does not take /api/y", "header X-Canary: absent"}},
		{"prefix on whole elements", Request{Host: "app.example.com", Target: "/apix", Method: "GET"}, "", "404", "/",
			[]string{"path: exactly /login does not take /apix", "path: prefix /api does not take /apix", "path: prefix /api does not take /apix"}},
		{"unknown host", Request{Host: "other.test", Target: "/", Method: "GET"}, "", "404", "", nil},
		{"health check", Request{Host: "10.0.0.1", Target: contract.HealthPath, Method: "GET"}, "", "200", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := Explain(gw, routes, tt.req, Options{})
			if err != nil {
				t.Fatal(err)
			}
			chosen := ""
			if ex.Chosen != nil {
				chosen = ex.Chosen.Route + " " + string(rune('0'+ex.Chosen.Rule))
			}
			if chosen != tt.chosen || !strings.HasPrefix(ex.Answer, tt.answer) || ex.Location != tt.location {
				t.Errorf("chose %q, answer %q, location %q; want %q, %q, %q", chosen, ex.Answer, ex.Location, tt.chosen, tt.answer, tt.location)
			}
			var reasons []string
			for _, p := range ex.Passed {
				reasons = append(reasons, p.Reason)
			}
			if !slices.Equal(reasons, tt.passed) {
				t.Errorf("passed %q, want %q", reasons, tt.passed)
			}
		})
	}
	ex, _ := Explain(gw, routes, Request{Host: "app.example.com", Target: "/api", Method: "GET", Headers: map[string][]string{"X-Canary": {"true"}}}, Options{})
	if got := ex.Chosen; got == nil || !slices.Equal(got.Filters, []string{"RequestHeaderModifier"}) || len(got.Backends) != 2 || got.Backends[0].Weight != 9 || got.Backends[0].Service != "api-canary" {
		t.Errorf("chosen %+v, want the canary rule's filter and weighted backends", got)
	}
	// What the renderer does not send to, explain says: another namespace's service no grant
	// permits, a service that does not exist.
	ex, _ = Explain(gw, routes, Request{Host: "shared.example.com", Target: "/", Method: "GET"}, Options{Services: map[string]bool{"api": true, "other_shared": true}})
	if got := ex.Chosen; got == nil || len(got.Backends) != 3 || !strings.Contains(got.Backends[0].Refused, "ReferenceGrant") ||
		!strings.Contains(got.Backends[1].Refused, "does not exist") || got.Backends[2].Refused != "" {
		t.Errorf("chosen %+v, want the ungranted and the missing backend refused", got)
	}
	if _, err := Explain(gw, routes, Request{Listener: "nope", Host: "app.example.com", Target: "/"}, Options{}); err == nil {
		t.Error("an unknown listener is no error")
	}
	if _, err := Explain(gw, routes, Request{Host: "app.example.com", Target: "/../x"}, Options{}); err == nil {
		t.Error("a path above the root is no error")
	}
}
