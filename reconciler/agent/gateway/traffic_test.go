package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		want      logLine
		wantErr   bool
	}{
		{name: "syslog header then the JSON line",
			msg:  `<190>Dec  4 15:54:21 swarmgate: {"time":"2026-12-04T15:54:21+00:00","gateway":"shop/edge","listener":"web","route":"shop/store","rule":"cart","backend":"shop_cart","upstream":"10.0.0.5:80","status":200,"duration":0.012,"upstream_time":"0.010","bytes_in":120,"bytes_out":512,"client":"10.0.0.9","request_id":"abc","method":"GET","host":"store.example","uri":"/cart?x={}"}`,
			want: logLine{Listener: "web", Route: "shop/store", Rule: "cart", Backend: "shop_cart", Status: 200, Duration: 0.012, UpstreamTime: "0.010", BytesIn: 120, BytesOut: 512}},
		{name: "a request no rule took",
			msg:  `<190>Dec  4 15:54:21 swarmgate: {"listener":"web","route":"","rule":"","backend":"","status":404,"duration":0.000,"upstream_time":"","bytes_in":80,"bytes_out":150}`,
			want: logLine{Listener: "web", Status: 404, BytesIn: 80, BytesOut: 150}},
		{name: "escaped characters (escape=json)",
			msg:  `<190>Dec  4 15:54:21 swarmgate: {"listener":"web","route":"a/b","rule":"r\"1","status":301,"duration":1.5}`,
			want: logLine{Listener: "web", Route: "a/b", Rule: `r"1`, Status: 301, Duration: 1.5}},
		{name: "no JSON", msg: `<190>Dec  4 15:54:21 swarmgate: hello`, wantErr: true},
		{name: "cut short", msg: `<190>Dec  4 15:54:21 swarmgate: {"listener":"web","sta`, wantErr: true},
		{name: "a number that is not", msg: `<190>Dec  4 15:54:21 swarmgate: {"status":"200"}`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLine([]byte(tc.msg))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestUpstreamSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"", 0, false},
		{"-", 0, false},
		{"0.004", 0.004, true},
		{"0.002, 0.003", 0.005, true},  // a retry
		{"0.001 : 0.002", 0.003, true}, // an internal redirect
		{"-, 0.010", 0.010, true},      // the first backend did not answer
		{"0.000, 0.001 : 0.002", 0.003, true},
	} {
		got, ok := upstreamSeconds(tc.in)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("upstreamSeconds(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTrafficCount(t *testing.T) {
	web := func(route, rule string, status int, duration float64, upstream string) logLine {
		return logLine{Listener: "web", Route: route, Rule: rule, Backend: route + "-svc", Status: status, Duration: duration,
			UpstreamTime: upstream, BytesIn: 100, BytesOut: 1000}
	}
	key := func(route, rule, class string) contract.TrafficKey {
		return contract.TrafficKey{Listener: "web", Route: route, Rule: rule, Backend: route + "-svc", Class: class}
	}
	hist := func(sum float64, bucket ...int) contract.Histogram {
		h := contract.Histogram{Counts: make([]uint64, len(contract.LatencyBuckets)+1), Sum: sum}
		for _, b := range bucket {
			h.Counts[b]++
		}
		return h
	}
	for _, tc := range []struct {
		name  string
		lines []logLine
		want  []contract.TrafficSeries
	}{
		{name: "nothing", want: []contract.TrafficSeries{}},
		{name: "by route, rule and status class", lines: []logLine{
			web("a", "0", 200, 0.001, "0.001"), web("a", "0", 204, 0.02, "0.02"), web("a", "0", 503, 20, "-, 19"),
			web("b", "cart", 301, 0.003, ""), web("", "", 404, 0, ""), web("a", "0", 0, 0, ""), // no class: not counted
		}, want: []contract.TrafficSeries{
			{TrafficKey: key("", "", "4xx"), Requests: 1, BytesIn: 100, BytesOut: 1000, Duration: hist(0, 0)},
			{TrafficKey: key("a", "0", "2xx"), Requests: 2, BytesIn: 200, BytesOut: 2000, Duration: hist(0.021, 0, 2), UpstreamTime: hist(0.021, 0, 2)},
			{TrafficKey: key("a", "0", "5xx"), Requests: 1, BytesIn: 100, BytesOut: 1000, Duration: hist(20, 11), UpstreamTime: hist(19, 11)},
			{TrafficKey: key("b", "cart", "3xx"), Requests: 1, BytesIn: 100, BytesOut: 1000, Duration: hist(0.003, 0)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTraffic()
			for _, l := range tc.lines {
				tr.count(l)
			}
			if got := tr.snapshot(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestAgentCountsTraffic sends requests through the real nginx, on a config the renderer writes
// with a traffic log, and checks that the agent's reports count exactly those requests, by the
// fields of the stdout access log's lines, which keep being written as before.
func TestAgentCountsTraffic(t *testing.T) {
	dir := t.TempDir()
	// nginx's workers (nobody) send to the traffic socket in dir.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(ok.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(broken.Close)
	stubs := map[string]netip.AddrPort{"cart": netip.MustParseAddrPort(ok.Listener.Addr().String()),
		"broken": netip.MustParseAddrPort(broken.Listener.Addr().String())}

	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "edge", Namespace: "shop"},
		Spec: v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{{Name: "web", Port: v1alpha1.PortNumber(port)}}}}
	gw.Default()
	rt := &v1alpha1.Route{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindRoute}, Metadata: v1alpha1.ObjectMeta{Name: "store", Namespace: "shop"},
		Spec: v1alpha1.RouteSpec{
			ParentRefs: []v1alpha1.ParentRef{{Name: "edge"}},
			Hostnames:  []v1alpha1.Hostname{"store.example"},
			Rules: []v1alpha1.RouteRule{
				{Name: ptr(v1alpha1.SectionName("cart")), Matches: []v1alpha1.RouteMatch{{Path: &v1alpha1.PathMatch{Value: "/cart"}}},
					BackendRefs: []v1alpha1.BackendRef{{Name: "cart", Port: ptr(v1alpha1.PortNumber(80))}}},
				{Matches: []v1alpha1.RouteMatch{{Path: &v1alpha1.PathMatch{Value: "/fail"}}},
					BackendRefs: []v1alpha1.BackendRef{{Name: "broken", Port: ptr(v1alpha1.PortNumber(80))}}},
			},
		}}
	rt.Default()
	accessLog := filepath.Join(dir, "access.log")
	conf, err := nginx.Render(gw, []*v1alpha1.Route{rt}, nginx.Options{AccessLog: accessLog, TrafficLog: filepath.Join(dir, "traffic.sock"),
		Backend: func(service string, _ int32) (string, int32) {
			stub, ok := stubs[service]
			if !ok {
				t.Errorf("no stub for service %s", service)
			}
			return stub.Addr().String(), int32(stub.Port())
		}})
	if err != nil {
		t.Fatal(err)
	}
	o := newOperator(t)
	stop := startAgentIn(t, dir, o, conf)
	send := func(host, path string) int {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(port)+path, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// The health check is neither logged nor counted.
	waitFor(t, "the gateway serves", func() bool { return send("any.example", contract.HealthPath) == http.StatusOK })
	sent := map[contract.TrafficKey]uint64{}
	for _, r := range []struct {
		host, path string
		n          int
		want       contract.TrafficKey
	}{
		{"store.example", "/cart", 30, contract.TrafficKey{Listener: "web", Route: "shop/store", Rule: "cart", Class: "2xx"}},
		{"store.example", "/fail", 20, contract.TrafficKey{Listener: "web", Route: "shop/store", Rule: "1", Class: "5xx"}},
		{"other.example", "/", 10, contract.TrafficKey{Listener: "web", Class: "4xx"}},
	} {
		for range r.n {
			send(r.host, r.path)
		}
		sent[r.want] += uint64(r.n)
	}
	waitFor(t, "the agent reports every request", func() bool {
		last := o.lastTraffic()
		var n uint64
		for i := 0; last != nil && i < len(last.Series); i++ {
			n += last.Series[i].Requests
		}
		return n == 60
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	final := o.lastTraffic() // sent as the agent stopped
	if final.Task != "gw.1" || final.Start.IsZero() {
		t.Errorf("the report names task %q, start %v", final.Task, final.Start)
	}

	// The stdout access log (a file here) has a line for each request, with what it is counted by.
	logged := map[contract.TrafficKey]uint64{}
	for _, l := range accessLogLines(t, accessLog) {
		for _, f := range []string{"time", "gateway", "listener", "route", "rule", "backend", "upstream", "status", "duration", "upstream_time",
			"bytes_in", "bytes_out", "client", "request_id", "method", "host", "uri"} {
			if _, ok := l[f]; !ok {
				t.Errorf("an access log line lacks %s: %v", f, l)
			}
		}
		status, _ := l["status"].(float64)
		logged[contract.TrafficKey{Listener: l["listener"].(string), Route: l["route"].(string), Rule: l["rule"].(string),
			Backend: l["backend"].(string), Class: statusClass(int(status))}]++
	}
	counted, byRequest := map[contract.TrafficKey]uint64{}, map[contract.TrafficKey]uint64{}
	for _, s := range final.Series {
		counted[s.TrafficKey] = s.Requests
		k := s.TrafficKey
		k.Backend = ""
		byRequest[k] += s.Requests
		wantUpstream := s.Requests
		if s.Route == "" {
			wantUpstream = 0 // no backend asked
		}
		if s.Duration.Total() != s.Requests || s.UpstreamTime.Total() != wantUpstream || s.BytesIn < 50*s.Requests || s.BytesOut < 50*s.Requests {
			t.Errorf("series %+v: %d requests, %d durations, %d upstream times, %d bytes in, %d out", s.TrafficKey, s.Requests,
				s.Duration.Total(), s.UpstreamTime.Total(), s.BytesIn, s.BytesOut)
		}
	}
	if !reflect.DeepEqual(byRequest, sent) {
		t.Errorf("counted %v, sent %v", byRequest, sent)
	}
	if !reflect.DeepEqual(counted, logged) {
		t.Errorf("counted %v, the access log has %v", counted, logged)
	}
}

// accessLogLines parses the JSON lines of an access log file.
func accessLogLines(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("access log line: %v: %s", err, sc.Text())
		}
		lines = append(lines, l)
	}
	return lines
}

// TestAgentStopsResending: an operator that keeps no traffic of the gateway (its metrics switched
// off) is not sent the same totals again; new requests are reported.
func TestAgentStopsResending(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	conf := fmt.Appendf(nil, "log_format t escape=json '{\"listener\":\"web\",\"status\":$status}';\nserver {\n    listen %d;\n"+
		"    access_log \"syslog:server=unix:%s,nohostname\" t;\n    location / {\n        return 200 \"x\";\n    }\n}\n", port, filepath.Join(dir, "traffic.sock"))
	o := newOperator(t)
	o.noMetrics = true
	startAgentIn(t, dir, o, conf)
	refused := func() int { o.mu.Lock(); defer o.mu.Unlock(); return o.refused }
	waitFor(t, "the gateway serves", func() bool { return answer(port) == "x" })
	waitFor(t, "the agent reports", func() bool { return refused() == 1 })
	time.Sleep(500 * time.Millisecond) // five intervals
	if n := refused(); n != 1 {
		t.Errorf("the same totals were sent %d times to an operator that does not keep them", n)
	}
	answer(port)
	waitFor(t, "the agent reports the new request", func() bool { return refused() == 2 })
}
