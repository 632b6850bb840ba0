package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/reconciler/redact"
)

// Git is a branch of a git repository, pulled into a checkout of swarmgate's own.
type Git struct {
	URL    string
	Branch string
	// Path is the directory of manifests within the repository ("" or "." for all of it).
	Path string
	// Checkout is the private directory swarmgate clones into; never the user's working tree.
	Checkout string
	// TokenFile, for HTTPS, holds a token sent as the password of user "git" (GitHub, GitLab and
	// Gitea accept that).
	TokenFile string
	// SSHKeyFile and KnownHostsFile, for SSH URLs: the private key, and the hosts to trust.
	SSHKeyFile     string
	KnownHostsFile string
	// AllowedSigners, if set, is a file of armored OpenPGP public keys: a head commit not signed
	// by one of them is refused (an *UnverifiedError) and never checked out.
	AllowedSigners string
}

// UnverifiedError is a head commit without a valid signature of an allowed signer.
type UnverifiedError struct {
	Revision string
	Err      error
}

func (e *UnverifiedError) Error() string {
	return fmt.Sprintf("commit %s is not signed by an allowed signer: %v", e.Revision, e.Err)
}

func (e *UnverifiedError) Unwrap() error { return e.Err }

// String names the source for logs and status, without credentials in the URL.
func (g *Git) String() string {
	return fmt.Sprintf("git:%s@%s/%s", redact.URL(g.URL), g.Branch, g.Path)
}

func (g *Git) auth() (transport.AuthMethod, error) {
	switch {
	case g.TokenFile != "":
		token, err := manifest.ReadRegularFile(g.TokenFile, manifest.MaxCredentialSize)
		if err != nil {
			return nil, fmt.Errorf("reading the token: %w", err)
		}
		return &http.BasicAuth{Username: "git", Password: strings.TrimSpace(string(token))}, nil
	case g.SSHKeyFile != "":
		pem, err := manifest.ReadRegularFile(g.SSHKeyFile, manifest.MaxCredentialSize)
		if err != nil {
			return nil, fmt.Errorf("reading the SSH key: %w", err)
		}
		keys, err := ssh.NewPublicKeys("git", pem, "")
		if err != nil {
			return nil, fmt.Errorf("reading the SSH key: %w", err)
		}
		if g.KnownHostsFile == "" {
			return nil, errors.New("an SSH key needs a known_hosts file: swarmgate does not trust hosts blindly")
		}
		// The known_hosts reader takes any file: it is checked by the same rule first.
		if _, err := manifest.ReadRegularFile(g.KnownHostsFile, manifest.MaxFileSize); err != nil {
			return nil, fmt.Errorf("reading known_hosts: %w", err)
		}
		if keys.HostKeyCallback, err = ssh.NewKnownHostsCallback(g.KnownHostsFile); err != nil {
			return nil, fmt.Errorf("reading known_hosts: %w", err)
		}
		return keys, nil
	}
	return nil, nil
}

// CheckPath refuses a Path that leaves the repository (absolute, or up through ".."): the
// operator checks it at start, and every Fetch again.
func (g *Git) CheckPath() error {
	if g.Path != "" && !filepath.IsLocal(g.Path) && filepath.Clean(g.Path) != "." {
		return fmt.Errorf("path %q is not inside the repository", g.Path)
	}
	return nil
}

// CheckFiles reads the credential and signer files as each Fetch will, so that a missing one, a
// FIFO or a device is refused when the operator starts.
func (g *Git) CheckFiles() error {
	if _, err := g.auth(); err != nil {
		return err
	}
	if g.AllowedSigners != "" {
		if _, err := manifest.ReadRegularFile(g.AllowedSigners, manifest.MaxFileSize); err != nil {
			return fmt.Errorf("reading the allowed signers: %w", err)
		}
	}
	return nil
}

