package lease

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// configStore is the swarm's config store as a lease sees it: names unique, updates refused
// unless they carry the current version.
type configStore struct {
	mu      sync.Mutex
	configs map[string]*swarm.Config
	next    uint64
}

func newConfigStore() *configStore { return &configStore{configs: map[string]*swarm.Config{}} }

func (s *configStore) ConfigList(_ context.Context, _ swarm.ConfigListOptions) ([]swarm.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []swarm.Config
	for _, c := range s.configs {
		out = append(out, *c)
	}
	return out, nil
}

func (s *configStore) ConfigCreate(_ context.Context, spec swarm.ConfigSpec) (swarm.ConfigCreateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.configs {
		if c.Spec.Name == spec.Name {
			return swarm.ConfigCreateResponse{}, fmt.Errorf("config %s exists", spec.Name)
		}
	}
	s.next++
	id := fmt.Sprint(s.next)
	s.configs[id] = &swarm.Config{ID: id, Meta: swarm.Meta{Version: swarm.Version{Index: s.next}}, Spec: spec}
	return swarm.ConfigCreateResponse{ID: id}, nil
}

func (s *configStore) ConfigUpdate(_ context.Context, id string, v swarm.Version, spec swarm.ConfigSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.configs[id]
	switch {
	case !ok:
		return fmt.Errorf("no config %s", id)
	case c.Version != v:
		return fmt.Errorf("update out of sequence")
	}
	s.next++
	c.Version.Index, c.Spec = s.next, spec
	return nil
}

func (s *configStore) ConfigRemove(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.configs, id)
	return nil
}

// clock is a process's monotonic clock, moved by the test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func holder(s *configStore, id string, c *clock) *Holder {
	h := NewHolder(s, "e2e", Timing{Duration: 6 * time.Second, Renew: 2 * time.Second})
	h.id, h.now = id, c.now
	return h
}

