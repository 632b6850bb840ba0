package main

import (
	"strings"
	"testing"
)

// TestRunRefusesAPathOutsideTheCheckout: --path leaving the git repository is refused at start,
// not at the first pass.
func TestRunRefusesAPathOutsideTheCheckout(t *testing.T) {
	for _, path := range []string{"../x", "a/../../x", "/etc"} {
		code, _, stderr := swarmgate(t, "", "run", "--source", "git:https://git.example.com/ops.git", "--path", path, "--checkout-dir", t.TempDir())
		if code == exitOK || !strings.Contains(stderr, "--path") || !strings.Contains(stderr, "not inside the repository") {
			t.Errorf("--path %s: exit %d, stderr %q", path, code, stderr)
		}
	}
}
