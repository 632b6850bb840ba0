// Command bench-engine compares swarmgate with `docker stack deploy` on the local swarm: for N
// routes, each owning a service with replicas: 0 (so no container runs), it times the first
// deploy, a deploy with nothing changed and a deploy with one route changed, and counts the Engine
// API requests each made through a counting proxy. Run it with hack/bench.sh.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/swarmgate/swarmgate/hack/apicount"
)

const engineSocket = "/var/run/docker.sock"

func main() {
	sizes := flag.String("n", "10,100,1000", "route counts, comma-separated")
	flag.Parse()
	if err := run(*sizes); err != nil {
		fmt.Fprintln(os.Stderr, "bench-engine:", err)
		os.Exit(1)
	}
}

// measurement is one deploy: how long it took and how many requests it made.
type measurement struct {
	took          time.Duration
	reads, writes int
}

func (m measurement) String() string {
	return fmt.Sprintf("%8.2fs %5d req (%d writes)", m.took.Seconds(), m.reads+m.writes, m.writes)
}

type bench struct {
	dir    string
	binary string
	proxy  *apicount.Proxy
	docker *client.Client
}

func run(sizes string) error {
	dir, err := os.MkdirTemp("", "swarmgate-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, binary: filepath.Join(dir, "swarmgate")}
	if out, err := exec.Command("go", "build", "-o", b.binary, "./cmd/swarmgate").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	if b.proxy, err = apicount.Start(filepath.Join(dir, "docker.sock"), engineSocket); err != nil {
		return err
	}
	defer b.proxy.Close()
	if b.docker, err = client.NewClientWithOpts(client.WithHost("unix://"+engineSocket), client.WithAPIVersionNegotiation()); err != nil {
		return err
	}

	fmt.Println("| N | tool | first deploy | no-op deploy | one route changed |")
	fmt.Println("|---|---|---|---|---|")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		sg, err := b.swarmgate(n)
		if err != nil {
			return fmt.Errorf("swarmgate, n=%d: %w", n, err)
		}
		fmt.Printf("| %d | swarmgate apply | %s | %s | %s |\n", n, sg[0], sg[1], sg[2])
		st, err := b.stack(n)
		if err != nil {
			return fmt.Errorf("stack deploy, n=%d: %w", n, err)
		}
		fmt.Printf("| %d | docker stack deploy | %s | %s | %s |\n", n, st[0], st[1], st[2])
		fmt.Printf("| %d | no-op speed-up | | %.0fx faster, %.0fx fewer requests | |\n", n,
			st[1].took.Seconds()/sg[1].took.Seconds(), float64(st[1].reads+st[1].writes)/float64(sg[1].reads+sg[1].writes))
	}
	return nil
}

// measure runs a command through the counting proxy.
func (b *bench) measure(name string, args ...string) (measurement, error) {
	count := b.proxy.Reset()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+b.proxy.Socket)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	reads, writes := count()
	if err != nil {
		return measurement{}, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return measurement{took: took, reads: reads, writes: len(writes)}, nil
}

func (b *bench) swarmgate(n int) ([3]measurement, error) {
	var m [3]measurement
	write := func(name string, changed bool) (string, error) {
		var s strings.Builder
		s.WriteString("apiVersion: swarmgate.io/v1alpha1\nkind: Gateway\nmetadata: {name: bench-gw}\nspec:\n  image: swarmgate/nginx:test\n  replicas: 0\n" +
			"  listeners: [{name: http, port: 18190, publishMode: Host}]\n  network: {name: bench_net}\n")
		for i := range n {
			hosts := fmt.Sprintf("r%d.bench.test", i)
			if changed && i == 0 {
				hosts += ", r0-new.bench.test"
			}
			fmt.Fprintf(&s, "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: bench-%d}\nspec:\n  parentRefs: [{name: bench-gw}]\n"+
				"  hostnames: [%s]\n  rules: [{backendRefs: [{name: bench-%d}]}]\n"+
				"  services: [{name: bench-%d, image: swarmgate/echo:test, port: 8888, replicas: 0}]\n", i, hosts, i, i)
		}
		p := filepath.Join(b.dir, name)
		return p, os.WriteFile(p, []byte(s.String()), 0o644)
	}
	first, err := write("bench.yaml", false)
	if err != nil {
		return m, err
	}
	changed, err := write("bench-changed.yaml", true)
	if err != nil {
		return m, err
	}
	defer func() { _, _ = b.measure(b.binary, "delete", "-f", changed, "--instance", "bench") }()
	for i, f := range []string{first, first, changed} {
		if m[i], err = b.measure(b.binary, "apply", "-f", f, "--instance", "bench"); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (b *bench) stack(n int) ([3]measurement, error) {
	var m [3]measurement
	conf := filepath.Join(b.dir, "default.conf")
	if err := os.WriteFile(conf, []byte("# the gateway config\n"), 0o644); err != nil {
		return m, err
	}
	write := func(name string, changed bool) (string, error) {
		var s strings.Builder
		fmt.Fprintf(&s, "version: \"3.8\"\nservices:\n  gw:\n    image: swarmgate/nginx:test\n    deploy: {replicas: 0}\n"+
			"    ports: [{target: 18191, published: 18191, mode: host}]\n    secrets: [{source: conf, target: /etc/nginx/conf.d/default.conf}]\n")
		for i := range n {
			env := "SERVICE=s" + strconv.Itoa(i)
			if changed && i == 0 {
				env += "-changed"
			}
			fmt.Fprintf(&s, "  s%d:\n    image: swarmgate/echo:test\n    environment: [%s]\n    deploy: {replicas: 0}\n", i, env)
		}
		fmt.Fprintf(&s, "secrets:\n  conf: {file: %s}\n", conf)
		p := filepath.Join(b.dir, name)
		return p, os.WriteFile(p, []byte(s.String()), 0o644)
	}
	first, err := write("stack.yaml", false)
	if err != nil {
		return m, err
	}
	changed, err := write("stack-changed.yaml", true)
	if err != nil {
		return m, err
	}
	defer b.removeStack()
	for i, f := range []string{first, first, changed} {
		if m[i], err = b.measure("/usr/bin/docker", "stack", "deploy", "--resolve-image", "never", "-c", f, "benchstack"); err != nil {
			return m, err
		}
	}
	return m, nil
}

// removeStack removes the stack and waits until swarm has let go of its network and secret.
func (b *bench) removeStack() {
	_ = exec.Command("/usr/bin/docker", "stack", "rm", "benchstack").Run()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", "com.docker.stack.namespace=benchstack"))
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		svcs, _ := b.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
		secs, _ := b.docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
		if len(svcs)+len(secs) == 0 {
			return
		}
		time.Sleep(time.Second)
	}
}
