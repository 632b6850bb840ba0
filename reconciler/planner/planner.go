// Package planner compares the desired state with a snapshot of the swarm and returns the ordered
// actions that converge one to the other, each with the fields it changes. It is pure, and it
// touches only objects that carry this instance's ownership labels.
package planner

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// Op is what an action does.
type Op string

// The operations.
const (
	Create Op = "create"
	Update Op = "update"
	Delete Op = "delete"
)

// Kind is the kind of swarm object an action writes.
type Kind string

// The kinds of swarm object.
const (
	KindNode    Kind = "node"
	KindNetwork Kind = "network"
	KindSecret  Kind = "secret"
	KindService Kind = "service"
	// KindConfig is a swarm config of the store of applied objects, or made from a Config's file.
	KindConfig Kind = "config"
	// KindCertificate is a swarm config holding the chain of a certificate obtained with ACME.
	KindCertificate Kind = "certificate"
	// KindAttachment is a network attachment added to a service swarmgate did not create, which
	// a Route asks for (backendRefs[].attach): the one write to a foreign object, opt-in.
	KindAttachment Kind = "attachment"
)

// Change is one field an action changes.
type Change struct {
	Field string
	Old   string
	New   string
}

// LabelChanges are the labels a node update sets and those it removes; the node's other labels
// stay as they are then.
type LabelChanges struct {
	Set    map[string]string
	Remove []string
}

// Action is one write to the engine.
type Action struct {
	Op    Op
	Kind  Kind
	Name  string
	Owner string // the manifest object it is for, "Route/dmzhttp"; empty for node labels
	// ID and Version identify the existing object an update or delete writes.
	ID      string
	Version swarm.Version
	Changes []Change

	Network *desired.Network
	// AttachTo is the network an attachment adds to a foreign service.
	AttachTo string
	Secret   *desired.Secret
	Service  *desired.Service
	// Labels are a node update's label changes (Changes only describes them).
	Labels  *LabelChanges
	Applied *desired.Applied
	Config  *desired.Config
}

// String is the one-line report of an action: "service/dmzhttp created".
func (a Action) String() string {
	past := map[Op]string{Create: "created", Update: "updated", Delete: "deleted"}[a.Op]
	if a.Kind == KindNode {
		past = "labeled"
	}
	if a.Kind == KindSecret && a.Op == Create && a.Secret != nil && rotates(a) {
		past = "rotated"
	}
	if a.Kind == KindAttachment {
		return fmt.Sprintf("service/%s attached to network %s (not swarmgate's: backendRefs[].attach)", a.Name, a.AttachTo)
	}
	return fmt.Sprintf("%s/%s %s", a.Kind, a.Name, past)
}

// rotates reports whether a created secret replaces an older one of the same owner.
func rotates(a Action) bool { return len(a.Changes) > 0 && a.Changes[0].Old != "" }

// Plan is the actions of one pass, in the order they must run.
type Plan struct {
	Actions []Action
	// Orphans are objects of this instance that no manifest wants any more; they are deleted
	// only with Prune.
	Orphans []Action
	// Warnings are problems that do not stop the pass, such as a missing external backend.
	Warnings []string
	// Unresolved are the backends routes cannot reach: external services that do not exist or
	// that their gateway cannot reach, and backendRefs of kinds swarmgate does not know.
	Unresolved []Unresolved
}

// Unresolved is a backend a route cannot reach, and why.
type Unresolved struct {
	Owner   string
	Service string
	Reason  v1alpha1.ConditionReason
	// Mirror is set for a RequestMirror's backend.
	Mirror bool
	// Answer is, for a missing service, what its requests get.
	Answer desired.MissingAnswer
}

// Empty reports whether the plan writes nothing.
func (p *Plan) Empty() bool { return len(p.Actions) == 0 }

