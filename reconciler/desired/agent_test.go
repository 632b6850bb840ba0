package desired

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// TestBuildAgentDefaults: a Gateway's spec.agent takes what it leaves unset from the operator on
// the swarm, and joins the operator's network only when it reaches the operator there.
func TestBuildAgentDefaults(t *testing.T) {
	defaults := &AgentDefaults{OperatorURL: "http://swarmgate:9090", Network: "swarmgate-control", TokenSecret: "swarmgate-i-agent-token-0a1b2c3d"}
	for _, tt := range []struct {
		name, agent  string
		defaults     *AgentDefaults
		operator     string
		tokenSecret  string
		networks     []string
		errSubstring string
	}{
		{name: "agent: {} takes the operator's URL, network and token secret", agent: "{}", defaults: defaults,
			operator: "http://swarmgate:9090", tokenSecret: defaults.TokenSecret, networks: []string{"edge", "swarmgate-control"}},
		{name: "its own URL: the operator's token, no network joined", agent: `{operatorURL: "http://10.0.0.1:9090"}`, defaults: defaults,
			operator: "http://10.0.0.1:9090", tokenSecret: defaults.TokenSecret, networks: []string{"edge"}},
		{name: "its own token secret: the operator's URL and network", agent: "{tokenSecret: mine}", defaults: defaults,
			operator: "http://swarmgate:9090", tokenSecret: "mine", networks: []string{"edge", "swarmgate-control"}},
		{name: "both its own: the operator's settings are not used", agent: `{operatorURL: "http://10.0.0.1:9090", tokenSecret: mine}`, defaults: defaults,
			operator: "http://10.0.0.1:9090", tokenSecret: "mine", networks: []string{"edge"}},
		{name: "both its own, no operator on the swarm", agent: `{operatorURL: "http://10.0.0.1:9090", tokenSecret: mine}`,
			operator: "http://10.0.0.1:9090", tokenSecret: "mine", networks: []string{"edge"}},
		{name: "agent: {} without an operator on the swarm", agent: "{}", errSubstring: "Gateway gw: spec.agent: no operator serves gateway agents on this swarm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs, errs := manifest.Decode("test.yaml", []byte(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  image: swarmgate/gateway:test
  listeners: [{name: http, port: 80}]
  network: {name: edge}
  agent: `+tt.agent+"\n"))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, o := range objs {
				o.Default()
			}
			s, err := Build(objs, Options{Instance: "i", Agents: tt.defaults})
			if tt.errSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSubstring) {
					t.Fatalf("Build: %v, want an error with %q", err, tt.errSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			spec := s.Services[0].Spec.TaskTemplate
			args := spec.ContainerSpec.Args
			if i := slices.Index(args, "--operator"); i < 0 || args[i+1] != tt.operator {
				t.Errorf("args %q, want --operator %s", args, tt.operator)
			}
			var networks []string
			for _, n := range spec.Networks {
				networks = append(networks, n.Target)
			}
			if !slices.Equal(networks, tt.networks) {
				t.Errorf("networks %q, want %q", networks, tt.networks)
			}
			if !slices.ContainsFunc(spec.ContainerSpec.Secrets, func(r *swarm.SecretReference) bool {
				return r.SecretName == tt.tokenSecret && r.File.Name == contract.AgentTokenPath
			}) {
				t.Errorf("secrets %+v, want %s at %s", spec.ContainerSpec.Secrets, tt.tokenSecret, contract.AgentTokenPath)
			}
			// The operator's network is joined, never created nor owned.
			if slices.ContainsFunc(s.Networks, func(n Network) bool { return n.Name == "swarmgate-control" }) {
				t.Errorf("the operator's network is among the networks swarmgate makes: %+v", s.Networks)
			}
		})
	}
}
