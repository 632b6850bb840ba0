package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// TestTrafficMetrics sends 1,000 requests for one Route through a gateway with agents and
// spec.agent.metrics, half to its task, half to the task that replaces it (this swarm has one node
// and no routing mesh: two tasks cannot publish the same port at once): the operator's /metrics
// counts exactly those, summed over the tasks and not set back by the new one, by status class,
// and each task's standard output has the access log line of each request it served.
func TestTrafficMetrics(t *testing.T) {
	const instance = "e2e-metrics"
	cleanup(t, instance)
	operatorURL, tokenFile := agentSetup(t, 19260)
	dir := t.TempDir()
	gateway := strings.Replace(agentGateway("mt-gw", 18260, "e2e_metrics", operatorURL), "tokenSecret: "+agentTokenSecret+"}",
		"tokenSecret: "+agentTokenSecret+", metrics: true}", 1)
	manifests := gateway + `---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: mt-r}
spec:
  parentRefs: [{name: mt-gw}]
  hostnames: [metrics.test]
  rules:
    - matches: [{path: {value: /moved}}]
      filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /}}}]
    - backendRefs: [{name: mt-echo, port: 8888}]
  services: [{name: mt-echo, image: swarmgate/echo:test, port: 8888, env: [{name: SERVICE, value: mt-echo}]}]
`
	if !strings.Contains(manifests, "metrics: true") {
		t.Fatal("the gateway manifest has no metrics switch")
	}
	if err := os.WriteFile(filepath.Join(dir, "manifests.yaml"), []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	op := startOperatorOn(t, "unix://"+proxy.Socket, 19260, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--agent-token-file", tokenFile, "--listen", "0.0.0.0:19260")
	t.Cleanup(func() { runCommand(t, command("delete", "-f", dir, "--instance", instance)) })

	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(host, path string) (int, error) {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:18260"+path, nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	// The task serves the Route, pooled (the health path is neither logged nor counted).
	ready := func() error {
		// Pooled to the backend's task, first: a config of a pass before it ran answers 503.
		if n := pooledServers(t, op, "mt-gw"); n != 1 {
			return fmt.Errorf("the pool has %d servers, want the backend's task", n)
		}
		if _, err := gatewayConfigCurrent(t, op, "mt-gw"); err != nil {
			return err
		}
		if n := len(gatewayContainers(t, "mt-gw")); n != 1 {
			return fmt.Errorf("%d gateway tasks run, want 1", n)
		}
		if code, err := send("any.test", contract.HealthPath); err != nil || code != 200 {
			return fmt.Errorf("health check: %d %v", code, err)
		}
		return nil
	}
	const half, redirects = 500, 100 // per task
	load := func() {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		answered := map[int]int{}
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < half; i += 4 {
					path := "/"
					if i%5 == 0 {
						path = "/moved"
					}
					code, err := send("metrics.test", path)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					answered[code]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if t.Failed() || answered[200] != half-redirects || answered[302] != redirects {
			t.Fatalf("answers by status: %v", answered)
		}
	}
	// The agents report every TrafficInterval.
	counted := func(n int) {
		t.Helper()
		want := map[string]float64{"2xx": float64(n * (half - redirects)), "3xx": float64(n * redirects)}
		eventually(t, 30*time.Second, func() error {
			if got := routeRequests(t, op, "mt-gw", "mt-r"); fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("/metrics counts %v requests of the Route by class, want %v", got, want)
			}
			return nil
		})
	}

	eventually(t, 90*time.Second, ready)
	first := gatewayContainers(t, "mt-gw")
	load()
	counted(1)
	if out, err := exec.Command("/usr/bin/docker", "service", "update", "--force", "--detach=false", "mt-gw").CombinedOutput(); err != nil {
		t.Fatalf("docker service update: %v\n%s", err, out)
	}
	eventually(t, 60*time.Second, func() error {
		if c := gatewayContainers(t, "mt-gw"); len(c) != 1 || c[0] == first[0] {
			return fmt.Errorf("the gateway's task is not replaced yet")
		}
		return ready()
	})
	second := gatewayContainers(t, "mt-gw")
	load()
	counted(2)
	if got := metricValue(t, op, `swarmgate_gateway_connections{gateway="mt-gw"}`); got < 0 {
		t.Errorf("%v open connections", got)
	}

	// Each task's standard output has the JSON line of each request it served.
	for _, id := range []string{first[0], second[0]} {
		out, err := exec.Command("/usr/bin/docker", "logs", id).Output()
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(out), `"route":"mt-r"`); n != half {
			t.Errorf("gateway container %s logged %d requests of the Route, want %d", id, n, half)
		}
	}
}

// routeRequests sums, by status class, the operator's swarmgate_gateway_requests_total of a
// Route through a gateway.
func routeRequests(t *testing.T, op *operator, gateway, route string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(httpGet(t, "http://"+op.listen+"/metrics"), "\n") {
		rest, ok := strings.CutPrefix(line, "swarmgate_gateway_requests_total{")
		labels, value, cut := strings.Cut(rest, "} ")
		if !ok || !cut || !strings.Contains(labels, `gateway="`+gateway+`"`) || !strings.Contains(labels, `route="`+route+`"`) {
			continue
		}
		_, class, _ := strings.Cut(labels, `class="`)
		class, _, _ = strings.Cut(class, `"`)
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("/metrics: %q", line)
		}
		out[class] += v
	}
	return out
}

// gatewayContainers lists the containers of a service's running tasks.
func gatewayContainers(t *testing.T, service string) []string {
	t.Helper()
	ctx := context.Background()
	svc, _, err := docker.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
	if err != nil {
		return nil
	}
	tasks, err := docker.TaskList(ctx, swarm.TaskListOptions{Filters: filtersFor(svc.ID)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, task := range tasks {
		if task.Status.State == swarm.TaskStateRunning && task.Status.ContainerStatus != nil {
			ids = append(ids, task.Status.ContainerStatus.ContainerID)
		}
	}
	return ids
}
