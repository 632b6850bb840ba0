package status

import (
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

func TestVirtualIPReady(t *testing.T) {
	yes, no := true, false
	node := func(name string, holds bool, healthy *bool) NodeReport {
		return NodeReport{Node: name, Report: &contract.Report{Node: name, Interface: "eth0", InterfaceFound: true, Holds: holds, GatewayHealthy: healthy}}
	}
	unreachable := func(name string) NodeReport { return NodeReport{Node: name, Error: "connection refused"} }
	for _, tc := range []struct {
		name   string
		obs    Observation
		status v1alpha1.ConditionStatus
		reason v1alpha1.ConditionReason
	}{
		{"one holder that answers", Observation{Nodes: []NodeReport{node("n1", true, &yes), node("n2", false, &yes)}, AnsweredBy: "n1"},
			v1alpha1.ConditionTrue, v1alpha1.ReasonReady},
		{"one holder, a backup node down", Observation{Nodes: []NodeReport{node("n1", true, &yes), unreachable("n2")}, AnsweredBy: "n1"},
			v1alpha1.ConditionTrue, v1alpha1.ReasonReady},
		{"no holder", Observation{Nodes: []NodeReport{node("n1", false, &no), node("n2", false, &no)}, AnswerError: "timeout"},
			v1alpha1.ConditionFalse, v1alpha1.ReasonNoHolder},
		{"two holders", Observation{Nodes: []NodeReport{node("n1", true, &yes), node("n2", true, &yes)}, AnsweredBy: "n2"},
			v1alpha1.ConditionFalse, v1alpha1.ReasonSplitBrain},
		{"held but the gateway does not answer", Observation{Nodes: []NodeReport{node("n1", true, nil)}, AnswerError: "connection refused"},
			v1alpha1.ConditionFalse, v1alpha1.ReasonNotAnswering},
		{"no agent answers", Observation{Nodes: []NodeReport{unreachable("n1"), unreachable("n2")}},
			v1alpha1.ConditionUnknown, v1alpha1.ReasonUnobservable},
		{"interface missing on the only node", Observation{Nodes: []NodeReport{{Node: "n1", Report: &contract.Report{Interface: "eth9"}}}},
			v1alpha1.ConditionFalse, v1alpha1.ReasonNoHolder},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := VirtualIPReady(tc.obs)
			if c.Status != tc.status || c.Reason != tc.reason {
				t.Errorf("got %s %s (%s), want %s %s", c.Status, c.Reason, c.Message, tc.status, tc.reason)
			}
		})
	}
}
