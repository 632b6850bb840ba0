// Package source provides the manifests a controller reconciles: a directory, watched for changes,
// or a branch of a git repository, pulled into a private checkout. A source never writes into the
// user's files; every fetch names the revision it read.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/swarmgate/swarmgate/api/manifest"
)

// Source yields manifests.
type Source interface {
	// Fetch brings the source up to date and returns the paths to load and the revision read.
	Fetch(ctx context.Context) (paths []string, revision string, err error)
	// Watch sends on changed when the source may have changed, until ctx ends. A source that
	// cannot be watched is polled by its caller.
	Watch(ctx context.Context, changed chan<- struct{}) error
	// String names the source in logs.
	String() string
}

// Dir is a directory of manifests on disk.
type Dir struct {
	Path string
	// Debounce waits this long after a change for more before signalling, so a burst of writes
	// (an editor's save, a git checkout) makes one pass. Defaults to 300ms.
	Debounce time.Duration
}

func (d *Dir) String() string { return "dir:" + d.Path }

// Fetch returns the directory and, as its revision, a hash of every manifest file's path and
// content: the revision changes exactly when the manifests do.
func (d *Dir) Fetch(context.Context) ([]string, string, error) {
	files, err := manifest.Files(d.Path)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", d.Path, err)
	}
	h := sha256.New()
	for _, f := range files {
		data, err := manifest.ReadFile(f)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	return []string{d.Path}, "sha256:" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Watch watches the directory tree with fsnotify and signals, debounced, after changes.
func (d *Dir) Watch(ctx context.Context, changed chan<- struct{}) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	addTree := func(root string) {
		_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				if p != d.Path && strings.HasPrefix(e.Name(), ".") {
					return filepath.SkipDir
				}
				_ = w.Add(p)
			}
			return nil
		})
	}
	addTree(d.Path)
	debounce := d.Debounce
	if debounce == 0 {
		debounce = 300 * time.Millisecond
	}
	timer := time.NewTimer(debounce)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					addTree(ev.Name)
				}
			}
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			return fmt.Errorf("watching %s: %w", d.Path, err)
		case <-timer.C:
			select {
			case changed <- struct{}{}:
			default: // a signal is already waiting
			}
		}
	}
}
