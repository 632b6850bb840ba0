package dashboard

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/reconciler/status"
)

// serve runs the dashboard on a fixed view.
func serve(t *testing.T, in Input) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler(func(*http.Request) (View, error) { return Build(in), nil }, Refresh, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestPage(t *testing.T) {
	in := fixture(t)
	in.Statuses[1].Traffic = &status.Traffic{RequestsPerSecond: 12.34, ErrorRatio: 0.025, P95Seconds: 0.0421}
	srv := serve(t, in)
	for _, tt := range []struct {
		path, contentType string
		has, hasNot       []string
	}{
		{"/ui/", "text/html; charset=utf-8",
			[]string{`<script src="static/ui.js" defer></script>`, `<noscript><meta http-equiv="refresh" content="30"></noscript>`, "192.0.2.10/24", "node1", "legacy", "certificate app-cert: 2026-12-14 (in 10 days)",
				"12.3", "2.5%", "42 ms", "0123abc", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
			[]string{"hunter2-env", "s3cretvp", "value-on-swarm", "value-in-manifest", `<script>alert`}},
		{"/ui/main", "text/html; charset=utf-8", []string{`<section id="paths">`}, []string{"<html"}},
		{"/ui/static/ui.css", "text/css; charset=utf-8", []string{".path"}, nil},
		{"/ui/static/ui.js", "text/javascript; charset=utf-8", []string{"new URL('main'"}, nil},
	} {
		resp, body := get(t, srv.URL+tt.path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tt.contentType {
			t.Errorf("%s: %s %q", tt.path, resp.Status, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: no content security policy", tt.path)
		}
		for _, s := range tt.has {
			if !strings.Contains(body, s) {
				t.Errorf("%s lacks %q", tt.path, s)
			}
		}
		for _, s := range tt.hasNot {
			if strings.Contains(body, s) {
				t.Errorf("%s shows %q", tt.path, s)
			}
		}
	}
	for _, path := range []string{"/ui/static/page.html", "/ui/static/..%2fhandler.go", "/ui/nothing"} {
		if resp, _ := get(t, srv.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", path, resp.Status)
		}
	}
}

func TestPageWithoutTraffic(t *testing.T) {
	_, body := get(t, serve(t, fixture(t)).URL+"/ui/")
	if !strings.Contains(body, "no traffic data") {
		t.Error("a Route without traffic data does not say so")
	}
}
