package operator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

var (
	epoch    = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	okKey    = contract.TrafficKey{Listener: "web", Route: "shop/store", Rule: "0", Backend: "shop_web", Class: "2xx"}
	errorKey = contract.TrafficKey{Listener: "web", Route: "shop/store", Rule: "0", Backend: "shop_web", Class: "5xx"}
)

// edge is a gateway with one Route, whose rule 0 has one backend: that of okKey and errorKey.
var edge = map[string]desired.TrafficRules{"shop/edge": {{Route: "shop/store", Rule: "0"}: {"shop_web"}}}

// series is n requests of key, each taking duration seconds.
func series(key contract.TrafficKey, n int, duration float64) contract.TrafficSeries {
	s := contract.TrafficSeries{TrafficKey: key}
	for range n {
		s.Requests++
		s.BytesIn += 100
		s.BytesOut += 1000
		s.Duration.Observe(duration)
	}
	return s
}

// report is a task's report of its run started at start (seconds after epoch).
type report struct {
	at     time.Duration // after epoch
	task   string
	start  int
	conns  int64
	series []contract.TrafficSeries
}

func TestTrafficSums(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reports   []report
		at        time.Duration // when the sums are read
		want      map[contract.TrafficKey]uint64
		wantConns int64
	}{
		{name: "tasks add up", reports: []report{
			{0, "gw.1", 0, 3, []contract.TrafficSeries{series(okKey, 10, 0.01), series(errorKey, 1, 0.01)}},
			{0, "gw.2", 0, 4, []contract.TrafficSeries{series(okKey, 5, 0.01)}},
		}, want: map[contract.TrafficKey]uint64{okKey: 15, errorKey: 1}, wantConns: 7},
		{name: "a task's newer totals replace its older ones", reports: []report{
			{0, "gw.1", 0, 1, []contract.TrafficSeries{series(okKey, 10, 0.01)}},
			{5 * time.Second, "gw.1", 0, 2, []contract.TrafficSeries{series(okKey, 25, 0.01)}},
		}, want: map[contract.TrafficKey]uint64{okKey: 25}, wantConns: 2},
		{name: "a restarted agent counts from 0: the old run's totals stay", reports: []report{
			{0, "gw.1", 0, 1, []contract.TrafficSeries{series(okKey, 10, 0.01)}},
			{5 * time.Second, "gw.1", 4, 1, []contract.TrafficSeries{series(okKey, 3, 0.01)}},
			{10 * time.Second, "gw.1", 4, 1, []contract.TrafficSeries{series(okKey, 7, 0.01)}},
		}, want: map[contract.TrafficKey]uint64{okKey: 17}, wantConns: 1},
		{name: "counts that go backwards are a new run", reports: []report{
			{0, "gw.1", 0, 0, []contract.TrafficSeries{series(okKey, 10, 0.01), series(errorKey, 2, 0.01)}},
			{5 * time.Second, "gw.1", 0, 0, []contract.TrafficSeries{series(okKey, 12, 0.01)}},
		}, want: map[contract.TrafficKey]uint64{okKey: 22, errorKey: 2}},
		{name: "a silent task holds no connection and keeps its counts", reports: []report{
			{0, "gw.1", 0, 5, []contract.TrafficSeries{series(okKey, 10, 0.01)}},
			{30 * time.Second, "gw.2", 0, 2, []contract.TrafficSeries{series(okKey, 1, 0.01)}},
		}, at: 30 * time.Second, want: map[contract.TrafficKey]uint64{okKey: 11}, wantConns: 2},
		{name: "a task silent for long has ended: its counts stay", reports: []report{
			{0, "gw.1", 0, 5, []contract.TrafficSeries{series(okKey, 10, 0.01)}},
			{taskTTL + time.Minute, "gw.2", 0, 2, []contract.TrafficSeries{series(okKey, 1, 0.01)}},
		}, at: taskTTL + time.Minute, want: map[contract.TrafficKey]uint64{okKey: 11}, wantConns: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTrafficHub()
			now := epoch
			h.now = func() time.Time { return now }
			h.enable(edge)
			for _, r := range tc.reports {
				now = epoch.Add(r.at)
				err := h.add("shop/edge", contract.TrafficReport{Task: r.task, Start: epoch.Add(time.Duration(r.start) * time.Second),
					Connections: r.conns, Series: r.series})
				if err != nil {
					t.Fatal(err)
				}
			}
			now = epoch.Add(tc.at)
			g := h.gateways["shop/edge"]
			g.expire(now)
			got := map[contract.TrafficKey]uint64{}
			for k, s := range g.totals() {
				got[k] = s.Requests
				if s.Duration.Total() != s.Requests || s.BytesIn != 100*s.Requests {
					t.Errorf("%+v: %d requests, %d durations, %d bytes in", k, s.Requests, s.Duration.Total(), s.BytesIn)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("requests %v, want %v", got, tc.want)
			}
			if c := g.connections(now); c != tc.wantConns {
				t.Errorf("%d connections, want %d", c, tc.wantConns)
			}
		})
	}
}

