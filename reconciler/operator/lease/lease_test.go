package lease

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// fakeEngine keeps configs as swarm does for a lease: names are unique, updates must pass the
// current version (compare-and-set), and the swarm dates each write.
type fakeEngine struct {
	configs map[string]*swarm.Config // by ID
	nextID  int
	// beforeUpdate, if set, runs once before the next update is applied: another holder acting
	// between this one's read and its write.
	beforeUpdate func()
}

func newFakeEngine() *fakeEngine { return &fakeEngine{configs: map[string]*swarm.Config{}} }

func (e *fakeEngine) ConfigList(_ context.Context, opts swarm.ConfigListOptions) ([]swarm.Config, error) {
	prefix := opts.Filters.Get("name")
	var out []swarm.Config
	for _, c := range e.configs {
		if len(prefix) == 0 || strings.HasPrefix(c.Spec.Name, prefix[0]) {
			out = append(out, *c)
		}
	}
	return out, nil
}

func (e *fakeEngine) ConfigCreate(_ context.Context, spec swarm.ConfigSpec) (swarm.ConfigCreateResponse, error) {
	for _, c := range e.configs {
		if c.Spec.Name == spec.Name {
			return swarm.ConfigCreateResponse{}, fmt.Errorf("config %s: %w", spec.Name, cerrdefs.ErrAlreadyExists)
		}
	}
	e.nextID++
	id := fmt.Sprint("c", e.nextID)
	now := time.Now()
	e.configs[id] = &swarm.Config{ID: id, Meta: swarm.Meta{Version: swarm.Version{Index: 1}, CreatedAt: now, UpdatedAt: now}, Spec: spec}
	return swarm.ConfigCreateResponse{ID: id}, nil
}

func (e *fakeEngine) ConfigUpdate(_ context.Context, id string, version swarm.Version, spec swarm.ConfigSpec) error {
	if f := e.beforeUpdate; f != nil {
		e.beforeUpdate = nil
		f()
	}
	c, ok := e.configs[id]
	if !ok {
		return fmt.Errorf("config %s: %w", id, cerrdefs.ErrNotFound)
	}
	if c.Version.Index != version.Index {
		return errors.New("update out of sequence")
	}
	c.Spec = spec
	c.Version.Index++
	c.UpdatedAt = time.Now()
	return nil
}

func (e *fakeEngine) ConfigRemove(_ context.Context, id string) error {
	if _, ok := e.configs[id]; !ok {
		return fmt.Errorf("config %s: %w", id, cerrdefs.ErrNotFound)
	}
	delete(e.configs, id)
	return nil
}

// lease is the one lease config, or nil.
func (e *fakeEngine) lease(t *testing.T) *swarm.Config {
	t.Helper()
	if len(e.configs) > 1 {
		t.Fatalf("%d lease configs", len(e.configs))
	}
	for _, c := range e.configs {
		return c
	}
	return nil
}

func holder(e Engine, id string) *Holder { return &Holder{engine: e, instance: "i", id: id} }

func TestTryAcquire(t *testing.T) {
	tests := []struct {
		name string
		// lease is the lease before a tries: its holder and how long ago it was renewed; no
		// lease when holder is "".
		holder string
		age    time.Duration
		// held says a is refused with ErrHeld; otherwise a holds the lease after.
		held bool
	}{
		{name: "no lease: taken"},
		{name: "its own fresh lease: renewed", holder: "a", age: TTL / 3},
		{name: "another's fresh lease: refused", holder: "b", age: TTL / 3, held: true},
		{name: "another's lease just before expiry: refused", holder: "b", age: TTL - time.Second, held: true},
		{name: "another's expired lease: taken", holder: "b", age: TTL},
		{name: "its own expired lease: renewed", holder: "a", age: 2 * TTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newFakeEngine()
			var before swarm.Version
			if tt.holder != "" {
				if err := holder(e, tt.holder).TryAcquire(ctx); err != nil {
					t.Fatal(err)
				}
				c := e.lease(t)
				c.UpdatedAt = time.Now().Add(-tt.age)
				before = c.Version
			}
			err := holder(e, "a").TryAcquire(ctx)
			c := e.lease(t)
			if tt.held {
				if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), tt.holder) {
					t.Fatalf("err = %v, want ErrHeld naming %s", err, tt.holder)
				}
				if c.Version != before || c.Spec.Labels[v1alpha1.LabelLeaseHolder] != tt.holder {
					t.Errorf("a refused holder wrote the lease: %+v", c.Spec.Labels)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := Held(c, time.Now()); got == nil || got.Holder != "a" {
				t.Errorf("after TryAcquire the lease is %+v, want fresh and held by a", got)
			}
			if tt.holder != "" && c.Version.Index != before.Index+1 {
				t.Errorf("version %d, want %d: an existing lease is updated in place", c.Version.Index, before.Index+1)
			}
			if !isLeaseOfI(c.Spec.Labels) {
				t.Errorf("the lease does not carry this instance's labels: %v", c.Spec.Labels)
			}
		})
	}
}

