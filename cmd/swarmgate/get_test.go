package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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

func TestTerminalSafe(t *testing.T) {
	for _, tc := range []struct{ in, keep, want string }{
		{"plain text, é and 漢字", "", "plain text, é and 漢字"},
		{"\x1b[31mred\x1b[0m", "", `\x1b[31mred\x1b[0m`},
		{"a\tb\nc", "", `a\tb\nc`},
		{"a\tb\nc", "\n\t", "a\tb\nc"},
		{"\u009b31m C1 CSI", "", `\u009b31m C1 CSI`},
		{"abc\u202edef", "", `abc\u202edef`},
		{"bad \xff byte, real \uFFFD", "", `bad \xff byte, real ` + "\uFFFD"},
	} {
		if got := terminalSafe(tc.in, tc.keep); got != tc.want {
			t.Errorf("terminalSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
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
