// Command swarmgate declares the gateway layer of a Docker Swarm in YAML manifests and keeps the
// swarm true to them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes, as kubectl uses them.
const (
	exitOK    = 0
	exitFail  = 1 // invalid input, or (for diff) differences found
	exitError = 2 // anything else that stopped the command
)

// exitCodeError carries a chosen exit code through cobra. An empty message means the command has
// already printed what went wrong.
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.msg != "" {
			fmt.Fprintln(stderr, "error:", terminalSafe(ec.msg, "\n\t"))
		}
		return ec.code
	}
	// Errors carry text from outside (the engine's, an operator's): their own lines stay.
	fmt.Fprintln(stderr, "error:", terminalSafe(err.Error(), "\n\t"))
	return exitError
}
