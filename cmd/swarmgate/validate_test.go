package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// swarmgate runs the command line in-process and returns its exit code and output.
func swarmgate(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

const repoRoot = "../.."

func TestValidateExamples(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(repoRoot, "manifests", "examples", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	// The demo's Zone names this machine's node, so hack/demo.sh writes it at run time.
	extra := map[string]string{"demo": "apiVersion: swarmgate.io/v1alpha1\nkind: Zone\nmetadata: {name: dmz}\nspec: {nodes: [node1]}\n"}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			args := []string{"validate", "-f", dir}
			if extra[filepath.Base(dir)] != "" {
				args = append(args, "-f", "-")
			}
			code, stdout, stderr := swarmgate(t, extra[filepath.Base(dir)], args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if !strings.Contains(stdout, "valid") {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}

// TestValidateInvalidCorpus runs every file of manifests/invalid. Each holds one mistake and names,
// in its first line ("# expect: ..."), the error it must produce: exactly that one error.
func TestValidateInvalidCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "manifests", "invalid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("the invalid corpus has %d files, want at least 40", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			want := expectation(t, file)
			code, stdout, stderr := swarmgate(t, "", "validate", "-f", file)
			if code != exitFail {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitFail, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[1], "error: 1 error in the manifests; nothing was changed") {
				t.Fatalf("want exactly one error, got:\n%s", stderr)
			}
			if !regexp.MustCompile(`^` + regexp.QuoteMeta(file) + `:[0-9]+ doc `).MatchString(lines[0]) {
				t.Errorf("error does not name the file and line: %s", lines[0])
			}
			if !strings.Contains(lines[0], want) {
				t.Errorf("got  %s\nwant it to contain %s", lines[0], want)
			}
		})
	}
}

func expectation(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatalf("%s is empty", file)
	}
	want, ok := strings.CutPrefix(sc.Text(), "# expect: ")
	if !ok || want == "" {
		t.Fatalf("%s: first line must be \"# expect: <message>\"", file)
	}
	return want
}

func TestValidateReportsEveryMistake(t *testing.T) {
	in := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: 8080, extra: true}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  hostnames: [Web.Example]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`
	code, _, stderr := swarmgate(t, in, "validate", "-f", "-")
	if code != exitFail {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"<stdin>:5 doc 1: Gateway gw: spec.listeners[0].extra: unknown field",
		`<stdin>:12 doc 2: Route web: spec.hostnames[0]: is not a valid hostname`,
		"error: 2 errors in the manifests",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"validate", "-f", "does-not-exist.yaml"}, "does-not-exist.yaml: stat"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--log-level", "loud", "version"}, `--log-level "loud"`},
	}
	for _, tt := range tests {
		code, _, stderr := swarmgate(t, "", tt.args...)
		if code == exitOK || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to contain %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := swarmgate(t, "", "version")
	if code != exitOK || !strings.HasPrefix(stdout, "swarmgate ") || !strings.Contains(stdout, "swarmgate.io/v1alpha1") {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}

// TestErrorsNeverPrintValues: a value may be a password or a token, and errors reach logs, alerts
// and the operator's status page; they say what is wrong without the value.
func TestErrorsNeverPrintValues(t *testing.T) {
	in := `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners: [{name: http, port: "SECRETPORT"}]
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  hostnames: [SECRETHOST]
  rules:
    - matches: [{headers: [{name: x-token, value: "SECRETHEADER\n"}]}]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: {set: [{name: Authorization, value: "SECRETSET\u0001"}]}
      backendRefs: [{name: app}]
  services:
    - name: app
      image: x
      env: [{name: TOKEN, value: "SECRETENV\u0000"}, {name: "SECRETNAME=", value: v}]
---
apiVersion: swarmgate.io/v1alpha1
kind: VirtualIP
metadata: {name: v}
spec:
  address: 10.0.0.1/24
  virtualRouterID: 1
  nodes: [{hostname: n1, priority: 1}]
  auth: {password: "SECRETPASSWORD"}
  image: x
`
	code, stdout, stderr := swarmgate(t, in, "validate", "-f", "-")
	if code != exitFail || strings.Count(stderr, "\n") < 8 {
		t.Fatalf("exit %d, want every mistake reported:\n%s", code, stderr)
	}
	if strings.Contains(stdout+stderr, "SECRET") {
		t.Errorf("an error prints a value:\n%s", stderr)
	}
}

// TestPruneNeedsObjects: --prune with manifests that hold nothing would delete everything of the
// instance; it needs --allow-empty, and nothing reaches the engine before.
func TestPruneNeedsObjects(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") // any request would fail differently
	code, _, stderr := swarmgate(t, "# all routes were removed by mistake\n", "apply", "-f", "-", "--prune")
	if code != exitFail || !strings.Contains(stderr, "--allow-empty") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
