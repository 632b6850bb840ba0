package nginx

import (
	"fmt"
	"io"
	"net/http"
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
