package applier

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// fakeEngine keeps swarm objects in memory as the engine does for the applier: names are unique,
// service and node updates must pass the current version, and each call may be told to fail.
type fakeEngine struct {
	mu       sync.Mutex
	networks map[string]network.Inspect // by ID
	secrets  map[string]swarm.Secret
	configs  map[string]swarm.Config
	services map[string]swarm.Service
	nodes    map[string]swarm.Node
	nextID   int
	// fail gives, by method, the errors its next calls return instead of doing anything.
	fail map[string][]error
	// calls counts the calls by method; writes lists the writes done, in order ("ServiceCreate s").
	calls  map[string]int
	writes []string
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{networks: map[string]network.Inspect{}, secrets: map[string]swarm.Secret{}, configs: map[string]swarm.Config{},
		services: map[string]swarm.Service{}, nodes: map[string]swarm.Node{}, fail: map[string][]error{}, calls: map[string]int{}}
}

// call counts a call and returns the error it is told to fail with, if any. It locks the engine;
// the caller unlocks it.
func (e *fakeEngine) call(method string) error {
	e.mu.Lock()
	e.calls[method]++
	if errs := e.fail[method]; len(errs) > 0 {
		e.fail[method] = errs[1:]
		return errs[0]
	}
	return nil
}

func (e *fakeEngine) id() string {
	e.nextID++
	return fmt.Sprint("id", e.nextID)
}

func (e *fakeEngine) wrote(method, name string) { e.writes = append(e.writes, method+" "+name) }

func notFound(what string) error { return fmt.Errorf("%s: %w", what, cerrdefs.ErrNotFound) }

func exists(what string) error { return fmt.Errorf("%s: %w", what, cerrdefs.ErrAlreadyExists) }

func (e *fakeEngine) NodeInspectWithRaw(_ context.Context, id string) (swarm.Node, []byte, error) {
	defer e.mu.Unlock()
	if err := e.call("NodeInspect"); err != nil {
		return swarm.Node{}, nil, err
	}
	n, ok := e.nodes[id]
	if !ok {
		return n, nil, notFound("node " + id)
	}
	return n, nil, nil
}

func (e *fakeEngine) NodeUpdate(_ context.Context, id string, version swarm.Version, spec swarm.NodeSpec) error {
	defer e.mu.Unlock()
	if err := e.call("NodeUpdate"); err != nil {
		return err
	}
	n := e.nodes[id]
	if n.Version != version {
		return errors.New("update out of sequence")
	}
	n.Spec, n.Version.Index = spec, n.Version.Index+1
	e.nodes[id] = n
	e.wrote("NodeUpdate", id)
	return nil
}

func (e *fakeEngine) NetworkCreate(_ context.Context, name string, opts network.CreateOptions) (network.CreateResponse, error) {
	defer e.mu.Unlock()
	if err := e.call("NetworkCreate"); err != nil {
		return network.CreateResponse{}, err
	}
	for _, n := range e.networks {
		if n.Name == name {
			return network.CreateResponse{}, exists("network " + name)
		}
	}
	id := e.id()
	e.networks[id] = network.Inspect{ID: id, Name: name, Labels: opts.Labels, Options: opts.Options}
	e.wrote("NetworkCreate", name)
	return network.CreateResponse{ID: id}, nil
}

func (e *fakeEngine) NetworkInspect(_ context.Context, name string, _ network.InspectOptions) (network.Inspect, error) {
	defer e.mu.Unlock()
	if err := e.call("NetworkInspect"); err != nil {
		return network.Inspect{}, err
	}
	for _, n := range e.networks {
		if n.Name == name || n.ID == name {
			return n, nil
		}
	}
	return network.Inspect{}, notFound("network " + name)
}

func (e *fakeEngine) NetworkRemove(_ context.Context, id string) error {
	defer e.mu.Unlock()
	if err := e.call("NetworkRemove"); err != nil {
		return err
	}
	if _, ok := e.networks[id]; !ok {
		return notFound("network " + id)
	}
	delete(e.networks, id)
	e.wrote("NetworkRemove", id)
	return nil
}

