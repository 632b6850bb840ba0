package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
