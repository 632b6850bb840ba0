package operator

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
)

// AgentReport is what a gateway task's agent last said: the config it serves and, if nginx
// refused the newest, which and why.
type AgentReport struct {
	Task     string `json:"task"`
	Served   string `json:"served"`
	Rejected string `json:"rejected,omitempty"`
	Error    string `json:"error,omitempty"`
	// Unmounted says the task did not take Rejected because files it reads are not mounted in
	// the task (swarm is replacing it): no refusal of nginx's.
	Unmounted bool      `json:"unmounted,omitempty"`
	Seen      time.Time `json:"seen"`
}

// GatewayConfigStatus is, for a gateway with agents, the config it should serve and what each
// task serves: a task on another config is drift its agent heals by itself.
type GatewayConfigStatus struct {
	Desired string        `json:"desired"`
	Tasks   []AgentReport `json:"tasks"`
}

// agentHub hands each agent gateway's newest config to its tasks' agents, which wait for it with
// long polls, and records what each task serves. Passes publish; HTTP handlers read.
type agentHub struct {
	mu       sync.Mutex
	configs  map[string][]byte // encoded bundles, by gateway
	changed  chan struct{}     // closed, and replaced, whenever a config changes
	reports  map[string]map[string]AgentReport
	rejected map[string]bool // "gateway hash" already alerted
}

func newAgentHub() *agentHub {
	return &agentHub{configs: map[string][]byte{}, changed: make(chan struct{}), reports: map[string]map[string]AgentReport{},
		rejected: map[string]bool{}}
}

// publish makes configs the ones agents get, waking the agents of every gateway whose changed.
func (h *agentHub) publish(agentConfigs map[string]desired.AgentConfig) {
	configs := make(map[string][]byte, len(agentConfigs))
	for gw, c := range agentConfigs {
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
	h.configs = maps.Clone(configs)
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
func (h *agentHub) status() map[string]GatewayConfigStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	stale := time.Now().Add(-reportTTL)
	out := map[string]GatewayConfigStatus{}
	for gw, conf := range h.configs {
		maps.DeleteFunc(h.reports[gw], func(_ string, r AgentReport) bool { return r.Seen.Before(stale) })
		st := GatewayConfigStatus{Desired: contract.Hash(conf)}
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
	report := AgentReport{Task: r.Header.Get(contract.TaskHeader), Served: r.Header.Get(contract.ServedHeader),
		Rejected: r.Header.Get(contract.RejectedHeader), Error: r.Header.Get(contract.ErrorHeader),
		Unmounted: r.Header.Get(contract.UnmountedHeader) != "", Seen: time.Now().UTC()}
	deadline := time.NewTimer(contract.MaxWait)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		conf, ok := h.configs[gw]
		if ok && report.Task != "" {
			if h.reports[gw] == nil {
				h.reports[gw] = map[string]AgentReport{}
			}
			h.reports[gw][report.Task] = report
		}
		hash := contract.Hash(conf)
		alertRejected := ok && report.Rejected == hash && !report.Unmounted && !h.rejected[gw+" "+hash]
		if alertRejected {
			h.rejected[gw+" "+hash] = true
		}
		changed := h.changed
		h.mu.Unlock()
		if alertRejected {
			c.alerts.Send(alert.Event{Reason: alert.ReasonConfigRejected, Object: "Gateway/" + gw, Owner: "Gateway/" + gw,
				Message: fmt.Sprintf("gateway %s: task %s refuses config %s and keeps serving %s: %s", gw, report.Task, hash, report.Served, report.Error)})
		}
		switch {
		case !ok && !c.isReady():
			// A standby (or an operator before its first pass) has no configs to hand out: the
			// agent keeps serving and asks again, on a new connection, which reaches the active
			// operator when its operatorURL names both (the operator service's virtual IP).
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			http.Error(w, "this operator is not active (standing by, or before its first pass)", http.StatusServiceUnavailable)
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

// withAgents folds what gateway agents report into their gateways' health: a task that refuses
// the newest config makes its gateway Degraded, one that has not taken it yet (or cannot until
// swarm replaces it) Progressing.
// Gateways are keyed by qualified name in configs and named in statuses.
func withAgents(statuses []reconciler.ObjectStatus, objs []v1alpha1.Object, configs map[string]GatewayConfigStatus) []reconciler.ObjectStatus {
	qualified := map[string]string{}
	for _, o := range objs {
		if gw, ok := o.(*v1alpha1.Gateway); ok {
			qualified[gw.Metadata.Name] = gw.Metadata.QualifiedName()
		}
	}
	for i := range statuses {
		st := &statuses[i]
		c, ok := configs[qualified[st.Name]]
		if st.Kind != v1alpha1.KindGateway || !ok || st.Health != v1alpha1.Healthy {
			continue
		}
		pending := 0
		for _, task := range c.Tasks {
			switch {
			case task.Rejected == c.Desired && !task.Unmounted:
				st.Health, st.Reason, st.Message = v1alpha1.Degraded, v1alpha1.ReasonConfigRejected,
					fmt.Sprintf("task %s refuses the newest config and serves the one before: %s", task.Task, task.Error)
			case task.Served != c.Desired:
				pending++
			}
		}
		if pending > 0 && st.Health == v1alpha1.Healthy {
			st.Health, st.Reason, st.Message = v1alpha1.Progressing, v1alpha1.ReasonConfigPending,
				fmt.Sprintf("%d of %d tasks have not taken the newest config yet", pending, len(c.Tasks))
		}
		if st.Health != v1alpha1.Healthy {
			if ready := st.Condition(v1alpha1.ConditionReady); ready != nil {
				*ready = reconciler.Condition{Type: v1alpha1.ConditionReady, Status: v1alpha1.ConditionFalse, Reason: st.Reason, Message: st.Message}
			}
		}
	}
	return statuses
}

// isReady says whether the controller has made a good pass: it is the active operator.
func (c *Controller) isReady() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}
