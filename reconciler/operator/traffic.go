package operator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// trafficHub sums the traffic reports of the gateway agents (gateways with spec.agent.metrics)
// across their tasks, and exposes the sums on /metrics and to Traffic. An agent reports its
// task's totals since it started; the hub adds up the newest report of each run of each task,
// and keeps the totals of runs that ended, so a sum never goes backwards while the operator runs
// and its Route's rule and backend are in the manifests. The series of a Route, rule or backend
// no longer there go with the pass that applies that (an agent still counts them until its task
// restarts: they are not taken back).
type trafficHub struct {
	mu       sync.Mutex
	gateways map[string]*gatewayTraffic // by qualified name, those with metrics only
	now      func() time.Time
}

// gatewayTraffic is one gateway's traffic.
type gatewayTraffic struct {
	// rules are those the gateway's series can be of: the others are dropped.
	rules desired.TrafficRules
	// ended sums the totals of agent runs that ended: a task restarted, or silent for taskTTL.
	ended seriesSet
	runs  map[string]*agentRun // by task
	// samples are the routes' totals over the last TrafficWindow, oldest first, for rates.
	samples []trafficSample
}

// agentRun is the newest report of one run of a task's agent.
type agentRun struct {
	start       time.Time
	seen        time.Time
	connections int64
	series      seriesSet
}

// trafficSample is the routes' totals at one time.
type trafficSample struct {
	at     time.Time
	routes map[string]routeTotals
}

// routeTotals are what the figures of one Route are made of.
type routeTotals struct {
	requests, errors uint64
	duration         contract.Histogram
}

type seriesSet map[contract.TrafficKey]contract.TrafficSeries

// The hub's clocks: a task whose agent has not reported for connectionsTTL holds no connection
// any more (it reports every contract.TrafficInterval); one silent for taskTTL ended, and its
// totals join the ended ones. Long, so that an agent cut off for a while and back with the same
// run is not counted twice.
const (
	connectionsTTL = 3 * contract.TrafficInterval
	taskTTL        = 10 * time.Minute
	// TrafficWindow is the time the figures of Traffic are measured over.
	TrafficWindow = time.Minute
	sampleEvery   = contract.TrafficInterval
)

func newTrafficHub() *trafficHub {
	return &trafficHub{gateways: map[string]*gatewayTraffic{}, now: time.Now}
}

// metricsGateways are the gateways whose agents report their traffic, with the rules their
// traffic can be counted under.
func metricsGateways(configs map[string]desired.AgentConfig) map[string]desired.TrafficRules {
	out := map[string]desired.TrafficRules{}
	for gw, c := range configs {
		if c.Metrics {
			out[gw] = c.Rules
		}
	}
	return out
}

// enable keeps the traffic of the gateways whose agents report it, under their rules, and
// forgets the others' and the series of rules no longer theirs.
func (h *trafficHub) enable(gateways map[string]desired.TrafficRules) {
	h.mu.Lock()
	defer h.mu.Unlock()
	maps.DeleteFunc(h.gateways, func(gw string, _ *gatewayTraffic) bool { _, ok := gateways[gw]; return !ok })
	for gw, rules := range gateways {
		g := h.gateways[gw]
		if g == nil {
			g = &gatewayTraffic{ended: seriesSet{}, runs: map[string]*agentRun{}}
			h.gateways[gw] = g
		}
		g.rules = rules
		g.ended.keep(g.counts)
		for _, run := range g.runs {
			run.series.keep(g.counts)
		}
	}
}

// counts tells whether the gateway's traffic is counted under k: requests no rule took, and
// those of a rule of its Routes to one of the rule's backends or to none (a redirect, an answer
// of its own).
func (g *gatewayTraffic) counts(k contract.TrafficKey) bool {
	backends, ok := g.rules[desired.TrafficRule{Route: k.Route, Rule: k.Rule}]
	return k.Route == "" || ok && (k.Backend == "" || slices.Contains(backends, k.Backend))
}

// keep drops the series whose key is not counted.
func (s seriesSet) keep(counted func(contract.TrafficKey) bool) {
	maps.DeleteFunc(s, func(k contract.TrafficKey, _ contract.TrafficSeries) bool { return !counted(k) })
}

// errNoMetrics is a report for a gateway whose traffic the operator does not keep.
var errNoMetrics = errors.New("no such gateway with spec.agent.metrics")

