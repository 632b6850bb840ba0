package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"
)

//go:embed assets
var assets embed.FS

var page = template.Must(template.New("").Funcs(template.FuncMap{
	"percent":      func(ratio float64) string { return fmt.Sprintf("%.1f%%", 100*ratio) },
	"milliseconds": func(seconds float64) string { return fmt.Sprintf("%.0f ms", 1000*seconds) },
}).ParseFS(assets, "assets/page.html"))

// Refresh is how often the page's script fetches it anew, by default.
const Refresh = 5 * time.Second

// securityHeaders keep the page to its own stylesheet and script: nothing from elsewhere is
// loaded, nothing inline runs, and no other site frames it.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"Cache-Control":          "no-store",
}

// Handler serves the dashboard under /ui/: the page, its <main> alone at /ui/main (what the
// script refreshes), and the stylesheet and script under /ui/static/. view builds the view for
// a request; its error is answered 502 (the swarm could not be read). refresh is how often the
// script fetches the page anew (whole seconds).
func Handler(view func(*http.Request) (View, error), refresh time.Duration, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	render := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			v, err := view(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			var data any = v
			if name == "page" {
				data = struct {
					View           View
					RefreshSeconds int
				}{v, int(refresh.Seconds())}
			}
			var b bytes.Buffer
			if err := page.ExecuteTemplate(&b, name, data); err != nil {
				log.Error("rendering the dashboard failed", "error", err)
				http.Error(w, "rendering the dashboard failed", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(b.Bytes())
		}
	}
	mux.HandleFunc("GET /ui/{$}", render("page"))
	mux.HandleFunc("GET /ui/main", render("main"))
	mux.HandleFunc("GET /ui/static/{file}", func(w http.ResponseWriter, r *http.Request) {
		types := map[string]string{"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}
		file := r.PathValue("file")
		data, err := assets.ReadFile("assets/" + file)
		if types[file] == "" || err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", types[file])
		_, _ = w.Write(data)
	})
	mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		mux.ServeHTTP(w, r)
	})
}
