package status

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// ObjectStatus is the desired-versus-actual view of one applied object: whether the swarm holds
// what it asks for (Sync), and whether it serves (Health), kept apart as Argo CD keeps them.
type ObjectStatus struct {
	Kind v1alpha1.Kind       `json:"kind"`
	Name string              `json:"name"`
	Sync v1alpha1.SyncStatus `json:"sync"`
	// Drift lists what differs from the applied object, when OutOfSync.
	Drift  []string              `json:"drift,omitempty"`
	Health v1alpha1.HealthStatus `json:"health"`
	// Reason and Message say why the object is not Healthy.
	Reason  v1alpha1.ConditionReason `json:"reason,omitempty"`
	Message string                   `json:"message,omitempty"`
	// Running and Desired count the tasks of the object's services.
	Running int `json:"running"`
	Desired int `json:"desired"`
	// Config is the config secret a gateway's service uses.
	Config string `json:"config,omitempty"`
	// VirtualIP is what the nodes of a VirtualIP report, when they were asked.
	VirtualIP *Observation `json:"virtualIP,omitempty"`
	// Policies are those that target a Gateway or Route, with how each fares there.
	Policies []AttachedPolicy `json:"policies,omitempty"`
	// Traffic is a Route's, when the operator has it.
	Traffic    *Traffic    `json:"traffic,omitempty"`
	Conditions []Condition `json:"conditions"`
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

// Input is what the status of objects is judged from: the objects, the plan of a pass made with
// tasks (what differs), the swarm it read, and what the agents report.
type Input struct {
	Objects  []v1alpha1.Object
	Plan     *planner.Plan
	Snapshot *swarmstate.Snapshot
	// VirtualIPs are the VRRP agents' reports, by owner, when they were asked.
	VirtualIPs map[string]Observation
	// Agents are, for each gateway with agents (by qualified name), the config it should serve
	// and what its tasks report serving, when an operator hands them their configs.
	Agents map[string]GatewayAgents
	// Attached are, by owner, the services not swarmgate's that its backendRefs[].attach attaches
	// to a gateway's network: their tasks restart on it.
	Attached map[string][]string
}

// Judge computes the status of every object. It is the one place sync and health are judged:
// get, apply --wait, the operator's /status, its alerts and its metrics use it.
func Judge(in Input) []ObjectStatus {
	var out []ObjectStatus
	objs := slices.Clone(in.Objects)
	v1alpha1.SortObjects(objs)
	for _, o := range objs {
		owner := inventory.OwnerOf(o).String()
		st := ObjectStatus{Kind: o.GetTypeMeta().Kind, Name: o.GetObjectMeta().Name, Sync: v1alpha1.Synced, Health: v1alpha1.Healthy}
		missing := false
		for _, a := range in.Plan.Actions {
			if a.Owner != owner {
				continue
			}
			switch {
			case a.Kind == planner.KindConfig && a.Op == planner.Create:
				st.Drift = append(st.Drift, "not applied as given")
			case a.Kind == planner.KindConfig:
			case a.Op == planner.Create && a.Kind == planner.KindSecret && len(a.Changes) > 0:
				st.Drift = append(st.Drift, "config") // a new config replaces the one in use
			case a.Op == planner.Create:
				missing = missing || a.Kind == planner.KindService
				st.Drift = append(st.Drift, fmt.Sprintf("%s/%s missing", a.Kind, a.Name))
			default:
				for _, c := range a.Changes {
					st.Drift = append(st.Drift, fmt.Sprintf("%s/%s %s", a.Kind, a.Name, c.Field))
				}
			}
		}
		if len(st.Drift) > 0 {
			st.Sync = v1alpha1.OutOfSync
		}
		services := OwnedServices(owner, in.Snapshot)
		st.Running, st.Desired, st.Config = tasks(services, in.Snapshot)
		if obs, ok := in.VirtualIPs[owner]; ok {
			st.VirtualIP = &obs
		}
		resolved := resolvedRefs(owner, in.Plan)
		switch {
		case missing:
			st.Health, st.Reason, st.Message = v1alpha1.Missing, v1alpha1.ReasonMissing, "its services do not exist"
		default:
			st.Health, st.Reason, st.Message = health(services, in.Snapshot.Services, in.Snapshot.Tasks)
			if st.Health == v1alpha1.Healthy {
				// A service the Route attached restarts its tasks on the new network: until they
				// run, its requests fail.
				if h, r, m := health(attached(in.Attached[owner], in.Snapshot), in.Snapshot.Services, in.Snapshot.Tasks); h == v1alpha1.Progressing {
					st.Health, st.Reason, st.Message = h, r, m
				}
			}
			if st.Health == v1alpha1.Healthy && resolved.Status != v1alpha1.ConditionTrue {
				st.Health, st.Reason, st.Message = v1alpha1.Degraded, resolved.Reason, resolved.Message
			}
			if st.Health == v1alpha1.Healthy && st.VirtualIP != nil {
				if c := VirtualIPReady(*st.VirtualIP); c.Status != v1alpha1.ConditionTrue {
					st.Health, st.Reason, st.Message = v1alpha1.Degraded, c.Reason, c.Message
				} else {
					st.Message = c.Message // who holds the address
				}
			}
			if gw, ok := o.(*v1alpha1.Gateway); ok && st.Health == v1alpha1.Healthy {
				if agents, ok := in.Agents[gw.Metadata.QualifiedName()]; ok {
					if h, reason, msg := agents.health(); h != v1alpha1.Healthy {
						st.Health, st.Reason, st.Message = h, reason, msg
					}
				}
			}
		}
		st.Conditions = conditions(st, resolved)
		if pol, ok := o.(v1alpha1.Policy); ok {
			policyAccepted(&st, pol, in.Objects)
		}
		st.Policies = attachedPolicies(o, objs)
		st.Conditions = append(st.Conditions, affected(st.Policies)...)
		out = append(out, st)
	}
	return out
}

// OwnedServices are the services this instance made for an owner.
func OwnedServices(owner string, s *swarmstate.Snapshot) []swarm.Service {
	var out []swarm.Service
	for _, svc := range s.Services {
		if svc.Spec.Labels[inventory.LabelOwner] == owner && svc.Spec.Labels[inventory.LabelManagedBy] == inventory.ManagedByValue {
			out = append(out, svc)
		}
	}
	return out
}

// attached are the services, not swarmgate's, that an owner's backendRefs[].attach attaches to
// a gateway's network.
func attached(names []string, s *swarmstate.Snapshot) []swarm.Service {
	var out []swarm.Service
	for _, svc := range s.Services {
		if slices.Contains(names, svc.Spec.Name) {
			out = append(out, svc)
		}
	}
	return out
}

// tasks counts the running and desired tasks of services, and names the config secret they use.
func tasks(services []swarm.Service, s *swarmstate.Snapshot) (running, want int, config string) {
	ids := map[string]bool{}
	jobs := 0 // the tasks jobs must complete, counted apart from the running ones of the others
	for _, svc := range services {
		if IsJob(svc) {
			// A job's tasks count as they complete.
			j := JudgeJob(svc, s.Tasks)
			running, jobs = running+j.Completed, jobs+j.Total
			continue
		}
		ids[svc.ID] = true
		if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
			want += int(*r.Replicas)
		}
		if c := svc.Spec.TaskTemplate.ContainerSpec; c != nil {
			for _, sec := range c.Secrets {
				if sec.File != nil && sec.File.Name == contract.GatewayConfigPath {
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
	return running, want + jobs, config
}

// health judges services by their update status and tasks: the worst service decides. all are
// every service of the swarm: those that may hold a port one of services waits for.
func health(services, all []swarm.Service, tasks []swarm.Task) (v1alpha1.HealthStatus, v1alpha1.ConditionReason, string) {
	rank := map[v1alpha1.HealthStatus]int{v1alpha1.Healthy: 0, v1alpha1.Progressing: 1, v1alpha1.Degraded: 2}
	h, reason, msg := v1alpha1.Healthy, v1alpha1.ReasonReady, ""
	for _, svc := range services {
		var mine []swarm.Task
		for _, t := range tasks {
			if t.ServiceID == svc.ID {
				mine = append(mine, t)
			}
		}
		sh, sr, sm := ServiceHealth(svc, mine)
		if sr == v1alpha1.ReasonHostPortInUse {
			sm += "; " + portHolders(svc, all)
		}
		// The worst service says why; among healthy ones, a job says how it ended.
		if rank[sh] > rank[h] || rank[sh] == rank[h] && msg == "" && sm != "" {
			h, reason, msg = sh, sr, "service "+svc.Spec.Name+": "+sm
		}
	}
	return h, reason, msg
}

// ServiceHealth judges one service from its tasks (a job by its current run, JudgeJob): Degraded when swarm paused or rolled back its
// update, or when tasks do not run and the newest failed (with that task's error); Progressing
// while an update rolls out or tasks start; Healthy when every task runs.
func ServiceHealth(svc swarm.Service, tasks []swarm.Task) (v1alpha1.HealthStatus, v1alpha1.ConditionReason, string) {
	if IsJob(svc) {
		return jobHealth(JudgeJob(svc, tasks))
	}
	failure := newestFailure(tasks)
	withFailure := func(msg string) string {
		if failure != "" {
			return msg + "; " + failure
		}
		return msg
	}
	if u := svc.UpdateStatus; u != nil {
		switch u.State {
		case swarm.UpdateStatePaused, swarm.UpdateStateRollbackPaused:
			return v1alpha1.Degraded, v1alpha1.ReasonUpdatePaused, withFailure(fmt.Sprintf("update %s: %s", u.State, u.Message))
		case swarm.UpdateStateRollbackCompleted:
			return v1alpha1.Degraded, v1alpha1.ReasonRolledBack, withFailure(fmt.Sprintf("update rolled back: %s", u.Message))
		case swarm.UpdateStateUpdating, swarm.UpdateStateRollbackStarted:
			return v1alpha1.Progressing, v1alpha1.ReasonUpdating, fmt.Sprintf("update %s", u.State)
		}
	}
	running, current, want := 0, 0, 0
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		want = int(*r.Replicas)
	}
	slots := 0
	for _, t := range tasks {
		if t.DesiredState == swarm.TaskStateRunning {
			slots++
			if t.Status.State == swarm.TaskStateRunning {
				running++
				if onSpec(svc, t) {
					current++
				}
			}
		}
	}
	if svc.Spec.Mode.Replicated == nil {
		want = slots
	}
	switch {
	case running >= want && current < want:
		// Right after an update, before swarm marks the service updating, the old tasks still
		// run the old spec: the service serves what was asked only once its tasks run the new one.
		return v1alpha1.Progressing, v1alpha1.ReasonUpdating, fmt.Sprintf("update pending: %d of %d tasks on the new spec", current, want)
	case running >= want:
		return v1alpha1.Healthy, v1alpha1.ReasonReady, ""
	case portInUse(tasks):
		return v1alpha1.Degraded, v1alpha1.ReasonHostPortInUse, withFailure(fmt.Sprintf("%d of %d tasks running; host port %s in use", running, want, strings.Join(hostPorts(svc), ", ")))
	case failure != "" && newestFailed(tasks):
		return v1alpha1.Degraded, v1alpha1.ReasonTasksFailing, withFailure(fmt.Sprintf("%d of %d tasks running", running, want))
	default:
		// A task swarm cannot place yet (no node fits, a host port is taken) is pending, not
		// failed: it runs once a node frees up. Its reason is worth showing all the same.
		return v1alpha1.Progressing, v1alpha1.ReasonTasksNotRunning, withFailure(fmt.Sprintf("%d of %d tasks running", running, want))
	}
}

// onSpec reports whether a task runs the service's current task spec in what decides what it
// serves: its container (image, command, environment, secrets and configs: a gateway's config),
// its networks and a forced update. The engine gives a task's spec back without the defaults it
// filled into the service's (a restart policy, empty structs), so the two are compared with every
// empty value left out, and only in those parts.
func onSpec(svc swarm.Service, t swarm.Task) bool {
	type served struct {
		ContainerSpec *swarm.ContainerSpec
		Networks      []swarm.NetworkAttachmentConfig
		ForceUpdate   uint64
	}
	want := served{svc.Spec.TaskTemplate.ContainerSpec, svc.Spec.TaskTemplate.Networks, svc.Spec.TaskTemplate.ForceUpdate}
	got := served{t.Spec.ContainerSpec, t.Spec.Networks, t.Spec.ForceUpdate}
	return reflect.DeepEqual(withoutEmpty(want), withoutEmpty(got))
}

// withoutEmpty is v as JSON values with every empty value (null, "", 0, false, {}, []) left out.
func withoutEmpty(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(data, &out) != nil {
		return nil
	}
	var prune func(any) any
	prune = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if e = prune(e); e == nil {
					delete(v, k)
				} else {
					v[k] = e
				}
			}
			if len(v) == 0 {
				return nil
			}
		case []any:
			for i := range v {
				v[i] = prune(v[i])
			}
			if len(v) == 0 {
				return nil
			}
		case string:
			if v == "" {
				return nil
			}
		case float64:
			if v == 0 {
				return nil
			}
		case bool:
			if !v {
				return nil
			}
		}
		return v
	}
	return prune(out)
}

