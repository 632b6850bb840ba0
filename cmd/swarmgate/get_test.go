package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/operator"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// TestGetServerPrintsUntrustedTextSafely: escape sequences, tabs and newlines an operator (or
// whoever answers at its address) sends reach the terminal escaped, in every output.
func TestGetServerPrintsUntrustedTextSafely(t *testing.T) {
	const hostile = "\x1b]0;owned\x07\x1b[2J\tfake\ncell\u202e"
	doc := operator.StatusDocument{Revision: "r" + hostile, SeenRevision: "s" + hostile, LastError: "e" + hostile,
		Objects: []status.ObjectStatus{{Kind: "Route", Name: "web" + hostile, Sync: "Synced", Health: "Degraded", Message: "m" + hostile, Drift: []string{"d" + hostile}}},
		GatewayConfigs: map[string]status.GatewayAgents{"gw" + hostile: {Desired: "c" + hostile,
			Tasks: []status.AgentReport{{Task: "t" + hostile, Served: "o" + hostile, Rejected: "c" + hostile, Error: "nginx" + hostile}}}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(doc) }))
	defer srv.Close()
	for _, output := range []string{"", "wide", "name", "json", "yaml", "jsonpath={.items[0].status.message}"} {
		t.Run(output, func(t *testing.T) {
			code, stdout, stderr := swarmgate(t, "", "get", "--server", srv.URL, "-o", output)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// jsonpath prints the value for scripts: its tabs and newlines stay.
			layout := !strings.HasPrefix(output, "jsonpath") && (strings.Contains(stdout, "\tfake") || strings.Contains(stdout, "\ncell"))
			if strings.ContainsAny(stdout, "\x1b\x07\u202e") || layout {
				t.Errorf("raw control characters reach the terminal:\n%q", stdout)
			}
			if output == "" && !strings.Contains(stdout, `last error: e\x1b]0;owned\a\x1b[2J\tfake\ncell\u202e`) {
				t.Errorf("want the last error escaped:\n%s", stdout)
			}
		})
	}
}

// TestGetServerBoundsTheAnswer: a /status that never ends is cut at the cap, with an error.
func TestGetServerBoundsTheAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"revision":"`))
		chunk := []byte(strings.Repeat("a", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	code, _, stderr := swarmgate(t, "", "get", "--server", srv.URL)
	if code == exitOK || !strings.Contains(stderr, "/status: the answer is larger than 8 MiB") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestGetServerTraffic: with an operator, the table has the Routes' traffic, blank where the
// operator has none.
func TestGetServerTraffic(t *testing.T) {
	doc := operator.StatusDocument{Objects: []status.ObjectStatus{
		{Kind: "Gateway", Name: "gw", Sync: "Synced", Health: "Healthy"},
		{Kind: "Route", Name: "shop", Sync: "Synced", Health: "Healthy", Traffic: &status.Traffic{RequestsPerSecond: 41.96, ErrorRatio: 0.0125, P95Seconds: 0.0834}},
		{Kind: "Route", Name: "quiet", Sync: "Synced", Health: "Healthy"},
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(doc) }))
	defer srv.Close()
	code, stdout, stderr := swarmgate(t, "", "get", "--server", srv.URL)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			lines[f[1]] = strings.Join(f, " ")
		}
	}
	for name, want := range map[string]string{
		"NAME":  "KIND NAME SYNC HEALTH TASKS REQ/S ERRORS P95 MESSAGE",
		"shop":  "Route shop Synced Healthy - 42.0 1.2% 83ms -",
		"quiet": "Route quiet Synced Healthy - -",
	} {
		if lines[name] != want {
			t.Errorf("%s: %q, want %q\n%s", name, lines[name], want, stdout)
		}
	}
}

// TestParseKind: get, delete and describe-like commands take a kind as kubectl does: its name in
// any case, its plural or a short name.
func TestParseKind(t *testing.T) {
	for _, tt := range []struct {
		arg  string
		want v1alpha1.Kind
	}{
		{"route", v1alpha1.KindRoute}, {"Route", v1alpha1.KindRoute}, {"routes", v1alpha1.KindRoute}, {"rt", v1alpha1.KindRoute},
		{"gw", v1alpha1.KindGateway}, {"gateways", v1alpha1.KindGateway}, {"gateway.swarmgate.io", v1alpha1.KindGateway},
		{"securitypolicies", v1alpha1.KindSecurityPolicy}, {"sp", v1alpha1.KindSecurityPolicy}, {"btp", v1alpha1.KindBackendTrafficPolicy},
		{"vip", v1alpha1.KindVirtualIP}, {"zones", v1alpha1.KindZone}, {"refgrant", v1alpha1.KindReferenceGrant},
	} {
		if got, err := parseKind(tt.arg); err != nil || got != tt.want {
			t.Errorf("parseKind(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
		}
	}
	if _, err := parseKind("rout"); err == nil || !strings.Contains(err.Error(), "route|rt") {
		t.Errorf("parseKind(rout): %v, want the kinds with their short names", err)
	}
}

// TestDiffPrintsSwarmValuesTerminalSafe: a value read back from the swarm (an old field value, the
// applied gateway config) cannot drive the terminal through `swarmgate diff`.
func TestDiffPrintsSwarmValuesTerminalSafe(t *testing.T) {
	var out strings.Builder
	printChanges(&out, []reconciler.FieldChange{{Field: "env", Old: "A=\x1b[2J", New: "A=1"}})
	printDiff(&out, &reconciler.Pass{Plan: &planner.Plan{}}, map[string][2]string{"edge": {"server_name a;\x1b]0;title\a\n", "server_name b;\n"}})
	if strings.ContainsAny(out.String(), "\x1b\a") {
		t.Errorf("control characters printed:\n%q", out.String())
	}
}
