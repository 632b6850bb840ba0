package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/operator"
)

// operators runs the two operator replicas of the instance as processes of this host, each in a
// slot with a port of its own and the engine of a manager of its own (node1's and node2's, each
// through a slowAPI proxy), as the deploy stack runs them on two managers; the agents reach the
// active one through a proxy, as through the stack's service address. A process that exits on
// its own (it lost the lease while its manager was away) is started again after the stack's
// restart delay, as swarm would.
type operators struct {
	binary, workDir string
	args            []string
	ports           [2]int
	engines         [2]*slowAPI

	mu    sync.Mutex
	procs [2]*operatorProc
	// all are the processes ever started, the killed ones too.
	all []*operatorProc
	// generation counts the processes started, so that each has a name of its own.
	generation int
	// exits counts the processes that exited on their own; stopping is set once the run ends.
	exits    int
	stopping bool
}

// restartDelay is the deploy stack's restart delay of the operator.
const restartDelay = 5 * time.Second

// operatorProc is one operator process and the figures read from its /metrics.
type operatorProc struct {
	name    string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	samples []metricsSample
	// killed says the soak killed it (a fault): it is started again when the fault heals.
	killed bool
}

type metricsSample struct {
	at time.Time
	// active says the process was the active operator: a standby runs fewer goroutines.
	active     bool
	goroutines float64
	rss        float64
}

var operatorClient = &http.Client{Timeout: 2 * time.Second}

func (o *operators) start(slot int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.startLocked(slot)
}

func (o *operators) startLocked(slot int) error {
	o.generation++
	name := fmt.Sprintf("operator-%d", o.generation)
	logFile, err := os.Create(filepath.Join(o.workDir, name+".log"))
	if err != nil {
		return err
	}
	args := append([]string{"run", "--listen", fmt.Sprintf(":%d", o.ports[slot])}, o.args...)
	cmd := exec.Command(o.binary, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+o.engines[slot].socket)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p := &operatorProc{name: name, port: o.ports[slot], cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.exited)
		o.mu.Lock()
		defer o.mu.Unlock()
		if p.killed || o.stopping || o.procs[slot] != p {
			return
		}
		o.exits++
		time.AfterFunc(restartDelay, func() {
			o.mu.Lock()
			defer o.mu.Unlock()
			if o.stopping || o.procs[slot] != p {
				return
			}
			if err := o.startLocked(slot); err != nil {
				fmt.Fprintln(os.Stderr, "soak: restarting an operator:", err)
			}
		})
	}()
	o.procs[slot] = p
	o.all = append(o.all, p)
	return nil
}

func (p *operatorProc) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", p.port, path)
}

func (p *operatorProc) ready() bool {
	resp, err := operatorClient.Get(p.url("/readyz"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// active returns the slot of the operator that is ready (holds the lease and has passed), or -1.
func (o *operators) active() int {
	o.mu.Lock()
	procs := o.procs
	o.mu.Unlock()
	for slot, p := range procs {
		if p != nil && p.ready() {
			return slot
		}
	}
	return -1
}

func (o *operators) proc(slot int) *operatorProc {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.procs[slot]
}

// kill sends SIGKILL to the operator of a slot and waits until it is gone.
func (o *operators) kill(slot int) error {
	o.mu.Lock()
	p := o.procs[slot]
	p.killed = true
	o.mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-p.exited
	return nil
}

// slowAPI makes every operator's engine hold each request for d (0: pass it on at once).
func (o *operators) slowAPI(d time.Duration) {
	for _, e := range o.engines {
		e.setDelay(d)
	}
}

// stop stops every operator as the swarm would (SIGTERM: the holder releases the lease).
func (o *operators) stop() {
	o.mu.Lock()
	o.stopping = true
	o.mu.Unlock()
	for slot := range o.procs {
		if p := o.proc(slot); p != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.exited
			}
		}
	}
}

// status reads GET /status of the active operator.
func (o *operators) status() (operator.StatusDocument, error) {
	var doc operator.StatusDocument
	slot := o.active()
	if slot < 0 {
		return doc, fmt.Errorf("no operator is active")
	}
	resp, err := operatorClient.Get(o.proc(slot).url("/status"))
	if err != nil {
		return doc, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return doc, fmt.Errorf("GET /status: HTTP %d", resp.StatusCode)
	}
	return doc, json.NewDecoder(resp.Body).Decode(&doc)
}

// sampleEvery samples the running operators every period until ctx is done.
func (o *operators) sampleEvery(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			o.sample()
		}
	}
}

