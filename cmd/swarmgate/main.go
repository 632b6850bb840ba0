// Command swarmgate declares the gateway layer of a Docker Swarm in YAML manifests and keeps the
// swarm true to them.
package main

import (
	"context"
	"io"

	"github.com/swarmgate/swarmgate/cmd/internal/cli"
)

func main() { cli.Main(run) }

// Exit codes, as kubectl uses them (shared with the task binary).
const (
	exitOK    = cli.ExitOK
	exitFail  = cli.ExitFail
	exitError = cli.ExitError
)

// exitCodeError carries a chosen exit code through cobra.
type exitCodeError = cli.ExitCodeError

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cli.Run(ctx, newRootCommand(stdin, stdout, stderr), args, stderr)
}
