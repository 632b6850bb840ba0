// Command soak runs swarmgate on the 3-node test bed (hack/bed.sh, 3 managers) for a while under a
// steady load through the virtual IP and a steady stream of source changes, with two operators on
// two managers' engines, and injects faults drawn from a seed: the active operator killed, a
// gateway task killed, keepalived killed on the address's holder, a node's dockerd stopped and
// started, the raft leader's dockerd restarted, a node's link cut and restored, the engine's API
// slowed down. After each fault heals it waits until the swarm serves the source again and checks
// that nothing is left over, that requests failed only inside a fault's window, and at the end
// that the operators' goroutines and memory stayed flat. It prints a table per fault class and
// writes the fault log (the seed replays the schedule); it exits non-zero on the first miss.
// hack/soak.sh builds and runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

const (
	// agentListen is where the agents on the bed reach the operators: the host's address on the
	// bed's network.
	agentListen = "10.99.0.254:19300"
	// convergeLimit bounds the wait for the swarm to serve the source again after a fault.
	convergeLimit = 3 * time.Minute
	// changeEvery is the pace of source changes while a fault holds.
	changeEvery = 2 * time.Second
	// windowMargin widens a fault's window on both sides: a request in flight just before the
	// fault may fail with it, and one sent just as the swarm converged may still be on its way.
	windowMargin = time.Second
	// quiet is how long the load runs after each convergence before the next fault.
	quiet = 3 * time.Second
	// sampleEvery is the period of the operators' /metrics samples.
	sampleEvery = 2 * time.Second
)

type soak struct {
	bed  *bed
	ops  *operators
	src  *source
	load *load
	log  *json.Encoder
}

// outcome is one fault of the run, as the fault log records it.
type outcome struct {
	N        int           `json:"n"`
	Fault    fault         `json:"fault"`
	Injected time.Time     `json:"injected"`
	Healed   time.Time     `json:"healed"`
	Converge time.Duration `json:"converge"`
	Failed   int           `json:"failedRequests"`
	// Failures are the first of those, when and why.
	Failures []string `json:"failures,omitempty"`
	Changes  []string `json:"changes"`
	// WaitedFor is the last thing convergence waited for: what took it longest, mostly.
	WaitedFor string `json:"waitedFor,omitempty"`
	Error     string `json:"error,omitempty"`
}

