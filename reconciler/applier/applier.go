// Package applier carries out a plan against the Docker engine: the only package that writes to
// it. Transient failures are retried with exponential backoff, an update that lost a race with
// another writer is retried on the service's new version, and a permanent failure stops the pass
// with an error naming the object.
package applier

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"golang.org/x/sync/errgroup"

	"github.com/cenkalti/backoff/v4"

	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// Writer is the part of the Docker client that applying a plan needs.
type Writer interface {
	NodeInspectWithRaw(ctx context.Context, nodeID string) (swarm.Node, []byte, error)
	NodeUpdate(ctx context.Context, nodeID string, version swarm.Version, node swarm.NodeSpec) error
	NetworkCreate(ctx context.Context, name string, options network.CreateOptions) (network.CreateResponse, error)
	NetworkInspect(ctx context.Context, networkID string, options network.InspectOptions) (network.Inspect, error)
	NetworkRemove(ctx context.Context, networkID string) error
	SecretCreate(ctx context.Context, secret swarm.SecretSpec) (swarm.SecretCreateResponse, error)
	SecretInspectWithRaw(ctx context.Context, id string) (swarm.Secret, []byte, error)
	SecretRemove(ctx context.Context, id string) error
	ConfigCreate(ctx context.Context, config swarm.ConfigSpec) (swarm.ConfigCreateResponse, error)
	ConfigInspectWithRaw(ctx context.Context, id string) (swarm.Config, []byte, error)
	ConfigRemove(ctx context.Context, id string) error
	ServiceCreate(ctx context.Context, service swarm.ServiceSpec, options swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error)
	ServiceInspectWithRaw(ctx context.Context, serviceID string, opts swarm.ServiceInspectOptions) (swarm.Service, []byte, error)
	ServiceUpdate(ctx context.Context, serviceID string, version swarm.Version, service swarm.ServiceSpec, options swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error)
	ServiceRemove(ctx context.Context, serviceID string) error
}

// Options tune the applier.
type Options struct {
	// Instance is this swarmgate instance; re-read objects must still carry it to be written.
	Instance string
	// MaxRetryTime bounds the retries of one action. Defaults to 30s.
	MaxRetryTime time.Duration
	// Progress, if set, is told of every action as it completes (err nil) or fails.
	Progress func(a planner.Action, err error)
	// RegistryAuth, if set, gives the encoded credentials (X-Registry-Auth) for an image's
	// registry, sent with each service write so the nodes can pull private images, as
	// `docker stack deploy --with-registry-auth` does; "" when there are none.
	RegistryAuth func(image string) (string, error)
	// AwaitHook, if set, waits for a hook job (by service name) to finish as it now is, and
	// returns why it did not succeed. A service whose hooks did not all succeed is not created or
	// updated (its tasks keep running what they run), nor is one created after it (dependsOn);
	// the rest of the plan goes on, and Apply then fails naming the hook.
	AwaitHook func(ctx context.Context, job string) error
}

// HookError is a hook that did not succeed, and the services it held back.
type HookError struct {
	Job  string
	Held []string
	Err  error
}

func (e *HookError) Error() string {
	return fmt.Sprintf("hook %s did not succeed, so %s kept as it was: %v", e.Job, strings.Join(e.Held, ", "), e.Err)
}

func (e *HookError) Unwrap() error { return e.Err }

