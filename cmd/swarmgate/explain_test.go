package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

func TestExplainCommand(t *testing.T) {
	manifests := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: admin, port: 81, protocol: HTTP}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: shop}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - name: search
    matches: [{path: {value: /search}, queryParams: [{name: q, value: "a1"}]}]
    backendRefs: [{name: search, port: 80, weight: 3}, {name: search-next, port: 80}]
  - backendRefs: [{name: shop, port: 80}]
`
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"query matched", []string{"--listener", "http", "--host", "shop.example.com", "--path", "/search/x", "--query", "q=a1"}, exitOK,
			[]string{"Answered by Route shop, rule 0 (search) match 0", "backend search port 80, weight 3 (75.0% of requests)", "backend search-next port 80, weight 1 (25.0% of requests)"}},
		{"query missing", []string{"--listener", "http", "--host", "shop.example.com", "--path", "/search"}, exitOK,
			[]string{"Answered by Route shop, rule 1 match 0", "Route shop, rule 0 (search) match 0: query parameter q: absent"}},
		{"other port", []string{"--listener", "admin", "--host", "shop.example.com", "--path", "/"}, exitOK,
			[]string{"Answer:   404: no route serves this host on this port"}},
		{"ports ambiguous", []string{"--host", "shop.example.com", "--path", "/"}, exitFail, []string{"listens on 2 ports: name the listener"}},
		{"no host", []string{"--path", "/"}, exitFail, []string{"give the request's --host and --path"}},
		{"bad header", []string{"--listener", "http", "--host", "a", "--path", "/", "--header", "X"}, exitFail, []string{"--header: want NAME=VALUE"}},
	}
	file := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(file, []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := swarmgate(t, "", append([]string{"explain", "-f", file}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
		})
	}
}

// TestExplainServer: explain --server asks the operator's /explain with the request and prints
// its answer as it prints its own, escaped.
func TestExplainServer(t *testing.T) {
	var asked url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/explain" || r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		asked = r.URL.Query()
		if asked.Get("host") == "bad" {
			http.Error(w, "there are several Gateways (a, b): name one with --gateway", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(nginx.Explanation{Gateway: "gw", Port: 80, Server: "shop.example.com", Location: `/`,
			Chosen: &nginx.Verdict{Route: "/shop\x1b[2J\u202e", Backends: []nginx.Backend{{Service: "shop", Port: 80, Weight: 1}}}})
	}))
	defer srv.Close()
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := swarmgate(t, "", "explain", "--server", srv.URL, "--token-file", token, "--listener", "http", "--host", "shop.example.com",
		"--path", "/search", "--query", "q=a1", "--method", "POST", "--header", "X-Canary=true")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	want := url.Values{"listener": {"http"}, "host": {"shop.example.com"}, "target": {"/search?q=a1"}, "method": {"POST"}, "header": {"X-Canary=true"}}
	if !reflect.DeepEqual(asked, want) {
		t.Errorf("asked %v, want %v", asked, want)
	}
	for _, w := range []string{"Gateway:  gw, port 80", `Answered by Route shop\x1b[2J\u202e, rule 0 match 0`, "backend shop port 80, weight 1 (100.0% of requests)"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	code, stdout, _ = swarmgate(t, "", "explain", "--server", srv.URL, "--token-file", token, "--listener", "http", "--host", "shop.example.com", "--path", "/", "-o", "json")
	if code != exitOK || strings.ContainsAny(stdout, "\x1b\u202e") || !strings.Contains(stdout, `"gateway": "gw"`) {
		t.Errorf("-o json: exit %d, %q", code, stdout)
	}
	code, _, stderr = swarmgate(t, "", "explain", "--server", srv.URL, "--token-file", token, "--host", "bad", "--path", "/")
	if code == exitOK || !strings.Contains(stderr, "/explain: there are several Gateways (a, b): name one with --gateway") {
		t.Errorf("a refusal: exit %d, %s", code, stderr)
	}
}
