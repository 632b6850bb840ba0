package stackimport

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// convert imports the stack files of testdata/dir, checks the manifests validate as apply would
// take them, and returns them.
func convert(t *testing.T, dir string, o Options) ([]byte, *Result) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	stacks, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(context.Background(), stacks, o)
	if err != nil {
		t.Fatal(err)
	}
	out, err := res.YAML("test")
	if err != nil {
		t.Fatal(err)
	}
	objs, errs := manifest.Decode("import.yaml", out)
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatalf("the import does not validate: %v\n%s", errs, out)
	}
	return out, res
}

// TestImportBlog: the blog's three stack files become its Gateway and two Routes, as the golden
// file holds them.
func TestImportBlog(t *testing.T) {
	out, res := convert(t, "blog", Options{Gateway: "http-gateway", BackendPort: 8888, Env: map[string]string{}})
	golden := filepath.Join("testdata", "blog.golden")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(out) {
		t.Errorf("import differs from %s (go test -update):\n%s", golden, out)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool {
		return strings.Contains(n, "image http-gateway and its nginx config are replaced")
	}) {
		t.Errorf("notes %q", res.Notes)
	}
}

// TestImportServiceFields: labels of Traefik and caddy name hosts and ports; secrets, configs,
// volumes, health check, placement, policies, resources, networks and interpolated variables
// carry over.
func TestImportServiceFields(t *testing.T) {
	_, res := convert(t, "app", Options{Gateway: "edge", Port: 8080, Env: map[string]string{"SHOP_DB": "postgres://db/shop"}})
	routes := map[string]*v1alpha1.Route{}
	for _, o := range res.Objects {
		switch o := o.(type) {
		case *v1alpha1.Route:
			routes[o.Metadata.Name] = o
		case *v1alpha1.Gateway:
			if o.Spec.Listeners[0].Port != 8080 || o.Spec.Network.Name != "nginx_default" {
				t.Errorf("gateway %+v", o.Spec)
			}
		}
	}
	web := routes["web"]
	if web == nil || routes["admin"] == nil {
		t.Fatalf("routes %v", routes)
	}
	svc := web.Spec.Services[0]
	checks := map[string]bool{
		"hosts from the Traefik rule":   slices.Equal(web.Spec.Hostnames, []v1alpha1.Hostname{"shop.example.com", "www.shop.example.com"}),
		"port from the Traefik label":   *svc.Port == 3000,
		"image, interpolated default":   svc.Image == "registry.example.com/shop/web:1.0",
		"entrypoint and command":        slices.Equal(svc.Command, []string{"/app/web"}) && slices.Equal(svc.Args, []string{"--listen", ":3000"}),
		"environment, interpolated":     len(svc.Env) == 2 && svc.Env[1] == v1alpha1.EnvVar{Name: "SHOP_DB", Value: "postgres://db/shop"},
		"secret by its swarm name":      svc.Secrets[0] == v1alpha1.FileMount{Name: "shop_db_password", Target: "db-password", Mode: "0400"},
		"config":                        svc.Configs[0].Name == "web_conf" && svc.Configs[0].Target == "/etc/web.conf",
		"volume by its name, bind, tmp": len(svc.Mounts) == 3 && svc.Mounts[0].Source == "shop_uploads" && svc.Mounts[1].ReadOnly && svc.Mounts[2].Size == "67108864",
		"health check":                  svc.Healthcheck != nil && svc.Healthcheck.Test[0] == "CMD" && *svc.Healthcheck.Retries == 3 && *svc.Healthcheck.StartPeriod == "5s",
		"extension field merged":        svc.RestartPolicy != nil && svc.RestartPolicy.Condition == "any" && *svc.UpdatePolicy.Parallelism == 2,
		"placement":                     svc.Placement != nil && svc.Placement.Constraints[0] == "node.labels.zone==dmz" && svc.Placement.Preferences[0].Spread == "node.labels.rack",
		"resources":                     svc.Resources.Limits.CPUs == "0.5" && svc.Resources.Limits.Memory == "268435456",
		"dnsrr, replicas, grace":        svc.EndpointMode == v1alpha1.EndpointModeDNSRR && *svc.Replicas == 3 && *svc.StopGracePeriod == "30s",
		"the other external network":    slices.Equal(svc.Networks, []string{"shop_backend"}),
		"labels without the proxy's":    len(web.Metadata.Labels) == 1 && web.Metadata.Labels["team"] == "shop",
		"caddy host and port":           routes["admin"].Spec.Hostnames[0] == "admin.shop.example.com" && *routes["admin"].Spec.Services[0].Port == 9000,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s: service %+v", name, svc)
		}
	}
}