// Apply runs the plan's actions in order. snap is the snapshot the plan was made from; it gives
// the IDs of the networks and secrets services refer to by name.
func Apply(ctx context.Context, w Writer, plan *planner.Plan, snap *swarmstate.Snapshot, opts Options) error {
	if opts.MaxRetryTime == 0 {
		opts.MaxRetryTime = 30 * time.Second
	}
	a := &applier{w: w, opts: opts, networks: map[string]string{}, secrets: map[string]string{}, configs: map[string]string{}}
	for _, n := range snap.Networks {
		a.networks[n.Name] = n.ID
	}
	for _, s := range slices.Concat(snap.Secrets, snap.UserSecrets) {
		a.secrets[s.Spec.Name] = s.ID
	}
	for _, c := range slices.Concat(snap.UserConfigs, snap.Certificates) {
		a.configs[c.Spec.Name] = c.ID
	}
	var progress sync.Mutex // the store's writes report from several goroutines
	run := func(act planner.Action) error {
		err := a.retry(ctx, act)
		if opts.Progress != nil {
			progress.Lock()
			opts.Progress(act, err)
			progress.Unlock()
		}
		if err != nil {
			return fmt.Errorf("%s/%s: %w", act.Kind, act.Name, err)
		}
		return nil
	}
	hooks := &hookGate{await: opts.AwaitHook, results: map[string]*HookError{}, held: map[string]*HookError{}}
	for i := 0; i < len(plan.Actions); {
		if hooks.holds(ctx, plan.Actions[i]) {
			i++
			continue
		}
		// The store's configs are independent of each other: a run of them is written
		// concurrently, so a first apply of a thousand objects does not wait on each in turn.
		// Everything else keeps its order (a Config's file, whose ID its services need, too).
		j := i
		for j < len(plan.Actions) && plan.Actions[j].Kind == planner.KindConfig && plan.Actions[j].Config == nil {
			j++
		}
		if j == i {
			if err := run(plan.Actions[i]); err != nil {
				return err
			}
			i++
			continue
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(storeWriters)
		for _, act := range plan.Actions[i:j] {
			g.Go(func() error {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				return run(act)
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		i = j
	}
	return hooks.err()
}

// hookGate holds back the services whose hooks did not succeed, awaiting each hook once.
type hookGate struct {
	await   func(ctx context.Context, job string) error
	results map[string]*HookError // by job: nil when it succeeded
	errs    []*HookError
	held    map[string]*HookError // the services held back, by name, and the hook that did it
}

// holds tells whether a service action must not run: it creates or updates a service whose
// hook did not succeed, or creates one after a service held back.
func (h *hookGate) holds(ctx context.Context, act planner.Action) bool {
	if act.Kind != planner.KindService || act.Op == planner.Delete || act.Service == nil {
		return false
	}
	var cause *HookError
	if act.Op == planner.Create {
		for _, dep := range act.Service.DependsOn {
			cause = cmp.Or(cause, h.held[dep])
		}
	}
	for _, job := range act.Service.Hooks {
		if cause != nil || h.await == nil {
			break
		}
		result, done := h.results[job]
		if !done {
			if err := h.await(ctx, job); err != nil {
				result = &HookError{Job: job, Err: err}
				h.errs = append(h.errs, result)
			}
			h.results[job] = result
		}
		cause = result
	}
	if cause == nil {
		return false
	}
	cause.Held = append(cause.Held, act.Name)
	h.held[act.Name] = cause
	return true
}

// err is the hooks that did not succeed, if any held a service back.
func (h *hookGate) err() error {
	var errs []error
	for _, e := range h.errs {
		if len(e.Held) > 0 {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// storeWriters bounds the concurrent writes of the store's configs.
const storeWriters = 8

type applier struct {
	w        Writer
	opts     Options
	networks map[string]string // name -> ID, including those created in this pass
	secrets  map[string]string
	configs  map[string]string // the user's configs services mount
}

// retry runs one action, retrying what may succeed later: a lost engine connection, an engine
// that is busy or restarting, a service update that raced another writer.
func (a *applier) retry(ctx context.Context, act planner.Action) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 200 * time.Millisecond
	b.MaxElapsedTime = a.opts.MaxRetryTime
	return backoff.Retry(func() error {
		err := a.do(ctx, act)
		if err == nil || !transient(err) {
			return permanent(err)
		}
		return err
	}, backoff.WithContext(b, ctx))
}

func permanent(err error) error {
	if err == nil {
		return nil
	}
	return backoff.Permanent(err)
}

// transient reports whether an error may go away by itself. Invalid requests, missing objects and
// refusals will not.
func transient(err error) bool {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		cerrdefs.IsInvalidArgument(err), cerrdefs.IsNotFound(err), cerrdefs.IsAlreadyExists(err),
		cerrdefs.IsPermissionDenied(err), cerrdefs.IsNotImplemented(err), cerrdefs.IsConflict(err):
		return false
	}
	return true
}

// errNotOurs stops an action on an object that lost its ownership labels since the snapshot.
var errNotOurs = errors.New("the object no longer carries swarmgate's labels; not touching it")

func (a *applier) do(ctx context.Context, act planner.Action) error {
	switch act.Kind {
	case planner.KindNode:
		return a.updateNode(ctx, act)
	case planner.KindAttachment:
		return a.attach(ctx, act)
	case planner.KindNetwork:
		if act.Op == planner.Delete {
			return ignoreNotFound(a.w.NetworkRemove(ctx, act.ID))
		}
		n := act.Network
		resp, err := a.w.NetworkCreate(ctx, n.Name, network.CreateOptions{
			Driver: "overlay", Attachable: true, Scope: "swarm", Labels: n.Labels,
			Options: encryption(n.Encrypted),
		})
		if cerrdefs.IsAlreadyExists(err) || cerrdefs.IsConflict(err) {
			// Perhaps created by an earlier try whose answer was lost.
			existing, ierr := a.w.NetworkInspect(ctx, n.Name, network.InspectOptions{})
			if ierr != nil {
				return ierr
			}
			if !swarmstate.Owned(existing.Labels, a.opts.Instance) {
				return backoff.Permanent(fmt.Errorf("a network named %s exists and is not swarmgate's", n.Name))
			}
			resp.ID, err = existing.ID, nil
		}
		if err != nil {
			return err
		}
		a.networks[n.Name] = resp.ID
		return nil
	case planner.KindSecret:
		if act.Op == planner.Delete {
			return ignoreNotFound(a.w.SecretRemove(ctx, act.ID))
		}
		s := act.Secret
		resp, err := a.w.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: s.Name, Labels: s.Labels}, Data: s.Data})
		if cerrdefs.IsAlreadyExists(err) || cerrdefs.IsConflict(err) {
			// Created by an earlier try whose answer was lost: the name carries the content's
			// hash, so it is the same secret if it is ours.
			existing, _, ierr := a.w.SecretInspectWithRaw(ctx, s.Name)
			if ierr != nil {
				return ierr
			}
			if !swarmstate.Owned(existing.Spec.Labels, a.opts.Instance) {
				return backoff.Permanent(fmt.Errorf("a secret named %s exists and is not swarmgate's", s.Name))
			}
			resp.ID, err = existing.ID, nil
		}
		if err != nil {
			return err
		}
		a.secrets[s.Name] = resp.ID
		return nil
	case planner.KindConfig:
		if act.Op == planner.Delete {
			return ignoreNotFound(a.w.ConfigRemove(ctx, act.ID))
		}
		if c := act.Config; c != nil {
			id, err := a.createConfig(ctx, c.Name, c.Labels, c.Data)
			if err != nil {
				return err
			}
			a.configs[c.Name] = id
			return nil
		}
		// The store's configs are written concurrently: this one's ID is not recorded (no
		// service mounts it).
		_, err := a.createConfig(ctx, act.Applied.Name, act.Applied.Labels, act.Applied.Data)
		return err
	case planner.KindCertificate:
		if act.Op == planner.Delete {
			return ignoreNotFound(a.w.ConfigRemove(ctx, act.ID))
		}
		id, err := a.createConfig(ctx, act.Config.Name, act.Config.Labels, act.Config.Data)
		if err != nil {
			return err
		}
		a.configs[act.Config.Name] = id
		return nil
	case planner.KindService:
		switch act.Op {
		case planner.Delete:
			return ignoreNotFound(a.w.ServiceRemove(ctx, act.ID))
		case planner.Create:
			spec, err := a.resolve(act.Service.Spec)
			if err != nil {
				return err
			}
			auth, err := a.registryAuth(spec)
			if err != nil {
				return err
			}
			_, err = a.w.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: false, EncodedRegistryAuth: auth})
			if cerrdefs.IsAlreadyExists(err) || cerrdefs.IsConflict(err) {
				// Perhaps created by an earlier try whose answer was lost: if it is ours, the
				// next pass compares it like any other.
				existing, _, ierr := a.w.ServiceInspectWithRaw(ctx, spec.Name, swarm.ServiceInspectOptions{})
				if ierr == nil && swarmstate.Owned(existing.Spec.Labels, a.opts.Instance) {
					return nil
				}
			}
			return err
		default:
			return a.updateService(ctx, act)
		}
	}
	return fmt.Errorf("unknown action %s %s", act.Op, act.Kind)
}

