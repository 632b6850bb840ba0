package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// racingStore is a config store where another holder acts between this one's read of the lease
// and its write: before, if set, runs once before the next create or update.
type racingStore struct {
	*configStore
	before func()
}

func (r *racingStore) interleave() {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
}

func (r *racingStore) ConfigCreate(ctx context.Context, spec swarm.ConfigSpec) (swarm.ConfigCreateResponse, error) {
	r.interleave()
	return r.configStore.ConfigCreate(ctx, spec)
}

func (r *racingStore) ConfigUpdate(ctx context.Context, id string, v swarm.Version, spec swarm.ConfigSpec) error {
	r.interleave()
	return r.configStore.ConfigUpdate(ctx, id, v, spec)
}

func racingHolder(s *racingStore, id string, c *clock) *Holder {
	h := NewHolder(s, "e2e", Timing{Duration: 6 * time.Second, Renew: 2 * time.Second})
	h.id, h.now = id, c.now
	return h
}

// leaseHolder is who the one lease config names, "" when there is none.
func (s *configStore) leaseHolder(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.configs) > 1 {
		t.Fatalf("%d lease configs", len(s.configs))
	}
	for _, c := range s.configs {
		return c.Spec.Labels[inventory.LabelLeaseHolder]
	}
	return ""
}

