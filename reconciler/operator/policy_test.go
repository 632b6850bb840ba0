package operator

import (
	"slices"
	"testing"

	"github.com/swarmgate/swarmgate/reconciler/planner"
)

func TestDecide(t *testing.T) {
	// The plan: a drifted service, a drifted service swarm rolled back (s2), a missing network,
	// and a gateway moving to its new ACME certificate (a certificate config and a service update).
	actions := []planner.Action{
		{Op: planner.Update, Kind: planner.KindService, Name: "web", ID: "s1", Owner: "Route/web"},
		{Op: planner.Update, Kind: planner.KindService, Name: "api", ID: "s2", Owner: "Route/api"},
		{Op: planner.Create, Kind: planner.KindNetwork, Name: "net", Owner: "Gateway/edge"},
		{Op: planner.Create, Kind: planner.KindCertificate, Name: "chain", Owner: "Gateway/tls"},
		{Op: planner.Update, Kind: planner.KindService, Name: "gw-tls", ID: "s3", Owner: "Gateway/tls"},
	}
	rolledBack := map[string]bool{"s2": true}
	certs := map[string]bool{"Gateway/tls": true}
	tests := []struct {
		name         string
		actions      []planner.Action // the plan above unless set
		pol          policy
		apply, drift []string
		held         bool
	}{
		{name: "a deploy: everything applied, no drift",
			pol:   policy{RolledBack: rolledBack, Certificates: certs},
			apply: []string{"web", "api", "net", "chain", "gw-tls"}},
		{name: "drift healed: all but the rolled-back service applied, all but the certificate's alerted",
			pol:   policy{Drifting: true, Heal: true, RolledBack: rolledBack, Certificates: certs},
			apply: []string{"web", "net", "chain", "gw-tls"}, drift: []string{"web", "api", "net"}},
		{name: "drift healed, nothing rolled back, no certificate",
			pol:   policy{Drifting: true, Heal: true},
			apply: []string{"web", "api", "net", "chain", "gw-tls"}, drift: []string{"web", "api", "net", "chain", "gw-tls"}},
		{name: "drift only alerted: held",
			pol:   policy{Drifting: true, RolledBack: rolledBack},
			drift: []string{"web", "api", "net", "chain", "gw-tls"}, held: true},
		{name: "drift only alerted, a new certificate: only the certificate's actions applied, the drift still held",
			pol:   policy{Drifting: true, RolledBack: rolledBack, Certificates: certs},
			apply: []string{"chain", "gw-tls"}, drift: []string{"web", "api", "net"}, held: true},
		{name: "drift only alerted, nothing drifted: nothing held", actions: []planner.Action{},
			pol: policy{Drifting: true}},
		{name: "drift only alerted, only a new certificate: applied, nothing held", actions: actions[3:],
			pol: policy{Drifting: true, Certificates: certs}, apply: []string{"chain", "gw-tls"}},
		{name: "a rolled-back service with a new certificate is not held: storing it is a deploy",
			pol:   policy{Drifting: true, Heal: true, RolledBack: map[string]bool{"s3": true}, Certificates: certs},
			apply: []string{"web", "api", "net", "chain", "gw-tls"}, drift: []string{"web", "api", "net"}},
	}
	names := func(as []planner.Action) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := actions
			if tt.actions != nil {
				plan = tt.actions
			}
			before := slices.Clone(plan)
			d := decide(plan, tt.pol)
			if got := names(d.Apply); !slices.Equal(got, tt.apply) {
				t.Errorf("apply %v, want %v", got, tt.apply)
			}
			if got := names(d.Drift); !slices.Equal(got, tt.drift) {
				t.Errorf("drift %v, want %v", got, tt.drift)
			}
			if d.Held != tt.held {
				t.Errorf("held %v, want %v", d.Held, tt.held)
			}
			if !slices.EqualFunc(plan, before, func(a, b planner.Action) bool { return a.Name == b.Name }) {
				t.Error("decide changed the plan's actions")
			}
		})
	}
}
