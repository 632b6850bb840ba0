package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/operator/dashboard"
	"github.com/swarmgate/swarmgate/reconciler/operator/dashboard/dashboardtest"
)

// receiver collects the alerts webhooks POST, with the time each arrived.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []receivedAlert
}

type receivedAlert struct {
	at      time.Time
	Reason  string `json:"reason"`
	Object  string `json:"object"`
	Message string `json:"message"`
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var a receivedAlert
		body, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("alert is not JSON: %s", body)
		}
		a.at = time.Now()
		r.mu.Lock()
		r.alerts = append(r.alerts, a)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// count returns how many alerts of a reason (for an object, if given) arrived, and the first's time.
func (r *receiver) count(reason, object string) (int, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, first := 0, time.Time{}
	for _, a := range r.alerts {
		if a.Reason == reason && (object == "" || a.Object == object) {
			if n == 0 {
				first = a.at
			}
			n++
		}
	}
	return n, first
}

// message is the message of the first alert of a reason, or "".
func (r *receiver) message(reason string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.alerts {
		if a.Reason == reason {
			return a.Message
		}
	}
	return ""
}

// operator is a running `swarmgate run`.
type operator struct {
	cmd    *exec.Cmd
	listen string
	log    *syncBuffer
	// https is set for an operator serving its endpoints with --tls-cert-file.
	https bool
}

// syncBuffer is an output a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startOperator(t *testing.T, port int, args ...string) *operator {
	t.Helper()
	return startOperatorOn(t, "unix://"+proxy.Socket, port, args...)
}

// withoutLeaseRenewals leaves out of an operator's writes the renewals of its lease: the only
// config swarmgate updates (the store's configs are created and removed, never updated).
func withoutLeaseRenewals(writes []string) []string {
	return slices.DeleteFunc(slices.Clone(writes), func(w string) bool {
		return strings.HasPrefix(w, "POST ") && strings.Contains(w, "/configs/") && strings.HasSuffix(w, "/update")
	})
}

// startOperatorOn starts `swarmgate run` against the engine at dockerHost and waits until it is ready.
func startOperatorOn(t *testing.T, dockerHost string, port int, args ...string) *operator {
	t.Helper()
	o := launchOperator(t, dockerHost, port, args...)
	eventually(t, 60*time.Second, o.ready)
	return o
}

// launchOperator starts `swarmgate run` and returns at once; the test's end stops it.
func launchOperator(t *testing.T, dockerHost string, port int, args ...string) *operator {
	t.Helper()
	o := &operator{listen: fmt.Sprintf("127.0.0.1:%d", port), log: &syncBuffer{}, https: slices.Contains(args, "--tls-cert-file")}
	o.cmd = commandOn(dockerHost, append([]string{"run", "--listen", o.listen, "--log-format", "text"}, args...)...)
	o.cmd.Stdout, o.cmd.Stderr = o.log, o.log
	if err := o.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = o.cmd.Process.Signal(syscall.SIGTERM)
		_ = o.cmd.Wait()
		if t.Failed() {
			t.Logf("operator log:\n%s", o.log.String())
		}
	}
	t.Cleanup(stop)
	return o
}

// ready says whether the operator's /readyz answers 200. Over HTTPS it does not check the
// operator's certificate: the tests that serve one check it themselves.
func (o *operator) ready() error {
	get := http.Get
	if o.https {
		get = (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}).Get
	}
	resp, err := get(o.scheme() + "://" + o.listen + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("/readyz answers %d", resp.StatusCode)
	}
	return nil
}

func (o *operator) scheme() string {
	if o.https {
		return "https"
	}
	return "http"
}

// stop ends the operator with SIGTERM, as swarm does, unless it has ended (a restarted operator's
// own cleanup may have run first).
func (o *operator) stop(t *testing.T) {
	t.Helper()
	if o.cmd.ProcessState != nil {
		return
	}
	if err := o.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := o.cmd.Wait(); err != nil {
		t.Errorf("operator exit on SIGTERM: %v\n%s", err, o.log.String())
	}
}

func serviceExists(name string) error {
	_, _, err := docker.ServiceInspectWithRaw(context.Background(), name, swarm.ServiceInspectOptions{})
	return err
}

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func runRoute(name string) string {
	return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: %s}
