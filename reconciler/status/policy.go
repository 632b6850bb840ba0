package status

import (
	"slices"
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

// AttachedPolicy is a policy that targets an object, or one of its listeners or rules, and how it
// fares there: the status a target shows of the policies attached to it.
type AttachedPolicy struct {
	Kind v1alpha1.Kind `json:"kind"`
	Name string        `json:"name"`
	// SectionName is the listener or rule it targets, when not the whole object.
	SectionName v1alpha1.SectionName `json:"sectionName,omitempty"`
	// Reason is Accepted, or Conflicted when another policy of its kind applies there instead.
	Reason v1alpha1.ConditionReason `json:"reason"`
}

// attachedPolicies lists the policies among objs that target o, in the order objs has them.
func attachedPolicies(o v1alpha1.Object, objs []v1alpha1.Object) []AttachedPolicy {
	var out []AttachedPolicy
	for _, x := range objs {
		pol, ok := x.(v1alpha1.Policy)
		if !ok {
			continue
		}
		for _, t := range v1alpha1.TargetStatus(pol, objs) {
			if t.Target.Kind != o.GetTypeMeta().Kind || t.Target.Name != o.GetObjectMeta().Name {
				continue
			}
			a := AttachedPolicy{Kind: pol.GetTypeMeta().Kind, Name: pol.GetObjectMeta().Name, Reason: t.Reason}
			if t.Target.SectionName != nil {
				a.SectionName = *t.Target.SectionName
			}
			out = append(out, a)
		}
	}
	return out
}

// String names the policy and the section it targets: "SecurityPolicy auth (http)", and how it
// fares there when another policy applies instead: "... Conflicted".
func (a AttachedPolicy) String() string {
	s := string(a.Kind) + " " + a.Name
	if a.SectionName != "" {
		s += " (" + string(a.SectionName) + ")"
	}
	if a.Reason != v1alpha1.ReasonAccepted {
		s += " " + string(a.Reason)
	}
	return s
}

// affected are the conditions a target shows of the policies that apply to it: one
// v1alpha1.AffectedCondition per kind, naming them. A Conflicted policy does not apply.
func affected(policies []AttachedPolicy) []Condition {
	var out []Condition
	for _, p := range policies {
		if p.Reason != v1alpha1.ReasonAccepted {
			continue
		}
		t := v1alpha1.AffectedCondition(p.Kind)
		if i := slices.IndexFunc(out, func(c Condition) bool { return c.Type == t }); i >= 0 {
			out[i].Message += ", " + p.String()
			continue
		}
		out = append(out, Condition{Type: t, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonAccepted, Message: p.String()})
	}
	return out
}
