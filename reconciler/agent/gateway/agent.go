// Package gateway is swarmgate's gateway agent (its protocol with the operator is in contract). The
// agent runs in each gateway task (`swarmgate gateway`): it supervises nginx, asks the operator for
// the gateway's config and the chains of its ACME certificates (a long poll, so a new one arrives
// at once), checks them with `nginx -t`, and reloads nginx gracefully: a route change or a renewed
// certificate replaces no task and drops no request. A config nginx refuses is reported and never
// served. The config secret and chains mounted in the task are the bootstrap, served when the
// operator cannot be reached as the task starts.
package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// Config configures an agent.
type Config struct {
	Operator  string // the operator's base URL
	Gateway   string // the gateway's qualified name
	Task      string // this task's name, for the operator's status
	Token     string
	Bootstrap string // the config the task starts with (the mounted secret)
	Chains    string // where the task's ACME chains are mounted (contract.ChainDir)
	Keys      string // where their keys are mounted (contract.CertDir)
	// RootCAs, when set, are the only CAs trusted for an https operator; else the system's.
	RootCAs *x509.CertPool
	Dir     string // where the agent writes nginx's main config, the live config and chains
	Nginx   string // the nginx binary
	// TrafficSocket is where nginx sends the access log lines the agent counts
	// (contract.TrafficSocket); TrafficInterval how often it reports them (default
	// contract.TrafficInterval).
	TrafficSocket   string
	TrafficInterval time.Duration
}

// dialTimeout bounds a connection to the operator. The operator's name lists both replicas while
// swarm has not yet dropped a killed one, and a lost node's address stays silent: a connection
// that takes longer than this goes nowhere (Go's default waits 30 s), and the next try may be
// given the other replica.
const dialTimeout = 2 * time.Second

// minRetryAfter and maxRetryAfter bound the wait an operator's Retry-After may ask for: "0"
// (or a proxy's) must not make the agent ask in a tight loop.
const (
	minRetryAfter = 200 * time.Millisecond
	maxRetryAfter = 5 * time.Second
)

// StartWait bounds how long a starting task waits for the operator's bundle before it serves its
// bootstrap: a task starting while the operator is up serves the newest routes and certificates
// from its first request.
const StartWait = 2 * time.Second

// Agent is a running gateway agent.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	nginx  *exec.Cmd
	served string // the hash of the config nginx serves
	// traffic is what nginx served since started, when the agent started; unwanted the
	// requests counted when the operator last said it keeps no traffic of this gateway.
	traffic  *traffic
	started  time.Time
	unwanted atomic.Uint64
}

// New makes an agent.
func New(cfg Config, log *slog.Logger) *Agent {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	if cfg.RootCAs != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	}
	client := &http.Client{Timeout: contract.MaxWait + 10*time.Second, Transport: tr}
	if cfg.TrafficInterval == 0 {
		cfg.TrafficInterval = contract.TrafficInterval
	}
	return &Agent{cfg: cfg, log: log, client: client, traffic: newTraffic(), started: time.Now().UTC()}
}

func (a *Agent) live() string       { return filepath.Join(a.cfg.Dir, "live.conf") }
func (a *Agent) liveStream() string { return filepath.Join(a.cfg.Dir, "stream.conf") }
func (a *Agent) main() string       { return filepath.Join(a.cfg.Dir, "nginx.conf") }
func (a *Agent) pidFile() string    { return filepath.Join(a.cfg.Dir, "nginx.pid") }
func (a *Agent) next() string       { return filepath.Join(a.cfg.Dir, "next") }
func (a *Agent) liveChains() string { return filepath.Join(a.cfg.Dir, contract.AgentChainDir) }

