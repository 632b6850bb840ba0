package main

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/reconciler/agent/gateway"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

func newGatewayCommand() *cobra.Command {
	cfg := gateway.Config{}
	var tokenFile, caFile string
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
			token, err := readToken("--token-file", tokenFile)
			if err != nil || token == "" {
				return &exitCodeError{code: exitFail, msg: fmt.Sprintf("the agent needs its token: %v", err)}
			}
			cfg.Token = token
			if caFile != "" {
				pem, err := os.ReadFile(caFile)
				if err != nil {
					return &exitCodeError{code: exitFail, msg: fmt.Sprintf("--ca-file: %v", err)}
				}
				cfg.RootCAs = x509.NewCertPool()
				if !cfg.RootCAs.AppendCertsFromPEM(pem) {
					return &exitCodeError{code: exitFail, msg: "--ca-file: no PEM certificate in it"}
				}
			}
			if cfg.Task == "" {
				cfg.Task, _ = os.Hostname()
			}
			if !strings.HasPrefix(cfg.Operator, "http://") && !strings.HasPrefix(cfg.Operator, "https://") {
				return &exitCodeError{code: exitFail, msg: "--operator: want an http or https URL"}
			}
			return gateway.New(cfg, slog.Default()).Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Operator, "operator", "", "the operator's URL")
	f.StringVar(&cfg.Gateway, "gateway", "", "the gateway's qualified name")
	f.StringVar(&tokenFile, "token-file", desired.AgentTokenPath, "file holding the agent token")
	f.StringVar(&caFile, "ca-file", "", "CA certificates (PEM) to trust for an https operator, instead of the system's")
	f.StringVar(&cfg.Task, "task", os.Getenv("SWARMGATE_TASK"), "this task's name (default: $SWARMGATE_TASK, or the hostname)")
	f.StringVar(&cfg.Bootstrap, "bootstrap", desired.ConfigPath, "the config to serve first")
	f.StringVar(&cfg.Chains, "chains", nginx.ChainDir, "where the ACME certificate chains are mounted")
	f.StringVar(&cfg.Keys, "keys", nginx.CertDir, "where their keys are mounted")
	f.StringVar(&cfg.Dir, "dir", "/run/swarmgate", "where to write nginx's configs")
	f.StringVar(&cfg.Nginx, "nginx", "/usr/sbin/nginx", "the nginx binary")
	_ = cmd.MarkFlagRequired("operator")
	_ = cmd.MarkFlagRequired("gateway")
	return cmd
}
