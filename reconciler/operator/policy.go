package operator

import (
	"slices"

	"github.com/swarmgate/swarmgate/reconciler/planner"
)

// policy is how a pass treats its plan's actions.
type policy struct {
	// Drifting says the revision is the one applied: the plan's changes are drift (someone, or
	// swarm, changed the swarm), not a deploy.
	Drifting bool
	// Heal re-applies drift; otherwise drift is only alerted.
	Heal bool
	// Certificates are the owners whose new ACME certificates the pass stores: storing one and
	// moving its gateway is a deploy, never drift, also when drift is only alerted.
	Certificates map[string]bool
	// RolledBack are the IDs of the services swarm rolled back after a failed update.
	RolledBack map[string]bool
}

// decision is what a pass does with its plan.
type decision struct {
	// Apply are the actions the pass applies, in the plan's order.
	Apply []planner.Action
	// Drift are the actions alerted as drift.
	Drift []planner.Action
	// Held says drift is only alerted, not healed: the pass applies no more than the
	// certificates' actions, and is counted as held whether it applies them or not.
	Held bool
}

// decide applies the policy to a plan's actions. Drift is every action but a certificate's. Without
// Heal, only the certificates' actions are applied. A drifted service swarm rolled back is held:
// re-applying the spec it rolled back from would fail the same way, again and again, until a new
// revision changes it; the rest is healed.
func decide(actions []planner.Action, pol policy) decision {
	if !pol.Drifting {
		return decision{Apply: actions}
	}
	isCert := func(a planner.Action) bool { return pol.Certificates[a.Owner] }
	var d decision
	d.Drift = slices.DeleteFunc(slices.Clone(actions), isCert)
	d.Held = !pol.Heal && len(d.Drift) > 0
	held := map[string]bool{}
	for _, a := range d.Drift {
		if a.Kind == planner.KindService && a.Op == planner.Update && pol.RolledBack[a.ID] {
			held[a.ID] = true
		}
	}
	d.Apply = slices.DeleteFunc(slices.Clone(actions), func(a planner.Action) bool {
		return held[a.ID] || !pol.Heal && !isCert(a)
	})
	return d
}
