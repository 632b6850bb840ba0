package nginx

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// accessLine is one JSON line of the access log, as nginx writes it.
type accessLine struct {
	Time         string  `json:"time"`
	Gateway      string  `json:"gateway"`
	Listener     string  `json:"listener"`
	Route        string  `json:"route"`
	Rule         string  `json:"rule"`
	Backend      string  `json:"backend"`
	Upstream     string  `json:"upstream"`
	Status       int     `json:"status"`
	Duration     float64 `json:"duration"`
	UpstreamTime string  `json:"upstream_time"`
	BytesIn      int64   `json:"bytes_in"`
	BytesOut     int64   `json:"bytes_out"`
	Client       string  `json:"client"`
	RequestID    string  `json:"request_id"`
	Method       string  `json:"method"`
	Host         string  `json:"host"`
	URI          string  `json:"uri"`
}

// accessLogInput is a gateway with one listener and a Route whose rules cover what a line names:
// a named rule, a weighted split, an error, a slow backend, response headers of its own, a redirect.
const accessLogInput = `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  listeners: [{name: web, port: 8080}]
%s---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: store, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [store.example]
  rules:
    - name: cart
      matches: [{path: {value: /cart}}]
      backendRefs: [{name: cart, port: 80}]
    - matches: [{path: {value: /split}}]
      backendRefs: [{name: left, port: 80, weight: 1}, {name: right, port: 80, weight: 1}]
    - matches: [{path: {value: /fail}}]
      backendRefs: [{name: broken, port: 80}]
    - matches: [{path: {value: /slow}}]
      backendRefs: [{name: slow, port: 80}]
    - matches: [{path: {value: /headers}}]
      backendRefs: [{name: cart, port: 80}]
      filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: X-Shop, value: "1"}]}}]
    - matches: [{path: {value: /moved}}]
      filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /cart}}}]
`

