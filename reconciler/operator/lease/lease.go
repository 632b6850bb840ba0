// Package lease lets one writer at a time converge an instance: a running operator holds a lease
// on the swarm (a swarm config whose labels it renews), and the CLI refuses to write while the
// lease is fresh, instead of fighting the operator. A second operator of the same instance waits
// until the lease is free (a standby) and takes it when its holder stops (released at once) or
// dies (after the lease's duration). Updates pass the config's version, so two operators cannot
// both take it.
//
// Operators compare no clock with another's. A standby measures a holder's silence on its own
// monotonic clock, from the moment it saw the lease's latest version; the holder counts its time
// to write from the moment it sent the renewal that swarm then stored. The renewal was stored
// after it was sent and seen after it was stored, so the holder stops writing before any standby
// may start, whatever the nodes' wall clocks say (only clocks running at different rates matter,
// by parts per million).
package lease

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// Timing is how long a lease lasts without a renewal, and how often its holder renews it.
type Timing struct {
	Duration time.Duration
	Renew    time.Duration
}

// DefaultTiming hands the instance to a standby within about 6 s of its holder's death (plus a
// standby poll), at the cost of one small config update every 2 s.
func DefaultTiming() Timing { return Timing{Duration: 6 * time.Second, Renew: 2 * time.Second} }

// Check says what is wrong with t: a renewal must fit twice in a lease, so that one failed
// renewal does not stop the holder.
func (t Timing) Check() error {
	switch {
	case t.Duration < 2*time.Second:
		return fmt.Errorf("the lease duration must be at least 2s")
	case t.Renew <= 0 || 2*t.Renew > t.Duration:
		return fmt.Errorf("the lease must be renewed at least twice within its duration")
	}
	return nil
}

// legacyDuration is the duration of a lease recorded without one (by an operator from before the
// duration was settable).
const legacyDuration = 30 * time.Second

// duration is how long a lease config says its lease lasts.
func duration(c *swarm.Config) time.Duration {
	if d, err := time.ParseDuration(c.Spec.Labels[inventory.LabelLeaseDuration]); err == nil && d > 0 {
		return d
	}
	return legacyDuration
}

// Engine is the part of the Docker client a lease needs.
type Engine interface {
	ConfigList(ctx context.Context, options swarm.ConfigListOptions) ([]swarm.Config, error)
	ConfigCreate(ctx context.Context, config swarm.ConfigSpec) (swarm.ConfigCreateResponse, error)
	ConfigUpdate(ctx context.Context, id string, version swarm.Version, config swarm.ConfigSpec) error
	ConfigRemove(ctx context.Context, id string) error
}

// Lease is who holds an instance, and since when it was last renewed.
type Lease struct {
	Holder  string
	Renewed time.Time
}

// cliFloor is the least time the CLI takes a lease to be held after its last renewal. The CLI
// asks once, comparing the swarm's clock (the config's UpdatedAt) with its own, which may be
// off by seconds (a laptop); a short lease must not look expired because of that.
const cliFloor = 30 * time.Second

// Held returns the lease a config records when it may still be held at now, or nil: renewed
// within its duration, and never less than cliFloor, by the swarm's clock against the caller's.
// The CLI asks it once, to refuse writing while an operator runs the instance. (Operators do not
// compare clocks: see TryAcquire.)
func Held(c *swarm.Config, now time.Time) *Lease {
	if c == nil {
		return nil
	}
	renewed := c.UpdatedAt
	if now.Sub(renewed) >= max(duration(c), cliFloor) {
		return nil
	}
	return &Lease{Holder: c.Spec.Labels[inventory.LabelLeaseHolder], Renewed: renewed}
}

// ErrHeld is returned while another holder has the lease.
var ErrHeld = errors.New("the lease is held by another operator")

// ErrNotHeld is what a fenced write fails with: this holder's lease has lapsed (its renewals
// failed) or was given up.
var ErrNotHeld error = notHeld{}

// notHeld is a refusal (errdefs' Forbidden), so that a writer gives the action up at once
// instead of retrying it while the lease is elsewhere.
type notHeld struct{}

func (notHeld) Error() string { return "the lease is not held: writes wait until it is renewed" }
func (notHeld) Forbidden()    {}

// Holder takes, renews and releases the lease of one instance, and says whether it may write.
type Holder struct {
	engine   Engine
	instance string
	id       string
	timing   Timing
	// now reads this process's clock (with its monotonic reading); tests move it.
	now func() time.Time

	mu sync.Mutex
	// seenVersion is the lease config's version last read and seenAt when this process first saw
	// it (its monotonic clock): another holder's lease expires its duration after that.
	seenVersion uint64
	seenAt      time.Time
	// writableUntil is when this holder must stop writing: its lease's duration after the last
	// renewal it sent that swarm stored, less a quarter for a write in flight.
	writableUntil time.Time
	// floor is the least version of the lease config that a read after this holder's last stored
	// renewal can show (see Fresh).
	floor uint64
}

