package swarmstate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

// fakeReader answers lists from fixed objects and counts its calls.
type fakeReader struct {
	nodes    []swarm.Node
	networks []network.Summary
	secrets  []swarm.Secret
	configs  []swarm.Config
	services []swarm.Service
	tasks    []swarm.Task
	// fail names the call that fails.
	fail string

	mu    sync.Mutex
	calls map[string]int
}

func (f *fakeReader) call(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name]++
	if f.fail == name {
		return errors.New("engine unavailable")
	}
	return nil
}

func (f *fakeReader) NodeList(context.Context, swarm.NodeListOptions) ([]swarm.Node, error) {
	return f.nodes, f.call("NodeList")
}

func (f *fakeReader) NetworkList(_ context.Context, opts network.ListOptions) ([]network.Summary, error) {
	if got := opts.Filters.Get("scope"); !slices.Equal(got, []string{"swarm"}) {
		return nil, fmt.Errorf("networks listed with scope %v, want swarm", got)
	}
	return f.networks, f.call("NetworkList")
}

func (f *fakeReader) SecretList(context.Context, swarm.SecretListOptions) ([]swarm.Secret, error) {
	return f.secrets, f.call("SecretList")
}

func (f *fakeReader) ConfigList(context.Context, swarm.ConfigListOptions) ([]swarm.Config, error) {
	return slices.Clone(f.configs), f.call("ConfigList")
}

func (f *fakeReader) ServiceList(context.Context, swarm.ServiceListOptions) ([]swarm.Service, error) {
	return f.services, f.call("ServiceList")
}

func (f *fakeReader) NetworkInspect(_ context.Context, id string, _ network.InspectOptions) (network.Inspect, error) {
	return network.Inspect{ID: "host-id", Name: id, Scope: "swarm"}, f.call("NetworkInspect")
}

func (f *fakeReader) TaskList(context.Context, swarm.TaskListOptions) ([]swarm.Task, error) {
	return f.tasks, f.call("TaskList")
}

// labels are the labels of an object of instance ("" for none), with role if given.
func labels(instance, role string) map[string]string {
	l := map[string]string{}
	if instance != "" {
		l[inventory.LabelManagedBy] = inventory.ManagedByValue
		l[inventory.LabelInstance] = instance
	}
	if role != "" {
		l[inventory.LabelRole] = role
	}
	return l
}

func secret(name string, l map[string]string) swarm.Secret {
	return swarm.Secret{ID: name, Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: l}}}
}

func config(name string, l map[string]string) swarm.Config {
	return swarm.Config{ID: name, Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name, Labels: l}, Data: []byte("data of " + name)}}
}

// world is a swarm with n of each of this instance's objects, and others' beside them.
func world(n int) *fakeReader {
	f := &fakeReader{
		nodes:    []swarm.Node{{ID: "n1"}},
		networks: []network.Summary{{ID: "net1", Name: "gw_net"}},
		services: []swarm.Service{{ID: "s1"}},
		tasks:    []swarm.Task{{ID: "t1"}},
	}
	f.secrets = append(f.secrets, secret("user-token", nil), secret("other-instance", labels("other", "")))
	f.configs = append(f.configs, config("user-conf", nil), config("other-applied", labels("other", "")),
		config("other-lease", labels("other", inventory.RoleLease)), config("lease", labels("i", inventory.RoleLease)))
	for i := range n {
		f.secrets = append(f.secrets, secret(fmt.Sprint("gw-conf-", i), labels("i", "")))
		f.configs = append(f.configs, config(fmt.Sprint("applied-", i), labels("i", inventory.RoleApplied)),
			config(fmt.Sprint("chain-", i), labels("i", inventory.RoleCertificate)))
	}
	return f
}

func secretNames(s []swarm.Secret) []string {
	var names []string
	for _, x := range s {
		names = append(names, x.Spec.Name)
	}
	return names
}

