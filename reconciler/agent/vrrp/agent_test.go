package vrrp

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAgent runs the agent with a stand-in for keepalived: it tracks a gateway into the track file,
// reports whether the node holds the address, and stops its keepalived when told to stop.
func TestAgent(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer gateway.Close()

	track := filepath.Join(t.TempDir(), "run", "gateway")
	listen := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	a := NewAgent(AgentConfig{Node: "node1", Address: netip.MustParsePrefix("127.0.0.1/8"), Interface: "lo", Listen: listen,
		TrackURL: gateway.URL + "/health", TrackFile: track, TrackInterval: 20 * time.Millisecond, Keepalived: []string{"sleep", "60"}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { done <- a.Run(ctx) }()

	fileSays := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ := os.ReadFile(track)
			if strings.TrimSpace(string(b)) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("track file holds %q, want %q", b, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	fileSays("0")

	targets := []status.Target{{Node: "node1", Status: netip.MustParseAddrPort(listen)}, {Node: "node2", Status: netip.MustParseAddrPort(freePort(t))}}
	client := &http.Client{Timeout: time.Second}
	obs := status.Observe(context.Background(), client, targets, netip.Addr{}, 0)
	if r := obs.Nodes[0].Report; r == nil || !r.Holds || !r.InterfaceFound || r.GatewayHealthy == nil || !*r.GatewayHealthy {
		t.Errorf("node1 reports %+v (%s)", r, obs.Nodes[0].Error)
	}
	if obs.Nodes[1].Report != nil || obs.Nodes[1].Error == "" {
		t.Errorf("node2, which has no agent, reports %+v", obs.Nodes[1])
	}
	if h := obs.Holders(); len(h) != 1 || h[0] != "node1" {
		t.Errorf("holders %v", h)
	}

	healthy.Store(false)
	fileSays("1")
	healthy.Store(true)
	fileSays("0")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop its keepalived")
	}
}

// TestAgentKeepalivedExits: a keepalived that dies ends the agent with an error, so swarm restarts
// the task.
func TestAgentKeepalivedExits(t *testing.T) {
	a := NewAgent(AgentConfig{Node: "node1", Address: netip.MustParsePrefix("10.255.0.1/32"), Interface: "lo", Listen: freePort(t),
		Keepalived: []string{"false"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := a.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "keepalived exited") {
		t.Errorf("Run: %v", err)
	}
	if r := a.report(); r.Holds || !r.InterfaceFound {
		t.Errorf("report %+v: lo does not hold 10.255.0.1", r)
	}
}

// TestAgentWaitsForItsInterface: on a node without the interface the agent reports it and does
// not start keepalived (which would exit, over and over).
func TestAgentWaitsForItsInterface(t *testing.T) {
	listen := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	a := NewAgent(AgentConfig{Node: "node3", Address: netip.MustParsePrefix("10.255.0.1/32"), Interface: "sgnone0", Listen: listen,
		Keepalived: []string{"false"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { done <- a.Run(ctx) }()
	var obs status.Observation
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		obs = status.Observe(context.Background(), &http.Client{Timeout: time.Second}, []status.Target{{Node: "node3", Status: netip.MustParseAddrPort(listen)}}, netip.Addr{}, 0)
		if obs.Nodes[0].Report != nil {
			break
		}
	}
	if r := obs.Nodes[0].Report; r == nil || r.InterfaceFound || r.Interface != "sgnone0" {
		t.Errorf("report %+v (%s)", r, obs.Nodes[0].Error)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v (keepalived must not have started)", err)
	}
}

// TestCheckConnect: a TCP or TLS listener is tracked by connecting to it.
func TestCheckConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	defer l.Close()
	client := &http.Client{Timeout: time.Second}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{contract.TrackConnect + l.Addr().String(), true},
		{contract.TrackConnect + closedAddr, false},
	} {
		if got := check(context.Background(), client, tc.url); got != tc.want {
			t.Errorf("check(%s) = %v, want %v", tc.url, got, tc.want)
		}
	}
}
