package operator

import (
	"testing"

	"github.com/swarmgate/swarmgate/reconciler/acme"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// TestServes: an HTTP-01 order waits until its gateway answers challenges: a task running and,
// with agents, one whose agent reports nginx serving.
func TestServes(t *testing.T) {
	req := acme.CertificateRequest{Gateway: "edge"}
	for _, tc := range []struct {
		name    string
		running bool
		agents  map[string]status.GatewayAgents
		want    bool
	}{
		{"no task running", false, nil, false},
		{"a task running, no agents", true, nil, true},
		{"agents, none reported yet", true, map[string]status.GatewayAgents{"edge": {Desired: "b"}}, false},
		{"agents, a task not serving yet", true, map[string]status.GatewayAgents{"edge": {Desired: "b", Tasks: []status.AgentReport{{Task: "t1"}}}}, false},
		{"agents, a task serving an older config", true, map[string]status.GatewayAgents{"edge": {Desired: "b", Tasks: []status.AgentReport{{Task: "t1", Served: "a"}}}}, true},
		{"another gateway's agents", true, map[string]status.GatewayAgents{"other": {Desired: "b"}}, true},
	} {
		if got := serves(req, tc.running, tc.agents); got != tc.want {
			t.Errorf("%s: serves = %v, want %v", tc.name, got, tc.want)
		}
	}
}