// TestTrafficOfRemovedRules: the series of a Route, rule or backend that leaves the manifests go
// with the pass that applies that, those of the tasks that still count them and those of ended
// runs; requests no rule took stay. A Route that comes back counts again.
func TestTrafficOfRemovedRules(t *testing.T) {
	key := func(route, rule, backend string) contract.TrafficKey {
		return contract.TrafficKey{Listener: "web", Route: route, Rule: rule, Backend: backend, Class: "2xx"}
	}
	var (
		store    = key("shop/store", "0", "shop_web")
		redirect = key("shop/store", "1", "")
		canary   = key("shop/store", "0", "shop_canary")
		old      = key("shop/old", "0", "shop_old")
		norule   = contract.TrafficKey{Listener: "web", Class: "4xx"}
	)
	all := desired.TrafficRules{{Route: "shop/store", Rule: "0"}: {"shop_web", "shop_canary"}, {Route: "shop/store", Rule: "1"}: {},
		{Route: "shop/old", Rule: "0"}: {"shop_old"}}
	for _, tc := range []struct {
		name  string
		rules desired.TrafficRules
		want  []contract.TrafficKey
	}{
		{name: "all in the manifests", rules: all, want: []contract.TrafficKey{store, redirect, canary, old, norule}},
		{name: "a Route removed", rules: desired.TrafficRules{{Route: "shop/store", Rule: "0"}: {"shop_web", "shop_canary"}, {Route: "shop/store", Rule: "1"}: {}},
			want: []contract.TrafficKey{store, redirect, canary, norule}},
		{name: "a rule removed", rules: desired.TrafficRules{{Route: "shop/store", Rule: "0"}: {"shop_web", "shop_canary"}, {Route: "shop/old", Rule: "0"}: {"shop_old"}},
			want: []contract.TrafficKey{store, canary, old, norule}},
		{name: "a backend removed", rules: desired.TrafficRules{{Route: "shop/store", Rule: "0"}: {"shop_web"}, {Route: "shop/store", Rule: "1"}: {},
			{Route: "shop/old", Rule: "0"}: {"shop_old"}}, want: []contract.TrafficKey{store, redirect, old, norule}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTrafficHub()
			now := epoch
			h.now = func() time.Time { return now }
			h.enable(map[string]desired.TrafficRules{"shop/edge": all})
			report := func(task string, n int) {
				var s []contract.TrafficSeries
				for _, k := range []contract.TrafficKey{store, redirect, canary, old, norule} {
					s = append(s, series(k, n, 0.01))
				}
				if err := h.add("shop/edge", contract.TrafficReport{Task: task, Start: epoch, Series: s}); err != nil {
					t.Fatal(err)
				}
			}
			// gw.1 ends (silent for long), its totals kept; gw.2 runs on.
			report("gw.1", 3)
			now = now.Add(taskTTL + time.Minute)
			report("gw.2", 5)
			h.enable(map[string]desired.TrafficRules{"shop/edge": tc.rules})
			now = now.Add(contract.TrafficInterval)
			report("gw.2", 7) // still counting what the manifests no longer have
			got := slices.Collect(maps.Keys(h.gateways["shop/edge"].totals()))
			if !sameKeys(got, tc.want) {
				t.Errorf("series %v, want %v", got, tc.want)
			}
			// Back in the manifests: counted again, from what the running task counted.
			h.enable(map[string]desired.TrafficRules{"shop/edge": all})
			now = now.Add(contract.TrafficInterval)
			report("gw.2", 9)
			if got := h.gateways["shop/edge"].totals(); len(got) != 5 || got[old].Requests < 9 {
				t.Errorf("back in the manifests: %v", got)
			}
		})
	}
}

