package planner

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// Project flattens the fields of a service spec that swarmgate sets into field paths and values,
// so a desired and an actual spec compare field by field. It compares what swarmgate asked for,
// not what swarm rewrote: the image without the digest swarm pins, networks by name (netNames maps
// the IDs swarm stores; nil when the spec already names them), secrets by name.
func Project(spec swarm.ServiceSpec, netNames map[string]string) map[string]string {
	f := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	for k, v := range spec.Labels {
		if k != inventory.LabelRevision { // a record of the last write, not part of the spec
			f["labels."+k] = v
		}
	}
	t := spec.TaskTemplate
	if c := t.ContainerSpec; c != nil {
		image, _, _ := strings.Cut(c.Image, "@")
		set("image", image)
		set("command", quoteList(c.Command))
		set("args", quoteList(c.Args))
		for _, kv := range c.Env {
			name, value, _ := strings.Cut(kv, "=")
			f[envPrefix+name] = value // compared here; Diff masks it when it may be a credential
		}
		set("hostname", c.Hostname)
		caps := slices.Clone(c.CapabilityAdd)
		slices.Sort(caps)
		set("capabilities.add", strings.Join(caps, ", "))
		set("stopGracePeriod", durationPtr(c.StopGracePeriod))
		set("stopSignal", c.StopSignal)
		sysctls := make([]string, 0, len(c.Sysctls))
		for k, v := range c.Sysctls {
			sysctls = append(sysctls, k+"="+v)
		}
		slices.Sort(sysctls)
		set("sysctls", strings.Join(sysctls, ", "))
		var secrets, configs []string
		for _, s := range c.Secrets {
			secrets = append(secrets, mountedFile(s.SecretName, s.File))
		}
		for _, r := range c.Configs {
			var f *swarm.SecretReferenceFileTarget
			if r.File != nil {
				t := swarm.SecretReferenceFileTarget(*r.File) // the same fields
				f = &t
			}
			configs = append(configs, mountedFile(r.ConfigName, f))
		}
		slices.Sort(secrets)
		slices.Sort(configs)
		set("secrets", strings.Join(secrets, "; "))
		set("configs", strings.Join(configs, "; "))
		var mounts []string
		for _, m := range c.Mounts {
			s := fmt.Sprintf("%s %s:%s", m.Type, m.Source, m.Target)
			if m.ReadOnly {
				s += " ro"
			}
			if m.TmpfsOptions != nil && m.TmpfsOptions.SizeBytes > 0 {
				s += " size=" + strconv.FormatInt(m.TmpfsOptions.SizeBytes, 10)
			}
			mounts = append(mounts, s)
		}
		slices.Sort(mounts)
		set("mounts", strings.Join(mounts, ", "))
		if h := c.Healthcheck; h != nil {
			set("healthcheck.test", quoteList(h.Test))
			set("healthcheck.interval", nonZeroDuration(h.Interval.String()))
			set("healthcheck.timeout", nonZeroDuration(h.Timeout.String()))
			set("healthcheck.startPeriod", nonZeroDuration(h.StartPeriod.String()))
			set("healthcheck.retries", nonZero(int64(h.Retries)))
		}
	}
	if t.Placement != nil {
		constraints := slices.Clone(t.Placement.Constraints)
		slices.Sort(constraints)
		set("placement.constraints", strings.Join(constraints, ", "))
		var spread []string // in order: the first preference spreads first
		for _, pref := range t.Placement.Preferences {
			if pref.Spread != nil {
				spread = append(spread, pref.Spread.SpreadDescriptor)
			}
		}
		set("placement.preferences", strings.Join(spread, ", "))
		set("placement.maxReplicasPerNode", nonZero(int64(t.Placement.MaxReplicas)))
	}
	var networks []string
	for _, n := range t.Networks {
		name := n.Target
		if netNames != nil && netNames[name] != "" {
			name = netNames[name]
		}
		networks = append(networks, name)
	}
	slices.Sort(networks)
	set("networks", strings.Join(networks, ", "))
	if r := t.RestartPolicy; r != nil {
		set("restart.condition", string(r.Condition))
		set("restart.delay", durationPtr(r.Delay))
		set("restart.window", durationPtr(r.Window))
		if r.MaxAttempts != nil && *r.MaxAttempts != 0 {
			// Swarm stores 0 for "no bound" when none is given; both mean unbounded.
			set("restart.maxAttempts", strconv.FormatUint(*r.MaxAttempts, 10))
		}
	}
	if r := t.Resources; r != nil {
		if r.Limits != nil {
			set("resources.limits.nanoCPUs", nonZero(r.Limits.NanoCPUs))
			set("resources.limits.memoryBytes", nonZero(r.Limits.MemoryBytes))
		}
		if r.Reservations != nil {
			set("resources.reservations.nanoCPUs", nonZero(r.Reservations.NanoCPUs))
			set("resources.reservations.memoryBytes", nonZero(r.Reservations.MemoryBytes))
		}
	}
	switch {
	case spec.Mode.Global != nil:
		set("mode", "global")
	case spec.Mode.Replicated != nil && spec.Mode.Replicated.Replicas != nil:
		set("mode", "replicated")
		set("replicas", strconv.FormatUint(*spec.Mode.Replicated.Replicas, 10))
	case spec.Mode.GlobalJob != nil:
		set("mode", "global-job")
	case spec.Mode.ReplicatedJob != nil:
		set("mode", "replicated-job")
		if j := spec.Mode.ReplicatedJob; j.TotalCompletions != nil {
			set("replicas", strconv.FormatUint(*j.TotalCompletions, 10))
		}
		if j := spec.Mode.ReplicatedJob; j.MaxConcurrent != nil {
			set("maxConcurrent", strconv.FormatUint(*j.MaxConcurrent, 10))
		}
	}
	projectUpdate(set, "update", spec.UpdateConfig)
	projectUpdate(set, "rollback", spec.RollbackConfig)
	if e := spec.EndpointSpec; e != nil {
		set("endpoint.mode", string(e.Mode))
		var ports []string
		for _, p := range e.Ports {
			ports = append(ports, fmt.Sprintf("%d:%d/%s %s", p.PublishedPort, p.TargetPort, p.Protocol, p.PublishMode))
		}
		slices.Sort(ports)
		set("endpoint.ports", strings.Join(ports, ", "))
	}
	return f
}

