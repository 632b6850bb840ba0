package operator

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/operator/dashboard"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// StatusDocument is what GET /status answers.
type StatusDocument struct {
	Ready bool `json:"ready"`
	// Revision is the source revision applied last; SeenRevision the newest fetched, which
	// differs while it does not validate (LastError says why).
	Revision     string `json:"revision"`
	SeenRevision string `json:"seenRevision,omitempty"`
	LastError    string `json:"lastError,omitempty"`
	// Suspended says passes write nothing (POST /suspend) until POST /resume.
	Suspended bool                  `json:"suspended,omitempty"`
	Objects   []status.ObjectStatus `json:"objects"`
	// GatewayConfigs are, for each gateway with agents, the config it should serve and what its
	// tasks serve.
	GatewayConfigs map[string]status.GatewayAgents `json:"gatewayConfigs,omitempty"`
}

// HookHeader carries the shared secret of POST /hooks/git.
const HookHeader = "X-Swarmgate-Token"

// Tokens are the shared secrets of the endpoints.
type Tokens struct {
	// Hook, when set, enables POST /hooks/git for requests that carry it in HookHeader.
	Hook string
	// Read, when set, is required as "Authorization: Bearer <token>" (or, from a browser, as the
	// password of its login prompt) by GET /status, /explain, /traffic, /metrics and the dashboard
	// (/ui/), which otherwise anyone who reaches the port may read.
	Read string
	// Agent, when set, enables the gateway agents' config and traffic endpoints for requests
	// that carry it as a bearer token.
	Agent string
}

// failedAuthRate bounds how often a wrong token is even compared: guessing is slowed to this pace,
// and a flood of wrong tokens costs nothing but 429s.
const (
	failedAuthRate  = rate.Limit(1)
	failedAuthBurst = 10
)

// Handler serves /metrics, /healthz, /readyz (ready after the first good pass, and not while the
// source's newest revision does not validate), GET /status (the view `swarmgate get` shows),
// GET /explain (which Route answers a request), GET /traffic (each Route's traffic figures,
// Controller.Traffic), the dashboard under /ui/, the agents' endpoints when tokens.Agent is set
// and, when tokens.Hook is set, POST /hooks/git and /reconcile (a pass now, the source fetched
// anew), /suspend and /resume.
func (c *Controller) Handler(tokens Tokens) http.Handler {
	mux := http.NewServeMux()
	failures := rate.NewLimiter(failedAuthRate, failedAuthBurst)
	// authorized checks a token (none is wanted: every token is wrong); wrong ones are
	// rate-limited, all requests together.
	authorized := func(w http.ResponseWriter, got, want string) bool {
		if want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
			return true
		}
		if !failures.Allow() {
			http.Error(w, "too many requests with a wrong token", http.StatusTooManyRequests)
			return false
		}
		http.Error(w, "wrong or missing token", http.StatusUnauthorized)
		return false
	}
	readable := func(next http.Handler) http.Handler {
		if tokens.Read == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if _, password, ok := r.BasicAuth(); ok {
				got = password // a browser's login prompt: any user name, the token as password
			}
			// Asks a browser for the token; other clients send it as a bearer token.
			w.Header().Set("WWW-Authenticate", `Basic realm="swarmgate", charset="UTF-8"`)
			if authorized(w, got, tokens.Read) {
				w.Header().Del("WWW-Authenticate")
				next.ServeHTTP(w, r)
			}
		})
	}
	if tokens.Agent != "" || c.tokens != nil {
		// agent serves a request of the gateway agents that carries their token.
		agent := func(serve http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if c.tokens != nil && !c.tokens.known() {
					// Its own token is known from its first pass on: before it, and while standing
					// by, it answers what it would with the token (which /readyz tells anyone).
					answerStandby(w)
					return
				}
				got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				// The operator's own token secrets (Options.Agents), or --agent-token-file's.
				if c.tokens != nil && c.tokens.accepts(got) || authorized(w, got, tokens.Agent) {
					serve(w, r)
				}
			}
		}
		mux.HandleFunc("GET /v1/gateways/{gateway}/config", agent(c.serveAgent))
		mux.HandleFunc("POST /v1/gateways/{gateway}/traffic", agent(c.serveTraffic))
	}
	if c.opts.ACME != nil {
		// Public by design: the ACME server fetches the answers through the gateways.
		mux.Handle("GET /.well-known/acme-challenge/", c.opts.ACME.Challenges)
	}
	mux.Handle("GET /metrics", readable(promhttp.HandlerFor(c.metrics.Registry, promhttp.HandlerOpts{})))
	mux.Handle("GET /traffic", readable(http.HandlerFunc(c.serveTrafficFigures)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		c.mu.Lock()
		ready, why := c.readiness()
		c.mu.Unlock()
		if !ready {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /status", readable(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, _, err := c.statusNow(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})))
	mux.Handle("GET /explain", readable(http.HandlerFunc(c.serveExplain)))
	ui := readable(dashboard.Handler(c.dashboardView, dashboard.Refresh, c.log))
	mux.Handle("GET /ui", ui)
	mux.Handle("GET /ui/", ui)
	if tokens.Hook != "" {
		// The hook token also guards the controls: a pass now, and suspend/resume.
		control := func(do func()) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if authorized(w, r.Header.Get(HookHeader), tokens.Hook) {
					do()
					w.WriteHeader(http.StatusAccepted)
				}
			}
		}
		mux.HandleFunc("POST /hooks/git", control(func() { c.Trigger("webhook") }))
		mux.HandleFunc("POST /reconcile", control(func() { c.Trigger("reconcile requested") }))
		if c.tokens != nil {
			mux.HandleFunc("POST /rotate-agent-token", control(func() {
				c.tokens.Rotate()
				c.Trigger("agent token rotation requested")
			}))
		}
		mux.HandleFunc("POST /suspend", control(c.Suspend))
		mux.HandleFunc("POST /resume", control(c.Resume))
	}
	return mux
}

