package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// TestHitlessBackendRollout replaces a 2-task backend's tasks one at a time (docker service update
// --force) under a steady load through a gateway with agents: the pools drop a task as soon as
// swarm starts shutting it down, and a task gone before that costs a retry on the other, so no
// request fails and none takes a second.
func TestHitlessBackendRollout(t *testing.T) {
	const instance = "e2e-rollout"
	cleanup(t, instance)
	operatorURL, tokenFile := agentSetup(t, 19170)
	dir := t.TempDir()
	manifests := agentGateway("ro-gw", 18170, "e2e_rollout", operatorURL) + `---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: ro-r}
spec:
  parentRefs: [{name: ro-gw}]
  hostnames: [rollout.test]
  rules: [{backendRefs: [{name: ro-echo, port: 8888}]}]
  services: [{name: ro-echo, image: swarmgate/echo:test, port: 8888, replicas: 2, endpointMode: dnsrr, env: [{name: SERVICE, value: ro-echo}]}]
`
	if err := os.WriteFile(filepath.Join(dir, "manifests.yaml"), []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	op := startOperatorOn(t, "unix://"+proxy.Socket, 19170, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--agent-token-file", tokenFile, "--listen", "0.0.0.0:19170")
	t.Cleanup(func() { runCommand(t, command("delete", "-f", dir, "--instance", instance)) })

	var slow atomic.Int64 // answered, but over a second after they were sent: a figure, not a failure
	served := func() error {
		start := time.Now()
		code, e, err := get(18170, "rollout.test", "/")
		switch {
		case err != nil:
			return err
		case code != 200 || e.Service != "ro-echo":
			return fmt.Errorf("HTTP %d from %q", code, e.Service)
		}
		if time.Since(start) > time.Second {
			slow.Add(1)
		}
		return nil
	}
	eventually(t, 90*time.Second, served)
	// The agents serve the pooled config once both tasks run.
	eventually(t, 60*time.Second, func() error {
		if _, err := gatewayConfigCurrent(t, op, "ro-gw"); err != nil {
			return err
		}
		if n := pooledServers(t, op, "ro-gw"); n != 2 {
			return fmt.Errorf("the pool has %d servers, want the 2 tasks", n)
		}
		return nil
	})

	load := startLoad(100, func() (string, error) { return "", served() })
	time.Sleep(2 * time.Second)
	update := exec.Command("/usr/bin/docker", "service", "update", "--force", "--detach=false", "--update-parallelism", "1", "ro-echo")
	out, err := update.CombinedOutput()
	time.Sleep(3 * time.Second)
	results := load.finish()
	if err != nil {
		t.Fatalf("docker service update: %v\n%s", err, out)
	}
	var failures []string
	for _, r := range results {
		if r.err != nil {
			failures = append(failures, r.start.Format("15:04:05.000")+" "+r.err.Error())
		}
	}
	t.Logf("figure: a 2-task backend rolled under %d requests (100 req/s): %d failed, %d slower than 1s", len(results), len(failures), slow.Load())
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the rollout: %v\noperator log:\n%s",
			len(failures), len(results), failures[:min(len(failures), 10)], op.log.String())
	}
}

// pooledServers counts the servers of the backend pools in the config the operator hands
// gateway's agents: one per backend task the operator's last pass saw running.
func pooledServers(t *testing.T, op *operator, gateway string) int {
	t.Helper()
	return strings.Count(desiredConfig(t, op, gateway), "\n    server \"")
}

// desiredConfig is the config the operator hands gateway's agents, asked for as an agent would
// (without a task, which would report one).
func desiredConfig(t *testing.T, op *operator, gateway string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+op.listen+contract.AgentConfigPath(gateway), nil)
	req.Header.Set("Authorization", "Bearer agent-t0ken")
	req.Header.Set("Accept", contract.BundleType)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b contract.Bundle
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatalf("%s: HTTP %d: %v", gateway, resp.StatusCode, err)
	}
	return b.Config
}
