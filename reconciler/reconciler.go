// Package reconciler runs one reconciliation pass: from validated manifests to the desired state,
// a read of the swarm, a plan, and its application. Every pass reconciles the whole snapshot, so
// a pass with nothing changed plans nothing and writes nothing.
package reconciler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/acme"
	"github.com/swarmgate/swarmgate/reconciler/applier"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
	"github.com/swarmgate/swarmgate/reconciler/status"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// Engine is the part of the Docker client a pass uses.
type Engine interface {
	swarmstate.Reader
	applier.Writer
}

// Reconciler converges a swarm to manifests.
type Reconciler struct {
	Engine Engine
	// Instance names this swarmgate instance in ownership labels.
	Instance string
	// Nginx tunes the gateways' configs.
	Nginx nginx.Options
	// Revision, if set, is recorded on the objects a pass writes.
	Revision string
	// Certificates are certificates the operator obtained with ACME and has not stored yet: a
	// pass stores them and moves their gateways to them.
	Certificates []acme.Certificate
	// RegistryAuth, if set, sends the credentials of each image's registry with service writes
	// (applier.Options.RegistryAuth).
	RegistryAuth func(image string) (string, error)
}

// Pass is a plan with the snapshot and desired state it was made from.
type Pass struct {
	Plan     *planner.Plan
	Snapshot *swarmstate.Snapshot
	Desired  *desired.State
	// Objects are the manifest objects the pass converges to: those given and, unless they were
	// all, the applied ones the swarm keeps.
	Objects []v1alpha1.Object
	// Stored are the applied objects as the swarm kept them before the pass.
	Stored []v1alpha1.Object
	// Issued are the ACME listeners' current certificates, by acme.Key.
	Issued map[string]acme.IssuedCertificate
	// VirtualIPs are what each VirtualIP's nodes reported, by owner, once ObserveVirtualIPs ran.
	VirtualIPs map[string]status.Observation
}

// Status judges the status of the pass's objects (the pass made with tasks), with what gateway
// agents report, by gateway (nil when no operator hands them configs).
func (p *Pass) Status(agents map[string]status.GatewayAgents) []status.ObjectStatus {
	attached := map[string][]string{}
	for _, b := range p.Desired.ExternalBackends {
		if b.Attach {
			attached[b.Owner] = append(attached[b.Owner], b.Service)
		}
	}
	return status.Judge(status.Input{Objects: p.Objects, Plan: p.Plan, Snapshot: p.Snapshot, VirtualIPs: p.VirtualIPs, Agents: agents,
		Attached: attached})
}

// observeTimeout bounds each request to a VirtualIP's node agents and to its address: a node that
// does not answer within it is reported unreachable.
const observeTimeout = time.Second

// ObserveVirtualIPs asks every VirtualIP's nodes whether they hold the address, and the address
// whether its gateway answers, and records what it saw in the pass.
func (p *Pass) ObserveVirtualIPs(ctx context.Context) {
	p.VirtualIPs = ObserveVirtualIPs(ctx, p.Desired.VirtualIPs)
}

