package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderSeed(t *testing.T) {
	seed := repoRoot + "/manifests/examples/seed"
	addrs := []string{"--node-address", "node1=10.0.0.1", "--node-address", "node2=10.0.0.2", "--node-address", "node3=10.0.0.3"}

	code, stdout, stderr := swarmgate(t, "", append([]string{"render", "-f", seed}, addrs...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"# ---- Gateway http-gateway: /etc/nginx/conf.d/default.conf",
		`"\\dmzhttp" "dmzhttp:8888";`, `"\\managerhttp" "managerhttp:8888";`,
		"# ---- VirtualIP public, node node1: /etc/keepalived/keepalived.conf",
		"# ---- VirtualIP public, node node3: /etc/keepalived/keepalived.conf",
		"virtual_router_id 51", "priority 150", "unicast_src_ip 10.0.0.2",
		maskedPassword,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(stdout+stderr, "s3cr3tXy") {
		t.Error("the VRRP password is printed without --show-secrets")
	}
	if !strings.Contains(stderr, "VRRP authentication is deprecated") {
		t.Errorf("no deprecation warning: %s", stderr)
	}

	_, stdout, _ = swarmgate(t, "", append([]string{"render", "-f", seed, "--show-secrets"}, addrs...)...)
	if !strings.Contains(stdout, "auth_pass s3cr3tXy") {
		t.Error("--show-secrets does not print the password")
	}

	code, _, stderr = swarmgate(t, "", "render", "-f", seed)
	if code != exitFail || !strings.Contains(stderr, "virtual IP public: no address for node node1, node2, node3 (pass --node-address HOSTNAME=IP)") {
		t.Errorf("without addresses: exit %d, %s", code, stderr)
	}
	code, _, stderr = swarmgate(t, "", "render", "-f", seed, "--node-address", "node1")
	if code != exitFail || !strings.Contains(stderr, `--node-address "node1": want HOSTNAME=IP`) {
		t.Errorf("bad address flag: exit %d, %s", code, stderr)
	}
}

// TestRenderAgentConfig: for a gateway whose config is too large for a secret, render prints both
// what its tasks start with and the config its agents are given, so either can be checked with
// nginx -t.
func TestRenderAgentConfig(t *testing.T) {
	docs := []string{`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: big}
spec:
  agent: {operatorURL: "http://operator:9090", tokenSecret: agent-token}
  listeners: [{name: http, port: 8080, protocol: HTTP}]
`}
	for i := range 1500 {
		docs = append(docs, fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app%d}
spec:
  parentRefs: [{name: big}]
  hostnames: [app%d.example.com]
  rules: [{matches: [{path: {value: /api}}, {path: {value: /static}}], backendRefs: [{name: app%d, port: 80}]}]
`, i, i, i))
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := swarmgate(t, "", "render", "-f", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	bootstrap, agents, ok := strings.Cut(stdout, "# ---- Gateway big, from the operator to its agents: /etc/nginx/conf.d/default.conf\n")
	if !ok || !strings.HasPrefix(bootstrap, "# ---- Gateway big, until its agents take the config below: /etc/nginx/conf.d/default.conf\n") {
		t.Fatalf("want the bootstrap config, then the agents':\n%.500s", stdout)
	}
	if strings.Contains(bootstrap, `server_name "app1499.example.com";`) || !strings.Contains(agents, `server_name "app1499.example.com";`) {
		t.Error("the routes should be in the agents' config only")
	}
}

// TestRenderAgentDefaults: a Gateway with agent: {} renders offline as under the deploy stack's
// operator, which completes it on the swarm.
func TestRenderAgentDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.yaml")
	if err := os.WriteFile(path, []byte(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  image: swarmgate/gateway:latest
  agent: {}
  listeners: [{name: http, port: 8080}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := swarmgate(t, "", "render", "-f", path); code != exitOK || !strings.Contains(stdout, "# ---- Gateway gw") {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
}
