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
		{"no host", []string{"--listener", "http", "--path", "/"}, exitFail, []string{"the request names no host"}},
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

// TestExplainCommandBeyondHTTP: explain follows a gRPC call (--grpc) by service and method, a
// TLS connection by server name to a TLSRoute's backends or the port's HTTPS listener, and a TCP
// listener's connections, and says so when nothing takes them.
func TestExplainCommandBeyondHTTP(t *testing.T) {
	manifests := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  agent: {operatorURL: "http://10.0.0.1:9090", tokenSecret: agent-token}
  listeners:
  - {name: h2c, port: 80, protocol: HTTP}
  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}
  - {name: www, port: 443, protocol: HTTPS, hostname: www.example.com, tls: {certificateRefs: [{name: www}]}}
  - {name: pg, port: 5432, protocol: TCP}
  - {name: idle, port: 5433, protocol: TCP}
---
apiVersion: swarmgate.io/v1alpha1
kind: GRPCRoute
metadata: {name: cart}
spec:
  parentRefs: [{name: gw, sectionName: h2c}]
  hostnames: [api.example.com]
  rules:
  - matches: [{method: {type: RegularExpression, service: 'shop\.Cart', method: 'Add.*'}}]
    backendRefs: [{name: cart-writer, port: 9000}]
  - backendRefs: [{name: cart, port: 9000}]
---
apiVersion: swarmgate.io/v1alpha1
kind: TLSRoute
metadata: {name: git}
spec:
  parentRefs: [{name: gw, sectionName: tls}]
  hostnames: [git.example.com]
  rules: [{backendRefs: [{name: gitea, port: 3000}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: www}
spec:
  parentRefs: [{name: gw, sectionName: www}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: TCPRoute
metadata: {name: db}
spec:
  parentRefs: [{name: gw, sectionName: pg}]
  rules: [{backendRefs: [{name: pg-primary, port: 5432, weight: 3}, {name: pg-replica, port: 5432}]}]
`
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"gRPC by regular expression", []string{"--listener", "h2c", "--host", "api.example.com", "--grpc", "shop.Cart/AddItem"}, exitOK,
			[]string{"Answered by GRPCRoute cart, rule 0 match 0", "backend cart-writer port 9000"}},
		{"gRPC passed over", []string{"--listener", "h2c", "--host", "api.example.com", "--grpc", "shop.Cart/Get"}, exitOK,
			[]string{"Answered by GRPCRoute cart, rule 1 match 0", "GRPCRoute cart, rule 0 match 0: gRPC service and method: /shop.Cart/Get does not match"}},
		{"gRPC call malformed", []string{"--listener", "h2c", "--host", "api.example.com", "--grpc", "shop.Cart"}, exitFail,
			[]string{"--grpc: want SERVICE/METHOD"}},
		{"TLS passed through by server name", []string{"--listener", "tls", "--host", "git.example.com"}, exitOK,
			[]string{"listener tls", "Stream:   TLS by server name, passed through unopened", "Answered by TLSRoute git, rule 0\n", "backend gitea port 3000, weight 1 (100.0% of connections)"}},
		{"TLS to the port's HTTPS listener", []string{"--listener", "tls", "--host", "www.example.com", "--path", "/x"}, exitOK,
			[]string{"listener www", "Server:   www.example.com", "Answered by Route www"}},
		{"TLS for a name nothing takes", []string{"--listener", "www", "--host", "other.example.com"}, exitOK,
			[]string{"Answer:   no answer: no route of this port takes server name other.example.com, so nginx closes the connection"}},
		{"TCP", []string{"--listener", "pg"}, exitOK,
			[]string{"Stream:   TCP", "Answered by TCPRoute db, rule 0\n", "backend pg-primary port 5432, weight 3 (75.0% of connections)"}},
		{"TCP without a route", []string{"--listener", "idle"}, exitOK, []string{"Answer:   no route: nginx closes every connection"}},
		{"HTTP needs a host", []string{"--listener", "h2c"}, exitFail, []string{"the request names no host"}},
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