// mainConfig is nginx's main config: it includes conf, the gateway's config, in its http block,
// and stream, when the config has a stream part (TCP, UDP or TLS listeners), in its stream block,
// with the image's dynamic modules (Debian's nginx has the stream module as one); and it serves
// nginx's status (its open connections) to the agent. Relative paths in conf (the chains) are
// relative to the main config's directory.
func (a *Agent) mainConfig(conf, stream string) []byte {
	modules, streamBlock := "", ""
	if stream != "" {
		modules = "include " + contract.NginxModules + ";\n"
		streamBlock = "stream {\n    include " + stream + ";\n}\n"
	}
	return []byte("# Written by swarmgate's gateway agent.\n" + modules + "user nobody nogroup;\npid " + a.pidFile() + ";\nerror_log stderr warn;\nworker_processes auto;\n" +
		"events {\n    worker_connections 4096;\n}\nhttp {\n    access_log off;\n    client_body_temp_path /tmp/body;\n" +
		"    proxy_temp_path /tmp/proxy;\n    include " + conf + ";\n" +
		"    server {\n        listen unix:" + a.statusSocket() + ";\n        location / {\n            stub_status;\n        }\n    }\n}\n" + streamBlock)
}

// streamFile is where the main config of a config whose stream part is stream includes it: "" for
// none.
func streamFile(stream []byte, path string) string {
	if len(stream) == 0 {
		return ""
	}
	return path
}

// bootstrap is the bundle the task was started with: the mounted config and chains.
func (a *Agent) bootstrap() (contract.Bundle, error) {
	boot, err := os.ReadFile(a.cfg.Bootstrap)
	if err != nil {
		return contract.Bundle{}, fmt.Errorf("bootstrap config: %w", err)
	}
	b := contract.Bundle{Config: string(boot)}
	files, err := os.ReadDir(a.cfg.Chains)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return contract.Bundle{}, fmt.Errorf("bootstrap chains: %w", err)
	}
	for _, f := range files {
		chain, err := os.ReadFile(filepath.Join(a.cfg.Chains, f.Name()))
		if err != nil {
			return contract.Bundle{}, fmt.Errorf("bootstrap chains: %w", err)
		}
		if b.Chains == nil {
			b.Chains = map[string]string{}
		}
		b.Chains[f.Name()] = string(chain)
	}
	return b, nil
}

