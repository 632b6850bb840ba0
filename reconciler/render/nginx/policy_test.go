package nginx

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// policyInput is a Gateway with two listeners (one behind a trusted proxy, one reached directly),
// a Route with named rules, and policies on each kind of target.
func policyInput(direct, proxied, pp v1alpha1.PortNumber) []byte {
	return []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: direct, port: %d}, {name: proxied, port: %d}, {name: pp, port: %d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  hostnames: [app.example.com]
  rules:
    - name: open
      matches: [{path: {type: PathPrefix, value: /}}]
      backendRefs: [{name: svc, port: 80}]
    - name: admin
      matches: [{path: {type: PathPrefix, value: /admin}}]
      backendRefs: [{name: svc, port: 80}]
    - name: office
      matches: [{path: {type: PathPrefix, value: /office}, headers: [{name: X-Office, value: "1"}]}]
      backendRefs: [{name: svc, port: 80}]
    - name: limited
      matches: [{path: {type: PathPrefix, value: /limited}}]
      backendRefs: [{name: svc, port: 80}]
    - name: zipped
      matches: [{path: {type: PathPrefix, value: /zipped}}]
      backendRefs: [{name: svc, port: 80}]
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: login}
spec:
  targetRefs: [{kind: Route, name: app, sectionName: admin}]
  basicAuth: {secret: admin-users, realm: "Admin $area \"x\""}
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: office}
spec:
  targetRefs: [{kind: Route, name: app, sectionName: office}]
  ipAccess: {allow: [192.0.2.0/24], deny: [192.0.2.66]}
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: shadowed}
spec:
  targetRefs: [{kind: Route, name: app, sectionName: office}]
  ipAccess: {allow: [127.0.0.0/8]}
---
apiVersion: swarmgate.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: behind-lb}
spec:
  targetRefs: [{kind: Gateway, name: gw, sectionName: proxied}]
  clientIPDetection: {trustedProxies: [127.0.0.0/8]}
---
apiVersion: swarmgate.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: tcp-lb}
spec:
  targetRefs: [{kind: Gateway, name: gw, sectionName: pp}]
  clientIPDetection: {trustedProxies: [127.0.0.1], proxyProtocol: true}
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: limit}
spec:
  targetRefs: [{kind: Route, name: app, sectionName: limited}]
  rateLimit: {requests: 2, unit: Second, burst: 4}
  connectionLimit: {connections: 20}
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: zip}
spec:
  targetRefs: [{kind: Route, name: app, sectionName: zipped}]
  compression: {contentTypes: [application/json], minLength: 100}
