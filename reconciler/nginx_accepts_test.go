package reconciler

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

// acceptedByNginx fails the test when manifests that load (decode, validate and render) give a
// gateway config the real nginx refuses: what validate accepts, nginx must serve.
func acceptedByNginx(t *testing.T, name string, data []byte) {
	t.Helper()
	objs, err := loadBytes(t, name, data)
	if err != nil {
		return // refused before any config exists: fine
	}
	routes, grpc := nginx.RoutesOf(objs)
	for _, o := range objs {
		gw, ok := o.(*v1alpha1.Gateway)
		if !ok {
			continue
		}
		conf, err := nginx.Render(gw, routes, nginx.Options{GRPCRoutes: grpc})
		if err != nil {
			t.Fatalf("%s: validates but does not render: %v", name, err)
		}
		if out, err := nginxCheck(t, conf); err != nil {
			t.Fatalf("%s: validates, but nginx -t refuses gateway %s's config: %v\n%s", name, gw.Metadata.Name, err, out)
		}
	}
}

func loadBytes(t *testing.T, name string, data []byte) ([]v1alpha1.Object, error) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return LoadManifests([]string{path}, nil)
}

func nginxCheck(t *testing.T, conf []byte) ([]byte, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nginx is not installed; hack/deps.sh installs it")
		}
		t.Skip("nginx is not installed (hack/deps.sh installs it)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "default.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	main := "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\nevents {}\nhttp {\n    client_body_temp_path " + dir +
		"/body;\n    proxy_temp_path " + dir + "/proxy;\n    include " + dir + "/default.conf;\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	return exec.Command(bin, "-t", "-q", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput()
}

// TestCorpusAcceptedByNginx: every example and every file of the invalid corpus either is refused
// or renders configs nginx accepts.
func TestCorpusAcceptedByNginx(t *testing.T) {
	invalid, _ := filepath.Glob("../manifests/invalid/*.yaml")
	dirs, _ := filepath.Glob("../manifests/examples/*")
	if len(dirs) == 0 || len(invalid) == 0 {
		t.Fatal("no corpus")
	}
	for _, dir := range dirs {
		data := exampleDir(t, dir)
		if _, err := loadBytes(t, "example.yaml", data); err != nil {
			t.Fatalf("example %s: %v", dir, err)
		}
		acceptedByNginx(t, filepath.Base(dir)+".yaml", data)
	}
	if _, err := loadBytes(t, "newer.yaml", []byte(newerFieldsSeed)); err != nil {
		t.Fatalf("the fuzzer's seed of newer fields: %v", err)
	}
	acceptedByNginx(t, "newer.yaml", []byte(newerFieldsSeed))
	for _, f := range invalid {
		data, err := manifest.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		acceptedByNginx(t, filepath.Base(f), data)
	}
}

// FuzzValidateButNginxRefuses searches for manifests that validate while nginx refuses their
// config: go test ./reconciler -run X -fuzz FuzzValidateButNginxRefuses -fuzzminimizetime 0 (minimizing
// inputs that run nginx stalls the fuzzer).
func FuzzValidateButNginxRefuses(f *testing.F) {
	dirs, _ := filepath.Glob("../manifests/examples/*")
	for _, dir := range dirs {
		f.Add(exampleDir(f, dir))
	}
	f.Add([]byte(newerFieldsSeed))
	f.Fuzz(func(t *testing.T, data []byte) {
		acceptedByNginx(t, "fuzz.yaml", data)
	})
}

// newerFieldsSeed gives the fuzzer the fields the examples lack: a gateway with agents taking
// certificates from ACME (HTTP-01), filters on backends with weights, CORS and mirrors.
const newerFieldsSeed = `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: edge}
spec:
  agent: {operatorURL: "http://operator:9090", tokenSecret: agent-token}
  listeners:
    - {name: http, port: 8080}
    - {name: shop, port: 8443, protocol: HTTPS, hostname: shop.example.com, tls: {acme: {email: ops@example.com}}}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [shop.example.com]
  rules:
    - matches: [{path: {value: /api}, headers: [{name: X-Canary, value: "yes"}]}]
      filters:
        - type: CORS
          cors: {allowOrigins: ["https://*.example.com"], allowMethods: [GET, POST], allowHeaders: [X-Requested-With], exposeHeaders: [X-Total], allowCredentials: true, maxAge: 600}
        - type: ResponseHeaderModifier
          responseHeaderModifier: {set: [{name: X-Frame-Options, value: DENY}], remove: [Server]}
        - {type: RequestMirror, requestMirror: {backendRef: {name: audit, port: 80}, percent: 10}}
      backendRefs:
        - {name: api-v1, port: 80, weight: 90, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Version, value: "1"}], remove: [X-Debug]}}]}
        - {name: api-v2, port: 80, weight: 10, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: X-Version, value: "2"}]}}]}
    - matches: [{path: {value: /old}}]
      filters:
        - type: URLRewrite
          urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
      backendRefs: [{name: web, port: 80}]
`

// exampleDir is an example's files as one stream; the demo's zone, which hack/demo.sh writes for
// this machine's node, is added.
func exampleDir(t testing.TB, dir string) []byte {
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var data []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = append(append(data, b...), "\n---\n"...)
	}
	if filepath.Base(dir) == "demo" {
		data = append(data, "apiVersion: swarmgate.io/v1alpha1\nkind: Zone\nmetadata: {name: dmz}\nspec: {nodes: [node1]}\n"...)
	}
	return data
}
