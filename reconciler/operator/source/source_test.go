package source

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDirRevisionFollowsContent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "a: 1\n")
	d := &Dir{Path: dir, Debounce: 20 * time.Millisecond}
	_, r1, err := d.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	write("notes.txt", "not a manifest")
	if _, r, _ := d.Fetch(context.Background()); r != r1 {
		t.Error("a non-manifest file changed the revision")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changed := make(chan struct{}, 1)
	go func() { _ = d.Watch(ctx, changed) }()
	// The watcher starts in its own time (later on a loaded machine): the file changes until it
	// signals, each write a new content.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 2; ; i++ {
		write("a.yaml", "a: "+strconv.Itoa(i)+"\n")
		select {
		case <-changed:
		case <-tick.C:
			continue
		case <-deadline:
			t.Fatal("no change signalled")
		}
		break
	}
	if _, r, _ := d.Fetch(context.Background()); r == r1 || !strings.HasPrefix(r, "sha256:") {
		t.Errorf("revision %s after a change, was %s", r, r1)
	}
}

// gitCmd runs git in dir.
func gitCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestGitFollowsTheBranch(t *testing.T) {
	root := t.TempDir()
	bare, work := filepath.Join(root, "repo.git"), filepath.Join(root, "work")
	gitCmd(t, root, "init", "-q", "--bare", "-b", "main", bare)
	gitCmd(t, root, "clone", "-q", bare, work)
	commit := func(file, data string, force bool) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(work, "deploy"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, "deploy", file), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		gitCmd(t, work, "add", ".")
		gitCmd(t, work, "commit", "-q", "-m", file)
		if force {
			gitCmd(t, work, "push", "-q", "-f", "origin", "HEAD:main")
		} else {
			gitCmd(t, work, "push", "-q", "origin", "HEAD:main")
		}
	}
	commit("a.yaml", "a: 1\n", false)

	g := &Git{URL: "file://" + bare, Branch: "main", Path: "deploy", Checkout: filepath.Join(root, "checkout")}
	paths, rev1, err := g.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || paths[0] != filepath.Join(root, "checkout", "deploy") || len(rev1) != 40 {
		t.Fatalf("paths %v, revision %q", paths, rev1)
	}
	// Someone edits the checkout: the next fetch puts it back.
	if err := os.WriteFile(filepath.Join(paths[0], "a.yaml"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	commit("b.yaml", "b: 1\n", false)
	_, rev2, err := g.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rev2 == rev1 {
		t.Error("a new commit did not change the revision")
	}
	for file, want := range map[string]string{"a.yaml": "a: 1\n", "b.yaml": "b: 1\n"} {
		if got, _ := os.ReadFile(filepath.Join(paths[0], file)); string(got) != want {
			t.Errorf("%s holds %q, want %q", file, got, want)
		}
	}
	// A force-push that rewrites history is followed too.
	gitCmd(t, work, "reset", "-q", "--hard", "HEAD~1")
	commit("c.yaml", "c: 1\n", true)
	if _, rev3, err := g.Fetch(context.Background()); err != nil || rev3 == rev2 {
		t.Errorf("after a force-push: %s, %v", rev3, err)
	}
	if _, err := os.Stat(filepath.Join(paths[0], "b.yaml")); !os.IsNotExist(err) {
		t.Error("b.yaml survived a force-push that removed it")
	}
}

func TestGitNameHasNoCredentials(t *testing.T) {
	g := &Git{URL: "https://deploy:tok3n@git.example.com/ops/swarm.git", Branch: "main", Path: "gw"}
	if s := g.String(); strings.Contains(s, "tok3n") || strings.Contains(s, "deploy") {
		t.Errorf("String() = %s", s)
	}
}

// TestGitSourceIsWhatItSays: a checkout left by another repository follows the new one, and the
// manifests' directory cannot lead outside the checkout.
func TestGitSourceIsWhatItSays(t *testing.T) {
	root := t.TempDir()
	repo := func(name, file string) string {
		bare, work := filepath.Join(root, name+".git"), filepath.Join(root, name)
		gitCmd(t, root, "init", "-q", "--bare", "-b", "main", bare)
		gitCmd(t, root, "clone", "-q", bare, work)
		if err := os.WriteFile(filepath.Join(work, file), []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(root, filepath.Join(work, "escape")); err != nil {
			t.Fatal(err)
		}
		gitCmd(t, work, "add", ".")
		gitCmd(t, work, "commit", "-q", "-m", file)
		gitCmd(t, work, "push", "-q", "origin", "HEAD:main")
		return "file://" + bare
	}
	one, two := repo("one", "one.yaml"), repo("two", "two.yaml")
	checkout := filepath.Join(root, "checkout")
	if _, _, err := (&Git{URL: one, Branch: "main", Checkout: checkout}).Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	paths, _, err := (&Git{URL: two, Branch: "main", Checkout: checkout}).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(paths[0], "two.yaml")); err != nil {
		t.Errorf("the checkout of another repository does not follow the new --source: %v", err)
	}
	if _, err := os.Stat(filepath.Join(paths[0], "one.yaml")); err == nil {
		t.Error("the old repository's files are still there")
	}
	for _, path := range []string{"../x", "/etc", "escape"} {
		if _, _, err := (&Git{URL: two, Branch: "main", Path: path, Checkout: checkout}).Fetch(context.Background()); err == nil {
			t.Errorf("--path %s was accepted", path)
		}
	}
}
