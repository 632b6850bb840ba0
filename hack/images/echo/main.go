// Command echo is the backend of swarmgate's tests: it answers every request with JSON naming its
// service and task and describing the request it received, like the Gateway API conformance echo
// server. The service name comes from SERVICE (set it in the service's env); the task is the
// container hostname. FILES (comma-separated paths) lists files whose size and mode it reports,
// never their contents: the tests mount secrets there. A task whose SLOT (set it to swarm's
// {{.Task.Slot}}) equals FAIL_SLOT answers 503, as a broken task would; LOG=1 logs each request.
// It reads every request body to its end, throwing it away, and reports its length (bodyBytes), so
// uploads of any size stream through it; a websocket upgrade (any path) is answered with a
// websocket that echoes each message back.
// "echo health" asks the server in the same container and exits 0 if it answers 200: the image has
// no shell or curl for a health check. With AUTH_USER set it is also a forward-auth service at
// /auth, as Authelia's: a request whose cookie session is "ok" passes (200, Remote-User:
// AUTH_USER), one with "forbidden" gets 403, any other is sent to a login page (302). With GRPC=1
// it serves gRPC instead (serveGRPC), over TLS with the certificate and key of the file TLS_CERT.
package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/websocket"
)

type reply struct {
	Service string      `json:"service"`
	Task    string      `json:"task"`
	Method  string      `json:"method"`
	Host    string      `json:"host"`
	Path    string      `json:"path"`
	Headers http.Header `json:"headers"`
	// BodyBytes is the length of the request body, read and thrown away.
	BodyBytes int64 `json:"bodyBytes"`
	// Files are the size and mode of each path of FILES; -1 when it is missing.
	Files map[string]fileInfo `json:"files,omitempty"`
}

type fileInfo struct {
	Size int64  `json:"size"`
	Mode string `json:"mode,omitempty"`
}

func main() {
	addr := ":8888"
	if v := os.Getenv("ADDR"); v != "" {
		addr = v
	}
	if len(os.Args) > 1 && os.Args[1] == "health" {
		_, port, _ := strings.Cut(addr, ":")
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://127.0.0.1:" + port + "/health")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		os.Exit(0)
	}
	task, _ := os.Hostname()
	service := os.Getenv("SERVICE")
	failing := os.Getenv("FAIL_SLOT") != "" && os.Getenv("SLOT") == os.Getenv("FAIL_SLOT")
	logRequests := os.Getenv("LOG") == "1"
	if os.Getenv("GRPC") == "1" {
		serveGRPC(addr, service, task, os.Getenv("TLS_CERT"))
		return
	}
	if user := os.Getenv("AUTH_USER"); user != "" {
		http.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
			switch c, _ := r.Cookie("session"); {
			case c != nil && c.Value == "ok":
				w.Header().Set("Remote-User", user)
			case c != nil && c.Value == "forbidden":
				w.WriteHeader(http.StatusForbidden)
			default:
				http.Redirect(w, r, "https://login.test/?rd="+url.QueryEscape(r.Header.Get("X-Original-URL")), http.StatusFound)
			}
		})
	}
	// No origin check: the tests' clients are no browsers.
	echoSocket := websocket.Server{Handler: func(ws *websocket.Conn) { _, _ = io.Copy(ws, ws) }}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if logRequests {
			log.Printf("request %s %s", r.Method, r.RequestURI)
		}
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			echoSocket.ServeHTTP(w, r)
			return
		}
		bodyBytes, _ := io.Copy(io.Discard, r.Body)
		if failing {
			http.Error(w, "failing on purpose", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		rep := reply{Service: service, Task: task, Method: r.Method, Host: r.Host, Path: r.RequestURI, Headers: r.Header, BodyBytes: bodyBytes}
		if files := os.Getenv("FILES"); files != "" {
			rep.Files = map[string]fileInfo{}
			for _, p := range strings.Split(files, ",") {
				info := fileInfo{Size: -1}
				if st, err := os.Stat(p); err == nil {
					info = fileInfo{Size: st.Size(), Mode: st.Mode().Perm().String()}
				}
				rep.Files[p] = info
			}
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
	log.Printf("echo %s (%s) listening on %s", service, task, addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