// Options change what a plan does.
type Options struct {
	// Prune deletes this instance's objects that no manifest wants.
	Prune bool
	// Delete names the owners ("Route/x") being deleted: their objects are deleted without Prune.
	Delete []string
	// Scope, when set, limits the plan to these owners' objects: a partial apply or a delete
	// leaves the other applied objects as they are (drifted or not).
	Scope []string
	// KeepAgentConfigs leaves a gateway whose agents take their configs from the operator on the
	// config secret it mounts (its bootstrap), so a new config replaces no task: the operator,
	// which delivers configs to agents, sets it. Without it (the CLI), a new config is a new
	// secret and the tasks are replaced.
	KeepAgentConfigs bool
	// Unchanged names the gateways (owners) with agents whose config the input leaves as it was
	// applied. Without KeepAgentConfigs (the CLI), they too stay on what they mount: their agents
	// already have that config, from the operator that applied it, which left the service on an
	// older bootstrap. A CLI pass that changes nothing then writes nothing.
	Unchanged []string
}

// New plans the actions that turn snapshot s into desired state d. It fails, before any write,
// when d needs an object that exists but is not this instance's, or a node label someone else set.
func New(d *desired.State, s *swarmstate.Snapshot, opts Options) (*Plan, error) {
	p := &Plan{Warnings: slices.Clone(d.Warnings)}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	owners := map[string]bool{}
	for _, o := range d.Owners {
		owners[o] = true
	}
	// orphan deletes an owned object no manifest wants: always when its owner still exists (an
	// old config secret of a gateway) or is being deleted, otherwise only with Prune.
	orphan := func(a Action) {
		if owners[a.Owner] || opts.Prune || slices.Contains(opts.Delete, a.Owner) {
			p.Actions = append(p.Actions, a)
		} else {
			p.Orphans = append(p.Orphans, a)
		}
	}

	// The store first: what was applied is recorded before the swarm converges to it, so a pass
	// that fails half-way is finished by the next one, whatever it was given.
	appliedDeletes := p.planApplied(d, s)
	p.planNodes(d, s, fail)
	if opts.KeepAgentConfigs || len(opts.Unchanged) > 0 {
		d = keepAgentConfigs(d, s, func(owner string) bool { return opts.KeepAgentConfigs || slices.Contains(opts.Unchanged, owner) })
	}
	existingNet, netDeletes := p.planNetworks(d, s, fail)
	wantSecret, secretDeletes := p.planSecrets(d, s)
	wantChain, chainDeletes := p.planChains(d, s)
	wantConfig, configDeletes := p.planSourceConfigs(d, s)
	existingSvc, svcDeletes := p.planServices(d, s, existingNet, wantSecret, wantChain, wantConfig, fail)
	// Deletes run after every create and update, services first: a secret or network is freed
	// only once no service uses it. An object leaves the store last, once nothing of it is left
	// (a delete that fails keeps it there, to be retried).
	for _, group := range [][]Action{svcDeletes, secretDeletes, chainDeletes, configDeletes, netDeletes, appliedDeletes} {
		for _, a := range group {
			orphan(a)
		}
	}

	if opts.Scope != nil {
		p.Actions = slices.DeleteFunc(p.Actions, func(a Action) bool { return !slices.Contains(opts.Scope, a.Owner) })
	}
	p.checkExternalBackends(d, existingSvc, s.NetworkNames())
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return p, nil
}

// owned is an object of a kind swarmgate owns, as the snapshot has it.
type owned struct{ name, id, owner string }

func ownedOf(id string, a swarm.Annotations) owned {
	return owned{name: a.Name, id: id, owner: a.Labels[inventory.LabelOwner]}
}

// wanted is an object the desired state asks for, and the action that creates it.
type wanted struct {
	name   string
	create Action
}