// importStack imports one stack file's content and checks the result validates as apply would
// take it; it returns the Routes by name and the notes.
func importStack(t *testing.T, content string, o Options) (map[string]*v1alpha1.Route, []string) {
	t.Helper()
	if o.Env == nil {
		o.Env = map[string]string{}
	}
	res, err := Convert(context.Background(), []Stack{{Name: "s", File: "s.yaml", Content: []byte(content)}}, o)
	if err != nil {
		t.Fatal(err)
	}
	out, err := res.YAML("test")
	if err != nil {
		t.Fatal(err)
	}
	objs, errs := manifest.Decode("import.yaml", out)
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatalf("the import does not validate: %v\n%s", errs, out)
	}
	routes := map[string]*v1alpha1.Route{}
	for _, o := range res.Objects {
		if r, ok := o.(*v1alpha1.Route); ok {
			routes[r.Metadata.Name] = r
		}
	}
	return routes, res.Notes
}

// traefikService is a stack of one service, whoami, with these deploy labels.
func traefikService(labels ...string) string {
	var b strings.Builder
	b.WriteString("services:\n  whoami:\n    image: traefik/whoami\n    deploy:\n      labels:\n")
	for _, l := range labels {
		fmt.Fprintf(&b, "        - %q\n", l)
	}
	return b.String()
}

const whoamiPort = "traefik.http.services.whoami.loadbalancer.server.port=80"

func prefix(p string) *v1alpha1.PathMatch {
	return &v1alpha1.PathMatch{Type: v1alpha1.PathMatchPathPrefix, Value: p}
}

