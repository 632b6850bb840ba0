package desired

import (
	"fmt"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// AgentDefaults are what an operator on the swarm (swarmgate run --agent-url) gives the agents of
// a Gateway whose spec.agent leaves operatorURL or tokenSecret unset: the operator's URL by its
// service name on its network, which such a gateway joins, and the token secret it made.
type AgentDefaults struct {
	OperatorURL string
	Network     string
	TokenSecret string
}

// withAgentDefaults returns gw with what its spec.agent leaves unset taken from defaults, and the
// operator's network when the gateway reaches the operator through it ("" otherwise). A
// gateway without spec.agent is returned as it is.
func withAgentDefaults(gw *v1alpha1.Gateway, defaults *AgentDefaults) (*v1alpha1.Gateway, string, error) {
	a := gw.Spec.Agent
	if a == nil || (a.OperatorURL != "" && a.TokenSecret != "") {
		return gw, "", nil
	}
	if defaults == nil {
		return nil, "", fmt.Errorf("%s: spec.agent: no operator serves gateway agents on this swarm: run it there "+
			"(manifests/deploy/swarmgate-stack.yaml, swarmgate run --agent-url), or give operatorURL and tokenSecret", v1alpha1.Ref(gw))
	}
	agent := *a
	var network string
	if agent.OperatorURL == "" {
		agent.OperatorURL, network = defaults.OperatorURL, defaults.Network
	}
	if agent.TokenSecret == "" {
		agent.TokenSecret = defaults.TokenSecret
	}
	out := *gw
	out.Spec.Agent = &agent
	return &out, network, nil
}
