package main

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"time"
)

// slowAPI is a proxy in front of a manager's engine socket through which an operator talks to
// the swarm; during an engineSlowed fault it holds every request for a while before passing it on.
type slowAPI struct {
	socket string
	srv    *http.Server
	delay  atomic.Int64 // a time.Duration
}

func startSlowAPI(socket, engineSocket string) (*slowAPI, error) {
	_ = os.Remove(socket) // an earlier run's
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, err
	}
	s := &slowAPI{socket: socket}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "docker"})
	rp.FlushInterval = -1 // the events stream
	// A manager whose engine is down refuses every request: the operator sees and logs each.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	rp.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", engineSocket)
	}}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := time.Duration(s.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *slowAPI) setDelay(d time.Duration) { s.delay.Store(int64(d)) }

func (s *slowAPI) Close() error { return s.srv.Close() }
