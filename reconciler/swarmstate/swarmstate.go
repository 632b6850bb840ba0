// Package swarmstate reads the swarm as it is: every node, network and service, swarmgate's own
// secrets, and the tasks of services. A read costs a fixed number of list calls, however many
// objects there are.
package swarmstate

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"golang.org/x/sync/errgroup"

	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// Reader is the part of the Docker client a read needs.
type Reader interface {
	NodeList(ctx context.Context, options swarm.NodeListOptions) ([]swarm.Node, error)
	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
	SecretList(ctx context.Context, options swarm.SecretListOptions) ([]swarm.Secret, error)
	ConfigList(ctx context.Context, options swarm.ConfigListOptions) ([]swarm.Config, error)
	ServiceList(ctx context.Context, options swarm.ServiceListOptions) ([]swarm.Service, error)
	NetworkInspect(ctx context.Context, networkID string, options network.InspectOptions) (network.Inspect, error)
	TaskList(ctx context.Context, options swarm.TaskListOptions) ([]swarm.Task, error)
}

// Snapshot is the swarm at one moment.
type Snapshot struct {
	Nodes []swarm.Node
	// Networks are all networks: swarmgate's and others, whose names it must not take.
	Networks []network.Summary
	// Secrets are the secrets of this instance only.
	Secrets []swarm.Secret
	// UserSecrets are the other secrets: those the manifests name (gateway agent tokens)
	// swarmgate mounts and never changes. The agents' token secrets an operator made are among
	// them: a pass mounts them, the operator alone writes them.
	UserSecrets []swarm.Secret
	// AgentTokens are this instance's agents' token secrets (inventory.RoleAgentToken).
	AgentTokens []swarm.Secret
	// Services are all services: swarmgate's, and the existing ones routes send traffic to.
	Services []swarm.Service
	// Tasks are the tasks of this instance's services, when asked for.
	Tasks []swarm.Task
	// Applied are this instance's store of applied manifest objects: one swarm config each.
	Applied []swarm.Config
	// Lease is the config of the lease a running operator holds on this instance, if any.
	Lease *swarm.Config
	// UserConfigs are the other configs: those Route services mount, which swarmgate never changes.
	UserConfigs []swarm.Config
	// Certificates are this instance's certificate chains obtained with ACME, with their data.
	Certificates []swarm.Config
	// SourceConfigs are this instance's configs made from the files of Configs, without data.
	SourceConfigs []swarm.Config
}

// Options say what a read needs beyond nodes, networks, secrets and services.
type Options struct {
	// Tasks reads the tasks of services too (for status).
	Tasks bool
	// HostNetwork adds the swarm's "host" network, which services of the host's network stack
	// attach to and which the list of swarm networks leaves out.
	HostNetwork bool
}

// Read reads the swarm: five list calls (six with tasks), one round trip.
func Read(ctx context.Context, r Reader, instance string, opts Options) (*Snapshot, error) {
	// Secrets and configs are listed whole and split by owner: one call each serves both
	// swarmgate's and the user's (those services mount). The lists are independent: one round trip of latency instead of five or more. Each
	// goroutine writes its own field of s.
	var s Snapshot
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if s.Nodes, err = r.NodeList(ctx, swarm.NodeListOptions{}); err != nil {
			return fmt.Errorf("listing nodes: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if s.Networks, err = r.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("scope", "swarm"))}); err != nil {
			return fmt.Errorf("listing networks: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		// All of them (names and labels, never data): the user's are those gateways may mount.
		all, err := r.SecretList(ctx, swarm.SecretListOptions{})
		if err != nil {
			return fmt.Errorf("listing secrets: %w", err)
		}
		for _, sec := range all {
			switch {
			case Owned(sec.Spec.Labels, instance) && sec.Spec.Labels[inventory.LabelRole] == inventory.RoleAgentToken:
				s.AgentTokens = append(s.AgentTokens, sec)
				s.UserSecrets = append(s.UserSecrets, sec)
			case Owned(sec.Spec.Labels, instance):
				s.Secrets = append(s.Secrets, sec)
			default:
				s.UserSecrets = append(s.UserSecrets, sec)
			}
		}
		return nil
	})
	g.Go(func() error {
		configs, err := r.ConfigList(ctx, swarm.ConfigListOptions{})
		if err != nil {
			return fmt.Errorf("listing configs: %w", err)
		}
		for _, c := range configs {
			switch {
			case !Owned(c.Spec.Labels, instance):
				c.Spec.Data = nil // only their names are needed
				s.UserConfigs = append(s.UserConfigs, c)
			case c.Spec.Labels[inventory.LabelRole] == inventory.RoleLease:
				s.Lease = &c
			case c.Spec.Labels[inventory.LabelRole] == inventory.RoleCertificate:
				s.Certificates = append(s.Certificates, c)
			case c.Spec.Labels[inventory.LabelRole] == inventory.RoleSourceFile:
				c.Spec.Data = nil // never read back
				s.SourceConfigs = append(s.SourceConfigs, c)
			default:
				s.Applied = append(s.Applied, c)
			}
		}
		return nil
	})
	g.Go(func() (err error) {
		if s.Services, err = r.ServiceList(ctx, swarm.ServiceListOptions{}); err != nil {
			return fmt.Errorf("listing services: %w", err)
		}
		return nil
	})
	if opts.Tasks {
		g.Go(func() (err error) {
			if s.Tasks, err = r.TaskList(ctx, swarm.TaskListOptions{}); err != nil {
				return fmt.Errorf("listing tasks: %w", err)
			}
			return nil
		})
	}
	var host network.Inspect
	if opts.HostNetwork {
		g.Go(func() (err error) {
			if host, err = r.NetworkInspect(ctx, "host", network.InspectOptions{Scope: "swarm"}); err != nil {
				return fmt.Errorf("inspecting the host network: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if opts.HostNetwork {
		s.Networks = append(s.Networks, host)
	}
	return &s, nil
}

// AddHostNetwork adds the "host" network to a snapshot read without it, for virtual IPs that
// only the store of applied objects named.
func (s *Snapshot) AddHostNetwork(ctx context.Context, r Reader) error {
	for _, n := range s.Networks {
		if n.Name == "host" {
			return nil
		}
	}
	host, err := r.NetworkInspect(ctx, "host", network.InspectOptions{Scope: "swarm"})
	if err != nil {
		return fmt.Errorf("inspecting the host network: %w", err)
	}
	s.Networks = append(s.Networks, host)
	return nil
}

// Owned reports whether an object's labels mark it as this instance's.
func Owned(labels map[string]string, instance string) bool {
	return labels[inventory.LabelManagedBy] == inventory.ManagedByValue && labels[inventory.LabelInstance] == instance
}

// NodeAddr is the address a node advertises to the swarm, which other nodes reach it on. Some
// engines report 0.0.0.0 for a manager; its manager address then tells.
func NodeAddr(n swarm.Node) netip.Addr {
	a, err := netip.ParseAddr(n.Status.Addr)
	if (err != nil || a.IsUnspecified()) && n.ManagerStatus != nil {
		if ap, perr := netip.ParseAddrPort(n.ManagerStatus.Addr); perr == nil {
			a, err = ap.Addr(), nil
		}
	}
	if err != nil || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a.Unmap()
}

// NetworkNames maps network IDs to names.
func (s *Snapshot) NetworkNames() map[string]string {
	m := make(map[string]string, len(s.Networks))
	for _, n := range s.Networks {
		m[n.ID] = n.Name
	}
	return m
}