// Run starts nginx on the newest bundle, or, when the operator does not answer within StartWait,
// on the bootstrap, and keeps it on the operator's until ctx ends; then nginx stops gracefully
// (SIGQUIT: in-flight requests finish). It returns when nginx exits.
func (a *Agent) Run(ctx context.Context) error {
	boot, err := a.bootstrap()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(a.cfg.Dir, 0o755); err != nil {
		return err
	}
	if err := a.stage(boot); err != nil {
		return err
	}
	if err := a.promote(); err != nil {
		return err
	}
	a.served = contract.Hash(boot.Encode())
	var refused *refusal
	startCtx, cancel := context.WithTimeout(ctx, StartWait)
	newest, hash, err := a.poll(startCtx, "", nil)
	cancel()
	switch {
	case err != nil:
		a.log.Warn("cannot reach the operator; starting on the bootstrap config", "error", err)
	case newest != nil && hash != a.served:
		if err := a.check(*newest); err != nil {
			refused = refuse(hash, err)
			a.log.Warn("cannot take the newest config; starting on the bootstrap config", "config", hash, "error", err)
		} else if err := a.promote(); err != nil {
			return err
		} else {
			a.served = hash
		}
	}
	_ = os.Remove(a.pidFile()) // its appearing is how follow knows nginx is up
	// nginx cannot listen where a crashed one left its socket.
	if err := os.Remove(a.statusSocket()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var trafficConn *net.UnixConn
	trafficRead := make(chan struct{})
	if a.cfg.TrafficSocket != "" {
		if trafficConn, err = listenTraffic(a.cfg.TrafficSocket); err != nil {
			a.log.Warn("counting no traffic", "error", err)
		}
	}
	if trafficConn != nil {
		defer trafficConn.Close()
		go func() { a.readTraffic(trafficConn); close(trafficRead) }()
	} else {
		close(trafficRead)
	}
	a.nginx = exec.Command(a.cfg.Nginx, "-c", a.main(), "-g", "daemon off;")
	a.nginx.Stdout, a.nginx.Stderr = os.Stdout, os.Stderr
	if err := a.nginx.Start(); err != nil {
		return fmt.Errorf("starting nginx: %w", err)
	}
	a.log.Info("nginx started", "gateway", a.cfg.Gateway, "config", a.served)
	exited := make(chan error, 1)
	go func() { exited <- a.nginx.Wait() }()

	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go a.follow(pollCtx, refused)
	go a.reportTraffic(pollCtx, a.cfg.TrafficInterval)

	select {
	case err := <-exited:
		return fmt.Errorf("nginx exited: %w", err)
	case <-ctx.Done():
		stopPolling()
		_ = a.nginx.Process.Signal(syscall.SIGQUIT)
		err := <-exited
		a.reportLast(trafficConn, trafficRead)
		return err
	}
}

// reportLast reports the traffic of a stopped nginx, its last requests' lines read first.
func (a *Agent) reportLast(conn *net.UnixConn, read <-chan struct{}) {
	if conn != nil {
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	}
	<-read
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	a.sendTraffic(ctx)
}

// follow asks the operator for the config, over and over, and applies each new one. It starts
// once nginx is up: a SIGHUP before nginx has set up its signal handlers would kill it, and a task
// starting under load takes a while; nginx writes its pid file only after that.
func (a *Agent) follow(ctx context.Context, refused *refusal) {
	for {
		if _, err := os.Stat(a.pidFile()); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = 200*time.Millisecond, 5*time.Second, 0
	for ctx.Err() == nil {
		bundle, hash, err := a.poll(ctx, a.served, refused)
		var busy *notActive
		switch {
		case errors.As(err, &busy):
			// A standby, or an operator before its first pass: the active one is a retry away
			// (the name gives either replica), so wait what it asks, not an ever longer backoff.
			a.log.Debug("the operator reached is not active; asking again", "retry", busy.retry)
			select {
			case <-ctx.Done():
			case <-time.After(busy.retry):
			}
			continue
		case err != nil:
			wait := b.NextBackOff()
			a.log.Warn("cannot reach the operator; serving the current config", "error", err, "retry", wait.Round(time.Millisecond))
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			continue
		}
		b.Reset()
		if bundle == nil {
			continue // no change within the wait
		}
		if err := a.apply(*bundle); err != nil {
			refused = refuse(hash, err)
			if refused.unmounted {
				a.log.Info("the new config reads files this task does not have; serving the old one until swarm replaces the task", "config", hash, "error", err)
			} else {
				a.log.Error("nginx refuses the new config; still serving the old one", "config", hash, "error", err, "reason", "ConfigRejected")
			}
			continue
		}
		a.served, refused = hash, nil
		a.log.Info("serving a new config", "config", hash)
	}
}

// poll asks once, as a task serving served; a nil bundle means the operator has nothing newer.
func (a *Agent) poll(ctx context.Context, served string, refused *refusal) (*contract.Bundle, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(a.cfg.Operator, "/")+contract.AgentConfigPath(a.cfg.Gateway), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.Token)
	req.Header.Set("Accept", contract.BundleType)
	req.Header.Set(contract.TaskHeader, a.cfg.Task)
	req.Header.Set(contract.ServedHeader, served)
	if refused != nil {
		req.Header.Set(contract.RejectedHeader, refused.hash)
		req.Header.Set(contract.ErrorHeader, oneLine(refused.err))
		if refused.unmounted {
			req.Header.Set(contract.UnmountedHeader, "1")
		}
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil, "", nil
	case http.StatusOK:
	case http.StatusServiceUnavailable:
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			return nil, "", &notActive{retry: min(max(time.Duration(secs)*time.Second, minRetryAfter), maxRetryAfter)}
		}
		fallthrough
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, "", fmt.Errorf("operator answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, contract.MaxBundleSize+1))
	if err != nil {
		return nil, "", err
	}
	hash := resp.Header.Get(contract.HashHeader)
	if len(data) > contract.MaxBundleSize || contract.Hash(data) != hash {
		return nil, "", errors.New("the config arrived incomplete")
	}
	var b contract.Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, "", fmt.Errorf("the operator's bundle: %w", err)
	}
	for name := range b.Chains {
		if !chainName.MatchString(name) {
			return nil, "", errors.New("the operator's bundle names a chain file that is not a listener's")
		}
	}
	return &b, hash, nil
}

// notActive is an operator's answer that it is not the active one (a standby, or before its first
// pass), with the wait it asked for (Retry-After).
type notActive struct{ retry time.Duration }

func (e *notActive) Error() string {
	return fmt.Sprintf("the operator is not active; retry in %s", e.retry)
}

// chainName is what a chain's file name may be: a listener's name (a DNS label) and ".crt". Never
// a path: the agent writes it in its own directory.
var chainName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.crt$`)

// apply checks b with nginx -t and, if nginx takes it, makes it live with a graceful reload:
// new workers take the new config and chains, old ones finish their requests.
func (a *Agent) apply(b contract.Bundle) error {
	if err := a.check(b); err != nil {
		return err
	}
	if err := a.promote(); err != nil {
		return err
	}
	return a.nginx.Process.Signal(syscall.SIGHUP)
}

// refusal is a bundle the task did not take, and why: nginx refused it, or (unmounted) it reads
// files the task lacks.
type refusal struct {
	hash, err string
	unmounted bool
}

func refuse(hash string, err error) *refusal {
	return &refusal{hash: hash, err: err.Error(), unmounted: errors.Is(err, errUnmounted)}
}

// errUnmounted is a config that reads files the task does not have mounted.
var errUnmounted = errors.New("not mounted in this task")

// certificateFile finds the certificate and key files a rendered config reads: it writes each as
// `ssl_certificate "PATH";` or `ssl_certificate_key "PATH";`.
var certificateFile = regexp.MustCompile(`(?m)^\s*ssl_certificate(?:_key)? "(/[^"]+)";$`)

