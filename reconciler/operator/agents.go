package operator

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// agentHub hands each agent gateway's newest config to its tasks' agents, which wait for it with
// long polls, and records what each task serves. Passes publish; HTTP handlers read.
type agentHub struct {
	mu       sync.Mutex
	configs  map[string][]byte // encoded bundles, by gateway (qualified name)
	owners   map[string]string // the owner key of each gateway, for alerts
	changed  chan struct{}     // closed, and replaced, whenever a config changes
	reports  map[string]map[string]status.AgentReport
	rejected map[string]bool // "gateway hash" already alerted
}

func newAgentHub() *agentHub {
	return &agentHub{configs: map[string][]byte{}, changed: make(chan struct{}), reports: map[string]map[string]status.AgentReport{},
		rejected: map[string]bool{}}
}

// publish makes configs the ones agents get, waking the agents of every gateway whose changed.
func (h *agentHub) publish(agentConfigs map[string]desired.AgentConfig) {
	configs := make(map[string][]byte, len(agentConfigs))
	owners := make(map[string]string, len(agentConfigs))
	for gw, c := range agentConfigs {
		owners[gw] = c.Owner
		b := contract.Bundle{Config: string(c.Config)}
		if len(c.Chains) > 0 {
			b.Chains = map[string]string{}
			for name, chain := range c.Chains {
				b.Chains[name] = string(chain)
			}
		}
		configs[gw] = b.Encode()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	changed := len(configs) != len(h.configs)
	for gw, conf := range configs {
		if old, ok := h.configs[gw]; !ok || contract.Hash(old) != contract.Hash(conf) {
			changed = true
		}
	}
	h.configs, h.owners = configs, owners
	// A refusal is alerted once per config; one no gateway is handed any more is forgotten.
	maps.DeleteFunc(h.rejected, func(key string, _ bool) bool {
		gw, hash, _ := strings.Cut(key, " ")
		conf, ok := configs[gw]
		return !ok || contract.Hash(conf) != hash
	})
	if changed {
		close(h.changed)
		h.changed = make(chan struct{})
	}
}

// reportTTL is how long a task's report stands without a new poll: a live agent polls at least
// every MaxWait (plus its backoff while the operator was away). A task that stops cancels its poll,
// which forgets it at once; one whose node is lost just stops polling.
const reportTTL = 2 * contract.MaxWait

// status lists, per gateway, the desired config and the reports of its live tasks; those of tasks
// that stopped polling (replaced, or their node gone) are forgotten.
func (h *agentHub) status() map[string]status.GatewayAgents {
	h.mu.Lock()
	defer h.mu.Unlock()
	stale := time.Now().Add(-reportTTL)
	out := map[string]status.GatewayAgents{}
	for gw, conf := range h.configs {
		maps.DeleteFunc(h.reports[gw], func(_ string, r status.AgentReport) bool { return r.Seen.Before(stale) })
		st := status.GatewayAgents{Desired: contract.Hash(conf)}
		for _, task := range slices.Sorted(maps.Keys(h.reports[gw])) {
			st.Tasks = append(st.Tasks, h.reports[gw][task])
		}
		out[gw] = st
	}
	return out
}

// serve answers one poll of an agent: the gateway's config if the task serves another one (and
// has not refused this one), else, once one arrives or MaxWait passes, that or 304.
func (c *Controller) serveAgent(w http.ResponseWriter, r *http.Request) {
	h := c.agents
	gw := r.PathValue("gateway")
	if r.Header.Get("Accept") != contract.BundleType {
		// An agent older than the operator would hand nginx the bundle as its config.
		http.Error(w, "this operator hands agents bundles ("+contract.BundleType+"): update the gateway image", http.StatusNotAcceptable)
		return
	}
	report := status.AgentReport{Task: r.Header.Get(contract.TaskHeader), Served: r.Header.Get(contract.ServedHeader),
		Rejected: r.Header.Get(contract.RejectedHeader), Error: r.Header.Get(contract.ErrorHeader),
		Unmounted: r.Header.Get(contract.UnmountedHeader) != "", Seen: time.Now().UTC()}
	deadline := time.NewTimer(contract.MaxWait)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		conf, ok := h.configs[gw]
		if ok && report.Task != "" {
			if h.reports[gw] == nil {
				h.reports[gw] = map[string]status.AgentReport{}
			}
			h.reports[gw][report.Task] = report
		}
		hash := contract.Hash(conf)
		alertRejected := ok && report.Rejected == hash && !report.Unmounted && !h.rejected[gw+" "+hash]
		if alertRejected {
			h.rejected[gw+" "+hash] = true
		}
		changed, owner := h.changed, h.owners[gw]
		h.mu.Unlock()
		if alertRejected {
			c.alerts.Send(alert.Event{Reason: alert.ReasonConfigRejected, Object: owner, Owner: owner,
				Message: fmt.Sprintf("gateway %s: task %s refuses config %s and keeps serving %s: %s", gw, report.Task, hash, report.Served, report.Error)})
		}
		switch {
		case !ok && !c.isReady():
			answerStandby(w)
			return
		case !ok:
			http.Error(w, "no such gateway with an agent", http.StatusNotFound)
			return
		case hash != report.Served && hash != report.Rejected:
			w.Header().Set("Content-Type", contract.BundleType)
			w.Header().Set(contract.HashHeader, hash)
			_, _ = w.Write(conf)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			w.WriteHeader(http.StatusNotModified)
			return
		case <-r.Context().Done():
			// The agent went away mid-poll: its task is stopping (swarm replaces it), or the
			// network dropped it, and then its next poll reports it again.
			h.mu.Lock()
			if cur, ok := h.reports[gw][report.Task]; ok && cur.Seen.Equal(report.Seen) {
				delete(h.reports[gw], report.Task)
			}
			h.mu.Unlock()
			return
		}
	}
}

// isReady says whether the controller has made a good pass: it is the active operator.
func (c *Controller) isReady() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

// answerStandby answers an agent of a standby (or an operator before its first pass), which has
// no configs to hand out: the agent keeps serving and asks again, on a new connection, which
// reaches the active operator when its operatorURL names both (the operator service's name).
func answerStandby(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", "1")
	http.Error(w, "this operator is not active (standing by, or before its first pass)", http.StatusServiceUnavailable)
}

// any says whether some gateway's agents take configs from this operator.
func (h *agentHub) any() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.configs) > 0
}
