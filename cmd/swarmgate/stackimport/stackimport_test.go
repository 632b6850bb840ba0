package stackimport

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

// TestImportNeedsAPort: a service nothing gives a port of is refused, naming it and the flag.
func TestImportNeedsAPort(t *testing.T) {
	stacks := []Stack{{Name: "s", File: "s.yaml", Content: []byte("services:\n  api:\n    image: api:1\n")}}
	_, err := Convert(context.Background(), stacks, Options{Gateway: "gw", Env: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "service api: no port") || !strings.Contains(err.Error(), "--backend-port") {
		t.Errorf("err %v", err)
	}
}
