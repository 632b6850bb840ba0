package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImportBlogStacks: the blog's three stack files (its nginx stack publishing the shared port,
// the manager and dmz stacks on the external nginx_default network), imported and applied, serve
// the blog's two virtual hosts. The images are the test's (no registry here) and the port is
// published in host mode and the services resolve in dnsrr mode (no IPVS here: no routing mesh,
// no virtual IPs).
func TestImportBlogStacks(t *testing.T) {
	const instance = "e2e-import"
	cleanup(t, instance)
	dir := t.TempDir()
	stacks := map[string]string{
		"nginx-stack.yaml": `services:
  http-gateway:
    image: http-gateway
    ports: [{target: 8080, published: 18180, mode: host}]
    deploy:
      replicas: 1
      update_config: {delay: 10s}
      restart_policy: {condition: on-failure}
`,
		"manager-stack.yaml": `services:
  managerhttp:
    image: swarmgate/echo:test
    environment: {SERVICE: managerhttp}
    networks: [nginx_default, default]
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
      update_config: {delay: 10s}
      restart_policy: {condition: on-failure}
networks:
  nginx_default: {external: true}
`,
		"dmz-stack.yaml": `services:
  dmzhttp:
    image: swarmgate/echo:test
    environment: {SERVICE: dmzhttp}
    networks: [nginx_default, default]
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
      update_config: {delay: 10s}
      restart_policy: {condition: on-failure}
networks:
  nginx_default: {external: true}
`,
	}
	args := []string{"import", "--gateway", "http-gateway", "--backend-port", "8888", "--gateway-image", "swarmgate/nginx:test"}
	for name, content := range stacks {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-f", filepath.Join(dir, name))
	}
	imported := mustSucceed(t, args...)
	if !strings.Contains(imported.stderr, "image http-gateway and its nginx config are replaced") {
		t.Errorf("import notes:\n%s", imported.stderr)
	}
	manifests := filepath.Join(dir, "swarmgate.yaml")
	if err := os.WriteFile(manifests, []byte(imported.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, "apply", "-f", manifests, "--instance", instance, "--wait", "--timeout", "90s")
	for _, host := range []string{"managerhttp", "dmzhttp"} {
		eventually(t, 60*time.Second, func() error {
			code, e, err := get(18180, host, "/")
			if err == nil && code != 200 {
				return fmt.Errorf("%s: %d", host, code)
			}
			if err == nil && e.Service != host {
				return fmt.Errorf("%s answered by %s", host, e.Service)
			}
			return err
		})
	}
	mustSucceed(t, "delete", "-f", manifests, "--instance", instance)
}

// TestImportStackWithDatabaseAndWorker: a stack's web service is routed; its database and worker,
// which nothing routes, run as Services on the Gateway's network (as on the stack's own), the
// database's volume mounted; the worker is created after the database (depends_on).
func TestImportStackWithDatabaseAndWorker(t *testing.T) {
	const instance = "e2e-import-stack"
	t.Cleanup(func() { // after the instance: its service mounts it
		removeEventually(func() error { return docker.VolumeRemove(context.Background(), "e2e-stack_data", true) })
	})
	cleanup(t, instance)
	stack := writeManifests(t, "e2e-stack.yaml", `services:
  gw:
    image: gw
    ports: [{target: 8080, published: 18262, mode: host}]
  web:
    image: swarmgate/echo:test
    environment: {SERVICE: web}
    expose: ["8888"]
    networks: [edge]
    depends_on: [db]
    deploy: {endpoint_mode: dnsrr}
  db:
    image: swarmgate/echo:test
    environment: {SERVICE: db}
    volumes: [data:/data]
    deploy: {endpoint_mode: dnsrr}
  worker:
    image: swarmgate/echo:test
    environment: {SERVICE: worker}
    depends_on: [db]
    deploy: {endpoint_mode: dnsrr}
networks:
  edge: {external: true, name: e2e_import_stack}
volumes:
  data: {}
`)
	imported := mustSucceed(t, "import", "-f", stack, "--gateway", "gw", "--gateway-image", "swarmgate/nginx:test")
	for _, note := range []string{"service db: no Traefik or caddy label, no published port, not on the Gateway's network e2e_import_stack: a worker; a Service runs it, without a Route",
		"service worker: no Traefik or caddy label"} {
		if !strings.Contains(imported.stderr, note) {
			t.Errorf("no note %q in\n%s", note, imported.stderr)
		}
	}
	manifests := writeManifests(t, "swarmgate.yaml", imported.stdout)
	applied := mustSucceed(t, "apply", "-f", manifests, "--instance", instance, "--wait", "--timeout", "60s")
	if db, worker := strings.Index(applied.stdout, "service/db created"), strings.Index(applied.stdout, "service/worker created"); db < 0 || worker < db {
		t.Errorf("the worker is not created after the database:\n%s", applied.stdout)
	}
	listed := mustSucceed(t, "get", "services", "--instance", instance)
	for _, want := range []string{"Service  db      Synced  Healthy  1/1", "Service  worker  Synced  Healthy  1/1"} {
		if !strings.Contains(listed.stdout, want) {
			t.Errorf("get services: no %q in\n%s", want, listed.stdout)
		}
	}
	eventually(t, 30*time.Second, func() error {
		code, e, err := get(18262, "web", "/")
		if err == nil && (code != 200 || e.Service != "web") {
			err = fmt.Errorf("answer %d from %q", code, e.Service)
		}
		return err
	})
	mustSucceed(t, "delete", "-f", manifests, "--instance", instance)
}