// TestImportTranslatesLabels: what Traefik and caddy-docker-proxy labels route becomes Route
// matches and filters that route exactly that.
func TestImportTranslatesLabels(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stack    string
		want     v1alpha1.RouteSpec // hostnames and rules of the Route whoami
		wantNote string
	}{
		{
			name:  "host and path prefix: only the prefix",
			stack: traefikService("traefik.http.routers.w.rule=Host(`whoami.ux.test`) && PathPrefix(`/api`)", whoamiPort),
			want: v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"whoami.ux.test"},
				Rules: []v1alpha1.RouteRule{{Matches: []v1alpha1.RouteMatch{{Path: prefix("/api")}}, BackendRefs: []v1alpha1.BackendRef{{Name: "whoami"}}}}},
		},
		{
			name:  "v2 hosts and paths as alternatives, exact path",
			stack: traefikService("traefik.http.routers.w.rule=Host(`a.test`, `b.test`) && (Path(`/x`) || PathPrefix(`/y`, `/z`))", whoamiPort),
			want: v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"a.test", "b.test"},
				Rules: []v1alpha1.RouteRule{{Matches: []v1alpha1.RouteMatch{
					{Path: &v1alpha1.PathMatch{Type: v1alpha1.PathMatchExact, Value: "/x"}}, {Path: prefix("/y")}, {Path: prefix("/z")}},
					BackendRefs: []v1alpha1.BackendRef{{Name: "whoami"}}}}},
		},
		{
			name:  "v2 method, headers and query",
			stack: traefikService("traefik.http.routers.w.rule=Host(`a.test`) && Method(`post`) && Headers(`X-Key`, `k1`) && Query(`q=1`)", whoamiPort),
			want: v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"a.test"},
				Rules: []v1alpha1.RouteRule{{Matches: []v1alpha1.RouteMatch{{Method: "POST",
					Headers: []v1alpha1.HeaderMatch{{Name: "X-Key", Value: "k1"}}, QueryParams: []v1alpha1.QueryParamMatch{{Name: "q", Value: "1"}}}},
					BackendRefs: []v1alpha1.BackendRef{{Name: "whoami"}}}}},
		},
		{
			name:  "v3 header and query",
			stack: traefikService("traefik.http.routers.w.rule=Host(`a.test`) && Header(`X-Key`, `k1`) && Query(`q`, `1`)", whoamiPort),
			want: v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"a.test"},
				Rules: []v1alpha1.RouteRule{{Matches: []v1alpha1.RouteMatch{{
					Headers: []v1alpha1.HeaderMatch{{Name: "X-Key", Value: "k1"}}, QueryParams: []v1alpha1.QueryParamMatch{{Name: "q", Value: "1"}}}},
					BackendRefs: []v1alpha1.BackendRef{{Name: "whoami"}}}}},
		},
		{
			name: "stripprefix: the prefix matched is replaced",
			stack: traefikService("traefik.http.routers.w.rule=Host(`a.test`) && PathPrefix(`/api`)", "traefik.http.routers.w.middlewares=strip",
				"traefik.http.middlewares.strip.stripprefix.prefixes=/api", whoamiPort),
			want: v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"a.test"},
				Rules: []v1alpha1.RouteRule{{Matches: []v1alpha1.RouteMatch{{Path: prefix("/api")}},
					Filters: []v1alpha1.RouteFilter{{Type: v1alpha1.FilterURLRewrite, URLRewrite: &v1alpha1.URLRewrite{
						Path: &v1alpha1.PathModifier{Type: v1alpha1.ReplacePrefixMatch, ReplacePrefixMatch: "/"}}}},
					BackendRefs: []v1alpha1.BackendRef{{Name: "whoami"}}}}},
		},
		{
			name: "redirectscheme and custom headers",
			stack: traefikService("traefik.http.routers.r.rule=Host(`a.test`) && PathPrefix(`/old`)", "traefik.http.routers.r.middlewares=tohttps@docker",
				"traefik.http.middlewares.tohttps.redirectscheme.scheme=https", "traefik.http.middlewares.tohttps.redirectscheme.permanent=true",
				"traefik.http.routers.w.rule=Host(`a.test`)", "traefik.http.routers.w.middlewares=hdr",
				"traefik.http.middlewares.hdr.headers.customRequestHeaders.X-Env=prod", "traefik.http.middlewares.hdr.headers.customrequestheaders.X-Drop=",
				"traefik.http.middlewares.hdr.headers.customResponseHeaders.X-Served=swarmgate", whoamiPort),
			want: v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"a.test"},
				Rules: []v1alpha1.RouteRule{
					{Matches: []v1alpha1.RouteMatch{{Path: prefix("/old")}}, Filters: []v1alpha1.RouteFilter{{Type: v1alpha1.FilterRequestRedirect,
						RequestRedirect: &v1alpha1.RequestRedirect{Scheme: "https", StatusCode: ptr(int32(301))}}}},
					{Filters: []v1alpha1.RouteFilter{
						{Type: v1alpha1.FilterRequestHeaderModifier, RequestHeaderModifier: &v1alpha1.HeaderModifier{
							Set: []v1alpha1.HTTPHeader{{Name: "X-Env", Value: "prod"}}, Remove: []v1alpha1.HeaderName{"X-Drop"}}},
						{Type: v1alpha1.FilterResponseHeaderModifier, ResponseHeaderModifier: &v1alpha1.HeaderModifier{
							Set: []v1alpha1.HTTPHeader{{Name: "X-Served", Value: "swarmgate"}}}}},
						BackendRefs: []v1alpha1.BackendRef{{Name: "whoami"}}}}},
		},
		{
			name:     "tls: routed, and said",
			stack:    traefikService("traefik.http.routers.w.rule=Host(`a.test`)", "traefik.http.routers.w.tls.certresolver=le", whoamiPort),
			want:     v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"a.test"}, Rules: []v1alpha1.RouteRule{{BackendRefs: []v1alpha1.BackendRef{{Name: "whoami"}}}}},
			wantNote: "router w serves HTTPS only (label traefik.http.routers.w.tls.certresolver)",
		},
		{
			name:     "caddy site",
			stack:    "services:\n  whoami:\n    image: traefik/whoami\n    deploy:\n      labels:\n        caddy: a.test, http://b.test\n        caddy.reverse_proxy: '{{upstreams 8080}}'\n",
			want:     v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"a.test", "b.test"}, Rules: []v1alpha1.RouteRule{{BackendRefs: []v1alpha1.BackendRef{{Name: "whoami"}}}}},
			wantNote: "caddy serves a.test over HTTPS",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			routes, notes := importStack(t, tc.stack, Options{Gateway: "gw"})
			r := routes["whoami"]
			if r == nil {
				t.Fatalf("no Route whoami; notes %q", notes)
			}
			got := v1alpha1.RouteSpec{Hostnames: r.Spec.Hostnames, Rules: r.Spec.Rules}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if tc.wantNote != "" && !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, tc.wantNote) }) {
				t.Errorf("notes %q, want one with %q", notes, tc.wantNote)
			}
		})
	}
}

