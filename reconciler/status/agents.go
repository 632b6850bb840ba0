package status

import (
	"fmt"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// AgentReport is what one gateway task's agent last said: the config it serves, and the one it
// refused with nginx's error.
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

// GatewayAgents is, for a gateway with agents, the config it should serve and what each task
// serves: a task on another config is drift its agent heals by itself.
type GatewayAgents struct {
	Desired string        `json:"desired"`
	Tasks   []AgentReport `json:"tasks"`
}

// TaskState says where a task stands with the config it should serve: current, converging (its
// agent takes the new one at once), waiting to be replaced (the config reads files swarm mounts
// only in its successors), or refusing it (with nginx's reason).
func (g GatewayAgents) TaskState(task AgentReport) string {
	switch {
	case task.Rejected == g.Desired && task.Unmounted:
		return "waits to be replaced: " + task.Error
	case task.Rejected == g.Desired:
		return "refuses the desired config: " + task.Error
	case task.Served != g.Desired:
		return "converging"
	}
	return "current"
}

// health is what the agents' reports make of a gateway whose services are healthy: a task that
// refuses the newest config makes it Degraded, one that has not taken it yet (or cannot until
// swarm replaces it) Progressing.
func (g GatewayAgents) health() (v1alpha1.HealthStatus, v1alpha1.ConditionReason, string) {
	pending := 0
	for _, task := range g.Tasks {
		switch {
		case task.Rejected == g.Desired && !task.Unmounted:
			return v1alpha1.Degraded, v1alpha1.ReasonConfigRejected,
				fmt.Sprintf("task %s refuses the newest config and serves the one before: %s", task.Task, task.Error)
		case task.Served != g.Desired:
			pending++
		}
	}
	if pending > 0 {
		return v1alpha1.Progressing, v1alpha1.ReasonConfigPending, fmt.Sprintf("%d of %d tasks have not taken the newest config yet", pending, len(g.Tasks))
	}
	return v1alpha1.Healthy, "", ""
}
