package operator

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the controller's Prometheus series, in a registry of their own.
type Metrics struct {
	Registry *prometheus.Registry

	Passes      *prometheus.CounterVec // by result: applied, unchanged, drift-held, failed, invalid
	Duration    prometheus.Histogram
	Errors      *prometheus.CounterVec // by reason
	DriftNow    prometheus.Gauge
	DriftEvents *prometheus.CounterVec // by kind: drift, recovery
	Revision    *prometheus.GaugeVec   // 1 for the revision applied last
	APIRequests *prometheus.CounterVec // Engine API requests by verb
	AlertsLost  prometheus.Counter
	// Objects is 1 for each applied object's current sync and health, as get shows them.
	Objects *prometheus.GaugeVec // by kind, name, sync, health
	// traffic is the gateways' traffic, which their agents report.
	traffic *trafficHub
}

// NewMetrics registers the series.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Passes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "swarmgate_reconcile_passes_total",
			Help: "Reconciliation passes, by result."}, []string{"result"}),
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "swarmgate_reconcile_duration_seconds",
			Help: "Duration of reconciliation passes.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "swarmgate_reconcile_errors_total",
			Help: "Failed passes, by reason."}, []string{"reason"}),
		DriftNow: prometheus.NewGauge(prometheus.GaugeOpts{Name: "swarmgate_drift_objects",
			Help: "Objects that differ from the manifests now."}),
		DriftEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "swarmgate_drift_events_total",
			Help: "Drifts detected and recovered."}, []string{"kind"}),
		Revision: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "swarmgate_applied_revision_info",
			Help: "The source revision applied last (value 1)."}, []string{"revision"}),
		APIRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "swarmgate_engine_api_requests_total",
			Help: "Docker Engine API requests, by HTTP verb."}, []string{"verb"}),
		AlertsLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "swarmgate_alerts_dropped_total",
			Help: "Alerts dropped because a webhook's queue was full."}),
		Objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "swarmgate_object_info",
			Help: "Each applied object's sync (Synced, OutOfSync) and health (Healthy, Progressing, Degraded, Missing) as of the last pass (value 1)."},
			[]string{"kind", "name", "sync", "health"}),
		traffic: newTrafficHub(),
	}
	m.Registry.MustRegister(m.Passes, m.Duration, m.Errors, m.DriftNow, m.DriftEvents, m.Revision, m.APIRequests, m.AlertsLost, m.Objects, m.traffic,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
