package e2e

import (
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

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmgate/swarmgate/reconciler/status"
)

// The multi-node test bed hack/bed.sh brings up: three engines in network namespaces, three
// managers (node1 made the swarm). Test traffic goes only to the bed's own addresses (10.99.0.0/24).
const (
	bedHost = "unix:///run/sgbed/n1/docker.sock"
	vip     = "10.99.0.100"
)

// bedNode connects to node n's engine.
func bedNode(t *testing.T, n int) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.WithHost(fmt.Sprintf("unix:///run/sgbed/n%d/docker.sock", n)), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// bedTestPrefix starts the name of every test on the bed: hack/test.sh runs them (and then the
// soak) beside the other tests, which use the single-node swarm only.
const bedTestPrefix = "TestMultiNode"

// needBed fails (in CI) or skips the test when the bed is not up.
func needBed(t *testing.T) *client.Client {
	t.Helper()
	if !strings.HasPrefix(t.Name(), bedTestPrefix) {
		t.Fatalf("a test on the bed is named %s...: hack/test.sh runs it apart from the others", bedTestPrefix)
	}
	c := bedNode(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := c.Info(ctx)
	if err != nil || info.Swarm.LocalNodeState != swarm.LocalNodeStateActive {
		msg := fmt.Sprintf("the multi-node test bed is not up (hack/bed.sh up): %v", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	waitBedSettled(t, c)
	return c
}

// waitBedSettled waits until every task container on the bed belongs to a service that still
// exists: a deleted service's containers stop after the service is gone from the API, and until
// then they hold their host-mode ports (the next test's gateway would find its port in use).
func waitBedSettled(t *testing.T, manager *client.Client) {
	t.Helper()
	nodes := []*client.Client{bedNode(t, 1), bedNode(t, 2), bedNode(t, 3)}
	eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		services, err := manager.ServiceList(ctx, swarm.ServiceListOptions{})
		if err != nil {
			return err
		}
		live := map[string]bool{}
		for _, s := range services {
			live[s.ID] = true
		}
		for i, node := range nodes {
			n := i + 1
			containers, err := node.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id"))})
			if err != nil {
				return fmt.Errorf("node%d: %w", n, err)
			}
			for _, ct := range containers {
				if id := ct.Labels["com.docker.swarm.service.id"]; !live[id] && ct.State == "running" {
					return fmt.Errorf("node%d: container %s of a removed service still runs", n, ct.Names)
				}
			}
		}
		return nil
	})
}

func bed(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "hack/bed.sh"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("hack/bed.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func onBed(t *testing.T, args ...string) result {
	t.Helper()
	r := runCommand(t, commandOn(bedHost, args...))
	if r.code != 0 {
		t.Fatalf("swarmgate %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// vipStatus is what `get virtualip NAME -o json` says of a VirtualIP: who holds it, and Ready.
func vipStatus(t *testing.T, instance, manifests, name string) (holders []string, ready status.Condition) {
	t.Helper()
	r := onBed(t, "get", "virtualip", name, "-f", manifests, "--instance", instance, "-o", "json")
	var obj struct {
		Status status.ObjectStatus `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil || obj.Status.Name != name {
		t.Fatalf("get: %v\n%s", err, r.stdout)
	}
	if obj.Status.VirtualIP != nil {
		holders = obj.Status.VirtualIP.Holders()
	}
	if c := obj.Status.Condition("Ready"); c != nil {
		ready = *c
	}
	return holders, ready
}

// waitHolder waits until exactly node holds the address, get says Ready, and the address answers.
func waitHolder(t *testing.T, instance, manifests, node string) {
	t.Helper()
	eventually(t, 60*time.Second, func() error {
		holders, ready := vipStatus(t, instance, manifests, "public")
		if !slices.Equal(holders, []string{node}) || ready.Status != "True" {
			return fmt.Errorf("holders %v, Ready %s %s: %s", holders, ready.Status, ready.Reason, ready.Message)
		}
		if answered, err := healthVia(vip); err != nil || answered != node {
			return fmt.Errorf("the address answers from %q: %v", answered, err)
		}
		return nil
	})
}

var probeClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// healthVia sends the gateway's health check to addr:8080 and returns the node that answered.
func healthVia(addr string) (string, error) {
	resp, err := probeClient.Get("http://" + addr + ":8080/.well-known/swarmgate/health")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.Header.Get("X-Swarmgate-Node"), nil
}

// failover measures one failure under a 100 req/s loop through the virtual IP: from inject to
// the first request answered by another node than from, and the requests that failed meanwhile.
func failover(t *testing.T, what, from string, inject func()) (took time.Duration, to string) {
	t.Helper()
	load := startLoad(100, func() (string, error) { return healthVia(vip) })
	time.Sleep(time.Second)
	t0 := time.Now()
	inject()
	deadline := time.Now().Add(60 * time.Second)
	var moved *loadResult
	for moved == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		load.mu.Lock()
		for i := range load.results {
			r := load.results[i]
			if r.err == nil && r.node != from && r.start.After(t0) && (moved == nil || r.start.Before(moved.start)) {
				moved = &r
			}
		}
		load.mu.Unlock()
	}
	time.Sleep(time.Second)
	results := load.finish()
	if moved == nil {
		t.Fatalf("%s: no request answered by another node than %s within 60s", what, from)
	}
	failed, total := 0, 0
	for _, r := range results {
		if r.start.After(t0.Add(-time.Second)) {
			total++
			if r.err != nil {
				failed++
			}
		}
	}
	took = moved.start.Sub(t0)
	t.Logf("figure: VIP failover, %s: %s -> %s in %s; %d of %d requests failed (100 req/s)",
		what, from, moved.node, took.Round(time.Millisecond), failed, total)
	return took, moved.node
}

// containerOf finds the running container of a service on one node's engine.
func containerOf(t *testing.T, node *client.Client, service string) string {
	t.Helper()
	var id string
	eventually(t, 30*time.Second, func() error {
		cs, err := node.ContainerList(context.Background(), container.ListOptions{
			Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+service), filters.Arg("status", "running"))})
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return fmt.Errorf("no running container of %s", service)
		}
		id = cs[0].ID
		return nil
	})
	return id
}

// taskNodes lists the hostnames of the nodes that run a service's tasks.
func taskNodes(t *testing.T, c *client.Client, service string) []string {
	t.Helper()
	ctx := context.Background()
	var tasks []swarm.Task
	var nodes []swarm.Node
	// Retried: with 3 managers, one that rejoins after a link cut may hold an election, and the
	// swarm has no leader for some seconds.
	eventually(t, 30*time.Second, func() (err error) {
		if tasks, err = c.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service), filters.Arg("desired-state", "running"))}); err != nil {
			return err
		}
		nodes, err = c.NodeList(ctx, swarm.NodeListOptions{})
		return err
	})
	host := map[string]string{}
	for _, n := range nodes {
		host[n.ID] = n.Description.Hostname
	}
	var out []string
	for _, task := range tasks {
		if task.Status.State == swarm.TaskStateRunning {
			out = append(out, host[task.NodeID])
		}
	}
	slices.Sort(out)
	return out
}

// TestMultiNode brings the whole blog up on the 3-node bed, zones and floating IP included, and
// fails the address over every way a node can fail, measuring each.
func TestMultiNode(t *testing.T) {
	c := needBed(t)
	const instance = "e2e-bed"
	manifests := filepath.Join(repoRoot, "manifests/examples/multinode")
	t.Cleanup(func() {
		_ = exec.Command(filepath.Join(repoRoot, "hack/bed.sh"), "link-up", "1").Run()
		runCommand(t, commandOn(bedHost, "delete", "-f", manifests, "--instance", instance))
	})
	onBed(t, "apply", "-f", manifests, "--instance", instance, "--wait", "--timeout", "2m")

	t.Run("zones place each service on its nodes", func(t *testing.T) {
		eventually(t, 30*time.Second, func() error {
			if got := taskNodes(t, c, "dmzhttp"); !slices.Equal(got, []string{"node2", "node3"}) && !slices.Equal(got, []string{"node2", "node2"}) && !slices.Equal(got, []string{"node3", "node3"}) {
				return fmt.Errorf("dmzhttp runs on %v, want only dmz nodes (node2, node3)", got)
			}
			if got := taskNodes(t, c, "managerhttp"); !slices.Equal(got, []string{"node1", "node1"}) {
				return fmt.Errorf("managerhttp runs on %v, want only node1", got)
			}
			return nil
		})
	})

	t.Run("traffic through the virtual IP reaches each host's service", func(t *testing.T) {
		waitHolder(t, instance, manifests, "node1")
		for _, host := range []string{"dmzhttp", "managerhttp"} {
			eventually(t, 30*time.Second, func() error {
				req, _ := http.NewRequest("GET", "http://"+vip+":8080/hello", nil)
				req.Host = host
				resp, err := probeClient.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				var e echo
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Service != host {
					return fmt.Errorf("Host %s answered by %q (HTTP %d, %v)", host, e.Service, resp.StatusCode, err)
				}
				return nil
			})
		}
	})

	t.Run("a second apply writes nothing", func(t *testing.T) {
		if r := onBed(t, "apply", "-f", manifests, "--instance", instance); strings.TrimSpace(r.stdout) != "no changes" {
			t.Errorf("second apply: %s", r.stdout)
		}
	})

	n1 := bedNode(t, 1)
	t.Run("failover: the master's keepalived task stops", func(t *testing.T) {
		waitHolder(t, instance, manifests, "node1")
		id := containerOf(t, n1, "public-vrrp-node1")
		failover(t, "keepalived stopped", "node1", func() {
			if err := n1.ContainerStop(context.Background(), id, container.StopOptions{}); err != nil {
				t.Fatal(err)
			}
		})
		// swarm restarts the task; with preempt (the default) node1 takes the address back.
		waitHolder(t, instance, manifests, "node1")
	})

	t.Run("failover: the master's gateway task stops", func(t *testing.T) {
		id := containerOf(t, n1, "http-gateway")
		failover(t, "gateway stopped", "node1", func() {
			if err := n1.ContainerStop(context.Background(), id, container.StopOptions{}); err != nil {
				t.Fatal(err)
			}
		})
		waitHolder(t, instance, manifests, "node1")
	})

	t.Run("failover: the master's link is cut", func(t *testing.T) {
		failover(t, "link cut", "node1", func() { bed(t, "link-down", "1") })
		bed(t, "link-up", "1")
		waitHolder(t, instance, manifests, "node1")
	})

	t.Run("failover: the master's dockerd stops", func(t *testing.T) {
		failover(t, "dockerd stopped", "node1", func() { bed(t, "stop-engine", "1") })
		bed(t, "start-engine", "1")
		waitHolder(t, instance, manifests, "node1")
	})

	t.Run("split brain is reported by get and alerted by the operator", func(t *testing.T) {
		alerts := newReceiver(t)
		op := startOperatorOn(t, bedHost, 19195, "--source", "dir:"+manifests, "--instance", instance, "--resync", "1h",
			"--vip-check", "300ms", "--alert-webhook", alerts.srv.URL)
		// node2 stops hearing node1's adverts (as behind a firewall dropping IP protocol 112) and
		// takes the address too; node1, which still hears node2's lower priority, keeps it.
		rule := []string{"netns", "exec", "sgbed-n2", "iptables", "-I", "INPUT", "-p", "vrrp", "-j", "DROP"}
		if out, err := exec.Command("ip", rule...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		removed := false
		unblock := func() {
			if !removed {
				removed = true
				rule[4] = "-D"
				if out, err := exec.Command("ip", rule...).CombinedOutput(); err != nil {
					t.Errorf("%v: %s", err, out)
				}
			}
		}
		defer unblock()
		eventually(t, 30*time.Second, func() error {
			holders, ready := vipStatus(t, instance, manifests, "public")
			if ready.Reason != "SplitBrain" || len(holders) != 2 {
				return fmt.Errorf("holders %v, Ready %s %s", holders, ready.Status, ready.Reason)
			}
			return nil
		})
		eventually(t, 30*time.Second, func() error {
			if n, _ := alerts.count("VirtualIPNotReady", "VirtualIP/public"); n != 1 {
				return fmt.Errorf("%d VirtualIPNotReady alerts", n)
			}
			return nil
		})
		unblock()
		waitHolder(t, instance, manifests, "node1")
		eventually(t, 30*time.Second, func() error {
			if n, _ := alerts.count("VirtualIPRecovered", "VirtualIP/public"); n != 1 {
				return fmt.Errorf("%d VirtualIPRecovered alerts", n)
			}
			return nil
		})
		op.stop(t)
	})

	const advert = "  advertInterval: 100ms\n"
	// variant writes the multinode manifests with a line of the VirtualIP's spec replaced.
	variant := func(t *testing.T, line, with string) string {
		dir := t.TempDir()
		for _, f := range []string{"gateway.yaml", "routes.yaml"} {
			b, err := os.ReadFile(filepath.Join(manifests, f))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Replace(string(b), line, with, 1)
			if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}

	t.Run("preemptDelay: the master takes the address back only after the delay", func(t *testing.T) {
		m := variant(t, advert, advert+"  preemptDelay: 3s\n")
		onBed(t, "apply", "-f", m, "--instance", instance) // the address is waited for below; a gateway task may still wait for a port the failures above left taken
		waitHolder(t, instance, m, "node1")
		failover(t, "keepalived stopped, preemptDelay 3s", "node1", func() {
			if err := n1.ContainerStop(context.Background(), containerOf(t, n1, "public-vrrp-node1"), container.StopOptions{}); err != nil {
				t.Fatal(err)
			}
		})
		restarted := containerOf(t, n1, "public-vrrp-node1")
		waitHolder(t, instance, m, "node1")
		back := time.Now()
		info, err := n1.ContainerInspect(context.Background(), restarted)
		if err != nil {
			t.Fatal(err)
		}
		started, _ := time.Parse(time.RFC3339Nano, info.State.StartedAt)
		if took := back.Sub(started); took < 3*time.Second {
			t.Errorf("node1 took the address back %s after its keepalived started, before the 3s preemptDelay", took.Round(time.Millisecond))
		}
	})

	t.Run("preempt false: the address stays where it moved", func(t *testing.T) {
		m := variant(t, advert, advert+"  preempt: false\n")
		onBed(t, "apply", "-f", m, "--instance", instance) // the address is waited for below; a gateway task may still wait for a port the failures above left taken
		var holder string
		eventually(t, 60*time.Second, func() error {
			holders, ready := vipStatus(t, instance, m, "public")
			if len(holders) != 1 || ready.Status != "True" {
				return fmt.Errorf("holders %v, Ready %s %s", holders, ready.Status, ready.Reason)
			}
			holder = holders[0]
			return nil
		})
		node := bedNode(t, int(holder[len(holder)-1]-'0'))
		_, to := failover(t, "keepalived stopped, preempt false", holder, func() {
			if err := node.ContainerStop(context.Background(), containerOf(t, node, "public-vrrp-"+holder), container.StopOptions{}); err != nil {
				t.Fatal(err)
			}
		})
		containerOf(t, node, "public-vrrp-"+holder) // restarted
		time.Sleep(3 * time.Second)
		if holders, _ := vipStatus(t, instance, m, "public"); !slices.Equal(holders, []string{to}) {
			t.Errorf("with preempt false the address moved back: held by %v, want %s", holders, to)
		}
	})

	t.Run("an interface a node lacks is reported", func(t *testing.T) {
		m := variant(t, "{hostname: node3, priority: 100}", "{hostname: node3, priority: 100, interface: eth9}")
		onBed(t, "apply", "-f", m, "--instance", instance) // the address is waited for below; a gateway task may still wait for a port the failures above left taken
		eventually(t, 60*time.Second, func() error {
			_, ready := vipStatus(t, instance, m, "public")
			if !strings.Contains(ready.Message, "node3: no interface eth9") {
				return fmt.Errorf("Ready %s %s: %s", ready.Status, ready.Reason, ready.Message)
			}
			return nil
		})
	})

	t.Run("for comparison: the blog's timers (VRRP version 2 and adverts every second)", func(t *testing.T) {
		m := variant(t, "  version: 3\n"+advert, "  version: 2\n  advertInterval: 1s\n")
		onBed(t, "apply", "-f", m, "--instance", instance) // the address is waited for below; a gateway task may still wait for a port the failures above left taken
		waitHolder(t, instance, m, "node1")
		failover(t, "link cut, VRRP v2 with 1 s adverts", "node1", func() { bed(t, "link-down", "1") })
		bed(t, "link-up", "1")
		waitHolder(t, instance, m, "node1")
		onBed(t, "apply", "-f", manifests, "--instance", instance)
	})
}

// TestMultiNodeLoss loses the node that runs the only gateway task and holds the address: swarm
// reschedules the gateway on the other node of its zone, and the address follows it.
func TestMultiNodeLoss(t *testing.T) {
	c := needBed(t)
	const instance = "e2e-bed-loss"
	m := writeManifests(t, "loss.yaml", `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  image: swarmgate/nginx:test
  replicas: 1
  zone: dmz
  listeners: [{name: http, port: 8080, publishMode: Host}]
  network: {name: e2e_loss}
  restartPolicy: {condition: any, delay: 1s}
---
apiVersion: swarmgate.io/v1alpha1
kind: VirtualIP
metadata: {name: public}
spec:
  address: 10.99.0.100/24
  virtualRouterID: 52
  version: 3
  advertInterval: 100ms
  nodes: [{hostname: node2, priority: 150}, {hostname: node3, priority: 120}]
  trackGateway: {name: edge}
  image: swarmgate/keepalived:test
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: edge}]
  hostnames: [app]
  rules: [{backendRefs: [{name: app}]}]
  # One backend on every DMZ node: each is on the gateway's network already. (A node that joins an
  # overlay network first syncs with its peers, and waits 10 s for a dead one: docker's networkdb.)
  services: [{name: app, image: swarmgate/echo:test, port: 8888, mode: Global, zone: dmz, endpointMode: dnsrr}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Zone
metadata: {name: dmz}
spec: {nodes: [node2, node3]}
`)
	t.Cleanup(func() {
		for _, n := range []string{"2", "3"} {
			_ = exec.Command(filepath.Join(repoRoot, "hack/bed.sh"), "link-up", n).Run()
		}
		setHeartbeat(t, "1s")
		runCommand(t, commandOn(bedHost, "delete", "-f", m, "--instance", instance))
	})
	onBed(t, "apply", "-f", m, "--instance", instance, "--wait", "--timeout", "2m")

	lose := func(heartbeat string) {
		var from string
		eventually(t, 30*time.Second, func() error {
			if got := taskNodes(t, c, "edge"); len(got) != 1 {
				return fmt.Errorf("edge runs on %v", got)
			}
			from = taskNodes(t, c, "edge")[0]
			return nil
		})
		// The address is where the gateway is: the other node's agent reports its gateway down.
		waitHolder(t, instance, m, from)
		n := from[len(from)-1:]
		what := "node loss, dispatcher heartbeat " + heartbeat
		if raftLeader(t, c) == from {
			what += ", the lost node led the raft"
		}
		_, to := failover(t, what, from, func() { bed(t, "link-down", n) })
		if got := taskNodes(t, c, "edge"); !slices.Contains(got, to) {
			t.Errorf("the address moved to %s, but the gateway runs on %v", to, got)
		}
		bed(t, "link-up", n)
		// Back in the swarm, the lost node's old gateway task is shut down; the address stays
		// with the gateway.
		lost := bedNode(t, int(n[0]-'0'))
		eventually(t, 60*time.Second, func() error {
			if got := taskNodes(t, c, "edge"); !slices.Equal(got, []string{to}) {
				return fmt.Errorf("edge runs on %v", got)
			}
			cs, err := lost.ContainerList(context.Background(), container.ListOptions{
				Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name=edge"), filters.Arg("status", "running"))})
			if err != nil || len(cs) > 0 {
				return fmt.Errorf("the old gateway still runs on %s (%v)", from, err)
			}
			return nil
		})
		waitHolder(t, instance, m, to)
	}
	lose("1s")
	setHeartbeat(t, "5s")
	time.Sleep(6 * time.Second) // each node learns the new period with its next heartbeat
	lose("5s (default)")
}

// setHeartbeat sets the swarm's dispatcher heartbeat, retried: a manager that rejoins after its
// link was cut may hold an election, and the swarm has no leader for some seconds.
func setHeartbeat(t *testing.T, period string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		if out, err := exec.Command("/usr/bin/docker", "-H", bedHost, "swarm", "update", "--dispatcher-heartbeat", period).CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
}

// raftLeader returns the hostname of the manager that leads the raft: when it is the node lost,
// swarm first elects another leader, whose dispatcher then waits for the nodes' heartbeats anew.
func raftLeader(t *testing.T, c *client.Client) string {
	t.Helper()
	var leader string
	eventually(t, 30*time.Second, func() error {
		nodes, err := c.NodeList(context.Background(), swarm.NodeListOptions{})
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.ManagerStatus != nil && n.ManagerStatus.Leader {
				leader = n.Description.Hostname
				return nil
			}
		}
		return fmt.Errorf("no manager leads")
	})
	return leader
}