`, direct, proxied, pp))
}

// loadPolicies loads input as loadInput does, with its policies.
func loadPolicies(t *testing.T, data []byte) (*v1alpha1.Gateway, []*v1alpha1.Route, Policies) {
	t.Helper()
	gw, routes := loadInput(t, "policies.yaml", data)
	return gw, routes, policiesIn(data)
}

// policiesIn are the defaulted policies of manifests that loadInput has validated.
func policiesIn(data []byte) Policies {
	objs, _ := manifest.Decode("policies.yaml", data)
	for _, o := range objs {
		o.Default()
	}
	return PoliciesOf(objs)
}

// TestServePolicies serves the policies through the real nginx: basic authentication with a
// bcrypt htpasswd file, IP lists on the peer's and on a trusted proxy's forwarded address, and a
// rate limit for a gateway of two tasks.
func TestServePolicies(t *testing.T) {
	direct, proxied, pp := freePort(t), freePort(t), freePort(t)
	gw, routes, pols := loadPolicies(t, policyInput(direct, proxied, pp))
	stubs := stubBackends(t, "svc")
	conf, err := Render(gw, routes, Options{Policies: pols, Replicas: 2,
		Backend: func(string, int32) (string, int32) { return "127.0.0.1", stubs["svc"] }})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rate=60r/m", "burst=2 nodelay", "limit_conn sg_z", " 10;", `auth_basic "Admin ${sg_dollar}area \"x\""`} {
		if !bytes.Contains(conf, []byte(want)) {
			t.Errorf("config lacks %q (the whole gateway's limits halved for two tasks; the realm literal)", want)
		}
	}
	if bytes.Contains(conf, []byte("127.0.0.0/8\";\n        deny all")) {
		t.Error("the shadowed policy (second by name on the same rule) applies")
	}
	// The users file, where the gateway's tasks find it.
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte("alice:"+string(hash)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf = bytes.ReplaceAll(conf, []byte(UserFile(pols.Security[0])), []byte(users))
	nginxTest(t, conf)
	startNginx(t, conf, direct, proxied, pp)

	type req struct {
		port    v1alpha1.PortNumber
		path    string
		user    string
		headers map[string]string
	}
	tests := []struct {
		name string
		req  req
		want int
	}{
		{"open rule", req{port: direct, path: "/"}, 200},
		{"basic auth: no credentials", req{port: direct, path: "/admin/x"}, 401},
		{"basic auth: wrong password", req{port: direct, path: "/admin/x", user: "alice:wrong"}, 401},
		{"basic auth: unknown user", req{port: direct, path: "/admin/x", user: "bob:s3cret"}, 401},
		{"basic auth: bcrypt hash accepted", req{port: direct, path: "/admin/x", user: "alice:s3cret"}, 200},
		{"ip allow: the peer 127.0.0.1 is not listed", req{port: direct, path: "/office", headers: map[string]string{"X-Office": "1"}}, 403},
		{"ip allow: a forwarded address from an untrusted proxy is ignored", req{port: direct, path: "/office",
			headers: map[string]string{"X-Office": "1", "X-Forwarded-For": "192.0.2.7"}}, 403},
		{"ip allow: a trusted proxy's forwarded address", req{port: proxied, path: "/office",
			headers: map[string]string{"X-Office": "1", "X-Forwarded-For": "192.0.2.7"}}, 200},
		{"ip deny before allow", req{port: proxied, path: "/office",
			headers: map[string]string{"X-Office": "1", "X-Forwarded-For": "192.0.2.66"}}, 403},
		{"ip allow: another forwarded address", req{port: proxied, path: "/office",
			headers: map[string]string{"X-Office": "1", "X-Forwarded-For": "198.51.100.1"}}, 403},
		{"ip allow: the client is the rightmost untrusted address", req{port: proxied, path: "/office",
			headers: map[string]string{"X-Office": "1", "X-Forwarded-For": "192.0.2.7, 198.51.100.1"}}, 403},
		{"the rule's policy only: the same path without its match", req{port: direct, path: "/office"}, 200},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(t *testing.T, r req) int {
		hr, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", r.port, r.path), nil)
		hr.Host = "app.example.com"
		if u, p, ok := strings.Cut(r.user, ":"); ok {
			hr.SetBasicAuth(u, p)
		}
		for k, v := range r.headers {
			hr.Header.Set(k, v)
		}
		resp, err := client.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") != `Basic realm="Admin $area "x""` {
			t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
		}
		return resp.StatusCode
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := do(t, tt.req); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name, client string
		want         int
	}{
		{"PROXY protocol: an allowed client", "192.0.2.7", 200},
		{"PROXY protocol: another client", "198.51.100.1", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", pp), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "PROXY TCP4 %s 127.0.0.1 40000 %d\r\nGET /office HTTP/1.1\r\nHost: app.example.com\r\nX-Office: 1\r\nConnection: close\r\n\r\n", tt.client, pp)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name, path, accept, want string
	}{
		{"compressed for a client that accepts gzip", "/zipped", "gzip", "gzip"},
		{"not for one that does not", "/zipped", "identity", ""},
		{"not where no policy asks", "/", "gzip", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hr, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", direct, tt.path), nil)
			hr.Host = "app.example.com"
			hr.Header.Set("Accept-Encoding", tt.accept)
			resp, err := client.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Content-Encoding"); resp.StatusCode != 200 || got != tt.want {
				t.Errorf("status %d, Content-Encoding %q; want 200, %q", resp.StatusCode, got, tt.want)
			}
		})
	}
	t.Run("rate limit: 429 past the burst", func(t *testing.T) {
		// 2 per second for the gateway, burst 4: this task's part is 1 per second, burst 2. Three
		// requests at once pass (one, and the burst), the fourth is refused.
		var got []int
		for range 4 {
			got = append(got, do(t, req{port: direct, path: "/limited"}))
		}
		if fmt.Sprint(got) != "[200 200 200 429]" {
			t.Errorf("statuses %v, want [200 200 200 429]", got)
		}
	})
}

// TestUserFileFormats says which htpasswd hashes the real nginx checks: it hands them to crypt(3)
// (Debian's libxcrypt). A password in clear, or a scheme crypt(3) does not know, never matches.
func TestUserFileFormats(t *testing.T) {
	port := freePort(t)
	gw, routes, pols := loadPolicies(t, []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: %d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: login}
spec:
  targetRefs: [{kind: Gateway, name: gw}]
  basicAuth: {secret: users}
`, port)))
	stubs := stubBackends(t, "svc")
	conf, err := Render(gw, routes, Options{Policies: pols, Backend: func(string, int32) (string, int32) { return "127.0.0.1", stubs["svc"] }})
	if err != nil {
		t.Fatal(err)
	}
	hash := func(args ...string) string {
		out, err := exec.Command("openssl", append([]string{"passwd"}, args...)...).Output()
		if err != nil {
			t.Fatalf("openssl passwd %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	b2b, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	b2y := "$2y$" + string(b2b[4:]) // htpasswd -B writes $2y$
	users := map[string]string{
		"bcrypt2b": string(b2b), "bcrypt2y": b2y,
		"apr1": hash("-apr1", "pw"), "sha512": hash("-6", "pw"), "md5crypt": hash("-1", "pw"),
		"plain": "pw", "unknown": "$9$garbage",
	}
	var file strings.Builder
	for u, h := range users {
		file.WriteString(u + ":" + h + "\n")
	}
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	conf = bytes.ReplaceAll(conf, []byte(UserFile(pols.Security[0])), []byte(path))
	startNginx(t, conf, port)
	for _, tt := range []struct {
		user string
		want int
	}{
		{"bcrypt2b", 200}, {"bcrypt2y", 200}, {"apr1", 200}, {"sha512", 200}, {"md5crypt", 200},
		// A password in clear is no hash: it never matches, as a scheme crypt(3) does not know.
		{"plain", 401}, {"unknown", 401},
	} {
		u := tt.user
		t.Run(u, func(t *testing.T) {
			hr, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
			hr.SetBasicAuth(u, "pw")
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// TestServeRateLimitAcrossTasks: a gateway of two tasks, each the real nginx on the config
// rendered for two, holds a client spread evenly over them to the whole gateway's declared rate
// (100 requests a second, burst 20), within 10%: what swarm's load balancing over a gateway's
// replicas does, and what Traefik without Redis does not (twice the limit).
func TestServeRateLimitAcrossTasks(t *testing.T) {
	const (
		rate   = 100 // a second, for the whole gateway
		burst  = 20
		period = 2 * time.Second
	)
	stubs := stubBackends(t, "svc")
	var tasks []v1alpha1.PortNumber
	for range 2 {
		port := freePort(t)
		gw, routes, pols := loadPolicies(t, []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: %d}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: limit}
spec:
  targetRefs: [{kind: Gateway, name: gw}]
  rateLimit: {requests: %d, unit: Second, burst: %d}
`, port, rate, burst)))
		conf, err := Render(gw, routes, Options{Policies: pols, Replicas: 2,
			Backend: func(string, int32) (string, int32) { return "127.0.0.1", stubs["svc"] }})
		if err != nil {
			t.Fatal(err)
		}
		startNginx(t, conf, port)
		tasks = append(tasks, port)
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var (
		mu                 sync.Mutex
		sent, ok, refused  int
		next               int
		start              = time.Now()
		deadline           = start.Add(period)
		wg                 sync.WaitGroup
		unexpectedStatuses []int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				mu.Lock()
				port := tasks[next%len(tasks)] // evenly over the tasks, as swarm spreads connections
				next++
				mu.Unlock()
				resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				sent++
				switch resp.StatusCode {
				case http.StatusOK:
					ok++
				case http.StatusTooManyRequests:
					refused++
				default:
					unexpectedStatuses = append(unexpectedStatuses, resp.StatusCode)
				}
				mu.Unlock()
				time.Sleep(10 * time.Millisecond) // some 800 requests a second: well past the limit, and a shared machine spared
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	want := rate*elapsed.Seconds() + burst
	t.Logf("figure: 2 tasks, %d requests in %s: %d served, %d refused; the whole gateway's limit allows %.0f",
		sent, elapsed.Round(time.Millisecond), ok, refused, want)
	if len(unexpectedStatuses) > 0 {
		t.Errorf("statuses other than 200 and 429: %v", unexpectedStatuses[:min(len(unexpectedStatuses), 10)])
	}
	if float64(sent) < 2*want {
		t.Fatalf("sent %d requests, under twice the limit: the client did not test it", sent)
	}
	if diff := float64(ok) - want; diff > 0.1*want || diff < -0.1*want {
		t.Errorf("%d served, want %.0f within 10%%", ok, want)
	}
}
