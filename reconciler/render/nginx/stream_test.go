package nginx

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

// tcpEcho starts a TCP server on loopback that answers each line with "service: line".
func tcpEcho(t *testing.T, service string) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s := bufio.NewScanner(c)
				for s.Scan() {
					fmt.Fprintf(c, "%s: %s\n", service, s.Text())
				}
			}()
		}
	}()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

// udpEcho starts a UDP server on loopback that answers each datagram with "service: datagram".
func udpEcho(t *testing.T, service string) int32 {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteTo([]byte(service+": "+string(buf[:n])), from)
		}
	}()
	return int32(c.LocalAddr().(*net.UDPAddr).Port)
}

// tlsEcho starts a TLS server on loopback, with a certificate for name, that says its service
// once the handshake is done: a backend that terminates the TLS the gateway passed through.
func tlsEcho(t *testing.T, service, name string) int32 {
	t.Helper()
	pair := selfSigned(t, name)
	cert, err := tls.X509KeyPair(pair, pair)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte(service + "\n"))
			}()
		}
	}()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

// loadStream decodes, defaults and validates manifests and returns the one Gateway, its Routes
// and the stream routes.
func loadStream(t *testing.T, data string) (*v1alpha1.Gateway, []*v1alpha1.Route, []v1alpha1.StreamRoute) {
	t.Helper()
	objs, errs := manifest.Decode("stream.yaml", []byte(data))
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatalf("invalid input:\n%v", errs)
	}
	var gw *v1alpha1.Gateway
	var routes []*v1alpha1.Route
	for _, o := range objs {
		switch o := o.(type) {
		case *v1alpha1.Gateway:
			gw = o
		case *v1alpha1.Route:
			routes = append(routes, o)
		}
	}
	return gw, routes, v1alpha1.StreamRoutesOf(objs)
}

