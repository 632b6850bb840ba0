// Package operator runs swarmgate as an operator: it reconciles the swarm to a source of
// manifests whenever the source changes, the swarm reports a change to swarmgate's objects, or a
// resync is due; it alerts on drift and heals it (or only alerts), and serves metrics, health and
// status over HTTP. Passes are level-triggered: each reconciles the whole snapshot, and a burst of
// triggers makes one pass.
package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/cenkalti/backoff/v4"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/operator/lease"
	"github.com/swarmgate/swarmgate/reconciler/operator/source"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/sourcefile"
	"github.com/swarmgate/swarmgate/reconciler/status"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// Events is the part of the Docker client that streams engine events.
type Events interface {
	Events(ctx context.Context, options events.ListOptions) (<-chan events.Message, <-chan error)
}

// Options configure a controller.
type Options struct {
	Source source.Source
	// AgeIdentities decrypt the SOPS files of Secrets.
	AgeIdentities []age.Identity
	// Poll fetches the source this often (a git source has no other way to learn of commits).
	// 0 polls never.
	Poll time.Duration
	// Resync runs a pass this often even when nothing signalled a change. Defaults to 5m.
	Resync time.Duration
	// Heal re-applies the manifests when the swarm drifts; otherwise drift is only alerted.
	Heal bool
	// Debounce gathers triggers this long into one pass. Defaults to 100ms.
	Debounce time.Duration
	// VirtualIPCheck asks the VirtualIPs' node agents this often who holds each address, and
	// alerts when none or several do. 0 checks after passes only.
	VirtualIPCheck time.Duration
	// TaskPoll lists the swarm's tasks this often and runs a pass when the running ones change, so
	// the pools of gateways with agents follow tasks as they come and go (the engine sends no
	// task events). Defaults to 1s.
	TaskPoll time.Duration
	// Lease, if set, is held while the controller runs: one writer per instance. The controller
	// waits (a standby) while another operator holds it, and stops when it loses it.
	Lease Leaser
	// ACME, if set, obtains and renews the certificates of listeners with tls.acme.
	ACME *ACME
	// KeepRemoved keeps applied what the source no longer holds (Flux's prune: false): it stays
	// on the swarm, alerted, until deleted by hand (swarmgate delete).
	KeepRemoved bool
	// Agents, if set, is where this operator, running on the swarm, serves gateway agents: it
	// makes their token secret, and Gateways whose spec.agent leaves them unset take both.
	Agents *AgentService
	// PruneMaxFraction refuses a pass that would prune more than this share of the instance's
	// applied objects (more than one of them) at once: a moved directory or a bad merge looks
	// like that; the objects are kept and alerted until the limit is raised. 0 sets no limit.
	PruneMaxFraction float64
	// Traffic gives the Routes' traffic that /status, `swarmgate get --server` and the
	// dashboard show. Defaults to the gateway agents' traffic reports (spec.agent.metrics).
	Traffic TrafficSource
}

// TrafficSource gives what the gateways measured of a Route's requests: ok is false when it has
// nothing for the Route (no agents, no requests yet).
type TrafficSource interface {
	RouteTraffic(route string) (t status.Traffic, ok bool)
}

// Leaser takes and renews a lease on the instance, and gives it up.
type Leaser interface {
	TryAcquire(ctx context.Context) error
	Release(ctx context.Context) error
	// Timing says how often to renew.
	Timing() lease.Timing
	// Writable reports whether the lease is held with time to spare: no standby may have taken it.
	Writable() bool
	// Floor is the least version of the lease config a read of the swarm begun now may show
	// (lease.Fresh); 0 when there is none.
	Floor() uint64
}

// Controller is the running operator.
type Controller struct {
	rec     *reconciler.Reconciler
	events  Events
	opts    Options
	alerts  *alert.Dispatcher
	metrics *Metrics
	log     *slog.Logger
	trigger chan string
	warned  map[string]bool // the plan warnings logged by the last pass; only passes use it

	// Read by the HTTP handlers while passes run.
	mu         sync.Mutex
	ready      bool
	suspended  bool
	seenRev    string // the newest revision fetched, valid or not
	appliedRev string
	lastGood   []v1alpha1.Object
	invalidRev string
	// keptRev is the revision whose kept objects were last alerted.
	keptRev     string
	activeDrift map[string]alert.Event
	lastErr     string
	// failing is the failure the last pass alerted ("SourceFailed <error>"), "" after a good pass.
	failing string
	// servingTasks are the IDs of the tasks that served when the last pass read the swarm: the
	// task poll compares the swarm's with them.
	servingTasks []string
	// virtualIPs are those of the last good pass, and vipTrouble the standing alert of each
	// (by owner) that is not Ready.
	virtualIPs []desired.VirtualIP
	vipTrouble map[string]status.Condition

	// agents serves gateway agents their configs; traffic sums their traffic reports.
	agents  *agentHub
	traffic *trafficHub
	// tokens, with Options.Agents, makes the agents' token secret and checks their tokens.
	tokens *agentTokens
	// certs is the ACME work between passes.
	certs *certificates
	// background is Run's context, which ACME orders run under.
	background context.Context
}

