package reconciler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
	"github.com/swarmgate/swarmgate/reconciler/vrrp"
)

// The sync states of an object, as get shows them.
const (
	Synced  = "SYNCED"
	Drifted = "DRIFTED"
	Missing = "MISSING"
)

// ObjectStatus is the desired-versus-actual view of one manifest object.
type ObjectStatus struct {
	Kind   v1alpha1.Kind `json:"kind"`
	Name   string        `json:"name"`
	Status string        `json:"status"`
	// Drift lists the fields that differ from the manifests.
	Drift []string `json:"drift,omitempty"`
	// Running and Desired count the tasks of the object's services.
	Running int `json:"running"`
	Desired int `json:"desired"`
	// Config is the config secret a gateway's service uses.
	Config string `json:"config,omitempty"`
	// VirtualIP is what the nodes of a VirtualIP report, when they were asked.
	VirtualIP  *vrrp.Observation `json:"virtualIP,omitempty"`
	Conditions []Condition       `json:"conditions"`
}

// Condition follows the Gateway API's conditions: Accepted, ResolvedRefs, Programmed and Ready.
type Condition struct {
	Type    v1alpha1.ConditionType   `json:"type"`
	Status  v1alpha1.ConditionStatus `json:"status"`
	Reason  v1alpha1.ConditionReason `json:"reason"`
	Message string                   `json:"message,omitempty"`
}

// Condition returns the condition of a type, or nil.
func (s *ObjectStatus) Condition(t v1alpha1.ConditionType) *Condition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// Status computes the status of every object from a pass planned with tasks.
func Status(objs []v1alpha1.Object, p *Pass) []ObjectStatus {
	var out []ObjectStatus
	for _, o := range objs {
		owner := desired.Owner(o)
		st := ObjectStatus{Kind: o.GetTypeMeta().Kind, Name: o.GetObjectMeta().Name, Status: Synced}
		for _, a := range p.Plan.Actions {
			if a.Owner != owner {
				continue
			}
			switch {
			case a.Op == planner.Create && a.Kind == planner.KindSecret && len(a.Changes) > 0:
				st.Drift = append(st.Drift, "config") // a new config replaces the one in use
			case a.Op == planner.Create:
				st.Status = Missing
				st.Drift = append(st.Drift, fmt.Sprintf("%s/%s missing", a.Kind, a.Name))
			default:
				for _, c := range a.Changes {
					st.Drift = append(st.Drift, fmt.Sprintf("%s/%s %s", a.Kind, a.Name, c.Field))
				}
			}
		}
		if st.Status == Synced && len(st.Drift) > 0 {
			st.Status = Drifted
		}
		st.Running, st.Desired, st.Config = tasks(owner, p.Snapshot)
		if obs, ok := p.VirtualIPs[owner]; ok {
			st.VirtualIP = &obs
		}
		st.Conditions = conditions(st, owner, p.Plan)
		out = append(out, st)
	}
	return out
}

// tasks counts the running and desired tasks of an owner's services, and names the config secret
// they use.
func tasks(owner string, s *swarmstate.Snapshot) (running, want int, config string) {
	ids := map[string]bool{}
	for _, svc := range s.Services {
		if svc.Spec.Labels[v1alpha1.LabelOwner] != owner || svc.Spec.Labels[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue {
			continue
		}
		ids[svc.ID] = true
		if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
			want += int(*r.Replicas)
		}
		if c := svc.Spec.TaskTemplate.ContainerSpec; c != nil {
			for _, sec := range c.Secrets {
				if sec.File != nil && sec.File.Name == desired.ConfigPath {
					config = sec.SecretName
				}
			}
		}
	}
	global := 0
	for _, t := range s.Tasks {
		if !ids[t.ServiceID] || t.DesiredState != swarm.TaskStateRunning {
			continue
		}
		global++
		if t.Status.State == swarm.TaskStateRunning {
			running++
		}
	}
	if want == 0 {
		want = global // global services want one task per eligible node
	}
	return running, want, config
}

