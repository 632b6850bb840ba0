package nginx

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// TestACMEChallengesReachTheOperator serves, through a real nginx, ACME's HTTP-01 challenges on
// the HTTP port to the operator at the agent's operatorURL, over plain HTTP or HTTPS (an operator
// serving its endpoints with --tls-cert-file), whatever host the ACME server asks for.
func TestACMEChallengesReachTheOperator(t *testing.T) {
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != contract.ACMEChallengePath+"t0ken" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "t0ken.thumbprint")
	})
	for _, tc := range []struct {
		name     string
		operator *httptest.Server
	}{
		{"http operator", httptest.NewServer(answer)},
		{"https operator", httptest.NewTLSServer(answer)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.operator.Close()
			httpPort, httpsPort := freePort(t), freePort(t)
			gw, routes := loadInput(t, "acme.yaml", fmt.Appendf(nil, `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: web}
spec:
  agent: {operatorURL: %q, tokenSecret: agent-token}
  listeners:
    - {name: http, port: %d, redirectToHTTPS: {port: %d}}
    - {name: shop, port: %d, protocol: HTTPS, hostname: shop.test, tls: {acme: {email: ops@example.com}}}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: shop}
spec:
  parentRefs: [{name: web}]
  hostnames: [shop.test]
  rules: [{backendRefs: [{name: shop, port: 8080}]}]
`, tc.operator.URL, httpPort, httpsPort, httpsPort))
			conf, err := Render(gw, routes, Options{})
			if err != nil {
				t.Fatal(err)
			}
			nginxTest(t, conf)
			startNginx(t, conf, httpPort)
			for _, host := range []string{"shop.test", "other.test"} {
				req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%st0ken", httpPort, contract.ACMEChallengePath), nil)
				req.Host = host
				client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "t0ken.thumbprint" {
					t.Errorf("%s: challenge answered %d %q, want the operator's answer", host, resp.StatusCode, body)
				}
			}
		})
	}
}
