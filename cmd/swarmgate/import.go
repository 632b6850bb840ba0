package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/cmd/internal/cli"
	"github.com/swarmgate/swarmgate/cmd/swarmgate/stackimport"
)

func newImportCommand() *cobra.Command {
	var (
		files []string
		opts  stackimport.Options
	)
	cmd := &cobra.Command{
		Use:   "import -f STACK.yaml... --gateway NAME",
		Short: "Print swarmgate manifests for docker stack files",
		Long: `Read docker stack (compose) files, with their ${VARIABLE} interpolation from the
environment, and print swarmgate manifests: a Gateway, and for each routed
service a Route that runs it and routes to it exactly what its labels routed.
A service named like the Gateway (the stack's own proxy) becomes it: its
published ports become listeners (named after Traefik's entrypoints when its
command line defines them), its image and config are swarmgate's.

Traefik router rules (Host, Path, PathPrefix, Method, Headers/Header, Query,
&&, ||, parentheses), entrypoints and the middlewares stripprefix,
redirectscheme and headers' custom request/response headers become Route
matches, listeners and filters; caddy-docker-proxy's site address and
reverse_proxy {{upstreams PORT}} become hostnames and the port. What a Route
cannot carry faithfully (negation, HostRegexp and other regular expressions, a
rule without Host, another middleware or caddy directive) leaves that service
without a Route, never with a wider one. A service without labels is routed by
its name only when it publishes a port or joins the Gateway's network (the
blog's nginx virtual hosts). A service nothing routes (a database, a worker,
traefik.enable=false) and a job (deploy.mode replicated-job or global-job)
become a Service on the Gateway's network; depends_on becomes dependsOn, and a
job others wait on with condition service_completed_successfully becomes a
hook before them. The port comes from the labels, else the published or
exposed port, else --backend-port. Each file is a stack of its own, read by the same
rules as manifests (regular files, size caps). Every service left out and
everything that does not carry over is said on stderr. The manifests are
validated before they are printed; nothing is changed on the swarm.`,
		Example: `  # The blog's three stacks: nginx (the gateway), manager and dmz
  swarmgate import -f nginx-stack.yaml -f manager-stack.yaml -f dmz-stack.yaml \
    --gateway http-gateway --backend-port 8888 > swarmgate.yaml`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 || opts.Gateway == "" {
				return &exitCodeError{Code: exitFail, Msg: "give the stack files (-f) and the Gateway's name (--gateway)"}
			}
			stacks, err := stackimport.Load(files)
			if err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			res, err := stackimport.Convert(cmd.Context(), stacks, opts)
			if err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			out, err := res.YAML("swarmgate import of " + strings.Join(files, ", "))
			if err != nil {
				return err
			}
			for _, n := range res.Notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "note:", cli.TerminalSafe(n, "")) // notes quote the files' labels
			}
			// What import prints goes through the same checks apply makes.
			objs, errs := manifest.Decode("<import>", out)
			for _, o := range objs {
				o.Default()
			}
			if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
				return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("the manifests do not validate; nothing printed:\n%v", errs)}
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "a docker stack (compose) file; repeatable, each a stack")
	cmd.Flags().StringVar(&opts.Gateway, "gateway", "", "name of the Gateway the Routes attach to (a service of that name becomes it)")
	cmd.Flags().Int32Var(&opts.Port, "port", 80, "listener port of a new Gateway (when no service has its name)")
	cmd.Flags().StringVar(&opts.GatewayImage, "gateway-image", "", "the Gateway's nginx image (default "+v1alpha1.DefaultGatewayImage+")")
	cmd.Flags().Int32Var(&opts.BackendPort, "backend-port", 0, "port of the routed services no label, published port or expose names (never routes a worker)")
	return cmd
}
