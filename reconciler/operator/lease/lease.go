// Package lease lets one writer at a time converge an instance: a running operator holds a lease
// on the swarm (a swarm config whose labels it renews), and the CLI refuses to write while the
// lease is fresh, instead of fighting the operator. A second operator of the same instance waits
// until the lease is free (a standby). The swarm's own clock (the config's UpdatedAt) dates each
// renewal, and updates pass the config's version, so two operators cannot both take it.
package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// TTL is how long a lease that is not renewed stays held; an operator renews it every TTL/3.
const TTL = 30 * time.Second

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

// Held returns the lease a config records when it is still fresh at now, or nil.
func Held(c *swarm.Config, now time.Time) *Lease {
	if c == nil {
		return nil
	}
	renewed := c.UpdatedAt
	if now.Sub(renewed) >= TTL {
		return nil
	}
	return &Lease{Holder: c.Spec.Labels[v1alpha1.LabelLeaseHolder], Renewed: renewed}
}

// ErrHeld is returned while another holder has the lease.
var ErrHeld = errors.New("the lease is held by another operator")

// Holder takes, renews and releases the lease of one instance.
type Holder struct {
	engine   Engine
	instance string
	id       string
}

// NewHolder returns a holder named after this host and process.
func NewHolder(e Engine, instance string) *Holder {
	host, _ := os.Hostname()
	return &Holder{engine: e, instance: instance, id: fmt.Sprintf("%s/%d", host, os.Getpid())}
}

// ID is the holder's name, as the lease records it.
func (h *Holder) ID() string { return h.id }

func (h *Holder) name() string { return "swarmgate-lease-" + h.instance }

func (h *Holder) spec(now time.Time) swarm.ConfigSpec {
	return swarm.ConfigSpec{
		Annotations: swarm.Annotations{Name: h.name(), Labels: map[string]string{
			v1alpha1.LabelManagedBy:    v1alpha1.ManagedByValue,
			v1alpha1.LabelInstance:     h.instance,
			v1alpha1.LabelRole:         v1alpha1.RoleLease,
			v1alpha1.LabelLeaseHolder:  h.id,
			v1alpha1.LabelLeaseRenewed: now.UTC().Format(time.RFC3339Nano),
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
// naming the holder) while another holder's lease is fresh.
func (h *Holder) TryAcquire(ctx context.Context) error {
	c, err := h.current(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if c == nil {
		if _, err := h.engine.ConfigCreate(ctx, h.spec(now)); err != nil {
			return fmt.Errorf("taking the lease: %w", err)
		}
		return nil
	}
	if held := Held(c, now); held != nil && held.Holder != h.id {
		return fmt.Errorf("%w (%s, renewed %s ago)", ErrHeld, held.Holder, now.Sub(held.Renewed).Round(time.Second))
	}
	// Ours, or expired: the version makes a race with another taker fail for one of them.
	if err := h.engine.ConfigUpdate(ctx, c.ID, c.Version, h.spec(now)); err != nil {
		return fmt.Errorf("renewing the lease: %w", err)
	}
	return nil
}

// Release gives the lease up, if this holder has it, so the CLI may write at once.
func (h *Holder) Release(ctx context.Context) error {
	c, err := h.current(ctx)
	if err != nil || c == nil || c.Spec.Labels[v1alpha1.LabelLeaseHolder] != h.id {
		return err
	}
	return h.engine.ConfigRemove(ctx, c.ID)
}