func main() {
	minutes := flag.Float64("minutes", 3, "how long to inject faults")
	seed := flag.Uint64("seed", 0, "the seed of the fault schedule and of the source changes (default: the time); a seed replays its schedule")
	binary := flag.String("swarmgate", "", "the swarmgate binary")
	script := flag.String("bed", "hack/bed.sh", "the test bed's script")
	workDir := flag.String("work-dir", "", "where the source, the operators' logs and the fault log go (default: a new temporary directory)")
	rate := flag.Int("rate", 50, "requests per second through the virtual IP")
	flag.Parse()
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	var err error
	if *workDir == "" {
		*workDir, err = os.MkdirTemp("", "soak-")
	} else {
		err = os.MkdirAll(*workDir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = run(ctx, *binary, *script, *workDir, *seed, time.Duration(*minutes*float64(time.Minute)), *rate)
	fmt.Printf("seed %d; fault log, source and operator logs in %s\n", *seed, *workDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}

func run(ctx context.Context, binary, script, workDir string, seed uint64, length time.Duration, rate int) error {
	if binary == "" {
		return errors.New("--swarmgate: the binary is required")
	}
	b := &bed{script: script}
	for n := range b.nodes {
		c, err := client.NewClientWithOpts(client.WithHost(fmt.Sprintf("unix:///run/sgbed/n%d/docker.sock", n+1)), client.WithAPIVersionNegotiation())
		if err != nil {
			return err
		}
		defer c.Close()
		b.nodes[n] = c
	}
	manager := b.node(1)
	if err := removeInstance(ctx, manager); err != nil {
		return err
	}
	defer func() { _ = removeInstance(context.Background(), manager) }()

	tokenFile := filepath.Join(workDir, "agent-token")
	if err := os.WriteFile(tokenFile, []byte("soak-t0ken\n"), 0o600); err != nil {
		return err
	}
	if _, err := manager.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: agentToken}, Data: []byte("soak-t0ken")}); err != nil && !cerrdefs.IsConflict(err) && !cerrdefs.IsAlreadyExists(err) {
		return fmt.Errorf("creating the agents' token secret: %w", err)
	}

	sourceDir := filepath.Join(workDir, "source")
	if err := os.MkdirAll(sourceDir, 0o755); err != nil {
		return err
	}
	src, err := newSource(sourceDir, "http://"+agentListen, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return err
	}
	ops := &operators{binary: binary, workDir: workDir, ports: [2]int{19301, 19302},
		args: []string{"--source", "dir:" + sourceDir, "--instance", instance, "--resync", "30s", "--vip-check", "500ms",
			"--lease-duration", "6s", "--lease-renew", "2s", "--agent-token-file", tokenFile}}
	// The operators reach the swarm through node1's and node2's engines, each through a proxy
	// that an engineSlowed fault slows down.
	for slot := range ops.engines {
		e, err := startSlowAPI(filepath.Join(workDir, fmt.Sprintf("engine-%d.sock", slot)), fmt.Sprintf("/run/sgbed/n%d/docker.sock", slot+1))
		if err != nil {
			return fmt.Errorf("the engine's proxy: %w", err)
		}
		defer e.Close()
		ops.engines[slot] = e
	}
	proxy, err := ops.agentProxy(agentListen)
	if err != nil {
		return fmt.Errorf("the agents' proxy: %w", err)
	}
	defer proxy.Close()
	defer ops.stop()
	logFile, err := os.Create(filepath.Join(workDir, "faults.jsonl"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	s := &soak{bed: b, ops: ops, src: src, log: json.NewEncoder(logFile)}
	_ = s.log.Encode(map[string]any{"seed": seed, "minutes": length.Minutes()})

	for i := range 2 {
		if _, err := src.change(); err != nil {
			return err
		}
		if err := ops.start(i); err != nil {
			return err
		}
		if err := ops.waitReady(ctx, 3*time.Minute); err != nil {
			return err
		}
	}
	start := time.Now()
	if _, err := s.waitConverged(ctx); err != nil {
		return fmt.Errorf("the instance never converged: %w", err)
	}
	fmt.Printf("up and converged in %s; soaking for %s (seed %d)\n", time.Since(start).Round(time.Second), length, seed)
	sampling, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go ops.sampleEvery(sampling, sampleEvery)
	s.load = startLoad(rate)
	defer s.load.finish()

	faults := &schedule{rng: rand.New(rand.NewPCG(seed, 2))}
	var results []outcome
	clean := time.Now() // failures after this and before the next fault's window are misses
	deadline := time.Now().Add(length)
	for n := 1; time.Now().Before(deadline); n++ {
		o, err := s.one(ctx, n, faults.draw(), clean)
		if err != nil {
			o.Error = err.Error()
		}
		_ = s.log.Encode(o)
		results = append(results, o)
		fmt.Printf("%3d %-40s converged in %6s, %d requests failed\n", n, o.Fault, o.Converge.Round(100*time.Millisecond), o.Failed)
		if err != nil {
			report(results)
			return fmt.Errorf("fault %d (%s): %w", n, o.Fault, err)
		}
		clean = o.Healed.Add(o.Converge + windowMargin)
		time.Sleep(quiet)
	}
	sent, outside := s.load.failedWithin(clean, time.Now())
	report(results)
	ops.mu.Lock()
	exits := ops.exits
	ops.mu.Unlock()
	fmt.Printf("%d requests sent through the virtual IP (%d/s); %d operators exited on their own (lost the lease) and were started again\n", sent, rate, exits)
	if len(outside) > 0 {
		return fmt.Errorf("%d requests failed after the last fault's window, first %s", len(outside), outside[0])
	}
	return flat(ops.series())
}

// one injects a fault, changes the source while it holds, heals it and waits until the swarm
// serves the source again; then it checks the requests that failed since the last window.
func (s *soak) one(ctx context.Context, n int, f fault, clean time.Time) (outcome, error) {
	o := outcome{N: n, Fault: f}
	change := func() error {
		what, err := s.src.change()
		o.Changes = append(o.Changes, what)
		return err
	}
	if err := change(); err != nil {
		return o, err
	}
	o.Injected = time.Now()
	heal, err := s.inject(ctx, &f)
	o.Fault = f
	if err != nil {
		return o, fmt.Errorf("injecting: %w", err)
	}
	for held := time.Duration(0); held < f.Hold || held == 0; held += changeEvery {
		time.Sleep(min(changeEvery, max(f.Hold-held, changeEvery/2)))
		if err := change(); err != nil {
			return o, err
		}
	}
	if err := heal(); err != nil {
		return o, fmt.Errorf("healing: %w", err)
	}
	o.Healed = time.Now()
	if err := change(); err != nil {
		return o, err
	}
	o.WaitedFor, err = s.waitConverged(ctx)
	o.Converge = time.Since(o.Healed)
	if err != nil {
		return o, err
	}
	windowFrom, windowTo := o.Injected.Add(-windowMargin), time.Now().Add(windowMargin)
	if _, outside := s.load.failedWithin(clean, windowFrom); len(outside) > 0 {
		return o, fmt.Errorf("%d requests failed outside a fault's window, first %s", len(outside), outside[0])
	}
	_, inside := s.load.failedDuring(windowFrom, windowTo)
	o.Failed = len(inside)
	for _, f := range inside[:min(len(inside), 5)] {
		o.Failures = append(o.Failures, f.String())
	}
	return o, nil
}

// waitConverged polls converged until it says nil, and returns what it waited for last, or that
// as an error after the limit.
func (s *soak) waitConverged(ctx context.Context) (waitedFor string, err error) {
	deadline := time.Now().Add(convergeLimit)
	for {
		err := s.converged(ctx)
		if err == nil {
			return waitedFor, nil
		}
		waitedFor = err.Error()
		if time.Now().After(deadline) {
			return waitedFor, fmt.Errorf("not converged %s after the fault healed: %w", convergeLimit, err)
		}
		select {
		case <-ctx.Done():
			return waitedFor, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// report prints per fault class how many faults, the requests that failed in their windows, and
// the time from heal to convergence.
func report(results []outcome) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "fault class\tfaults\tfailed requests\tconverge median\tconverge max\t")
	for _, class := range faultClasses {
		var took []time.Duration
		failed := 0
		for _, o := range results {
			if o.Fault.Class == class && o.Error == "" {
				took = append(took, o.Converge)
				failed += o.Failed
			}
		}
		if len(took) == 0 {
			continue
		}
		slices.Sort(took)
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t\n", class, len(took), failed,
			took[len(took)/2].Round(100*time.Millisecond), took[len(took)-1].Round(100*time.Millisecond))
	}
	w.Flush()
}

// removeInstance removes whatever the instance left on the bed (an earlier run stopped midway),
// and the agents' token secret.
func removeInstance(ctx context.Context, c *client.Client) error {
	f := filters.NewArgs(filters.Arg("label", inventory.LabelInstance+"="+instance))
	services, err := c.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("listing the instance's services: %w", err)
	}
	for _, svc := range services {
		_ = c.ServiceRemove(ctx, svc.ID)
	}
	// Secrets and networks stay in use until the services' tasks are gone.
	retry := func(remove func() error) {
		for range 60 {
			if err := remove(); err == nil || cerrdefs.IsNotFound(err) {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	secrets, _ := c.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	for _, sec := range secrets {
		retry(func() error { return c.SecretRemove(ctx, sec.ID) })
	}
	retry(func() error { return c.SecretRemove(ctx, agentToken) })
	configs, _ := c.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	for _, cfg := range configs {
		retry(func() error { return c.ConfigRemove(ctx, cfg.ID) })
	}
	networks, _ := c.NetworkList(ctx, network.ListOptions{Filters: f})
	for _, n := range networks {
		retry(func() error { return c.NetworkRemove(ctx, n.ID) })
	}
	return nil
}
