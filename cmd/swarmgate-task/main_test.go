package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/cmd/internal/cli"
)

// TestTaskCommands: the task binary takes the task commands and their flags as swarmgate does, and
// nothing of the operator's or the CLI's.
func TestTaskCommands(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"version", []string{"version"}, cli.ExitOK, "swarmgate dev (API swarmgate.io/v1alpha1"},
		{"global flags", []string{"--log-level", "debug", "--log-format", "json", "version"}, cli.ExitOK, "swarmgate dev"},
		{"a log level it does not know", []string{"--log-level", "loud", "version"}, cli.ExitError, `--log-level "loud"`},
		{"gateway without its flags", []string{"gateway"}, cli.ExitError, `required flag(s) "gateway", "operator" not set`},
		{"gateway without its token", []string{"gateway", "--operator", "http://op:9090", "--gateway", "gw"}, cli.ExitFail, "the agent needs its token"},
		{"vrrp-agent without its flags", []string{"vrrp-agent"}, cli.ExitError, `required flag(s) "address", "node" not set`},
		{"vrrp-agent on a bad address", []string{"vrrp-agent", "--node", "n1", "--address", "10.0.0.5"}, cli.ExitFail, "--address: netip.ParsePrefix"},
		{"an operator command", []string{"apply"}, cli.ExitError, `unknown command "apply"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(""), &out, &errOut)
			if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errOut.String())
			}
		})
	}
}