// check stages b next to the live files and has nginx -t check it there. A config naming mounted
// files the task lacks (a listener added, or a new key: the service's tasks are being replaced
// with ones that have them) is errUnmounted, not a refusal.
func (a *Agent) check(b contract.Bundle) error {
	var missing []string
	for _, m := range certificateFile.FindAllStringSubmatch(b.Config, -1) {
		if _, err := os.Stat(m[1]); errors.Is(err, fs.ErrNotExist) && !slices.Contains(missing, m[1]) {
			missing = append(missing, m[1])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", errUnmounted, strings.Join(missing, ", "))
	}
	if err := a.stage(b); err != nil {
		return err
	}
	if out, err := exec.Command(a.cfg.Nginx, "-t", "-q", "-c", filepath.Join(a.next(), "nginx.conf")).CombinedOutput(); err != nil {
		return fmt.Errorf("nginx -t: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// stage writes b under next(), laid out as the live files are, so that the chains the config
// names relative to its main config are b's. A chain for another key than the one this task has
// mounted is left at the live one: the operator renewed with a new key, and this task, which
// swarm is replacing with one that mounts the new key, serves the old pair until then.
func (a *Agent) stage(b contract.Bundle) error {
	next := a.next()
	if err := os.RemoveAll(next); err != nil {
		return err
	}
	chains := filepath.Join(next, contract.AgentChainDir)
	if err := os.MkdirAll(chains, 0o755); err != nil {
		return err
	}
	for name, chain := range b.Chains {
		data := []byte(chain)
		listener := strings.TrimSuffix(name, ".crt")
		if key, err := os.ReadFile(filepath.Join(a.cfg.Keys, contract.KeyFileName(v1alpha1.SectionName(listener)))); err == nil {
			if _, err := tls.X509KeyPair(data, key); err != nil {
				if live, err := os.ReadFile(filepath.Join(a.liveChains(), name)); err == nil {
					a.log.Info("the operator's certificate is for a key this task does not have; serving the one it has until swarm replaces the task", "listener", listener)
					data = live
				}
			}
		}
		if err := os.WriteFile(filepath.Join(chains, name), data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(next, "live.conf"), []byte(b.Config), 0o644); err != nil {
		return err
	}
	stream := contract.SplitStream([]byte(b.Config))
	if err := os.WriteFile(filepath.Join(next, "stream.conf"), stream, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(next, "nginx.conf"), a.mainConfig(filepath.Join(next, "live.conf"), streamFile(stream, filepath.Join(next, "stream.conf"))), 0o644)
}

// promote makes the staged config and chains live (nginx reads them at its next start or reload).
func (a *Agent) promote() error {
	stream, err := os.ReadFile(filepath.Join(a.next(), "stream.conf"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(a.main(), a.mainConfig(a.live(), streamFile(stream, a.liveStream())), 0o644); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(a.next(), "stream.conf"), a.liveStream()); err != nil {
		return err
	}
	old := a.liveChains() + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(a.liveChains(), old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(filepath.Join(a.next(), contract.AgentChainDir), a.liveChains()); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(a.next(), "live.conf"), a.live()); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
