package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/hack/apicount"
)

// failoverManifests is a source of the failover instance: its gateway and one route.
func failoverManifests(t *testing.T, route string) string {
	t.Helper()
	dir := t.TempDir()
	gateway := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: failover-gw}
spec:
  image: swarmgate/nginx:test
  replicas: 0
  listeners: [{name: http, port: 18179, publishMode: Host}]
  network: {name: e2e_failover}
`
	r := fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: %s}
spec:
  parentRefs: [{name: failover-gw}]
  hostnames: [%s.failover.test]
  rules: [{backendRefs: [{name: %s}]}]
  services: [{name: %s, image: swarmgate/echo:test, port: 8888, replicas: 0}]
`, route, route, route, route)
	for name, data := range map[string]string{"gateway.yaml": gateway, "route.yaml": r} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readyWithin polls an operator's /readyz every 50 ms and returns how long it took to answer 200.
func readyWithin(t *testing.T, o *operator, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for time.Since(since) < limit {
		if o.ready() == nil {
			return time.Since(since)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the standby is not ready %s after the holder stopped:\n%s", limit, o.log.String())
	return 0
}

// standingBy waits until an operator says it stands by.
func standingBy(t *testing.T, o *operator) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		if !strings.Contains(o.log.String(), "standing by: another operator runs this instance") {
			return fmt.Errorf("the operator does not stand by")
		}
		return nil
	})
}

// TestOperatorFailover: a standby takes the instance over when its holder pauses past the lease
// (SIGSTOP) or dies (SIGKILL), and a paused holder that resumes writes nothing more (fencing),
// although its own source asks for other objects than the standby's. Prints the takeover figures.
func TestOperatorFailover(t *testing.T) {
	const instance = "e2e-failover"
	cleanup(t, instance)
	dirA, dirB := failoverManifests(t, "failover-a"), failoverManifests(t, "failover-b")
	// The first holder talks to the engine through a proxy of its own, which counts its writes.
	own, err := apicount.Start(filepath.Join(t.TempDir(), "docker.sock"), engineSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	args := func(dir string) []string {
		return []string{"--source", "dir:" + dir, "--instance", instance, "--resync", "1h"}
	}

	first := startOperatorOn(t, "unix://"+own.Socket, 19180, args(dirA)...)
	eventually(t, 30*time.Second, func() error { return serviceExists("failover-a") })
	standby := launchOperator(t, "unix://"+proxy.Socket, 19181, args(dirB)...)
	standingBy(t, standby)

	t.Run("a paused holder is fenced", func(t *testing.T) {
		if err := first.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		paused := time.Now()
		took := readyWithin(t, standby, paused, 30*time.Second)
		t.Logf("figure: holder paused (SIGSTOP) to standby ready: %s", took.Round(10*time.Millisecond))
		eventually(t, 30*time.Second, func() error {
			if serviceExists("failover-b") != nil || serviceExists("failover-a") == nil {
				return fmt.Errorf("the standby's source is not applied")
			}
			return nil
		})

		// The paused holder resumes with a change in its source to apply: it must write nothing
		// (its lease lapsed while it slept) and stop, as its renewal finds the lease taken.
		count := own.Reset()
		if err := first.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		resumed := time.Now()
		if err := os.WriteFile(filepath.Join(dirA, "route.yaml"), []byte(strings.ReplaceAll(mustRead(t, filepath.Join(dirA, "route.yaml")), "replicas: 0", "replicas: 0 # touched")), 0o644); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- first.cmd.Wait() }()
		select {
		case err := <-exited:
			t.Logf("the resumed holder stopped %s after it resumed", time.Since(resumed).Round(10*time.Millisecond))
			if err == nil || !strings.Contains(first.log.String(), "lost the lease") {
				t.Errorf("the resumed holder exited with %v; want it to say it lost the lease:\n%s", err, first.log.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the resumed holder still runs:\n%s", first.log.String())
		}
		if _, writes := count(); len(writes) != 0 {
			t.Errorf("the resumed holder wrote to the engine: %v", writes)
		}
		if serviceExists("failover-b") != nil || serviceExists("failover-a") == nil {
			t.Error("the resumed holder changed the instance")
		}
	})

	t.Run("killed holders", func(t *testing.T) {
		holder := standby
		var took []time.Duration
		for i := range 5 {
			next := launchOperator(t, "unix://"+proxy.Socket, 19182+i, args(dirB)...)
			standingBy(t, next)
			if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			took = append(took, readyWithin(t, next, killed, 30*time.Second))
			holder = next
		}
		slices.Sort(took)
		t.Logf("figure: holder killed (SIGKILL) to standby ready over %d kills: min %s, median %s, max %s", len(took),
			took[0].Round(10*time.Millisecond), took[len(took)/2].Round(10*time.Millisecond), took[len(took)-1].Round(10*time.Millisecond))
		holder.stop(t)
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