// sample reads go_goroutines and process_resident_memory_bytes from every running operator (one
// that does not answer is on its way out: killed, or it lost the lease).
func (o *operators) sample() {
	active := o.active()
	for slot := range o.procs {
		p := o.proc(slot)
		if p == nil {
			continue
		}
		resp, err := operatorClient.Get(p.url("/metrics"))
		if err != nil {
			continue
		}
		s := metricsSample{at: time.Now(), active: slot == active}
		scan := bufio.NewScanner(resp.Body)
		for scan.Scan() {
			name, value, _ := strings.Cut(scan.Text(), " ")
			switch name {
			case "go_goroutines":
				s.goroutines, _ = strconv.ParseFloat(value, 64)
			case "process_resident_memory_bytes":
				s.rss, _ = strconv.ParseFloat(value, 64)
			}
		}
		resp.Body.Close()
		o.mu.Lock()
		p.samples = append(p.samples, s)
		o.mu.Unlock()
	}
}

// The flatness check compares the median of a series' last third of samples with that of its
// first third (medians: a pass's garbage or an agent's poll in flight at one sample does not
// count). A series grew when the last exceeds the first by more than a quarter and a margin. A
// series shorter than two minutes of samples is not judged: it is mostly one fault's transient
// (an operator whose manager is cut off holds its requests in flight: 45 goroutines, not 11).
const (
	flatMinSamples      = int(2 * time.Minute / sampleEvery)
	flatFactor          = 1.25
	flatGoroutineMargin = 5
	flatMemoryMargin    = 8 << 20
)

// series is one run of samples judged for growth: one process in one role, or every process in
// one role over the whole run.
type series struct {
	name    string
	samples []metricsSample
}

// series splits the samples of every process by role, and pools them per role.
func (o *operators) series() []series {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out, pooled [2]series
	var each []series
	pooled[0].name, pooled[1].name = "every active operator", "every standby"
	for _, p := range o.all {
		out[0] = series{name: p.name + " active"}
		out[1] = series{name: p.name + " standing by"}
		for _, s := range p.samples {
			role := 1
			if s.active {
				role = 0
			}
			out[role].samples = append(out[role].samples, s)
			pooled[role].samples = append(pooled[role].samples, s)
		}
		each = append(each, out[0], out[1])
	}
	for i := range pooled {
		slices.SortFunc(pooled[i].samples, func(a, b metricsSample) int { return a.at.Compare(b.at) })
	}
	return append(pooled[:], each...)
}

// thirds returns the medians of a metric over the first and the last third of the samples.
func thirds(samples []metricsSample, metric func(metricsSample) float64) (first, last float64) {
	median := func(in []metricsSample) float64 {
		v := make([]float64, len(in))
		for i, s := range in {
			v[i] = metric(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	third := len(samples) / 3
	return median(samples[:third]), median(samples[len(samples)-third:])
}

// flat prints the growth of every series long enough to judge, and fails if any grew.
func flat(all []series) error {
	var grew []string
	for _, s := range all {
		if len(s.samples) < flatMinSamples {
			continue
		}
		g0, g1 := thirds(s.samples, func(m metricsSample) float64 { return m.goroutines })
		m0, m1 := thirds(s.samples, func(m metricsSample) float64 { return m.rss })
		fmt.Printf("%s, %d samples over %s: goroutines %.0f -> %.0f, resident memory %.1f -> %.1f MiB\n", s.name, len(s.samples),
			s.samples[len(s.samples)-1].at.Sub(s.samples[0].at).Round(time.Second), g0, g1, m0/(1<<20), m1/(1<<20))
		if g1 > g0*flatFactor+flatGoroutineMargin {
			grew = append(grew, fmt.Sprintf("%s: goroutines grew from %.0f to %.0f", s.name, g0, g1))
		}
		if m1 > m0*flatFactor+flatMemoryMargin {
			grew = append(grew, fmt.Sprintf("%s: resident memory grew from %.1f to %.1f MiB", s.name, m0/(1<<20), m1/(1<<20)))
		}
	}
	fmt.Printf("(medians of the first and the last third of each series of at least %d samples; growth beyond %.0f%% and %d goroutines or %d MiB fails)\n",
		flatMinSamples, (flatFactor-1)*100, flatGoroutineMargin, flatMemoryMargin>>20)
	if len(grew) > 0 {
		return errors.New(strings.Join(grew, "; "))
	}
	return nil
}

// agentProxy forwards the agents' polls to the active operator, as the stack's service address
// reaches a replica: a standby would answer 503, and so does the proxy while none is active.
func (o *operators) agentProxy(listen string) (*http.Server, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	unanswered := func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "1")
		http.Error(w, "no operator is active", http.StatusServiceUnavailable)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slot := o.active()
		if slot < 0 {
			unanswered(w, r, nil)
			return
		}
		target, _ := url.Parse(o.proc(slot).url(""))
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.FlushInterval = -1
		rp.ErrorHandler = unanswered
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	return srv, nil
}

// waitReady waits until one operator is active.
func (o *operators) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if o.active() >= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("no operator became ready within %s", limit)
}
