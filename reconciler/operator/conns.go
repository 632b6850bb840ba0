package operator

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// The bounds of the endpoints' open connections. Every gateway task's agent keeps one open; one
// client (one address) may hold a quarter of them, so it cannot fill the rest.
const (
	MaxConnections          = 1024
	MaxConnectionsPerClient = MaxConnections / 4
)

// ConnLimiter bounds a listener's open connections: maxConns in all, perClient from one remote
// address. A connection that would pass a bound closes the connection that has waited longest
// without a request in progress (idle between requests, or yet to send its first), of its own
// address for the per-client bound and of any address for the total: idle connections yield to
// new ones, so clients that hold many (a leak or an attack) cannot keep others waiting. When every
// connection is serving a request, a new one over the per-client bound is closed, and one over the
// total waits for a connection to end (requests are bounded in time by the server's timeouts).
//
// The server must report its connections' states: set http.Server.ConnState to the limiter's
// ConnState.
type ConnLimiter struct {
	net.Listener
	maxConns, perClient int

	mu     sync.Mutex
	ended  *sync.Cond // signalled when a connection ends
	conns  map[net.Conn]*connState
	counts map[string]int // open connections per remote address
}

type connState struct {
	client    string
	idle      bool      // no request in progress
	idleSince time.Time // when it last became idle
}

// LimitConnections wraps l. Wrap any TLS listener, not the plain one, so that the connections the
// server reports are the ones the limiter accepted.
func LimitConnections(l net.Listener, maxConns, perClient int) *ConnLimiter {
	c := &ConnLimiter{Listener: l, maxConns: maxConns, perClient: perClient,
		conns: map[net.Conn]*connState{}, counts: map[string]int{}}
	c.ended = sync.NewCond(&c.mu)
	return c
}

// Accept returns the next connection within the bounds.
func (c *ConnLimiter) Accept() (net.Conn, error) {
	for {
		conn, err := c.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := remoteHost(conn)
		c.mu.Lock()
		if c.counts[client] >= c.perClient && !c.evict(client) {
			c.mu.Unlock()
			conn.Close()
			continue
		}
		for len(c.conns) >= c.maxConns && !c.evict("") {
			c.ended.Wait()
		}
		c.conns[conn] = &connState{client: client, idle: true, idleSince: time.Now()}
		c.counts[client]++
		c.mu.Unlock()
		return conn, nil
	}
}

// ConnState follows the server's connections: which are idle, which have ended.
func (c *ConnLimiter) ConnState(conn net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.conns[conn]
	if !ok {
		return // evicted already
	}
	switch state {
	case http.StateActive:
		s.idle = false
	case http.StateIdle:
		s.idle, s.idleSince = true, time.Now()
	case http.StateClosed, http.StateHijacked:
		c.forget(conn, s)
	}
}

// evict closes the connection of client ("" for any) idle longest and reports whether there was one.
func (c *ConnLimiter) evict(client string) bool {
	var oldest net.Conn
	var oldestState *connState
	for conn, s := range c.conns {
		if s.idle && (client == "" || s.client == client) && (oldest == nil || s.idleSince.Before(oldestState.idleSince)) {
			oldest, oldestState = conn, s
		}
	}
	if oldest == nil {
		return false
	}
	c.forget(oldest, oldestState)
	oldest.Close()
	return true
}

func (c *ConnLimiter) forget(conn net.Conn, s *connState) {
	delete(c.conns, conn)
	if c.counts[s.client]--; c.counts[s.client] == 0 {
		delete(c.counts, s.client)
	}
	c.ended.Broadcast()
}

// remoteHost is the address a connection comes from, without its port.
func remoteHost(conn net.Conn) string {
	addr := conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
