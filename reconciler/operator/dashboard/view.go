// Package dashboard is the operator's web page (/ui): what it applied and how it fares, and the
// path a request takes, from the address to the tasks of the services. The view is built by a pure
// function from what /status reads (objects, their judged status, the swarm), and rendered on the
// server with html/template; a small script only refreshes it.
package dashboard

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/acme"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/status"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// Operator is what the operator itself is at.
type Operator struct {
	Ready bool
	// Source names where the manifests come from, with any credential redacted.
	Source       string
	Revision     string
	SeenRevision string
	LastError    string
	Suspended    bool
}

// Input is what the view is made of. Objects, Statuses and Snapshot are nil before the first good
// pass.
type Input struct {
	Now      time.Time
	Operator Operator
	Objects  []v1alpha1.Object
	Statuses []status.ObjectStatus
	Snapshot *swarmstate.Snapshot
	// Issued are the ACME listeners' certificates, by acme.Key.
	Issued map[string]acme.IssuedCertificate
	// Events are the last alerts, newest first.
	Events []alert.Event
	// Agents are, for each gateway with agents (by qualified name), the config it should serve
	// and what its tasks serve.
	Agents map[string]status.GatewayAgents
}

// View is what the page shows.
type View struct {
	Now        time.Time
	Operator   Operator
	Paths      []Path
	Gateways   []Gateway
	Routes     []Route
	VirtualIPs []VirtualIP
	Nodes      []Node
	Events     []Event
}

// Object is the judged state of one object.
type Object struct {
	Name    string
	Sync    v1alpha1.SyncStatus
	Health  v1alpha1.HealthStatus
	Message string
	// Tasks is "running/desired", or "" when the object has no services.
	Tasks string
}

// Gateway is a Gateway with its listeners and, with agents, what each task serves.
type Gateway struct {
	Object
	Listeners []Listener
	Agents    []AgentTask
}

// AgentTask is the config a gateway task's agent serves, and where it stands with the desired one.
type AgentTask struct {
	Task    string
	Serves  string
	State   string
	Current bool
}

// Listener is one of a gateway's listeners.
type Listener struct {
	Name     string
	Protocol string
	Port     int32
	Hostname string
	// Certificates of an HTTPS listener: its secrets, or the one ACME issued.
	Certificates []Certificate
}

// Certificate is a listener's certificate and when it expires.
type Certificate struct {
	Name string
	// Expiry says when it expires ("2027-01-02 (in 29 days)"), or why that is unknown.
	Expiry string
	// Expiring is true when it expires within three weeks, or has.
	Expiring bool
}

// expiringWithin is when a certificate's expiry is worth a warning: ACME renews a month ahead.
const expiringWithin = 21 * 24 * time.Hour

// Route is a Route with what it serves and its traffic.
type Route struct {
	Object
	Hostnames []string
	Gateways  []string
	// Traffic is nil when the operator has no traffic data for the Route.
	Traffic *status.Traffic
}

// VirtualIP is an address and the node holding it.
type VirtualIP struct {
	Object
	Address string
	// Holders are the nodes that report holding it: one when all is well.
	Holders []string
	Gateway string
}

// Node is one swarm node.
type Node struct {
	Hostname     string
	Role         string
	State        string
	Availability string
	Address      string
	// Manager is "leader", "reachable", "unreachable", or "" for a worker.
	Manager string
}

// Event is one alert, without the values of what changed (they may be configuration that is
// better not shown to every reader).
type Event struct {
	Time    time.Time
	Reason  string
	Object  string
	Fields  []string
	Message string
}

// Path is how requests reach one gateway's backends: its addresses, its tasks per node, the
// Routes attached to it and the services they send to, with their tasks per node.
type Path struct {
	Gateway string
	Health  v1alpha1.HealthStatus
	// Addresses are the VirtualIPs that follow the gateway; Ports its listeners' ("443/HTTPS").
	Addresses []string
	Ports     []string
	Tasks     []NodeTasks
	Routes    []PathRoute
}

// PathRoute is a Route on a path and its services.
type PathRoute struct {
	Name     string
	Health   v1alpha1.HealthStatus
	Services []PathService
}

// PathService is a backend service and its tasks per node. Tasks are known for swarmgate's own
// services only (External).
type PathService struct {
	Name     string
	External bool
	Missing  bool
	Tasks    []NodeTasks
}

// NodeTasks are the tasks of a service on one node.
type NodeTasks struct {
	Node    string
	Running int
	Total   int
}

