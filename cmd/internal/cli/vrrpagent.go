package cli

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/reconciler/agent/vrrp"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// NewVRRPAgentCommand is vrrp-agent, the entrypoint of the keepalived image.
func NewVRRPAgentCommand() *cobra.Command {
	flags := contract.NewVRRPAgentFlags()
	cmd := &cobra.Command{
		Use:   "vrrp-agent --node NODE --address CIDR --interface IF",
		Short: "Run keepalived for a VirtualIP on this node (the entrypoint of swarmgate's keepalived image)",
		Long: `Runs in each node's keepalived task, on the node's host network, as apply
starts it: supervises keepalived, writes the local gateway's health into the
file keepalived tracks (so the address leaves a node whose gateway does not
answer), and reports on GET /vrrp/status whether this node holds the address.`,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			prefix, err := netip.ParsePrefix(flags.Address)
			if err != nil {
				return &ExitCodeError{Code: ExitFail, Msg: fmt.Sprintf("--address: %v", err)}
			}
			cfg := vrrp.AgentConfig{Node: flags.Node, Address: prefix, Interface: flags.Interface, Listen: flags.Listen,
				TrackURL: flags.TrackURL, TrackFile: flags.TrackFile, TrackInterval: flags.TrackInterval,
				Keepalived: []string{flags.Keepalived, "--dont-fork", "--log-console", "--log-detail", "--vrrp",
					"--use-file", flags.Config, "--pid", "/run/keepalived.pid", "--vrrp_pid", "/run/keepalived-vrrp.pid"}}
			return vrrp.NewAgent(cfg, slog.Default()).Run(cmd.Context())
		},
	}
	flags.Define(cmd.Flags())
	_ = cmd.MarkFlagRequired("node")
	_ = cmd.MarkFlagRequired("address")
	return cmd
}
