package status

// Traffic is what a Route's gateways measured of its requests lately, summed over their tasks.
// The operator fills it when a traffic source (the gateway agents' metrics) knows the Route; it
// is nil otherwise, and shown blank: no traffic data.
type Traffic struct {
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	// ErrorRatio is the share of requests answered 5xx, from 0 to 1.
	ErrorRatio float64 `json:"errorRatio"`
	// P95Seconds is the 95th percentile of the request duration.
	P95Seconds float64 `json:"p95Seconds"`
}
