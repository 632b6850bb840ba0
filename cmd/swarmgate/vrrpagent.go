package main

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/reconciler/agent/vrrp"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/render/keepalived"
)

func newVRRPAgentCommand() *cobra.Command {
	var (
		cfg        vrrp.AgentConfig
		address    string
		keepalive  string
		configPath string
	)
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
			prefix, err := netip.ParsePrefix(address)
			if err != nil {
				return &exitCodeError{code: exitFail, msg: fmt.Sprintf("--address: %v", err)}
			}
			cfg.Address = prefix
			cfg.Keepalived = []string{keepalive, "--dont-fork", "--log-console", "--log-detail", "--vrrp",
				"--use-file", configPath, "--pid", "/run/keepalived.pid", "--vrrp_pid", "/run/keepalived-vrrp.pid"}
			return vrrp.NewAgent(cfg, slog.Default()).Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Node, "node", "", "hostname of this node")
	f.StringVar(&address, "address", "", "the virtual IP with its prefix length")
	f.StringVar(&cfg.Interface, "interface", "eth0", "interface that carries the address")
	f.StringVar(&cfg.Listen, "listen", ":9177", "address of the status server")
	f.StringVar(&cfg.TrackURL, "track-url", "", "the local gateway's health check; empty tracks nothing")
	f.StringVar(&cfg.TrackFile, "track-file", keepalived.TrackFile, "file keepalived tracks")
	f.DurationVar(&cfg.TrackInterval, "track-interval", 0, "how often the gateway is checked (default 100ms)")
	f.StringVar(&keepalive, "keepalived", "/usr/sbin/keepalived", "the keepalived binary")
	f.StringVar(&configPath, "config", desired.KeepalivedConfigPath, "keepalived.conf")
	_ = cmd.MarkFlagRequired("node")
	_ = cmd.MarkFlagRequired("address")
	return cmd
}
