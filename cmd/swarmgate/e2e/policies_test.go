package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"golang.org/x/crypto/bcrypt"
)

// TestPolicies: a Route behind basic authentication (users from a swarm secret, bcrypt hashes) and
// one behind forward authentication to an auth service of the test images, through a real gateway
// on the swarm; a rate limit answers 429 past its burst; get reports the policies.
func TestPolicies(t *testing.T) {
	const instance, port = "e2e-policies", 18231
	removeSecretsAtEnd(t, "e2e-policies-users") // after the instance: its gateway mounts it
	cleanup(t, instance)
	ctx := context.Background()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	removeLeftover(docker.SecretRemove, "e2e-policies-users")
	_, err = docker.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "e2e-policies-users"},
		Data: []byte("alice:" + string(hash) + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	manifests := writeManifests(t, "policies.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: policies-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_policies}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: policies}
spec:
  parentRefs: [{name: policies-gw}]
  hostnames: [policies.test]
  rules:
    - name: basic
      matches: [{path: {value: /basic}}]
      backendRefs: [{name: policies-app}]
    - name: sso
      matches: [{path: {value: /sso}}]
      backendRefs: [{name: policies-app}]
    - name: limited
      matches: [{path: {value: /limited}}]
      backendRefs: [{name: policies-app}]
    - backendRefs: [{name: policies-app}]
  services:
    - name: policies-app
      image: swarmgate/echo:test
      port: 8888
      endpointMode: dnsrr # the VIP needs IPVS, which this kernel lacks
      env: [{name: SERVICE, value: policies-app}]
    - name: policies-auth
      image: swarmgate/echo:test
      port: 8888
      endpointMode: dnsrr
      env: [{name: SERVICE, value: policies-auth}, {name: AUTH_USER, value: alice}]
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: policies-basic}
spec:
  targetRefs: [{kind: Route, name: policies, sectionName: basic}]
  basicAuth: {secret: e2e-policies-users, realm: Staff}
---
apiVersion: swarmgate.io/v1alpha1
kind: SecurityPolicy
metadata: {name: policies-sso}
spec:
  targetRefs: [{kind: Route, name: policies, sectionName: sso}]
  forwardAuth:
    url: http://policies-auth:8888/auth
    headersToBackend: [Remote-User]
---
apiVersion: swarmgate.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: policies-limit}
spec:
  targetRefs: [{kind: Route, name: policies, sectionName: limited}]
  rateLimit: {requests: 1, unit: Minute, burst: 2}
`, port))
	flags := []string{"-f", manifests, "--instance", instance}
	mustSucceed(t, append([]string{"apply", "--wait", "--timeout", "90s"}, flags...)...)

	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type answer struct {
		status   int
		location string
		user     string // the Remote-User the backend got
	}
	do := func(path, user, session string) (answer, error) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		req.Host = "policies.test"
		req.Header.Set("Remote-User", "mallory")
		if u, p, ok := strings.Cut(user, ":"); ok {
			req.SetBasicAuth(u, p)
		}
		if session != "" {
			req.AddCookie(&http.Cookie{Name: "session", Value: session})
		}
		resp, err := client.Do(req)
		if err != nil {
			return answer{}, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		a := answer{status: resp.StatusCode, location: resp.Header.Get("Location")}
		if resp.StatusCode == 200 {
			var e struct{ Headers http.Header }
			if err := json.Unmarshal(body, &e); err != nil {
				return a, fmt.Errorf("not an echo answer: %s", body)
			}
			a.user = e.Headers.Get("Remote-User")
		}
		return a, nil
	}
	// The auth service's name resolves once its task runs; until then its question answers 500.
	eventually(t, 60*time.Second, func() error {
		if a, err := do("/sso", "", "ok"); err != nil || a.status != 200 {
			return fmt.Errorf("forward auth: %+v %v", a, err)
		}
		return nil
	})
	tests := []struct {
		name, path, user, session string
		want                      answer
	}{
		{"basic: no credentials", "/basic", "", "", answer{status: 401}},
		{"basic: wrong password", "/basic", "alice:nope", "", answer{status: 401}},
		{"basic: bcrypt from the secret", "/basic", "alice:s3cret", "", answer{status: 200}},
		{"sso: passed, the service's user copied", "/sso", "", "ok", answer{status: 200, user: "alice"}},
		{"sso: forbidden", "/sso", "", "forbidden", answer{status: 403}},
		{"sso: the login redirect passed on", "/sso?x=1", "", "", answer{status: 302,
			location: "https://login.test/?rd=" + url.QueryEscape("http://policies.test/sso?x=1")}},
		{"open: a client's Remote-User is dropped", "/", "", "", answer{status: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := do(tt.path, tt.user, tt.session)
			if err != nil {
				t.Fatal(err)
			}
			if a != tt.want {
				t.Errorf("got %+v, want %+v", a, tt.want)
			}
		})
	}
	t.Run("rate limit: 429 past the burst", func(t *testing.T) {
		var got []int
		for range 4 {
			a, err := do("/limited", "", "")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, a.status)
		}
		if fmt.Sprint(got) != "[200 200 200 429]" {
			t.Errorf("statuses %v, want [200 200 200 429]", got)
		}
	})
	g := mustSucceed(t, append([]string{"get", "-o", "json"}, flags[2:]...)...)
	for _, want := range []string{`"kind": "SecurityPolicy"`, `"name": "policies-sso"`, `"reason": "Accepted"`} {
		if !strings.Contains(g.stdout, want) {
			t.Errorf("get lacks %s:\n%s", want, g.stdout)
		}
	}
}
