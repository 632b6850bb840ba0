package nginx

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServeCORS: the CORS filter through a real nginx, by the Gateway API's rules: a preflight is
// answered 204 by the gateway, with the CORS headers for an allowed origin only; an actual request
// reaches the backend and its answer carries Access-Control-Allow-Origin (and the rest) for an
// allowed origin; with credentials the wildcards answer with what the request asked.
func TestServeCORS(t *testing.T) {
	ports := stubBackends(t, "app")
	_, port := serveOneRoute(t, "cors.test", `    - matches: [{path: {value: /list}}]
      filters:
        - type: CORS
          cors:
            allowOrigins: ["https://shop.example", "https://*.cdn.example", "http://local.example:8080"]
            allowMethods: [GET, PUT]
            allowHeaders: [X-Token, Content-Type]
            exposeHeaders: [X-Resp]
            maxAge: 600
      backendRefs: [{name: app, port: 80}]
    - matches: [{path: {value: /any}}]
      filters: [{type: CORS, cors: {allowOrigins: ["*"], allowMethods: ["*"]}}]
      backendRefs: [{name: app, port: 80}]
    - matches: [{path: {value: /creds}}]
      filters: [{type: CORS, cors: {allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"], allowCredentials: true}}]
      backendRefs: [{name: app, port: 80}]
`, Options{Backend: func(string, int32) (string, int32) { return "127.0.0.1", ports["app"] }})

	type want struct {
		status  int
		backend bool              // the backend answered
		headers map[string]string // "" means absent
	}
	none := map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Access-Control-Max-Age": ""}
	for _, tc := range []struct {
		name, method, path, origin, reqMethod, reqHeaders string
		want                                              want
	}{
		{"preflight, listed origin", "OPTIONS", "/list", "https://shop.example", "PUT", "x-token", want{204, false, map[string]string{
			"Access-Control-Allow-Origin": "https://shop.example", "Access-Control-Allow-Methods": "GET, PUT",
			"Access-Control-Allow-Headers": "X-Token, Content-Type", "Access-Control-Max-Age": "600", "Access-Control-Allow-Credentials": "", "Vary": "Origin"}}},
		{"preflight, the scheme's port given", "OPTIONS", "/list", "https://shop.example:443", "PUT", "", want{204, false, map[string]string{"Access-Control-Allow-Origin": "https://shop.example:443"}}},
		{"preflight, wildcard host, two labels", "OPTIONS", "/list", "https://a.b.cdn.example", "GET", "", want{204, false, map[string]string{"Access-Control-Allow-Origin": "https://a.b.cdn.example"}}},
		{"preflight, wildcard needs a label", "OPTIONS", "/list", "https://cdn.example", "GET", "", want{204, false, none}},
		{"preflight, origin not allowed", "OPTIONS", "/list", "https://evil.example", "PUT", "", want{204, false, none}},
		{"preflight, other scheme", "OPTIONS", "/list", "http://shop.example", "PUT", "", want{204, false, none}},
		{"preflight, other port", "OPTIONS", "/list", "http://local.example:8081", "PUT", "", want{204, false, none}},
		{"preflight, listed port", "OPTIONS", "/list", "http://local.example:8080", "PUT", "", want{204, false, map[string]string{"Access-Control-Allow-Origin": "http://local.example:8080"}}},
		{"OPTIONS without CORS headers goes to the backend", "OPTIONS", "/list", "", "", "", want{200, true, none}},
		{"actual request, allowed", "GET", "/list", "https://shop.example", "", "", want{200, true, map[string]string{
			"Access-Control-Allow-Origin": "https://shop.example", "Access-Control-Expose-Headers": "X-Resp", "Access-Control-Allow-Methods": ""}}},
		{"actual request, not allowed", "GET", "/list", "https://evil.example", "", "", want{200, true, map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Expose-Headers": ""}}},
		{"any origin", "OPTIONS", "/any", "https://whoever.example", "DELETE", "", want{204, false, map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "*", "Access-Control-Max-Age": "5", "Vary": ""}}},
		{"credentials: wildcards answer what was asked", "OPTIONS", "/creds", "https://whoever.example", "DELETE", "x-a, x-b", want{204, false, map[string]string{
			"Access-Control-Allow-Origin": "https://whoever.example", "Access-Control-Allow-Methods": "DELETE", "Access-Control-Allow-Headers": "x-a, x-b",
			"Access-Control-Allow-Credentials": "true"}}},
		{"credentials, actual request", "POST", "/creds", "https://whoever.example", "", "", want{200, true, map[string]string{
			"Access-Control-Allow-Origin": "https://whoever.example", "Access-Control-Allow-Credentials": "true"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, fmt.Sprintf("http://127.0.0.1:%d%s", port, tc.path), nil)
			req.Host = "cors.test"
			for name, value := range map[string]string{"Origin": tc.origin, "Access-Control-Request-Method": tc.reqMethod, "Access-Control-Request-Headers": tc.reqHeaders} {
				if value != "" {
					req.Header.Set(name, value)
				}
			}
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want.status)
			}
			if backend := len(body) > 0; backend != tc.want.backend {
				t.Errorf("backend answered: %v, want %v", backend, tc.want.backend)
			}
			for name, value := range tc.want.headers {
				if got := resp.Header.Get(name); got != value {
					t.Errorf("%s: %q, want %q", name, got, value)
				}
			}
		})
	}
}

