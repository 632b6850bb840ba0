package desired

import (
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// CanonicalImage is the image reference swarm stores: an untagged image gets ":latest", as the
// Docker client adds it. Comparing canonical references keeps a second apply from seeing a change.
func CanonicalImage(ref string) string {
	if strings.Contains(ref, "@") {
		return ref
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	if strings.Contains(last, ":") {
		return ref
	}
	return ref + ":latest"
}

func placement(zone string) *swarm.Placement {
	if zone == "" {
		return nil
	}
	return &swarm.Placement{Constraints: []string{"node.labels." + v1alpha1.ZoneLabel + "==" + zone}}
}

func attachments(networks []string) []swarm.NetworkAttachmentConfig {
	out := make([]swarm.NetworkAttachmentConfig, len(networks))
	for i, n := range networks {
		out[i] = swarm.NetworkAttachmentConfig{Target: n}
	}
	return out
}

func mode(m v1alpha1.ServiceMode, replicas *int32) swarm.ServiceMode {
	switch m {
	case v1alpha1.ServiceModeGlobal:
		return swarm.ServiceMode{Global: &swarm.GlobalService{}}
	case v1alpha1.ServiceModeGlobalJob:
		return swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}
	}
	n := uint64(*replicas)
	if m == v1alpha1.ServiceModeReplicatedJob {
		// All the tasks that must complete run at once.
		return swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: &n, TotalCompletions: &n}}
	}
	return swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
}

// durationOrNil parses an optional validated duration.
func durationOrNil(d *v1alpha1.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := duration(*d)
	return &v
}

// duration parses a validated duration; empty is zero.
func duration(d v1alpha1.Duration) time.Duration {
	v, _ := time.ParseDuration(string(d))
	return v
}

func updateConfig(p *v1alpha1.UpdatePolicy) *swarm.UpdateConfig {
	if p == nil {
		return nil
	}
	return &swarm.UpdateConfig{
		Parallelism:   uint64(*p.Parallelism),
		Delay:         duration(p.Delay),
		FailureAction: string(p.FailureAction),
		Monitor:       duration(p.Monitor),
		Order:         string(p.Order),
	}
}

func restartPolicy(p *v1alpha1.RestartPolicy) *swarm.RestartPolicy {
	if p == nil {
		return nil
	}
	rp := &swarm.RestartPolicy{Condition: swarm.RestartPolicyCondition(p.Condition)}
	if p.Delay != "" {
		d := duration(p.Delay)
		rp.Delay = &d
	}
	if p.Window != "" {
		w := duration(p.Window)
		rp.Window = &w
	}
	if p.MaxAttempts != nil {
		n := uint64(*p.MaxAttempts)
		rp.MaxAttempts = &n
	}
	return rp
}

func resources(r *v1alpha1.Resources) *swarm.ResourceRequirements {
	if r == nil {
		return nil
	}
	out := &swarm.ResourceRequirements{}
	if r.Limits != nil {
		out.Limits = &swarm.Limit{NanoCPUs: nanoCPUs(r.Limits.CPUs), MemoryBytes: memoryBytes(r.Limits.Memory)}
	}
	if r.Reservations != nil {
		out.Reservations = &swarm.Resources{NanoCPUs: nanoCPUs(r.Reservations.CPUs), MemoryBytes: memoryBytes(r.Reservations.Memory)}
	}
	return out
}

// nanoCPUs converts a validated CPU count to billionths; empty is 0 (no bound).
func nanoCPUs(s string) int64 {
	n, _ := v1alpha1.ParseCPUs(s)
	return n
}

// memoryBytes converts a validated byte size to bytes; empty is 0 (no bound).
func memoryBytes(s string) int64 {
	n, _ := v1alpha1.ParseMemory(s)
	return n
}

// servicePlacement is a Route service's placement: its zone's constraint, then its own
// constraints and preferences.
func servicePlacement(zone string, p *v1alpha1.Placement) *swarm.Placement {
	out := placement(zone)
	if p == nil {
		return out
	}
	if out == nil {
		out = &swarm.Placement{}
	}
	out.Constraints = append(out.Constraints, p.Constraints...)
	for _, pref := range p.Preferences {
		out.Preferences = append(out.Preferences, swarm.PlacementPreference{Spread: &swarm.SpreadOver{SpreadDescriptor: pref.Spread}})
	}
	if p.MaxReplicasPerNode != nil {
		out.MaxReplicas = uint64(*p.MaxReplicasPerNode)
	}
	return out
}

// mounts are a service's mounts as swarm takes them.
func mounts(ms []v1alpha1.Mount) []mount.Mount {
	var out []mount.Mount
	for _, m := range ms {
		mt := mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		if m.Type == v1alpha1.MountTmpfs && m.Size != "" {
			mt.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: memoryBytes(m.Size)}
		}
		out = append(out, mt)
	}
	return out
}

// healthcheck is a service's health check as docker takes it.
func healthcheck(h *v1alpha1.Healthcheck) *container.HealthConfig {
	if h == nil {
		return nil
	}
	out := &container.HealthConfig{Test: h.Test}
	for _, d := range []struct {
		from *v1alpha1.Duration
		to   *time.Duration
	}{{h.Interval, &out.Interval}, {h.Timeout, &out.Timeout}, {h.StartPeriod, &out.StartPeriod}} {
		if d.from != nil {
			*d.to = duration(*d.from)
		}
	}
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	return out
}
