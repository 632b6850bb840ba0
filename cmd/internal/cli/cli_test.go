package cli

import (
	"strings"
	"testing"
	"time"
)

// TestLoggedDurations: JSON logs give durations as text ("602ms"), not nanoseconds.
func TestLoggedDurations(t *testing.T) {
	var out strings.Builder
	log, err := NewLogger(&out, &GlobalOptions{LogLevel: "info", LogFormat: "json"})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("pass failed; retrying", "in", 602*time.Millisecond)
	if !strings.Contains(out.String(), `"in":"602ms"`) {
		t.Errorf("logged %s", out.String())
	}
}

func TestTerminalSafe(t *testing.T) {
	for _, tc := range []struct{ in, keep, want string }{
		{"plain text, é and 漢字", "", "plain text, é and 漢字"},
		{"\x1b[31mred\x1b[0m", "", `\x1b[31mred\x1b[0m`},
		{"a\tb\nc", "", `a\tb\nc`},
		{"a\tb\nc", "\n\t", "a\tb\nc"},
		{"\u009b31m C1 CSI", "", `\u009b31m C1 CSI`},
		{"abc\u202edef", "", `abc\u202edef`},
		{"bad \xff byte, real \uFFFD", "", `bad \xff byte, real ` + "\uFFFD"},
	} {
		if got := TerminalSafe(tc.in, tc.keep); got != tc.want {
			t.Errorf("TerminalSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