// isLeaseOfI reports whether labels mark the lease of instance "i".
func isLeaseOfI(labels map[string]string) bool {
	return labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue && labels[v1alpha1.LabelInstance] == "i" &&
		labels[v1alpha1.LabelRole] == v1alpha1.RoleLease
}

// Two holders that both read an expired lease, then both write it: the version makes the second
// write fail, so only one holds it.
func TestTryAcquireRace(t *testing.T) {
	ctx := context.Background()
	e := newFakeEngine()
	if err := holder(e, "old").TryAcquire(ctx); err != nil {
		t.Fatal(err)
	}
	e.lease(t).UpdatedAt = time.Now().Add(-TTL)
	a, b := holder(e, "a"), holder(e, "b")
	var bErr error
	e.beforeUpdate = func() { bErr = b.TryAcquire(ctx) } // b reads and writes between a's read and write
	aErr := a.TryAcquire(ctx)
	if bErr != nil {
		t.Fatalf("b, first to write: %v", bErr)
	}
	if aErr == nil {
		t.Fatal("a wrote over b's lease with the version it read before b's write")
	}
	if got := Held(e.lease(t), time.Now()); got == nil || got.Holder != "b" {
		t.Errorf("lease %+v, want held by b", got)
	}
	// a, trying again, sees b's fresh lease.
	if err := a.TryAcquire(ctx); !errors.Is(err, ErrHeld) {
		t.Errorf("a's next try: %v, want ErrHeld", err)
	}
}

// Two holders that both find no lease both create it: the name is unique, so one fails.
func TestTryAcquireCreateRace(t *testing.T) {
	ctx := context.Background()
	e := newFakeEngine()
	a, b := holder(e, "a"), holder(e, "b")
	if err := a.TryAcquire(ctx); err != nil {
		t.Fatal(err)
	}
	// b read no lease before a created it.
	_, err := e.ConfigCreate(ctx, b.spec(time.Now()))
	if !cerrdefs.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want already exists", err)
	}
	if got := Held(e.lease(t), time.Now()); got == nil || got.Holder != "a" {
		t.Errorf("lease %+v, want held by a", got)
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name   string
		holder string // of the lease before; none when ""
		gone   bool   // the lease is removed
	}{
		{name: "its own lease: removed", holder: "a", gone: true},
		{name: "another's lease: kept", holder: "b"},
		{name: "no lease: nothing to do"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newFakeEngine()
			if tt.holder != "" {
				if err := holder(e, tt.holder).TryAcquire(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := holder(e, "a").Release(ctx); err != nil {
				t.Fatal(err)
			}
			if gone := e.lease(t) == nil; gone != (tt.gone || tt.holder == "") {
				t.Errorf("lease gone = %v", gone)
			}
			// Once released, another holder takes it at once.
			if tt.gone {
				if err := holder(e, "b").TryAcquire(ctx); err != nil {
					t.Errorf("taking a released lease: %v", err)
				}
			}
		})
	}
}

func TestHeld(t *testing.T) {
	now := time.Now()
	lease := func(age time.Duration) *swarm.Config {
		return &swarm.Config{Meta: swarm.Meta{UpdatedAt: now.Add(-age)}, Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{
			Labels: map[string]string{v1alpha1.LabelLeaseHolder: "h"}}}}
	}
	tests := []struct {
		name   string
		config *swarm.Config
		held   bool
	}{
		{"no config", nil, false},
		{"renewed now", lease(0), true},
		{"renewed a TTL less a nanosecond ago", lease(TTL - 1), true},
		{"renewed a TTL ago", lease(TTL), false},
		{"renewed long ago", lease(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Held(tt.config, now)
			if (got != nil) != tt.held {
				t.Fatalf("Held = %+v, want held %v", got, tt.held)
			}
			if got != nil && (got.Holder != "h" || !got.Renewed.Equal(tt.config.UpdatedAt)) {
				t.Errorf("Held = %+v", got)
			}
		})
	}
}
