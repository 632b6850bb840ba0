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
)

// The sync states of an object, as get shows them.
const (
	Synced  = "SYNCED"
	Drifted = "DRIFTED"
	Missing = "MISSING"
	// Unmanaged is a kind apply does not converge yet (VirtualIP).
	Unmanaged = "UNMANAGED"
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
	Config     string      `json:"config,omitempty"`
	Conditions []Condition `json:"conditions"`
}

// Condition follows the Gateway API's conditions: Accepted, ResolvedRefs, Programmed and Ready.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
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
		if st.Kind == v1alpha1.KindVirtualIP {
			st.Status = Unmanaged
		}
		st.Running, st.Desired, st.Config = tasks(owner, p.Snapshot)
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
	conds := []Condition{{Type: "Accepted", Status: "True", Reason: "Accepted"}}
	if st.Kind == v1alpha1.KindRoute {
		c := Condition{Type: "ResolvedRefs", Status: "True", Reason: "ResolvedRefs"}
		var missing []string
		for _, u := range p.Unresolved {
			if u.Owner == owner {
				c.Status, c.Reason = "False", u.Reason
				missing = append(missing, u.Service)
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			c.Message = "unresolved backends: " + strings.Join(missing, ", ")
		}
		conds = append(conds, c)
	}
	programmed := Condition{Type: "Programmed", Status: "True", Reason: "Programmed"}
	switch {
	case st.Kind == v1alpha1.KindVirtualIP:
		programmed = Condition{Type: "Programmed", Status: "False", Reason: "NotSupported",
			Message: "apply does not run keepalived yet; swarmgate render prints its configs"}
	case st.Status != Synced:
		programmed = Condition{Type: "Programmed", Status: "False", Reason: map[string]string{Drifted: "Drifted", Missing: "Missing"}[st.Status],
			Message: strings.Join(st.Drift, ", ")}
	}
	ready := Condition{Type: "Ready", Status: "True", Reason: "Ready"}
	switch {
	case programmed.Status != "True":
		ready = Condition{Type: "Ready", Status: "False", Reason: "NotProgrammed"}
	case st.Running < st.Desired:
		ready = Condition{Type: "Ready", Status: "False", Reason: "TasksNotRunning", Message: fmt.Sprintf("%d of %d tasks running", st.Running, st.Desired)}
	}
	return append(conds, programmed, ready)
}
