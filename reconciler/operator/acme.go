package operator

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/acme"
	"github.com/swarmgate/swarmgate/reconciler/acme/acmeclient"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// ACME configures the certificates the operator obtains for listeners with tls.acme.
type ACME struct {
	Client *acmeclient.Client
	// Challenges answers the HTTP-01 challenges the gateways send the operator.
	Challenges http.Handler
	// RenewBefore renews a certificate this long before it expires. Defaults to 30 days.
	RenewBefore time.Duration
	// SecretsDir is where the operator's own swarm secrets are mounted (/run/secrets): the TSIG
	// secrets of DNS-01 listeners are read there, by name.
	SecretsDir string
	// RenewalInfoInterval is how often the ACME server is asked when to renew each certificate
	// (ARI); 0 follows the server's Retry-After (6 hours when it gives none).
	RenewalInfoInterval time.Duration
}

// certificates tracks the ACME work between passes: certificates obtained and not yet stored
// (the next pass stores them), orders in flight, and the backoff after a failure.
type certificates struct {
	mu       sync.Mutex
	pending  []acme.Certificate
	inFlight map[string]bool
	failed   map[string]certFailure
	renewals map[string]*renewal // by ARI ID
	// dueTimer starts a pass when the next certificate falls due.
	dueTimer *time.Timer
}

// renewal is what the ACME server last said of when to renew an issued certificate (ARI).
type renewal struct {
	// at is when to renew: a point of the server's window, zero while unknown.
	at time.Time
	// next is when to ask again; asking is set while a request is out.
	next   time.Time
	asking bool
	// newKey is set when the window was already past: the certificate was revoked (perhaps its
	// key was compromised) or the CA is replacing certificates en masse; the renewal makes a new key.
	newKey bool
}

type certFailure struct {
	err     string
	retries int
	next    time.Time
}

func newCertificates() *certificates {
	return &certificates{inFlight: map[string]bool{}, failed: map[string]certFailure{}, renewals: map[string]*renewal{}}
}

// pendingCerts are the certificates the next pass stores.
func (c *Controller) pendingCerts() []acme.Certificate {
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	return slices.Clone(c.certs.pending)
}

// stored forgets the pending certificates a pass wrote.
func (c *Controller) stored(written []acme.Certificate) {
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	c.certs.pending = slices.DeleteFunc(c.certs.pending, func(p acme.Certificate) bool {
		return slices.ContainsFunc(written, func(w acme.Certificate) bool { return bytes.Equal(w.Chain, p.Chain) })
	})
}