func configNames(c []swarm.Config) []string {
	var names []string
	for _, x := range c {
		names = append(names, x.Spec.Name)
	}
	return names
}

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		opts  Options
		calls map[string]int
	}{
		{"one of each", 1, Options{},
			map[string]int{"NodeList": 1, "NetworkList": 1, "SecretList": 1, "ConfigList": 1, "ServiceList": 1}},
		{"a thousand of each: as many calls", 1000, Options{},
			map[string]int{"NodeList": 1, "NetworkList": 1, "SecretList": 1, "ConfigList": 1, "ServiceList": 1}},
		{"with tasks", 1000, Options{Tasks: true},
			map[string]int{"NodeList": 1, "NetworkList": 1, "SecretList": 1, "ConfigList": 1, "ServiceList": 1, "TaskList": 1}},
		{"with the host network", 1000, Options{HostNetwork: true},
			map[string]int{"NodeList": 1, "NetworkList": 1, "SecretList": 1, "ConfigList": 1, "ServiceList": 1, "NetworkInspect": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := world(tt.n)
			s, err := Read(context.Background(), f, "i", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(f.calls) != fmt.Sprint(tt.calls) {
				t.Errorf("calls %v, want %v", f.calls, tt.calls)
			}
			if len(s.Secrets) != tt.n || slices.ContainsFunc(s.Secrets, func(x swarm.Secret) bool { return !strings.HasPrefix(x.Spec.Name, "gw-conf-") }) {
				t.Errorf("Secrets (the instance's) are %d: %v", len(s.Secrets), secretNames(s.Secrets)[:min(len(s.Secrets), 3)])
			}
			if got := secretNames(s.UserSecrets); !slices.Equal(got, []string{"user-token", "other-instance"}) {
				t.Errorf("UserSecrets %v: every secret not this instance's, another instance's too", got)
			}
			if len(s.Applied) != tt.n || slices.ContainsFunc(s.Applied, func(c swarm.Config) bool { return !strings.HasPrefix(c.Spec.Name, "applied-") }) {
				t.Errorf("Applied: %d, not all the instance's store", len(s.Applied))
			}
			if len(s.Certificates) != tt.n || slices.ContainsFunc(s.Certificates, func(c swarm.Config) bool { return !strings.HasPrefix(c.Spec.Name, "chain-") }) {
				t.Errorf("Certificates: %d, not all the instance's chains", len(s.Certificates))
			}
			if len(s.Applied) > 0 && len(s.Applied[0].Spec.Data) == 0 || len(s.Certificates) > 0 && len(s.Certificates[0].Spec.Data) == 0 {
				t.Error("the instance's configs are read without their data")
			}
			if s.Lease == nil || s.Lease.Spec.Name != "lease" {
				t.Errorf("Lease %v, want this instance's", s.Lease)
			}
			if got := configNames(s.UserConfigs); !slices.Equal(got, []string{"user-conf", "other-applied", "other-lease"}) {
				t.Errorf("UserConfigs %v: every config not this instance's", got)
			}
			for _, c := range s.UserConfigs {
				if c.Spec.Data != nil {
					t.Errorf("user config %s kept its data; only its name is needed", c.Spec.Name)
				}
			}
			if len(s.Nodes) != 1 || len(s.Services) != 1 {
				t.Errorf("%d nodes, %d services, want 1 each", len(s.Nodes), len(s.Services))
			}
			if (len(s.Tasks) > 0) != tt.opts.Tasks {
				t.Errorf("%d tasks read with Tasks %v", len(s.Tasks), tt.opts.Tasks)
			}
			host := slices.ContainsFunc(s.Networks, func(n network.Summary) bool { return n.Name == "host" })
			if host != tt.opts.HostNetwork || !slices.ContainsFunc(s.Networks, func(n network.Summary) bool { return n.Name == "gw_net" }) {
				t.Errorf("networks %v with HostNetwork %v", s.Networks, tt.opts.HostNetwork)
			}
		})
	}
}

func TestReadFails(t *testing.T) {
	for call, want := range map[string]string{
		"NodeList": "listing nodes", "NetworkList": "listing networks", "SecretList": "listing secrets",
		"ConfigList": "listing configs", "ServiceList": "listing services", "TaskList": "listing tasks",
		"NetworkInspect": "inspecting the host network",
	} {
		t.Run(call, func(t *testing.T) {
			f := world(1)
			f.fail = call
			s, err := Read(context.Background(), f, "i", Options{Tasks: true, HostNetwork: true})
			if err == nil || !strings.HasPrefix(err.Error(), want+": ") || s != nil {
				t.Errorf("Read = %v, %v; want no snapshot and an error saying %q", s, err, want)
			}
		})
	}
}

func TestAddHostNetwork(t *testing.T) {
	for _, tt := range []struct {
		name    string
		read    Options
		inspect int // NetworkInspect calls made by AddHostNetwork
	}{
		{"read without it: inspected", Options{}, 1},
		{"read with it: not inspected again", Options{HostNetwork: true}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := world(1)
			s, err := Read(context.Background(), f, "i", tt.read)
			if err != nil {
				t.Fatal(err)
			}
			before := f.calls["NetworkInspect"]
			if err := s.AddHostNetwork(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			if got := f.calls["NetworkInspect"] - before; got != tt.inspect {
				t.Errorf("%d inspections, want %d", got, tt.inspect)
			}
			hosts := 0
			for _, n := range s.Networks {
				if n.Name == "host" {
					hosts++
				}
			}
			if hosts != 1 {
				t.Errorf("%d host networks, want 1", hosts)
			}
		})
	}
}

func TestOwned(t *testing.T) {
	for _, tt := range []struct {
		name   string
		labels map[string]string
		owned  bool
	}{
		{"this instance's", labels("i", ""), true},
		{"another instance's", labels("j", ""), false},
		{"no labels", nil, false},
		{"the instance label without managed-by", map[string]string{inventory.LabelInstance: "i"}, false},
		{"managed-by another tool", map[string]string{inventory.LabelManagedBy: "compose", inventory.LabelInstance: "i"}, false},
	} {
		if got := Owned(tt.labels, "i"); got != tt.owned {
			t.Errorf("%s: Owned = %v", tt.name, got)
		}
	}
}

func TestNodeAddr(t *testing.T) {
	for _, tt := range []struct {
		name, status, manager, want string
	}{
		{"the status address", "10.0.0.2", "", "10.0.0.2"},
		{"a manager reporting 0.0.0.0: its manager address", "0.0.0.0", "10.0.0.1:2377", "10.0.0.1"},
		{"0.0.0.0 and no manager address", "0.0.0.0", "", "invalid IP"},
		{"an IPv4-mapped address, unmapped", "::ffff:10.0.0.3", "", "10.0.0.3"},
		{"no address", "", "", "invalid IP"},
	} {
		n := swarm.Node{Status: swarm.NodeStatus{Addr: tt.status}}
		if tt.manager != "" {
			n.ManagerStatus = &swarm.ManagerStatus{Addr: tt.manager}
		}
		if got := NodeAddr(n).String(); got != tt.want {
			t.Errorf("%s: NodeAddr = %s, want %s", tt.name, got, tt.want)
		}
	}
}