// Fetch clones the branch the first time, then fetches it and hard-resets the checkout to it, so
// whatever happened to the checkout, it holds exactly the branch's head. The revision is the
// commit's SHA.
func (g *Git) Fetch(ctx context.Context) ([]string, string, error) {
	auth, err := g.auth()
	if err != nil {
		return nil, "", err
	}
	if err := g.CheckPath(); err != nil {
		return nil, "", err
	}
	ref := plumbing.NewBranchReferenceName(g.Branch)
	repo, err := git.PlainOpen(g.Checkout)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainCloneContext(ctx, g.Checkout, false, &git.CloneOptions{
			URL: g.URL, Auth: auth, ReferenceName: ref, SingleBranch: true, Depth: 1,
		})
	} else if err == nil {
		err = g.pointOriginAtURL(repo)
	}
	if err != nil {
		return nil, "", fmt.Errorf("cloning %s: %w", redact.URL(g.URL), redact.Error(err, redact.URL))
	}
	remoteRef := plumbing.NewRemoteReferenceName("origin", g.Branch)
	err = repo.FetchContext(ctx, &git.FetchOptions{
		Auth: auth, Force: true, Depth: 1,
		RefSpecs: []config.RefSpec{config.RefSpec(fmt.Sprintf("+%s:%s", ref, remoteRef))},
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil, "", fmt.Errorf("fetching %s: %w", redact.URL(g.URL), redact.Error(err, redact.URL))
	}
	head, err := repo.Reference(remoteRef, true)
	if err != nil {
		return nil, "", fmt.Errorf("branch %s: %w", g.Branch, err)
	}
	if g.AllowedSigners != "" {
		if err := g.verify(repo, head.Hash()); err != nil {
			return nil, "", err
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, "", err
	}
	if err := wt.Reset(&git.ResetOptions{Commit: head.Hash(), Mode: git.HardReset}); err != nil {
		return nil, "", fmt.Errorf("checking out %s: %w", head.Hash(), err)
	}
	dir := filepath.Join(g.Checkout, g.Path)
	if err := inside(dir, g.Checkout); err != nil {
		return nil, "", err
	}
	return []string{dir}, head.Hash().String(), nil
}

// pointOriginAtURL makes an existing checkout's origin the source's URL: a checkout left by
// another --source must not go on applying the other repository's commits. The fetch and hard
// reset that follow replace its files.
func (g *Git) pointOriginAtURL(repo *git.Repository) error {
	origin, err := repo.Remote("origin")
	if err == nil && len(origin.Config().URLs) == 1 && origin.Config().URLs[0] == g.URL {
		return nil
	}
	if err == nil {
		if err := repo.DeleteRemote("origin"); err != nil {
			return err
		}
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{g.URL}})
	return err
}

// inside checks that dir, with its symbolic links resolved, is within root: a link in the
// repository must not point the manifests' directory elsewhere on the operator's machine.
func inside(dir, root string) error {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(realRoot, realDir); err != nil || !filepath.IsLocal(rel) && rel != "." {
		return fmt.Errorf("%s leads outside the checkout", dir)
	}
	return nil
}

// verify checks the commit's OpenPGP signature against the allowed signers.
func (g *Git) verify(repo *git.Repository, hash plumbing.Hash) error {
	keyring, err := manifest.ReadRegularFile(g.AllowedSigners, manifest.MaxFileSize)
	if err != nil {
		return fmt.Errorf("reading the allowed signers: %w", err)
	}
	commit, err := repo.CommitObject(hash)
	if err != nil {
		return err
	}
	if commit.PGPSignature == "" {
		return &UnverifiedError{Revision: hash.String(), Err: errors.New("it is not signed")}
	}
	if _, err := commit.Verify(string(keyring)); err != nil {
		return &UnverifiedError{Revision: hash.String(), Err: err}
	}
	return nil
}

// Watch does nothing: a git source is polled on its interval and pulled on webhooks.
func (g *Git) Watch(ctx context.Context, _ chan<- struct{}) error {
	<-ctx.Done()
	return nil
}
