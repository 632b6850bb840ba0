package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestGatewayAPIRouting: the Gateway API features nginx request tables test, through a real
// gateway on the swarm: retries across the tasks of a dnsrr service one of whose tasks fails
// (swarm's {{.Task.Slot}} in its env picks it), a mirror whose service logs the copies, a CORS
// preflight answered by the gateway, and a backendRef of an unknown kind answering 500 while the
// Route reports it.
func TestGatewayAPIRouting(t *testing.T) {
	const instance, port = "e2e-gwapi", 18199
	cleanup(t, instance)
	manifests := writeManifests(t, "gwapi.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gwapi-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_gwapi}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: gwapi}
spec:
  parentRefs: [{name: gwapi-gw}]
  hostnames: [gwapi.test]
  rules:
    - matches: [{path: {value: /retry}}]
      retry: {codes: [503], attempts: 1}
      filters: [{type: RequestMirror, requestMirror: {backendRef: {name: gwapi-sink}}}]
      backendRefs: [{name: gwapi-app}]
    - matches: [{path: {value: /cors}}]
      filters: [{type: CORS, cors: {allowOrigins: ["https://shop.example"], allowMethods: [PUT]}}]
      backendRefs: [{name: gwapi-app}]
    - matches: [{path: {value: /bucket}}]
      backendRefs: [{group: storage.example.com, kind: Bucket, name: assets}]
    - backendRefs: [{name: gwapi-app}]
  services:
    - name: gwapi-app
      image: swarmgate/echo:test
      port: 8888
      replicas: 2
      endpointMode: dnsrr
      env: [{name: SERVICE, value: gwapi-app}, {name: SLOT, value: "{{.Task.Slot}}"}, {name: FAIL_SLOT, value: "1"}]
    - name: gwapi-sink
      image: swarmgate/echo:test
      port: 8888
      endpointMode: dnsrr
      env: [{name: SERVICE, value: gwapi-sink}, {name: LOG, value: "1"}]
`, port))
	flags := []string{"-f", manifests, "--instance", instance}
	r := swarmgate(t, append([]string{"apply", "--wait", "--timeout", "90s"}, flags...)...)
	// The Bucket backend makes the Route Degraded, so --wait fails; everything else is applied.
	if r.code == 0 || !strings.Contains(r.stderr, "InvalidKind") {
		t.Fatalf("apply --wait: exit %d\n%s", r.code, r.stderr)
	}
	g := mustSucceed(t, "get", "route", "gwapi", "-o", "json", "--instance", instance)
	if !strings.Contains(g.stdout, `"reason": "InvalidKind"`) || !strings.Contains(g.stdout, "storage.example.com/Bucket assets (InvalidKind, answers 500)") {
		t.Errorf("get: the Bucket backend is not reported:\n%s", g.stdout)
	}
	// Both tasks resolve (nginx caches answers for 10 s): the failing one shows without retry.
	eventually(t, 60*time.Second, func() error {
		seen := map[int]int{}
		for range 10 {
			code, _, err := get(port, "gwapi.test", "/plain")
			if err != nil {
				return err
			}
			seen[code]++
		}
		if seen[200] == 0 || seen[503] == 0 {
			return fmt.Errorf("without retry: %v, want the failing task's 503 too", seen)
		}
		return nil
	})
	for i := range 20 {
		if code, e, err := get(port, "gwapi.test", fmt.Sprintf("/retry?n=%d", i)); err != nil || code != 200 || e.Service != "gwapi-app" {
			t.Errorf("retry %d: %d %+v %v, want 200 from the working task", i, code, e, err)
		}
	}
	if code, _, err := get(port, "gwapi.test", "/bucket"); err != nil || code != 500 {
		t.Errorf("unknown kind: %d %v, want 500", code, err)
	}
	// The gateway logged the request as a JSON line on its standard output, naming the rule.
	eventually(t, 30*time.Second, func() error {
		out, _ := exec.Command("/usr/bin/docker", "service", "logs", "--raw", "gwapi-gw").CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			i := strings.Index(line, `{"time":`)
			if i < 0 || !strings.Contains(line, `"uri":"/bucket"`) {
				continue
			}
			type accessLine struct {
				Gateway, Listener, Route, Rule, Backend string
				RequestID                               string `json:"request_id"`
				Status                                  int
			}
			var l accessLine
			if err := json.Unmarshal([]byte(line[i:]), &l); err != nil {
				return fmt.Errorf("gateway access log line: %v\n%s", err, line)
			}
			if want := (accessLine{"gwapi-gw", "http", "gwapi", "2", "", l.RequestID, 500}); l != want || len(l.RequestID) != 32 {
				return fmt.Errorf("gateway access log line %+v, want %+v with a generated request id", l, want)
			}
			return nil
		}
		return fmt.Errorf("the gateway logged no JSON line for /bucket:\n%s", out)
	})
	// The mirror's service logged the copies.
	eventually(t, 30*time.Second, func() error {
		out, _ := exec.Command("/usr/bin/docker", "service", "logs", "gwapi-sink").CombinedOutput()
		if n := strings.Count(string(out), "request GET /retry?n="); n < 20 {
			return fmt.Errorf("the mirror logged %d copies, want 20:\n%s", n, out)
		}
		return nil
	})
	// CORS: the gateway answers the preflight itself.
	req, _ := http.NewRequest("OPTIONS", fmt.Sprintf("http://127.0.0.1:%d/cors", port), nil)
	req.Host = "gwapi.test"
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" || resp.Header.Get("Access-Control-Allow-Methods") != "PUT" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	mustSucceed(t, append([]string{"delete"}, flags...)...)
}
