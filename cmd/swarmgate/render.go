package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

func newRenderCommand() *cobra.Command {
	opts := &fileOptions{}
	var (
		addresses   []string
		showSecrets bool
	)
	cmd := &cobra.Command{
		Use:   "render -f PATH...",
		Short: "Print the nginx and keepalived configuration the manifests produce",
		Long: `Render, without touching the swarm, the configuration swarmgate would give
each gateway (its nginx conf.d/default.conf) and each node of each virtual IP
(its keepalived.conf). Virtual IPs with unicast adverts need every node's
address: apply reads it from the swarm, render takes it from --node-address.`,
		Example: `  # The seed scenario's gateway and keepalived configs
  swarmgate render -f manifests/examples/seed/ \
    --node-address node1=10.0.0.1 --node-address node2=10.0.0.2 --node-address node3=10.0.0.3`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addrs, err := parseNodeAddresses(addresses)
			if err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			objs, err := opts.load(cmd)
			if err != nil {
				return err
			}
			return render(cmd.OutOrStdout(), objs, addrs, showSecrets)
		},
	}
	opts.addFlags(cmd)
	cmd.Flags().StringArrayVar(&addresses, "node-address", nil, "HOSTNAME=IP of a node, for virtual IPs with unicast adverts; repeatable")
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print VRRP passwords instead of masking them")
	return cmd
}

func parseNodeAddresses(flags []string) (map[string]netip.Addr, error) {
	addrs := map[string]netip.Addr{}
	for _, f := range flags {
		host, ip, ok := strings.Cut(f, "=")
		a, err := netip.ParseAddr(ip)
		if !ok || host == "" || err != nil {
			return nil, fmt.Errorf("--node-address %q: want HOSTNAME=IP", f)
		}
		addrs[host] = a
	}
	return addrs, nil
}

// renderAgents stand in for the operator on the swarm, which completes a Gateway's `agent: {}`:
// its settings in manifests/deploy/swarmgate-stack.yaml. Only an ACME listener's challenges,
// which go to the operator, put them in a config.
var renderAgents = &desired.AgentDefaults{OperatorURL: "http://swarmgate:9090", Network: "swarmgate-control", TokenSecret: "swarmgate-agent-token"}

// render prints the configs of the desired state: apply converges the same state, so render and
// apply cannot disagree. addrs stands in for the swarm's nodes.
func render(w io.Writer, objs []v1alpha1.Object, addrs map[string]netip.Addr, showSecrets bool) error {
	nodes := make([]desired.Node, 0, len(addrs))
	for h, a := range addrs {
		nodes = append(nodes, desired.Node{Hostname: h, Addr: a})
	}
	d, err := desired.Build(objs, desired.Options{Instance: "render", Nodes: nodes, Agents: renderAgents})
	if err != nil {
		return err
	}
	for _, v := range d.VirtualIPs {
		if len(v.Missing) > 0 {
			return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("virtual IP %s: no address for node %s (pass --node-address HOSTNAME=IP)", v.Name, strings.Join(v.Missing, ", "))}
		}
	}
	for _, warning := range d.Warnings {
		slog.Warn(warning, "reason", "VRRPConfig")
	}
	passwords := map[string]string{}
	for _, o := range objs {
		if vip, ok := o.(*v1alpha1.VirtualIP); ok && vip.Spec.Auth != nil && !showSecrets {
			passwords[inventory.OwnerOf(vip).String()] = vip.Spec.Auth.Password
		}
	}
	agentConfigs := map[string][]byte{} // by owner
	for _, ac := range d.AgentConfigs {
		agentConfigs[ac.Owner] = ac.Config
	}
	// Gateways first, then each virtual IP's nodes.
	secrets := slices.Clone(d.Secrets)
	slices.SortStableFunc(secrets, func(a, b desired.Secret) int { return cmp.Compare(isNodeConfig(a), isNodeConfig(b)) })
	for _, sec := range secrets {
		kind, name := inventory.Owner(sec.Owner).Kind(), inventory.Owner(sec.Owner).Name()
		conf := sec.Data
		if sec.Node == "" {
			// A gateway's agents are given the config with every route from the operator; the
			// tasks start with the secret's, which holds no routes when that one is too large
			// for a secret.
			agentConf, agents := agentConfigs[sec.Owner]
			if !agents || bytes.Equal(agentConf, conf) {
				fmt.Fprintf(w, "# ---- %s %s: %s\n%s\n", kind, name, sec.Target, conf)
				continue
			}
			fmt.Fprintf(w, "# ---- %s %s, until its agents take the config below: %s\n%s\n", kind, name, sec.Target, conf)
			fmt.Fprintf(w, "# ---- %s %s, from the operator to its agents: %s\n%s\n", kind, name, sec.Target, agentConf)
			continue
		}
		if p, ok := passwords[sec.Owner]; ok {
			conf = bytes.ReplaceAll(conf, []byte("auth_pass "+p+"\n"), []byte(maskedPassword+"\n"))
		}
		fmt.Fprintf(w, "# ---- %s %s, node %s: %s\n%s\n", kind, name, sec.Node, sec.Target, conf)
	}
	return nil
}

// maskedPassword replaces a VRRP password in printed configs.
const maskedPassword = "auth_pass ******** # masked; --show-secrets prints it"

func isNodeConfig(s desired.Secret) int {
	if s.Node != "" {
		return 1
	}
	return 0
}
