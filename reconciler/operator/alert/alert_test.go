package alert

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestWebhookDeliversWithRetries(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // the first try fails, the retry succeeds
			return
		}
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
	}))
	defer srv.Close()
	for _, format := range []Format{FormatJSON, FormatSlack} {
		d := NewDispatcher(slog.New(slog.DiscardHandler), []string{srv.URL}, format)
		d.Send(Event{Reason: ReasonDrift, Object: "service/web", Owner: "Route/web", Cause: CauseExternal,
			Changes: []Change{{Field: "replicas", Swarm: "5", Manifest: "2"}}, Message: "service/web drifted"})
		d.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("delivered %d bodies: %v", len(bodies), bodies)
	}
	var e Event
	if err := json.Unmarshal([]byte(bodies[0]), &e); err != nil || e.Reason != ReasonDrift || e.Changes[0].Swarm != "5" || e.Time.IsZero() {
		t.Errorf("json body %s: %v", bodies[0], err)
	}
	var slack map[string]string
	if err := json.Unmarshal([]byte(bodies[1]), &slack); err != nil || !strings.Contains(slack["text"], "swarm has `5`, manifests want `2`") {
		t.Errorf("slack body %s: %v", bodies[1], err)
	}
}

func TestDeadWebhookNeverBlocks(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	dropped := 0
	d := NewDispatcher(slog.New(slog.DiscardHandler), []string{srv.URL}, FormatJSON)
	d.Dropped = func(string) { dropped++ }
	// Were Send to wait for the dead webhook, this loop would never end.
	for range QueueSize + 10 {
		d.Send(Event{Reason: ReasonDrift, Message: "x"})
	}
	if dropped < 9 {
		t.Errorf("%d events dropped, want at least 9 with a full queue", dropped)
	}
}

func TestRecentKeepsTheLastEventsNewestFirst(t *testing.T) {
	d := NewDispatcher(slog.New(slog.DiscardHandler), nil, FormatJSON)
	defer d.Close()
	for i := range RecentSize + 3 {
		d.Send(Event{Reason: ReasonDrift, Message: strconv.Itoa(i)})
	}
	got := d.Recent()
	if len(got) != RecentSize || got[0].Message != strconv.Itoa(RecentSize+2) || got[RecentSize-1].Message != "3" {
		t.Errorf("recent: %d events, first %q, last %q", len(got), got[0].Message, got[len(got)-1].Message)
	}
}
