package operator

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"golang.org/x/time/rate"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/planner"
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
	// Read, when set, is required as "Authorization: Bearer <token>" by GET /status, /traffic and
	// /metrics, which otherwise anyone who reaches the port may read.
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
// GET /traffic (each Route's traffic figures, Controller.Traffic), the agents' endpoints when
// tokens.Agent is set and,
// when tokens.Hook is set, POST /hooks/git and /reconcile (a pass now, the source fetched anew),
// /suspend and /resume.
func (c *Controller) Handler(tokens Tokens) http.Handler {
	mux := http.NewServeMux()
	failures := rate.NewLimiter(failedAuthRate, failedAuthBurst)
	// authorized checks a token; wrong ones are rate-limited, all requests together.
	authorized := func(w http.ResponseWriter, got, want string) bool {
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
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
			if authorized(w, got, tokens.Read) {
				next.ServeHTTP(w, r)
			}
		})
	}
	if tokens.Agent != "" {
		mux.HandleFunc("GET /v1/gateways/{gateway}/config", func(w http.ResponseWriter, r *http.Request) {
			got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if authorized(w, got, tokens.Agent) {
				c.serveAgent(w, r)
			}
		})
		mux.HandleFunc("POST /v1/gateways/{gateway}/traffic", func(w http.ResponseWriter, r *http.Request) {
			got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if authorized(w, got, tokens.Agent) {
				c.serveTraffic(w, r)
			}
		})
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
		c.mu.Lock()
		ready, _ := c.readiness()
		doc := StatusDocument{Ready: ready, Revision: c.appliedRev, SeenRevision: c.seenRev, LastError: c.lastErr, Suspended: c.suspended,
			GatewayConfigs: c.agents.status()}
		objs := c.lastGood
		c.mu.Unlock()
		if objs != nil {
			p, err := c.rec.Plan(r.Context(), reconciler.Input{Objects: objs, All: true}, planner.Options{Prune: true, KeepAgentConfigs: true}, true)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			p.ObserveVirtualIPs(r.Context())
			doc.Objects = p.Status(doc.GatewayConfigs)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})))
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
		mux.HandleFunc("POST /suspend", control(c.Suspend))
		mux.HandleFunc("POST /resume", control(c.Resume))
	}
	return mux
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
