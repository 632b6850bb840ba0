// Package vrrp is swarmgate's VRRP agent. It runs in each node's keepalived task, on the node's
// host network: it supervises keepalived, tells it whether the node's gateway answers (through the
// track file keepalived watches), and reports whether the node holds the virtual IP
// (contract.Report). The status package reads every node's report: the only way to see from
// outside that no node, or two nodes (split brain), hold the address.
package vrrp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// AgentConfig configures the agent.
type AgentConfig struct {
	Node      string
	Address   netip.Prefix
	Interface string
	// Listen is the address the status server listens on, e.g. ":9177".
	Listen string
	// TrackURL is the gateway's health check; empty tracks nothing.
	TrackURL string
	// TrackFile is where the gateway's health is written for keepalived: 0 healthy, 1 not.
	TrackFile string
	// TrackInterval is how often the health check runs. Two failures in a row mark the gateway
	// down; one success marks it up.
	TrackInterval time.Duration
	// Keepalived is the keepalived command line.
	Keepalived []string
}

// Agent is a running agent.
type Agent struct {
	cfg AgentConfig
	log *slog.Logger

	mu      sync.Mutex
	healthy *bool
}

// NewAgent makes an agent.
func NewAgent(cfg AgentConfig, log *slog.Logger) *Agent {
	if cfg.TrackInterval == 0 {
		cfg.TrackInterval = 100 * time.Millisecond
	}
	return &Agent{cfg: cfg, log: log}
}

// Run serves the status, tracks the gateway and runs keepalived until ctx ends (then keepalived
// gets SIGTERM, which makes it hand the address over at once) or keepalived exits (an error: the
// task ends and swarm restarts it).
func (a *Agent) Run(ctx context.Context) error {
	ln, err := listen(ctx, a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("status listener: %w", err)
	}
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second,
		WriteTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// keepalived refuses to start on an interface that does not exist, and its task would restart
	// forever with only keepalived's log to tell why. The agent says it plainly, keeps reporting
	// it, and starts keepalived once the interface appears.
	for logged := false; ; {
		if _, err := net.InterfaceByName(a.cfg.Interface); err == nil {
			break
		}
		if !logged {
			a.log.Error("the interface of the virtual IP does not exist on this node; keepalived cannot hold the address here",
				"interface", a.cfg.Interface, "node", a.cfg.Node, "reason", "InterfaceNotFound")
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.cfg.TrackURL != "" {
		if err := os.MkdirAll(filepath.Dir(a.cfg.TrackFile), 0o755); err != nil {
			return err
		}
		// keepalived reads the file when it starts: it must hold the gateway's state by then.
		a.track(ctx, &http.Client{Timeout: a.timeout()}, 2)
		go a.trackLoop(ctx)
	}

	cmd := exec.Command(a.cfg.Keepalived[0], a.cfg.Keepalived[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting keepalived: %w", err)
	}
	a.log.Info("keepalived started", "node", a.cfg.Node, "address", a.cfg.Address, "interface", a.cfg.Interface, "pid", cmd.Process.Pid)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return fmt.Errorf("keepalived exited: %w", errOrExit(err))
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			a.log.Info("keepalived stopped", "err", err)
		case <-time.After(8 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		return nil
	}
}

// listen opens the status port, retrying for a while: on the host's network the agent of the task
// this one replaces may still hold it for a moment.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) || !errors.Is(err, syscall.EADDRINUSE) {
			return ln, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func errOrExit(err error) error {
	if err == nil {
		return errors.New("exit status 0")
	}
	return err
}

// timeout bounds one health check: a gateway that does not answer within three intervals is
// counted as down.
func (a *Agent) timeout() time.Duration { return 3 * a.cfg.TrackInterval }

func (a *Agent) trackLoop(ctx context.Context) {
	client := &http.Client{Timeout: a.timeout(), Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(a.cfg.TrackInterval)
	defer tick.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		failures = a.track(ctx, client, failures)
	}
}

// track checks the gateway once and writes its state when it changes; it returns the number of
// failures in a row.
func (a *Agent) track(ctx context.Context, client *http.Client, failures int) int {
	ok := check(ctx, client, a.cfg.TrackURL)
	if ok {
		failures = 0
	} else {
		failures++
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var healthy bool
	switch {
	case ok:
		healthy = true
	case failures >= 2:
		healthy = false
	default:
		return failures // one failure is not yet a verdict
	}
	if a.healthy != nil && *a.healthy == healthy {
		return failures
	}
	a.healthy = &healthy
	value := "1\n"
	if healthy {
		value = "0\n"
	}
	if err := writeAtomic(a.cfg.TrackFile, value); err != nil {
		a.log.Error("writing the track file", "err", err)
	}
	a.log.Info("gateway health changed", "healthy", healthy, "node", a.cfg.Node)
	return failures
}

// check asks the gateway's health check at url, or, for a contract.TrackConnect URL, connects.
func check(ctx context.Context, client *http.Client, url string) bool {
	if addr, ok := strings.CutPrefix(url, contract.TrackConnect); ok {
		c, err := (&net.Dialer{Timeout: client.Timeout}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// writeAtomic replaces a file by renaming a new one over it, so keepalived never reads half a value.
func writeAtomic(path, value string) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(value), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+contract.StatusPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a.report())
	})
	return mux
}

func (a *Agent) report() contract.Report {
	r := contract.Report{Node: a.cfg.Node, Address: a.cfg.Address.String(), Interface: a.cfg.Interface}
	if iface, err := net.InterfaceByName(a.cfg.Interface); err == nil {
		r.InterfaceFound = true
		addrs, _ := iface.Addrs()
		for _, ad := range addrs {
			if ipn, ok := ad.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == a.cfg.Address.Addr() {
					r.Holds = true
				}
			}
		}
	}
	a.mu.Lock()
	if a.healthy != nil {
		h := *a.healthy
		r.GatewayHealthy = &h
	}
	a.mu.Unlock()
	return r
}
