package cli

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/reconciler/agent/gateway"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// NewGatewayCommand is gateway, the entrypoint of the gateway image.
func NewGatewayCommand() *cobra.Command {
	flags := contract.NewGatewayAgentFlags()
	flags.Task = os.Getenv(contract.TaskEnv)
	cmd := &cobra.Command{
		Use:   "gateway --operator URL --gateway NAME --token-file F",
		Short: "Run nginx for a Gateway with an agent (the entrypoint of swarmgate's gateway image)",
		Long: `Runs in each task of a Gateway with spec.agent, as apply starts it: serves the
mounted config at once, then takes each new config from the operator (a long
poll), with the chains of its ACME certificates, checks them with nginx -t and
reloads nginx gracefully. A task that starts takes the newest from the operator
first (2 s at most, else the mounted config). A config nginx refuses is reported
to the operator and never served. SIGTERM stops nginx
gracefully: in-flight requests finish.`,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := gateway.Config{Operator: flags.Operator, Gateway: flags.Gateway, Task: flags.Task, Bootstrap: flags.Bootstrap,
				Chains: flags.Chains, Keys: flags.Keys, Dir: flags.Dir, Nginx: flags.Nginx, TrafficSocket: flags.Traffic}
			token, err := ReadToken("--token-file", flags.TokenFile)
			if err != nil || token == "" {
				return &ExitCodeError{Code: ExitFail, Msg: fmt.Sprintf("the agent needs its token: %v", err)}
			}
			cfg.Token = token
			if flags.CAFile != "" {
				pem, err := ReadPEM(flags.CAFile)
				if err != nil {
					return &ExitCodeError{Code: ExitFail, Msg: fmt.Sprintf("--ca-file: %v", err)}
				}
				cfg.RootCAs = x509.NewCertPool()
				if !cfg.RootCAs.AppendCertsFromPEM(pem) {
					return &ExitCodeError{Code: ExitFail, Msg: "--ca-file: no PEM certificate in it"}
				}
			}
			if cfg.Task == "" {
				cfg.Task, _ = os.Hostname()
			}
			if !strings.HasPrefix(cfg.Operator, "http://") && !strings.HasPrefix(cfg.Operator, "https://") {
				return &ExitCodeError{Code: ExitFail, Msg: "--operator: want an http or https URL"}
			}
			return gateway.New(cfg, slog.Default()).Run(cmd.Context())
		},
	}
	flags.Define(cmd.Flags())
	_ = cmd.MarkFlagRequired("operator")
	_ = cmd.MarkFlagRequired("gateway")
	return cmd
}