// contentAddressed plans a kind of object whose name carries a hash of its content, so that one
// that exists never changes: a wanted one the swarm lacks is created, one of have no longer
// wanted is deleted. It returns the names wanted, and the deletes, which run after every create.
func (p *Plan) contentAddressed(kind Kind, have []owned, want []wanted) (map[string]bool, []Action) {
	exists := map[string]bool{}
	for _, h := range have {
		exists[h.name] = true
	}
	wantName := map[string]bool{}
	for _, w := range want {
		wantName[w.name] = true
		if !exists[w.name] {
			p.Actions = append(p.Actions, w.create)
		}
	}
	var deletes []Action
	for _, h := range have {
		if !wantName[h.name] {
			deletes = append(deletes, Action{Op: Delete, Kind: kind, Name: h.name, Owner: h.owner, ID: h.id})
		}
	}
	return wantName, deletes
}

// planNetworks creates the networks the state wants; an existing one the user made is used as it
// is, if it can carry the gateway's traffic. It returns the swarm's networks by name and the
// deletes of owned networks no longer wanted (unless a service swarmgate did not create uses one).
func (p *Plan) planNetworks(d *desired.State, s *swarmstate.Snapshot, fail func(string, ...any)) (map[string]network.Summary, []Action) {
	existing := map[string]network.Summary{}
	for _, n := range s.Networks {
		existing[n.Name] = n
	}
	want := map[string]bool{}
	for i := range d.Networks {
		w := &d.Networks[i]
		want[w.Name] = true
		got, ok := existing[w.Name]
		switch {
		case !ok:
			p.Actions = append(p.Actions, Action{Op: Create, Kind: KindNetwork, Name: w.Name, Owner: w.Owner, Network: w})
		case !swarmstate.Owned(got.Labels, d.Instance) && (got.Driver != "overlay" || !got.Attachable):
			// An existing network the user made, like the blog's nginx_default, is used as it is
			// and never changed; it must be able to carry the gateway's traffic.
			fail("network %s exists but is not an attachable overlay network, and swarmgate did not create it", w.Name)
		}
	}
	var deletes []Action
	for _, n := range s.Networks {
		if !swarmstate.Owned(n.Labels, d.Instance) || want[n.Name] {
			continue
		}
		// A service swarmgate does not own that uses the network (one a Route attached, or one
		// attached by hand) keeps it: removing the network would need changing that service.
		if user := foreignUser(s.Services, n, d.Instance); user != "" {
			p.Warnings = append(p.Warnings, fmt.Sprintf("network %s is no longer wanted but service %s, which swarmgate did not create, uses it: left in place "+
				"(swarmgate changes no other service than by backendRefs[].attach); once %s no longer needs it: "+
				"docker service update --network-rm %s %s && docker network rm %s", n.Name, user, user, n.Name, user, n.Name))
			continue
		}
		deletes = append(deletes, Action{Op: Delete, Kind: KindNetwork, Name: n.Name, Owner: n.Labels[inventory.LabelOwner], ID: n.ID})
	}
	return existing, deletes
}

// planApplied plans the store of applied objects: one config each, content-addressed.
func (p *Plan) planApplied(d *desired.State, s *swarmstate.Snapshot) []Action {
	var have []owned
	for _, c := range s.Applied {
		have = append(have, ownedOf(c.ID, c.Spec.Annotations))
	}
	var want []wanted
	for i := range d.Applied {
		a := &d.Applied[i]
		want = append(want, wanted{a.Name, Action{Op: Create, Kind: KindConfig, Name: a.Name, Owner: a.Owner, Applied: a}})
	}
	_, deletes := p.contentAddressed(KindConfig, have, want)
	return deletes
}

// planChains plans the configs of ACME certificate chains: content-addressed too.
func (p *Plan) planChains(d *desired.State, s *swarmstate.Snapshot) (map[string]bool, []Action) {
	var have []owned
	for _, c := range s.Certificates {
		have = append(have, ownedOf(c.ID, c.Spec.Annotations))
	}
	var want []wanted
	for i := range d.Configs {
		c := &d.Configs[i]
		want = append(want, wanted{c.Name, Action{Op: Create, Kind: KindCertificate, Name: c.Name, Owner: c.Owner, Config: c}})
	}
	return p.contentAddressed(KindCertificate, have, want)
}

