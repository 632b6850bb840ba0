package controller

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/acmeclient"
	"github.com/swarmgate/swarmgate/reconciler/alert"
	"github.com/swarmgate/swarmgate/reconciler/desired"
)

// ACME configures the certificates the operator obtains for listeners with tls.acme.
type ACME struct {
	Client *acmeclient.Client
	// Challenges answers the HTTP-01 challenges the gateways send the operator.
	Challenges http.Handler
	// RenewBefore renews a certificate this long before it expires. Defaults to 30 days.
	RenewBefore time.Duration
}

// certificates tracks the ACME work between passes: certificates obtained and not yet stored
// (the next pass stores them), orders in flight, and the backoff after a failure.
type certificates struct {
	mu       sync.Mutex
	pending  []desired.Certificate
	inFlight map[string]bool
	failed   map[string]certFailure
}

type certFailure struct {
	err     string
	retries int
	next    time.Time
}

func newCertificates() *certificates {
	return &certificates{inFlight: map[string]bool{}, failed: map[string]certFailure{}}
}

// pendingCerts are the certificates the next pass stores.
func (c *Controller) pendingCerts() []desired.Certificate {
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	return slices.Clone(c.certs.pending)
}

// stored forgets the pending certificates a pass wrote.
func (c *Controller) stored(written []desired.Certificate) {
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	c.certs.pending = slices.DeleteFunc(c.certs.pending, func(p desired.Certificate) bool {
		return slices.ContainsFunc(written, func(w desired.Certificate) bool { return bytes.Equal(w.Data, p.Data) })
	})
}

// orderCertificates starts an order for each ACME listener whose certificate is missing or due,
// unless one is in flight, obtained and waiting to be stored, or backing off after a failure, or
// its gateway has no task running yet: the challenge would fail, and ACME servers limit failures.
func (c *Controller) orderCertificates(ctx context.Context, p *reconciler.Pass, statuses []reconciler.ObjectStatus) {
	a := c.opts.ACME
	if a == nil {
		return
	}
	renewBefore := a.RenewBefore
	if renewBefore == 0 {
		renewBefore = 30 * 24 * time.Hour
	}
	now := time.Now()
	running, wanted := map[string]bool{}, map[string]bool{}
	for _, st := range statuses {
		running[string(st.Kind)+"/"+st.Name] = st.Running > 0
		wanted[string(st.Kind)+"/"+st.Name] = st.Desired > 0
	}
	waiting := false
	for _, req := range reconciler.DueCertificates(p.Objects, p.Issued, now, renewBefore) {
		if !running[req.Owner] {
			waiting = waiting || wanted[req.Owner] // a gateway scaled to 0 is not waited for
			continue
		}
		c.certs.mu.Lock()
		f, failed := c.certs.failed[req.Key]
		busy := c.certs.inFlight[req.Key] || slices.ContainsFunc(c.certs.pending, func(p desired.Certificate) bool {
			return desired.CertificateKey(p.Gateway, p.Listener) == req.Key
		}) || failed && now.Before(f.next)
		if !busy {
			c.certs.inFlight[req.Key] = true
		}
		c.certs.mu.Unlock()
		if busy {
			continue
		}
		go c.order(ctx, req)
	}
	if waiting {
		// A task starting sends no event a pass waits on: look again shortly.
		time.AfterFunc(gatewayWait, func() { c.Trigger("certificate waits for its gateway") })
	}
}

// gatewayWait is how long an order waits for its gateway's first task before looking again.
const gatewayWait = 3 * time.Second

// order obtains one certificate. Success is stored by the next pass, which it triggers; a failure
// is alerted once per run of failures (the errors name one-time tokens, so they all differ) and
// retried after a backoff (1 minute, doubling, at most a day), while the last good certificate,
// if any, keeps serving.
func (c *Controller) order(ctx context.Context, req reconciler.CertificateRequest) {
	orderCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	c.log.Info("ordering a certificate", "hostname", req.Hostname, "listener", req.Key, "acme", req.Directory)
	cert, err := c.opts.ACME.Client.Obtain(orderCtx, req.Directory, req.Email, req.Hostname)
	c.certs.mu.Lock()
	delete(c.certs.inFlight, req.Key)
	if err != nil {
		f := c.certs.failed[req.Key]
		f.retries++
		wait := min(time.Minute<<min(f.retries-1, 10), 24*time.Hour)
		f.next = time.Now().Add(wait)
		news := f.retries == 1
		f.err = err.Error()
		c.certs.failed[req.Key] = f
		c.certs.mu.Unlock()
		c.metrics.Errors.WithLabelValues(alert.ReasonCertificateFailed).Inc()
		if news {
			c.alerts.Send(alert.Event{Reason: alert.ReasonCertificateFailed, Object: req.Key, Owner: req.Owner,
				Message: fmt.Sprintf("no certificate for %s (listener %s) from %s: %v; retrying in %s, the last good certificate (if any) keeps serving", req.Hostname, req.Key, req.Directory, err, wait)})
		}
		time.AfterFunc(wait, func() { c.Trigger("certificate retry") })
		return
	}
	delete(c.certs.failed, req.Key)
	c.certs.pending = append(c.certs.pending, desired.Certificate{Owner: req.Owner, Gateway: req.Gateway, Listener: req.Listener, Data: cert.Data, NotAfter: cert.NotAfter, Names: cert.Names})
	c.certs.mu.Unlock()
	c.alerts.Send(alert.Event{Reason: alert.ReasonCertificateIssued, Object: req.Key, Owner: req.Owner,
		Message: fmt.Sprintf("certificate for %s (listener %s) issued, valid until %s", req.Hostname, req.Key, cert.NotAfter.UTC().Format(time.RFC3339))})
	c.Trigger("certificate issued")
}