func conditions(st ObjectStatus, owner string, p *planner.Plan) []Condition {
	conds := []Condition{{Type: v1alpha1.ConditionAccepted, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonAccepted}}
	if st.Kind == v1alpha1.KindRoute {
		c := Condition{Type: v1alpha1.ConditionResolvedRefs, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonResolvedRefs}
		var missing []string
		for _, u := range p.Unresolved {
			if u.Owner == owner {
				c.Status, c.Reason = v1alpha1.ConditionFalse, u.Reason
				missing = append(missing, u.Service)
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			c.Message = "unresolved backends: " + strings.Join(missing, ", ")
		}
		conds = append(conds, c)
	}
	programmed := Condition{Type: v1alpha1.ConditionProgrammed, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonProgrammed}
	if st.Status != Synced {
		programmed = Condition{Type: v1alpha1.ConditionProgrammed, Status: v1alpha1.ConditionFalse,
			Reason:  map[string]v1alpha1.ConditionReason{Drifted: v1alpha1.ReasonDrifted, Missing: v1alpha1.ReasonMissing}[st.Status],
			Message: strings.Join(st.Drift, ", ")}
	}
	ready := Condition{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonReady}
	switch {
	case programmed.Status != v1alpha1.ConditionTrue:
		ready = Condition{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionFalse, Reason: v1alpha1.ReasonNotProgrammed}
	case st.Running < st.Desired:
		ready = Condition{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionFalse, Reason: v1alpha1.ReasonTasksNotRunning,
			Message: fmt.Sprintf("%d of %d tasks running", st.Running, st.Desired)}
	case st.VirtualIP != nil:
		ready = VirtualIPReady(*st.VirtualIP)
	}
	return append(conds, programmed, ready)
}

// VirtualIPReady judges what a VirtualIP's nodes report: ready when exactly one node holds the
// address and, if it tracks a gateway, the address answers.
func VirtualIPReady(obs vrrp.Observation) Condition {
	c := Condition{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionFalse}
	holders := obs.Holders()
	reported := 0
	var problems []string
	for _, n := range obs.Nodes {
		switch {
		case n.Report == nil:
			problems = append(problems, fmt.Sprintf("node %s: agent unreachable (%s)", n.Node, n.Error))
		case !n.Report.InterfaceFound:
			reported++
			problems = append(problems, fmt.Sprintf("node %s: no interface %s", n.Node, n.Report.Interface))
		default:
			reported++
			if h := n.Report.GatewayHealthy; h != nil && !*h {
				problems = append(problems, fmt.Sprintf("node %s: gateway does not answer", n.Node))
			}
		}
	}
	detail := ""
	if len(problems) > 0 {
		detail = "; " + strings.Join(problems, "; ")
	}
	switch {
	case reported == 0:
		c.Status, c.Reason, c.Message = v1alpha1.ConditionUnknown, v1alpha1.ReasonUnobservable, "no node's VRRP agent answered"+detail
	case len(holders) == 0:
		c.Reason, c.Message = v1alpha1.ReasonNoHolder, "no node holds the address"+detail
	case len(holders) > 1:
		c.Reason, c.Message = v1alpha1.ReasonSplitBrain, "held by "+strings.Join(holders, " and ")+
			" at once: their VRRP adverts do not reach each other (firewall dropping IP protocol 112? partition?)"+detail
	case obs.AnswerError != "":
		c.Reason, c.Message = v1alpha1.ReasonNotAnswering, "held by "+holders[0]+", but the gateway does not answer there: "+obs.AnswerError+detail
	default:
		c.Status, c.Reason, c.Message = v1alpha1.ConditionTrue, v1alpha1.ReasonReady, "held by "+holders[0]+detail
		if obs.AnsweredBy != "" {
			c.Message += ", answered by the gateway on " + obs.AnsweredBy
		}
	}
	return c
}