// TestImportNeverRoutesWider: labels whose meaning a Route cannot carry leave the service
// without a Route, and a note names the service, the router and the label; the import goes on.
func TestImportNeverRoutesWider(t *testing.T) {
	rule := func(r string) string { return traefikService("traefik.http.routers.w.rule="+r, whoamiPort) }
	for _, tc := range []struct {
		name, stack, note string
	}{
		{"HostRegexp", rule("HostRegexp(`{sub:[a-z]+}.example.com`)"), "router w: label traefik.http.routers.w.rule: HostRegexp has no Route match"},
		{"no Host", rule("PathPrefix(`/api`)"), "router w: label traefik.http.routers.w.rule: an alternative without Host matches every host"},
		{"negation", rule("!Host(`a.example.com`)"), "router w: label traefik.http.routers.w.rule: negation"},
		{"negated path", rule("Host(`a.test`) && !PathPrefix(`/admin`)"), "label traefik.http.routers.w.rule: negation"},
		{"one host wider than the other", rule("(Host(`a.test`) && PathPrefix(`/api`)) || Host(`b.test`)"), "routes different requests on different hosts"},
		{"path regexp", rule("Host(`a.test`) && PathRegexp(`^/a.*`)"), "PathRegexp has no Route match"},
		{"path variable", rule("Host(`a.test`) && Path(`/u/{id:[0-9]+}`)"), "Path with a {variable}"},
		{"query without value", rule("Host(`a.test`) && Query(`debug`)"), "a Query with a name only"},
		{"syntax", rule("Host(`a.test`"), "label traefik.http.routers.w.rule: expected"},
		{"no rule", traefikService("traefik.enable=true", whoamiPort), "no traefik.http.routers.NAME.rule label"},
		{"unknown middleware", traefikService("traefik.http.routers.w.rule=Host(`a.test`)", "traefik.http.routers.w.middlewares=auth",
			"traefik.http.middlewares.auth.basicauth.users=u:h", whoamiPort), "router w: middleware auth (basicauth) has no swarmgate filter"},
		{"middleware of another provider", traefikService("traefik.http.routers.w.rule=Host(`a.test`)", "traefik.http.routers.w.middlewares=auth@file", whoamiPort),
			"router w: middleware auth@file is not defined"},
		{"stripprefix of a path not matched", traefikService("traefik.http.routers.w.rule=Host(`a.test`)", "traefik.http.routers.w.middlewares=s",
			"traefik.http.middlewares.s.stripprefix.prefixes=/api", whoamiPort), "router w: middleware s strips a prefix"},
		{"routers with different hosts", traefikService("traefik.http.routers.a.rule=Host(`a.test`) && PathPrefix(`/api`)", "traefik.http.routers.b.rule=Host(`b.test`)", whoamiPort),
			"routers route different hosts"},
		{"caddy matcher", "services:\n  whoami:\n    image: traefik/whoami\n    deploy:\n      labels:\n        caddy: a.test\n        caddy.reverse_proxy: '/api/* {{upstreams 80}}'\n",
			"label caddy.reverse_proxy: want {{upstreams}}"},
		{"caddy directive", "services:\n  whoami:\n    image: traefik/whoami\n    deploy:\n      labels:\n        caddy: a.test\n        caddy.basicauth.u: hash\n        caddy.reverse_proxy: '{{upstreams 80}}'\n",
			"label caddy.basicauth.u: a caddy directive"},
		{"caddy without host", "services:\n  whoami:\n    image: traefik/whoami\n    deploy:\n      labels:\n        caddy: ':80'\n        caddy.reverse_proxy: '{{upstreams 80}}'\n",
			"label caddy: a site address without a host"},
		{"a host apply refuses", rule("Host(`a.test:8080`)"), "Route whoami would not validate: "},
		{"a method nginx does not know", rule("Host(`a.test`) && Method(`BREW`)"), "Route whoami would not validate: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A routed service next to it shows the import goes on.
			stack := tc.stack + "  other:\n    image: traefik/whoami\n    ports: ['8080:80']\n"
			routes, notes := importStack(t, stack, Options{Gateway: "gw", BackendPort: 8888})
			if routes["whoami"] != nil {
				t.Errorf("a Route for whoami: %+v", routes["whoami"].Spec)
			}
			if routes["other"] == nil {
				t.Errorf("no Route for the other service")
			}
			want := "service whoami: not routed, no Route made: "
			if !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, want) && strings.Contains(n, tc.note) }) {
				t.Errorf("notes %q, want %q ... %q", notes, want, tc.note)
			}
		})
	}
}

