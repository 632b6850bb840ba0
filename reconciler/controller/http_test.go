package controller

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/alert"
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
		{"health needs none", "GET", "/healthz", "", "", http.StatusOK},
		{"hook with the read token", "POST", "/hooks/git", HookHeader, "r3ad", http.StatusUnauthorized},
		{"hook with its token", "POST", "/hooks/git", HookHeader, "h00k", http.StatusAccepted},
	} {
		if got := do(tt.method, tt.path, tt.h, tt.v); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
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