// statusNow judges the applied objects against the swarm as it is now: what GET /status answers,
// and the pass it read (nil before the first good pass).
func (c *Controller) statusNow(ctx context.Context) (StatusDocument, *reconciler.Pass, error) {
	c.mu.Lock()
	ready, _ := c.readiness()
	doc := StatusDocument{Ready: ready, Revision: c.appliedRev, SeenRevision: c.seenRev, LastError: c.lastErr, Suspended: c.suspended,
		GatewayConfigs: c.agents.status()}
	objs := c.lastGood
	c.mu.Unlock()
	if objs == nil {
		return doc, nil, nil
	}
	p, err := c.rec.Plan(ctx, reconciler.Input{Objects: objs, All: true, Validated: true}, planner.Options{Prune: true, KeepAgentConfigs: true}, true)
	if err != nil {
		return doc, nil, err
	}
	p.ObserveVirtualIPs(ctx)
	doc.Objects = p.Status(doc.GatewayConfigs)
	if c.opts.Traffic != nil {
		for i, st := range doc.Objects {
			if st.Kind == v1alpha1.KindRoute {
				if t, ok := c.opts.Traffic.RouteTraffic(st.Name); ok {
					doc.Objects[i].Traffic = &t
				}
			}
		}
	}
	return doc, p, nil
}

// ExplainQuery are the query parameters of GET /explain: the request to explain, as `swarmgate
// explain` takes it (header is repeatable, NAME=VALUE).
var ExplainQuery = struct{ Gateway, Listener, Host, Target, Method, Header string }{
	"gateway", "listener", "host", "target", "method", "header"}

// serveExplain says which Route and rule of the objects applied last answer a request: what
// `swarmgate explain --server` prints.
func (c *Controller) serveExplain(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	objs := c.lastGood
	c.mu.Unlock()
	if objs == nil {
		http.Error(w, "no good pass yet: nothing is applied", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	req := nginx.Request{Listener: v1alpha1.SectionName(q.Get(ExplainQuery.Listener)), Host: q.Get(ExplainQuery.Host),
		Target: q.Get(ExplainQuery.Target), Method: cmp.Or(q.Get(ExplainQuery.Method), http.MethodGet), Headers: map[string][]string{}}
	for _, h := range q[ExplainQuery.Header] {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			http.Error(w, "header: want NAME=VALUE", http.StatusBadRequest)
			return
		}
		req.Headers[k] = append(req.Headers[k], v)
	}
	if req.Target == "" {
		http.Error(w, "give the request's target", http.StatusBadRequest)
		return
	}
	ex, err := nginx.ExplainIn(objs, q.Get(ExplainQuery.Gateway), req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ex)
}

// dashboardView is what /ui shows: /status's judgement, the objects and swarm it was judged
// from, and the last alerts.
func (c *Controller) dashboardView(r *http.Request) (dashboard.View, error) {
	doc, p, err := c.statusNow(r.Context())
	if err != nil {
		return dashboard.View{}, err
	}
	in := dashboard.Input{Now: time.Now(), Statuses: doc.Objects, Events: c.alerts.Recent(), Agents: doc.GatewayConfigs,
		Operator: dashboard.Operator{Ready: doc.Ready, Revision: doc.Revision, SeenRevision: doc.SeenRevision,
			LastError: doc.LastError, Suspended: doc.Suspended}}
	if c.opts.Source != nil {
		in.Operator.Source = c.opts.Source.String()
	}
	if p != nil {
		in.Objects, in.Snapshot, in.Issued = p.Objects, p.Snapshot, p.Issued
	}
	return dashboard.Build(in), nil
}

// readiness says whether the operator is ready, as /readyz and /status both say: after its first
// good pass, and not while the source's newest revision does not validate (the swarm keeps the
// last good state, which is not what the source says). Called with c.mu held.
func (c *Controller) readiness() (bool, string) {
	switch {
	case !c.ready:
		return false, "no good pass yet"
	case c.invalidRev != "":
		return false, "revision " + c.invalidRev + " of the source is not applied: " + c.lastErr
	}
	return true, ""
}