// New makes a controller. rec must have an Engine; ev streams its events.
func New(rec *reconciler.Reconciler, ev Events, opts Options, alerts *alert.Dispatcher, m *Metrics, log *slog.Logger) *Controller {
	if opts.Resync == 0 {
		opts.Resync = 5 * time.Minute
	}
	if opts.Debounce == 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	if opts.TaskPoll == 0 {
		opts.TaskPoll = time.Second
	}
	if opts.Traffic == nil {
		opts.Traffic = m.traffic
	}
	c := &Controller{rec: rec, events: ev, opts: opts, alerts: alerts, metrics: m, log: log,
		trigger: make(chan string, 1), activeDrift: map[string]alert.Event{}, vipTrouble: map[string]status.Condition{},
		agents: newAgentHub(), traffic: m.traffic, certs: newCertificates(), background: context.Background()}
	if opts.Agents != nil {
		c.tokens = newAgentTokens(*opts.Agents, rec.Instance)
	}
	return c
}

// Trigger asks for a pass; triggers that arrive while one is pending merge into it.
func (c *Controller) Trigger(reason string) {
	select {
	case c.trigger <- reason:
	default:
	}
}

// Run reconciles until ctx ends. A pass in progress when it ends finishes its current write; no
// pass starts after. With a lease, Run first waits to hold it, and returns an error when it loses it.
func (c *Controller) Run(ctx context.Context) error {
	if c.opts.Lease != nil {
		if err := c.acquire(ctx); err != nil || ctx.Err() != nil {
			return err
		}
		defer func() {
			// Given up once the last pass is done, so a CLI may write at once.
			releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.opts.Lease.Release(releaseCtx); err != nil {
				c.log.Warn("releasing the lease failed; it expires by itself", "error", err)
			}
		}()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	bg, stop := context.WithCancel(ctx)
	defer stop()
	c.background = bg // ACME orders end with Run
	lost := make(chan error, 1)
	if c.opts.Lease != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.renew(bg, lost)
		}()
	}

	changed := make(chan struct{}, 1)
	wg.Add(5)
	go func() {
		defer wg.Done()
		c.watchVirtualIPs(bg)
	}()
	go func() {
		defer wg.Done()
		c.watchTasks(bg)
	}()
	go func() {
		defer wg.Done()
		if err := c.opts.Source.Watch(bg, changed); err != nil {
			c.log.Error("watching the source failed; polling only", "source", c.opts.Source, "error", err)
		}
	}()
	go func() {
		defer wg.Done()
		c.watchEngine(bg)
	}()
	go func() {
		defer wg.Done()
		c.tick(bg, changed)
	}()

	retry := backoff.NewExponentialBackOff()
	retry.InitialInterval, retry.MaxInterval, retry.MaxElapsedTime = time.Second, 5*time.Minute, 0
	var retryTimer *time.Timer
	c.Trigger("start")
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-lost:
			return err
		case reason := <-c.trigger:
			// Gather the rest of a burst: an apply causes a flurry of engine events.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(c.opts.Debounce):
			}
			select {
			case <-c.trigger:
			default:
			}
			if ctx.Err() != nil {
				return nil // stopping: no new pass (a CLI may be deleting what it would recreate)
			}
			// The pass is not cut off by shutdown: it finishes its writes, bounded in time.
			passCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
			err := c.pass(passCtx, reason)
			cancel()
			if retryTimer != nil {
				retryTimer.Stop()
			}
			if err != nil {
				wait := retry.NextBackOff()
				c.log.Error("pass failed; retrying", "error", err, "in", wait.Round(time.Millisecond))
				retryTimer = time.AfterFunc(wait, func() { c.Trigger("retry") })
			} else {
				retry.Reset()
			}
		}
	}
}