// planSecrets plans the secrets: content-addressed, and a new one of an owner says which it
// replaces (a gateway's config, rotated). The earlier secrets of a Secret are kept as many as its
// revision history.
func (p *Plan) planSecrets(d *desired.State, s *swarmstate.Snapshot) (map[string]bool, []Action) {
	var have []owned
	byOwner := map[string][]string{}
	created := map[string]time.Time{}
	for _, sec := range s.Secrets {
		o := ownedOf(sec.ID, sec.Spec.Annotations)
		have = append(have, o)
		byOwner[o.owner] = append(byOwner[o.owner], o.name)
		created[sec.ID] = sec.CreatedAt
	}
	var want []wanted
	keep := map[string]int{}
	for i := range d.Secrets {
		w := &d.Secrets[i]
		a := Action{Op: Create, Kind: KindSecret, Name: w.Name, Owner: w.Owner, Secret: w}
		if old := slices.DeleteFunc(slices.Clone(byOwner[w.Owner]), func(n string) bool { return n == w.Name }); len(old) > 0 {
			slices.Sort(old)
			a.Changes = []Change{{Field: "replaces", Old: strings.Join(old, ","), New: w.Name}}
		}
		want = append(want, wanted{w.Name, a})
		keep[w.Owner] = max(keep[w.Owner], w.Keep)
	}
	wantName, deletes := p.contentAddressed(KindSecret, have, want)
	return wantName, retain(deletes, created, keep)
}

// planSourceConfigs plans the configs made from the files of Configs: content-addressed, the
// earlier ones kept as many as their Config's revision history.
func (p *Plan) planSourceConfigs(d *desired.State, s *swarmstate.Snapshot) (map[string]bool, []Action) {
	var have []owned
	created := map[string]time.Time{}
	for _, c := range s.SourceConfigs {
		have = append(have, ownedOf(c.ID, c.Spec.Annotations))
		created[c.ID] = c.CreatedAt
	}
	var want []wanted
	keep := map[string]int{}
	for i := range d.SourceConfigs {
		c := &d.SourceConfigs[i]
		want = append(want, wanted{c.Name, Action{Op: Create, Kind: KindConfig, Name: c.Name, Owner: c.Owner, Config: c}})
		keep[c.Owner] = max(keep[c.Owner], c.Keep)
	}
	wantName, deletes := p.contentAddressed(KindConfig, have, want)
	return wantName, retain(deletes, created, keep)
}

// retain drops from deletes the newest keep[owner] objects of each owner (by the creation times
// of their IDs): a revision history, for a rollback to find what its service mounted.
func retain(deletes []Action, created map[string]time.Time, keep map[string]int) []Action {
	slices.SortStableFunc(deletes, func(a, b Action) int { return created[b.ID].Compare(created[a.ID]) })
	kept := map[string]int{}
	return slices.DeleteFunc(deletes, func(a Action) bool {
		if kept[a.Owner] < keep[a.Owner] {
			kept[a.Owner]++
			return true
		}
		return false
	})
}