// add takes one task's report.
func (h *trafficHub) add(gateway string, r contract.TrafficReport) error {
	series := make(seriesSet, len(r.Series))
	for i, s := range r.Series {
		if !slices.Contains(contract.StatusClasses, s.Class) {
			return fmt.Errorf("series %d: unknown status class", i)
		}
		for _, hist := range []contract.Histogram{s.Duration, s.UpstreamTime} {
			if n := len(hist.Counts); n != 0 && n != len(contract.LatencyBuckets)+1 {
				return fmt.Errorf("series %d: a histogram of %d buckets, want %d", i, n, len(contract.LatencyBuckets)+1)
			}
		}
		if _, dup := series[s.TrafficKey]; dup {
			return fmt.Errorf("series %d: repeats an earlier one", i)
		}
		series[s.TrafficKey] = s
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.gateways[gateway]
	if g == nil {
		return errNoMetrics
	}
	series.keep(g.counts)
	now := h.now()
	run := g.runs[r.Task]
	if run != nil && (!run.start.Equal(r.Start) || run.series.exceeds(series)) {
		// A new run (or counts gone backwards, which only a new run does): the old one's
		// totals are final.
		g.ended.add(run.series)
		run = nil
	}
	if run == nil {
		run = &agentRun{start: r.Start}
		g.runs[r.Task] = run
	}
	run.seen, run.connections, run.series = now, r.Connections, series
	g.expire(now)
	g.sample(now)
	return nil
}

// exceeds tells whether some count of s is above the same one in newer.
func (s seriesSet) exceeds(newer seriesSet) bool {
	for k, old := range s {
		n := newer[k]
		if old.Requests > n.Requests || old.Duration.Total() > n.Duration.Total() || old.UpstreamTime.Total() > n.UpstreamTime.Total() {
			return true
		}
	}
	return false
}

// add adds o's totals to s.
func (s seriesSet) add(o seriesSet) {
	for k, x := range o {
		sum := s[k]
		sum.TrafficKey = k
		sum.Requests += x.Requests
		sum.BytesIn += x.BytesIn
		sum.BytesOut += x.BytesOut
		sum.Duration.Add(x.Duration)
		sum.UpstreamTime.Add(x.UpstreamTime)
		s[k] = sum
	}
}

// expire ends the runs of tasks silent for taskTTL.
func (g *gatewayTraffic) expire(now time.Time) {
	for task, run := range g.runs {
		if now.Sub(run.seen) > taskTTL {
			g.ended.add(run.series)
			delete(g.runs, task)
		}
	}
}

// totals sums the ended runs and the current ones.
func (g *gatewayTraffic) totals() seriesSet {
	sum := seriesSet{}
	sum.add(g.ended)
	for _, run := range g.runs {
		sum.add(run.series)
	}
	return sum
}

// connections sums the open connections of the tasks that reported lately.
func (g *gatewayTraffic) connections(now time.Time) int64 {
	var n int64
	for _, run := range g.runs {
		if now.Sub(run.seen) <= connectionsTTL {
			n += run.connections
		}
	}
	return n
}

// sample records the routes' totals, at most every sampleEvery, for as long as TrafficWindow
// and one more: the oldest is then as old as the window or older.
func (g *gatewayTraffic) sample(now time.Time) {
	if n := len(g.samples); n > 0 && now.Sub(g.samples[n-1].at) < sampleEvery {
		return
	}
	g.samples = append(g.samples, trafficSample{at: now, routes: byRoute(g.totals())})
	for len(g.samples) > 1 && now.Sub(g.samples[1].at) >= TrafficWindow {
		g.samples = g.samples[1:]
	}
}

// byRoute adds up the series of each Route; requests no rule took are under "".
func byRoute(s seriesSet) map[string]routeTotals {
	out := map[string]routeTotals{}
	for k, x := range s {
		t := out[k.Route]
		t.requests += x.Requests
		if k.Class == "5xx" {
			t.errors += x.Requests
		}
		t.duration.Add(x.Duration)
		out[k.Route] = t
	}
	return out
}

// RouteTraffic is one Route's traffic through one gateway, summed over the gateway's tasks: the
// read API of the traffic figures (the dashboard's, and any other reader's in the operator).
// Requests is the total since the operator started counting; the rates and the 95th percentile
// are over the last TrafficWindow (or since counting started, when that is shorter), measured
// at the agents' reports, so they lag by up to contract.TrafficInterval.
type RouteTraffic struct {
	Gateway string `json:"gateway"`
	// Route is the Route's "namespace/name"; "" counts the requests no rule took.
	Route             string  `json:"route"`
	Requests          uint64  `json:"requests"`
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	// ErrorRatio is the share of the window's requests answered with a 5xx status, 0 to 1.
	ErrorRatio float64 `json:"errorRatio"`
	// P95Seconds is the upper bound of the latency bucket (contract.LatencyBuckets) holding the
	// window's 95th percentile request duration, 0 without requests; the last bound (10) stands
	// for that much or more.
	P95Seconds float64 `json:"p95Seconds"`
}

// routeWindow is what one gateway measured of one Route: its total, and its traffic over the
// window.
type routeWindow struct {
	total, requests, errors uint64
	seconds                 float64
	cur, old                contract.Histogram // the durations now and at the window's start
}

// windows measures every Route of every gateway, by gateway and Route. Called with h.mu held.
func (h *trafficHub) windows() map[string]map[string]routeWindow {
	now := h.now()
	out := map[string]map[string]routeWindow{}
	for gw, g := range h.gateways {
		g.expire(now)
		g.sample(now) // the window moves on while no report comes
		oldest := g.samples[0]
		out[gw] = map[string]routeWindow{}
		for route, c := range byRoute(g.totals()) {
			o := oldest.routes[route]
			out[gw][route] = routeWindow{total: c.requests, requests: c.requests - min(o.requests, c.requests),
				errors: c.errors - min(o.errors, c.errors), seconds: now.Sub(oldest.at).Seconds(), cur: c.duration, old: o.duration}
		}
	}
	return out
}

// figures are the window's figures of the Route measured by ws, one per gateway.
func figures(ws ...routeWindow) RouteTraffic {
	var rt RouteTraffic
	var requests, errors uint64
	var cur, old contract.Histogram
	for _, w := range ws {
		rt.Requests += w.total
		requests += w.requests
		errors += w.errors
		if w.seconds > 0 {
			rt.RequestsPerSecond += float64(w.requests) / w.seconds
		}
		cur.Add(w.cur)
		old.Add(w.old)
	}
	if requests > 0 {
		rt.ErrorRatio = float64(errors) / float64(requests)
	}
	rt.P95Seconds = percentile(cur, old, 0.95)
	return rt
}

// routes lists the figures of every Route of every gateway, sorted by gateway and Route.
func (h *trafficHub) routes() []RouteTraffic {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []RouteTraffic
	ws := h.windows()
	for _, gw := range slices.Sorted(maps.Keys(ws)) {
		for _, route := range slices.Sorted(maps.Keys(ws[gw])) {
			rt := figures(ws[gw][route])
			rt.Gateway, rt.Route = gw, route
			out = append(out, rt)
		}
	}
	return out
}

// RouteTraffic implements TrafficSource: a Route's figures, summed over the gateways it is
// attached to. route is the Route's "namespace/name", or its bare name, which then takes the
// Routes of that name in every namespace (objects' status names them so).
func (h *trafficHub) RouteTraffic(route string) (status.Traffic, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var matched []routeWindow
	for _, byRoute := range h.windows() {
		for r, w := range byRoute {
			if r != "" && (r == route || !strings.Contains(route, "/") && strings.HasSuffix(r, "/"+route)) {
				matched = append(matched, w)
			}
		}
	}
	if len(matched) == 0 {
		return status.Traffic{}, false
	}
	rt := figures(matched...)
	return status.Traffic{RequestsPerSecond: rt.RequestsPerSecond, ErrorRatio: rt.ErrorRatio, P95Seconds: rt.P95Seconds}, true
}

// percentile is the upper bound of the bucket holding the q-quantile of the observations in
// cur and not in old; the last bound for the unbounded bucket.
func percentile(cur, old contract.Histogram, q float64) float64 {
	counts := make([]uint64, len(cur.Counts))
	var total uint64
	for i, c := range cur.Counts {
		if i < len(old.Counts) {
			c -= min(old.Counts[i], c)
		}
		counts[i] = c
		total += c
	}
	if total == 0 {
		return 0
	}
	var seen uint64
	for i, c := range counts {
		seen += c
		if float64(seen) >= q*float64(total) {
			return contract.LatencyBuckets[min(i, len(contract.LatencyBuckets)-1)]
		}
	}
	return contract.LatencyBuckets[len(contract.LatencyBuckets)-1]
}

// The traffic series on /metrics. Their labels are bounded by the manifests: per gateway, a
// series for each listener, Route rule and backend that served requests, times at most five
// status classes; no path, host or client.
var (
	trafficLabels  = []string{"gateway", "listener", "route", "rule", "backend", "class"}
	requestsDesc   = prometheus.NewDesc("swarmgate_gateway_requests_total", "Requests the gateways answered, summed over their tasks.", trafficLabels, nil)
	bytesInDesc    = prometheus.NewDesc("swarmgate_gateway_received_bytes_total", "Bytes of the requests (line, headers and body).", trafficLabels, nil)
	bytesOutDesc   = prometheus.NewDesc("swarmgate_gateway_sent_bytes_total", "Bytes of the responses sent to clients.", trafficLabels, nil)
	durationDesc   = prometheus.NewDesc("swarmgate_gateway_request_duration_seconds", "Time from a request's first byte to its response's last.", trafficLabels, nil)
	upstreamDesc   = prometheus.NewDesc("swarmgate_gateway_upstream_duration_seconds", "Time the backends took, for requests that reached one.", trafficLabels, nil)
	connectionDesc = prometheus.NewDesc("swarmgate_gateway_connections", "Client connections the gateways' tasks hold open.", []string{"gateway"}, nil)
)

// Describe implements prometheus.Collector.
func (h *trafficHub) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{requestsDesc, bytesInDesc, bytesOutDesc, durationDesc, upstreamDesc, connectionDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (h *trafficHub) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	for gw, g := range h.gateways {
		g.expire(now)
		if len(g.runs) == 0 && len(g.ended) == 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(connectionDesc, prometheus.GaugeValue, float64(g.connections(now)), gw)
		for k, s := range g.totals() {
			labels := []string{gw, k.Listener, k.Route, k.Rule, k.Backend, k.Class}
			ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, float64(s.Requests), labels...)
			ch <- prometheus.MustNewConstMetric(bytesInDesc, prometheus.CounterValue, float64(s.BytesIn), labels...)
			ch <- prometheus.MustNewConstMetric(bytesOutDesc, prometheus.CounterValue, float64(s.BytesOut), labels...)
			ch <- constHistogram(durationDesc, s.Duration, labels)
			ch <- constHistogram(upstreamDesc, s.UpstreamTime, labels)
		}
	}
}

