package dashboard

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/operator/dashboard/dashboardtest"
)

// TestInChromium loads the page in a real browser, at a desktop's size and a phone's: it shows
// the fixture's objects, its console has no error, and its script refreshes it without one.
func TestInChromium(t *testing.T) {
	browser := dashboardtest.NewBrowser(t)
	in := fixture(t)
	const refresh = time.Second // the operator's is longer: the test need not wait as long
	var refreshes atomic.Int32
	srv := httptest.NewServer(Handler(func(r *http.Request) (View, error) {
		if r.URL.Path == "/ui/main" {
			refreshes.Add(1)
		}
		return Build(in), nil
	}, refresh, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	dir := dashboardtest.Artifacts(t)
	for _, tt := range []struct {
		name          string
		width, height int64
	}{
		{"desktop", 1280, 900},
		{"phone", 390, 844},
	} {
		// Past one refresh period: the script has replaced <main> once.
		page := browser.Visit(srv.URL+"/ui/", nil, tt.width, tt.height, "#paths", refresh+time.Second,
			filepath.Join(dir, tt.name+".png"))
		if len(page.Errors) > 0 {
			t.Errorf("%s: the console says:\n%s", tt.name, strings.Join(page.Errors, "\n"))
		}
		for _, want := range []string{"gateway web", "192.0.2.10/24", "node1", "node2", "app.example.com", "no traffic data",
			"certificate app-cert", "service/app drifted", "0123abc", `<script>alert("x")</script>`} {
			if !strings.Contains(page.Text, want) {
				t.Errorf("%s: the page does not show %q", tt.name, want)
			}
		}
		if n := refreshes.Swap(0); n == 0 || strings.Contains(page.Text, "not refreshed") {
			t.Errorf("%s: the script refreshed the page %d times, and says %q", tt.name, n, page.Text[:min(len(page.Text), 80)])
		}
	}
}
