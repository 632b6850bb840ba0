package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestFlagPlaceholders: cobra takes the first backquoted words of a flag's usage as its
// placeholder ("--server `URL`"); a backquoted phrase would render as "--context docker context use".
func TestFlagPlaceholders(t *testing.T) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if name, _ := pflag.UnquoteUsage(f); strings.ContainsAny(name, " '") {
				t.Errorf("%s --%s: placeholder %q", c.CommandPath(), f.Name, name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand(strings.NewReader(""), io.Discard, io.Discard))
}

// TestUsageMistakes: a command given too little says what it wants, with the exit code the README
// states for it.
func TestUsageMistakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"delete with nothing named", []string{"delete", "--instance", "x"}, exitFail, "nothing to delete: name the objects"},
		{"delete with both", []string{"delete", "route/a", "-f", "x.yaml"}, exitFail, "not both"},
		{"validate without files", []string{"validate"}, exitFail, "no manifests given: -f PATH"},
		{"tls secrets belong to no instance", []string{"tls", "create-secret", "x", "--cert", "c", "--key", "k", "--instance", "y"}, exitError, "unknown flag: --instance"},
		{"run on a directory that is not there", []string{"run", "--source", "dir:/nonexistent"}, exitFail, "--source dir:/nonexistent: stat /nonexistent: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := swarmgate(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
		})
	}
}

// TestValidateHintsServerSide: a Route whose Gateway the files do not hold may name one applied
// earlier: the offline error says how to check against the applied objects.
func TestValidateHintsServerSide(t *testing.T) {
	route := "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: web}\nspec: {parentRefs: [{name: gw}], hostnames: [web.example], rules: [{backendRefs: [{name: web, port: 80}]}]}\n"
	code, _, stderr := swarmgate(t, route, "validate", "-f", "-")
	if code != exitFail || !strings.Contains(stderr, `names no Gateway "gw" (there is none)`) || !strings.Contains(stderr, "validate --server-side") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}