// ObserveVirtualIPs asks the nodes of vips, all at once, and returns what each VirtualIP's nodes
// reported, by owner.
func ObserveVirtualIPs(ctx context.Context, vips []desired.VirtualIP) map[string]status.Observation {
	out := map[string]status.Observation{}
	if len(vips) == 0 {
		return out
	}
	client := &http.Client{Timeout: observeTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, v := range vips {
		targets := make([]status.Target, 0, len(v.Nodes))
		for _, n := range v.Nodes {
			targets = append(targets, status.Target{Node: n.Hostname, Status: netip.AddrPortFrom(n.Address, uint16(v.StatusPort))})
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs := status.Observe(ctx, client, targets, v.Address.Addr(), uint16(v.HealthPort))
			mu.Lock()
			out[v.Owner] = obs
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// Plan computes what converging to the input would do. withTasks also reads the services' tasks,
// for status. The swarm is read first: it holds the applied objects the input joins, and virtual
// IPs run on the nodes it reports.
func (r *Reconciler) Plan(ctx context.Context, in Input, opts planner.Options, withTasks bool) (*Pass, error) {
	read := swarmstate.Options{Tasks: withTasks}
	read.HostNetwork = slices.ContainsFunc(in.Objects, isVirtualIP)
	snap, err := swarmstate.Read(ctx, r.Engine, r.Instance, read)
	if err != nil {
		return nil, err
	}
	stored, err := Stored(snap.Applied, in.Delete)
	if err != nil {
		return nil, err
	}
	objs := merge(in, stored)
	if err := deletable(objs, in.Delete); err != nil {
		return nil, err
	}
	// A whole set LoadManifests accepted is what merge gave back: validated already.
	if !in.Validated || !in.All || len(in.Delete) > 0 {
		if err := validSet(objs); err != nil {
			return nil, err
		}
	}
	if !read.HostNetwork && slices.ContainsFunc(objs, isVirtualIP) {
		if err := snap.AddHostNetwork(ctx, r.Engine); err != nil {
			return nil, err
		}
	}
	certErrs, certWarnings := checkCertificates(objs, snap.UserSecrets, time.Now())
	if len(certErrs) > 0 {
		return nil, certErrs
	}
	issued := acme.Issued(objs, snap.Certificates, snap.Secrets, time.Now())
	services := make([]string, 0, len(snap.Services))
	for _, svc := range snap.Services {
		services = append(services, svc.Spec.Name)
	}
	var tasks []desired.Task
	if read.Tasks {
		tasks = RunningTasks(snap)
	}
	salts, err := vrrpSalts(objs, stored, snap.Applied)
	if err != nil {
		return nil, err
	}
	build := desired.Options{Instance: r.Instance, Revision: r.Revision, Nginx: r.Nginx, Nodes: Nodes(snap),
		Services: services, Tasks: tasks, Agents: AgentDefaults(snap), VRRPSalts: salts, Issued: issued, Certificates: acme.WithKeys(r.Certificates, snap.Secrets)}
	d, err := desired.Build(objs, build)
	if err != nil {
		return nil, err
	}
	d.Warnings = append(d.Warnings, certWarnings...)
	if !opts.KeepAgentConfigs {
		opts.Unchanged = unchangedAgentConfigs(d, stored, build)
	}
	opts.Delete = in.Delete
	if !in.All && (len(in.Objects) > 0 || len(in.Delete) > 0) {
		opts.Scope = scope(in, stored)
	}
	plan, err := planner.New(d, snap, opts)
	if err != nil {
		return nil, err
	}
	return &Pass{Plan: plan, Snapshot: snap, Desired: d, Objects: objs, Stored: stored, Issued: issued}, nil
}

// unchangedAgentConfigs names the gateways with agents (by owner) whose config secrets d wants
// are those the stored objects want: the input leaves their config as applied. None when the
// stored objects do not build (an older version's): each config is then taken as changed.
func unchangedAgentConfigs(d *desired.State, stored []v1alpha1.Object, opts desired.Options) []string {
	if !slices.ContainsFunc(d.Services, func(s desired.Service) bool { return s.Agent }) {
		return nil
	}
	before, err := desired.Build(stored, opts)
	if err != nil {
		return nil
	}
	configs := func(s *desired.State) map[string][]string {
		out := map[string][]string{}
		for _, sec := range s.Secrets {
			if sec.Target == contract.GatewayConfigPath {
				out[sec.Owner] = append(out[sec.Owner], sec.Name)
			}
		}
		for _, names := range out {
			slices.Sort(names)
		}
		return out
	}
	was, now := configs(before), configs(d)
	var out []string
	for _, svc := range d.Services {
		if svc.Agent && !slices.Contains(out, svc.Owner) && slices.Equal(was[svc.Owner], now[svc.Owner]) {
			out = append(out, svc.Owner)
		}
	}
	return out
}

func isVirtualIP(o v1alpha1.Object) bool { return o.GetTypeMeta().Kind == v1alpha1.KindVirtualIP }

// AgentDefaults are what the operator on the swarm gives gateway agents, from the newest of its
// agents' token secrets (a rotation makes a newer one); nil when no operator made one, or its
// labels do not name a valid URL and network.
func AgentDefaults(snap *swarmstate.Snapshot) *desired.AgentDefaults {
	var newest *swarm.Secret
	for i, sec := range snap.AgentTokens {
		if newest == nil || sec.CreatedAt.After(newest.CreatedAt) {
			newest = &snap.AgentTokens[i]
		}
	}
	if newest == nil {
		return nil
	}
	d := &desired.AgentDefaults{OperatorURL: newest.Spec.Labels[inventory.LabelAgentURL], Network: newest.Spec.Labels[inventory.LabelAgentNetwork],
		TokenSecret: newest.Spec.Name}
	if validation.OperatorURL(d.OperatorURL) != "" || !validation.NetworkName(d.Network) {
		return nil
	}
	return d
}

// Nodes lists the snapshot's nodes as the desired state needs them.
func Nodes(snap *swarmstate.Snapshot) []desired.Node {
	nodes := make([]desired.Node, 0, len(snap.Nodes))
	for _, n := range snap.Nodes {
		nodes = append(nodes, desired.Node{Hostname: n.Description.Hostname, Addr: swarmstate.NodeAddr(n)})
	}
	return nodes
}

// RunningTasks lists the addresses of the snapshot's running tasks (read with its tasks) that swarm
// means to keep running: a task leaves the list as soon as swarm starts shutting it down (a
// rollout replacing it, a scale-down), before it stops. The list is never nil.
func RunningTasks(snap *swarmstate.Snapshot) []desired.Task {
	names := make(map[string]string, len(snap.Services))
	for _, svc := range snap.Services {
		names[svc.ID] = svc.Spec.Name
	}
	out := []desired.Task{}
	for _, t := range snap.Tasks {
		if !Serving(t) || names[t.ServiceID] == "" {
			continue
		}
		for _, n := range t.NetworksAttachments {
			for _, a := range n.Addresses {
				if p, err := netip.ParsePrefix(a); err == nil {
					out = append(out, desired.Task{Service: names[t.ServiceID], Network: n.Network.Spec.Name, Addr: p.Addr()})
				}
			}
		}
	}
	return out
}

// Serving tells whether a task runs and swarm means to keep it running.
func Serving(t swarm.Task) bool {
	return t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning
}

// LoadManifests reads, decodes, defaults and validates manifests that are a whole set (see
// manifest.Load for paths). Invalid input yields every error as a field.ErrorList.
func LoadManifests(paths []string, stdin io.Reader) ([]v1alpha1.Object, error) {
	objs, decodeErrs, err := decode(paths, stdin)
	if err != nil {
		return nil, err
	}
	if len(decodeErrs) == 0 && len(validation.ValidatePart(objs, nil)) == 0 {
		if errs := agentsFit(objs, contract.MaxAgentConfigSize); len(errs) > 0 {
			return nil, errs
		}
	}
	if errs := validation.ValidateSnapshot(objs, decodeErrs); len(errs) > 0 {
		return nil, errs
	}
	if errs := renderable(objs, contract.MaxAgentConfigSize); len(errs) > 0 {
		return nil, errs
	}
	return objs, nil
}

// LoadPart reads manifests that may be part of a set (a partial apply): each object is validated
// on its own; Plan validates the set they make with the applied objects.
func LoadPart(paths []string, stdin io.Reader) ([]v1alpha1.Object, error) {
	objs, decodeErrs, err := decode(paths, stdin)
	if err != nil {
		return nil, err
	}
	if errs := validation.ValidatePart(objs, decodeErrs); len(errs) > 0 {
		return nil, errs
	}
	return objs, nil
}

func decode(paths []string, stdin io.Reader) ([]v1alpha1.Object, field.ErrorList, error) {
	objs, err := manifest.Load(paths, stdin)
	var decodeErrs field.ErrorList
	if err != nil && !errors.As(err, &decodeErrs) {
		return nil, nil, err
	}
	for _, o := range objs {
		o.Default()
	}
	return objs, decodeErrs, nil
}

// agentsFit refuses the gateways with agents from the first whose config, with those before it,
// is over agentBound even at the least a config weighs (nginx.MinSize). It counts, before the
// checks that cost what a set holds (conflicting Routes, rendering), so a set whose agents'
// configs are far over their bound is refused at the cost of the count. The objects must be
// valid each on its own.
func agentsFit(objs []v1alpha1.Object, agentBound int) field.ErrorList {
	routes, grpc := nginx.RoutesOf(objs)
	var errs field.ErrorList
	least := 0 // of the configs of the gateways with agents so far
	for _, o := range objs {
		if gw, ok := o.(*v1alpha1.Gateway); ok && gw.Spec.Agent != nil {
			least += nginx.MinSize(gw, routes, nginx.Options{GRPCRoutes: grpc, MaxSize: nginx.AgentConfigBudget(agentBound, least)})
			if least > agentBound {
				errs = append(errs, overAgentBound(gw, agentBound))
			}
		}
	}
	return errs
}

// overAgentBound is the error of a gateway with agents whose config is over what is left of
// agentBound.
func overAgentBound(gw *v1alpha1.Gateway, agentBound int) *field.Error {
	return &field.Error{Origin: gw.Metadata.Origin.String(), Object: v1alpha1.Ref(gw),
		Detail: fmt.Sprintf("its nginx config, with every Route attached, is over what is left of the %d bytes the configs of all gateways with agents may weigh together; split the routes across fewer gateways, or attach fewer to each", agentBound)}
}

// renderable renders every gateway's config, as apply will, and reports what nginx could not take
// (a value too long for one token, a config over a secret's size) as errors of the objects: what
// validate accepts, a gateway serves. The configs of the gateways with agents share agentBound
// (contract.MaxAgentConfigSize).
func renderable(objs []v1alpha1.Object, agentBound int) field.ErrorList {
	routes, grpc := nginx.RoutesOf(objs)
	var errs field.ErrorList
	grants, policies, streams := v1alpha1.GrantsOf(objs), nginx.PoliciesOf(objs), v1alpha1.StreamRoutesOf(objs)
	agentBytes := 0 // of the configs of the gateways with agents so far
	for _, o := range objs {
		gw, ok := o.(*v1alpha1.Gateway)
		if !ok {
			continue
		}
		opts := nginx.Options{Grants: grants, Policies: policies, GRPCRoutes: grpc, StreamRoutes: streams}
		if gw.Spec.Agent != nil {
			// Its agents take it from the operator, not a secret; all such configs share one bound.
			opts.MaxSize = nginx.AgentConfigBudget(agentBound, agentBytes)
		}
		conf, err := nginx.Render(gw, routes, opts)
		var (
			value *nginx.ValueError
			size  *nginx.SizeError
		)
		switch {
		case gw.Spec.Agent != nil && errors.As(err, &size):
			agentBytes = agentBound // rendering it used up the bound
		case gw.Spec.Agent != nil:
			agentBytes += len(conf)
		}
		switch {
		case errors.As(err, &value):
			errs = append(errs, &field.Error{Origin: value.Route.Metadata.Origin.At(value.Field), Object: v1alpha1.Ref(value.Route),
				Field: value.Field, Detail: value.Detail})
		case errors.As(err, &size) && gw.Spec.Agent != nil:
			errs = append(errs, overAgentBound(gw, agentBound))
		case errors.As(err, &size):
			errs = append(errs, &field.Error{Origin: gw.Metadata.Origin.String(), Object: v1alpha1.Ref(gw),
				Detail: fmt.Sprintf("its nginx config, with every Route attached, is over %d bytes; split the routes across gateways, or give the gateway an agent (spec.agent), whose configs are not bound by a swarm secret's size", size.Limit)})
		case err != nil:
			errs = append(errs, &field.Error{Origin: gw.Metadata.Origin.String(), Object: v1alpha1.Ref(gw), Detail: err.Error()})
		}
	}
	return errs
}

// Apply carries out a pass's plan; progress hears of each action. A service with hooks changes
// only once they succeeded (applier.Options.AwaitHook).
func (r *Reconciler) Apply(ctx context.Context, p *Pass, progress func(planner.Action, error)) error {
	awaitHook := func(ctx context.Context, job string) error { return r.awaitHook(ctx, p.Desired, job) }
	if err := applier.Apply(ctx, r.Engine, p.Plan, p.Snapshot, applier.Options{Instance: r.Instance, Progress: progress, RegistryAuth: r.RegistryAuth,
		AwaitHook: awaitHook}); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	return nil
}