// planServices creates and updates the services in serviceOrder, after checking that what each
// mounts and joins exists. It returns the
// swarm's services by name and the deletes of owned services no longer wanted.
func (p *Plan) planServices(d *desired.State, s *swarmstate.Snapshot, existingNet map[string]network.Summary,
	wantSecret, wantChain, wantConfig map[string]bool, fail func(string, ...any)) (map[string]swarm.Service, []Action) {
	userSecrets := map[string]bool{}
	for _, sec := range s.UserSecrets {
		userSecrets[sec.Spec.Name] = true
	}
	userConfigs := map[string]bool{}
	for _, c := range s.UserConfigs {
		userConfigs[c.Spec.Name] = true
	}
	existing := map[string]swarm.Service{}
	for _, svc := range s.Services {
		existing[svc.Spec.Name] = svc
	}
	netNames := s.NetworkNames()
	services := serviceOrder(d.Services)
	want := map[string]bool{}
	for i := range services {
		w := &services[i]
		want[w.Name] = true
		got, ok := existing[w.Name]
		for _, ref := range w.Spec.TaskTemplate.ContainerSpec.Secrets {
			if !wantSecret[ref.SecretName] && !userSecrets[ref.SecretName] {
				fail("%s: secret %s does not exist; create it (docker secret create %s -)", w.Owner, ref.SecretName, ref.SecretName)
			}
		}
		for _, ref := range w.Spec.TaskTemplate.ContainerSpec.Configs {
			if !userConfigs[ref.ConfigName] && !wantChain[ref.ConfigName] && !wantConfig[ref.ConfigName] {
				fail("%s: config %s does not exist; create it (docker config create %s FILE)", w.Owner, ref.ConfigName, ref.ConfigName)
			}
		}
		for _, att := range w.Spec.TaskTemplate.Networks {
			if _, ok := existingNet[att.Target]; !ok && !slices.ContainsFunc(d.Networks, func(n desired.Network) bool { return n.Name == att.Target }) {
				fail("%s: network %s does not exist; create it (docker network create --driver overlay --attachable %s)", w.Owner, att.Target, att.Target)
			}
		}
		switch {
		case !ok:
			p.Actions = append(p.Actions, Action{Op: Create, Kind: KindService, Name: w.Name, Owner: w.Owner, Service: w})
		case !swarmstate.Owned(got.Spec.Labels, d.Instance):
			fail("service %s exists and was not created by swarmgate instance %q; %s, or remove that service", w.Name, d.Instance, renameHint(w.Owner))
		default:
			if changes := Diff(Project(w.Spec, nil), Project(got.Spec, netNames)); len(changes) > 0 {
				p.Actions = append(p.Actions, Action{Op: Update, Kind: KindService, Name: w.Name, Owner: w.Owner,
					ID: got.ID, Version: got.Version, Changes: changes, Service: w})
			}
		}
	}
	var deletes []Action
	for _, svc := range s.Services {
		if swarmstate.Owned(svc.Spec.Labels, d.Instance) && !want[svc.Spec.Name] {
			deletes = append(deletes, Action{Op: Delete, Kind: KindService, Name: svc.Spec.Name, Owner: svc.Spec.Labels[inventory.LabelOwner], ID: svc.ID})
		}
	}
	return existing, deletes
}

// serviceOrder is the order services are created and updated in: backends before gateways, so
// that a gateway's first config finds them; a service after those it depends on and after its
// hooks (validation refuses cycles); otherwise by name.
func serviceOrder(services []desired.Service) []desired.Service {
	isGateway := func(s desired.Service) int {
		if inventory.Owner(s.Owner).Kind() == v1alpha1.KindGateway {
			return 1
		}
		return 0
	}
	byName := slices.Clone(services)
	slices.SortStableFunc(byName, func(a, b desired.Service) int {
		return cmp.Or(cmp.Compare(isGateway(a), isGateway(b)), cmp.Compare(a.Name, b.Name))
	})
	placed := make(map[string]bool, len(byName))
	declared := make(map[string]bool, len(byName))
	for _, s := range byName {
		declared[s.Name] = true
	}
	ready := func(s desired.Service) bool {
		for _, before := range slices.Concat(s.DependsOn, s.Hooks) {
			if declared[before] && !placed[before] {
				return false
			}
		}
		return true
	}
	out := make([]desired.Service, 0, len(byName))
	first := 0 // the first service not placed: without dependencies, each is placed in one step
	for len(out) < len(byName) {
		for placed[byName[first].Name] {
			first++
		}
		// The first service, in the base order, whose predecessors are all placed; with none
		// (a cycle, which validation refuses), the first not yet placed.
		next := first
		for i := first; i < len(byName); i++ {
			if !placed[byName[i].Name] && ready(byName[i]) {
				next = i
				break
			}
		}
		placed[byName[next].Name] = true
		out = append(out, byName[next])
	}
	return out
}

