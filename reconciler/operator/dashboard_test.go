package operator

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/operator/dashboard"
	"github.com/swarmgate/swarmgate/reconciler/operator/dashboard/dashboardtest"
)

// TestDashboardBehindTheReadToken: a browser given the read token as its login's password (in
// the address, as a user would type it at the prompt) loads the page, its stylesheet and script,
// and its refreshes (TestEndpointTokens checks that the page asks for the login).
func TestDashboardBehindTheReadToken(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	alerts := alert.NewDispatcher(log, nil, alert.FormatJSON)
	alerts.Send(alert.Event{Reason: alert.ReasonPassFailed, Message: "reading the swarm failed"})
	c := New(&reconciler.Reconciler{}, nil, Options{}, alerts, NewMetrics(), log)
	srv := httptest.NewServer(c.Handler(Tokens{Read: "r3ad"}))
	defer srv.Close()
	browser := dashboardtest.NewBrowser(t)
	dir := dashboardtest.Artifacts(t)
	withToken := strings.Replace(srv.URL, "http://", "http://admin:r3ad@", 1) + "/ui/"
	page := browser.Visit(withToken, nil, 1280, 800, "#paths", dashboard.Refresh+time.Second, filepath.Join(dir, "with-token.png"))
	if len(page.Errors) > 0 {
		t.Errorf("with the token, the console says:\n%s", strings.Join(page.Errors, "\n"))
	}
	for _, want := range []string{"not ready", "reading the swarm failed", "No Gateway is applied."} {
		if !strings.Contains(page.Text, want) {
			t.Errorf("the page does not show %q:\n%s", want, page.Text)
		}
	}
	if !strings.Contains(page.Text, "last at") {
		t.Errorf("the script could not refresh the page:\n%s", page.Text)
	}
}