func projectUpdate(set func(k, v string), prefix string, u *swarm.UpdateConfig) {
	if u == nil {
		return
	}
	set(prefix+".parallelism", strconv.FormatUint(u.Parallelism, 10))
	set(prefix+".delay", nonZeroDuration(u.Delay.String()))
	set(prefix+".failureAction", u.FailureAction)
	set(prefix+".monitor", nonZeroDuration(u.Monitor.String()))
	set(prefix+".order", u.Order)
}

// Diff lists the fields whose values differ between a desired and an actual projection. Labels
// are compared only for the keys swarmgate sets: a label someone adds by hand is not swarmgate's.
func Diff(want, got map[string]string) []Change {
	var changes []Change
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			changes = append(changes, Change{Field: k, Old: got[k], New: want[k]})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "labels.") {
			changes = append(changes, Change{Field: k, Old: got[k]})
		}
	}
	for i, c := range changes {
		name, ok := strings.CutPrefix(c.Field, envPrefix)
		if !ok {
			continue
		}
		if v1alpha1.SecretLike(name, c.Old) {
			changes[i].Old = maskEnv(c.Old)
		}
		if v1alpha1.SecretLike(name, c.New) {
			changes[i].New = maskEnv(c.New)
			if c.Old != "" && c.New != "" {
				changes[i].New = "(another value)"
			}
		}
	}
	return changes
}

// envPrefix keys an environment variable's value in a projection. A value that may be a
// credential (v1alpha1.SecretLike): a diff or an alert says that it was added, changed or
// removed, never what it is, nor anything (such as a hash) a short value could be guessed back
// from.
const envPrefix = "env."

// maskEnv replaces an environment value in a change.
func maskEnv(v string) string {
	if v == "" {
		return ""
	}
	return "(a value)"
}

func quoteList(items []string) string {
	if len(items) == 0 {
		return ""
	}
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func nonZero(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func nonZeroDuration(s string) string {
	if s == "0s" {
		return ""
	}
	return s
}

func durationPtr(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return nonZeroDuration(d.String())
}

// mountedFile describes a secret or config a service mounts: its name and, when it has a file
// target, where and how.
func mountedFile(name string, f *swarm.SecretReferenceFileTarget) string {
	if f == nil {
		return name
	}
	// "at", not "->": a diff reads "->" as "changed to".
	return fmt.Sprintf("%s at %s uid=%s gid=%s mode=%o", name, f.Name, f.UID, f.GID, f.Mode)
}