func (e *fakeEngine) SecretCreate(_ context.Context, spec swarm.SecretSpec) (swarm.SecretCreateResponse, error) {
	defer e.mu.Unlock()
	if err := e.call("SecretCreate"); err != nil {
		return swarm.SecretCreateResponse{}, err
	}
	for _, s := range e.secrets {
		if s.Spec.Name == spec.Name {
			return swarm.SecretCreateResponse{}, exists("secret " + spec.Name)
		}
	}
	id := e.id()
	e.secrets[id] = swarm.Secret{ID: id, Spec: spec}
	e.wrote("SecretCreate", spec.Name)
	return swarm.SecretCreateResponse{ID: id}, nil
}

func (e *fakeEngine) SecretInspectWithRaw(_ context.Context, name string) (swarm.Secret, []byte, error) {
	defer e.mu.Unlock()
	if err := e.call("SecretInspect"); err != nil {
		return swarm.Secret{}, nil, err
	}
	for _, s := range e.secrets {
		if s.Spec.Name == name || s.ID == name {
			return s, nil, nil
		}
	}
	return swarm.Secret{}, nil, notFound("secret " + name)
}

func (e *fakeEngine) SecretRemove(_ context.Context, id string) error {
	defer e.mu.Unlock()
	if err := e.call("SecretRemove"); err != nil {
		return err
	}
	if _, ok := e.secrets[id]; !ok {
		return notFound("secret " + id)
	}
	delete(e.secrets, id)
	e.wrote("SecretRemove", id)
	return nil
}

func (e *fakeEngine) ConfigCreate(_ context.Context, spec swarm.ConfigSpec) (swarm.ConfigCreateResponse, error) {
	defer e.mu.Unlock()
	if err := e.call("ConfigCreate"); err != nil {
		return swarm.ConfigCreateResponse{}, err
	}
	for _, c := range e.configs {
		if c.Spec.Name == spec.Name {
			return swarm.ConfigCreateResponse{}, exists("config " + spec.Name)
		}
	}
	id := e.id()
	e.configs[id] = swarm.Config{ID: id, Spec: spec}
	e.wrote("ConfigCreate", spec.Name)
	return swarm.ConfigCreateResponse{ID: id}, nil
}

func (e *fakeEngine) ConfigInspectWithRaw(_ context.Context, name string) (swarm.Config, []byte, error) {
	defer e.mu.Unlock()
	if err := e.call("ConfigInspect"); err != nil {
		return swarm.Config{}, nil, err
	}
	for _, c := range e.configs {
		if c.Spec.Name == name || c.ID == name {
			return c, nil, nil
		}
	}
	return swarm.Config{}, nil, notFound("config " + name)
}

func (e *fakeEngine) ConfigRemove(_ context.Context, id string) error {
	defer e.mu.Unlock()
	if err := e.call("ConfigRemove"); err != nil {
		return err
	}
	if _, ok := e.configs[id]; !ok {
		return notFound("config " + id)
	}
	delete(e.configs, id)
	e.wrote("ConfigRemove", id)
	return nil
}

func (e *fakeEngine) ServiceCreate(_ context.Context, spec swarm.ServiceSpec, _ swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error) {
	defer e.mu.Unlock()
	if err := e.call("ServiceCreate"); err != nil {
		return swarm.ServiceCreateResponse{}, err
	}
	for _, s := range e.services {
		if s.Spec.Name == spec.Name {
			return swarm.ServiceCreateResponse{}, exists("service " + spec.Name)
		}
	}
	id := e.id()
	e.services[id] = swarm.Service{ID: id, Meta: swarm.Meta{Version: swarm.Version{Index: 1}}, Spec: spec}
	e.wrote("ServiceCreate", spec.Name)
	return swarm.ServiceCreateResponse{ID: id}, nil
}

func (e *fakeEngine) ServiceInspectWithRaw(_ context.Context, name string, _ swarm.ServiceInspectOptions) (swarm.Service, []byte, error) {
	defer e.mu.Unlock()
	if err := e.call("ServiceInspect"); err != nil {
		return swarm.Service{}, nil, err
	}
	for _, s := range e.services {
		if s.Spec.Name == name || s.ID == name {
			return s, nil, nil
		}
	}
	return swarm.Service{}, nil, notFound("service " + name)
}

