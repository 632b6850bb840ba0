package operator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/operator/source"
)

func TestEndpointTokens(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := New(&reconciler.Reconciler{}, nil, Options{}, alert.NewDispatcher(log, nil, alert.FormatJSON), NewMetrics(), log)
	srv := httptest.NewServer(c.Handler(Tokens{Hook: "h00k", Read: "r3ad"}))
	defer srv.Close()
	do := func(method, path, header, value string) int {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct {
		name               string
		method, path, h, v string
		want               int
	}{
		{"status without a token", "GET", "/status", "", "", http.StatusUnauthorized},
		{"status with the token", "GET", "/status", "Authorization", "Bearer r3ad", http.StatusOK},
		{"metrics with the hook token", "GET", "/metrics", "Authorization", "Bearer h00k", http.StatusUnauthorized},
		{"metrics with the token", "GET", "/metrics", "Authorization", "Bearer r3ad", http.StatusOK},
		{"dashboard without a token", "GET", "/ui/", "", "", http.StatusUnauthorized},
		{"dashboard with the token", "GET", "/ui/", "Authorization", "Bearer r3ad", http.StatusOK},
		{"dashboard with the token as a browser's password", "GET", "/ui/", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("any:r3ad")), http.StatusOK},
		{"dashboard with a wrong password", "GET", "/ui/static/ui.css", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("any:h00k")), http.StatusUnauthorized},
		{"status with the token as a password", "GET", "/status", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(":r3ad")), http.StatusOK},
		{"health needs none", "GET", "/healthz", "", "", http.StatusOK},
		{"hook with the read token", "POST", "/hooks/git", HookHeader, "r3ad", http.StatusUnauthorized},
		{"hook with its token", "POST", "/hooks/git", HookHeader, "h00k", http.StatusAccepted},
	} {
		if got := do(tt.method, tt.path, tt.h, tt.v); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	// A browser asks for the token when the dashboard wants it.
	resp, err := http.Get(srv.URL + "/ui/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("the dashboard's 401 asks for no login: %q", resp.Header.Get("WWW-Authenticate"))
	}
	// Guessing is slowed down: past the burst, wrong tokens get 429 without being compared.
	limited := 0
	for range 30 {
		if do("POST", "/hooks/git", HookHeader, "guess") == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 15 {
		t.Errorf("%d of 30 wrong tokens were rate-limited", limited)
	}
	if got := do("GET", "/status", "Authorization", "Bearer r3ad"); got != http.StatusOK {
		t.Errorf("the right token after a flood of wrong ones: %d", got)
	}
}

// TestAgentEndpoint: an agent gets its gateway's config when it serves another, waits when it
// serves the newest, and a config it refuses is alerted once, not sent again.
func TestAgentEndpoint(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hook := newAlertHook(t)
	dispatcher := alert.NewDispatcher(log, []string{hook.srv.URL}, alert.FormatJSON)
	c := New(&reconciler.Reconciler{}, nil, Options{}, dispatcher, NewMetrics(), log)
	srv := httptest.NewServer(c.Handler(Tokens{Agent: "ag3nt"}))
	defer srv.Close()
	// Before its first pass (a standby) the operator sends agents away at once, closing the
	// connection, so that a retry may reach the active operator.
	req, _ := http.NewRequest("GET", srv.URL+contract.AgentConfigPath("gw"), nil)
	req.Header.Set("Authorization", "Bearer ag3nt")
	req.Header.Set("Accept", contract.BundleType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close {
		t.Errorf("a standby answers %d (connection closed: %v), want 503 and a closed connection", resp.StatusCode, resp.Close)
	}

	bundle := func(conf string) []byte { return contract.Bundle{Config: conf}.Encode() }
	conf := bundle("server {}\n")
	c.agents.publish(map[string]desired.AgentConfig{"gw": {Owner: "Gateway/gw", Config: []byte("server {}\n")}})

	poll := func(served, rejected string, wait time.Duration, headers ...string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+contract.AgentConfigPath("gw"), nil)
		req.Header.Set("Authorization", "Bearer ag3nt")
		req.Header.Set("Accept", contract.BundleType)
		req.Header.Set(contract.TaskHeader, "gw.1")
		req.Header.Set(contract.ServedHeader, served)
		if rejected != "" {
			req.Header.Set(contract.RejectedHeader, rejected)
			req.Header.Set(contract.ErrorHeader, "nginx -t: unknown directive")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get(contract.HashHeader)
	}
	if code, hash := poll("old", "", 5*time.Second); code != http.StatusOK || hash != contract.Hash(conf) {
		t.Errorf("a task on an old config: %d %s", code, hash)
	}
	// On the newest config (or refusing it), the agent waits for the next one.
	for _, tt := range []struct{ served, rejected string }{{contract.Hash(conf), ""}, {"old", contract.Hash(conf)}, {"old", contract.Hash(conf)}} {
		if code, _ := poll(tt.served, tt.rejected, 300*time.Millisecond); code == http.StatusOK {
			t.Errorf("served %s rejected %s: sent the config again", tt.served, tt.rejected)
		}
	}
	// A new config wakes a waiting agent.
	next := bundle("server { listen 81; }\n")
	go func() {
		time.Sleep(200 * time.Millisecond)
		c.agents.publish(map[string]desired.AgentConfig{"gw": {Owner: "Gateway/gw", Config: []byte("server { listen 81; }\n")}})
	}()
	if code, hash := poll(contract.Hash(conf), "", 5*time.Second); code != http.StatusOK || hash != contract.Hash(next) {
		t.Errorf("after a publish: %d %s", code, hash)
	}
	// A task that lacks files the newest config reads (swarm is replacing it) is no alert.
	if code, _ := poll(contract.Hash(conf), contract.Hash(next), 300*time.Millisecond, contract.UnmountedHeader, "1"); code == http.StatusOK {
		t.Error("a task waiting to be replaced was sent the config again")
	}
	// An agent older than the bundles is told to update, not handed one it would take for a config.
	req, _ = http.NewRequest("GET", srv.URL+contract.AgentConfigPath("gw"), nil)
	req.Header.Set("Authorization", "Bearer ag3nt")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("an agent not asking for bundles: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	dispatcher.Close()
	if alerts := hook.received(); len(alerts) != 1 || !strings.Contains(alerts[0], "ConfigRejected") || !strings.Contains(alerts[0], "unknown directive") {
		t.Errorf("alerts %q, want one ConfigRejected", alerts)
	}
	// A task whose agent went away mid-poll (the waits above end by the client's timeout: its
	// task stopping) is forgotten; one that polls is in the status.
	if st := c.agents.status()["gw"]; len(st.Tasks) != 0 {
		t.Errorf("status %+v, want no task after its poll was cancelled", st)
	}
	if code, _ := poll("old", "", 5*time.Second); code != http.StatusOK {
		t.Errorf("a task on an old config: %d", code)
	}
	st := c.agents.status()["gw"]
	if st.Desired != contract.Hash(next) || len(st.Tasks) != 1 || st.Tasks[0].Task != "gw.1" {
		t.Errorf("status %+v", st)
	}
}

// TestEmptySourceIsHeld: a source without objects is not a reason to prune everything: the pass
// is held with the last good manifests and alerted once.
func TestEmptySourceIsHeld(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hook := newAlertHook(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "routes.yaml"), []byte("# emptied by a bad merge\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dispatcher := alert.NewDispatcher(log, []string{hook.srv.URL}, alert.FormatJSON)
	c := New(&reconciler.Reconciler{}, nil, Options{Source: &source.Dir{Path: dir}}, dispatcher, NewMetrics(), log)
	for range 2 {
		objs, _, err := c.manifests(context.Background())
		if err != nil || objs != nil {
			t.Fatalf("an empty source gave %d objects, %v; want the last good (none yet), held", len(objs), err)
		}
	}
	dispatcher.Close()
	if alerts := hook.received(); len(alerts) != 1 || !strings.Contains(alerts[0], "EmptySource") {
		t.Errorf("alerts %q, want one EmptySource", alerts)
	}
}

// alertHook is a webhook that keeps the bodies of the alerts it receives.
type alertHook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []string
}

func newAlertHook(t *testing.T) *alertHook {
	h := &alertHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.alerts = append(h.alerts, string(b))
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *alertHook) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.alerts)
}

// TestOneReadiness: /status says ready exactly when /readyz does; an invalid newest revision
// makes both say not ready.
func TestOneReadiness(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := New(&reconciler.Reconciler{}, nil, Options{}, alert.NewDispatcher(log, nil, alert.FormatJSON), NewMetrics(), log)
	srv := httptest.NewServer(c.Handler(Tokens{}))
	defer srv.Close()
	for _, tt := range []struct {
		name      string
		ready     bool
		invalid   string
		wantReady bool
	}{
		{"before the first pass", false, "", false},
		{"after a good pass", true, "", true},
		{"holding an invalid revision", true, "abc123", false},
	} {
		c.mu.Lock()
		c.ready, c.invalidRev, c.lastErr = tt.ready, tt.invalid, "route.yaml: invalid"
		c.mu.Unlock()
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		readyz := resp.StatusCode == http.StatusOK
		var doc StatusDocument
		if resp, err = http.Get(srv.URL + "/status"); err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if doc.Ready != tt.wantReady || readyz != tt.wantReady {
			t.Errorf("%s: /status ready %v, /readyz ok %v; want both %v", tt.name, doc.Ready, readyz, tt.wantReady)
		}
	}
}

// TestPassFailureAlerted: a failed pass is alerted once for each distinct failure, with its cause,
// however often the retries fail the same way, and its recovery once.
func TestPassFailureAlerted(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hook := newAlertHook(t)
	dispatcher := alert.NewDispatcher(log, []string{hook.srv.URL}, alert.FormatJSON)
	c := New(&reconciler.Reconciler{}, nil, Options{Source: &source.Dir{Path: filepath.Join(t.TempDir(), "gone")}}, dispatcher, NewMetrics(), log)
	for range 3 {
		if _, _, err := c.manifests(context.Background()); err == nil {
			t.Fatal("a missing source directory is no error")
		}
	}
	_ = c.failed(alert.FailureApply, errors.New("service/web: update out of sequence"))
	c.succeeded(nil, "abc", "applied")
	c.succeeded(nil, "abc", "applied")
	dispatcher.Close()
	var got []string
	for _, body := range hook.received() {
		var e alert.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Reason+" "+e.Cause)
	}
	if want := []string{"PassFailed SourceFailed", "PassFailed ApplyFailed", "PassRecovered "}; !slices.Equal(got, want) {
		t.Errorf("alerts %q, want %q", got, want)
	}
}
