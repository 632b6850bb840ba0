package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

// routesConfig renders a gateway on port with n routes, r<i>.example each, proxied to backend.
func routesConfig(t testing.TB, port, n int, backend string, variant int) []byte {
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "gw"},
		Spec: v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{{Name: "http", Port: v1alpha1.PortNumber(port)}}}}
	gw.Default()
	routes := make([]*v1alpha1.Route, n)
	for i := range routes {
		rt := &v1alpha1.Route{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindRoute}, Metadata: v1alpha1.ObjectMeta{Name: fmt.Sprintf("r%d", i)},
			Spec: v1alpha1.RouteSpec{
				ParentRefs: []v1alpha1.ParentRef{{Name: "gw"}},
				Hostnames:  []v1alpha1.Hostname{v1alpha1.Hostname(fmt.Sprintf("r%d.example", i))},
				Rules:      []v1alpha1.RouteRule{{BackendRefs: []v1alpha1.BackendRef{{Name: "svc", Port: ptr(v1alpha1.PortNumber(80))}}}},
			}}
		rt.Default()
		routes[i] = rt
	}
	host, p, _ := strings.Cut(backend, ":")
	bp, _ := strconv.Atoi(p)
	conf, err := nginx.Render(gw, routes, nginx.Options{MaxSize: contract.MaxAgentConfigSize,
		Backend: func(string, int32) (string, int32) { return host, int32(bp) }})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Appendf(conf, "# variant %d\n", variant) // another config, the same routing
}

func ptr[T any](v T) *T { return &v }

// stub answers "1".
func stub(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("1"))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func askHost(port int, host string) string {
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b := make([]byte, 64)
	n, _ := resp.Body.Read(b)
	return string(b[:n])
}

// TestAgentServes10000Routes: a config far over a swarm secret's 500 KiB reaches nginx through the
// agent and serves every route.
func TestAgentServes10000Routes(t *testing.T) {
	port, backend := freePort(t), stub(t)
	o := newOperator(t)
	startAgent(t, o, answering(port, "boot"))
	waitFor(t, "the bootstrap config serves", func() bool { return answer(port) == "boot" })
	conf := routesConfig(t, port, 10000, backend, 1)
	if len(conf) <= nginx.MaxConfigSize {
		t.Fatalf("the config is %d bytes: not over a secret's limit", len(conf))
	}
	o.publish(conf)
	waitFor(t, "10,000 routes serve", func() bool { return askHost(port, "r9999.example") == "1" })
	for _, host := range []string{"r0.example", "r5000.example", "r9999.example"} {
		if got := askHost(port, host); got != "1" {
			t.Errorf("%s answers %q", host, got)
		}
	}
}

// BenchmarkReload measures, with the real nginx, the time from a new config at the operator to the
// agent serving it (nginx -t and a graceful reload), and nginx's memory (PSS of the master and its
// workers, shared pages counted once) with that config.
func BenchmarkReload(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			port, backend := freePort(b), stub(b)
			o := newOperator(b)
			startAgent(b, o, answering(port, "boot"))
			waitFor(b, "the bootstrap config serves", func() bool { return answer(port) == "boot" })
			confs := [][]byte{routesConfig(b, port, n, backend, 1), routesConfig(b, port, n, backend, 2)}
			b.ResetTimer()
			for i := range b.N {
				conf := confs[i%2]
				o.publish(conf)
				waitFor(b, "served", func() bool { s, _, _ := o.state(); return s == hashOf(conf) })
			}
			b.StopTimer()
			time.Sleep(500 * time.Millisecond) // old workers finish
			b.ReportMetric(float64(nginxPSS())/(1<<20), "MiB-pss")
			b.ReportMetric(float64(len(confs[0]))/(1<<20), "MiB-config")
		})
	}
}

// nginxPSS sums the proportional set size of the machine's nginx processes (the test's): memory
// the master and its workers share counts once.
func nginxPSS() int64 {
	var total int64
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, f := range comms {
		comm, _ := os.ReadFile(f)
		if strings.TrimSpace(string(comm)) != "nginx" {
			continue
		}
		rollup, _ := os.ReadFile(filepath.Join(filepath.Dir(f), "smaps_rollup"))
		for _, line := range strings.Split(string(rollup), "\n") {
			if v, ok := strings.CutPrefix(line, "Pss:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}