// planNodes converges node labels. A node carries, under LabelOwnedNodeLabels.<instance>, the keys
// this instance set; only those are ever changed or removed. A wanted label that someone else set
// with the same value is left as it is; with another value it is a conflict.
func (p *Plan) planNodes(d *desired.State, s *swarmstate.Snapshot, fail func(string, ...any)) {
	ownedKey := inventory.LabelOwnedNodeLabels + "." + d.Instance
	found := map[string]bool{}
	nodes := slices.Clone(s.Nodes)
	slices.SortFunc(nodes, func(a, b swarm.Node) int { return cmp.Compare(a.Description.Hostname, b.Description.Hostname) })
	for _, n := range nodes {
		host := n.Description.Hostname
		found[host] = true
		want := d.NodeLabels[host]
		var owned []string
		if v := n.Spec.Labels[ownedKey]; v != "" {
			owned = strings.Split(v, ",")
		}
		labels := make(map[string]string, len(n.Spec.Labels))
		for k, v := range n.Spec.Labels {
			labels[k] = v
		}
		var changes []Change
		var newOwned []string
		edits := &LabelChanges{Set: map[string]string{}}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			v := want[k]
			old, has := labels[k]
			switch {
			case has && old == v:
				if slices.Contains(owned, k) {
					newOwned = append(newOwned, k)
				}
			case has && !slices.Contains(owned, k):
				fail("node %s: label %s=%s was not set by swarmgate; refusing to change it to %s", host, k, old, v)
			default:
				labels[k] = v
				newOwned = append(newOwned, k)
				changes = append(changes, Change{Field: "label." + k, Old: old, New: v})
				edits.Set[k] = v
			}
		}
		for _, k := range owned {
			if _, keep := want[k]; !keep {
				if old, has := labels[k]; has {
					delete(labels, k)
					changes = append(changes, Change{Field: "label." + k, Old: old})
					edits.Remove = append(edits.Remove, k)
				}
			}
		}
		slices.Sort(newOwned)
		if v := strings.Join(newOwned, ","); v != labels[ownedKey] {
			changes = append(changes, Change{Field: "label." + ownedKey, Old: labels[ownedKey], New: v})
			if v == "" {
				delete(labels, ownedKey)
				edits.Remove = append(edits.Remove, ownedKey)
			} else {
				labels[ownedKey] = v
				edits.Set[ownedKey] = v
			}
		}
		if len(changes) > 0 {
			zone := want[v1alpha1.ZoneLabel]
			if zone == "" {
				zone = n.Spec.Labels[v1alpha1.ZoneLabel]
			}
			p.Actions = append(p.Actions, Action{Op: Update, Kind: KindNode, Name: host, Owner: inventory.NewOwner(v1alpha1.KindZone, zone).String(),
				ID: n.ID, Version: n.Version, Changes: changes, Labels: edits})
		}
	}
	for _, host := range slices.Sorted(maps.Keys(d.NodeLabels)) {
		if !found[host] {
			p.Warnings = append(p.Warnings, fmt.Sprintf("Zone %s: node %s is not in the swarm", d.NodeLabels[host][v1alpha1.ZoneLabel], host))
		}
	}
}

