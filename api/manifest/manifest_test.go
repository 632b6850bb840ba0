package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

const zoneDoc = `apiVersion: swarmgate.io/v1alpha1
kind: Zone
metadata:
  name: dmz
spec:
  nodes: [node1]
`

func TestSplitDocuments(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		lines []int // first line of each document
	}{
		{"one", "a: 1\n", []int{1}},
		{"leading separator", "---\na: 1\n", []int{2}},
		{"two", "a: 1\n---\nb: 2\n", []int{1, 3}},
		{"separator with comment", "a: 1\n--- # next\nb: 2\n", []int{1, 3}},
		{"empty middle document", "a: 1\n---\n---\nb: 2\n", []int{1, 3, 4}},
		{"trailing separator", "a: 1\n---\n", []int{1}},
		{"not a separator", "a: |\n  ---x\n", []int{1}},
		{"CRLF", "a: 1\r\n---\r\nb: 2\r\n", []int{1, 3}},
		{"no trailing newline", "a: 1\n---\nb: 2", []int{1, 3}},
		{"document on the separator line", "a: 1\n--- b: 2\nc: 3\n", []int{1, 2}},
		{"document after an end marker", "a: 1\n...\nb: 2\n", []int{1, 3}},
		{"end marker, then separator", "a: 1\n...\n---\nb: 2\n", []int{1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := splitDocuments([]byte(tt.in))
			var lines []int
			var text strings.Builder
			for _, d := range docs {
				lines = append(lines, d.line)
				text.Write(d.data)
			}
			// Nothing but the markers is dropped.
			for _, word := range []string{"a: 1", "b: 2", "c: 3"} {
				if strings.Contains(tt.in, word) && !strings.Contains(text.String(), word) {
					t.Errorf("%q was dropped", word)
				}
			}
			if !equal(lines, tt.lines) {
				t.Errorf("lines %v, want %v", lines, tt.lines)
			}
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		objects int
		errs    []string
	}{
		{"zone", zoneDoc, 1, nil},
		{"two documents and an empty one", zoneDoc + "---\n# nothing\n---\n" + strings.Replace(zoneDoc, "dmz", "manager", 1), 2, nil},
		{"unknown field with path", strings.Replace(zoneDoc, "nodes:", "labels: {a: b}\n  nodez:", 1), 1,
			[]string{"f.yaml doc 1: Zone dmz: spec.nodez: unknown field"}},
		{"field in wrong case", strings.Replace(zoneDoc, "nodes:", "Nodes:", 1), 1,
			[]string{`spec.Nodes: unknown field (did you mean "nodes"?)`}},
		{"wrong type", strings.Replace(zoneDoc, "[node1]", "node1", 1), 0,
			[]string{"f.yaml doc 1: Zone dmz: spec.nodes: must be a list, not a string"}},
		{"number for string", strings.Replace(zoneDoc, "[node1]", "[1]", 1), 0,
			[]string{"spec.nodes[0]: must be a string (quote it), not a number"}},
		{"fraction for integer", "apiVersion: swarmgate.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: v}\nspec: {virtualRouterID: 1.5}\n", 0,
			[]string{"f.yaml doc 1: VirtualIP v: spec.virtualRouterID: must be an integer, not a number"}},
		{"missing apiVersion", strings.Replace(zoneDoc, "apiVersion: swarmgate.io/v1alpha1\n", "", 1), 0,
			[]string{"f.yaml doc 1: Zone dmz: apiVersion: is required"}},
		{"wrong apiVersion", strings.Replace(zoneDoc, "v1alpha1", "v1", 1), 0,
			[]string{`apiVersion: is not supported; supported: "swarmgate.io/v1alpha1"`}},
		{"missing kind", strings.Replace(zoneDoc, "kind: Zone\n", "", 1), 0,
			[]string{"f.yaml doc 1: kind: is required"}},
		{"unknown kind", strings.Replace(zoneDoc, "kind: Zone", "kind: Deployment", 1), 0,
			[]string{`kind: is not supported; supported: "Zone", "ReferenceGrant", "Gateway", "Route", "GRPCRoute", "VirtualIP"`}},
		{"not a mapping", "- a\n- b\n", 0, []string{"f.yaml doc 1: a manifest must be a mapping"}},
		{"bad YAML in second document", zoneDoc + "---\nkind: [\n", 1, []string{"f.yaml doc 2: invalid YAML"}},
		{"duplicate key", zoneDoc + "kind: Zone\n", 0, []string{"f.yaml doc 1: invalid YAML"}},
		{"origin field is not settable", strings.Replace(zoneDoc, "name: dmz", "name: dmz\n  origin: x", 1), 1,
			[]string{"metadata.origin: unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, errs := Decode("f.yaml", []byte(tt.in))
			if len(objs) != tt.objects {
				t.Errorf("got %d objects, want %d", len(objs), tt.objects)
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("got errors:\n%v\nwant %d", errs, len(tt.errs))
			}
			for i, want := range tt.errs {
				// Lines are TestDecodeRecordsOrigin's; here, what the error says.
				if got := fileLine.ReplaceAllString(errs[i].Error(), "f.yaml doc"); !strings.Contains(got, want) {
					t.Errorf("error %d:\n got  %s\n want it to contain %s", i, errs[i], want)
				}
			}
		})
	}
}

// fileLine is the line of a field in an error's origin: "f.yaml:7 doc".
var fileLine = regexp.MustCompile(`f\.yaml:[0-9]+ doc`)

func TestDecodeRecordsOrigin(t *testing.T) {
	in := "# header\n---\n" + zoneDoc + "---\n" + strings.Replace(zoneDoc, "dmz", "manager", 1)
	objs, errs := Decode("zones.yaml", []byte(in))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []v1alpha1.Origin{{File: "zones.yaml", Doc: 1, Line: 3}, {File: "zones.yaml", Doc: 2, Line: 10}}
	for i, o := range objs {
		if got := o.GetObjectMeta().Origin; got.File != want[i].File || got.Doc != want[i].Doc || got.Line != want[i].Line {
			t.Errorf("object %d origin %+v, want %+v", i, got, want[i])
		}
	}
	// A field is placed at its own line; one the document lacks, at its nearest parent's.
	origin := objs[1].GetObjectMeta().Origin
	for path, want := range map[string]string{"": "zones.yaml:10 doc 2", "metadata.name": "zones.yaml:13 doc 2", "spec.nodes[0]": "zones.yaml:15 doc 2",
		"spec.labels[x]": "zones.yaml:14 doc 2"} {
		if got := origin.At(path); got != want {
			t.Errorf("At(%q) = %s, want %s", path, got, want)
		}
	}
	z := objs[1].(*v1alpha1.Zone)
	if z.Metadata.Name != "manager" || z.Spec.Nodes[0] != "node1" || z.Kind != v1alpha1.KindZone || z.APIVersion != v1alpha1.GroupVersion {
		t.Errorf("decoded %+v", z)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", strings.Replace(zoneDoc, "dmz", "b", 1))
	write("a/z.yml", strings.Replace(zoneDoc, "dmz", "az", 1))
	write("notes.txt", "not a manifest")
	write(".git/x.yaml", "garbage: [")

	objs, err := Load([]string{dir, Stdin}, strings.NewReader(strings.Replace(zoneDoc, "dmz", "stdin", 1)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetObjectMeta().Name+"@"+filepath.Base(o.GetObjectMeta().Origin.File))
	}
	if got := strings.Join(names, " "); got != "az@z.yml b@b.yaml stdin@<stdin>" {
		t.Errorf("loaded %s", got)
	}

	_, err = Load([]string{filepath.Join(dir, "missing.yaml"), Stdin, Stdin}, strings.NewReader(""))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml: stat") || !strings.Contains(err.Error(), "standard input given more than once") {
		t.Errorf("want a missing-file and a double-stdin error, got %v", err)
	}
	_, err = Load([]string{filepath.Join(dir, "a", "..", ".git", "..", "a")}, nil)
	if err != nil {
		t.Errorf("directory path with dots: %v", err)
	}
	if _, err := Load([]string{t.TempDir()}, nil); err == nil || !strings.Contains(err.Error(), "no *.yaml or *.yml files") {
		t.Errorf("empty directory: %v", err)
	}
}

// TestLoadReadsOnlyWhatItShould: regular files within the directory, of bounded size, in UTF-8.
func TestLoadReadsOnlyWhatItShould(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.yaml")
	if err := os.WriteFile(secret, []byte(zoneDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		setup func(dir string) error
		want  string
	}{
		{"a link to outside the directory", func(dir string) error { return os.Symlink(secret, filepath.Join(dir, "x.yaml")) },
			"a symbolic link to outside"},
		{"a link to /dev/zero", func(dir string) error { return os.Symlink("/dev/zero", filepath.Join(dir, "x.yaml")) },
			"a symbolic link to outside"},
		{"a FIFO", func(dir string) error { return syscall.Mkfifo(filepath.Join(dir, "x.yaml"), 0o644) },
			"is not a regular file"},
		{"a file too large", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "x.yaml"), make([]byte, MaxFileSize+1), 0o644)
		}, "is larger than"},
		{"UTF-16", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "x.yaml"), []byte("\xff\xfea\x00:\x00 \x001\x00\n\x00"), 0o644)
		}, "is not UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tt.setup(dir); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := Load([]string{dir}, nil); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Load: %v, want an error saying %q", err, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Load blocked")
			}
		})
	}
	// A link to a file inside the directory is read.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(zoneDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.yaml", filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	if objs, err := Load([]string{dir}, nil); err != nil || len(objs) != 2 {
		t.Errorf("a link inside: %d objects, %v", len(objs), err)
	}
}