// updateService updates with the version the plan read; when another writer got there first, it
// re-reads the service and, if it is still ours, updates on the new version: the desired spec wins.
func (a *applier) updateService(ctx context.Context, act planner.Action) error {
	spec, err := a.resolve(act.Service.Spec)
	if err != nil {
		return err
	}
	auth, err := a.registryAuth(spec)
	if err != nil {
		return err
	}
	opts := swarm.ServiceUpdateOptions{EncodedRegistryAuth: auth}
	_, err = a.w.ServiceUpdate(ctx, act.ID, act.Version, spec, opts)
	if err == nil {
		return nil
	}
	current, _, ierr := a.w.ServiceInspectWithRaw(ctx, act.ID, swarm.ServiceInspectOptions{})
	if ierr != nil {
		return err
	}
	if !swarmstate.Owned(current.Spec.Labels, a.opts.Instance) {
		return backoff.Permanent(errNotOurs)
	}
	if current.Version.Index == act.Version.Index {
		return err
	}
	_, err = a.w.ServiceUpdate(ctx, act.ID, current.Version, spec, opts)
	return err
}

// registryAuth is the credentials of spec's image's registry, if RegistryAuth is set and has any.
func (a *applier) registryAuth(spec swarm.ServiceSpec) (string, error) {
	if a.opts.RegistryAuth == nil || spec.TaskTemplate.ContainerSpec == nil {
		return "", nil
	}
	auth, err := a.opts.RegistryAuth(spec.TaskTemplate.ContainerSpec.Image)
	if err != nil {
		return "", fmt.Errorf("registry credentials for service %s: %w", spec.Name, err)
	}
	return auth, nil
}