// Build makes the view. It reads, and never shows, secrets: certificates are named, not opened;
// a VirtualIP's VRRP password and a Route's environment are not in the view at all.
func Build(in Input) View {
	v := View{Now: in.Now, Operator: in.Operator}
	snap := in.Snapshot
	if snap == nil {
		snap = &swarmstate.Snapshot{}
	}
	nodeNames := map[string]string{}
	for _, n := range snap.Nodes {
		nodeNames[n.ID] = n.Description.Hostname
		v.Nodes = append(v.Nodes, node(n))
	}
	slices.SortFunc(v.Nodes, func(a, b Node) int { return cmp.Compare(a.Hostname, b.Hostname) })
	judged := map[string]status.ObjectStatus{}
	for _, s := range in.Statuses {
		judged[inventory.NewOwner(s.Kind, s.Name).String()] = s
	}
	objs := slices.Clone(in.Objects)
	v1alpha1.SortObjects(objs)
	var (
		gateways []*v1alpha1.Gateway
		routes   []*v1alpha1.Route
		vips     []*v1alpha1.VirtualIP
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *v1alpha1.Gateway:
			gateways = append(gateways, o)
		case *v1alpha1.Route:
			routes = append(routes, o)
		case *v1alpha1.VirtualIP:
			vips = append(vips, o)
		}
	}
	for _, gw := range gateways {
		st := judged[inventory.OwnerOf(gw).String()]
		g := Gateway{Object: object(gw, st)}
		for _, l := range gw.Spec.Listeners {
			g.Listeners = append(g.Listeners, listener(gw, l, snap, in.Issued, in.Now))
		}
		agents := in.Agents[gw.Metadata.QualifiedName()]
		for _, task := range agents.Tasks {
			g.Agents = append(g.Agents, AgentTask{Task: task.Task, Serves: task.Served, State: agents.TaskState(task), Current: task.Served == agents.Desired})
		}
		v.Gateways = append(v.Gateways, g)
		p := Path{Gateway: gw.Metadata.Name, Health: st.Health, Tasks: tasksPerNode(serviceIDs(status.OwnedServices(inventory.OwnerOf(gw).String(), snap)), snap, nodeNames)}
		for _, l := range gw.Spec.Listeners {
			p.Ports = append(p.Ports, fmt.Sprintf("%d/%s", l.Port, l.Protocol))
		}
		slices.Sort(p.Ports)
		p.Ports = slices.Compact(p.Ports)
		for _, vip := range vips {
			if t := vip.Spec.TrackGateway; t != nil && t.Name == gw.Metadata.Name {
				p.Addresses = append(p.Addresses, vip.Spec.Address)
			}
		}
		for _, r := range routes {
			if attachedTo(r, gw) {
				p.Routes = append(p.Routes, pathRoute(r, judged, snap, nodeNames))
			}
		}
		v.Paths = append(v.Paths, p)
	}
	for _, r := range routes {
		st := judged[inventory.OwnerOf(r).String()]
		rv := Route{Object: object(r, st), Traffic: st.Traffic}
		for _, h := range r.Spec.Hostnames {
			rv.Hostnames = append(rv.Hostnames, string(h))
		}
		for _, p := range r.Spec.ParentRefs {
			rv.Gateways = append(rv.Gateways, p.Name)
		}
		v.Routes = append(v.Routes, rv)
	}
	for _, vip := range vips {
		st := judged[inventory.OwnerOf(vip).String()]
		vv := VirtualIP{Object: object(vip, st), Address: vip.Spec.Address}
		if st.VirtualIP != nil {
			vv.Holders = st.VirtualIP.Holders()
		}
		if t := vip.Spec.TrackGateway; t != nil {
			vv.Gateway = t.Name
		}
		v.VirtualIPs = append(v.VirtualIPs, vv)
	}
	for _, e := range in.Events {
		ev := Event{Time: e.Time, Reason: e.Reason, Object: cmp.Or(e.Object, e.Owner), Message: e.Message}
		for _, c := range e.Changes {
			ev.Fields = append(ev.Fields, c.Field)
		}
		v.Events = append(v.Events, ev)
	}
	return v
}

func object(o v1alpha1.Object, st status.ObjectStatus) Object {
	out := Object{Name: o.GetObjectMeta().Name, Sync: st.Sync, Health: st.Health, Message: st.Message}
	if len(st.Drift) > 0 {
		out.Message = strings.TrimPrefix(out.Message+"; differs: "+strings.Join(st.Drift, ", "), "; ")
	}
	if st.Desired > 0 {
		out.Tasks = fmt.Sprintf("%d/%d", st.Running, st.Desired)
	}
	return out
}

func node(n swarm.Node) Node {
	out := Node{Hostname: n.Description.Hostname, Role: string(n.Spec.Role), State: string(n.Status.State),
		Availability: string(n.Spec.Availability), Address: n.Status.Addr}
	if m := n.ManagerStatus; m != nil {
		out.Manager = string(m.Reachability)
		if m.Leader {
			out.Manager = "leader"
		}
	}
	return out
}