// Every form a plain scalar with a leading zero can take is found, the quick pre-check included;
// a document whose numbers have none is not parsed for them.
func TestYAML11Numbers(t *testing.T) {
	for _, tt := range []struct {
		doc       string
		found     bool
		candidate bool // mayHaveOctal: the document is parsed
	}{
		{"port: 0443\n", true, true},
		{"port: -0443\n", true, true},
		{"port: +0_443\n", true, true},
		{"port:\n  0443\n", true, true},
		{"ports: [80, 0443]\n", true, true},
		{"ports: [0443]\n", true, true},
		{"ports:\n- 0443\n", true, true},
		{"{port: 0443}\n", true, true},
		{`{"port":0443}` + "\n", true, true},
		{"port:\t0443\n", true, true},
		{"0443\n", true, true},
		{"port: &p 0443\n", true, true},
		{"port: '0443'\n", false, false},
		{"port: \"0443\"\n", false, false},
		{"port: 0\n", false, false},
		{"port: 8080\nname: bench-100\nhost: r10.bench.test\n", false, false},
		{"weight: 0.5\n", false, false},
		{"port: x+0443\n", false, false},
		{"port: bench-0_1\n", false, true},
	} {
		if got := len(yaml11Numbers([]byte(tt.doc), 1)) > 0; got != tt.found {
			t.Errorf("%q: found %v, want %v", tt.doc, got, tt.found)
		}
		if got := mayHaveOctal([]byte(tt.doc)); got != tt.candidate {
			t.Errorf("%q: candidate %v, want %v", tt.doc, got, tt.candidate)
		}
	}
}

