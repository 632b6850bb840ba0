package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

var probeClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// vipHolder returns the node whose gateway answers the health check through the virtual IP.
func (s *soak) vipHolder() (int, error) {
	resp, err := probeClient.Get("http://" + vipAddress + ":8080" + contract.HealthPath)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	var n int
	if _, err := fmt.Sscanf(resp.Header.Get(contract.NodeHeader), "node%d", &n); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("the virtual IP's health check: HTTP %d from %q", resp.StatusCode, resp.Header.Get(contract.NodeHeader))
	}
	return n, nil
}

// converged says what still differs from the source, or nil once the swarm serves it: an
// operator active, every object in sync and healthy, every gateway task on the desired config,
// nothing to create, change or delete (no drift, no orphan), and the address on its first node.
func (s *soak) converged(ctx context.Context) error {
	doc, err := s.ops.status()
	if err != nil {
		return err
	}
	for _, o := range doc.Objects {
		if o.Sync != v1alpha1.Synced || o.Health != v1alpha1.Healthy {
			return fmt.Errorf("%s/%s is %s and %s: %s %s", o.Kind, o.Name, o.Sync, o.Health, o.Reason, o.Message)
		}
		if o.Kind == v1alpha1.KindVirtualIP && (o.VirtualIP == nil || !slices.Equal(o.VirtualIP.Holders(), []string{"node1"})) {
			return fmt.Errorf("VirtualIP/%s is held by %v, want node1", o.Name, o.VirtualIP.Holders())
		}
	}
	manager, err := s.bed.manager(ctx)
	if err != nil {
		return err
	}
	if err := s.gatewayTasksServe(ctx, manager, doc.GatewayConfigs[gatewayName].Desired, doc.GatewayConfigs[gatewayName].Tasks); err != nil {
		return err
	}
	if err := oldTasksGone(ctx, manager); err != nil {
		return err
	}
	if err := s.noDiff(ctx, manager); err != nil {
		return err
	}
	holder, err := s.vipHolder()
	if err != nil {
		return err
	}
	if holder != 1 {
		return fmt.Errorf("node%d answers through the virtual IP, want node1", holder)
	}
	return nil
}

// gatewayTasksServe checks that the gateway runs a task on every node and that each serves the
// config the operator hands out.
func (s *soak) gatewayTasksServe(ctx context.Context, manager *client.Client, desired string, reports []status.AgentReport) error {
	tasks, err := manager.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", gatewayName), filters.Arg("desired-state", "running"))})
	if err != nil {
		return fmt.Errorf("listing the gateway's tasks: %w", err)
	}
	running := 0
	for _, t := range tasks {
		if t.Status.State != swarm.TaskStateRunning {
			continue
		}
		running++
		i := slices.IndexFunc(reports, func(r status.AgentReport) bool { return strings.HasSuffix(r.Task, "."+t.ID) })
		switch {
		case i < 0:
			return fmt.Errorf("gateway task %s has not reported", t.ID)
		case reports[i].Served != desired:
			return fmt.Errorf("gateway task %s serves %s, want %s", t.ID, reports[i].Served, desired)
		}
	}
	if running != len(s.bed.nodes) {
		return fmt.Errorf("%d gateway tasks run, want %d", running, len(s.bed.nodes))
	}
	return nil
}

// noDiff plans the source as the operator does (pruning, the agents' gateways on their bootstrap
// config): no action says nothing differs and nothing of the instance is left outside the source.
// (swarmgate diff plans as the CLI would apply: a gateway's newest config as a new secret.)
func (s *soak) noDiff(ctx context.Context, manager *client.Client) error {
	objs, err := reconciler.LoadManifests([]string{s.src.dir}, nil)
	if err != nil {
		return fmt.Errorf("loading the source: %w", err)
	}
	r := &reconciler.Reconciler{Engine: manager, Instance: instance}
	pass, err := r.Plan(ctx, reconciler.Input{Objects: objs, All: true}, planner.Options{Prune: true, KeepAgentConfigs: true}, false)
	if err != nil {
		return fmt.Errorf("planning the source: %w", err)
	}
	if actions := append(pass.Plan.Actions, pass.Plan.Orphans...); len(actions) > 0 {
		var what []string
		for _, a := range actions {
			what = append(what, a.String())
		}
		return fmt.Errorf("the swarm differs from the source: %s", strings.Join(what, ", "))
	}
	return nil
}

// oldTasksGone checks that no task of the instance that swarm shut down still runs: a node back
// from a fault stops its old replicas only once it hears from the managers again, and requests
// that nginx resolved to one of those fail (HTTP 503) until it is gone, which is still the
// fault's doing.
func oldTasksGone(ctx context.Context, manager *client.Client) error {
	services, err := manager.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", inventory.LabelInstance+"="+instance))})
	if err != nil {
		return fmt.Errorf("listing the instance's services: %w", err)
	}
	ours := map[string]bool{}
	for _, svc := range services {
		ours[svc.ID] = true
	}
	tasks, err := manager.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("desired-state", "shutdown"))})
	if err != nil {
		return fmt.Errorf("listing the tasks shut down: %w", err)
	}
	for _, t := range tasks {
		if ours[t.ServiceID] && t.Status.State == swarm.TaskStateRunning {
			return fmt.Errorf("task %s, shut down, still runs", t.ID)
		}
	}
	return nil
}
