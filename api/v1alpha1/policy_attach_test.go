package v1alpha1

import "testing"

func TestApplyingAndTargetStatus(t *testing.T) {
	admin := SectionName("admin")
	https := SectionName("https")
	gw := &Gateway{TypeMeta: TypeMeta{Kind: KindGateway}, Metadata: ObjectMeta{Name: "edge"},
		Spec: GatewaySpec{Listeners: []Listener{{Name: "http"}, {Name: https}}}}
	rt := &Route{TypeMeta: TypeMeta{Kind: KindRoute}, Metadata: ObjectMeta{Name: "app"},
		Spec: RouteSpec{Rules: []RouteRule{{}, {Name: &admin}}}}
	policy := func(name string, targets ...PolicyTargetRef) *SecurityPolicy {
		return &SecurityPolicy{TypeMeta: TypeMeta{Kind: KindSecurityPolicy}, Metadata: ObjectMeta{Name: name},
			Spec: SecurityPolicySpec{TargetRefs: targets}}
	}
	onGateway := PolicyTargetRef{Kind: KindGateway, Name: "edge"}
	onListener := PolicyTargetRef{Kind: KindGateway, Name: "edge", SectionName: &https}
	onRoute := PolicyTargetRef{Kind: KindRoute, Name: "app"}
	onRule := PolicyTargetRef{Kind: KindRoute, Name: "app", SectionName: &admin}
	objs := []Object{gw, rt,
		policy("a-gateway", onGateway), policy("b-listener", onListener), policy("c-route", onRoute),
		policy("d-rule", onRule), policy("e-rule-too", onRule), policy("f-gone", PolicyTargetRef{Kind: KindRoute, Name: "gone"})}
	ps := PoliciesOf[*SecurityPolicy](objs)

	tests := []struct {
		name  string
		scope PolicyScope
		want  string
	}{
		{"a listener's own answers: the gateway's", PolicyScope{Gateway: gw, Listener: "http"}, "a-gateway"},
		{"the listener's before the gateway's", PolicyScope{Gateway: gw, Listener: https}, "b-listener"},
		{"the route's before the listener's", PolicyScope{Gateway: gw, Listener: https, Route: rt, Rule: 0}, "c-route"},
		{"the rule's before the route's; the first by name on one target", PolicyScope{Gateway: gw, Listener: https, Route: rt, Rule: 1}, "d-rule"},
		{"another gateway's scope", PolicyScope{Gateway: &Gateway{Metadata: ObjectMeta{Name: "other"}}, Listener: "http"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, ok := Applying(ps, tt.scope)
			got := ""
			if ok {
				got = p.Metadata.Name
			}
			if got != tt.want {
				t.Errorf("applying %q, want %q", got, tt.want)
			}
		})
	}

	reasons := map[string]ConditionReason{"a-gateway": ReasonAccepted, "d-rule": ReasonAccepted,
		"e-rule-too": ReasonConflicted, "f-gone": ReasonTargetNotFound}
	for name, want := range reasons {
		for _, p := range ps {
			if p.Metadata.Name != name {
				continue
			}
			st := TargetStatus(p, objs)
			if len(st) != 1 || st[0].Reason != want {
				t.Errorf("%s: status %+v, want %s", name, st, want)
			}
		}
	}
}