func (e *fakeEngine) ServiceUpdate(_ context.Context, id string, version swarm.Version, spec swarm.ServiceSpec, _ swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error) {
	defer e.mu.Unlock()
	if err := e.call("ServiceUpdate"); err != nil {
		return swarm.ServiceUpdateResponse{}, err
	}
	s, ok := e.services[id]
	if !ok {
		return swarm.ServiceUpdateResponse{}, notFound("service " + id)
	}
	if s.Version != version {
		return swarm.ServiceUpdateResponse{}, errors.New("update out of sequence")
	}
	s.Spec, s.Version.Index = spec, s.Version.Index+1
	e.services[id] = s
	e.wrote("ServiceUpdate", spec.Name)
	return swarm.ServiceUpdateResponse{}, nil
}

func (e *fakeEngine) ServiceRemove(_ context.Context, id string) error {
	defer e.mu.Unlock()
	if err := e.call("ServiceRemove"); err != nil {
		return err
	}
	if _, ok := e.services[id]; !ok {
		return notFound("service " + id)
	}
	delete(e.services, id)
	e.wrote("ServiceRemove", id)
	return nil
}

// ours are the labels of instance "i"'s objects; theirs those of objects it does not own.
var (
	ours   = map[string]string{inventory.LabelManagedBy: inventory.ManagedByValue, inventory.LabelInstance: "i"}
	theirs = map[string]string{"owner": "someone"}
)

// addService adds a service as it exists before the pass, with the version index given.
func (e *fakeEngine) addService(id, name string, labels map[string]string, index uint64, networks ...string) {
	spec := swarm.ServiceSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "old"}}}
	for _, n := range networks {
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: n})
	}
	e.services[id] = swarm.Service{ID: id, Meta: swarm.Meta{Version: swarm.Version{Index: index}}, Spec: spec}
}

func serviceSpec(name string, networks ...string) swarm.ServiceSpec {
	spec := swarm.ServiceSpec{Annotations: swarm.Annotations{Name: name, Labels: ours}, TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "new"}}}
	for _, n := range networks {
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: n})
	}
	return spec
}

func createService(name string, networks ...string) planner.Action {
	return planner.Action{Op: planner.Create, Kind: planner.KindService, Name: name, Service: &desired.Service{Name: name, Spec: serviceSpec(name, networks...)}}
}

func updateService(id, name string, index uint64) planner.Action {
	return planner.Action{Op: planner.Update, Kind: planner.KindService, Name: name, ID: id, Version: swarm.Version{Index: index},
		Service: &desired.Service{Name: name, Spec: serviceSpec(name)}}
}

// errTransient is an error the engine may not give again: a lost connection.
var errTransient = errors.New("connection reset by peer")

