package dashboard

import (
	"reflect"
	"testing"
	"time"
)

func TestBuild(t *testing.T) {
	v := Build(fixture(t))
	path := Path{Gateway: "web", Health: "Healthy", Addresses: []string{"192.0.2.10/24"}, Ports: []string{"8080/HTTP", "8443/HTTPS"},
		Tasks: []NodeTasks{{Node: "node1", Running: 1, Total: 1}, {Node: "node2", Running: 1, Total: 1}},
		Routes: []PathRoute{{Name: "app", Health: "Progressing", Services: []PathService{
			{Name: "app", Tasks: []NodeTasks{{Node: "node1", Running: 1, Total: 1}, {Node: "node2", Running: 0, Total: 1}}},
			{Name: "legacy", External: true},
		}}}}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"path", v.Paths, []Path{path}},
		{"certificates", v.Gateways[0].Listeners[1].Certificates, []Certificate{{Name: "app-cert", Expiry: "2026-12-14 (in 10 days)", Expiring: true}}},
		{"route", v.Routes[0].Object, Object{Name: "app", Sync: "OutOfSync", Health: "Progressing", Tasks: "1/2",
			Message: "service app: 1 of 2 tasks running; differs: service/app replicas"}},
		{"no traffic data", v.Routes[0].Traffic == nil, true},
		{"agents", v.Gateways[0].Agents, []AgentTask{{Task: "web.1", Serves: "web-config-2", State: "current", Current: true},
			{Task: "web.2", Serves: "web-config-1", State: "refuses the desired config: nginx: [emerg] unknown directive"}}},
		{"holder", v.VirtualIPs[0].Holders, []string{"node1"}},
		{"nodes", []string{v.Nodes[0].Manager, v.Nodes[1].Manager}, []string{"leader", ""}},
		{"an event names the fields, not their values", v.Events[0].Fields, []string{"replicas"}},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, tt.got, tt.want)
		}
	}
}

func TestBuildBeforeTheFirstPass(t *testing.T) {
	v := Build(Input{Now: now, Operator: Operator{LastError: "fetching the source failed"}})
	if len(v.Paths)+len(v.Gateways)+len(v.Routes)+len(v.Nodes) != 0 || v.Operator.LastError == "" {
		t.Errorf("view: %+v", v)
	}
}

func TestExpiry(t *testing.T) {
	for _, tt := range []struct {
		left     time.Duration
		want     string
		expiring bool
	}{
		{90 * 24 * time.Hour, "2027-03-04 (in 90 days)", false},
		{20 * 24 * time.Hour, "2026-12-24 (in 20 days)", true},
		{5 * time.Hour, "2026-12-04 (in 5 hours)", true},
		{-time.Hour, "2026-12-04 (expired)", true},
	} {
		got, expiring := expiry(now.Add(tt.left), now)
		if got != tt.want || expiring != tt.expiring {
			t.Errorf("%v left: %q %v, want %q %v", tt.left, got, expiring, tt.want, tt.expiring)
		}
	}
}