spec:
  parentRefs: [{name: run-gw}]
  hostnames: [%s.run.test]
  rules: [{backendRefs: [{name: %s}]}]
  services: [{name: %s, image: swarmgate/echo:test, port: 8888, replicas: 0}]
`, name, name, name, name)
}

const runGateway = `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: run-gw}
spec:
  image: swarmgate/nginx:test
  replicas: 0
  listeners: [{name: http, port: 18186, publishMode: Host}]
  network: {name: e2e_run}
`

func TestRunGitOps(t *testing.T) {
	const instance = "e2e-gitops"
	cleanup(t, instance)
	root := t.TempDir()
	bare, work := filepath.Join(root, "repo.git"), filepath.Join(root, "work")
	runGit(t, root, "init", "-q", "--bare", "-b", "main", bare)
	runGit(t, root, "clone", "-q", bare, work)
	commit := func(files map[string]string) string {
		t.Helper()
		for name, data := range files {
			p := filepath.Join(work, "deploy", name)
			if data == "" {
				_ = os.Remove(p)
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		runGit(t, work, "add", "-A")
		runGit(t, work, "commit", "-q", "-m", "change")
		runGit(t, work, "push", "-q", "origin", "HEAD:main")
		return runGit(t, work, "rev-parse", "HEAD")
	}
	commit(map[string]string{"gateway.yaml": runGateway, "r1.yaml": runRoute("run-r1")})
	tokenFile := filepath.Join(root, "hook-token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	alerts := newReceiver(t)
	op := startOperator(t, 19191, "--source", "git:file://"+bare, "--branch", "main", "--path", "deploy",
		"--interval", "2s", "--resync", "1h", "--instance", instance, "--checkout-dir", filepath.Join(root, "checkout"),
		"--hook-token-file", tokenFile, "--alert-webhook", alerts.srv.URL)
	if err := serviceExists("run-r1"); err != nil {
		t.Fatalf("ready, but the first route is not applied: %v", err)
	}
	hook := func(token string) int { return post(t, op, "/hooks/git", token) }
	readyz := func() (int, string) {
		resp, err := http.Get("http://" + op.listen + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var status struct {
		Ready        bool   `json:"ready"`
		Revision     string `json:"revision"`
		SeenRevision string `json:"seenRevision"`
		LastError    string `json:"lastError"`
		Suspended    bool   `json:"suspended"`
		Objects      []struct {
			Name string `json:"name"`
			Sync string `json:"sync"`
		} `json:"objects"`
	}
	readStatus := func() {
		t.Helper()
		if err := json.Unmarshal([]byte(httpGet(t, "http://"+op.listen+"/status")), &status); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a commit is applied within one interval", func(t *testing.T) {
		commit(map[string]string{"r2.yaml": runRoute("run-r2")})
		eventually(t, 30*time.Second, func() error { return serviceExists("run-r2") })
	})

	t.Run("a webhook pulls at once; a wrong token is refused", func(t *testing.T) {
		if code := hook("wrong"); code != http.StatusUnauthorized {
			t.Errorf("wrong token: %d", code)
		}
		sha := commit(map[string]string{"r3.yaml": runRoute("run-r3")})
		start := time.Now()
		if code := hook("s3cret"); code != http.StatusAccepted {
			t.Fatalf("hook: %d", code)
		}
		eventually(t, 30*time.Second, func() error { return serviceExists("run-r3") })
		t.Logf("figure: commit (webhook) to applied: %s", time.Since(start).Round(time.Millisecond))
		svc, _, _ := docker.ServiceInspectWithRaw(context.Background(), "run-r3", swarm.ServiceInspectOptions{})
		if got := svc.Spec.Labels["swarmgate.io/revision"]; got != sha {
			t.Errorf("revision label %q, want the commit %s", got, sha)
		}
	})

	t.Run("an invalid commit changes nothing and is alerted; the fix applies", func(t *testing.T) {
		// The last pass is done once the gateway's old config secret is gone (its removal is
		// retried while the old task still holds it): only then do writes stop.
		eventually(t, 30*time.Second, func() error {
			if _, secrets, _ := owned(t, instance); len(secrets) != 1 {
				return fmt.Errorf("secrets %v", secrets)
			}
			return nil
		})
		count := proxy.Reset()
		commit(map[string]string{"r4.yaml": strings.Replace(runRoute("run-r4"), "run-r4.run.test", "Bad_Host", 1)})
		hook("s3cret")
		eventually(t, 30*time.Second, func() error {
			if n, _ := alerts.count("InvalidManifests", ""); n != 1 {
				return fmt.Errorf("%d InvalidManifests alerts", n)
			}
			return nil
		})
		if _, writes := count(); len(withoutLeaseRenewals(writes)) != 0 {
			t.Errorf("invalid manifests caused writes: %v", writes)
		}
		if serviceExists("run-r4") == nil {
			t.Error("a route of an invalid commit was applied")
		}
		// Not ready while the newest revision is not applied; /status says which and why.
		if code, body := readyz(); code != http.StatusServiceUnavailable || !strings.Contains(body, "of the source is not applied: manifests do not validate") {
			t.Errorf("/readyz with an invalid newest revision: %d %s", code, body)
		}
		readStatus()
		if status.SeenRevision != runGit(t, work, "rev-parse", "HEAD") || status.Revision == status.SeenRevision || !strings.Contains(status.LastError, "manifests do not validate") {
			t.Errorf("/status with an invalid newest revision: %+v", status)
		}
		commit(map[string]string{"r4.yaml": runRoute("run-r4")})
		hook("s3cret")
		eventually(t, 30*time.Second, func() error { return serviceExists("run-r4") })
		eventually(t, 30*time.Second, func() error {
			if code, body := readyz(); code != 200 {
				return fmt.Errorf("/readyz after the fix: %d %s", code, body)
			}
			return nil
		})
	})

	t.Run("suspended, it writes nothing; resumed, it heals", func(t *testing.T) {
		if code := post(t, op, "/suspend", "s3cret"); code != http.StatusAccepted {
			t.Fatalf("POST /suspend: %d", code)
		}
		scale(t, "run-r4", 1)
		eventually(t, 30*time.Second, func() error {
			if n := metricValue(t, op, `swarmgate_reconcile_passes_total{result="suspended"}`); n < 1 {
				return fmt.Errorf("%v suspended passes", n)
			}
			return nil
		})
		readStatus()
		if n := replicas(t, "run-r4"); n != 1 || !status.Suspended {
			t.Errorf("suspended: replicas %d, want the hand-made 1; status suspended=%v", n, status.Suspended)
		}
		if code := post(t, op, "/resume", "s3cret"); code != http.StatusAccepted {
			t.Fatalf("POST /resume: %d", code)
		}
		eventually(t, 30*time.Second, func() error {
			if n := replicas(t, "run-r4"); n != 0 {
				return fmt.Errorf("replicas %d after resume", n)
			}
			return nil
		})
		if code := post(t, op, "/reconcile", "wrong"); code != http.StatusUnauthorized {
			t.Errorf("POST /reconcile with a wrong token: %d", code)
		}
		before := metricValue(t, op, `swarmgate_reconcile_passes_total{result="unchanged"}`)
		post(t, op, "/reconcile", "s3cret")
		eventually(t, 30*time.Second, func() error {
			if n := metricValue(t, op, `swarmgate_reconcile_passes_total{result="unchanged"}`); n <= before {
				return fmt.Errorf("no pass after POST /reconcile")
			}
			return nil
		})
	})

	t.Run("metrics, status and readiness", func(t *testing.T) {
		body := httpGet(t, "http://"+op.listen+"/metrics")
		for _, series := range []string{"swarmgate_reconcile_passes_total", "swarmgate_reconcile_duration_seconds_bucket",
			"swarmgate_reconcile_errors_total{reason=\"InvalidManifests\"}", "swarmgate_drift_objects", "swarmgate_applied_revision_info",
			"swarmgate_engine_api_requests_total{verb=\"GET\"}", `swarmgate_object_info{health="Healthy",kind="Route",name="run-r4",sync="Synced"} 1`} {
			if !strings.Contains(body, series) {
				t.Errorf("/metrics lacks %s", series)
			}
		}
		head := runGit(t, work, "rev-parse", "HEAD")
		readStatus()
		if !status.Ready || status.Revision != head || status.SeenRevision != head || len(status.Objects) != 5 {
			t.Errorf("status %+v, want ready at %s with 5 objects", status, head)
		}
		g := mustSucceed(t, "get", "route", "--server", "http://"+op.listen)
		if !strings.Contains(g.stdout, "run-r4") || !strings.Contains(g.stdout, "Synced") || !strings.Contains(g.stdout, "operator: revision "+head+" applied") {
			t.Errorf("get --server:\n%s", g.stdout)
		}
	})

	op.stop(t)
	mustSucceed(t, "delete", "-f", filepath.Join(root, "checkout", "deploy"), "--instance", instance)
}

// post sends POST path to the operator with its hook token, and returns the status code.
func post(t *testing.T, op *operator, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+op.listen+path, nil)
	req.Header.Set("X-Swarmgate-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metricValue reads one series from the operator's /metrics; 0 when absent.
func metricValue(t *testing.T, op *operator, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(httpGet(t, "http://"+op.listen+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// scale sets a service's replicas by hand, as `docker service scale` does.
func scale(t *testing.T, name string, n uint64) time.Time {
	t.Helper()
	var at time.Time
	eventually(t, 10*time.Second, func() error {
		svc, _, err := docker.ServiceInspectWithRaw(context.Background(), name, swarm.ServiceInspectOptions{})
		if err != nil {
			return err
		}
		spec := svc.Spec
		spec.Mode.Replicated.Replicas = &n
		at = time.Now()
		_, err = docker.ServiceUpdate(context.Background(), svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{})
		return err
	})
	return at
}

func replicas(t *testing.T, name string) uint64 {
	t.Helper()
	svc, _, err := docker.ServiceInspectWithRaw(context.Background(), name, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return *svc.Spec.Mode.Replicated.Replicas
}

func TestRunDrift(t *testing.T) {
	const instance = "e2e-drift"
	cleanup(t, instance)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), []byte(runGateway+"---\n"+runRoute("drift-r1")), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("heal: one alert, restored, one recovery", func(t *testing.T) {
		alerts := newReceiver(t)
		op := startOperator(t, 19192, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h", "--alert-webhook", alerts.srv.URL)
		changed := scale(t, "drift-r1", 2)
		eventually(t, 30*time.Second, func() error {
			d, _ := alerts.count("Drift", "service/drift-r1")
			r, _ := alerts.count("DriftRecovered", "service/drift-r1")
			if d != 1 || r != 1 || replicas(t, "drift-r1") != 0 {
				return fmt.Errorf("%d drift and %d recovery alerts, %d replicas", d, r, replicas(t, "drift-r1"))
			}
			return nil
		})
		_, alerted := alerts.count("Drift", "service/drift-r1")
		t.Logf("figure: hand-made change to drift alert at the webhook: %s", alerted.Sub(changed).Round(time.Millisecond))

		if _, err := os.Stat("/run/swarmgate-hack/dockerd.pid"); err == nil {
			// The engine's event stream breaks when dockerd restarts; the operator reconnects.
			if out, err := exec.Command(filepath.Join(repoRoot, "hack", "swarm.sh"), "restart-engine").CombinedOutput(); err != nil {
				t.Fatalf("restart-engine: %v\n%s", err, out)
			}
			scale(t, "drift-r1", 3)
			eventually(t, 60*time.Second, func() error {
				if d, _ := alerts.count("Drift", "service/drift-r1"); d != 2 || replicas(t, "drift-r1") != 0 {
					return fmt.Errorf("after the restart: %d drift alerts, %d replicas", d, replicas(t, "drift-r1"))
				}
				return nil
			})
		} else if os.Getenv("CI") != "" {
			t.Error("dockerd was not started by hack/swarm.sh up, so the event stream cannot be tested across a restart")
		}

		// One writer: while the operator holds the lease, the CLI refuses to write.
		count := proxy.Reset()
		r := swarmgate(t, "delete", "route", "drift-r1", "--instance", instance)
		if _, writes := count(); r.code != 1 || len(withoutLeaseRenewals(writes)) != 0 || !strings.Contains(r.stderr, "instance e2e-drift is run by an operator (swarmgate run,") {
			t.Errorf("delete while the operator runs: exit %d, writes %v\n%s", r.code, writes, r.stderr)
		}
		// A second operator of the instance stands by (not ready), and takes over once the first
		// stops: a clean stop releases the lease at once.
		standby := launchOperator(t, "unix://"+proxy.Socket, 19197, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h")
		eventually(t, 30*time.Second, func() error {
			if !strings.Contains(standby.log.String(), "standing by: another operator runs this instance") {
				return fmt.Errorf("the second operator does not stand by")
			}
			if standby.ready() == nil {
				return fmt.Errorf("a standby operator says it is ready")
			}
			return nil
		})
		op.stop(t)
		stopped := time.Now()
		eventually(t, 30*time.Second, standby.ready)
		t.Logf("figure: first operator stopped to standby ready: %s", time.Since(stopped).Round(time.Millisecond))
		if !strings.Contains(standby.log.String(), "took over the lease") {
			t.Errorf("the standby did not say it took over:\n%s", standby.log.String())
		}
		standby.stop(t)
		if r := swarmgate(t, "apply", "-f", dir, "--instance", instance); r.code != 0 {
			t.Errorf("apply after the operators stopped: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("alert only: one alert, no write, still drifted", func(t *testing.T) {
		alerts := newReceiver(t)
		op := startOperator(t, 19193, "--source", "dir:"+dir, "--instance", instance, "--resync", "1s", "--on-drift", "alert", "--alert-webhook", alerts.srv.URL)
		count := proxy.Reset()
		scale(t, "drift-r1", 2)
		eventually(t, 30*time.Second, func() error {
			if d, _ := alerts.count("Drift", "service/drift-r1"); d != 1 {
				return fmt.Errorf("%d drift alerts", d)
			}
			return nil
		})
		// Several passes later (a resync every second): still one alert, no write, still drifted.
		eventually(t, 30*time.Second, func() error {
			if held := metricValue(t, op, `swarmgate_reconcile_passes_total{result="drift-held"}`); held < 3 {
				return fmt.Errorf("%v passes held the drift", held)
			}
			return nil
		})
		if d, _ := alerts.count("Drift", "service/drift-r1"); d != 1 {
			t.Errorf("%d drift alerts for one drift", d)
		}
		if _, writes := count(); len(withoutLeaseRenewals(writes)) != 0 {
			t.Errorf("alert-only mode wrote: %v", writes)
		}
		if n := replicas(t, "drift-r1"); n != 2 {
			t.Errorf("replicas %d, want the drifted 2", n)
		}
		checkOperatorViews(t, op)
		op.stop(t)
	})
	mustSucceed(t, "delete", "-f", dir, "--instance", instance)
}

// checkOperatorViews looks at the drifted instance through the operator: its dashboard in a real
// browser (the objects, the drift and its alert, the node), explain --server (the Route the
// operator applied answers), and get --server (with the traffic columns).
func checkOperatorViews(t *testing.T, op *operator) {
	t.Helper()
	server := "http://" + op.listen
	// Past one refresh: the page's script has fetched it anew, and its errors would show.
	page := dashboardtest.NewBrowser(t).Visit(server+"/ui/", nil, 1280, 900, "#paths", dashboard.Refresh+time.Second,
		filepath.Join(dashboardtest.Artifacts(t), "drift.png"))
	if len(page.Errors) > 0 {
		t.Errorf("the dashboard's console says:\n%s", strings.Join(page.Errors, "\n"))
	}
	for _, want := range []string{"gateway run-gw", "drift-r1.run.test", "OutOfSync", "service/drift-r1 differs from the manifests", "leader", "no traffic data"} {
		if !strings.Contains(page.Text, want) {
			t.Errorf("the dashboard does not show %q:\n%s", want, page.Text)
		}
	}
	if out := mustSucceed(t, "explain", "--server", server, "--host", "drift-r1.run.test", "--path", "/").stdout; !strings.Contains(out, "Answered by Route drift-r1, rule 0") {
		t.Errorf("explain --server:\n%s", out)
	}
	if out := mustSucceed(t, "get", "--server", server).stdout; !strings.Contains(out, "REQ/S") || !strings.Contains(out, "drift-r1") {
		t.Errorf("get --server:\n%s", out)
	}
}

// TestRunCommitToServed measures, with real tasks, the time from a commit (pulled by webhook) to
// the new route answering through the gateway. It prints the figure; hack/bench.sh collects it.
func TestRunCommitToServed(t *testing.T) {
	t.Run("the tasks are replaced", func(t *testing.T) { commitToServed(t, "") })
	t.Run("the gateway's agents reload", func(t *testing.T) {
		url, tokenFile := agentSetup(t, 19194) // the operator listens on every address, for the tasks
		commitToServed(t, fmt.Sprintf("  image: swarmgate/gateway:test\n  agent: {operatorURL: %q, tokenSecret: e2e-agent-token}\n", url),
			"--agent-token-file", tokenFile, "--listen", "0.0.0.0:19194")
	})
}

// commitToServed measures, through the operator following a git repository, a commit that adds a
// route to a service that runs, from the webhook to the route answering through the gateway.
// gatewaySpec, when set, replaces the gateway's image line.
func commitToServed(t *testing.T, gatewaySpec string, operatorArgs ...string) {
	const instance, port = "e2e-served", 18187
	cleanup(t, instance)
	root := t.TempDir()
	bare, work := filepath.Join(root, "repo.git"), filepath.Join(root, "work")
	runGit(t, root, "init", "-q", "--bare", "-b", "main", bare)
	runGit(t, root, "clone", "-q", bare, work)
	route := func(name string) string {
		return fmt.Sprintf(`---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: %s}
