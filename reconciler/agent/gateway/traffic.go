package gateway

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// Traffic metrics: nginx sends each request's JSON access log line to the agent as syslog on a
// unix datagram socket (the rendered config says so for gateways with spec.agent.metrics), the
// agent counts them by contract.TrafficKey and reports its totals to the operator. Nothing is
// written to disk, and the stdout access log, with its filters, is another access_log of its own.

// logLine is what the agent reads of an access log line: the fields the renderer's log_format
// writes that traffic is counted by or measures.
type logLine struct {
	Listener     string  `json:"listener"`
	Route        string  `json:"route"`
	Rule         string  `json:"rule"`
	Backend      string  `json:"backend"`
	Status       int     `json:"status"`
	Duration     float64 `json:"duration"`
	UpstreamTime string  `json:"upstream_time"`
	BytesIn      uint64  `json:"bytes_in"`
	BytesOut     uint64  `json:"bytes_out"`
}

// parseLine reads one syslog message from nginx: a header ("<190>Dec  4 15:54:21 swarmgate: ")
// then the JSON line, whose first brace ends the header.
func parseLine(msg []byte) (logLine, error) {
	var l logLine
	start := bytes.IndexByte(msg, '{')
	if start < 0 {
		return l, errors.New("no JSON in the access log message")
	}
	if err := json.Unmarshal(msg[start:], &l); err != nil {
		return l, fmt.Errorf("access log line: %w", err)
	}
	return l, nil
}

// upstreamSeconds is the time the backends took, from nginx's $upstream_response_time: one
// figure per backend tried, separated by ", " (another try) or " : " (an internal redirect), "-"
// for one that did not answer; "" when no backend was asked. ok is false then.
func upstreamSeconds(s string) (total float64, ok bool) {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ':' || r == ' ' }) {
		if v, err := strconv.ParseFloat(f, 64); err == nil {
			total, ok = total+v, true
		}
	}
	return total, ok
}

// statusClass is the class of an HTTP status, "" for none of contract.StatusClasses.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return ""
	}
	return contract.StatusClasses[status/100-1]
}

// traffic is a task's traffic since the agent started.
type traffic struct {
	mu     sync.Mutex
	series map[contract.TrafficKey]*contract.TrafficSeries
}

func newTraffic() *traffic {
	return &traffic{series: map[contract.TrafficKey]*contract.TrafficSeries{}}
}

// count adds one request; one with a status no class holds is not counted.
func (t *traffic) count(l logLine) {
	class := statusClass(l.Status)
	if class == "" {
		return
	}
	key := contract.TrafficKey{Listener: l.Listener, Route: l.Route, Rule: l.Rule, Backend: l.Backend, Class: class}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.series[key]
	if s == nil {
		s = &contract.TrafficSeries{TrafficKey: key}
		t.series[key] = s
	}
	s.Requests++
	s.BytesIn += l.BytesIn
	s.BytesOut += l.BytesOut
	s.Duration.Observe(l.Duration)
	if up, ok := upstreamSeconds(l.UpstreamTime); ok {
		s.UpstreamTime.Observe(up)
	}
}

// snapshot copies the totals, in a fixed order.
func (t *traffic) snapshot() []contract.TrafficSeries {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]contract.TrafficSeries, 0, len(t.series))
	for _, s := range t.series {
		c := *s
		c.Duration.Counts = slices.Clone(s.Duration.Counts)
		c.UpstreamTime.Counts = slices.Clone(s.UpstreamTime.Counts)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b contract.TrafficSeries) int {
		return cmp.Or(strings.Compare(a.Listener, b.Listener), strings.Compare(a.Route, b.Route), strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Backend, b.Backend), strings.Compare(a.Class, b.Class))
	})
	return out
}

// maxLogMessage bounds a syslog message read: nginx sends a line whole, and a line holds a URI of
// at most its large_client_header_buffers (8k by default) and a few short fields.
const maxLogMessage = 64 << 10

// listenTraffic opens the socket nginx sends its lines to. nginx's workers run as nobody: the
// socket is theirs to write.
func listenTraffic(path string) (*net.UnixConn, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("traffic socket: %w", err)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("traffic socket: %w", err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		conn.Close()
		return nil, fmt.Errorf("traffic socket: %w", err)
	}
	// Room for bursts while the agent is busy: a message nginx cannot send is lost.
	_ = conn.SetReadBuffer(4 << 20)
	return conn, nil
}

// readTraffic counts the lines arriving on conn until it is closed, or, once nginx has stopped,
// until none is left.
func (a *Agent) readTraffic(conn *net.UnixConn) {
	buf := make([]byte, maxLogMessage)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
				a.log.Warn("reading the traffic socket", "error", err)
			}
			return
		}
		l, err := parseLine(buf[:n])
		if err != nil {
			a.log.Warn("an access log line the agent cannot read", "error", err)
			continue
		}
		a.traffic.count(l)
	}
}

// statusSocket is where nginx's stub_status answers, for the open connections: a server of the
// agent's main config, on a unix socket no client reaches.
func (a *Agent) statusSocket() string { return filepath.Join(a.cfg.Dir, "status.sock") }

// connections asks nginx how many client connections it holds open, not counting the asking one.
func (a *Agent) connections(ctx context.Context) (int64, error) {
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", a.statusSocket())
	}}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://nginx/", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("nginx status: %w", err)
	}
	defer resp.Body.Close()
	// "Active connections: N \n..."
	line, err := bufio.NewReader(io.LimitReader(resp.Body, 4096)).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("nginx status: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "Active connections:")), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("nginx status: %w", err)
	}
	return max(n-1, 0), nil
}

// reportTraffic sends the operator the task's totals every interval once nginx has counted a
// request, until ctx ends.
func (a *Agent) reportTraffic(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			a.sendTraffic(ctx)
		}
	}
}

// sendTraffic sends one report, when there is traffic to report. A gateway whose metrics the
// operator does not keep (switched off) is not told the same totals again.
func (a *Agent) sendTraffic(ctx context.Context) {
	series := a.traffic.snapshot()
	var requests uint64
	for _, s := range series {
		requests += s.Requests
	}
	if requests == 0 || requests == a.unwanted.Load() {
		return
	}
	report := contract.TrafficReport{Task: a.cfg.Task, Start: a.started, Series: series}
	conns, err := a.connections(ctx)
	if err != nil {
		a.log.Warn("cannot read nginx's open connections", "error", err)
	}
	report.Connections = conns
	body, err := json.Marshal(report)
	if err != nil {
		a.log.Warn("encoding the traffic report", "error", err)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(a.cfg.Operator, "/")+contract.AgentTrafficPath(a.cfg.Gateway), bytes.NewReader(body))
	if err != nil {
		a.log.Warn("the traffic report", "error", err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.Token)
	req.Header.Set("Content-Type", contract.TrafficType)
	resp, err := a.client.Do(req)
	if err != nil {
		a.log.Warn("cannot send the traffic report; its totals go with the next one", "error", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		a.unwanted.Store(requests)
	}
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		a.log.Warn("the operator refused the traffic report", "status", resp.Status, "error", string(bytes.TrimSpace(msg)))
	}
}
