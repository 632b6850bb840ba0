package nginx

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

// stubAuth is an auth service: what it answers is chosen by the request's X-Test-Auth header, and
// it refuses (400, so the client gets 500) a question that is not a GET without a body saying what
// was asked.
func stubAuth(t *testing.T) int32 {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "GET" || r.URL.Path != "/verify" || r.Header.Get("X-Forwarded-Uri") == "" || r.Header.Get("X-Original-URL") == "" ||
			r.Header.Get("X-Forwarded-Host") != "app.example.com" || r.Host != "auth:9091" || r.ContentLength > 0 {
			w.WriteHeader(400)
			return
		}
		switch r.Header.Get("X-Test-Auth") {
		case "ok":
			w.Header().Set("Remote-User", "alice")
			w.Header().Set("Remote-Groups", "admins,dev")
			w.Header().Set("X-Auth-Other", "not copied")
			w.Header().Set("Remote-Method", r.Header.Get("X-Forwarded-Method"))
			w.WriteHeader(200)
		case "forbidden":
			w.WriteHeader(403)
		case "login":
			w.Header().Set("Location", "https://login.example.com/?rd="+url.QueryEscape(r.Header.Get("X-Original-URL")))
			w.WriteHeader(302)
		case "moved":
			w.Header().Set("Location", "https://auth.example.com/elsewhere")
			w.WriteHeader(307)
		case "teapot":
			w.WriteHeader(418)
		default:
			w.Header().Set("WWW-Authenticate", `Basic realm="auth"`)
			w.WriteHeader(401)
		}
	}))
	t.Cleanup(srv.Close)
	return int32(srv.Listener.Addr().(*net.TCPAddr).Port)
}

// TestServeForwardAuth asks a stub auth service through the real nginx: its 2xx lets requests
// through with the chosen headers copied, its 401 and 403 are answered, its redirects passed on
// with their Location, anything else is 500; a client's own copy of a copied header never reaches
// a backend.
func TestServeForwardAuth(t *testing.T) {
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
  hostnames: [app.example.com]
  rules:
    - name: open
      backendRefs: [{name: svc, port: 80}]
    - name: private
      matches: [{path: {type: PathPrefix, value: /private}}]
      backendRefs: [{name: svc, port: 80}]
    - name: timed
      matches: [{path: {type: PathPrefix, value: /timed}, method: POST}]
      backendRefs: [{name: svc, port: 80}]
      timeouts: {request: 5s}
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: sso}
spec:
  targetRefs: [{kind: Route, name: app, sectionName: private}, {kind: Route, name: app, sectionName: timed}]
  forwardAuth:
    url: http://auth:9091/verify
    headersToBackend: [Remote-User, Remote-Groups, Remote-Method]
`, port)))
	stubs := stubBackends(t, "svc")
	stubs["auth"] = stubAuth(t)
	conf, err := Render(gw, routes, Options{Policies: pols, Backend: func(service string, _ int32) (string, int32) { return "127.0.0.1", stubs[service] }})
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, port)

	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		name, method, path, auth string
		status                   int
		location, www            string
		sent                     map[string]string // headers the backend got ("" absent)
	}{
		{name: "allowed, headers copied", path: "/private/x", auth: "ok", status: 200,
			sent: map[string]string{"Remote-User": "alice", "Remote-Groups": "admins,dev", "Remote-Method": "GET", "X-Auth-Other": ""}},
		{name: "the original method is told", method: "POST", path: "/timed", auth: "ok", status: 200, sent: map[string]string{"Remote-Method": "POST"}},
		{name: "no credentials: 401 with the service's challenge", path: "/private/x", status: 401, www: `Basic realm="auth"`},
		{name: "forbidden", path: "/private/x", auth: "forbidden", status: 403},
		{name: "login redirect passed on", path: "/private/x?a=1", auth: "login", status: 302,
			location: "https://login.example.com/?rd=" + url.QueryEscape("http://app.example.com/private/x?a=1")},
		{name: "another redirect keeps its code", path: "/private/x", auth: "moved", status: 307, location: "https://auth.example.com/elsewhere"},
		{name: "a redirect on a rule with timeouts", method: "POST", path: "/timed", auth: "login", status: 302,
			location: "https://login.example.com/?rd=" + url.QueryEscape("http://app.example.com/timed")},
		{name: "an unexpected answer is 500", path: "/private/x", auth: "teapot", status: 500},
		{name: "open rule: the service is not asked, a client's Remote-User is dropped", path: "/", auth: "forbidden", status: 200,
			sent: map[string]string{"Remote-User": "", "Remote-Groups": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", port, tt.path), nil)
			req.Host = "app.example.com"
			req.Header.Set("Remote-User", "mallory")
			if tt.auth != "" {
				req.Header.Set("X-Test-Auth", tt.auth)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.www)
			}
			if tt.sent == nil {
				return
			}
			var e echo
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("not an echo: %s", body)
			}
			for k, v := range tt.sent {
				if got := e.Headers.Get(k); got != v {
					t.Errorf("backend got %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestForwardingHeadersNotCopied holds validation to the headers the gateway sets: forward
// authentication may copy none of them, whose value would otherwise be the auth service's, or
// empty, for every backend.
func TestForwardingHeadersNotCopied(t *testing.T) {
	for _, h := range forwardingHeaders("") {
		p := &v1alpha1.SecurityPolicy{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: v1alpha1.KindSecurityPolicy},
			Metadata: v1alpha1.ObjectMeta{Name: "sso"},
			Spec: v1alpha1.SecurityPolicySpec{TargetRefs: []v1alpha1.PolicyTargetRef{{Kind: v1alpha1.KindGateway, Name: "gw"}},
				ForwardAuth: &v1alpha1.ForwardAuth{URL: "http://auth/verify", HeadersToBackend: []v1alpha1.HeaderName{v1alpha1.HeaderName(h.name)}}}}
		if errs := validation.ValidateObject(p); len(errs) != 1 || !strings.Contains(errs[0].Error(), "headersToBackend[0]") {
			t.Errorf("copying %s: %v, want one error on headersToBackend[0]", h.name, errs)
		}
	}
}
