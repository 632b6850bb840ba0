package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/cmd/internal/cli"
)

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := cli.NewRoot("swarmgate keeps the gateway layer of a Docker Swarm declared in git",
		`swarmgate reconciles YAML manifests onto a Docker Swarm.

Gateways publish one port for many web apps through nginx, Routes send each
virtual host (and path) to its backend service, VirtualIPs keep one floating
address on the gateway's nodes with keepalived, and Zones label nodes for
placement. swarmgate touches only the swarm objects it created.

Find more information at: https://github.com/swarmgate/swarmgate`, stdin, stdout, stderr)
	root.AddGroup(&cobra.Group{ID: "basic", Title: "Basic Commands:"})
	root.AddCommand(newApplyCommand(), newDiffCommand(), newGetCommand(), newDeleteCommand(), newRunCommand(), newTLSCommand(),
		newValidateCommand(), newRenderCommand(), newImportCommand(), newExplainCommand(), cli.NewVersionCommand(), cli.NewVRRPAgentCommand(), cli.NewGatewayCommand())
	return root
}
