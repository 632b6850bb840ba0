// Package gwagent is swarmgate's gateway agent and the protocol it speaks with the operator. The
// agent runs in each gateway task (`swarmgate gateway`): it supervises nginx, asks the operator for
// the gateway's config (a long poll, so a new config arrives at once), checks it with `nginx -t`,
// and reloads nginx gracefully: a route change replaces no task and drops no request. A config
// nginx refuses is reported and never served. The config secret mounted in the task is the
// bootstrap, so a task that restarts serves before it reaches the operator.
package gwagent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// The protocol: GET ConfigPath(gateway) with the agent token as a bearer token and the task's
// state in headers. The operator answers the desired config (200, HashHeader) when the task
// serves another one, or waits up to MaxWait for one and answers 304.
const (
	TaskHeader     = "X-Swarmgate-Task"
	ServedHeader   = "X-Swarmgate-Served"
	RejectedHeader = "X-Swarmgate-Rejected"
	ErrorHeader    = "X-Swarmgate-Error"
	HashHeader     = "X-Swarmgate-Config-Hash"
	MaxWait        = 25 * time.Second
)

// ConfigPath is the operator's endpoint for a gateway's config.
func ConfigPath(gateway string) string { return "/v1/gateways/" + url.PathEscape(gateway) + "/config" }

// Hash names a config: the first 16 hex digits of its SHA-256.
func Hash(conf []byte) string {
	sum := sha256.Sum256(conf)
	return hex.EncodeToString(sum[:])[:16]
}

// Config configures an agent.
type Config struct {
	Operator  string // the operator's base URL
	Gateway   string // the gateway's qualified name
	Task      string // this task's name, for the operator's status
	Token     string
	Bootstrap string // the config the task starts with (the mounted secret)
	Dir       string // where the agent writes nginx's main config and the live config
	Nginx     string // the nginx binary
}

// Agent is a running gateway agent.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	nginx  *exec.Cmd
	served string // the hash of the config nginx serves
}

// New makes an agent.
func New(cfg Config, log *slog.Logger) *Agent {
	return &Agent{cfg: cfg, log: log, client: &http.Client{Timeout: MaxWait + 10*time.Second}}
}

func (a *Agent) live() string    { return filepath.Join(a.cfg.Dir, "live.conf") }
func (a *Agent) main() string    { return filepath.Join(a.cfg.Dir, "nginx.conf") }
func (a *Agent) pidFile() string { return filepath.Join(a.cfg.Dir, "nginx.pid") }

// mainConfig is nginx's main config: it includes conf, the gateway's config.
func (a *Agent) mainConfig(conf string) []byte {
	return []byte("# Written by swarmgate's gateway agent.\nuser nobody nogroup;\npid " + a.pidFile() + ";\nerror_log stderr warn;\nworker_processes auto;\n" +
		"events {\n    worker_connections 4096;\n}\nhttp {\n    access_log off;\n    client_body_temp_path /tmp/body;\n" +
		"    proxy_temp_path /tmp/proxy;\n    include " + conf + ";\n}\n")
}

// Run starts nginx on the bootstrap config and keeps it on the operator's until ctx ends; then
// nginx stops gracefully (SIGQUIT: in-flight requests finish). It returns when nginx exits.
func (a *Agent) Run(ctx context.Context) error {
	boot, err := os.ReadFile(a.cfg.Bootstrap)
	if err != nil {
		return fmt.Errorf("bootstrap config: %w", err)
	}
	if err := os.MkdirAll(a.cfg.Dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(a.live(), boot, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(a.main(), a.mainConfig(a.live()), 0o644); err != nil {
		return err
	}
	a.served = Hash(boot)
	_ = os.Remove(a.pidFile()) // its appearing is how follow knows nginx is up
	a.nginx = exec.Command(a.cfg.Nginx, "-c", a.main(), "-g", "daemon off;")
	a.nginx.Stdout, a.nginx.Stderr = os.Stdout, os.Stderr
	if err := a.nginx.Start(); err != nil {
		return fmt.Errorf("starting nginx: %w", err)
	}
	a.log.Info("nginx started on the bootstrap config", "gateway", a.cfg.Gateway, "config", a.served)
	exited := make(chan error, 1)
	go func() { exited <- a.nginx.Wait() }()

	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go a.follow(pollCtx)

	select {
	case err := <-exited:
		return fmt.Errorf("nginx exited: %w", err)
	case <-ctx.Done():
		stopPolling()
		_ = a.nginx.Process.Signal(syscall.SIGQUIT)
		return <-exited
	}
}

// follow asks the operator for the config, over and over, and applies each new one. It starts
// once nginx is up: a SIGHUP before nginx has set up its signal handlers would kill it, and a task
// starting under load takes a while; nginx writes its pid file only after that.
func (a *Agent) follow(ctx context.Context) {
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
	var rejected, lastErr string
	for ctx.Err() == nil {
		conf, hash, err := a.poll(ctx, rejected, lastErr)
		if err != nil {
			wait := b.NextBackOff()
			a.log.Warn("cannot reach the operator; serving the current config", "error", err, "retry", wait.Round(time.Millisecond))
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			continue
		}
		b.Reset()
		if conf == nil {
			continue // no change within the wait
		}
		if err := a.apply(conf); err != nil {
			rejected, lastErr = hash, err.Error()
			a.log.Error("nginx refuses the new config; still serving the old one", "config", hash, "error", err, "reason", "ConfigRejected")
			continue
		}
		a.served, rejected, lastErr = hash, "", ""
		a.log.Info("serving a new config", "config", hash)
	}
}

// poll asks once; a nil config means the operator has nothing newer.
func (a *Agent) poll(ctx context.Context, rejected, lastErr string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(a.cfg.Operator, "/")+ConfigPath(a.cfg.Gateway), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.Token)
	req.Header.Set(TaskHeader, a.cfg.Task)
	req.Header.Set(ServedHeader, a.served)
	if rejected != "" {
		req.Header.Set(RejectedHeader, rejected)
		req.Header.Set(ErrorHeader, oneLine(lastErr))
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
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, "", fmt.Errorf("operator answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	conf, err := io.ReadAll(io.LimitReader(resp.Body, MaxConfigSize+1))
	if err != nil {
		return nil, "", err
	}
	hash := resp.Header.Get(HashHeader)
	if len(conf) > MaxConfigSize || Hash(conf) != hash {
		return nil, "", errors.New("the config arrived incomplete")
	}
	return conf, hash, nil
}

// MaxConfigSize bounds a config the agent takes.
const MaxConfigSize = 64 << 20

// apply checks conf with nginx -t and, if nginx takes it, makes it live with a graceful reload:
// new workers take the new config, old ones finish their requests.
func (a *Agent) apply(conf []byte) error {
	next := a.live() + ".next"
	if err := os.WriteFile(next, conf, 0o644); err != nil {
		return err
	}
	testMain := a.main() + ".next"
	if err := os.WriteFile(testMain, a.mainConfig(next), 0o644); err != nil {
		return err
	}
	if out, err := exec.Command(a.cfg.Nginx, "-t", "-q", "-c", testMain).CombinedOutput(); err != nil {
		return fmt.Errorf("nginx -t: %v: %s", err, bytes.TrimSpace(out))
	}
	if err := os.Rename(next, a.live()); err != nil {
		return err
	}
	return a.nginx.Process.Signal(syscall.SIGHUP)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