// TestServeCORSConformance: the Gateway API conformance cases of the CORS filter
// (conformance/tests/httproute-cors.go and cors-allow-credentials-behavior.go), with their routes,
// through a real nginx: each answer has a status and header values the cases accept, and lacks
// the headers they say are absent.
func TestServeCORSConformance(t *testing.T) {
	ports := stubBackends(t, "infra")
	_, port := serveOneRoute(t, "conformance.test", `    - matches: [{path: {value: /cors-1}}]
      filters:
        - type: CORS
          cors:
            allowOrigins: ["https://www.foo.com", "https://*.bar.com"]
            allowMethods: [GET, OPTIONS]
            allowHeaders: [x-header-1, x-header-2]
            exposeHeaders: [x-header-3, x-header-4]
            allowCredentials: true
            maxAge: 3600
      backendRefs: [{name: infra, port: 8080}]
    - matches: [{path: {value: /cors-2}}]
      filters: [{type: CORS, cors: {allowOrigins: ["https://www.foo.com"], allowMethods: ["*"]}}]
      backendRefs: [{name: infra, port: 8080}]
    - matches: [{path: {value: /cors-wildcard-origin}}]
      filters: [{type: CORS, cors: {allowOrigins: ["*"], allowMethods: [PUT], allowCredentials: false}}]
      backendRefs: [{name: infra, port: 8080}]
    - matches: [{path: {value: /cors-wildcard-methods-headers}}]
      filters: [{type: CORS, cors: {allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"], allowCredentials: true}}]
      backendRefs: [{name: infra, port: 8080}]
    - matches: [{path: {value: /cors-wildcard-methods-headers-unauth}}]
      filters: [{type: CORS, cors: {allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"], allowCredentials: false}}]
      backendRefs: [{name: infra, port: 8080}]
    - matches: [{path: {value: /cors-behavior-creds-false}}]
      filters: [{type: CORS, cors: {allowOrigins: ["https://app.example"], allowCredentials: false}}]
      backendRefs: [{name: infra, port: 8080}]
    - matches: [{path: {value: /cors-behavior-creds-true}}]
      filters: [{type: CORS, cors: {allowOrigins: ["https://app.example"], allowCredentials: true}}]
      backendRefs: [{name: infra, port: 8080}]
`, Options{Backend: func(string, int32) (string, int32) { return "127.0.0.1", ports["infra"] }})

	preflight := func(origin, method, headers string) map[string]string {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return h
	}
	allowedPreflight := func(origin string) map[string][]string {
		return map[string][]string{
			"Access-Control-Allow-Origin": {origin}, "Access-Control-Allow-Methods": {"GET, OPTIONS"},
			"Access-Control-Allow-Headers": {"x-header-1, x-header-2"}, "Access-Control-Expose-Headers": {"x-header-3, x-header-4"},
			"Access-Control-Max-Age": {"3600"}, "Access-Control-Allow-Credentials": {"true"},
		}
	}
	for _, tc := range []struct {
		name     string
		method   string
		path     string
		headers  map[string]string
		statuses []int
		valid    map[string][]string
		absent   []string
	}{
		{"preflight, exact origin", "OPTIONS", "/cors-1", preflight("https://www.foo.com", "GET", "x-header-1, x-header-2"), []int{200, 204},
			allowedPreflight("https://www.foo.com"), nil},
		{"preflight, wildcard origin", "OPTIONS", "/cors-1", preflight("https://www.bar.com", "GET", "x-header-1, x-header-2"), []int{200, 204},
			allowedPreflight("https://www.bar.com"), nil},
		{"preflight, wildcard origin, more labels", "OPTIONS", "/cors-1", preflight("https://xpto.www.bar.com", "GET", "x-header-1, x-header-2"), []int{200, 204},
			allowedPreflight("https://xpto.www.bar.com"), nil},
		{"preflight, origin not allowed", "OPTIONS", "/cors-1", preflight("https://foobar.com", "GET", ""), []int{200, 204, 403},
			nil, []string{"Access-Control-Allow-Origin"}},
		{"simple request, exact origin", "GET", "/cors-1", preflight("https://www.foo.com", "GET", "x-header-1, x-header-2"), []int{200},
			map[string][]string{"Access-Control-Allow-Origin": {"https://www.foo.com"}}, nil},
		{"simple request, wildcard origin", "GET", "/cors-1", preflight("https://www.bar.com", "GET", "x-header-1, x-header-2"), []int{200},
			map[string][]string{"Access-Control-Allow-Origin": {"https://www.bar.com"}}, nil},
		{"simple request, origin not allowed", "GET", "/cors-1", preflight("https://foobar.com", "GET", ""), []int{200},
			nil, []string{"Access-Control-Allow-Origin"}},
		{"preflight, methods wildcard", "OPTIONS", "/cors-2", preflight("https://www.foo.com", "POST", ""), []int{200, 204},
			map[string][]string{"Access-Control-Allow-Methods": {"POST", "*"}, "Access-Control-Allow-Origin": {"https://www.foo.com"}},
			[]string{"Access-Control-Allow-Credentials"}},
		{"preflight, any origin", "OPTIONS", "/cors-wildcard-origin", preflight("https://foobar.com", "PUT", ""), []int{200, 204},
			map[string][]string{"Access-Control-Allow-Origin": {"https://foobar.com", "*"}, "Access-Control-Allow-Methods": {"PUT"}},
			[]string{"Access-Control-Allow-Credentials"}},
		{"preflight, any origin with a port", "OPTIONS", "/cors-wildcard-origin", preflight("https://foobar.com:12345", "PUT", ""), []int{200, 204},
			map[string][]string{"Access-Control-Allow-Origin": {"https://foobar.com:12345", "*"}, "Access-Control-Allow-Methods": {"PUT"}},
			[]string{"Access-Control-Allow-Credentials"}},
		{"request, any origin with a port", "PUT", "/cors-wildcard-origin", map[string]string{"Origin": "https://foobar.com:12345"}, []int{200},
			map[string][]string{"Access-Control-Allow-Origin": {"https://foobar.com:12345", "*"}}, nil},
		{"request, any origin", "PUT", "/cors-wildcard-origin", map[string]string{"Origin": "https://foobar.com"}, []int{200},
			map[string][]string{"Access-Control-Allow-Origin": {"https://foobar.com", "*"}}, []string{"Access-Control-Allow-Credentials"}},
		{"preflight, wildcards with credentials echo the request", "OPTIONS", "/cors-wildcard-methods-headers", preflight("https://other.foo.com", "PUT", "x-header-1, x-header-2"), []int{200, 204},
			map[string][]string{"Access-Control-Allow-Origin": {"https://other.foo.com"}, "Access-Control-Allow-Methods": {"PUT"},
				"Access-Control-Allow-Headers": {"x-header-1, x-header-2"}, "Access-Control-Allow-Credentials": {"true"}}, nil},
		{"preflight, wildcards without credentials", "OPTIONS", "/cors-wildcard-methods-headers-unauth", preflight("https://other.foo.com", "PUT", "x-header-1, x-header-2"), []int{200, 204},
			map[string][]string{"Access-Control-Allow-Origin": {"https://other.foo.com", "*"}, "Access-Control-Allow-Methods": {"PUT", "*"},
				"Access-Control-Allow-Headers": {"x-header-1, x-header-2", "*"}}, []string{"Access-Control-Allow-Credentials"}},
		{"request with credentials", "GET", "/cors-wildcard-methods-headers", map[string]string{"Origin": "https://other.foo.com", "Authorization": "Bearer test"}, []int{200},
			map[string][]string{"Access-Control-Allow-Origin": {"https://other.foo.com"}, "Access-Control-Allow-Credentials": {"true"}}, nil},
		{"request without credentials", "GET", "/cors-wildcard-methods-headers-unauth", map[string]string{"Origin": "https://other.foo.com", "Authorization": "Bearer test"}, []int{200},
			map[string][]string{"Access-Control-Allow-Origin": {"https://other.foo.com", "*"}}, []string{"Access-Control-Allow-Credentials"}},
		{"credentials false", "GET", "/cors-behavior-creds-false", map[string]string{"Origin": "https://app.example", "Cookie": "sid=abc123", "Authorization": "Bearer test"}, []int{200},
			nil, []string{"Access-Control-Allow-Credentials"}},
		{"credentials true", "GET", "/cors-behavior-creds-true", map[string]string{"Origin": "https://app.example", "Cookie": "sid=abc123", "Authorization": "Bearer test"}, []int{200},
			map[string][]string{"Access-Control-Allow-Credentials": {"true"}, "Access-Control-Allow-Origin": {"https://app.example"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, fmt.Sprintf("http://127.0.0.1:%d%s", port, tc.path), nil)
			req.Host = "conformance.test"
			for name, value := range tc.headers {
				req.Header.Set(name, value)
			}
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if !slices.Contains(tc.statuses, resp.StatusCode) {
				t.Errorf("status %d, want one of %v", resp.StatusCode, tc.statuses)
			}
			for name, values := range tc.valid {
				// The cases ignore whitespace in lists.
				got := strings.ReplaceAll(resp.Header.Get(name), " ", "")
				if !slices.ContainsFunc(values, func(v string) bool { return strings.ReplaceAll(v, " ", "") == got }) {
					t.Errorf("%s: %q, want one of %q", name, resp.Header.Get(name), values)
				}
			}
			for _, name := range tc.absent {
				if v, ok := resp.Header[http.CanonicalHeaderKey(name)]; ok {
					t.Errorf("%s: %q, want none", name, v)
				}
			}
		})
	}
}
