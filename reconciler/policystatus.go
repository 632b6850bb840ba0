package reconciler

import (
	"strings"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// policyAccepted is a policy's Accepted condition: True when every target takes it; else False
// with the reason of the first that does not (Conflicted, TargetNotFound) and each such target's
// message. A policy not accepted somewhere is Degraded: part of what it asks for does not hold.
func policyAccepted(st *ObjectStatus, pol v1alpha1.Policy, objs []v1alpha1.Object) {
	c := Condition{Type: v1alpha1.ConditionAccepted, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonAccepted}
	var msgs []string
	for _, t := range v1alpha1.TargetStatus(pol, objs) {
		if t.Status == v1alpha1.ConditionTrue {
			continue
		}
		if c.Status == v1alpha1.ConditionTrue {
			c.Status, c.Reason = v1alpha1.ConditionFalse, t.Reason
		}
		msgs = append(msgs, t.Message)
	}
	c.Message = strings.Join(msgs, "; ")
	st.Conditions[0] = c
	if c.Status != v1alpha1.ConditionTrue && st.Health == v1alpha1.Healthy {
		st.Health, st.Reason, st.Message = v1alpha1.Degraded, c.Reason, c.Message
		st.Conditions = conditions(*st, Condition{})
		st.Conditions[0] = c
	}
}
