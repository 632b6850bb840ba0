// Package alert delivers what an operator must hear about: drift, its recovery, manifests that do
// not validate, passes that fail. Every event goes to the log; webhooks get it through a bounded
// queue with retries, so a dead webhook never blocks reconciliation.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/swarmgate/swarmgate/reconciler/redact"
)

// Reasons an event is sent for; stable, for log queries and alert routing.
const (
	ReasonDrift            = "Drift"
	ReasonDriftRecovered   = "DriftRecovered"
	ReasonInvalidManifests = "InvalidManifests"
	ReasonUnverifiedCommit = "UnverifiedCommit"
	// ReasonPassFailed: a pass failed (its Cause is the Failure); sent once for each distinct
	// failure, while passes retry with backoff. ReasonPassRecovered: a pass succeeded again.
	ReasonPassFailed    = "PassFailed"
	ReasonPassRecovered = "PassRecovered"
	// ReasonVirtualIPNotReady: a VirtualIP's address is held by no node or by several (split
	// brain), or does not answer; the event's Message says which.
	ReasonVirtualIPNotReady = "VirtualIPNotReady"
	// ReasonEmptySource: the source holds no object; the operator does not prune everything.
	ReasonEmptySource = "EmptySource"
	// ReasonPruneHeld: objects the source no longer holds are kept, not pruned: pruning is off,
	// or they are more than --prune-max-fraction of the instance; the message names them.
	ReasonPruneHeld = "PruneHeld"
	// ReasonConfigRejected: a gateway task's nginx refuses a new config; it keeps serving its last.
	ReasonConfigRejected = "ConfigRejected"
	// ReasonVirtualIPRecovered: exactly one node holds the address again, and it answers.
	ReasonVirtualIPRecovered = "VirtualIPRecovered"
	// ReasonCertificateFailed: the ACME server did not issue a listener's certificate (rate
	// limit, challenge failed, DNS not pointing here); the last good certificate keeps serving.
	ReasonCertificateFailed = "CertificateFailed"
	// ReasonCertificateIssued: a listener has a new certificate (first, or renewed).
	ReasonCertificateIssued = "CertificateIssued"
)

// Failure is why a pass failed: the Cause of a PassFailed alert, and the reason label of the
// operator's errors metric.
type Failure string

// The failures of a pass.
const (
	// FailureSource: the source could not be fetched or read.
	FailureSource Failure = "SourceFailed"
	// FailurePlan: the swarm could not be read, or the manifests and the applied objects make no
	// set that can be converged.
	FailurePlan Failure = "PlanFailed"
	// FailureApply: a write to the swarm failed for good, or retrying it ran out of time.
	FailureApply Failure = "ApplyFailed"
	// FailureStaleRead: the swarm answered with a view older than the operator's own last write
	// (a manager catching up its raft log after a restart): nothing is planned from it.
	FailureStaleRead Failure = "StaleRead"
)

// Causes of a drift.
const (
	// CauseRollback is swarm rolling back an update that failed.
	CauseRollback = "swarm-rollback"
	// CauseExternal is anyone else: a person, a script, another tool.
	CauseExternal = "external"
)

// Change is one field of one object that differs from the manifests.
type Change struct {
	Field    string `json:"field"`
	Swarm    string `json:"swarm"`    // the value on the swarm
	Manifest string `json:"manifest"` // the value the manifests want
}

// Event is one alert.
type Event struct {
	Time     time.Time `json:"time"`
	Reason   string    `json:"reason"`
	Object   string    `json:"object,omitempty"` // "service/dmzhttp"
	Owner    string    `json:"owner,omitempty"`  // "Route/dmzhttp"
	Cause    string    `json:"cause,omitempty"`
	Changes  []Change  `json:"changes,omitempty"`
	Revision string    `json:"revision,omitempty"`
	Message  string    `json:"message"`
}

// Format is how a webhook's body is written.
type Format string

// The formats.
const (
	FormatJSON  Format = "json"  // the Event itself
	FormatSlack Format = "slack" // {"text": ...}, which Slack, Mattermost and Rocket.Chat accept
)