// TestServeStream forwards through the real nginx: TCP and UDP echo through their routes on one
// port number, weighted TCP backends, and port 443-alike shared by TLS passthrough to two TLS
// backends chosen by server name (exact and wildcard) and two HTTPS listeners, whose own names
// the gateway terminates; a name nothing takes is refused. The HTTPS requests keep the client's
// address through the stream server in front of them: in X-Forwarded-For and X-Real-IP, and for
// the IP allow list of listener office.
func TestServeStream(t *testing.T) {
	l4, tlsPort := freePort(t), freePort(t)
	backends := map[string]int32{
		"tcp-a": tcpEcho(t, "tcp-a"), "tcp-b": tcpEcho(t, "tcp-b"),
		"udp-a": udpEcho(t, "udp-a"),
		"tls-a": tlsEcho(t, "tls-a", "a.example.com"), "tls-b": tlsEcho(t, "tls-b", "x.wild.example.com"),
	}
	for svc, port := range stubBackends(t, "web") {
		backends[svc] = port
	}
	const input = `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  agent: {operatorURL: "http://127.0.0.1:9", tokenSecret: agent-token}
  listeners:
    - {name: tcp, port: %[1]d, protocol: TCP}
    - {name: udp, port: %[1]d, protocol: UDP}
    - {name: passthrough, port: %[2]d, protocol: TLS, tls: {mode: Passthrough}}
    - {name: www, port: %[2]d, protocol: HTTPS, hostname: www.example.com, tls: {certificateRefs: [{name: www}]}}
    - {name: office, port: %[2]d, protocol: HTTPS, hostname: office.example.com, tls: {certificateRefs: [{name: office}]}}
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: office}
spec:
  targetRefs: [{kind: Gateway, name: edge, sectionName: office}]
  ipAccess: {allow: [127.0.0.2]}
---
apiVersion: swarmgate.io/v1alpha1
kind: TCPRoute
metadata: {name: tcp}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{name: tcp-a, port: 1}, {name: tcp-b, port: 1}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: UDPRoute
metadata: {name: udp}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{name: udp-a, port: 1}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: TLSRoute
metadata: {name: a}
spec:
  parentRefs: [{name: edge}]
  hostnames: [a.example.com]
  rules: [{backendRefs: [{name: tls-a, port: 1}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: TLSRoute
metadata: {name: wild}
spec:
  parentRefs: [{name: edge, sectionName: passthrough}]
  hostnames: ["*.wild.example.com"]
  rules: [{backendRefs: [{name: tls-b, port: 1}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: www}
spec:
  parentRefs: [{name: edge}]
  hostnames: [www.example.com]
  rules: [{backendRefs: [{name: web, port: 1}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: office}
spec:
  parentRefs: [{name: edge}]
  hostnames: [office.example.com]
  rules: [{backendRefs: [{name: web, port: 1}]}]
`
	gw, routes, streams := loadStream(t, fmt.Sprintf(input, l4, tlsPort))
	opts := Options{
		Policies:     policiesIn([]byte(fmt.Sprintf(input, l4, tlsPort))),
		StreamRoutes: streams,
		SocketDir:    t.TempDir(),
		Backend: func(service string, port int32) (string, int32) {
			return "127.0.0.1", backends[service]
		},
	}
	conf, err := Render(gw, routes, opts)
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, l4, tlsPort)

	t.Run("tcp", func(t *testing.T) {
		seen := map[string]int{}
		for i := range 40 {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", l4), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "hello %d\n", i)
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			service, text, _ := strings.Cut(strings.TrimSpace(line), ": ")
			if text != fmt.Sprintf("hello %d", i) {
				t.Fatalf("connection %d: got %q", i, line)
			}
			seen[service]++
		}
		if seen["tcp-a"] == 0 || seen["tcp-b"] == 0 {
			t.Errorf("connections by backend = %v, want both weighted backends", seen)
		}
		for service := range seen {
			streamExplained(t, gw, routes, opts, "tcp", "", service)
		}
	})
	t.Run("udp", func(t *testing.T) {
		c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", l4))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 1500)
		for i := range 3 {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := fmt.Fprintf(c, "query %d", i); err != nil {
				t.Fatal(err)
			}
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("datagram %d: %v", i, err)
			}
			if got, want := string(buf[:n]), fmt.Sprintf("udp-a: query %d", i); got != want {
				t.Fatalf("datagram %d: got %q, want %q", i, got, want)
			}
		}
		streamExplained(t, gw, routes, opts, "udp", "", "udp-a")
	})
	for _, tc := range []struct {
		serverName, want string // want "" means refused
	}{
		{"a.example.com", "tls-a"},
		{"x.wild.example.com", "tls-b"},
		{"www.example.com", "web"},
		{"b.example.com", ""},
		{"wild.example.com", ""},
	} {
		t.Run("tls/"+tc.serverName, func(t *testing.T) {
			got := passthrough(t, tlsPort, tc.serverName)
			if got != tc.want {
				t.Errorf("server name %s reached %q, want %q", tc.serverName, got, tc.want)
			}
			streamExplained(t, gw, routes, opts, "passthrough", tc.serverName, got)
		})
	}
	for _, tc := range []struct {
		name, from, host, forwarded string // forwarded: the client's own X-Forwarded-For
		status                      int
		sent                        map[string]string
	}{
		{name: "the client's address forwarded", from: "127.0.0.1", host: "www.example.com", status: 200,
			sent: map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1"}},
		{name: "another client's address forwarded", from: "127.0.0.2", host: "www.example.com", status: 200,
			sent: map[string]string{"X-Forwarded-For": "127.0.0.2", "X-Real-Ip": "127.0.0.2"}},
		{name: "appended to the client's X-Forwarded-For", from: "127.0.0.2", host: "www.example.com", forwarded: "203.0.113.9", status: 200,
			sent: map[string]string{"X-Forwarded-For": "203.0.113.9, 127.0.0.2", "X-Real-Ip": "127.0.0.2"}},
		{name: "ip allow: the allowed client", from: "127.0.0.2", host: "office.example.com", status: 200,
			sent: map[string]string{"X-Forwarded-For": "127.0.0.2"}},
		{name: "ip allow: another client", from: "127.0.0.1", host: "office.example.com", status: 403},
		{name: "ip allow: a forged X-Forwarded-For is not the client", from: "127.0.0.1", host: "office.example.com", forwarded: "127.0.0.2", status: 403},
	} {
		t.Run("https/"+tc.name, func(t *testing.T) {
			status, e := httpsFrom(t, tc.from, tlsPort, tc.host, tc.forwarded)
			if status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			for name, want := range tc.sent {
				if got := e.Headers.Get(name); got != want {
					t.Errorf("backend got %s %q, want %q", name, got, want)
				}
			}
		})
	}
}