// NewHolder returns a holder named after this host and process.
func NewHolder(e Engine, instance string, t Timing) *Holder {
	host, _ := os.Hostname()
	return &Holder{engine: e, instance: instance, id: fmt.Sprintf("%s/%d", host, os.Getpid()), timing: t, now: time.Now}
}

// ID is the holder's name, as the lease records it.
func (h *Holder) ID() string { return h.id }

// Timing is the holder's lease duration and renewal period.
func (h *Holder) Timing() Timing { return h.timing }

// Writable reports whether this holder holds a lease that no standby may have taken.
func (h *Holder) Writable() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now().Before(h.writableUntil)
}

// stored records that swarm stored a renewal sent at sent, which made the lease config's version
// at least floor.
func (h *Holder) stored(sent time.Time, floor uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.writableUntil = sent.Add(h.timing.Duration - h.timing.Duration/4)
	h.floor = max(h.floor, floor)
}

// Floor is the least version of the lease config that a read of the swarm made from now on can
// show: swarm stored this holder's last renewal at a later index of its raft log than the version
// that renewal replaced. 0 before any renewal.
func (h *Holder) Floor() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.floor
}

// Fresh reports whether a read of the swarm that began after Floor returned floor is as new as
// this holder's last renewal, given the lease config it showed (nil: none). A manager that is
// catching up its raft log (restarted through an election) can answer from a store minutes old,
// which would plan objects long removed back and tasks long gone away.
func Fresh(floor uint64, lease *swarm.Config) bool {
	return floor == 0 || lease != nil && lease.Version.Index >= floor
}

// Fence wraps the transport of an engine client so that its writes (every method but GET and
// HEAD) fail with ErrNotHeld unless the holder is writable: a holder that lost its lease (paused,
// cut off, its renewals failing) writes nothing more, also in the middle of a pass. The check is
// made as each request leaves, and Writable keeps a quarter of the lease as margin for a request
// on its way. The holder's own engine must not be fenced.
func (h *Holder) Fence(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !h.Writable() {
			return nil, ErrNotHeld
		}
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (h *Holder) name() string { return "swarmgate-lease-" + h.instance }

func (h *Holder) spec(now time.Time) swarm.ConfigSpec {
	return swarm.ConfigSpec{
		Annotations: swarm.Annotations{Name: h.name(), Labels: map[string]string{
			inventory.LabelManagedBy:     inventory.ManagedByValue,
			inventory.LabelInstance:      h.instance,
			inventory.LabelRole:          inventory.RoleLease,
			inventory.LabelLeaseHolder:   h.id,
			inventory.LabelLeaseRenewed:  now.UTC().Format(time.RFC3339Nano),
			inventory.LabelLeaseDuration: h.timing.Duration.String(),
		}},
		Data: []byte("held by a swarmgate operator; see its labels\n"),
	}
}

func (h *Holder) current(ctx context.Context) (*swarm.Config, error) {
	configs, err := h.engine.ConfigList(ctx, swarm.ConfigListOptions{Filters: filters.NewArgs(filters.Arg("name", h.name()))})
	if err != nil {
		return nil, fmt.Errorf("reading the lease: %w", err)
	}
	for _, c := range configs {
		if c.Spec.Name == h.name() { // the name filter matches by prefix
			return &c, nil
		}
	}
	return nil, nil
}

// TryAcquire takes the lease, or renews it when this holder has it. It returns ErrHeld (wrapped,
// naming the holder) while another holder's lease is fresh: renewed, as far as this holder has
// seen, less than that lease's duration ago.
func (h *Holder) TryAcquire(ctx context.Context) error {
	sent := h.now()
	c, err := h.current(ctx)
	if err != nil {
		return err
	}
	if c == nil {
		if _, err := h.engine.ConfigCreate(ctx, h.spec(sent)); err != nil {
			return fmt.Errorf("taking the lease: %w", err)
		}
		h.stored(sent, 1)
		return nil
	}
	h.mu.Lock()
	if c.Version.Index != h.seenVersion || h.seenAt.IsZero() {
		h.seenVersion, h.seenAt = c.Version.Index, sent
	}
	silent := sent.Sub(h.seenAt)
	h.mu.Unlock()
	if holder := c.Spec.Labels[inventory.LabelLeaseHolder]; holder != h.id && silent < duration(c) {
		return fmt.Errorf("%w (%s, silent for %s)", ErrHeld, holder, silent.Round(time.Second))
	}
	// Ours, or expired: the version makes a race with another taker fail for one of them.
	if err := h.engine.ConfigUpdate(ctx, c.ID, c.Version, h.spec(sent)); err != nil {
		return fmt.Errorf("renewing the lease: %w", err)
	}
	h.stored(sent, c.Version.Index+1)
	return nil
}

// Release gives the lease up, if this holder has it, so the CLI may write at once. The holder
// writes nothing after.
func (h *Holder) Release(ctx context.Context) error {
	h.mu.Lock()
	h.writableUntil = time.Time{}
	h.mu.Unlock()
	c, err := h.current(ctx)
	if err != nil || c == nil || c.Spec.Labels[inventory.LabelLeaseHolder] != h.id {
		return err
	}
	return h.engine.ConfigRemove(ctx, c.ID)
}