func TestApplyRetries(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *fakeEngine)
		act   planner.Action
		// err is what the error says, "" for none; calls are the calls made, by method.
		err   string
		calls map[string]int
		// image is the image of service s after, when the action writes it.
		image string
	}{
		{
			name:  "a transient error: retried",
			setup: func(e *fakeEngine) { e.fail["ServiceCreate"] = []error{errTransient, errTransient} },
			act:   createService("s"),
			calls: map[string]int{"ServiceCreate": 3}, image: "new",
		},
		{
			name: "an invalid request: not retried",
			setup: func(e *fakeEngine) {
				e.fail["ServiceCreate"] = []error{fmt.Errorf("bad spec: %w", cerrdefs.ErrInvalidArgument)}
			},
			act: createService("s"),
			err: "service/s: bad spec", calls: map[string]int{"ServiceCreate": 1},
		},
		{
			name: "permission denied: not retried",
			setup: func(e *fakeEngine) {
				e.fail["SecretCreate"] = []error{fmt.Errorf("not a manager: %w", cerrdefs.ErrPermissionDenied)}
			},
			act: planner.Action{Op: planner.Create, Kind: planner.KindSecret, Name: "sec", Secret: &desired.Secret{Name: "sec", Labels: ours}},
			err: "secret/sec: not a manager", calls: map[string]int{"SecretCreate": 1},
		},
		{
			name: "a transient error that outlasts MaxRetryTime: fails",
			setup: func(e *fakeEngine) {
				e.fail["ServiceCreate"] = slices.Repeat([]error{errTransient}, 100)
			},
			act: createService("s"),
			err: "service/s: connection reset by peer",
		},
		{
			name:  "a service created by an earlier try whose answer was lost: done",
			setup: func(e *fakeEngine) { e.addService("s1", "s", ours, 1) },
			act:   createService("s"),
			calls: map[string]int{"ServiceCreate": 1, "ServiceInspect": 1}, image: "old",
		},
		{
			name:  "a service of that name that is not ours: fails, not retried",
			setup: func(e *fakeEngine) { e.addService("s1", "s", theirs, 1) },
			act:   createService("s"),
			err:   "service/s: service s: already exists", calls: map[string]int{"ServiceCreate": 1, "ServiceInspect": 1}, image: "old",
		},
		{
			name:  "an update on the version read: written once",
			setup: func(e *fakeEngine) { e.addService("s1", "s", ours, 7) },
			act:   updateService("s1", "s", 7),
			calls: map[string]int{"ServiceUpdate": 1}, image: "new",
		},
		{
			name:  "an update that lost a race with another writer: re-read and written on the new version",
			setup: func(e *fakeEngine) { e.addService("s1", "s", ours, 9) },
			act:   updateService("s1", "s", 7),
			calls: map[string]int{"ServiceUpdate": 2, "ServiceInspect": 1}, image: "new",
		},
		{
			name:  "an update of a service that lost our labels since: not written, not retried",
			setup: func(e *fakeEngine) { e.addService("s1", "s", theirs, 9) },
			act:   updateService("s1", "s", 7),
			err:   "service/s: " + errNotOurs.Error(), calls: map[string]int{"ServiceUpdate": 1, "ServiceInspect": 1}, image: "old",
		},
		{
			name: "an update failing on the current version: retried as a transient error",
			setup: func(e *fakeEngine) {
				e.addService("s1", "s", ours, 7)
				e.fail["ServiceUpdate"] = []error{errTransient}
			},
			act:   updateService("s1", "s", 7),
			calls: map[string]int{"ServiceUpdate": 2, "ServiceInspect": 1}, image: "new",
		},
		{
			name:  "deleting a service already gone: done",
			act:   planner.Action{Op: planner.Delete, Kind: planner.KindService, Name: "s", ID: "gone"},
			calls: map[string]int{"ServiceRemove": 1},
		},
		{
			name:  "a network created by an earlier try: its ID is used",
			setup: func(e *fakeEngine) { e.networks["n1"] = network.Inspect{ID: "n1", Name: "net", Labels: ours} },
			act:   planner.Action{Op: planner.Create, Kind: planner.KindNetwork, Name: "net", Network: &desired.Network{Name: "net", Labels: ours}},
			calls: map[string]int{"NetworkCreate": 1, "NetworkInspect": 1},
		},
		{
			name:  "a network of that name that is not ours: fails, not retried",
			setup: func(e *fakeEngine) { e.networks["n1"] = network.Inspect{ID: "n1", Name: "net", Labels: theirs} },
			act:   planner.Action{Op: planner.Create, Kind: planner.KindNetwork, Name: "net", Network: &desired.Network{Name: "net", Labels: ours}},
			err:   "network/net: a network named net exists and is not swarmgate's", calls: map[string]int{"NetworkCreate": 1, "NetworkInspect": 1},
		},
		{
			name: "a config of that name that is not ours: fails, not retried",
			setup: func(e *fakeEngine) {
				e.configs["c1"] = swarm.Config{ID: "c1", Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "store"}}}
			},
			act: planner.Action{Op: planner.Create, Kind: planner.KindConfig, Name: "store", Applied: &desired.Applied{Name: "store", Labels: ours}},
			err: "config/store: a config named store exists and is not swarmgate's", calls: map[string]int{"ConfigCreate": 1, "ConfigInspect": 1},
		},
		{
			name: "a service naming a network that does not exist: fails, not retried",
			act:  createService("s", "nowhere"),
			err:  "service/s: network nowhere does not exist", calls: map[string]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFakeEngine()
			if tt.setup != nil {
				tt.setup(e)
			}
			err := Apply(context.Background(), e, &planner.Plan{Actions: []planner.Action{tt.act}}, &swarmstate.Snapshot{},
				Options{Instance: "i", MaxRetryTime: 2 * time.Second})
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if tt.calls != nil && !maps.Equal(e.calls, tt.calls) {
				t.Errorf("calls %v, want %v", e.calls, tt.calls)
			}
			if tt.image != "" {
				s, _, err := e.ServiceInspectWithRaw(context.Background(), "s", swarm.ServiceInspectOptions{})
				if err != nil || s.Spec.TaskTemplate.ContainerSpec.Image != tt.image {
					t.Errorf("service s has image %q (%v), want %q", s.Spec.TaskTemplate.ContainerSpec.Image, err, tt.image)
				}
			}
		})
	}
}

