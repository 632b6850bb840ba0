// Package cli is what every swarmgate binary's command line shares: the root command with its
// logging flags, the exit codes and how errors reach them, version, and the commands that run
// inside swarmgate's tasks (gateway, vrrp-agent). The task binary (cmd/swarmgate-task) is built
// from these alone, so that agents link none of the operator's or the CLI's code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lmittmann/tint"
	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/manifest"
)

// Exit codes, as kubectl uses them.
const (
	ExitOK    = 0
	ExitFail  = 1 // invalid input, or (for diff) differences found
	ExitError = 2 // anything else that stopped the command
)

// ExitCodeError carries a chosen exit code through cobra. An empty message means the command has
// already printed what went wrong.
type ExitCodeError struct {
	Code int
	Msg  string
}

func (e *ExitCodeError) Error() string { return e.Msg }

// Main runs a binary's command line on the process's arguments and exits with its code. SIGINT and
// SIGTERM cancel the command's context.
func Main(run func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run executes root with args and returns the exit code, having printed the error if any.
func Run(ctx context.Context, root *cobra.Command, args []string, stderr io.Writer) int {
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		if ec.Msg != "" {
			fmt.Fprintln(stderr, "error:", TerminalSafe(ec.Msg, "\n\t"))
		}
		return ec.Code
	}
	// Errors carry text from outside (the engine's, an operator's): their own lines stay.
	fmt.Fprintln(stderr, "error:", TerminalSafe(err.Error(), "\n\t"))
	return ExitError
}

// GlobalOptions are the flags every command takes.
type GlobalOptions struct {
	LogLevel  string
	LogFormat string
}

// NewRoot is a root command, named swarmgate, with the flags every command takes: they set up the
// process logger before any command runs.
func NewRoot(short, long string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	opts := &GlobalOptions{}
	root := &cobra.Command{
		Use:           "swarmgate",
		Short:         short,
		Long:          long,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := NewLogger(stderr, opts)
			if err != nil {
				return &ExitCodeError{Code: ExitError, Msg: err.Error()}
			}
			slog.SetDefault(logger)
			return nil
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&opts.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&opts.LogFormat, "log-format", "auto", "log format: text, json, or auto (text on a terminal, json otherwise)")
	return root
}

// NewLogger builds the process logger: coloured text from tint on a terminal, JSON otherwise, so that
// log collectors get structured records and people get readable ones.
func NewLogger(w io.Writer, opts *GlobalOptions) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", opts.LogLevel)
	}
	terminal := isTerminal(w)
	format := opts.LogFormat
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
	return nil, fmt.Errorf("--log-format %q: want text, json or auto", opts.LogFormat)
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

// TerminalSafe is text from outside swarmgate (a swarm's labels and task errors, an operator's
// /status) made safe to print: control characters (escape sequences that would drive the
// terminal, and tabs and newlines that would forge table cells and lines), Unicode's bidirectional
// overrides and invalid UTF-8 are written as Go escapes. keep lists the controls left as they are
// (a jsonpath template's own newlines).
func TerminalSafe(s, keep string) string {
	unsafe := func(r rune, size int) bool {
		return r == utf8.RuneError && size == 1 || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafe(r, size) || strings.ContainsRune(keep, r):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// ReadToken reads a shared secret from a file; none when path is empty. A file that holds only
// white space is an error, not a way to turn the endpoint off by mistake.
func ReadToken(flag, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := manifest.ReadRegularFile(path, manifest.MaxCredentialSize)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("%s: %s holds no token", flag, path)
	}
	return token, nil
}

// maxPEMSize bounds a certificate chain or key file: real ones are a few KiB.
const maxPEMSize = 1 << 20

// ReadPEM reads a certificate chain or key file.
func ReadPEM(path string) ([]byte, error) {
	return manifest.ReadRegularFile(path, maxPEMSize)
}
