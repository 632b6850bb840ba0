package keepalived

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

var update = flag.Bool("update", false, "rewrite the golden files with the current output")

// TestGolden renders every testdata/*.txtar: input.yaml holds one VirtualIP (and the Gateway and
// Zone it names), addresses the nodes' addresses ("hostname address" per line); the archive holds
// the expected <hostname>.conf of every node and, if any, the warnings. The real keepalived must
// accept every config.
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
			vip, zone, track := loadInput(t, file, archiveFile(ar, "input.yaml"))
			addrs := parseAddresses(t, archiveFile(ar, "addresses"))
			nodes, missing, err := Nodes(vip, zone, addrs)
			if err != nil {
				t.Fatal(err)
			}
			if len(missing) > 0 {
				t.Fatalf("nodes without an address: %v", missing)
			}
			res, err := Render(vip, nodes, track)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]byte{}
			for host, conf := range res.Configs {
				want[host+".conf"] = conf
			}
			if len(res.Warnings) > 0 {
				want["warnings"] = []byte(strings.Join(res.Warnings, "\n") + "\n")
			}
			if *update {
				kept := ar.Files[:0]
				for _, f := range ar.Files {
					if f.Name == "input.yaml" || f.Name == "addresses" {
						kept = append(kept, f)
					}
				}
				ar.Files = kept
				names := make([]string, 0, len(want))
				for n := range want {
					names = append(names, n)
				}
				slices.Sort(names)
				for _, n := range names {
					ar.Files = append(ar.Files, txtar.File{Name: n, Data: want[n]})
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for name, data := range want {
				if got := archiveFile(ar, name); !bytes.Equal(got, data) {
					t.Errorf("%s differs from %s (run go test -update to accept):\n%s", name, file, data)
				}
			}
			for _, f := range ar.Files {
				if _, ok := want[f.Name]; !ok && f.Name != "input.yaml" && f.Name != "addresses" {
					t.Errorf("%s holds %s, which was not rendered", file, f.Name)
				}
			}
			for _, n := range nodes {
				configTest(t, res.Configs[n.Hostname])
			}
		})
	}
}

func archiveFile(ar *txtar.Archive, name string) []byte {
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	return nil
}

func parseAddresses(t *testing.T, data []byte) map[string]netip.Addr {
	addrs := map[string]netip.Addr{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		host, addr, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		a, err := netip.ParseAddr(strings.TrimSpace(addr))
		if err != nil {
			t.Fatal(err)
		}
		addrs[host] = a
	}
	return addrs
}

// loadInput decodes, defaults and validates the manifests and returns the VirtualIP, its zone and
// whether it tracks a gateway.
func loadInput(t *testing.T, name string, data []byte) (*v1alpha1.VirtualIP, *v1alpha1.Zone, bool) {
	objs, errs := manifest.Decode(name, data)
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatalf("invalid input:\n%v", errs)
	}
	var (
		vip   *v1alpha1.VirtualIP
		zones = map[string]*v1alpha1.Zone{}
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *v1alpha1.VirtualIP:
			vip = o
		case *v1alpha1.Zone:
			zones[o.Metadata.Name] = o
		}
	}
	if vip == nil {
		t.Fatal("input has no VirtualIP")
	}
	return vip, zones[vip.Spec.Zone], vip.Spec.TrackGateway != nil
}

var ifaceLine = regexp.MustCompile(`(?m)^\s*interface (\S+)$`)

// configTest runs `keepalived --config-test` in a network namespace of its own, where a veth pair
// gives every interface the config names, since keepalived refuses interfaces that do not exist.
func configTest(t *testing.T, conf []byte) {
	t.Helper()
	bin, err := exec.LookPath("keepalived")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/keepalived")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("keepalived is not installed; hack/deps.sh installs Debian's keepalived")
		}
		t.Skip("keepalived is not installed (hack/deps.sh installs it)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	seen := map[string]bool{}
	for i, m := range ifaceLine.FindAllStringSubmatch(string(conf), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			fmt.Fprintf(&script, "ip link add %s type veth peer name sgpeer%d && ", m[1], i)
		}
	}
	script.WriteString(bin + " --config-test -f " + path)
	out, err := exec.Command("unshare", "--net", "sh", "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("keepalived --config-test rejects the config: %v\n%s\n%s", err, out, conf)
	}
}

// TestCorpusAcceptedByKeepalived renders the VirtualIPs of every example, and of every file of the
// invalid corpus that validation lets through, and runs the real keepalived on each node's config.
func TestCorpusAcceptedByKeepalived(t *testing.T) {
	files, _ := filepath.Glob("../../../manifests/examples/*/*.yaml")
	invalid, _ := filepath.Glob("../../../manifests/invalid/*.yaml")
	known := map[string]netip.Addr{}
	for i := 1; i <= 3; i++ {
		known[fmt.Sprintf("node%d", i)] = netip.MustParseAddr(fmt.Sprintf("10.99.0.%d", i))
	}
	checked := 0
	for _, file := range slices.Concat(files, invalid) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		objs, errs := manifest.Decode(file, data)
		for _, o := range objs {
			o.Default()
		}
		zones := map[string]*v1alpha1.Zone{}
		for _, o := range objs {
			if z, ok := o.(*v1alpha1.Zone); ok {
				zones[z.Metadata.Name] = z
			}
		}
		valid := len(validation.ValidateSnapshot(objs, errs)) == 0
		for _, o := range objs {
			vip, ok := o.(*v1alpha1.VirtualIP)
			if !ok || (!valid && !strings.Contains(file, "/examples/")) {
				continue
			}
			nodes, _, err := Nodes(vip, zones[vip.Spec.Zone], known)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			res, err := Render(vip, nodes, vip.Spec.TrackGateway != nil)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for _, n := range nodes {
				configTest(t, res.Configs[n.Hostname])
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no VirtualIP was checked")
	}
}
