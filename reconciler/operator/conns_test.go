package operator

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/desired"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
)

// TestOneClientCannotStallTheEndpoints: a client holding more idle keep-alive connections than the
// endpoints allow in all must not keep others waiting: /healthz and an agent's poll, from another
// address and from the same one, are answered at once (the bound is generous; the report gives
// figures).
func TestOneClientCannotStallTheEndpoints(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := New(&reconciler.Reconciler{}, nil, Options{}, alert.NewDispatcher(log, nil, alert.FormatJSON), NewMetrics(), log)
	c.agents.publish(map[string]desired.AgentConfig{"gw": {Config: []byte("server {}\n")}})
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := LimitConnections(inner, MaxConnections, MaxConnectionsPerClient)
	srv := &http.Server{Handler: c.Handler(Tokens{Agent: "ag3nt"}), ConnState: l.ConnState, IdleTimeout: time.Hour}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := inner.Addr().(*net.TCPAddr).Port

	// One client (127.0.0.1) opens more connections than the total bound, each kept alive after a
	// request.
	var held []net.Conn
	t.Cleanup(func() {
		for _, conn := range held {
			conn.Close()
		}
	})
	for i := range MaxConnections + 6 {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: op\r\n\r\n"); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		resp.Body.Close()
	}

	for _, from := range []string{"127.0.0.2", "127.0.0.1"} {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}}
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err != nil {
			t.Fatalf("/healthz from %s: %v", from, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz from %s: %d", from, resp.StatusCode)
		}
		req, _ := http.NewRequestWithContext(context.Background(), "GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, contract.AgentConfigPath("gw")), nil)
		req.Header.Set("Authorization", "Bearer ag3nt")
		req.Header.Set("Accept", contract.BundleType)
		req.Header.Set(contract.ServedHeader, "old")
		resp, err = client.Do(req)
		if err != nil {
			t.Fatalf("agent poll from %s: %v", from, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("agent poll from %s: %d", from, resp.StatusCode)
		}
	}
}
