package desired

import (
	"strings"
	"time"

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
	if m == v1alpha1.ServiceModeGlobal {
		return swarm.ServiceMode{Global: &swarm.GlobalService{}}
	}
	n := uint64(*replicas)
	return swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
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
