package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
	"github.com/spf13/cobra"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	logLevel  string
	logFormat string
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	opts := &globalOptions{}
	root := &cobra.Command{
		Use:   "swarmgate",
		Short: "swarmgate keeps the gateway layer of a Docker Swarm declared in git",
		Long: `swarmgate reconciles YAML manifests onto a Docker Swarm.

Gateways publish one port for many web apps through nginx, Routes send each
virtual host (and path) to its backend service, VirtualIPs keep one floating
address on the gateway's nodes with keepalived, and Zones label nodes for
placement. swarmgate touches only the swarm objects it created.

Find more information at: https://github.com/swarmgate/swarmgate`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(stderr, opts)
			if err != nil {
				return &exitCodeError{code: exitError, msg: err.Error()}
			}
			slog.SetDefault(logger)
			return nil
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&opts.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&opts.logFormat, "log-format", "auto", "log format: text, json, or auto (text on a terminal, json otherwise)")
	root.AddGroup(&cobra.Group{ID: "basic", Title: "Basic Commands:"})
	root.AddCommand(newApplyCommand(), newDiffCommand(), newGetCommand(), newDeleteCommand(), newRunCommand(), newTLSCommand(),
		newValidateCommand(), newRenderCommand(), newImportCommand(), newExplainCommand(), newVersionCommand(), newVRRPAgentCommand(), newGatewayCommand())
	return root
}

// newLogger builds the process logger: coloured text from tint on a terminal, JSON otherwise, so that
// log collectors get structured records and people get readable ones.
func newLogger(w io.Writer, opts *globalOptions) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", opts.logLevel)
	}
	terminal := isTerminal(w)
	format := opts.logFormat
	if format == "auto" {
		format = "json"
		if terminal {
			format = "text"
		}
	}
	switch format {
	case "text":
		return slog.New(tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly, NoColor: !terminal})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: durationText})), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text, json or auto", opts.logFormat)
}

// durationText logs a duration as people and log queries read it ("602ms"), not as the
// nanoseconds slog's JSON gives by default.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