// acquire waits until the controller holds the lease, logging once that it stands by.
func (c *Controller) acquire(ctx context.Context) error {
	standby := false
	for {
		err := c.opts.Lease.TryAcquire(ctx)
		switch {
		case err == nil:
			if standby {
				c.log.Info("took over the lease")
			}
			return nil
		case errors.Is(err, lease.ErrHeld):
			if !standby {
				c.log.Info("standing by: another operator runs this instance", "lease", err.Error())
				standby = true
			}
		default:
			c.log.Warn("taking the lease failed; retrying", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(standbyPoll):
		}
	}
}

// standbyPoll is how often a standby asks whether the lease is free: one list call, so that it
// takes over within a second of a clean stop, and of the lease's expiry after a holder died.
const standbyPoll = time.Second

// renew keeps the lease fresh; losing it to another operator stops the controller (its
// supervisor restarts it, as a standby), while an engine that does not answer is retried (the
// lease's fence holds the controller's writes back meanwhile).
func (c *Controller) renew(ctx context.Context, lost chan<- error) {
	t := time.NewTicker(c.opts.Lease.Timing().Renew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := c.opts.Lease.TryAcquire(ctx)
		switch {
		case errors.Is(err, lease.ErrHeld):
			lost <- fmt.Errorf("lost the lease: %w", err)
			return
		case err != nil && ctx.Err() == nil:
			c.log.Warn("renewing the lease failed; retrying", "error", err)
		}
	}
}

// tick turns source changes, polls and resyncs into triggers.
func (c *Controller) tick(ctx context.Context, changed <-chan struct{}) {
	resync := time.NewTicker(c.opts.Resync)
	defer resync.Stop()
	var poll <-chan time.Time
	if c.opts.Poll > 0 {
		t := time.NewTicker(c.opts.Poll)
		defer t.Stop()
		poll = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			c.Trigger("source changed")
		case <-poll:
			c.Trigger("poll")
		case <-resync.C:
			c.Trigger("resync")
		}
	}
}

// watchEngine triggers a pass on every event about services, networks, secrets and nodes, and
// reconnects with backoff when the stream breaks (the engine restarted).
func (c *Controller) watchEngine(ctx context.Context) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = 200*time.Millisecond, 30*time.Second, 0
	f := filters.NewArgs(filters.Arg("type", "service"), filters.Arg("type", "network"), filters.Arg("type", "secret"), filters.Arg("type", "node"))
	for ctx.Err() == nil {
		streamCtx, cancel := context.WithCancel(ctx)
		msgs, errs := c.events.Events(streamCtx, events.ListOptions{Filters: f})
		connected := false
	stream:
		for {
			select {
			case <-ctx.Done():
				cancel()
				return
			case <-msgs:
				if !connected {
					connected = true
					b.Reset()
				}
				c.Trigger("engine event")
			case err := <-errs:
				c.log.Warn("engine event stream broke; reconnecting", "error", err)
				break stream
			}
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(b.NextBackOff()):
		}
		// Whatever happened while the stream was down is found by the next pass.
		c.Trigger("engine reconnected")
	}
}

// watchTasks triggers a pass when the running tasks (reconciler.Serving) differ from those the
// last pass saw: one started, or swarm started shutting one down. Only while a gateway has
// agents, whose pools list the tasks; a failed listing is left to the next poll.
func (c *Controller) watchTasks(ctx context.Context) {
	tick := time.NewTicker(c.opts.TaskPoll)
	defer tick.Stop()
	running := swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("desired-state", "running"))}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !c.agents.any() {
			continue
		}
		tasks, err := c.rec.Engine.TaskList(ctx, running)
		if err != nil {
			continue
		}
		c.mu.Lock()
		seen := c.servingTasks
		c.mu.Unlock()
		if !slices.Equal(servingIDs(tasks), seen) {
			c.Trigger("tasks changed")
		}
	}
}

