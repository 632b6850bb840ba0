package e2e

import (
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
