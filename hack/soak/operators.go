package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/operator"
)

// operators runs the two operator replicas of the instance as processes of this host, each in a
// slot with a port of its own, as the deploy stack runs them on two managers; the agents reach
// the active one through a proxy, as through the stack's service address.
type operators struct {
	binary, engine, workDir string
	args                    []string
	ports                   [2]int

	mu    sync.Mutex
	procs [2]*operatorProc
	// all are the processes ever started, the killed ones too.
	all []*operatorProc
	// generation counts the processes started, so that each has a name of its own.
	generation int
}

// operatorProc is one operator process and the figures read from its /metrics.
type operatorProc struct {
	name    string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	samples []metricsSample
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
	o.generation++
	name := fmt.Sprintf("operator-%d", o.generation)
	logFile, err := os.Create(filepath.Join(o.workDir, name+".log"))
	if err != nil {
		return err
	}
	args := append([]string{"run", "--listen", fmt.Sprintf(":%d", o.ports[slot])}, o.args...)
	cmd := exec.Command(o.binary, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+o.engine)
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
	p := o.proc(slot)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-p.exited
	return nil
}

// stop stops every operator as the swarm would (SIGTERM: the holder releases the lease).
func (o *operators) stop() {
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

// sample reads go_goroutines and process_resident_memory_bytes from every running operator.
func (o *operators) sample() error {
	active := o.active()
	for slot := range o.procs {
		p := o.proc(slot)
		if p == nil {
			continue
		}
		resp, err := operatorClient.Get(p.url("/metrics"))
		if err != nil {
			return fmt.Errorf("%s /metrics: %w", p.name, err)
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
	return nil
}

// flat checks that no operator's goroutines or memory grew between its first sample and its
// last in the same role (active or standing by): beyond half again and a margin (a pass's
// garbage, an agent's poll in flight).
func flat(all []*operatorProc) error {
	for _, p := range all {
		for _, active := range []bool{true, false} {
			first, last, ok := p.span(active)
			if !ok {
				continue
			}
			if last.goroutines > first.goroutines*1.5+20 {
				return fmt.Errorf("%s: goroutines grew from %.0f to %.0f over %s", p.name, first.goroutines, last.goroutines, last.at.Sub(first.at).Round(time.Second))
			}
			if last.rss > first.rss*1.5+32<<20 {
				return fmt.Errorf("%s: resident memory grew from %.0f MiB to %.0f MiB over %s", p.name, first.rss/(1<<20), last.rss/(1<<20), last.at.Sub(first.at).Round(time.Second))
			}
		}
	}
	return nil
}

// span returns the first and the last of a process's samples in one role, when it has two.
func (p *operatorProc) span(active bool) (first, last metricsSample, ok bool) {
	var in []metricsSample
	for _, s := range p.samples {
		if s.active == active {
			in = append(in, s)
		}
	}
	if len(in) < 2 {
		return first, last, false
	}
	return in[0], in[len(in)-1], true
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
