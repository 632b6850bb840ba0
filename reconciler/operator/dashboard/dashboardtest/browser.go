// Package dashboardtest loads the dashboard in a real browser, Debian's headless chromium, for
// the dashboard's tests and the end-to-end ones: what the page shows, what its console
// complains of, and a screenshot kept as an artefact.
package dashboardtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ArtifactsEnv names the directory screenshots are written to; by default a directory under the
// system's temporary one, named in the test's log.
const ArtifactsEnv = "SWARMGATE_ARTIFACTS"

// Chromium is the path of Debian's chromium. A test without it skips, and fails under CI
// (hack/deps.sh installs it).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"chromium", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; hack/deps.sh installs Debian's chromium")
	}
	t.Skip("chromium is not installed (hack/deps.sh installs it)")
	return ""
}

// Artifacts is the directory a test's screenshots go to, made if needed and logged.
func Artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "swarmgate-artifacts")
	}
	dir = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// Browser is one headless chromium with a fresh profile, closed with the test. Its flags keep it
// from reaching out (no network here: an update check or a sync would hang or log errors).
type Browser struct {
	ctx context.Context
	t   testing.TB
}

// NewBrowser starts chromium.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	path := Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	return &Browser{ctx: ctx, t: t}
}

// Page is what a visit saw.
type Page struct {
	// Text is the page's visible text.
	Text string
	// Errors are the console's errors and warnings, the script's uncaught exceptions, and the
	// browser's complaints (a request that failed or was answered 4xx or 5xx).
	Errors []string
}

// Visit opens url in a new tab of the given size, sending header with every request, waits for
// the selector to show and for the page's script to run a while (past a refresh, whose errors
// then show), then writes a full-page screenshot to the file and returns what it saw.
func (b *Browser) Visit(url string, header map[string]any, width, height int64, wait string, settle time.Duration, screenshot string) Page {
	b.t.Helper()
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	if err := chromedp.Do(tab); err != nil { // opens the tab, with no timeout
		b.t.Fatal(err)
	}
	// Subscribed before the page loads: no message is missed.
	messages := chromedp.Console(tab)
	var errors []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.Type == chromedp.ConsoleException {
				errors = append(errors, fmt.Sprintf("%s %s:%d: %s", m.Type, m.URL, m.Line+1, m.Text))
			}
		}
	}()
	timed, cancelTimeout := context.WithTimeout(tab, time.Minute)
	defer cancelTimeout()
	if _, err := chromedp.Call(timed, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: header}); err != nil {
		b.t.Fatal(err)
	}
	err := chromedp.Do(timed,
		chromedp.EmulateViewport(width, height),
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(wait)),
		chromedp.Sleep(settle),
	)
	if err != nil {
		b.t.Fatalf("visiting %s: %v", url, err)
	}
	text, err := chromedp.Run(timed, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatal(err)
	}
	shot, err := chromedp.Run(timed, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(screenshot, shot, 0o644); err != nil {
		b.t.Fatal(err)
	}
	cancel() // ends the messages
	<-done
	return Page{Text: text, Errors: errors}
}
