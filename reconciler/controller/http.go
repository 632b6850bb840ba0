package controller

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/planner"
)

// StatusDocument is what GET /status answers.
type StatusDocument struct {
	Ready     bool                      `json:"ready"`
	Revision  string                    `json:"revision"`
	LastError string                    `json:"lastError,omitempty"`
	Objects   []reconciler.ObjectStatus `json:"objects"`
}

// HookHeader carries the shared secret of POST /hooks/git.
const HookHeader = "X-Swarmgate-Token"

// Handler serves /metrics, /healthz, /readyz (ready after the first good pass), GET /status (the
// view `swarmgate get` shows) and, when hookToken is set, POST /hooks/git (an immediate pull).
func (c *Controller) Handler(hookToken string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(c.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		c.mu.Lock()
		ready := c.ready
		c.mu.Unlock()
		if !ready {
			http.Error(w, "no good pass yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		doc := StatusDocument{Ready: c.ready, Revision: c.appliedRev, LastError: c.lastErr}
		objs := c.lastGood
		c.mu.Unlock()
		if objs != nil {
			p, err := c.rec.Plan(r.Context(), objs, planner.Options{Prune: true}, true)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			p.ObserveVirtualIPs(r.Context())
			doc.Objects = reconciler.Status(objs, p)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	if hookToken != "" {
		mux.HandleFunc("POST /hooks/git", func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get(HookHeader)), []byte(hookToken)) != 1 {
				http.Error(w, "wrong or missing "+HookHeader, http.StatusUnauthorized)
				return
			}
			c.Trigger("webhook")
			w.WriteHeader(http.StatusAccepted)
		})
	}
	return mux
}