// hostPortInUse is how swarm's scheduler says a node's host-mode port is taken.
const hostPortInUse = "host-mode port already in use"

// portInUse reports whether the newest task waits for a host-mode port that something else
// holds. While a task of the service itself is stopping (an update, stop-first), the port may be
// its own, about to be freed.
func portInUse(tasks []swarm.Task) bool {
	n := newest(tasks, func(t swarm.Task) bool { return t.DesiredState == swarm.TaskStateRunning })
	if n == nil || n.Status.State != swarm.TaskStatePending || !strings.Contains(n.Status.Err, hostPortInUse) {
		return false
	}
	return !slices.ContainsFunc(tasks, func(t swarm.Task) bool {
		return t.DesiredState != swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning
	})
}

// hostPorts lists a service's host-mode published ports: "80/tcp".
func hostPorts(svc swarm.Service) []string {
	var out []string
	if svc.Spec.EndpointSpec != nil {
		for _, p := range svc.Spec.EndpointSpec.Ports {
			if p.PublishMode == swarm.PortConfigPublishModeHost {
				out = append(out, fmt.Sprintf("%d/%s", p.PublishedPort, p.Protocol))
			}
		}
	}
	return out
}

// portHolders names the other services that publish one of svc's host-mode ports in host mode:
// those swarm knows; anything else (a container run with -p, a process) only the node can tell.
func portHolders(svc swarm.Service, services []swarm.Service) string {
	mine := hostPorts(svc)
	var holders []string
	for _, other := range services {
		if other.ID != svc.ID && slices.ContainsFunc(hostPorts(other), func(p string) bool { return slices.Contains(mine, p) }) {
			holders = append(holders, "service "+other.Spec.Name)
		}
	}
	if len(holders) == 0 {
		return "held by no swarm service: a container run with -p or a process on the node (docker ps, ss -ltnp there)"
	}
	return "held by " + strings.Join(holders, ", ")
}