func constHistogram(d *prometheus.Desc, h contract.Histogram, labels []string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(contract.LatencyBuckets))
	var cumulative uint64
	for i, le := range contract.LatencyBuckets {
		if i < len(h.Counts) {
			cumulative += h.Counts[i]
		}
		buckets[le] = cumulative
	}
	return prometheus.MustNewConstHistogram(d, h.Total(), h.Sum, buckets, labels...)
}

// serveTraffic takes one agent's traffic report.
func (c *Controller) serveTraffic(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != contract.TrafficType {
		http.Error(w, "a traffic report is "+contract.TrafficType, http.StatusUnsupportedMediaType)
		return
	}
	var report contract.TrafficReport
	if err := json.NewDecoder(io.LimitReader(r.Body, contract.MaxTrafficReportSize)).Decode(&report); err != nil {
		http.Error(w, "the traffic report is not JSON", http.StatusBadRequest)
		return
	}
	switch err := c.traffic.add(r.PathValue("gateway"), report); {
	case errors.Is(err, errNoMetrics) && !c.isReady():
		// A standby has no gateways: the agent reports again, on a new connection, which
		// reaches the active operator when its operatorURL names both.
		answerStandby(w)
	case errors.Is(err, errNoMetrics):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, "the traffic report: "+err.Error(), http.StatusBadRequest)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// serveTrafficFigures answers GET /traffic: Traffic as JSON.
func (c *Controller) serveTrafficFigures(w http.ResponseWriter, _ *http.Request) {
	figures := c.Traffic()
	if figures == nil {
		figures = []RouteTraffic{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(figures)
}

// Traffic lists each Route's traffic through each gateway whose agents report it
// (spec.agent.metrics), sorted by gateway and Route. See RouteTraffic.
func (c *Controller) Traffic() []RouteTraffic { return c.traffic.routes() }