spec:
  parentRefs: [{name: served-gw}]
  hostnames: [%s.served.test]
  rules: [{backendRefs: [{name: %s}]}]
  services: [{name: %s, image: swarmgate/echo:test, port: 8888, endpointMode: dnsrr, env: [{name: SERVICE, value: %s}]}]
`, name, name, name, name, name)
	}
	manifests := fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: served-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_served}
`, port) + route("served-a")
	if gatewaySpec != "" {
		manifests = strings.Replace(manifests, "  image: swarmgate/nginx:test\n", gatewaySpec, 1)
	}
	write := func(m string) {
		if err := os.WriteFile(filepath.Join(work, "all.yaml"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		runGit(t, work, "add", "-A")
		runGit(t, work, "commit", "-q", "-m", "change")
		runGit(t, work, "push", "-q", "origin", "HEAD:main")
	}
	write(manifests)
	tokenFile := filepath.Join(root, "hook-token")
	if err := os.WriteFile(tokenFile, []byte("t"), 0o600); err != nil {
		t.Fatal(err)
	}
	op := startOperator(t, 19194, append([]string{"--source", "git:file://" + bare, "--branch", "main", "--interval", "1h", "--resync", "1h",
		"--instance", instance, "--checkout-dir", filepath.Join(root, "checkout"), "--hook-token-file", tokenFile}, operatorArgs...)...)
	eventually(t, 60*time.Second, func() error { return tasksSeen(port, "served-a.served.test", "served-a", 1) })

	// A new host for the service that runs already: what a route change costs, not a new service's start.
	write(manifests + `---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: served-b}
spec:
  parentRefs: [{name: served-gw}]
  hostnames: [served-b.served.test]
  rules: [{backendRefs: [{name: served-a, port: 8888}]}]
`)
	start := time.Now()
	req, _ := http.NewRequest("POST", "http://"+op.listen+"/hooks/git", nil)
	req.Header.Set("X-Swarmgate-Token", "t")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	eventually(t, 60*time.Second, func() error { return tasksSeen(port, "served-b.served.test", "served-a", 1) })
	mode := "tasks replaced"
	if gatewaySpec != "" {
		mode = "agents reload"
	}
	t.Logf("figure: commit (webhook) to the new route served through the gateway (%s): %s", mode, time.Since(start).Round(time.Millisecond))
	op.stop(t)
	mustSucceed(t, "delete", "-f", filepath.Join(root, "checkout"), "--instance", instance)
}

// TestRunReadinessAndRollback: /readyz answers 503 until a first good pass; a spec swarm rolls
// back is alerted as swarm's doing and held, not re-applied in a loop, until the manifests change.
func TestRunReadinessAndRollback(t *testing.T) {
	const instance = "e2e-rollback"
	cleanup(t, instance)
	dir := t.TempDir()
	file := filepath.Join(dir, "all.yaml")
	service := func(image string) string {
		return runGateway + `---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: rb}
spec:
  parentRefs: [{name: run-gw}]
  hostnames: [rb.run.test]
  rules: [{backendRefs: [{name: rb}]}]
  services:
    - name: rb
      image: ` + image + `
      port: 8888
      endpointMode: dnsrr
      updatePolicy: {failureAction: rollback, monitor: 2s}
      restartPolicy: {condition: any, delay: 1s}
`
	}
	if err := os.WriteFile(file, []byte(strings.Replace(service("swarmgate/echo:test"), "rb.run.test", "Bad_Host", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	alerts := newReceiver(t)
	o := launchOperator(t, "unix://"+proxy.Socket, 19195, "--source", "dir:"+dir, "--instance", instance, "--resync", "1h",
		"--alert-webhook", alerts.srv.URL)
	eventually(t, 30*time.Second, func() error {
		if n, _ := alerts.count("InvalidManifests", ""); n != 1 {
			return fmt.Errorf("%d InvalidManifests alerts", n)
		}
		return nil
	})
	readyz := func() int {
		resp, err := http.Get("http://" + o.listen + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := readyz(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with only invalid manifests: %d, want 503", code)
	}
	if err := os.WriteFile(file, []byte(service("swarmgate/echo:test")), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		if code := readyz(); code != 200 {
			return fmt.Errorf("/readyz %d", code)
		}
		return nil
	})
	eventually(t, 60*time.Second, func() error {
		svc, _, err := docker.ServiceInspectWithRaw(context.Background(), "rb", swarm.ServiceInspectOptions{})
		if err != nil {
			return err
		}
		tasks, err := docker.TaskList(context.Background(), swarm.TaskListOptions{Filters: filtersFor(svc.ID)})
		if err != nil {
			return err
		}
		for _, task := range tasks {
			if task.Status.State == swarm.TaskStateRunning {
				return nil
			}
		}
		return fmt.Errorf("no running task of rb")
	})

	// A new revision whose image cannot start: swarm rolls the update back.
	if err := os.WriteFile(file, []byte(service("swarmgate/no-such-image:1")), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, func() error {
		if n, _ := alerts.count("Drift", "service/rb"); n < 1 {
			return fmt.Errorf("no drift alert yet")
		}
		return nil
	})
	alerts.mu.Lock()
	var drift receivedAlert
	for _, a := range alerts.alerts {
		if a.Reason == "Drift" && a.Object == "service/rb" {
			drift = a
		}
	}
	alerts.mu.Unlock()
	if !strings.Contains(drift.Message, "rolled back a failed update") {
		t.Errorf("the drift alert does not name swarm's rollback: %q", drift.Message)
	}
	// Held, not re-applied: the service keeps the rolled-back image through later passes.
	count := proxy.Reset()
	scale(t, "run-gw", 0) // an unrelated event, to make a pass happen
	eventually(t, 30*time.Second, func() error {
		if metricValue(t, o, "swarmgate_reconcile_passes_total{result=\"unchanged\"}")+metricValue(t, o, "swarmgate_reconcile_passes_total{result=\"applied\"}") < 3 {
			return fmt.Errorf("waiting for passes")
		}
		return nil
	})
	_, writes := count()
	for _, w := range writes {
		if strings.Contains(w, "/services/") && strings.Contains(w, "/update") {
			svc, _, _ := docker.ServiceInspectWithRaw(context.Background(), "rb", swarm.ServiceInspectOptions{})
			if strings.Contains(svc.Spec.TaskTemplate.ContainerSpec.Image, "no-such-image") {
				t.Errorf("the rolled-back spec was re-applied: %v", writes)
			}
		}
	}
	o.stop(t) // it holds the instance's lease
	mustSucceed(t, "delete", "-f", dir, "--instance", instance)
}