// serveAccessLog renders the input with the gateway's accessLog (YAML, or "") and starts the real
// nginx on it, logging to a file, with each backend service a stub: "broken" answers 500, "slow"
// answers after slowBackend, the others echo the request id they received. It returns the port,
// the log file and the backends' ports by service.
func serveAccessLog(t *testing.T, accessLog string) (int, string, map[string]int32) {
	t.Helper()
	gw, routes := loadInput(t, "accesslog.yaml", []byte(fmt.Sprintf(accessLogInput, accessLog)))
	port := freePort(t)
	gw.Spec.Listeners[0].Port = port
	stubs := map[string]int32{}
	for _, svc := range []string{"cart", "left", "right", "broken", "slow"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(RequestIDHeader, "from-the-backend") // the gateway's id replaces it
			switch svc {
			case "broken":
				w.WriteHeader(http.StatusInternalServerError)
			case "slow":
				time.Sleep(slowBackend)
			}
			_, _ = io.WriteString(w, r.Header.Get(RequestIDHeader))
		}))
		t.Cleanup(srv.Close)
		stubs[svc] = int32(srv.Listener.Addr().(*net.TCPAddr).Port)
	}
	logFile := filepath.Join(t.TempDir(), "access.log")
	conf, err := Render(gw, routes, Options{
		AccessLog: logFile,
		Backend: func(service string, _ int32) (string, int32) {
			p, ok := stubs[service]
			if !ok {
				t.Fatalf("no stub for service %s", service)
			}
			return "127.0.0.1", p
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	startNginx(t, conf, port)
	return int(port), logFile, stubs
}

const slowBackend = 300 * time.Millisecond

// get sends a request for store.example and returns the response, its body read.
func get(t *testing.T, port int, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(port)+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "store.example"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// readAccessLog waits for n lines in the log (nginx writes a line once the response is sent),
// then for any straggler, and parses them: every line must be JSON with exactly the known fields.
func readAccessLog(t *testing.T, file string, n int) []accessLine {
	t.Helper()
	var data []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		data, _ = os.ReadFile(file)
		if strings.Count(string(data), "\n") >= n {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // a line too many would come now
	data, _ = os.ReadFile(file)
	var lines []accessLine
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		var l accessLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("access log line is not the JSON expected: %v\n%s", err, sc.Text())
		}
		lines = append(lines, l)
	}
	if len(lines) != n {
		t.Fatalf("access log has %d lines, want %d:\n%s", len(lines), n, data)
	}
	return lines
}

// TestAccessLogServed sends requests through the real nginx and checks every field of the JSON
// line it writes for each, and the request id the backend and the client see.
func TestAccessLogServed(t *testing.T) {
	port, logFile, stubs := serveAccessLog(t, "")
	upstream := func(svc string) string { return "127.0.0.1:" + strconv.Itoa(int(stubs[svc])) }
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)

	tests := []struct {
		name, path   string
		header       map[string]string
		status       int
		rule         string
		backends     []string // the service is one of these
		clientID     string   // the id the client sent and must get back; "" for a generated one
		slow         bool
		noUpstream   bool
		routeUnnamed bool // no rule took the request
	}{
		{name: "named rule", path: "/cart?item=1", status: 200, rule: "cart", backends: []string{"cart"}},
		{name: "the client's request id", path: "/cart", header: map[string]string{RequestIDHeader: "abc-123.x:y_z"}, status: 200, rule: "cart",
			backends: []string{"cart"}, clientID: "abc-123.x:y_z"},
		{name: "a malformed request id is replaced", path: "/cart", header: map[string]string{RequestIDHeader: `a" b`}, status: 200, rule: "cart",
			backends: []string{"cart"}},
		{name: "a too long request id is replaced", path: "/cart", header: map[string]string{RequestIDHeader: strings.Repeat("a", 129)}, status: 200, rule: "cart",
			backends: []string{"cart"}},
		{name: "weighted split by index", path: "/split", status: 200, rule: "1", backends: []string{"left", "right"}},
		{name: "backend error", path: "/fail", status: 500, rule: "2", backends: []string{"broken"}},
		{name: "slow backend", path: "/slow", status: 200, rule: "3", backends: []string{"slow"}, slow: true},
		{name: "location with headers of its own", path: "/headers", status: 200, rule: "4", backends: []string{"cart"}},
		{name: "redirect", path: "/moved", status: 302, rule: "5", backends: []string{""}, noUpstream: true},
		{name: "no rule", path: "/nowhere", status: 404, backends: []string{""}, noUpstream: true, routeUnnamed: true},
	}
	var ids []string
	for _, tt := range tests {
		resp, body := get(t, port, tt.path, tt.header)
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
		id := resp.Header.Values(RequestIDHeader)
		switch {
		case len(id) != 1:
			t.Fatalf("%s: the client got the request id headers %q, want one", tt.name, id)
		case tt.clientID != "" && id[0] != tt.clientID, tt.clientID == "" && !generated.MatchString(id[0]):
			t.Fatalf("%s: the client got request id %q, want %q or a generated one", tt.name, id[0], tt.clientID)
		case !tt.noUpstream && body != id[0]:
			t.Fatalf("%s: the backend got request id %q, the client %q", tt.name, body, id[0])
		}
		ids = append(ids, id[0])
	}

	lines := readAccessLog(t, logFile, len(tests))
	for i, tt := range tests {
		l := lines[i]
		t.Run(tt.name, func(t *testing.T) {
			if _, err := time.Parse(time.RFC3339, l.Time); err != nil {
				t.Errorf("time %q: %v", l.Time, err)
			}
			want := accessLine{Time: l.Time, Gateway: "shop_edge", Listener: "web", Route: "shop/store", Rule: tt.rule, Backend: l.Backend,
				Upstream: l.Upstream, Status: tt.status, Duration: l.Duration, UpstreamTime: l.UpstreamTime, BytesIn: l.BytesIn,
				BytesOut: l.BytesOut, Client: "127.0.0.1", RequestID: ids[i], Method: "GET", Host: "store.example", URI: tt.path}
			if tt.routeUnnamed {
				want.Route = ""
			}
			if l != want {
				t.Errorf("line\n %+v, want\n %+v", l, want)
			}
			if !slices.Contains(tt.backends, l.Backend) {
				t.Errorf("backend %q, want one of %q", l.Backend, tt.backends)
			}
			switch {
			case tt.noUpstream && (l.Upstream != "" || l.UpstreamTime != ""):
				t.Errorf("upstream %q time %q for a request no backend answered", l.Upstream, l.UpstreamTime)
			case !tt.noUpstream && l.Upstream != upstream(l.Backend):
				t.Errorf("upstream %q, want %s's %s", l.Upstream, l.Backend, upstream(l.Backend))
			}
			if !tt.noUpstream {
				ut, err := strconv.ParseFloat(l.UpstreamTime, 64)
				// nginx reads its clock at events: the two may differ by a millisecond either way.
				if err != nil || ut > l.Duration+0.0015 {
					t.Errorf("upstream time %q, request %v", l.UpstreamTime, l.Duration)
				}
			}
			if slow := l.Duration >= slowBackend.Seconds(); slow != tt.slow {
				t.Errorf("duration %v, slow backend %v", l.Duration, tt.slow)
			}
			// A GET without body: the request line and headers in, the status line, headers and
			// body out; both at least a few dozen bytes.
			if l.BytesIn < 40 || l.BytesOut < 40 {
				t.Errorf("bytes in %d, out %d", l.BytesIn, l.BytesOut)
			}
		})
	}
}

// TestAccessLogFilters checks which requests each Gateway filter logs, through the real nginx.
func TestAccessLogFilters(t *testing.T) {
	const requests = 400
	tests := []struct {
		name, accessLog string
		paths           []string // sent in turn
		logged          func(l accessLine) bool
		share           float64 // of the requests that pass logged, the share logged
	}{
		{"disabled", "  accessLog: {enabled: false}\n", []string{"/cart", "/fail"}, func(accessLine) bool { return false }, 1},
		{"errors only", "  accessLog: {errorsOnly: true}\n", []string{"/cart", "/fail", "/nowhere"}, func(l accessLine) bool { return l.Status >= 400 }, 1},
		{"slower than", "  accessLog: {slowerThan: 200ms}\n", []string{"/cart", "/slow"}, func(l accessLine) bool { return l.URI == "/slow" }, 1},
		{"errors or slow", "  accessLog: {errorsOnly: true, slowerThan: 200ms}\n", []string{"/cart", "/slow", "/fail"}, func(l accessLine) bool { return l.URI != "/cart" }, 1},
		{"sampled", "  accessLog: {samplePercent: 25}\n", []string{"/cart"}, func(accessLine) bool { return true }, 0.25},
		{"sampled errors", "  accessLog: {errorsOnly: true, samplePercent: 50}\n", []string{"/cart", "/fail"}, func(l accessLine) bool { return l.Status >= 400 }, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port, logFile, _ := serveAccessLog(t, tt.accessLog)
			n := len(tt.paths)
			if tt.share < 1 {
				n = requests
			}
			passing := 0
			for i := range n {
				path := tt.paths[i%len(tt.paths)]
				resp, _ := get(t, port, path, nil)
				if tt.logged(accessLine{URI: path, Status: resp.StatusCode}) {
					passing++
				}
			}
			data := waitQuiet(t, logFile)
			got := strings.Count(data, "\n")
			for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
				var l accessLine
				if line != "" && (json.Unmarshal([]byte(line), &l) != nil || !tt.logged(l)) {
					t.Errorf("logged a request the filter leaves out: %s", line)
				}
			}
			if tt.share == 1 && got != passing {
				t.Fatalf("%d lines logged, want %d:\n%s", got, passing, data)
			}
			// Sampling is random: 400 requests at 25% log 100 ± 4.3 standard deviations' worth.
			if want := float64(passing) * tt.share; tt.share < 1 && (float64(got) < want*0.6 || float64(got) > want*1.4) {
				t.Fatalf("%d lines logged of %d requests passing, want about %.0f", got, passing, want)
			}
		})
	}
}