// RolledBack reports whether swarm is rolling back, or rolled back, a service's update: its spec
// is then swarm's, not what was asked (the operator holds such a drift rather than re-apply it).
func RolledBack(svc swarm.Service) bool {
	u := svc.UpdateStatus
	return u != nil && slices.Contains([]swarm.UpdateState{swarm.UpdateStateRollbackStarted, swarm.UpdateStateRollbackCompleted, swarm.UpdateStateRollbackPaused}, u.State)
}

// failedStates are the states of a task that will not run.
var failedStates = []swarm.TaskState{swarm.TaskStateFailed, swarm.TaskStateRejected}

// newest returns the most recently changed task, or nil.
func newest(tasks []swarm.Task, keep func(swarm.Task) bool) *swarm.Task {
	var n *swarm.Task
	for i := range tasks {
		if keep(tasks[i]) && (n == nil || tasks[i].Status.Timestamp.After(n.Status.Timestamp)) {
			n = &tasks[i]
		}
	}
	return n
}

// newestFailed reports whether the newest task failed or was rejected: swarm has not started a
// task since.
func newestFailed(tasks []swarm.Task) bool {
	n := newest(tasks, func(swarm.Task) bool { return true })
	return n != nil && slices.Contains(failedStates, n.Status.State)
}

// newestFailure is the error of the newest task that failed: "task 3: No such image: x".
func newestFailure(tasks []swarm.Task) string {
	n := newest(tasks, func(t swarm.Task) bool { return t.Status.Err != "" })
	if n == nil {
		return ""
	}
	return fmt.Sprintf("task %d %s: %s", n.Slot, n.Status.State, n.Status.Err)
}

