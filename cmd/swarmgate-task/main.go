// Command swarmgate-task is the swarmgate of the task images: the gateway image runs its gateway
// command, the keepalived image its vrrp-agent, both installed as /usr/bin/swarmgate. It has only
// the commands that run in tasks, with the same flags as swarmgate's, so that agents do not link
// the operator's and the CLI's code (sops and the cloud SDKs it pulls in cost every process that
// links them some 26 MB of resident memory at start).
package main

import (
	"context"
	"io"

	"github.com/swarmgate/swarmgate/cmd/internal/cli"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := cli.NewRoot("swarmgate's agents, which run in the tasks of Gateways and VirtualIPs",
		`The swarmgate of swarmgate's gateway and keepalived images: gateway runs nginx
for a Gateway with an agent, vrrp-agent runs keepalived for a VirtualIP. The
operator's and the CLI's commands are in the swarmgate image.

Find more information at: https://github.com/swarmgate/swarmgate`, stdin, stdout, stderr)
	gateway, vrrpAgent := cli.NewGatewayCommand(), cli.NewVRRPAgentCommand()
	gateway.Hidden, vrrpAgent.Hidden = false, false // swarmgate hides them from people; here they are all there is
	root.AddCommand(cli.NewVersionCommand(), gateway, vrrpAgent)
	return cli.Run(ctx, root, args, stderr)
}