// TestStandbyTakesOverAfterSilence: a standby takes the lease the lease's duration after it last
// saw a renewal, on its own clock, and the dead holder stops writing before that.
func TestStandbyTakesOverAfterSilence(t *testing.T) {
	ctx := context.Background()
	store := newConfigStore()
	// Each process has its own clock, far apart: wall clocks never meet.
	aClock, bClock := &clock{t: time.Unix(1000, 0)}, &clock{t: time.Unix(5000, 0)}
	a, b := holder(store, "a", aClock), holder(store, "b", bClock)
	if err := a.TryAcquire(ctx); err != nil {
		t.Fatal(err)
	}
	if !a.Writable() {
		t.Fatal("the holder may not write right after taking the lease")
	}
	step := func(d time.Duration) { aClock.advance(d); bClock.advance(d) }
	// a renews every 2 s; b, standing by, is refused each time.
	for range 5 {
		step(2 * time.Second)
		if err := a.TryAcquire(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.TryAcquire(ctx); !errors.Is(err, ErrHeld) {
			t.Fatalf("standby: %v, want ErrHeld", err)
		}
	}
	// a dies (or pauses). b takes over 6 s after it saw the last renewal, not before.
	var aStopped, bTook time.Duration
	for elapsed := time.Duration(0); bTook == 0; elapsed += 500 * time.Millisecond {
		step(500 * time.Millisecond)
		if aStopped == 0 && !a.Writable() {
			aStopped = elapsed
		}
		switch err := b.TryAcquire(ctx); {
		case err == nil:
			bTook = elapsed
		case !errors.Is(err, ErrHeld):
			t.Fatal(err)
		}
	}
	if aStopped == 0 || aStopped >= bTook {
		t.Errorf("the old holder could write until %s, the standby took over at %s", aStopped, bTook)
	}
	if bTook > 6*time.Second+time.Second {
		t.Errorf("the standby took over %s after the holder's last renewal", bTook)
	}
	// a resumes: it may not write, and its renewal finds the lease taken.
	if a.Writable() {
		t.Error("the old holder may write after the standby took over")
	}
	if err := a.TryAcquire(ctx); !errors.Is(err, ErrHeld) {
		t.Errorf("the old holder's renewal: %v, want ErrHeld", err)
	}
}

// TestLegacyLease: a lease recorded without a duration (an older operator's) lasts 30 s.
func TestLegacyLease(t *testing.T) {
	ctx := context.Background()
	store := newConfigStore()
	c := &clock{t: time.Unix(1000, 0)}
	old := holder(store, "old", c)
	if err := old.TryAcquire(ctx); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range store.configs {
		delete(cfg.Spec.Labels, "swarmgate.io/lease-duration")
	}
	standby := holder(store, "new", c)
	for _, wait := range []time.Duration{0, 29 * time.Second} {
		c.advance(wait)
		if err := standby.TryAcquire(ctx); !errors.Is(err, ErrHeld) {
			t.Fatalf("after %s: %v, want ErrHeld", wait, err)
		}
	}
	c.advance(time.Second)
	if err := standby.TryAcquire(ctx); err != nil {
		t.Fatalf("after 30s: %v", err)
	}
}

// TestFence: writes pass only while the holder may write; reads always.
func TestFence(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Unix(1000, 0)}
	h := holder(newConfigStore(), "a", c)
	reached := 0
	fenced := h.Fence(roundTripFunc(func(*http.Request) (*http.Response, error) {
		reached++
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}))
	send := func(method string) error {
		r, _ := http.NewRequestWithContext(ctx, method, "http://engine/v1.41/services/create", nil)
		_, err := fenced.RoundTrip(r)
		return err
	}
	tests := []struct {
		name   string
		before func()
		method string
		want   error
	}{
		{"before the lease is taken", func() {}, http.MethodPost, ErrNotHeld},
		{"reads pass", func() {}, http.MethodGet, nil},
		{"held", func() {
			if err := h.TryAcquire(ctx); err != nil {
				t.Fatal(err)
			}
		}, http.MethodPost, nil},
		{"within three quarters of the lease", func() { c.advance(4 * time.Second) }, http.MethodDelete, nil},
		{"past them, renewals failing", func() { c.advance(time.Second) }, http.MethodPost, ErrNotHeld},
		{"renewed", func() {
			if err := h.TryAcquire(ctx); err != nil {
				t.Fatal(err)
			}
		}, http.MethodPost, nil},
		{"released", func() {
			if err := h.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}, http.MethodPost, ErrNotHeld},
	}
	for _, tt := range tests {
		tt.before()
		before := reached
		if err := send(tt.method); !errors.Is(err, tt.want) {
			t.Errorf("%s: %s: %v, want %v", tt.name, tt.method, err, tt.want)
		}
		if passed := reached > before; passed != (tt.want == nil) {
			t.Errorf("%s: reached the engine: %v", tt.name, passed)
		}
	}
}

// TestFencedClientGivesUp: through the Docker client, a fenced write is a refusal (Forbidden),
// which the applier does not retry.
func TestFencedClientGivesUp(t *testing.T) {
	h := holder(newConfigStore(), "a", &clock{t: time.Unix(1000, 0)})
	engine, err := client.NewClientWithOpts(client.WithHost("tcp://engine.invalid:2375"), client.WithVersion("1.41"),
		client.WithHTTPClient(&http.Client{Transport: h.Fence(http.DefaultTransport)}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.ServiceCreate(context.Background(), swarm.ServiceSpec{}, swarm.ServiceCreateOptions{})
	if !errors.Is(err, ErrNotHeld) || !cerrdefs.IsPermissionDenied(err) {
		t.Errorf("fenced ServiceCreate: %v; want ErrNotHeld, a refusal", err)
	}
}

func TestTimingCheck(t *testing.T) {
	for _, tt := range []struct {
		timing Timing
		ok     bool
	}{
		{DefaultTiming(), true},
		{Timing{Duration: 30 * time.Second, Renew: 10 * time.Second}, true},
		{Timing{Duration: time.Second, Renew: 100 * time.Millisecond}, false},
		{Timing{Duration: 6 * time.Second, Renew: 4 * time.Second}, false},
		{Timing{Duration: 6 * time.Second}, false},
	} {
		if err := tt.timing.Check(); (err == nil) != tt.ok {
			t.Errorf("%+v: %v", tt.timing, err)
		}
	}
}