// resolvedRefs is a Route's ResolvedRefs condition (True for other kinds).
func resolvedRefs(owner string, p *planner.Plan) Condition {
	c := Condition{Type: v1alpha1.ConditionResolvedRefs, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonResolvedRefs}
	var missing []string
	for _, u := range p.Unresolved {
		if u.Owner == owner {
			c.Status, c.Reason = v1alpha1.ConditionFalse, u.Reason
			// What their share of requests gets: a service that is not there (yet) is unavailable;
			// a backend of another kind is an error in the route (the Gateway API's 500).
			effect := "answers 503"
			switch {
			case u.Mirror:
				effect = "not mirrored to"
			case u.Reason == v1alpha1.ReasonInvalidKind || u.Reason == v1alpha1.ReasonRefNotPermitted:
				effect = "answers 500"
			case u.Answer != "":
				effect = "answers " + string(u.Answer)
			}
			missing = append(missing, u.Service+" ("+string(u.Reason)+", "+effect+")")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		c.Message = "unresolved backends: " + strings.Join(missing, ", ")
	}
	return c
}

// conditions states sync and health as the Gateway API's conditions: Programmed is Sync, Ready
// is Health.
func conditions(st ObjectStatus, resolved Condition) []Condition {
	conds := []Condition{{Type: v1alpha1.ConditionAccepted, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonAccepted}}
	if st.Kind == v1alpha1.KindRoute || st.Kind == v1alpha1.KindGRPCRoute {
		conds = append(conds, resolved)
	}
	programmed := Condition{Type: v1alpha1.ConditionProgrammed, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonProgrammed}
	if st.Sync != v1alpha1.Synced {
		programmed = Condition{Type: v1alpha1.ConditionProgrammed, Status: v1alpha1.ConditionFalse, Reason: v1alpha1.ReasonDrifted,
			Message: strings.Join(st.Drift, ", ")}
	}
	ready := Condition{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionTrue, Reason: v1alpha1.ReasonReady, Message: st.Message}
	if st.Health != v1alpha1.Healthy {
		ready = Condition{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionFalse, Reason: st.Reason, Message: st.Message}
		if st.Reason == v1alpha1.ReasonUnobservable {
			ready.Status = v1alpha1.ConditionUnknown
		}
	}
	return append(conds, programmed, ready)
}

// VirtualIPReady judges what a VirtualIP's nodes report: ready when exactly one node holds the
// address and, if it tracks a gateway, the address answers.
func VirtualIPReady(obs Observation) Condition {
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
