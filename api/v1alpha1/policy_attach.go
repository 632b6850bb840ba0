package v1alpha1

import (
	"cmp"
	"fmt"
	"slices"
)

// PolicyScope is where a request is served: a rule of a Route, on a listener of a Gateway. Route
// is nil for what no Route serves (a listener's own answers).
type PolicyScope struct {
	Gateway  *Gateway
	Listener SectionName
	Route    *Route
	Rule     int
}

// The ranks of targets, from least to most specific; 0 is a target outside the scope.
const (
	rankGateway = 1 + iota
	rankListener
	rankRoute
	rankRule
)

// rank says how specifically t names scope s, or 0 when it does not name it.
func (t PolicyTargetRef) rank(s PolicyScope) int {
	switch {
	case t.Kind == KindGateway && s.Gateway != nil && t.Name == s.Gateway.Metadata.Name:
		if t.SectionName == nil {
			return rankGateway
		}
		if *t.SectionName == s.Listener {
			return rankListener
		}
	case s.Route != nil && t.Kind == s.Route.RouteKind() && t.Name == s.Route.Metadata.Name:
		if t.SectionName == nil {
			return rankRoute
		}
		if n := s.Route.Spec.Rules[s.Rule].Name; n != nil && *n == *t.SectionName {
			return rankRule
		}
	}
	return 0
}

// PoliciesOf picks the policies of one kind out of objs, in the order that decides between two on
// one target: by namespace, then name.
func PoliciesOf[P Policy](objs []Object) []P {
	var out []P
	for _, o := range objs {
		if p, ok := o.(P); ok {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b P) int { return cmp.Compare(policyKey(a), policyKey(b)) })
	return out
}

func policyKey(p Policy) string { return p.GetObjectMeta().Namespace + "/" + p.GetObjectMeta().Name }

// Applying returns the policy among ps (ordered as PoliciesOf orders them) that applies in scope
// s, and the index of its target that brought it there: the one whose target names s most
// specifically (a rule before its Route, a Route before its listener, a listener before its
// Gateway). Two policies on one target do not merge: the first by namespace and name applies, the
// other is Conflicted there. ok is false when none applies.
func Applying[P Policy](ps []P, s PolicyScope) (policy P, target int, ok bool) {
	best := 0
	for _, p := range ps {
		for i, t := range p.Targets() {
			if r := t.rank(s); r > best {
				policy, target, ok, best = p, i, true, r
			}
		}
	}
	return policy, target, ok
}

// PolicyTargetStatus is how one target of a policy fares: its Accepted condition's status and
// reason (Accepted, Conflicted or TargetNotFound), with a message for the last two.
type PolicyTargetStatus struct {
	Target  PolicyTargetRef
	Status  ConditionStatus
	Reason  ConditionReason
	Message string
}

// TargetStatus judges each target of p among objs: TargetNotFound when no object (or no listener,
// no named rule) is the target; Conflicted when a policy of the same kind that precedes p (by
// namespace and name) names the same target; else Accepted.
func TargetStatus(p Policy, objs []Object) []PolicyTargetStatus {
	var out []PolicyTargetStatus
	for _, t := range p.Targets() {
		st := PolicyTargetStatus{Target: t, Status: ConditionTrue, Reason: ReasonAccepted}
		if !targetExists(t, objs) {
			st.Status, st.Reason, st.Message = ConditionFalse, ReasonTargetNotFound, fmt.Sprintf("no %s", TargetString(t))
		} else if other := firstOnTarget(p, t, objs); other != nil {
			st.Status, st.Reason, st.Message = ConditionFalse, ReasonConflicted,
				fmt.Sprintf("%s also targets %s and applies there", Ref(other), TargetString(t))
		}
		out = append(out, st)
	}
	return out
}

// TargetString names a target as messages do: "Gateway edge listener https".
func TargetString(t PolicyTargetRef) string {
	s := fmt.Sprintf("%s %s", t.Kind, t.Name)
	if t.SectionName != nil {
		part := "listener"
		if t.Kind == KindRoute {
			part = "rule"
		}
		s += " " + part + " " + string(*t.SectionName)
	}
	return s
}

// Same tells whether t and u name the same target.
func (t PolicyTargetRef) Same(u PolicyTargetRef) bool {
	a, b := t, u
	return a.Kind == b.Kind && a.Name == b.Name && (a.SectionName == nil) == (b.SectionName == nil) &&
		(a.SectionName == nil || *a.SectionName == *b.SectionName)
}

// firstOnTarget returns the policy of p's kind that applies on target t when it is not p.
func firstOnTarget(p Policy, t PolicyTargetRef, objs []Object) Policy {
	var first Policy
	for _, o := range objs {
		q, ok := o.(Policy)
		if !ok || q.GetTypeMeta().Kind != p.GetTypeMeta().Kind || !slices.ContainsFunc(q.Targets(), func(u PolicyTargetRef) bool { return t.Same(u) }) {
			continue
		}
		if first == nil || policyKey(q) < policyKey(first) {
			first = q
		}
	}
	if first == nil || policyKey(first) == policyKey(p) {
		return nil
	}
	return first
}

func targetExists(t PolicyTargetRef, objs []Object) bool {
	for _, o := range objs {
		switch o := o.(type) {
		case *Gateway:
			if t.Kind == KindGateway && o.Metadata.Name == t.Name {
				return t.SectionName == nil || o.Listener(*t.SectionName) != nil
			}
		case *Route:
			if t.Kind == KindRoute && o.Metadata.Name == t.Name {
				return t.SectionName == nil || slices.ContainsFunc(o.Spec.Rules, func(r RouteRule) bool { return r.Name != nil && *r.Name == *t.SectionName })
			}
		}
	}
	return false
}