// Dispatcher sends events to the log and to webhooks.
type Dispatcher struct {
	log      *slog.Logger
	webhooks []*webhook
	// Dropped, if set, is called when a full queue drops an event.
	Dropped func(url string)
	wg      sync.WaitGroup

	mu sync.Mutex
	// recent are the last RecentSize events, oldest first, for the dashboard.
	recent []Event
}

// RecentSize bounds the events Recent keeps.
const RecentSize = 50

// QueueSize bounds the events waiting for one webhook.
const QueueSize = 256

// NewDispatcher starts a sender per webhook URL; Close stops them.
func NewDispatcher(log *slog.Logger, urls []string, format Format) *Dispatcher {
	d := &Dispatcher{log: log}
	for _, u := range urls {
		w := &webhook{url: u, format: format, queue: make(chan Event, QueueSize), client: &http.Client{Timeout: 5 * time.Second}, log: log}
		d.webhooks = append(d.webhooks, w)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			w.run()
		}()
	}
	return d
}

// Send logs the event and queues it for every webhook, without waiting: a full queue drops it.
func (d *Dispatcher) Send(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	attrs := []any{"reason", e.Reason}
	if e.Object != "" {
		attrs = append(attrs, "object", e.Object, "owner", e.Owner)
	}
	if e.Cause != "" {
		attrs = append(attrs, "cause", e.Cause)
	}
	for _, c := range e.Changes {
		attrs = append(attrs, slog.Group(c.Field, "swarm", c.Swarm, "manifest", c.Manifest))
	}
	if e.Revision != "" {
		attrs = append(attrs, "revision", e.Revision)
	}
	d.log.Warn(e.Message, attrs...)
	d.mu.Lock()
	d.recent = append(d.recent, e)
	if len(d.recent) > RecentSize {
		d.recent = slices.Delete(d.recent, 0, len(d.recent)-RecentSize)
	}
	d.mu.Unlock()
	for _, w := range d.webhooks {
		select {
		case w.queue <- e:
		default:
			d.log.Error("alert queue full; event dropped", "webhook", redact.Webhook(w.url), "reason", e.Reason)
			if d.Dropped != nil {
				d.Dropped(w.url)
			}
		}
	}
}

// Recent returns the last events sent (at most RecentSize), newest first.
func (d *Dispatcher) Recent() []Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := slices.Clone(d.recent)
	slices.Reverse(out)
	return out
}

// Close stops accepting events and waits for the queues to drain (each delivery has bounded retries).
func (d *Dispatcher) Close() {
	for _, w := range d.webhooks {
		close(w.queue)
	}
	d.wg.Wait()
}

type webhook struct {
	url    string
	format Format
	queue  chan Event
	client *http.Client
	log    *slog.Logger
}

func (w *webhook) run() {
	for e := range w.queue {
		body, err := w.body(e)
		if err != nil {
			w.log.Error("alert not encodable", "error", err)
			continue
		}
		b := backoff.NewExponentialBackOff()
		b.InitialInterval, b.MaxElapsedTime = 500*time.Millisecond, 30*time.Second
		err = backoff.Retry(func() error { return w.post(body) }, b)
		if err != nil {
			w.log.Error("alert not delivered", "webhook", redact.Webhook(w.url), "reason", e.Reason, "error", err)
		}
	}
}

func (w *webhook) post(body []byte) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return backoff.Permanent(redact.Error(err, redact.Webhook))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return redact.Error(err, redact.Webhook)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		err := fmt.Errorf("webhook answered %s", resp.Status)
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return backoff.Permanent(err)
		}
		return err
	}
	return nil
}

func (w *webhook) body(e Event) ([]byte, error) {
	if w.format != FormatSlack {
		return json.Marshal(e)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*swarmgate %s*: %s", e.Reason, e.Message)
	for _, c := range e.Changes {
		fmt.Fprintf(&b, "\n• `%s`: swarm has `%s`, manifests want `%s`", c.Field, c.Swarm, c.Manifest)
	}
	if e.Revision != "" {
		fmt.Fprintf(&b, "\nrevision `%s`", e.Revision)
	}
	return json.Marshal(map[string]string{"text": b.String()})
}