// orderCertificates starts an order for each ACME listener whose certificate is missing or due,
// unless one is in flight, obtained and waiting to be stored, or backing off after a failure, or
// (HTTP-01) its gateway does not serve yet: no task running or, with agents, none whose agent
// reports nginx serving (a task runs before nginx listens). The challenge would fail, alert at
// the gateway's first start, and back off for a minute; ACME servers also limit failures.
func (c *Controller) orderCertificates(ctx context.Context, p *reconciler.Pass, statuses []status.ObjectStatus, agents map[string]status.GatewayAgents) {
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
		running[inventory.NewOwner(st.Kind, st.Name).String()] = st.Running > 0
		wanted[inventory.NewOwner(st.Kind, st.Name).String()] = st.Desired > 0
	}
	c.askRenewalInfo(ctx, p.Issued, now)
	c.wakeWhenDue(p.Issued, renewBefore, now)
	renewNow := func(id string) (renew, newKey bool) {
		c.certs.mu.Lock()
		defer c.certs.mu.Unlock()
		r := c.certs.renewals[id]
		if r == nil || r.at.IsZero() || now.Before(r.at) {
			return false, false
		}
		return true, r.newKey
	}
	waiting := false
	for _, req := range acme.Due(p.Objects, p.Issued, now, renewBefore, renewNow) {
		if req.DNS01 == nil && !serves(req, running[req.Owner], agents) {
			waiting = waiting || wanted[req.Owner] // a gateway scaled to 0 is not waited for
			continue
		}
		c.certs.mu.Lock()
		f, failed := c.certs.failed[req.Key]
		busy := c.certs.inFlight[req.Key] || slices.ContainsFunc(c.certs.pending, func(p acme.Certificate) bool {
			return acme.Key(p.Gateway, p.Listener) == req.Key
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

// serves tells whether the gateway of an HTTP-01 order answers its challenges: a task runs and,
// where agents hand out its configs, one reports nginx serving.
func serves(req acme.CertificateRequest, running bool, agents map[string]status.GatewayAgents) bool {
	reports, withAgents := agents[req.Gateway]
	return running && (!withAgents || slices.ContainsFunc(reports.Tasks, func(t status.AgentReport) bool { return t.Served != "" }))
}

// wakeWhenDue has a pass start when the first of the issued certificates not due yet falls due:
// passes may be far apart (--resync).
func (c *Controller) wakeWhenDue(issued map[string]acme.IssuedCertificate, renewBefore time.Duration, now time.Time) {
	var next time.Time
	for _, cert := range issued {
		if at := cert.DueAt(renewBefore); at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	if c.certs.dueTimer != nil {
		c.certs.dueTimer.Stop()
	}
	if !next.IsZero() {
		c.certs.dueTimer = time.AfterFunc(next.Sub(now), func() { c.Trigger("certificate due for renewal") })
	}
}

// gatewayWait is how long an order waits for its gateway's first task before looking again.
const gatewayWait = 3 * time.Second

// order obtains one certificate. Success is stored by the next pass, which it triggers; a failure
// is alerted once per run of failures (the errors name one-time tokens, so they all differ) and
// retried after a backoff (1 minute, doubling, at most a day), while the last good certificate,
// if any, keeps serving.
func (c *Controller) order(ctx context.Context, req acme.CertificateRequest) {
	orderCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	c.log.Info("ordering a certificate", "hostname", req.Hostname, "listener", req.Key, "acme", req.Directory)
	order := acmeclient.Order{Directory: req.Directory, Email: req.Email, Host: req.Hostname, Replaces: req.Replaces, CSR: req.CSR}
	var err error
	if req.DNS01 != nil {
		order.DNS01, err = c.dnsUpdate(req.DNS01)
	}
	var cert *acmeclient.Certificate
	if err == nil {
		cert, err = c.opts.ACME.Client.Obtain(orderCtx, order)
	}
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
	c.certs.pending = append(c.certs.pending, acme.Certificate{Owner: req.Owner, Gateway: req.Gateway, Listener: req.Listener,
		Chain: cert.Chain, Key: cert.Key, CSR: cert.CSR, KeySecret: req.KeySecret,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, Names: cert.Names, ARIID: cert.ARIID})
	c.certs.mu.Unlock()
	c.alerts.Send(alert.Event{Reason: alert.ReasonCertificateIssued, Object: req.Key, Owner: req.Owner,
		Message: fmt.Sprintf("certificate for %s (listener %s) issued, valid until %s", req.Hostname, req.Key, cert.NotAfter.UTC().Format(time.RFC3339))})
	c.Trigger("certificate issued")
}

// dnsUpdate is the DNS server of a DNS-01 listener, with its TSIG secret read from the operator's
// secrets. Read at each order: a rotated secret is used without a restart.
func (c *Controller) dnsUpdate(r *v1alpha1.ACMERFC2136) (*acmeclient.DNSUpdate, error) {
	d := &acmeclient.DNSUpdate{Nameserver: r.Nameserver, KeyName: r.TSIGKeyName, Algorithm: r.TSIGAlgorithm}
	if r.TSIGSecretRef == nil {
		return d, nil
	}
	dir := c.opts.ACME.SecretsDir
	if dir == "" {
		dir = "/run/secrets"
	}
	data, err := os.ReadFile(filepath.Join(dir, r.TSIGSecretRef.Name))
	if err != nil {
		return nil, fmt.Errorf("the TSIG secret %s (give the operator's service that swarm secret): %w", r.TSIGSecretRef.Name, err)
	}
	d.Secret = strings.TrimSpace(string(data))
	if _, err := base64.StdEncoding.DecodeString(d.Secret); err != nil || d.Secret == "" {
		return nil, fmt.Errorf("the TSIG secret %s is not base64 (as tsig-keygen and keymgr print it)", r.TSIGSecretRef.Name)
	}
	return d, nil
}

// askRenewalInfo asks the ACME servers when to renew the issued certificates whose answer is due
// (ARI, RFC 9773), and forgets the answers about certificates no longer issued. A server that
// moves a window to the past (a revocation, a mass-renewal event) has the next pass renew.
func (c *Controller) askRenewalInfo(ctx context.Context, issued map[string]acme.IssuedCertificate, now time.Time) {
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	current := map[string]bool{}
	for _, cert := range issued {
		if cert.ARIID == "" || cert.Issuer == nil {
			continue
		}
		current[cert.ARIID] = true
		r := c.certs.renewals[cert.ARIID]
		if r == nil {
			r = &renewal{}
			c.certs.renewals[cert.ARIID] = r
		}
		if r.asking || now.Before(r.next) {
			continue
		}
		r.asking = true
		go c.askRenewal(ctx, cert)
	}
	maps.DeleteFunc(c.certs.renewals, func(id string, r *renewal) bool { return !current[id] && !r.asking })
}

// askRenewal asks one certificate's ACME server when to renew it. The time chosen in the window
// the server suggests is the same for a certificate at every ask (it is taken from its ID), so a
// restart does not move it, and different certificates spread over the window, as RFC 9773 asks.
func (c *Controller) askRenewal(ctx context.Context, cert acme.IssuedCertificate) {
	reqCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start, end, retryAfter, err := c.opts.ACME.Client.RenewalWindow(reqCtx, cert.Issuer.Directory, cert.Issuer.Email, cert.ARIID)
	now := time.Now()
	wait := c.opts.ACME.RenewalInfoInterval
	if wait == 0 {
		wait = retryAfter
	}
	if wait <= 0 {
		wait = 6 * time.Hour
	}
	c.certs.mu.Lock()
	defer c.certs.mu.Unlock()
	r := c.certs.renewals[cert.ARIID]
	if r == nil {
		return
	}
	r.asking, r.next = false, now.Add(wait)
	if err != nil {
		if !errors.Is(err, acmeclient.ErrNoRenewalInfo) {
			c.log.Warn("could not ask the ACME server when to renew a certificate", "certificate", cert.Name, "acme", cert.Issuer.Directory, "err", err)
		}
		return
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(cert.ARIID))
	r.at = start.Add(time.Duration(float64(end.Sub(start)) * float64(h.Sum64()>>11) / (1 << 53)))
	r.newKey = !end.After(now)
	switch {
	case !end.After(now):
		c.log.Warn("the ACME server asks for a certificate to be replaced at once (revoked, or a mass renewal)", "certificate", cert.Name, "acme", cert.Issuer.Directory)
		go c.Trigger("ACME server asks for a renewal")
	case !now.Before(r.at):
		go c.Trigger("certificate renewal window")
	case r.at.Sub(now) < wait:
		time.AfterFunc(r.at.Sub(now), func() { c.Trigger("certificate renewal window") })
	}
}