// TestDecodeKeepsOrder: documents decoded concurrently come out in the file's order, objects and
// errors alike.
func TestDecodeKeepsOrder(t *testing.T) {
	var in strings.Builder
	for i := range 200 {
		doc := strings.Replace(zoneDoc, "name: dmz", fmt.Sprintf("name: z%d", i), 1)
		if i%7 == 3 {
			doc = strings.Replace(doc, "nodes:", "nodez:", 1)
		}
		fmt.Fprintf(&in, "---\n%s", doc)
	}
	objs, errs := Decode("f.yaml", []byte(in.String()))
	if len(objs) != 200 {
		t.Fatalf("%d objects, want 200", len(objs))
	}
	for i, o := range objs {
		if m := o.GetObjectMeta(); m.Name != fmt.Sprintf("z%d", i) || m.Origin.Doc != i+1 {
			t.Fatalf("object %d is %s from doc %d", i, m.Name, m.Origin.Doc)
		}
	}
	var docs []int
	for i := 3; i < 200; i += 7 {
		docs = append(docs, i)
	}
	if len(errs) != len(docs) {
		t.Fatalf("%d errors, want %d", len(errs), len(docs))
	}
	for i, d := range docs {
		// Each document is 7 lines ("---" and the zone's 6); spec.nodez is its 6th.
		if want := fmt.Sprintf("f.yaml:%d doc %d: Zone z%d: spec.nodez", d*7+7, d+1, d); !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d: %s, want %s", i, errs[i], want)
		}
	}
}