// listener describes a listener and its certificates: a secret's expiry is in the labels
// `swarmgate tls create-secret` wrote (swarm never gives a secret's data back); an ACME
// certificate's is known from its chain.
func listener(gw *v1alpha1.Gateway, l v1alpha1.Listener, snap *swarmstate.Snapshot, issued map[string]acme.IssuedCertificate, now time.Time) Listener {
	out := Listener{Name: string(l.Name), Protocol: string(l.Protocol), Port: int32(l.Port)}
	if l.Hostname != nil {
		out.Hostname = string(*l.Hostname)
	}
	if l.TLS == nil {
		return out
	}
	if l.TLS.ACME != nil {
		c := Certificate{Name: "ACME", Expiry: "not issued yet", Expiring: true}
		if cert, ok := issued[acme.Key(gw.Metadata.QualifiedName(), l.Name)]; ok {
			c.Expiry, c.Expiring = expiry(cert.NotAfter, now)
		}
		out.Certificates = append(out.Certificates, c)
	}
	for _, ref := range l.TLS.CertificateRefs {
		c := Certificate{Name: ref.Name, Expiry: "secret not found", Expiring: true}
		if i := slices.IndexFunc(snap.UserSecrets, func(s swarm.Secret) bool { return s.Spec.Name == ref.Name }); i >= 0 {
			notAfter, err := time.Parse(time.RFC3339, snap.UserSecrets[i].Spec.Labels[inventory.LabelTLSNotAfter])
			if err != nil {
				c.Expiry, c.Expiring = "unknown (not made by swarmgate tls create-secret)", false
			} else {
				c.Expiry, c.Expiring = expiry(notAfter, now)
			}
		}
		out.Certificates = append(out.Certificates, c)
	}
	return out
}

func expiry(notAfter, now time.Time) (string, bool) {
	left := notAfter.Sub(now)
	day := notAfter.UTC().Format(time.DateOnly)
	switch {
	case left <= 0:
		return day + " (expired)", true
	case left < 48*time.Hour:
		return fmt.Sprintf("%s (in %d hours)", day, int(left.Hours())), true
	}
	return fmt.Sprintf("%s (in %d days)", day, int(left.Hours()/24)), left < expiringWithin
}

// attachedTo reports whether a Route names a Gateway among its parents.
func attachedTo(r *v1alpha1.Route, gw *v1alpha1.Gateway) bool {
	return slices.ContainsFunc(r.Spec.ParentRefs, func(p v1alpha1.ParentRef) bool {
		return p.Name == gw.Metadata.Name && (p.Namespace == "" || p.Namespace == gw.Metadata.Namespace)
	})
}

// pathRoute lists the services a Route's rules send to: its own, found by owner, and existing
// ones, found by name.
func pathRoute(r *v1alpha1.Route, judged map[string]status.ObjectStatus, snap *swarmstate.Snapshot, nodeNames map[string]string) PathRoute {
	owner := inventory.OwnerOf(r).String()
	out := PathRoute{Name: r.Metadata.Name, Health: judged[owner].Health}
	own := map[string]bool{}
	for _, s := range r.Spec.Services {
		own[s.Name] = true
	}
	seen := map[string]bool{}
	for _, rule := range r.Spec.Rules {
		for _, b := range rule.BackendRefs {
			if b.Kind != nil && *b.Kind != "Service" {
				continue
			}
			name := v1alpha1.StackName(b.Namespace, b.Name)
			if own[b.Name] && b.Namespace == "" {
				name = v1alpha1.StackName(r.Metadata.Namespace, b.Name)
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			ps := PathService{Name: name}
			i := slices.IndexFunc(snap.Services, func(s swarm.Service) bool { return s.Spec.Name == name })
			switch {
			case i < 0:
				ps.Missing = true
			case snap.Services[i].Spec.Labels[inventory.LabelOwner] != owner:
				ps.External = true
			default:
				ps.Tasks = tasksPerNode(serviceIDs(snap.Services[i:i+1]), snap, nodeNames)
			}
			out.Services = append(out.Services, ps)
		}
	}
	return out
}

func serviceIDs(services []swarm.Service) map[string]bool {
	ids := map[string]bool{}
	for _, s := range services {
		ids[s.ID] = true
	}
	return ids
}

// tasksPerNode counts the tasks swarm wants running of some services, on each node, and how many
// of them run.
func tasksPerNode(services map[string]bool, snap *swarmstate.Snapshot, nodeNames map[string]string) []NodeTasks {
	byNode := map[string]*NodeTasks{}
	for _, t := range snap.Tasks {
		if !services[t.ServiceID] || t.DesiredState != swarm.TaskStateRunning {
			continue
		}
		name := cmp.Or(nodeNames[t.NodeID], "unassigned")
		nt := byNode[name]
		if nt == nil {
			nt = &NodeTasks{Node: name}
			byNode[name] = nt
		}
		nt.Total++
		if t.Status.State == swarm.TaskStateRunning {
			nt.Running++
		}
	}
	out := make([]NodeTasks, 0, len(byNode))
	for _, nt := range byNode {
		out = append(out, *nt)
	}
	slices.SortFunc(out, func(a, b NodeTasks) int { return cmp.Compare(a.Node, b.Node) })
	return out
}