func (p *Plan) checkExternalBackends(d *desired.State, services map[string]swarm.Service, netNames map[string]string) {
	for _, b := range d.InvalidBackends {
		p.Unresolved = append(p.Unresolved, Unresolved{Owner: b.Owner, Service: b.Ref, Reason: b.Reason, Mirror: b.Mirror})
		why, what := "is not a swarm service", "backend"
		if b.Reason == v1alpha1.ReasonRefNotPermitted {
			why = "is in another namespace, and no ReferenceGrant there permits it"
		}
		effect := "its requests answer 500"
		if b.Mirror {
			what, effect = "mirror", "nothing is mirrored to it"
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s %s %s (ResolvedRefs=False, %s); %s", b.Owner, what, b.Ref, why, b.Reason, effect))
	}
	for _, b := range d.ExternalBackends {
		svc, ok := services[b.Service]
		if !ok {
			effect := "its requests answer " + string(b.Answer)
			if b.Mirror {
				effect = "nothing is mirrored to it"
			}
			p.unresolved(b, v1alpha1.ReasonBackendNotFound, fmt.Sprintf("%s: backend service %s does not exist (ResolvedRefs=False); %s", b.Owner, b.Service, effect))
			continue
		}
		reachable := false
		for _, att := range svc.Spec.TaskTemplate.Networks {
			name := netNames[att.Target]
			if name == "" {
				name = att.Target
			}
			reachable = reachable || slices.Contains(b.Networks, name)
		}
		switch {
		case reachable:
		case b.Attach && len(b.Networks) > 0:
			// The Route asked: the service joins its gateway's (first) network.
			p.Actions = append(p.Actions, Action{Op: Update, Kind: KindAttachment, Name: b.Service, Owner: b.Owner, ID: svc.ID,
				AttachTo: b.Networks[0], Changes: []Change{{Field: "networks", New: "+" + b.Networks[0]}}})
		default:
			hint := "; backendRefs[].attach: true would attach it"
			if !strings.HasPrefix(b.Owner, string(v1alpha1.KindRoute)+"/") {
				hint = "" // a stream route has no attach
			}
			p.unresolved(b, v1alpha1.ReasonBackendNotReachable, fmt.Sprintf("%s: backend service %s is not on network %s of its gateway (ResolvedRefs=False)%s", b.Owner, b.Service, strings.Join(b.Networks, ", "), hint))
		}
	}
}

// renameHint says what to rename so that an owner's service gets another name: a Route's
// services are named by its spec.services entries, a Gateway's and a VirtualIP's by the object.
func renameHint(owner string) string {
	if route, ok := strings.CutPrefix(owner, string(v1alpha1.KindRoute)+"/"); ok {
		return "rename the service in spec.services of Route " + route
	}
	return "rename the " + owner
}

// foreignUser names a service of services that swarmgate's instance does not own and that is
// attached to network n; "" if none.
func foreignUser(services []swarm.Service, n network.Summary, instance string) string {
	for _, svc := range services {
		if swarmstate.Owned(svc.Spec.Labels, instance) {
			continue
		}
		for _, att := range svc.Spec.TaskTemplate.Networks {
			if att.Target == n.ID || att.Target == n.Name {
				return svc.Spec.Name
			}
		}
	}
	return ""
}

func (p *Plan) unresolved(b desired.ExternalBackend, reason v1alpha1.ConditionReason, warning string) {
	p.Unresolved = append(p.Unresolved, Unresolved{Owner: b.Owner, Service: b.Service, Reason: reason, Answer: b.Answer, Mirror: b.Mirror})
	p.Warnings = append(p.Warnings, warning)
}

// keepAgentConfigs returns d with the service of each agent gateway keep accepts (by owner) left
// on what its agents take from the operator: the config secret it mounts (the bootstrap) and the
// chains of its ACME certificates, when those are this instance's and still exist, and each chain
// is for the key the service is to mount. A new config or a renewed certificate then replaces no task. When the
// service changes in any other way, its tasks are replaced anyway: they then start on the newest.
func keepAgentConfigs(d *desired.State, s *swarmstate.Snapshot, keep func(owner string) bool) *desired.State {
	haveSecret := map[string]bool{}
	for _, sec := range s.Secrets {
		haveSecret[sec.Spec.Name] = true
	}
	// A chain config's key: where it is mounted (by listener) and the secret holding it.
	type key struct{ target, secret string }
	chainKey := map[string]key{}
	for _, c := range s.Certificates {
		chainKey[c.Spec.Name] = key{nginx.KeyFile(v1alpha1.SectionName(c.Spec.Labels[inventory.LabelListener])), c.Spec.Labels[inventory.LabelTLSKey]}
	}
	current := map[string]swarm.ServiceSpec{}
	for _, svc := range s.Services {
		if svc.Spec.TaskTemplate.ContainerSpec != nil && swarmstate.Owned(svc.Spec.Labels, d.Instance) {
			current[svc.Spec.Name] = svc.Spec
		}
	}
	netNames := s.NetworkNames()
	out := *d
	out.Services = slices.Clone(d.Services)
	out.Secrets = slices.Clone(d.Secrets)
	out.Configs = slices.Clone(d.Configs)
	for i, svc := range out.Services {
		got, ok := current[svc.Name]
		if !svc.Agent || !ok || !keep(svc.Owner) {
			continue
		}
		spec := svc.Spec
		cs := *spec.TaskTemplate.ContainerSpec
		cs.Secrets, cs.Configs = slices.Clone(cs.Secrets), slices.Clone(cs.Configs)
		keys := map[string]string{} // mount target -> key secret wanted there
		for _, ref := range cs.Secrets {
			if ref.File != nil {
				keys[ref.File.Name] = ref.SecretName
			}
		}
		var keptSecret, replacedSecret string
		for _, ref := range got.TaskTemplate.ContainerSpec.Secrets {
			if ref.File != nil && ref.File.Name == contract.GatewayConfigPath && haveSecret[ref.SecretName] {
				keptSecret = ref.SecretName
			}
		}
		for j, ref := range cs.Secrets {
			if keptSecret != "" && ref.File != nil && ref.File.Name == contract.GatewayConfigPath {
				r := *ref
				replacedSecret, r.SecretName = r.SecretName, keptSecret
				cs.Secrets[j] = &r
			}
		}
		keptChains := map[string]bool{}
		for _, ref := range got.TaskTemplate.ContainerSpec.Configs {
			k, isChain := chainKey[ref.ConfigName]
			if !isChain || ref.File == nil {
				continue
			}
			if keys[k.target] != k.secret {
				continue // a chain for another key than the one mounted next: not kept
			}
			for j, want := range cs.Configs {
				if want.File != nil && want.File.Name == ref.File.Name {
					r := *want
					r.ConfigName = ref.ConfigName
					cs.Configs[j] = &r
					keptChains[ref.ConfigName] = true
				}
			}
		}
		spec.TaskTemplate.ContainerSpec = &cs
		spec.Labels = maps.Clone(spec.Labels)
		spec.Labels[inventory.LabelSpecHash] = desired.SpecHash(spec)
		if len(Diff(Project(spec, nil), Project(got, netNames))) > 0 {
			continue // replaced anyway: on the newest
		}
		out.Services[i].Spec = spec
		// The kept secret is the one wanted: the new one is not made, the kept one not deleted.
		// The newest chain is still stored: it is the operator's record of it.
		if keptSecret != "" {
			out.Secrets = slices.DeleteFunc(out.Secrets, func(sec desired.Secret) bool { return sec.Name == replacedSecret })
			if !slices.ContainsFunc(out.Secrets, func(sec desired.Secret) bool { return sec.Name == keptSecret }) {
				out.Secrets = append(out.Secrets, desired.Secret{Name: keptSecret, Owner: svc.Owner, Target: contract.GatewayConfigPath})
			}
		}
		for name := range keptChains {
			if !slices.ContainsFunc(out.Configs, func(c desired.Config) bool { return c.Name == name }) {
				out.Configs = append(out.Configs, desired.Config{Name: name, Owner: svc.Owner})
			}
		}
	}
	return &out
}
