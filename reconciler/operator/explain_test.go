package operator

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

// TestExplainEndpoint: GET /explain explains a request against the objects applied last.
func TestExplainEndpoint(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	c := New(&reconciler.Reconciler{}, nil, Options{}, alert.NewDispatcher(log, nil, alert.FormatJSON), NewMetrics(), log)
	srv := httptest.NewServer(c.Handler(Tokens{Read: "r3ad"}))
	defer srv.Close()
	get := func(q url.Values) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/explain?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer r3ad")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	request := url.Values{"host": {"shop.example.com"}, "target": {"/api/x"}, "header": {"X-Canary=yes"}}
	if code, _ := get(request); code != http.StatusServiceUnavailable {
		t.Errorf("before a good pass: %d, want 503", code)
	}
	objs, errs := manifest.Decode("m.yaml", []byte(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: X-Canary, value: "yes"}]}]
    backendRefs: [{name: canary, port: 80}]
  - backendRefs: [{name: shop, port: 80}]
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, o := range objs {
		o.Default()
	}
	c.lastGood = objs
	code, body := get(request)
	var ex nginx.Explanation
	if code != http.StatusOK || json.Unmarshal([]byte(body), &ex) != nil || ex.Gateway != "gw" || ex.Chosen == nil || ex.Chosen.Backends[0].Service != "canary" {
		t.Errorf("%d %s", code, body)
	}
	for _, tt := range []struct {
		q    url.Values
		want string
	}{
		{url.Values{"host": {"shop.example.com"}}, "give the request's target"},
		{url.Values{"target": {"/"}}, "the request names no host"},
		{url.Values{"host": {"a"}, "target": {"/"}, "header": {"X"}}, "header: want NAME=VALUE"},
		{url.Values{"host": {"a"}, "target": {"/"}, "gateway": {"other"}}, "--gateway other: no such Gateway; there are: gw"},
	} {
		if code, body := get(tt.q); code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("%v: %d %q, want 400 %q", tt.q, code, body, tt.want)
		}
	}
}