// TestTakeoverRace: two standbys that both find the lease expired both write it; the version
// makes the second write fail (compare-and-set), so one holds it and the other may not write.
func TestTakeoverRace(t *testing.T) {
	ctx := context.Background()
	store := &racingStore{configStore: newConfigStore()}
	c := &clock{t: time.Unix(1000, 0)}
	old, a, b := racingHolder(store, "old", c), racingHolder(store, "a", c), racingHolder(store, "b", c)
	if err := old.TryAcquire(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*Holder{a, b} {
		if err := h.TryAcquire(ctx); !errors.Is(err, ErrHeld) {
			t.Fatalf("%s while old holds it: %v, want ErrHeld", h.id, err)
		}
	}
	c.advance(6 * time.Second) // old fell silent
	var bErr error
	store.before = func() { bErr = b.TryAcquire(ctx) } // b reads and writes between a's read and write
	aErr := a.TryAcquire(ctx)
	if bErr != nil {
		t.Fatalf("b, first to write: %v", bErr)
	}
	if aErr == nil || errors.Is(aErr, ErrHeld) {
		t.Fatalf("a wrote with the version it read before b's write: %v", aErr)
	}
	if got := store.leaseHolder(t); got != "b" {
		t.Errorf("lease held by %q, want b", got)
	}
	if a.Writable() || !b.Writable() {
		t.Errorf("writable: a %v, b %v; want only b", a.Writable(), b.Writable())
	}
	if err := a.TryAcquire(ctx); !errors.Is(err, ErrHeld) {
		t.Errorf("a's next try: %v, want ErrHeld", err)
	}
}

// TestFirstTakeRace: two holders that both find no lease both create it; the name is unique, so
// the second fails and may not write.
func TestFirstTakeRace(t *testing.T) {
	ctx := context.Background()
	store := &racingStore{configStore: newConfigStore()}
	c := &clock{t: time.Unix(1000, 0)}
	a, b := racingHolder(store, "a", c), racingHolder(store, "b", c)
	var bErr error
	store.before = func() { bErr = b.TryAcquire(ctx) }
	aErr := a.TryAcquire(ctx)
	if bErr != nil || aErr == nil {
		t.Fatalf("a: %v, b: %v; want b to take the lease and a to fail", aErr, bErr)
	}
	if got := store.leaseHolder(t); got != "b" || a.Writable() || !b.Writable() {
		t.Errorf("lease held by %q, writable a %v b %v; want b alone", got, a.Writable(), b.Writable())
	}
}

// TestRenewal: a holder renews its own lease in place (a new version, not a new config), which
// keeps it writable past the first lease's end.
func TestRenewal(t *testing.T) {
	ctx := context.Background()
	store := newConfigStore()
	c := &clock{t: time.Unix(1000, 0)}
	h := holder(store, "a", c)
	if err := h.TryAcquire(ctx); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		c.advance(2 * time.Second)
		if err := h.TryAcquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !h.Writable() || store.leaseHolder(t) != "a" {
		t.Errorf("after 10 s of renewals: writable %v, holder %q", h.Writable(), store.leaseHolder(t))
	}
	c.advance(6 * time.Second)
	if h.Writable() {
		t.Error("writable a whole lease after its last renewal")
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name   string
		holder string // of the lease before; none when ""
		after  string // the lease's holder after a releases
	}{
		{name: "its own lease: removed", holder: "a"},
		{name: "another's lease: kept", holder: "b", after: "b"},
		{name: "no lease: nothing to do"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := newConfigStore()
			c := &clock{t: time.Unix(1000, 0)}
			a := holder(store, "a", c)
			if tt.holder != "" {
				if err := holder(store, tt.holder, c).TryAcquire(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if got := store.leaseHolder(t); got != tt.after {
				t.Errorf("holder after release %q, want %q", got, tt.after)
			}
			if a.Writable() {
				t.Error("writable after releasing")
			}
			// A released lease is taken at once.
			if tt.after == "" {
				if err := holder(store, "b", c).TryAcquire(ctx); err != nil {
					t.Errorf("taking a released lease: %v", err)
				}
			}
		})
	}
}

// TestHeld: what the CLI sees, by the swarm's clock against its own: never less than 30 s, so a
// CLI whose clock runs seconds ahead does not take a short lease for expired.
func TestHeld(t *testing.T) {
	now := time.Now()
	lease := func(age time.Duration, duration string) *swarm.Config {
		labels := map[string]string{inventory.LabelLeaseHolder: "h"}
		if duration != "" {
			labels[inventory.LabelLeaseDuration] = duration
		}
		return &swarm.Config{Meta: swarm.Meta{UpdatedAt: now.Add(-age)}, Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Labels: labels}}}
	}
	tests := []struct {
		name   string
		config *swarm.Config
		held   bool
	}{
		{"no config", nil, false},
		{"renewed now", lease(0, "6s"), true},
		{"renewed a 6 s lease 20 s ago (a clock 14 s ahead)", lease(20*time.Second, "6s"), true},
		{"renewed a 6 s lease 30 s ago", lease(30*time.Second, "6s"), false},
		{"renewed a 60 s lease 59 s ago", lease(59*time.Second, "60s"), true},
		{"renewed a 60 s lease 60 s ago", lease(60*time.Second, "60s"), false},
		{"no duration recorded: 30 s", lease(29*time.Second, ""), true},
		{"no duration recorded, 30 s ago", lease(30*time.Second, ""), false},
		{"an unreadable duration: 30 s", lease(29*time.Second, "soon"), true},
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

// TestFloor: each renewal swarm stores raises the least version a later read of the lease may
// show; a read showing less (or no lease) is older than the renewal.
func TestFloor(t *testing.T) {
	ctx := context.Background()
	store := newConfigStore()
	c := &clock{t: time.Unix(1000, 0)}
	h := holder(store, "a", c)
	if h.Floor() != 0 {
		t.Fatalf("floor %d before the lease is taken, want 0", h.Floor())
	}
	before, _ := h.current(ctx)
	for i := range 3 {
		if err := h.TryAcquire(ctx); err != nil {
			t.Fatal(err)
		}
		c.advance(2 * time.Second)
		now, _ := h.current(ctx)
		switch {
		case !Fresh(h.Floor(), now):
			t.Errorf("renewal %d: the lease as stored (version %d) is not fresh at floor %d", i, now.Version.Index, h.Floor())
		case Fresh(h.Floor(), before):
			t.Errorf("renewal %d: the lease read before it (%v) is fresh at floor %d", i, before, h.Floor())
		}
		before = now
	}
	if !Fresh(0, nil) {
		t.Error("without a floor every read is fresh")
	}
}