// streamExplained checks that Explain says of a connection to a stream listener (with server name
// host on a TLS port) what the real nginx did with it: reached is the service that answered, ""
// when the connection was refused.
func streamExplained(t *testing.T, gw *v1alpha1.Gateway, routes []*v1alpha1.Route, opts Options, listener v1alpha1.SectionName, host, reached string) {
	t.Helper()
	ex, err := Explain(gw, routes, Request{Listener: listener, Host: host, Target: "/", Method: "GET"}, opts)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	switch c := ex.Chosen; {
	case reached == "" && (c != nil || ex.Answer == ""):
		t.Errorf("%s %s: nginx refused it; explain says %+v", listener, host, ex)
	case reached == "":
	case c == nil || !slices.ContainsFunc(c.Backends, func(b Backend) bool { return b.Service == reached && b.Refused == "" }):
		t.Errorf("%s %s: nginx sent it to %s; explain says %+v", listener, host, reached, ex)
	case ex.Stream == "" && c.Kind != v1alpha1.KindRoute, ex.Stream != "" && ex.Stream != gw.Listener(ex.Listener).Protocol:
		t.Errorf("%s %s: explain says %+v, of another kind of listener", listener, host, ex)
	}
}

// httpsFrom sends a GET for host over TLS to the gateway's port from loopback address from, with
// the X-Forwarded-For header forwarded unless empty, and returns the status and, for a 200, what
// the backend received.
func httpsFrom(t *testing.T, from string, port v1alpha1.PortNumber, host, forwarded string) (int, echo) {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := tls.DialWithDialer(dialer, "tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: host, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", host)
	if forwarded != "" {
		fmt.Fprintf(c, "X-Forwarded-For: %s\r\n", forwarded)
	}
	fmt.Fprint(c, "\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echo
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
	}
	return resp.StatusCode, e
}

// passthrough connects with TLS to the gateway's port with serverName and says who answered: the
// TLS backend's greeting, the HTTP backend behind the gateway's HTTPS listener (whose certificate
// is the one withTestCertificates makes for listener www, "www-0"), or "" when the handshake is
// refused.
func passthrough(t *testing.T, port v1alpha1.PortNumber, serverName string) string {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(dialer, "tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if c.ConnectionState().PeerCertificates[0].Subject.CommonName != "www-0" {
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("server name %s: %v", serverName, err)
		}
		return strings.TrimSpace(line)
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", serverName)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("server name %s: %v", serverName, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echo
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("server name %s: answer %q: %v", serverName, body, err)
	}
	return e.Service
}

// TestStreamLongServerNames: as many server names on one TLS port as routes may bring, each as long
// as validation allows, make a map nginx takes (its hash sized by the renderer).
func TestStreamLongServerNames(t *testing.T) {
	var b strings.Builder
	b.WriteString(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  agent: {operatorURL: "http://127.0.0.1:9", tokenSecret: agent-token}
  listeners: [{name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}]
`)
	label := strings.Repeat("a", 58)
	for i := range 20 {
		fmt.Fprintf(&b, "---\napiVersion: swarmgate.io/v1alpha1\nkind: TLSRoute\nmetadata: {name: r%d}\nspec:\n  parentRefs: [{name: edge}]\n  hostnames:\n", i)
		for j := range v1alpha1.MaxHostnames {
			// Four labels of 58 and a short name: up to 250 characters, near the 253 of a DNS name.
			fmt.Fprintf(&b, "    - %s.%s.%s.%s.r%dh%d.example\n", label, label, label, label, i, j)
		}
		fmt.Fprintf(&b, "  rules: [{backendRefs: [{name: svc%d, port: 443}]}]\n", i)
	}
	gw, routes, streams := loadStream(t, b.String())
	conf, err := Render(gw, routes, Options{StreamRoutes: streams})
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
}
