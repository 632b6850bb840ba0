// Package apicount is a reverse proxy for the Docker Engine API that counts the requests passing
// through it, so tests and benchmarks can tell how many calls, and how many writes, a command made.
// Point a client at it with DOCKER_HOST=unix://<Proxy.Socket>.
package apicount

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// Proxy forwards from its own socket to the engine's and counts.
type Proxy struct {
	// Socket is the path of the proxy's unix socket.
	Socket string
	srv    *http.Server
	mu     sync.Mutex
	reads  int
	writes []string
}

// Start listens on socket and forwards to the engine socket.
func Start(socket, engineSocket string) (*Proxy, error) {
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Socket: socket}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "docker"})
	rp.ErrorLog = log.New(io.Discard, "", 0) // an engine that restarts is expected; callers see the 502
	rp.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", engineSocket)
	}}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			p.reads++
		} else {
			w := r.Method + " " + r.URL.Path
			if r.Header.Get("X-Registry-Auth") != "" {
				w += " with registry credentials" // whether they were sent, never what they are
			}
			p.writes = append(p.writes, w)
		}
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

// Reset zeroes the counters and returns a function that reports the requests made since: the
// number of reads and each write ("POST /v1.41/services/create", followed by " with registry
// credentials" when it carried some).
func (p *Proxy) Reset() func() (reads int, writes []string) {
	p.mu.Lock()
	p.reads, p.writes = 0, nil
	p.mu.Unlock()
	return func() (int, []string) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.reads, append([]string(nil), p.writes...)
	}
}
