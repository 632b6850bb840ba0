package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/manifest"
)

// TestBoundedInput: every command that reads files refuses a FIFO (nobody writes to it, so a
// read would block for ever), a device that never ends (/dev/zero) and a file over the cap, at
// once and naming the file.
func TestBoundedInput(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte(strings.Repeat("# padding\n", manifest.MaxFileSize/10+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, key := writePair(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "a.example.com")
	commands := map[string]func(file string) []string{
		"validate":               func(f string) []string { return []string{"validate", "-f", f} },
		"apply":                  func(f string) []string { return []string{"apply", "-f", f} },
		"import":                 func(f string) []string { return []string{"import", "-f", f, "--gateway", "gw"} },
		"tls create-secret cert": func(f string) []string { return []string{"tls", "create-secret", "s", "--cert", f, "--key", key} },
		"tls create-secret key":  func(f string) []string { return []string{"tls", "create-secret", "s", "--cert", cert, "--key", f} },
		"run token":              func(f string) []string { return []string{"run", "--source", "dir:" + dir, "--read-token-file", f} },
		"run git token": func(f string) []string {
			return []string{"run", "--source", "git:https://git.example.com/ops.git", "--checkout-dir", dir, "--git-token-file", f}
		},
		"run tls": func(f string) []string {
			return []string{"run", "--source", "dir:" + dir, "--tls-cert-file", f, "--tls-key-file", key}
		},
	}
	for name, args := range commands {
		for input, file := range map[string]string{"FIFO": fifo, "/dev/zero": "/dev/zero", "oversized": huge} {
			t.Run(name+"/"+input, func(t *testing.T) {
				done := make(chan struct{})
				var code int
				var stderr string
				go func() {
					defer close(done)
					code, _, stderr = swarmgate(t, "", args(file)...)
				}()
				select {
				case <-done:
				case <-time.After(time.Minute): // a hang, not a speed target
					t.Fatal("the command still reads")
				}
				if code == exitOK || !strings.Contains(stderr, file) {
					t.Errorf("exit %d, stderr %q: want a refusal naming %s", code, stderr, file)
				}
				if !strings.Contains(stderr, "not a regular file") && !strings.Contains(stderr, "larger than") {
					t.Errorf("stderr %q: want the reason", stderr)
				}
			})
		}
	}
}
