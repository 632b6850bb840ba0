package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// operator is a stand-in for `swarmgate run`'s config endpoint: the protocol, not the controller.
type operator struct {
	mu        sync.Mutex
	conf      []byte
	changed   chan struct{}
	served    string
	rejected  string
	err       string
	unmounted bool
	traffic   []contract.TrafficReport // the reports, oldest first
	// noMetrics answers reports 404, as an operator that keeps no traffic of the gateway does;
	// refused counts them.
	noMetrics bool
	refused   int
	srv       *httptest.Server
}

func newOperator(t testing.TB) *operator {
	o := &operator{changed: make(chan struct{})}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == contract.AgentTrafficPath("gw") && r.Header.Get("Authorization") == "Bearer t0ken" &&
			r.Header.Get("Content-Type") == contract.TrafficType {
			var report contract.TrafficReport
			if err := json.NewDecoder(r.Body).Decode(&report); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			o.mu.Lock()
			defer o.mu.Unlock()
			if o.noMetrics {
				o.refused++
				http.Error(w, "no such gateway with spec.agent.metrics", http.StatusNotFound)
				return
			}
			o.traffic = append(o.traffic, report)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Header.Get("Authorization") != "Bearer t0ken" || r.URL.Path != contract.AgentConfigPath("gw") || r.Header.Get("Accept") != contract.BundleType {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		deadline := time.After(time.Second)
		for {
			o.mu.Lock()
			o.served, o.rejected, o.err = r.Header.Get(contract.ServedHeader), r.Header.Get(contract.RejectedHeader), r.Header.Get(contract.ErrorHeader)
			o.unmounted = r.Header.Get(contract.UnmountedHeader) != ""
			conf, changed := o.conf, o.changed
			o.mu.Unlock()
			if h := contract.Hash(conf); conf != nil && h != r.Header.Get(contract.ServedHeader) && h != r.Header.Get(contract.RejectedHeader) {
				w.Header().Set(contract.HashHeader, h)
				_, _ = w.Write(conf)
				return
			}
			select {
			case <-changed:
			case <-deadline:
				w.WriteHeader(http.StatusNotModified)
				return
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// publish hands the agents conf, without chains.
func (o *operator) publish(conf []byte) { o.publishBundle(contract.Bundle{Config: string(conf)}) }

// hashOf names the bundle of conf without chains.
func hashOf(conf []byte) string { return contract.Hash(contract.Bundle{Config: string(conf)}.Encode()) }

func (o *operator) publishBundle(b contract.Bundle) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.conf = b.Encode()
	close(o.changed)
	o.changed = make(chan struct{})
}

// lastTraffic is the newest traffic report, nil before the first.
func (o *operator) lastTraffic() *contract.TrafficReport {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.traffic) == 0 {
		return nil
	}
	return &o.traffic[len(o.traffic)-1]
}

func (o *operator) unmountedReport() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unmounted
}

func (o *operator) state() (served, rejected, err string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.served, o.rejected, o.err
}

func nginxBinary(t testing.TB) string {
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed; hack/deps.sh installs it")
	}
	t.Skip("nginx is not installed (hack/deps.sh installs it)")
	return ""
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// answering is a config whose server answers every request with text.
func answering(port int, text string) []byte {
	return fmt.Appendf(nil, "server {\n    listen %d;\n    location / {\n        return 200 %q;\n    }\n}\n", port, text)
}

// startAgent runs an agent on the bootstrap config until the test ends.
func startAgent(t testing.TB, o *operator, bootstrap []byte) (stop func() error) {
	return startAgentIn(t, t.TempDir(), o, bootstrap)
}

// startAgentIn runs an agent whose task has its chains mounted in dir/chains and keys in dir/keys.
func startAgentIn(t testing.TB, dir string, o *operator, bootstrap []byte) (stop func() error) {
	boot := filepath.Join(dir, "bootstrap.conf")
	if err := os.WriteFile(boot, bootstrap, 0o644); err != nil {
		t.Fatal(err)
	}
	a := New(Config{Operator: o.srv.URL, Gateway: "gw", Task: "gw.1", Token: "t0ken", Bootstrap: boot,
		Chains: filepath.Join(dir, "chains"), Keys: filepath.Join(dir, "keys"),
		Dir: filepath.Join(dir, "run"), Nginx: nginxBinary(t), TrafficSocket: filepath.Join(dir, "traffic.sock"), TrafficInterval: 100 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return fmt.Errorf("the agent did not stop")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func answer(port int) string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitFor(t testing.TB, what string, check func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !check(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 60s: %s", what)
		}
	}
}

// TestAgentFollowsTheOperator: the agent serves its bootstrap, then each config the operator has,
// never one nginx refuses, and stops nginx gracefully.
func TestAgentFollowsTheOperator(t *testing.T) {
	port := freePort(t)
	o := newOperator(t)
	stop := startAgent(t, o, answering(port, "boot"))
	waitFor(t, "the bootstrap config serves", func() bool { return answer(port) == "boot" })

	v2 := answering(port, "v2")
	o.publish(v2)
	waitFor(t, "the new config serves", func() bool { return answer(port) == "v2" })
	waitFor(t, "the agent reports it", func() bool { s, _, _ := o.state(); return s == hashOf(v2) })

	broken := []byte("this is not nginx;\n")
	o.publish(broken)
	waitFor(t, "the agent reports the config nginx refuses", func() bool { _, r, _ := o.state(); return r == hashOf(broken) })
	if _, _, msg := o.state(); !strings.Contains(msg, "nginx -t") || o.unmountedReport() {
		t.Errorf("the rejection does not say why, or says files are not mounted: %q", msg)
	}
	if got := answer(port); got != "v2" {
		t.Errorf("after a refused config nginx answers %q, want the last good config's v2", got)
	}
	if served, _, _ := o.state(); served != hashOf(v2) {
		t.Errorf("the agent reports serving %s, want %s", served, hashOf(v2))
	}

	// A config reading a certificate this task lacks (a listener added: swarm is replacing the
	// task with one that has it) is not taken either, and said to be that, not a refusal.
	unmounted := append(answering(port, "v3"), fmt.Sprintf("server {\n    listen %d ssl;\n    ssl_certificate \"/nonexistent/shop.crt\";\n    ssl_certificate_key \"/nonexistent/shop.key\";\n}\n", freePort(t))...)
	o.publish(unmounted)
	waitFor(t, "the agent reports the config it lacks files for", func() bool { _, r, _ := o.state(); return r == hashOf(unmounted) })
	if _, _, msg := o.state(); !o.unmountedReport() || !strings.Contains(msg, "/nonexistent/shop.key") {
		t.Errorf("the report does not say which files are not mounted: %q", msg)
	}
	if got := answer(port); got != "v2" {
		t.Errorf("after a config it lacks files for nginx answers %q, want v2", got)
	}

	o.publish(answering(port, "v3"))
	waitFor(t, "a good config after a refused one serves", func() bool { return answer(port) == "v3" })
	if err := stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	if got := answer(port); !strings.Contains(got, "refused") {
		t.Errorf("nginx still answers after the agent stopped: %q", got)
	}
}

// TestAgentServesStream: a config with a stream part (TCP, UDP or TLS listeners) is served from
// the stream block of the main config the agent writes, taken and dropped by reloads.
func TestAgentServesStream(t *testing.T) {
	port, tcpPort := freePort(t), freePort(t)
	o := newOperator(t)
	startAgent(t, o, answering(port, "boot"))
	waitFor(t, "the bootstrap config serves", func() bool { return answer(port) == "boot" })
	stream := func() string {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort), time.Second)
		if err != nil {
			return err.Error()
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		b, _ := io.ReadAll(c)
		return string(b)
	}

	withStream := append(answering(port, "v2"), fmt.Sprintf(contract.StreamLine+"server {\n"+contract.StreamLine+"    listen %d;\n"+
		contract.StreamLine+"    return \"stream\";\n"+contract.StreamLine+"}\n", tcpPort)...)
	o.publish(withStream)
	waitFor(t, "the stream server answers", func() bool { return stream() == "stream" })
	waitFor(t, "the config's http part serves", func() bool { return answer(port) == "v2" })

	o.publish(answering(port, "v3"))
	waitFor(t, "the config without a stream part serves", func() bool { return answer(port) == "v3" })
	if got := stream(); !strings.Contains(got, "refused") {
		t.Errorf("the stream server still answers without a stream part: %q", got)
	}
}

// TestPollNotActive: an operator that says it is not active (a standby) is asked again after the
// Retry-After it gives, within minRetryAfter and maxRetryAfter, not after a backoff grown by every standby reached
// meanwhile; another 503 is an ordinary failure.
func TestPollNotActive(t *testing.T) {
	for _, tt := range []struct {
		name       string
		retryAfter string
		want       time.Duration // 0: not a standby's answer
	}{
		{"standby", "1", time.Second},
		{"a long wait asked", "3600", maxRetryAfter},
		{"no wait asked", "0", minRetryAfter},
		{"no Retry-After", "", 0},
		{"a date", "Wed, 21 Oct 2015 07:28:00 GMT", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				http.Error(w, "not active", http.StatusServiceUnavailable)
			}))
			defer srv.Close()
			a := New(Config{Operator: srv.URL, Gateway: "gw"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			_, _, err := a.poll(context.Background(), "", nil)
			var busy *notActive
			switch {
			case tt.want == 0 && (err == nil || errors.As(err, &busy)):
				t.Errorf("got %v, want an ordinary failure", err)
			case tt.want != 0 && (!errors.As(err, &busy) || busy.retry != tt.want):
				t.Errorf("got %v, want not active, retry in %s", err, tt.want)
			}
		})
	}
}