// attach adds a network to a service swarmgate does not own, as a Route asked (the only write to
// a foreign object): to the service as it is now, with its version, leaving the rest of its spec
// as its owner left it. A service already on the network is left alone.
func (a *applier) attach(ctx context.Context, act planner.Action) error {
	name := act.AttachTo
	netID := a.networks[name]
	if netID == "" {
		return fmt.Errorf("network %s: not found", name)
	}
	current, _, err := a.w.ServiceInspectWithRaw(ctx, act.ID, swarm.ServiceInspectOptions{})
	if err != nil {
		return err
	}
	spec := current.Spec
	for _, n := range spec.TaskTemplate.Networks {
		if n.Target == netID || n.Target == name {
			return nil
		}
	}
	spec.TaskTemplate.Networks = append(slices.Clone(spec.TaskTemplate.Networks), swarm.NetworkAttachmentConfig{Target: netID})
	_, err = a.w.ServiceUpdate(ctx, act.ID, current.Version, spec, swarm.ServiceUpdateOptions{})
	return err
}

// updateNode applies the planned label changes (a new value, or none to remove the label) to the
// node as it is now, so concurrent changes to its other labels or its availability are kept.
func (a *applier) updateNode(ctx context.Context, act planner.Action) error {
	node, _, err := a.w.NodeInspectWithRaw(ctx, act.ID)
	if err != nil {
		return err
	}
	spec := node.Spec
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, act.Labels.Set)
	for _, k := range act.Labels.Remove {
		delete(labels, k)
	}
	spec.Labels = labels
	return a.w.NodeUpdate(ctx, act.ID, node.Version, spec)
}

// createConfig creates a config of swarmgate's and returns its ID. One that exists was created by an
// earlier try whose answer was lost: its name carries the content's hash, so it is the same config
// if it is ours.
func (a *applier) createConfig(ctx context.Context, name string, labels map[string]string, data []byte) (string, error) {
	resp, err := a.w.ConfigCreate(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, Data: data})
	if cerrdefs.IsAlreadyExists(err) || cerrdefs.IsConflict(err) {
		existing, _, ierr := a.w.ConfigInspectWithRaw(ctx, name)
		if ierr != nil {
			return "", ierr
		}
		if !swarmstate.Owned(existing.Spec.Labels, a.opts.Instance) {
			return "", backoff.Permanent(fmt.Errorf("a config named %s exists and is not swarmgate's", name))
		}
		return existing.ID, nil
	}
	return resp.ID, err
}

// resolve fills in the IDs of the networks and secrets a service spec names.
func (a *applier) resolve(spec swarm.ServiceSpec) (swarm.ServiceSpec, error) {
	nets := make([]swarm.NetworkAttachmentConfig, len(spec.TaskTemplate.Networks))
	for i, n := range spec.TaskTemplate.Networks {
		id, ok := a.networks[n.Target]
		if !ok {
			return spec, backoff.Permanent(fmt.Errorf("network %s does not exist", n.Target))
		}
		nets[i] = swarm.NetworkAttachmentConfig{Target: id, Aliases: n.Aliases}
	}
	spec.TaskTemplate.Networks = nets
	if c := spec.TaskTemplate.ContainerSpec; c != nil && len(c.Secrets) > 0 {
		cs := *c
		cs.Secrets = make([]*swarm.SecretReference, len(c.Secrets))
		for i, s := range c.Secrets {
			id, ok := a.secrets[s.SecretName]
			if !ok {
				return spec, backoff.Permanent(fmt.Errorf("secret %s does not exist", s.SecretName))
			}
			ref := *s
			ref.SecretID = id
			cs.Secrets[i] = &ref
		}
		spec.TaskTemplate.ContainerSpec = &cs
	}
	if c := spec.TaskTemplate.ContainerSpec; c != nil && len(c.Configs) > 0 {
		cs := *c
		cs.Configs = make([]*swarm.ConfigReference, len(c.Configs))
		for i, ref := range c.Configs {
			id, ok := a.configs[ref.ConfigName]
			if !ok {
				return spec, backoff.Permanent(fmt.Errorf("config %s does not exist", ref.ConfigName))
			}
			r := *ref
			r.ConfigID = id
			cs.Configs[i] = &r
		}
		spec.TaskTemplate.ContainerSpec = &cs
	}
	return spec, nil
}

func encryption(on bool) map[string]string {
	if !on {
		return nil
	}
	return map[string]string{"encrypted": ""}
}

// ignoreNotFound treats deleting what is already gone as done.
func ignoreNotFound(err error) error {
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	return err
}
