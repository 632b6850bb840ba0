package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"go.yaml.in/yaml/v3"

	"github.com/swarmgate/swarmgate/reconciler/operator/lease"
)

const (
	opStack        = "e2e-opstack"
	opStackService = opStack + "_swarmgate"
	// opStackPort is where the stack file publishes the operator's endpoints (host mode): each node
	// of the bed has its own addresses, so the file's own port.
	opStackPort = 9090
)

// opReplica is a running task of the operator's service on the bed.
type opReplica struct {
	node      int // nodeN, at 10.99.0.N
	container string
}

func (r opReplica) String() string { return fmt.Sprintf("node%d/%.12s", r.node, r.container) }

func (r opReplica) addr() string { return fmt.Sprintf("10.99.0.%d:%d", r.node, opStackPort) }

// ready says whether the replica's /readyz answers 200: it holds the lease and has done a pass.
func (r opReplica) ready() error {
	resp, err := probeClient.Get("http://" + r.addr() + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: /readyz answers %d", r, resp.StatusCode)
	}
	return nil
}

// logged returns when the replica's log (as its engine timestamps it) first says msg.
func (r opReplica) logged(node *client.Client, msg string) (time.Time, bool) {
	logs, err := node.ContainerLogs(context.Background(), r.container, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	if err != nil {
		return time.Time{}, false
	}
	defer logs.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, logs); err != nil {
		return time.Time{}, false
	}
	for line := range strings.Lines(out.String()) {
		if stamp, text, _ := strings.Cut(line, " "); strings.Contains(text, msg) {
			at, err := time.Parse(time.RFC3339Nano, stamp)
			return at, err == nil
		}
	}
	return time.Time{}, false
}

// activeAndStandby waits until the operator's service runs two replicas, one of them ready and the
// other standing by.
func activeAndStandby(t *testing.T, nodes []*client.Client) (active, standby opReplica) {
	t.Helper()
	eventually(t, 90*time.Second, func() error {
		var running []opReplica
		for i, node := range nodes {
			cs, err := node.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(
				filters.Arg("label", "com.docker.swarm.service.name="+opStackService), filters.Arg("status", "running"))})
			if err != nil {
				return fmt.Errorf("node%d: %w", i+1, err)
			}
			for _, ct := range cs {
				running = append(running, opReplica{i + 1, ct.ID})
			}
		}
		var ready, standing []opReplica
		for _, r := range running {
			if r.ready() == nil {
				ready = append(ready, r)
			} else if _, ok := r.logged(nodes[r.node-1], "standing by: another operator runs this instance"); ok {
				standing = append(standing, r)
			}
		}
		if len(running) != 2 || len(ready) != 1 || len(standing) != 1 {
			return fmt.Errorf("replicas %v: ready %v, standing by %v", running, ready, standing)
		}
		active, standby = ready[0], standing[0]
		return nil
	})
	return active, standby
}

// stackLeaseDuration is the --lease-duration the deploy stack gives the operator, or the default
// it leaves.
func stackLeaseDuration(t *testing.T) time.Duration {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "manifests/deploy/swarmgate-stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var stack struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &stack); err != nil {
		t.Fatal(err)
	}
	for _, arg := range stack.Services["swarmgate"].Command {
		if v, ok := strings.CutPrefix(arg, "--lease-duration="); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	return lease.DefaultTiming().Duration
}

// loadOnBed copies an image of the host's engine into every node of the bed (no registry is
// reachable; hack/bed.sh load-images does the same with the test images), and removes it from
// them when the test ends.
func loadOnBed(t *testing.T, nodes []*client.Client, img string) {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	save := exec.Command("/usr/bin/docker", "save", "-o", archive, img)
	save.Env = append(os.Environ(), "DOCKER_HOST=unix://"+engineSocket)
	if out, err := save.CombinedOutput(); err != nil {
		t.Fatalf("docker save %s: %v\n%s", img, err, out)
	}
	for n := range nodes {
		load := exec.Command("/usr/bin/docker", "-H", fmt.Sprintf("unix:///run/sgbed/n%d/docker.sock", n+1), "load", "-q", "-i", archive)
		if out, err := load.CombinedOutput(); err != nil {
			t.Fatalf("loading %s on node%d: %v\n%s", img, n+1, err, out)
		}
	}
	t.Cleanup(func() {
		for _, node := range slices.Concat(nodes, []*client.Client{docker}) {
			removeEventually(func() error {
				_, err := node.ImageRemove(context.Background(), img, image.RemoveOptions{PruneChildren: true})
				return err
			})
		}
	})
}

