// Package e2e proves swarmgate's behaviour on a real Docker Swarm: it builds the swarmgate binary
// and drives it, through a counting proxy in front of the engine's socket, against the single-node
// swarm hack/swarm.sh brings up. Without an engine these tests fail in CI and are skipped elsewhere.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmgate/swarmgate/hack/apicount"
)

const engineSocket = "/var/run/docker.sock"

var (
	repoRoot string
	binary   string // the swarmgate binary under test
	docker   *client.Client
	proxy    *apicount.Proxy
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if repoRoot, err = filepath.Abs("../../.."); err != nil {
		return fail(err)
	}
	if docker, err = client.NewClientWithOpts(client.WithHost("unix://"+engineSocket), client.WithAPIVersionNegotiation()); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := docker.Info(ctx)
	if err != nil || info.Swarm.LocalNodeState != swarm.LocalNodeStateActive {
		msg := fmt.Sprintf("no swarm engine at %s (run hack/swarm.sh up): %v", engineSocket, err)
		if os.Getenv("CI") != "" {
			return fail(fmt.Errorf("%s", msg))
		}
		fmt.Println("skipping e2e tests:", msg)
		return 0
	}
	dir, err := os.MkdirTemp("", "swarmgate-e2e")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "swarmgate")
	build := exec.Command("go", "build", "-o", binary, "./cmd/swarmgate")
	build.Dir, build.Stdout, build.Stderr = repoRoot, os.Stdout, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // static, as in swarmgate's image: TestOperatorOnSwarmHitless builds it
	if err := build.Run(); err != nil {
		return fail(fmt.Errorf("building swarmgate: %w", err))
	}
	if proxy, err = apicount.Start(filepath.Join(dir, "docker.sock"), engineSocket); err != nil {
		return fail(err)
	}
	defer proxy.Close()
	defer func() {
		if agentTokenMade.Load() {
			removeEventually(func() error { return docker.SecretRemove(context.Background(), agentTokenSecret) })
		}
	}()
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e:", err)
	return 1
}

// result is what one swarmgate command did.
type result struct {
	code           int
	stdout, stderr string
}

// command is the swarmgate binary under test, talking to the engine through the counting proxy.
func command(args ...string) *exec.Cmd {
	return commandOn("unix://"+proxy.Socket, args...)
}

// commandOn is the swarmgate binary under test, talking to the engine at dockerHost.
func commandOn(dockerHost string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+dockerHost)
	return cmd
}

// swarmgate runs the binary against the proxy.
func swarmgate(t *testing.T, args ...string) result {
	t.Helper()
	return runCommand(t, command(args...))
}

// runCommand runs a swarmgate command and returns what it did.
func runCommand(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errOut.String()}
}

// mustSucceed runs a command that must exit 0.
func mustSucceed(t *testing.T, args ...string) result {
	t.Helper()
	r := swarmgate(t, args...)
	if r.code != 0 {
		t.Fatalf("swarmgate %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// writeManifests writes a manifest into the test's directory and returns its path.
func writeManifests(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// owned lists the names of an instance's services, secrets and networks on the swarm.
func owned(t *testing.T, instance string) (services, secrets, networks []string) {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", "swarmgate.io/instance="+instance))
	svcs, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		services = append(services, s.Spec.Name)
	}
	secs, err := docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		secrets = append(secrets, s.Spec.Name)
	}
	nets, err := docker.NetworkList(ctx, networkListOptions(f))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		networks = append(networks, n.Name)
	}
	return services, secrets, networks
}

// cleanup removes whatever an instance left, now and when the test ends, so that one test's
// failure does not leak into the next. Now, because a run killed mid-test (its machine restarted)
// leaves its objects in the swarm, which dockerd restores from disk when it starts again.
func cleanup(t *testing.T, instance string) { cleanupOn(t, docker, instance) }

// cleanupOn is cleanup on the swarm of the engine given (a manager of the bed).
func cleanupOn(t *testing.T, engine *client.Client, instance string) {
	sweep := func() {
		ctx := context.Background()
		f := filters.NewArgs(filters.Arg("label", "swarmgate.io/instance="+instance))
		svcs, _ := engine.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
		for _, s := range svcs {
			_ = engine.ServiceRemove(ctx, s.ID)
		}
		secs, _ := engine.SecretList(ctx, swarm.SecretListOptions{Filters: f})
		for _, s := range secs {
			removeEventually(func() error { return engine.SecretRemove(ctx, s.ID) })
		}
		nets, _ := engine.NetworkList(ctx, networkListOptions(f))
		for _, n := range nets {
			removeEventually(func() error { return engine.NetworkRemove(ctx, n.ID) })
		}
		configs, _ := engine.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
		for _, c := range configs {
			_ = engine.ConfigRemove(ctx, c.ID)
		}
	}
	sweep()
	t.Cleanup(sweep)
}

// removeLeftover removes the object of the single-node swarm named name, which a test is about to
// make by hand (a user's secret, a service swarmgate only routes to), if a run killed mid-test left
// it; there is none otherwise. Call it after cleanup, which removes the services that used it.
func removeLeftover(remove func(ctx context.Context, id string) error, name string) {
	removeEventually(func() error { return remove(context.Background(), name) })
}

// applied lists the store of applied objects of an instance: the owners of its swarm configs.
func applied(t *testing.T, instance string) []string {
	t.Helper()
	f := filters.NewArgs(filters.Arg("label", "swarmgate.io/instance="+instance))
	configs, err := docker.ConfigList(context.Background(), swarm.ConfigListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	var owners []string
	for _, c := range configs {
		owners = append(owners, c.Spec.Labels["swarmgate.io/owner"])
	}
	slices.Sort(owners)
	return owners
}

// removeEventually retries a removal while the tasks that used the object shut down. An object
// that is gone already (swarm removes networks asynchronously) is done.
func removeEventually(remove func() error) {
	delay := 100 * time.Millisecond
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); delay = min(2*delay, 2*time.Second) {
		if err := remove(); err == nil || cerrdefs.IsNotFound(err) {
			return
		}
		time.Sleep(delay)
	}
}

// eventually polls check with growing pauses until it returns nil or the time is up. Swarm
// converges asynchronously: tasks start, nginx reloads, DNS answers change.
func eventually(t *testing.T, within time.Duration, check func() error) {
	t.Helper()
	delay := 100 * time.Millisecond
	var err error
	for deadline := time.Now().Add(within); time.Now().Before(deadline); delay = min(2*delay, 2*time.Second) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(delay)
	}
	t.Fatalf("not within %s: %v", within, err)
}
