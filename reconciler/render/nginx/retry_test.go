package nginx

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestServeRetry: a rule's retry sends a request the backend answered with a listed code to
// another address of the backend (the Gateway API's rules[].retry with nginx's
// proxy_next_upstream), a POST too; without retry, or with attempts 0, the answer stands. The
// backend name resolves, through a DNS server of the test's, to two loopback addresses: one
// answers 503, the other 200, as two tasks of a dnsrr service would.
func TestServeRetry(t *testing.T) {
	backendPort := freePort(t)
	for addr, status := range map[string]int{"127.0.0.1": 503, "127.0.0.2": 200} {
		l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", addr, backendPort))
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	resolver := dnsServer(t, map[string][]string{"twotasks.": {"127.0.0.1", "127.0.0.2"}})

	conf, port := serveOneRoute(t, "retry.test", fmt.Sprintf(`    - matches: [{path: {value: /retry}}]
      retry: {codes: [503, 500], attempts: 1}
      timeouts: {request: 5s}
      backendRefs: [{name: twotasks, port: %[1]d}]
    - matches: [{path: {value: /zero}}]
      retry: {codes: [503], attempts: 0}
      backendRefs: [{name: twotasks, port: %[1]d}]
    - backendRefs: [{name: twotasks, port: %[1]d}]
`, backendPort), Options{Resolver: resolver, ResolverValid: time.Second, ResolverTimeout: time.Second})
	if !strings.Contains(string(conf), "proxy_next_upstream error timeout http_500 http_503 non_idempotent;") {
		t.Errorf("no proxy_next_upstream in:\n%s", conf)
	}
	count := func(method, path string, n int) map[int]int {
		statuses := map[int]int{}
		for range n {
			req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), strings.NewReader("body"))
			req.Host = "retry.test"
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			statuses[resp.StatusCode]++
		}
		return statuses
	}
	// nginx takes the two addresses in turn: 20 requests meet the failing one 10 times.
	for _, method := range []string{"GET", "POST"} {
		if got := count(method, "/retry", 20); got[200] != 20 {
			t.Errorf("%s /retry: %v, want 200 only", method, got)
		}
	}
	for _, path := range []string{"/zero", "/other"} {
		if got := count("GET", path, 20); got[503] == 0 || got[200] == 0 {
			t.Errorf("%s: %v, want the failing task's 503 to stand", path, got)
		}
	}
}

// dnsServer answers A queries for the names given (fully qualified) on a loopback UDP port, and
// returns its address.
func dnsServer(t *testing.T, names map[string][]string) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg).SetReply(q)
		for _, question := range q.Question {
			for _, addr := range names[strings.ToLower(question.Name)] {
				if question.Qtype == dns.TypeA {
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: net.ParseIP(addr)})
				}
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}