// waitQuiet returns the log once nginx has written everything: lines come as responses finish.
func waitQuiet(t *testing.T, file string) string {
	t.Helper()
	time.Sleep(200 * time.Millisecond)
	data, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}

// TestAtLeastMilliseconds checks the regular expression slowerThan becomes against nginx's
// $request_time format, on each side of the threshold.
func TestAtLeastMilliseconds(t *testing.T) {
	for _, tt := range []struct {
		ms         int64
		match, not []string
	}{
		{1, []string{"0.001", "0.010", "0.999", "1.000", "12.000"}, []string{"0.000"}},
		{501, []string{"0.501", "0.502", "0.510", "0.600", "1.000", "1.500", "10.000"}, []string{"0.000", "0.500", "0.499", "0.051"}},
		{1000, []string{"1.000", "1.001", "2.000", "10.000"}, []string{"0.999", "0.000"}},
		{12345, []string{"12.345", "12.346", "12.400", "13.000", "20.000", "100.000"}, []string{"12.344", "12.000", "11.999", "9.999", "1.500"}},
		{99999, []string{"99.999", "100.000", "999.000"}, []string{"99.998", "9.999"}},
	} {
		re := regexp.MustCompile(`^(?:` + atLeastMilliseconds(tt.ms) + `)\z`)
		for _, s := range tt.match {
			if !re.MatchString(s) {
				t.Errorf("%d ms: %s does not match %s", tt.ms, re, s)
			}
		}
		for _, s := range tt.not {
			if re.MatchString(s) {
				t.Errorf("%d ms: %s matches %s", tt.ms, re, s)
			}
		}
	}
}

// TestTrafficLog: with a traffic log, every server sends each request's line to the agent's
// socket, unfiltered, whatever the access log keeps; nginx takes the config.
func TestTrafficLog(t *testing.T) {
	const traffic = `access_log "syslog:server=unix:/run/swarmgate/traffic.sock,nohostname,tag=swarmgate" sg_access;`
	for _, tt := range []struct {
		name, accessLog string
		stdout          string // the server's other access_log directive
	}{
		{"every request logged", "", `access_log "/dev/stdout" sg_access;`},
		{"errors logged", "  accessLog: {errorsOnly: true}\n", `access_log "/dev/stdout" sg_access if=$`},
		{"none logged", "  accessLog: {enabled: false}\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw, routes := loadInput(t, "accesslog.yaml", []byte(fmt.Sprintf(accessLogInput, tt.accessLog)))
			conf, err := Render(gw, routes, Options{TrafficLog: "/run/swarmgate/traffic.sock"})
			if err != nil {
				t.Fatal(err)
			}
			servers := strings.Count(string(conf), "\nserver {")
			if n := strings.Count(string(conf), "    "+traffic+"\n"); n != servers || servers == 0 {
				t.Errorf("%d servers send to the traffic log, want all %d", n, servers)
			}
			if n := strings.Count(string(conf), "access_log off;"); n != strings.Count(string(conf), "location = "+contract.HealthPath) {
				t.Errorf("%d access_log off, want only the health checks'", n)
			}
			if tt.stdout != "" && strings.Count(string(conf), "    "+tt.stdout) != servers {
				t.Errorf("the servers do not keep their access log %q", tt.stdout)
			}
			nginxTest(t, conf)
		})
	}
}
