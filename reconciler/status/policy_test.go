package status

import (
	"reflect"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// TestPolicyStatus checks a policy's Accepted condition as get shows it: the first policy by name
// on a target is Accepted, the second Conflicted there, and one whose target is gone
// TargetNotFound; a policy not accepted is Degraded. The gateway lists both of its policies.
func TestPolicyStatus(t *testing.T) {
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "edge"}}
	limit := func(name, target string) *v1alpha1.BackendTrafficPolicy {
		return &v1alpha1.BackendTrafficPolicy{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindBackendTrafficPolicy},
			Metadata: v1alpha1.ObjectMeta{Name: name},
			Spec:     v1alpha1.BackendTrafficPolicySpec{TargetRefs: []v1alpha1.PolicyTargetRef{{Kind: v1alpha1.KindGateway, Name: target}}}}
	}
	in := Input{Plan: &planner.Plan{}, Snapshot: &swarmstate.Snapshot{},
		Objects: []v1alpha1.Object{gw, limit("b", "edge"), limit("a", "edge"), limit("c", "gone")}}
	want := map[string]struct {
		reason v1alpha1.ConditionReason
		health v1alpha1.HealthStatus
	}{
		"a": {v1alpha1.ReasonAccepted, v1alpha1.Healthy},
		"b": {v1alpha1.ReasonConflicted, v1alpha1.Degraded},
		"c": {v1alpha1.ReasonTargetNotFound, v1alpha1.Degraded},
	}
	for _, st := range Judge(in) {
		if st.Kind == v1alpha1.KindGateway {
			want := []AttachedPolicy{{Kind: v1alpha1.KindBackendTrafficPolicy, Name: "a", Reason: v1alpha1.ReasonAccepted},
				{Kind: v1alpha1.KindBackendTrafficPolicy, Name: "b", Reason: v1alpha1.ReasonConflicted}}
			if !reflect.DeepEqual(st.Policies, want) {
				t.Errorf("the gateway's policies %+v, want %+v", st.Policies, want)
			}
			// The target's condition names the policy that applies, not the conflicted one.
			wantAffected := Condition{Type: "BackendTrafficPolicyAffected", Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonAccepted,
				Message: "BackendTrafficPolicy a"}
			if c := st.Condition(v1alpha1.AffectedCondition(v1alpha1.KindBackendTrafficPolicy)); c == nil || *c != wantAffected {
				t.Errorf("the gateway's condition %+v, want %+v", c, wantAffected)
			}
			continue
		}
		w := want[st.Name]
		if c := st.Condition(v1alpha1.ConditionAccepted); c == nil || c.Reason != w.reason || st.Health != w.health {
			t.Errorf("%s: Accepted %+v, health %s; want %s, %s", st.Name, c, st.Health, w.reason, w.health)
		}
	}
}