// TestMultiNodeOperatorStack deploys the operator's stack file on the bed's three managers, with
// its two replicas, and a Gateway with `agent: {}`, whose agents know the operator only by its
// service name. It SIGKILLs the active replica's container three times: each time the standby
// must take the lease over (its first pass done) within the stack's lease duration and a few
// seconds, and the agents must then take a change of the source from the new active replica.
func TestMultiNodeOperatorStack(t *testing.T) {
	c := needBed(t)
	const (
		instance = "e2e-opstack"
		img      = "swarmgate/swarmgate:e2e-bed"
		gwPort   = 18390
		kills    = 3
	)
	ctx := context.Background()
	nodes := []*client.Client{bedNode(t, 1), bedNode(t, 2), bedNode(t, 3)}
	leaseDuration := stackLeaseDuration(t)
	// The standby counts the lease from when it saw the holder's last renewal, which it sees at
	// its next ask (every second) after it was made, so up to a second after the kill; it takes
	// over at its first ask (a second more) after the lease ran out, and is ready once its first
	// pass is done, which on this small instance takes well under 2 s.
	bound := leaseDuration + 4*time.Second

	t.Cleanup(func() {
		// The operator's network (its stack leaves it while the gateway uses it), once the
		// gateway's task has stopped.
		eventually(t, time.Minute, func() error {
			if err := c.NetworkRemove(ctx, "swarmgate-control"); err != nil && !cerrdefs.IsNotFound(err) {
				return err
			}
			return nil
		})
	})
	buildOperatorImage(t, img)
	loadOnBed(t, nodes, img)
	cleanupOn(t, c, instance)

	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name+".tmp"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, name+".tmp"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	route := func(i int) string {
		services := ""
		if i == 0 {
			services = "  services: [{name: ops-echo, image: swarmgate/echo:test, port: 8888, replicas: 1, endpointMode: dnsrr, env: [{name: SERVICE, value: ops-echo}]}]\n"
		}
		return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: ops-r%d}
spec:
  parentRefs: [{name: ops-gw}]
  hostnames: [r%d.opstack.test]
  rules: [{backendRefs: [{name: ops-echo, port: 8888}]}]
%s`, i, i, services)
	}
	write("gateway.yaml", fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: ops-gw}
spec:
  image: swarmgate/gateway:test
  replicas: 1
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_opstack}
  agent: {}
`, gwPort))
	write("r0.yaml", route(0))

	// The bed's engines answer on sockets of their own, not on /var/run/docker.sock (which is the
	// host's engine), and a stack mounts one path on every node: a link per node, named by its
	// hostname, which swarm puts in the mount's source for each task.
	sockets := t.TempDir()
	for n := range nodes {
		if err := os.Symlink(fmt.Sprintf("/run/sgbed/n%d/docker.sock", n+1), filepath.Join(sockets, fmt.Sprintf("node%d.sock", n+1))); err != nil {
			t.Fatal(err)
		}
	}
	stack := operatorStack{image: img, manifests: dir, instance: instance, replicas: 2, port: opStackPort,
		socket: filepath.Join(sockets, "{{.Node.Hostname}}.sock")}
	start := time.Now()
	if out, err := exec.Command("/usr/bin/docker", "-H", bedHost, "stack", "deploy", "-c", stack.file(t), opStack).CombinedOutput(); err != nil {
		t.Fatalf("docker stack deploy: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		// The operator first, so it recreates nothing the instance's cleanup removes; its
		// containers, the killed ones too, go with its service.
		_ = exec.Command("/usr/bin/docker", "-H", bedHost, "stack", "rm", opStack).Run()
		eventually(t, time.Minute, func() error {
			for n, node := range nodes {
				cs, err := node.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "com.docker.stack.namespace="+opStack))})
				if err == nil && len(cs) > 0 {
					err = fmt.Errorf("node%d: %d operator containers left", n+1, len(cs))
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	defer func() {
		if t.Failed() {
			for _, svc := range []string{opStackService, "ops-gw"} {
				out, _ := exec.Command("/usr/bin/docker", "-H", bedHost, "service", "logs", "--raw", "--timestamps", svc).CombinedOutput()
				t.Logf("%s log:\n%s", svc, out)
			}
		}
	}()

	// The gateway answers on the node that runs its task (host mode).
	var gwAddr string
	eventually(t, 2*time.Minute, func() error {
		got := taskNodes(t, c, "ops-gw")
		if len(got) != 1 {
			return fmt.Errorf("the gateway runs on %v", got)
		}
		gwAddr = fmt.Sprintf("10.99.0.%s:%d", strings.TrimPrefix(got[0], "node"), gwPort)
		return nil
	})
	served := func(host string) error {
		req, err := http.NewRequest("GET", "http://"+gwAddr+"/", nil)
		if err != nil {
			return err
		}
		req.Host = host
		resp, err := probeClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var e echo
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusOK || e.Service != "ops-echo" {
			return fmt.Errorf("Host %s: HTTP %d from %q (%v)", host, resp.StatusCode, e.Service, err)
		}
		return nil
	}
	eventually(t, 2*time.Minute, func() error { return served("r0.opstack.test") })
	t.Logf("figure: stack deployed on the bed to served through the gateway in %s", time.Since(start).Round(time.Millisecond))
	gw, _, err := c.ServiceInspectWithRaw(ctx, "ops-gw", swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}

	var took, followed []time.Duration
	for i := 1; i <= kills; i++ {
		active, standby := activeAndStandby(t, nodes)
		killed := time.Now()
		if err := nodes[active.node-1].ContainerKill(ctx, active.container, "KILL"); err != nil {
			t.Fatal(err)
		}
		for standby.ready() != nil {
			if time.Since(killed) > bound+20*time.Second {
				t.Fatalf("kill %d: the standby %s is not ready %s after the active %s was killed", i, standby, time.Since(killed).Round(time.Millisecond), active)
			}
			time.Sleep(50 * time.Millisecond)
		}
		took = append(took, time.Since(killed))
		tookLease, ok := standby.logged(nodes[standby.node-1], "took over the lease")
		if !ok {
			t.Fatalf("kill %d: the standby %s is ready but does not say it took over the lease", i, standby)
		}

		// The agents find the new active replica by the service's name: a new route is served
		// without the gateway's service being updated, so through them. Not timed tightly: an
		// agent that asks the standby backs off (up to 7.5 s), and one whose connect goes to the
		// killed replica's address, still in DNS, waits for it 15 s (Go's default transport
		// gives each of the name's two addresses half of its 30 s connect timeout).
		write(fmt.Sprintf("r%d.yaml", i), route(i))
		host := fmt.Sprintf("r%d.opstack.test", i)
		for err := served(host); err != nil; err = served(host) {
			if time.Since(killed) > time.Minute {
				t.Fatalf("kill %d: %s not served a minute after the kill: %v", i, host, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		followed = append(followed, time.Since(killed))
		t.Logf("figure: kill %d: active %s killed (SIGKILL); standby %s took the lease %s later, ready (its first pass done) in %s; a route added then served through the agents %s after the kill",
			i, active, standby, tookLease.Sub(killed).Round(10*time.Millisecond), took[i-1].Round(10*time.Millisecond), followed[i-1].Round(10*time.Millisecond))
		eventually(t, 20*time.Second, func() error {
			_, err := gatewayConfigCurrent(t, &operator{listen: standby.addr()}, "ops-gw")
			return err
		})
	}
	spread := func(ds []time.Duration) string {
		s := slices.Sorted(slices.Values(ds))
		return fmt.Sprintf("min %s, median %s, max %s", s[0].Round(10*time.Millisecond), s[len(s)/2].Round(10*time.Millisecond), s[len(s)-1].Round(10*time.Millisecond))
	}
	t.Logf("figure: operator stack on 3 managers, lease %s, over %d kills (SIGKILL) of the active replica: the standby ready %s; a route added then served through the agents %s after the kill",
		leaseDuration, kills, spread(took), spread(followed))
	for i, d := range took {
		if d > bound {
			t.Errorf("kill %d: the standby took over in %s, over the bound %s (the lease and 4 s)", i+1, d.Round(10*time.Millisecond), bound)
		}
	}
	if after, _, err := c.ServiceInspectWithRaw(ctx, "ops-gw", swarm.ServiceInspectOptions{}); err != nil || after.Version.Index != gw.Version.Index {
		t.Errorf("the gateway's service was updated (%v): the routes did not reach it through the agents alone", err)
	}
}