// servingIDs are the IDs of the tasks that serve (reconciler.Serving), sorted.
func servingIDs(tasks []swarm.Task) []string {
	var ids []string
	for _, t := range tasks {
		if reconciler.Serving(t) {
			ids = append(ids, t.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// watchVirtualIPs asks the node agents of the last good pass's VirtualIPs, every VirtualIPCheck,
// who holds each address. A VirtualIP that is not Ready (no holder, split brain, not answering)
// is alerted once per distinct trouble, and its recovery once.
func (c *Controller) watchVirtualIPs(ctx context.Context) {
	if c.opts.VirtualIPCheck <= 0 {
		return
	}
	tick := time.NewTicker(c.opts.VirtualIPCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.mu.Lock()
		vips := c.virtualIPs
		c.mu.Unlock()
		c.judgeVirtualIPs(reconciler.ObserveVirtualIPs(ctx, vips))
	}
}

// judgeVirtualIPs alerts on changes of the VirtualIPs' readiness.
func (c *Controller) judgeVirtualIPs(seen map[string]status.Observation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, owner := range slices.Sorted(maps.Keys(seen)) {
		ready := status.VirtualIPReady(seen[owner])
		old, troubled := c.vipTrouble[owner]
		switch {
		case ready.Status == v1alpha1.ConditionTrue && troubled:
			delete(c.vipTrouble, owner)
			c.alerts.Send(alert.Event{Reason: alert.ReasonVirtualIPRecovered, Owner: owner, Object: owner, Message: owner + ": " + ready.Message})
		case ready.Status == v1alpha1.ConditionFalse && (!troubled || old.Reason != ready.Reason):
			c.vipTrouble[owner] = ready
			c.alerts.Send(alert.Event{Reason: alert.ReasonVirtualIPNotReady, Owner: owner, Object: owner,
				Message: fmt.Sprintf("%s: %s: %s", owner, ready.Reason, ready.Message)})
		}
	}
}

// leaseFloor is the lease's Floor, 0 without a lease.
func (c *Controller) leaseFloor() uint64 {
	if c.opts.Lease == nil {
		return 0
	}
	return c.opts.Lease.Floor()
}

// staleRead refuses a snapshot of the swarm, read after the lease's floor was taken, that predates
// this operator's last renewal of the lease: planned from, it would bring objects long removed
// back as applied and hand agents pools of tasks long gone.
func staleRead(floor uint64, snap *swarmstate.Snapshot) error {
	if lease.Fresh(floor, snap.Lease) {
		return nil
	}
	shown := "no lease"
	if snap.Lease != nil {
		shown = fmt.Sprintf("the lease at version %d", snap.Lease.Version.Index)
	}
	return fmt.Errorf("the swarm answered with a view older than this operator's last renewal of the lease (%s, renewed to %d or later): a manager catching up its raft log; nothing is planned from it", shown, floor)
}

// handOut makes configs the ones the agents get, if this operator may write. Handing agents a
// config is a write as much as updating a service: an operator whose lease may have passed to a
// standby (its renewals failing through a raft election, a pause) hands out nothing more, as its
// fenced engine writes nothing; the agents keep what they serve until a holder answers.
func (c *Controller) handOut(configs map[string]desired.AgentConfig) {
	if c.opts.Lease == nil || c.opts.Lease.Writable() {
		c.agents.publish(configs)
	}
}

// pass is one reconciliation.
func (c *Controller) pass(ctx context.Context, reason string) error {
	start := time.Now()
	defer func() { c.metrics.Duration.Observe(time.Since(start).Seconds()) }()

	objs, rev, err := c.manifests(ctx)
	if err != nil || objs == nil {
		return err
	}
	c.mu.Lock()
	appliedRev := c.appliedRev
	c.mu.Unlock()
	rec := *c.rec
	rec.Revision = rev
	rec.Certificates = c.pendingCerts()
	floor := c.leaseFloor()
	p, err := rec.Plan(ctx, reconciler.Input{Objects: objs, All: true, Validated: true}, planner.Options{Prune: true, KeepAgentConfigs: true}, true)
	if c.tokens != nil {
		p, err = c.ensureAgentToken(ctx, &rec, objs, p, err)
	}
	if err != nil {
		return c.failed(alert.FailurePlan, err)
	}
	if err := staleRead(floor, p.Snapshot); err != nil {
		return c.failed(alert.FailureStaleRead, err)
	}
	if removed := removedFrom(objs, p.Stored); len(removed) > 0 {
		if why := c.keepReason(len(removed), len(p.Stored)); why != "" {
			// As apply without --prune: the source's objects join the applied ones, which stay.
			c.alertKept(rev, removed, why)
			if p, err = rec.Plan(ctx, reconciler.Input{Objects: objs}, planner.Options{KeepAgentConfigs: true}, true); err != nil {
				return c.failed(alert.FailurePlan, err)
			}
			if err := staleRead(floor, p.Snapshot); err != nil {
				return c.failed(alert.FailureStaleRead, err)
			}
		}
	}
	c.mu.Lock()
	c.servingTasks = servingIDs(p.Snapshot.Tasks)
	c.mu.Unlock()
	agents := c.agents.status()
	statuses := p.Status(agents)
	c.recordStatus(statuses)
	c.mu.Lock()
	suspended := c.suspended
	c.mu.Unlock()
	if suspended {
		c.metrics.Passes.WithLabelValues("suspended").Inc()
		return nil
	}
	c.orderCertificates(c.background, p, statuses, agents)
	// Agents take new configs at once, whatever the plan: a route change writes nothing to the
	// swarm for a gateway with agents.
	c.handOut(p.Desired.AgentConfigs)
	c.traffic.enable(metricsGateways(p.Desired.AgentConfigs))
	c.warnOnce(p.Plan.Warnings)
	// Changes while the revision stays the one applied are drift: someone (or swarm) changed
	// the swarm. Changes with a new revision are a deploy.
	drifting := appliedRev != "" && rev == appliedRev
	certOwners := map[string]bool{}
	for _, cert := range rec.Certificates {
		certOwners[cert.Owner] = true
	}
	rolledBack := map[string]bool{}
	for _, s := range p.Snapshot.Services {
		if status.RolledBack(s) {
			rolledBack[s.ID] = true
		}
	}
	d := decide(p.Plan.Actions, policy{Drifting: drifting, Heal: c.opts.Heal, Certificates: certOwners, RolledBack: rolledBack})
	c.trackDrift(p, d.Drift, rev)
	result := "applied"
	if d.Held {
		result = "drift-held"
		if len(d.Apply) == 0 {
			c.metrics.Passes.WithLabelValues(result).Inc()
			return nil
		}
	}
	p.Plan.Actions = d.Apply
	c.mu.Lock()
	c.virtualIPs = p.Desired.VirtualIPs
	c.mu.Unlock()
	if p.Plan.Empty() {
		c.stored(rec.Certificates)
		c.succeeded(objs, rev, "unchanged")
		return nil
	}
	c.log.Info("applying", "trigger", reason, "revision", rev, "actions", len(p.Plan.Actions), "drift", drifting)
	err = rec.Apply(ctx, p, func(a planner.Action, err error) {
		if err == nil {
			c.log.Info(a.String(), "owner", a.Owner, "revision", rev)
		}
	})
	if err != nil {
		return c.failed(alert.FailureApply, err)
	}
	c.stored(rec.Certificates)
	c.succeeded(objs, rev, result)
	return nil
}

// ensureAgentToken makes the agents' token secret when the swarm has none for this operator (a
// Gateway that takes it cannot be planned before: the swarm, not the plan, says whether it
// exists), and plans again when it made one.
func (c *Controller) ensureAgentToken(ctx context.Context, rec *reconciler.Reconciler, objs []v1alpha1.Object, p *reconciler.Pass, planErr error) (*reconciler.Pass, error) {
	var snap *swarmstate.Snapshot
	if planErr == nil {
		snap = p.Snapshot
	} else {
		var err error
		if snap, err = swarmstate.Read(ctx, rec.Engine, rec.Instance, swarmstate.Options{}); err != nil {
			return nil, err
		}
	}
	made, err := c.tokens.ensure(ctx, rec.Engine, snap)
	switch {
	case err != nil:
		return nil, err
	case made || planErr != nil:
		return rec.Plan(ctx, reconciler.Input{Objects: objs, All: true, Validated: true}, planner.Options{Prune: true, KeepAgentConfigs: true}, true)
	}
	return p, nil
}

// removedFrom lists the applied objects the source no longer holds: "Route/docs".
func removedFrom(objs, stored []v1alpha1.Object) []string {
	held := make(map[string]bool, len(objs))
	for _, o := range objs {
		held[inventory.OwnerOf(o).String()] = true
	}
	var out []string
	for _, o := range stored {
		if owner := inventory.OwnerOf(o).String(); !held[owner] {
			out = append(out, owner)
		}
	}
	slices.Sort(out)
	return out
}

// keepReason says why objects the source dropped are kept rather than pruned, or "" to prune.
func (c *Controller) keepReason(removed, applied int) string {
	switch {
	case c.opts.KeepRemoved:
		return "pruning is off (--prune=false); swarmgate delete removes them"
	case c.opts.PruneMaxFraction > 0 && removed > 1 && float64(removed) > c.opts.PruneMaxFraction*float64(applied):
		return fmt.Sprintf("pruning %d of the %d applied objects at once is over --prune-max-fraction %g; "+
			"if that is meant, raise it (1 prunes any share) or delete them with swarmgate delete", removed, applied, c.opts.PruneMaxFraction)
	}
	return ""
}

// alertKept alerts, once per revision, that objects the source dropped are kept.
func (c *Controller) alertKept(rev string, removed []string, why string) {
	msg := "in no manifest any more, kept: " + strings.Join(removed, ", ") + "; " + why
	c.mu.Lock()
	first := c.keptRev != rev
	c.keptRev = rev
	c.mu.Unlock()
	if first {
		c.log.Warn(msg, "reason", alert.ReasonPruneHeld, "revision", rev)
		c.alerts.Send(alert.Event{Reason: alert.ReasonPruneHeld, Revision: rev, Message: msg})
	}
}

// recordStatus exports each object's sync and health.
func (c *Controller) recordStatus(statuses []status.ObjectStatus) {
	c.metrics.Objects.Reset()
	for _, st := range statuses {
		c.metrics.Objects.WithLabelValues(string(st.Kind), st.Name, string(st.Sync), string(st.Health)).Set(1)
	}
}

// Suspend stops passes from writing or handing agents new configs (they still read the swarm and
// export each object's status) until Resume: for work by hand that the operator must not undo.
func (c *Controller) Suspend() {
	c.mu.Lock()
	c.suspended = true
	c.mu.Unlock()
	c.log.Info("suspended: passes write nothing until resumed")
}

// Resume lets passes write again, and runs one.
func (c *Controller) Resume() {
	c.mu.Lock()
	c.suspended = false
	c.mu.Unlock()
	c.log.Info("resumed")
	c.Trigger("resumed")
}

// manifests fetches and validates the source. Manifests that do not validate, or a commit not
// signed by an allowed signer, are alerted once per revision and replaced by the last good
// manifests (nil before there are any) at the revision applied: the swarm is held to them.
func (c *Controller) manifests(ctx context.Context) ([]v1alpha1.Object, string, error) {
	var objs []v1alpha1.Object
	paths, rev, err := c.opts.Source.Fetch(ctx)
	var unverified *source.UnverifiedError
	switch {
	case errors.As(err, &unverified):
		rev = unverified.Revision
	case err != nil:
		return nil, "", c.failed(alert.FailureSource, fmt.Errorf("fetching %s: %w", c.opts.Source, err))
	default:
		objs, err = reconciler.LoadManifests(paths, nil)
		if err == nil {
			err = sourcefile.Read(objs, c.opts.AgeIdentities).ToError()
		}
	}
	c.mu.Lock()
	c.seenRev = rev
	c.mu.Unlock()
	var invalid field.ErrorList
	if unverified == nil && err != nil && !errors.As(err, &invalid) {
		return nil, "", c.failed(alert.FailureSource, err)
	}
	// A source with no object at all is far more often a mistake (a wrong path, files emptied by
	// a bad merge) than a wish to delete everything, which a pass would do: it is held like an
	// invalid one. `swarmgate delete` deletes everything on purpose.
	empty := unverified == nil && invalid == nil && len(objs) == 0
	if unverified == nil && invalid == nil && !empty {
		c.mu.Lock()
		c.invalidRev = "" // valid again: the next breakage is news
		c.mu.Unlock()
		return objs, rev, nil
	}
	var reason, msg string
	switch {
	case unverified != nil:
		reason, msg = alert.ReasonUnverifiedCommit, unverified.Error()+"; the swarm keeps the last good state"
	case empty:
		reason, msg = alert.ReasonEmptySource, "the source holds no objects; pruning everything this instance made is refused, and the swarm keeps the last good state"
	default:
		reason, msg = alert.ReasonInvalidManifests, "manifests do not validate; the swarm keeps the last good state:\n"+invalid.Error()
	}
	c.metrics.Passes.WithLabelValues("invalid").Inc()
	c.metrics.Errors.WithLabelValues(reason).Inc()
	c.mu.Lock()
	first := c.invalidRev != rev
	c.invalidRev, c.lastErr = rev, msg
	good, applied := c.lastGood, c.appliedRev
	c.mu.Unlock()
	if first {
		c.alerts.Send(alert.Event{Reason: reason, Revision: rev, Message: msg})
	}
	return good, applied, nil
}

// warnOnce logs the plan's warnings that the previous pass did not have: passes run on every
// engine event, and a standing warning is news only once.
func (c *Controller) warnOnce(warnings []string) {
	now := make(map[string]bool, len(warnings))
	for _, w := range warnings {
		now[w] = true
		if !c.warned[w] {
			c.log.Warn(w, "reason", "Plan")
		}
	}
	c.warned = now
}

// failed records a failed pass, and alerts it once for each distinct failure: a pass that keeps
// failing the same way retries with backoff without paging again.
func (c *Controller) failed(why alert.Failure, err error) error {
	c.metrics.Passes.WithLabelValues("failed").Inc()
	c.metrics.Errors.WithLabelValues(string(why)).Inc()
	c.mu.Lock()
	c.lastErr = err.Error()
	news := c.failing != string(why)+" "+err.Error()
	c.failing = string(why) + " " + err.Error()
	c.mu.Unlock()
	if news {
		c.alerts.Send(alert.Event{Reason: alert.ReasonPassFailed, Cause: string(why), Message: err.Error() + "; retrying with backoff"})
	}
	return err
}

func (c *Controller) succeeded(objs []v1alpha1.Object, rev, result string) {
	c.metrics.Passes.WithLabelValues(result).Inc()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failing != "" {
		c.failing = ""
		defer c.alerts.Send(alert.Event{Reason: alert.ReasonPassRecovered, Revision: rev, Message: "a pass succeeded again"}) // after the unlock
	}
	if c.appliedRev != rev {
		c.metrics.Revision.Reset()
		c.metrics.Revision.WithLabelValues(rev).Set(1)
	}
	c.ready, c.appliedRev, c.lastGood = true, rev, objs
	if c.invalidRev == "" { // a pass held to the last good state keeps saying why
		c.lastErr = ""
	}
}

// trackDrift alerts once for each distinct drift (object and fields) and sends a recovery when it
// is gone.
func (c *Controller) trackDrift(p *reconciler.Pass, drift []planner.Action, rev string) {
	now := map[string]alert.Event{}
	for _, a := range drift {
		e := driftEvent(a, p, rev)
		fields := make([]string, len(e.Changes))
		for i, ch := range e.Changes {
			fields[i] = ch.Field
		}
		now[e.Object+" "+strings.Join(fields, ",")] = e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range slices.Sorted(maps.Keys(now)) {
		if _, known := c.activeDrift[key]; !known {
			c.metrics.DriftEvents.WithLabelValues("drift").Inc()
			c.alerts.Send(now[key])
		}
	}
	for _, key := range slices.Sorted(maps.Keys(c.activeDrift)) {
		if _, still := now[key]; !still {
			old := c.activeDrift[key]
			c.metrics.DriftEvents.WithLabelValues("recovery").Inc()
			c.alerts.Send(alert.Event{Reason: alert.ReasonDriftRecovered, Object: old.Object, Owner: old.Owner, Revision: rev,
				Message: old.Object + " matches the manifests again"})
		}
	}
	c.activeDrift = now
	c.metrics.DriftNow.Set(float64(len(now)))
}

// driftEvent describes one planned action as a drift: what differs, and who likely caused it.
func driftEvent(a planner.Action, p *reconciler.Pass, rev string) alert.Event {
	object := string(a.Kind) + "/" + a.Name
	e := alert.Event{Reason: alert.ReasonDrift, Object: object, Owner: a.Owner, Cause: alert.CauseExternal, Revision: rev}
	switch a.Op {
	case planner.Create:
		e.Message = object + " is missing from the swarm"
	case planner.Delete:
		e.Message = object + " is on the swarm but in no manifest"
	default:
		e.Message = object + " differs from the manifests"
	}
	for _, ch := range a.Changes {
		e.Changes = append(e.Changes, alert.Change{Field: ch.Field, Swarm: ch.Old, Manifest: ch.New})
	}
	if a.Kind == planner.KindService && a.Op == planner.Update {
		for _, s := range p.Snapshot.Services {
			if s.ID == a.ID && status.RolledBack(s) {
				e.Cause = alert.CauseRollback
				e.Message += " after swarm rolled back a failed update (" + s.UpdateStatus.Message +
					"); not re-applying it until the manifests change"
			}
		}
	}
	return e
}