// TestImportEntrypoints: a Traefik gateway's entrypoints become its listeners, and each router
// attaches to its entrypoints' listeners only: the redirect on web, the service on websecure.
func TestImportEntrypoints(t *testing.T) {
	stack := `services:
  traefik:
    image: traefik:v3.1
    command: [--providers.swarm, --entrypoints.web.address=:80, --entryPoints.websecure.address=:443]
    ports: ["80:80", "443:443"]
  whoami:
    image: traefik/whoami
    deploy:
      labels:
        traefik.http.routers.http.rule: Host(` + "`a.test`" + `)
        traefik.http.routers.http.entrypoints: web
        traefik.http.routers.http.middlewares: tohttps
        traefik.http.middlewares.tohttps.redirectscheme.scheme: https
        traefik.http.routers.https.rule: Host(` + "`a.test`" + `)
        traefik.http.routers.https.entrypoints: websecure
        traefik.http.routers.https.tls: "true"
        traefik.http.services.whoami.loadbalancer.server.port: "80"
`
	routes, notes := importStack(t, stack, Options{Gateway: "traefik"})
	web, secure := routes["whoami"], routes["whoami-websecure"]
	if web == nil || secure == nil {
		t.Fatalf("routes %v, notes %q", routes, notes)
	}
	if !reflect.DeepEqual(web.Spec.ParentRefs, []v1alpha1.ParentRef{{Name: "traefik", SectionName: "web"}}) || web.Spec.Rules[0].Filters[0].Type != v1alpha1.FilterRequestRedirect || len(web.Spec.Services) != 1 {
		t.Errorf("whoami %+v", web.Spec)
	}
	if !reflect.DeepEqual(secure.Spec.ParentRefs, []v1alpha1.ParentRef{{Name: "traefik", SectionName: "websecure"}}) || secure.Spec.Rules[0].BackendRefs[0].Name != "whoami" || len(secure.Spec.Services) != 0 {
		t.Errorf("whoami-websecure %+v", secure.Spec)
	}
	// An entrypoint the Gateway has no listener for is refused, not attached to all of them.
	routes, notes = importStack(t, strings.ReplaceAll(stack, "entrypoints: websecure", "entrypoints: admin"), Options{Gateway: "traefik"})
	if routes["whoami"] != nil || !slices.ContainsFunc(notes, func(n string) bool {
		return strings.Contains(n, "entrypoint admin (label traefik.http.routers.https.entrypoints) is none of the Gateway's listeners")
	}) {
		t.Errorf("routes %v, notes %q", routes, notes)
	}
}

// TestImportBounds: files a stack names are read by the reading rules of manifests, the
// substitutions are bounded, and numbers too large for swarmgate's fields are refused, naming the
// file, service and field, rather than truncated.
func TestImportBounds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, make([]byte, manifest.MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	svc := "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n"
	for _, tc := range []struct {
		name, stack, want string
	}{
		{"include of a FIFO", "include: [" + fifo + "]\n" + svc, "include[0]: " + fifo + ": is not a regular file"},
		{"include of /dev/zero", "include:\n  - path: /dev/zero\n" + svc, "include[0].path: /dev/zero: is not a regular file"},
		{"include's env_file", "include:\n  - path: other.yaml\n    env_file: /dev/zero\n" + svc, "include[0].env_file: /dev/zero: is not a regular file"},
		{"env_file of a FIFO", svc + "    env_file: [" + fifo + "]\n", "services.web.env_file: " + fifo + ": is not a regular file"},
		{"env_file as a map", svc + "    env_file:\n      - path: /dev/zero\n        required: false\n", "services.web.env_file: /dev/zero: is not a regular file"},
		{"label_file", svc + "    label_file: /dev/zero\n", "services.web.label_file: /dev/zero"},
		{"extends a huge file", svc + "    extends: {file: " + huge + ", service: x}\n", "services.web.extends.file: " + huge + ": is larger than 8 MiB"},
		{"a file named by a variable", svc + "    env_file: ${HOME}/x\n", "services.web.env_file names a file with a ${variable}"},
		{"quadratic substitutions", svc + "    environment:\n      V: \"" + strings.Repeat("${A:-b}", 20000) + "\"\n", "20000 '$' (variable substitutions), over the 1000"},
		{"replicas over 32 bits", svc + "    deploy: {replicas: 4294967297}\n", "service web: deploy.replicas: out of range"},
		{"parallelism over 32 bits", svc + "    deploy: {update_config: {parallelism: 4294967297}}\n", "service web: deploy.update_config.parallelism: out of range"},
		{"port over 16 bits", "services:\n  web:\n    image: nginx\n    ports:\n      - {target: 4294967376, published: '8080'}\n", "service web: ports[0].target: not a port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := Convert(context.Background(), []Stack{{Name: "s", File: filepath.Join(dir, "s.yaml"), Content: []byte(tc.stack)}},
					Options{Gateway: "gw", Env: map[string]string{}})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "s.yaml") {
					t.Errorf("got %v, want an error naming s.yaml and %q", err, tc.want)
				}
			case <-time.After(time.Minute): // a hang, not a speed target
				t.Fatal("the import still reads")
			}
		})
	}
}

