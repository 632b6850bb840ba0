package nginx

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

var update = flag.Bool("update", false, "rewrite the golden files with the current output")

// TestGolden renders every testdata/*.txtar: its input.yaml holds one Gateway, its Routes and
// policies, its
// default.conf the config they must render to, which the real nginx must accept. An optional
// acme-issued file lists the ACME listeners whose certificate is issued (a chain and a key), read
// where the desired state puts them: under contract.AgentChainDir for a gateway with agents. An
// optional tasks file gives the backends' tasks (Options.Tasks), a line per service: its name and
// addresses.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			gw, routes := loadInput(t, file, archiveFile(t, ar, "input.yaml"))
			opts := Options{Policies: policiesIn(archiveFile(t, ar, "input.yaml")), GRPCRoutes: grpcRoutesIn(archiveFile(t, ar, "input.yaml"))}
			for _, f := range ar.Files {
				if f.Name == "tasks" {
					opts.Tasks = goldenTasks(t, f.Data)
				}
				if f.Name != "acme-issued" {
					continue
				}
				opts.ACMEChains = map[v1alpha1.SectionName]bool{}
				for _, l := range strings.Fields(string(f.Data)) {
					opts.ACMEChains[v1alpha1.SectionName(l)] = true
				}
				if gw.Spec.Agent != nil {
					opts.ChainDir = contract.AgentChainDir
				}
			}
			got, err := Render(gw, routes, opts)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				setArchiveFile(ar, "default.conf", got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want := archiveFile(t, ar, "default.conf"); !bytes.Equal(got, want) {
				t.Errorf("rendered config differs from %s (run go test -update to accept):\n%s", file, lineDiff(string(want), string(got)))
			}
			nginxTest(t, got)
		})
	}
}

// goldenTasks reads a golden's tasks file: a line per service, its name and its tasks' addresses.
func goldenTasks(t *testing.T, data []byte) map[string][]netip.Addr {
	tasks := map[string][]netip.Addr{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.Fields(line)
		tasks[fields[0]] = []netip.Addr{}
		for _, a := range fields[1:] {
			addr, err := netip.ParseAddr(a)
			if err != nil {
				t.Fatal(err)
			}
			tasks[fields[0]] = append(tasks[fields[0]], addr)
		}
	}
	return tasks
}

func archiveFile(t *testing.T, ar *txtar.Archive, name string) []byte {
	t.Helper()
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	if name == "default.conf" && *update {
		return nil
	}
	t.Fatalf("archive has no %s", name)
	return nil
}

func setArchiveFile(ar *txtar.Archive, name string, data []byte) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = data
			return
		}
	}
	ar.Files = append(ar.Files, txtar.File{Name: name, Data: data})
}

// loadInput decodes, defaults and validates manifests the way the CLI does, and returns the one
// Gateway and the Routes (a GRPCRoute as its AsRoute form; grpcRoutesIn has the GRPCRoutes).
func loadInput(t testing.TB, name string, data []byte) (*v1alpha1.Gateway, []*v1alpha1.Route) {
	t.Helper()
	objs, errs := manifest.Decode(name, data)
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatalf("invalid input:\n%v", errs)
	}
	var gw *v1alpha1.Gateway
	var routes []*v1alpha1.Route
	for _, o := range objs {
		switch o := o.(type) {
		case *v1alpha1.Gateway:
			if gw != nil {
				t.Fatal("input has more than one Gateway")
			}
			gw = o
		case *v1alpha1.Route:
			routes = append(routes, o)
		case *v1alpha1.GRPCRoute:
			routes = append(routes, o.AsRoute())
		}
	}
	if gw == nil {
		t.Fatal("input has no Gateway")
	}
	return gw, routes
}

// lineDiff shows the first lines where two texts part.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(same lines)"
}

func itoa(i int) string { return strconv.Itoa(i) }

// nginxBinary finds the real nginx. Without it the test cannot prove anything: in CI that is a
// failure, elsewhere a skip.
func nginxBinary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed; hack/deps.sh installs Debian's nginx-light")
	}
	t.Skip("nginx is not installed (hack/deps.sh installs it)")
	return ""
}

// nginxConf wraps a rendered conf.d file in a main config the way the nginx image's nginx.conf
// includes it, with every path inside dir.
func nginxConf(dir string, extra string) string {
	return "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\n" + extra + "events {}\nhttp {\n" +
		"    access_log off;\n    client_body_temp_path " + dir + "/body;\n    proxy_temp_path " + dir + "/proxy;\n" +
		"    include " + dir + "/default.conf;\n}\n"
}

// nginxTest runs `nginx -t` on a rendered config.
func nginxTest(t testing.TB, conf []byte) {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "default.conf"), withTestCertificates(t, conf, dir), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(nginxConf(dir, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t", "-q", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t rejects the config: %v\n%s", err, out)
	}
}