func sameKeys(a, b []contract.TrafficKey) bool {
	order := func(x, y contract.TrafficKey) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) }
	return slices.Equal(slices.SortedFunc(slices.Values(a), order), slices.SortedFunc(slices.Values(b), order))
}

func TestTrafficRefusals(t *testing.T) {
	h := newTrafficHub()
	h.enable(edge)
	badClass := series(okKey, 1, 0.01)
	badClass.Class = "6xx"
	badHistogram := series(okKey, 1, 0.01)
	badHistogram.Duration.Counts = badHistogram.Duration.Counts[:3]
	for _, tc := range []struct {
		name, gateway string
		series        []contract.TrafficSeries
		want          string
	}{
		{"a gateway without metrics", "shop/other", nil, errNoMetrics.Error()},
		{"an unknown status class", "shop/edge", []contract.TrafficSeries{badClass}, "series 0: unknown status class"},
		{"other buckets", "shop/edge", []contract.TrafficSeries{badHistogram}, "series 0: a histogram of 3 buckets, want 12"},
		{"a series twice", "shop/edge", []contract.TrafficSeries{series(okKey, 1, 0.01), series(okKey, 1, 0.01)}, "series 1: repeats an earlier one"},
	} {
		if err := h.add(tc.gateway, contract.TrafficReport{Task: "gw.1", Series: tc.series}); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	// Turning metrics off forgets the gateway's traffic.
	if err := h.add("shop/edge", contract.TrafficReport{Task: "gw.1", Series: []contract.TrafficSeries{series(okKey, 1, 0.01)}}); err != nil {
		t.Fatal(err)
	}
	h.enable(map[string]desired.TrafficRules{})
	if err := h.add("shop/edge", contract.TrafficReport{Task: "gw.1"}); !errors.Is(err, errNoMetrics) {
		t.Errorf("a gateway whose metrics were turned off: %v", err)
	}
}

// TestRouteTraffic: the read API's rates, error ratio and 95th percentile are over the window.
func TestRouteTraffic(t *testing.T) {
	h := newTrafficHub()
	now := epoch
	h.now = func() time.Time { return now }
	h.enable(edge)
	add := func(at time.Duration, s ...contract.TrafficSeries) {
		now = epoch.Add(at)
		if err := h.add("shop/edge", contract.TrafficReport{Task: "gw.1", Start: epoch, Series: s}); err != nil {
			t.Fatal(err)
		}
	}
	// Before the window: 1,000 slow requests. Then, every report for a minute, 45 fast requests
	// and 5 fast errors more.
	slow := series(okKey, 1000, 3)
	add(0, slow)
	for i := 1; i <= 12; i++ {
		ok, errs := slow, series(errorKey, 5*i, 0.02)
		ok.Duration.Counts = slices.Clone(slow.Duration.Counts)
		for range 45 * i {
			ok.Requests++
			ok.Duration.Observe(0.02)
		}
		add(time.Duration(i)*contract.TrafficInterval, ok, errs)
	}
	want := []RouteTraffic{{Gateway: "shop/edge", Route: "shop/store", Requests: 1600, RequestsPerSecond: 10, ErrorRatio: 0.1, P95Seconds: 0.025}}
	if got := h.routes(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// As the objects' status asks: by name or namespace/name.
	for _, name := range []string{"store", "shop/store"} {
		if got, ok := h.RouteTraffic(name); !ok || got != (status.Traffic{RequestsPerSecond: 10, ErrorRatio: 0.1, P95Seconds: 0.025}) {
			t.Errorf("RouteTraffic(%q) = %+v, %v", name, got, ok)
		}
	}
	if _, ok := h.RouteTraffic("other/store"); ok {
		t.Error("RouteTraffic of another namespace's Route has figures")
	}
	// Without requests in the window, no rate and no percentile; the total stays.
	now = now.Add(2 * TrafficWindow)
	add(now.Sub(epoch)+contract.TrafficInterval, h.gateways["shop/edge"].runs["gw.1"].series[okKey], h.gateways["shop/edge"].runs["gw.1"].series[errorKey])
	add(now.Sub(epoch)+TrafficWindow, h.gateways["shop/edge"].runs["gw.1"].series[okKey], h.gateways["shop/edge"].runs["gw.1"].series[errorKey])
	want = []RouteTraffic{{Gateway: "shop/edge", Route: "shop/store", Requests: 1600}}
	if got := h.routes(); !reflect.DeepEqual(got, want) {
		t.Errorf("an idle minute later: got %+v\nwant %+v", got, want)
	}
}

// TestTrafficEndpoint: agents post their reports with the agent token; /metrics shows the sums.
func TestTrafficEndpoint(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := New(&reconciler.Reconciler{}, nil, Options{}, alert.NewDispatcher(log, nil, alert.FormatJSON), NewMetrics(), log)
	c.traffic.enable(metricsGateways(map[string]desired.AgentConfig{"shop/edge": {Metrics: true, Rules: edge["shop/edge"]}, "shop/quiet": {}}))
	srv := httptest.NewServer(c.Handler(Tokens{Agent: "ag3nt"}))
	defer srv.Close()
	post := func(gateway, token, contentType string, r contract.TrafficReport) int {
		body, _ := json.Marshal(r)
		req, _ := http.NewRequest("POST", srv.URL+contract.AgentTrafficPath(gateway), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	one := contract.TrafficReport{Task: "gw.1", Start: epoch, Connections: 2, Series: []contract.TrafficSeries{series(okKey, 600, 0.01)}}
	two := contract.TrafficReport{Task: "gw.2", Start: epoch, Connections: 1, Series: []contract.TrafficSeries{series(okKey, 400, 0.01), series(errorKey, 7, 0.01)}}
	// A standby (not ready) sends agents on to the active operator.
	if got := post("shop/quiet", "ag3nt", contract.TrafficType, one); got != http.StatusServiceUnavailable {
		t.Errorf("a report to a standby: %d, want 503", got)
	}
	c.mu.Lock()
	c.ready = true
	c.mu.Unlock()
	for _, tc := range []struct {
		name, gateway, token, contentType string
		report                            contract.TrafficReport
		want                              int
	}{
		{"a wrong token", "shop/edge", "guess", contract.TrafficType, one, http.StatusUnauthorized},
		{"not a report", "shop/edge", "ag3nt", "application/json", one, http.StatusUnsupportedMediaType},
		{"a gateway without metrics", "shop/quiet", "ag3nt", contract.TrafficType, one, http.StatusNotFound},
		{"task 1", "shop/edge", "ag3nt", contract.TrafficType, one, http.StatusNoContent},
		{"task 2", "shop/edge", "ag3nt", contract.TrafficType, two, http.StatusNoContent},
	} {
		if got := post(tc.gateway, tc.token, tc.contentType, tc.report); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	families, err := c.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "swarmgate_gateway_") {
			continue
		}
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "class" || l.GetName() == "gateway" && name == "swarmgate_gateway_connections" {
					name += " " + l.GetValue()
				}
			}
			switch {
			case m.GetCounter() != nil:
				got[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[name] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				got[name] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"swarmgate_gateway_requests_total 2xx": 1000, "swarmgate_gateway_requests_total 5xx": 7,
		"swarmgate_gateway_received_bytes_total 2xx": 100000, "swarmgate_gateway_received_bytes_total 5xx": 700,
		"swarmgate_gateway_sent_bytes_total 2xx": 1000000, "swarmgate_gateway_sent_bytes_total 5xx": 7000,
		"swarmgate_gateway_request_duration_seconds 2xx": 1000, "swarmgate_gateway_request_duration_seconds 5xx": 7,
		"swarmgate_gateway_upstream_duration_seconds 2xx": 0, "swarmgate_gateway_upstream_duration_seconds 5xx": 0,
		"swarmgate_gateway_connections shop/edge": 3,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("/metrics has\n%v\nwant\n%v", got, want)
	}
	resp, err := http.Get(srv.URL + "/traffic")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var figures []RouteTraffic
	if err := json.NewDecoder(resp.Body).Decode(&figures); err != nil {
		t.Fatal(err)
	}
	if len(figures) != 1 || figures[0].Gateway != "shop/edge" || figures[0].Route != "shop/store" || figures[0].Requests != 1007 {
		t.Errorf("GET /traffic: %+v", figures)
	}
}