// TestImportUnroutedServices: a stack's services that no label or flag routes (a database, a
// worker, one traefik.enable=false turns off) become Services on the Gateway's network, as they
// shared the stack's; a job becomes a job Service, a hook before the services that wait for it to
// complete (depends_on condition service_completed_successfully); other depends_on become
// dependsOn.
func TestImportUnroutedServices(t *testing.T) {
	stack := `services:
  web:
    image: shop/web:2
    ports: ["8080:3000"]
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  migrate:
    image: shop/web:2
    command: [migrate]
    depends_on: [db]
    deploy:
      mode: replicated-job
      restart_policy: {condition: on-failure, max_attempts: 2}
  db:
    image: postgres:16
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck: {test: [CMD-SHELL, pg_isready]}
  worker:
    image: shop/web:2
    command: [worker]
    depends_on: [db, migrate]
  off:
    image: shop/web:2
    deploy:
      labels: [traefik.enable=false]
volumes:
  pgdata: {}
`
	res, err := Convert(context.Background(), []Stack{{Name: "shop", File: "shop.yaml", Content: []byte(stack)}}, Options{Gateway: "gw", Env: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := res.YAML("test")
	if err != nil {
		t.Fatal(err)
	}
	objs, errs := manifest.Decode("import.yaml", out)
	for _, o := range objs {
		o.Default()
	}
	if errs := validation.ValidateSnapshot(objs, errs); len(errs) > 0 {
		t.Fatalf("the import does not validate: %v\n%s", errs, out)
	}
	kinds := map[string]v1alpha1.Kind{}
	services := map[string]*v1alpha1.ServiceSpec{}
	for _, o := range res.Objects {
		kinds[o.GetObjectMeta().Name] = o.GetTypeMeta().Kind
		switch o := o.(type) {
		case *v1alpha1.Service:
			services[o.Metadata.Name] = &o.Spec
		case *v1alpha1.Route:
			services[o.Metadata.Name] = &o.Spec.Services[0].ServiceSpec
		}
	}
	want := map[string]v1alpha1.Kind{"gw": v1alpha1.KindGateway, "web": v1alpha1.KindRoute, "migrate": v1alpha1.KindService,
		"db": v1alpha1.KindService, "worker": v1alpha1.KindService, "off": v1alpha1.KindService}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("objects %v, want %v\n%s", kinds, want, out)
	}
	db, migrate, worker, web := services["db"], services["migrate"], services["worker"], services["web"]
	checks := map[string]bool{
		"db on the gateway's network, its volume, its health check": slices.Equal(db.Networks, []string{"nginx_default"}) &&
			db.Mounts[0].Source == "shop_pgdata" && db.Healthcheck != nil,
		"the migration a job, a hook before web": migrate.Mode == v1alpha1.ServiceModeReplicatedJob && migrate.UpdatePolicy == nil &&
			migrate.Hook != nil && slices.Equal(migrate.Hook.Before, []string{"web"}) && slices.Equal(migrate.DependsOn, []string{"db"}),
		"the worker after db and the migration started (depends_on's default)": slices.Equal(worker.DependsOn, []string{"db", "migrate"}),
		"web after db, not the migration (its hook)":                           slices.Equal(web.DependsOn, []string{"db"}),
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s:\n%s", name, out)
		}
	}
	for _, note := range []string{"service off: traefik.enable=false; a Service runs it, without a Route",
		"service db: no Traefik or caddy label, no published port, not on the Gateway's network nginx_default: a worker; a Service runs it, without a Route"} {
		if !slices.Contains(res.Notes, note) {
			t.Errorf("no note %q in %q", note, res.Notes)
		}
	}
}