// A cancelled pass stops at once, without retrying.
func TestApplyCancelled(t *testing.T) {
	e := newFakeEngine()
	e.fail["ServiceCreate"] = []error{context.Canceled}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Apply(ctx, e, &planner.Plan{Actions: []planner.Action{createService("s"), createService("t")}}, &swarmstate.Snapshot{}, Options{Instance: "i"})
	if !errors.Is(err, context.Canceled) || e.calls["ServiceCreate"] != 1 {
		t.Errorf("err %v after %d creates, want context.Canceled after 1", err, e.calls["ServiceCreate"])
	}
}

// Actions run in the plan's order, the store's configs concurrently among themselves; a service
// gets the IDs of the networks and secrets made before it, and of those the snapshot had.
func TestApplyOrder(t *testing.T) {
	e := newFakeEngine()
	e.networks["old-net"] = network.Inspect{ID: "old-net", Name: "kept", Labels: ours}
	e.secrets["old-sec"] = swarm.Secret{ID: "old-sec", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "token"}}}
	e.addService("s1", "gone", ours, 1)
	snap := &swarmstate.Snapshot{
		Networks:    []network.Summary{{ID: "old-net", Name: "kept"}},
		UserSecrets: []swarm.Secret{{ID: "old-sec", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "token"}}}},
	}
	store := func(name string) planner.Action {
		return planner.Action{Op: planner.Create, Kind: planner.KindConfig, Name: name, Applied: &desired.Applied{Name: name, Labels: ours}}
	}
	gw := createService("gw", "net", "kept")
	gw.Service.Spec.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretName: "conf"}, {SecretName: "token"}}
	plan := &planner.Plan{Actions: []planner.Action{
		store("a"), store("b"), store("c"), store("d"),
		{Op: planner.Create, Kind: planner.KindNetwork, Name: "net", Network: &desired.Network{Name: "net", Labels: ours}},
		{Op: planner.Create, Kind: planner.KindSecret, Name: "conf", Secret: &desired.Secret{Name: "conf", Labels: ours}},
		gw,
		{Op: planner.Delete, Kind: planner.KindService, Name: "gone", ID: "s1"},
	}}
	var done []string
	err := Apply(context.Background(), e, plan, snap, Options{Instance: "i", Progress: func(a planner.Action, err error) {
		if err != nil {
			t.Errorf("%s: %v", a, err)
		}
		done = append(done, a.Name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	storeFirst := slices.Clone(e.writes[:4])
	slices.Sort(storeFirst)
	want := []string{"ConfigCreate a", "ConfigCreate b", "ConfigCreate c", "ConfigCreate d"}
	if !slices.Equal(storeFirst, want) || !slices.Equal(e.writes[4:], []string{"NetworkCreate net", "SecretCreate conf", "ServiceCreate gw", "ServiceRemove s1"}) {
		t.Errorf("writes %v", e.writes)
	}
	if len(done) != len(plan.Actions) {
		t.Errorf("progress told of %v", done)
	}
	s, _, err := e.ServiceInspectWithRaw(context.Background(), "gw", swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	netID, _ := e.NetworkInspect(context.Background(), "net", network.InspectOptions{})
	confID, _, _ := e.SecretInspectWithRaw(context.Background(), "conf")
	if got := s.Spec.TaskTemplate.Networks; len(got) != 2 || got[0].Target != netID.ID || got[1].Target != "old-net" {
		t.Errorf("networks %+v, want the IDs of net (%s) and kept (old-net)", got, netID.ID)
	}
	if got := s.Spec.TaskTemplate.ContainerSpec.Secrets; got[0].SecretID != confID.ID || got[1].SecretID != "old-sec" {
		t.Errorf("secret IDs %s, %s, want %s, old-sec", got[0].SecretID, got[1].SecretID, confID.ID)
	}
}

// A failure stops the pass: the actions after it are not run.
func TestApplyStopsAtFailure(t *testing.T) {
	e := newFakeEngine()
	e.fail["SecretCreate"] = []error{fmt.Errorf("too large: %w", cerrdefs.ErrInvalidArgument)}
	plan := &planner.Plan{Actions: []planner.Action{
		{Op: planner.Create, Kind: planner.KindSecret, Name: "conf", Secret: &desired.Secret{Name: "conf", Labels: ours}},
		createService("gw"),
	}}
	if err := Apply(context.Background(), e, plan, &swarmstate.Snapshot{}, Options{Instance: "i"}); err == nil || !strings.HasPrefix(err.Error(), "secret/conf: ") {
		t.Fatalf("err = %v", err)
	}
	if e.calls["ServiceCreate"] != 0 {
		t.Error("the service was created after its secret failed")
	}
}

func TestApplyAttach(t *testing.T) {
	tests := []struct {
		name     string
		networks []string // the foreign service's networks before
		update   bool
	}{
		{name: "not on the network: attached", networks: []string{"other"}, update: true},
		{name: "already on it by ID: left alone", networks: []string{"n1"}},
		{name: "already on it by name: left alone", networks: []string{"gw_net"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFakeEngine()
			e.addService("s1", "legacy", theirs, 3, tt.networks...)
			snap := &swarmstate.Snapshot{Networks: []network.Summary{{ID: "n1", Name: "gw_net"}}}
			act := planner.Action{Op: planner.Update, Kind: planner.KindAttachment, Name: "legacy", ID: "s1", AttachTo: "gw_net"}
			if err := Apply(context.Background(), e, &planner.Plan{Actions: []planner.Action{act}}, snap, Options{Instance: "i"}); err != nil {
				t.Fatal(err)
			}
			s := e.services["s1"]
			if got := e.calls["ServiceUpdate"] > 0; got != tt.update {
				t.Fatalf("updated = %v", got)
			}
			if !tt.update {
				return
			}
			var targets []string
			for _, n := range s.Spec.TaskTemplate.Networks {
				targets = append(targets, n.Target)
			}
			if !slices.Equal(targets, append(slices.Clone(tt.networks), "n1")) || s.Spec.TaskTemplate.ContainerSpec.Image != "old" || !maps.Equal(s.Spec.Labels, theirs) {
				t.Errorf("service after: networks %v, image %s, labels %v: want the network added and the rest as its owner left it",
					targets, s.Spec.TaskTemplate.ContainerSpec.Image, s.Spec.Labels)
			}
		})
	}
}

// Node labels are changed on the node as it is now: other labels and its availability are kept.
func TestApplyNodeLabels(t *testing.T) {
	e := newFakeEngine()
	e.nodes["n1"] = swarm.Node{ID: "n1", Meta: swarm.Meta{Version: swarm.Version{Index: 4}}, Spec: swarm.NodeSpec{
		Annotations:  swarm.Annotations{Labels: map[string]string{"zone": "old", "drop": "x", "admin": "keep"}},
		Availability: swarm.NodeAvailabilityDrain,
	}}
	// What is applied is the structured changes: Changes only describes them, as diff prints.
	act := planner.Action{Op: planner.Update, Kind: planner.KindNode, Name: "n1", ID: "n1", Version: swarm.Version{Index: 2},
		Changes: []planner.Change{{Field: "node label zone", Old: "old", New: "dmz"}},
		Labels:  &planner.LabelChanges{Set: map[string]string{"zone": "dmz", "new": "y", "empty": ""}, Remove: []string{"drop"}}}
	if err := Apply(context.Background(), e, &planner.Plan{Actions: []planner.Action{act}}, &swarmstate.Snapshot{}, Options{Instance: "i"}); err != nil {
		t.Fatal(err)
	}
	n := e.nodes["n1"]
	want := map[string]string{"zone": "dmz", "admin": "keep", "new": "y", "empty": ""}
	if !maps.Equal(n.Spec.Labels, want) || n.Spec.Availability != swarm.NodeAvailabilityDrain {
		t.Errorf("node labels %v, availability %s; want %v, drain", n.Spec.Labels, n.Spec.Availability, want)
	}
}

func TestTransient(t *testing.T) {
	for _, tt := range []struct {
		err       error
		transient bool
	}{
		{errTransient, true},
		{errors.New("update out of sequence"), true},
		{fmt.Errorf("x: %w", cerrdefs.ErrUnavailable), true},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{fmt.Errorf("x: %w", cerrdefs.ErrInvalidArgument), false},
		{fmt.Errorf("x: %w", cerrdefs.ErrNotFound), false},
		{fmt.Errorf("x: %w", cerrdefs.ErrAlreadyExists), false},
		{fmt.Errorf("x: %w", cerrdefs.ErrPermissionDenied), false},
		{fmt.Errorf("x: %w", cerrdefs.ErrNotImplemented), false},
		{fmt.Errorf("x: %w", cerrdefs.ErrConflict), false},
	} {
		if got := transient(tt.err); got != tt.transient {
			t.Errorf("transient(%v) = %v", tt.err, got)
		}
	}
}

// TestApplyHooks: a service changes only once its hooks succeeded, each awaited once; one whose
// hook failed is held back, as is one created after it, while the rest of the plan runs, and
// Apply then fails naming the hook and what it held back.
func TestApplyHooks(t *testing.T) {
	withHooks := func(a planner.Action, hooks ...string) planner.Action {
		a.Service.Hooks = hooks
		return a
	}
	after := func(a planner.Action, deps ...string) planner.Action {
		a.Service.DependsOn = deps
		return a
	}
	tests := []struct {
		name   string
		failed map[string]error
		writes []string
		err    string
	}{
		{"hooks succeed", nil,
			[]string{"ServiceCreate migrate", "ServiceCreate seed", "ServiceCreate app", "ServiceCreate web", "ServiceCreate cache", "ServiceCreate gw"}, ""},
		{"a hook fails", map[string]error{"migrate": errors.New("failed: task 0 failed: task: non-zero exit (1)")},
			[]string{"ServiceCreate migrate", "ServiceCreate seed", "ServiceCreate cache", "ServiceCreate gw"},
			"hook migrate did not succeed, so app, web kept as it was: failed: task 0 failed: task: non-zero exit (1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFakeEngine()
			plan := &planner.Plan{Actions: []planner.Action{
				createService("migrate"),
				createService("seed"),
				withHooks(createService("app"), "migrate", "seed"),
				after(withHooks(createService("web"), "migrate"), "app"),
				createService("cache"),
				after(createService("gw"), "cache"),
			}}
			awaited := map[string]int{}
			await := func(_ context.Context, job string) error {
				awaited[job]++
				return tt.failed[job]
			}
			err := Apply(context.Background(), e, plan, &swarmstate.Snapshot{}, Options{Instance: "i", AwaitHook: await})
			if got := fmt.Sprint(err); tt.err == "" && err != nil || tt.err != "" && got != tt.err {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
			if !slices.Equal(e.writes, tt.writes) {
				t.Errorf("writes %v, want %v", e.writes, tt.writes)
			}
			if awaited["migrate"] != 1 || tt.failed == nil && awaited["seed"] != 1 {
				t.Errorf("awaited %v, want each hook once", awaited)
			}
		})
	}
}
