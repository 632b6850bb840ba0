package source

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gpgHome makes a GnuPG home with a fresh signing key for email and returns the home.
func gpgHome(t *testing.T, email string) string {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("gpg is not installed")
		}
		t.Skip("gpg is not installed")
	}
	home, err := os.MkdirTemp("", "gpg") // short path: gpg-agent's socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		os.RemoveAll(home)
	})
	cmd := exec.Command("gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Signer <"+email+">", "ed25519", "sign", "never")
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gpg: %v\n%s", err, out)
	}
	return home
}

func TestGitVerifiesSignatures(t *testing.T) {
	allowed, stranger := gpgHome(t, "ops@example.com"), gpgHome(t, "stranger@example.com")
	root := t.TempDir()
	keyring := filepath.Join(root, "allowed.asc")
	export := exec.Command("gpg", "--armor", "--export", "ops@example.com")
	export.Env = append(os.Environ(), "GNUPGHOME="+allowed)
	key, err := export.Output()
	if err != nil || !strings.Contains(string(key), "BEGIN PGP PUBLIC KEY BLOCK") {
		t.Fatalf("exporting the key: %v", err)
	}
	if err := os.WriteFile(keyring, key, 0o644); err != nil {
		t.Fatal(err)
	}

	bare, work := filepath.Join(root, "repo.git"), filepath.Join(root, "work")
	gitCmd(t, root, "init", "-q", "--bare", "-b", "main", bare)
	gitCmd(t, root, "clone", "-q", bare, work)
	commit := func(file, home, signer string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(work, file), []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		gitCmd(t, work, "add", ".")
		args := []string{"commit", "-q", "-m", file}
		if signer != "" {
			args = []string{"-c", "user.signingkey=" + signer, "commit", "-q", "-S", "-m", file}
		}
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git commit: %v\n%s", err, out)
		}
		gitCmd(t, work, "push", "-q", "origin", "HEAD:main")
	}
	g := &Git{URL: "file://" + bare, Branch: "main", Checkout: filepath.Join(root, "checkout"), AllowedSigners: keyring}

	commit("a.yaml", allowed, "ops@example.com")
	if _, _, err := g.Fetch(context.Background()); err != nil {
		t.Fatalf("a commit signed by an allowed key: %v", err)
	}
	for _, tt := range []struct {
		name, home, signer, want string
	}{
		{"unsigned", allowed, "", "it is not signed"},
		{"signed by a stranger", stranger, "stranger@example.com", "not signed by an allowed signer"},
	} {
		commit(tt.name+".yaml", tt.home, tt.signer)
		_, _, err := g.Fetch(context.Background())
		var unverified *UnverifiedError
		if !errors.As(err, &unverified) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if _, err := os.Stat(filepath.Join(root, "checkout", tt.name+".yaml")); !os.IsNotExist(err) {
			t.Errorf("%s: the refused commit was checked out", tt.name)
		}
	}
}
