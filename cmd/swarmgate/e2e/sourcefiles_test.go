package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// TestSecretsFromSource: a Secret whose file SOPS encrypted and a Config of a plain file, both
// next to their manifest, are made into swarm objects swarmgate owns and mounted into the service
// that names them: the task sees the decrypted content (checked by size, never printed). Changed
// files rotate both: new objects, the service updated; the earlier secret is kept as its revision
// history says, the earlier config (history 0) removed. No value appears in what swarmgate prints.
func TestSecretsFromSource(t *testing.T) {
	const instance, port = "e2e-sops", 18271
	cleanup(t, instance)
	// The fixtures and their test-only age identity (reconciler/sops/testdata says what they hold).
	fixtures := filepath.Join(repoRoot, "reconciler", "sops", "testdata")
	t.Setenv("SOPS_AGE_KEY_FILE", filepath.Join(fixtures, "age-key.txt"))
	values := []string{"correct horse battery staple\n", "a longer and newer password, rotated\n"}
	configs := []string{"level = debug\n", "level = info\nformat = json\n"}
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	version := func(v int) {
		enc, err := os.ReadFile(filepath.Join(fixtures, fmt.Sprintf("db-password-v%d.enc", v+1)))
		if err != nil {
			t.Fatal(err)
		}
		write("db-password.enc", enc)
		write("app.conf", []byte(configs[v]))
	}
	write("all.yaml", fmt.Appendf(nil, `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw, namespace: sops}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_sops}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: app, namespace: sops}
spec:
  parentRefs: [{name: gw}]
  hostnames: [sops.test]
  rules: [{backendRefs: [{name: app}]}]
  services:
    - name: app
      image: swarmgate/echo:test
      port: 8888
      endpointMode: dnsrr
      env: [{name: SERVICE, value: app}, {name: FILES, value: "/run/secrets/db-password,/etc/app.conf"}]
      secrets: [{name: db-password, mode: "0400"}]
      configs: [{name: app-conf, target: /etc/app.conf}]
      stopGracePeriod: 1s
---
apiVersion: swarmgate.io/v1alpha1
kind: Secret
metadata: {name: db-password, namespace: sops}
spec: {file: db-password.enc}
---
apiVersion: swarmgate.io/v1alpha1
kind: Config
metadata: {name: app-conf, namespace: sops}
spec: {file: app.conf, revisionHistoryLimit: 0}
`, port))
	var printed []string
	run := func(args ...string) result {
		r := mustSucceed(t, append(args, "--instance", instance)...)
		printed = append(printed, r.stdout, r.stderr)
		return r
	}
	sees := func(v int) func() error {
		return func() error {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
			req.Host = "sops.test"
			resp, err := httpClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var reply struct {
				Files map[string]struct {
					Size int64 `json:"size"`
				} `json:"files"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
				return err
			}
			if s, c := reply.Files["/run/secrets/db-password"].Size, reply.Files["/etc/app.conf"].Size; s != int64(len(values[v])) || c != int64(len(configs[v])) {
				return fmt.Errorf("the task sees a secret of %d bytes and a config of %d, want version %d's", s, c, v+1)
			}
			return nil
		}
	}

	version(0)
	run("apply", "-f", dir, "--wait", "--timeout", "50s")
	eventually(t, 30*time.Second, sees(0))

	version(1)
	d := swarmgate(t, "diff", "-f", dir, "--instance", instance)
	printed = append(printed, d.stdout, d.stderr)
	if d.code != 1 || !strings.Contains(d.stdout, "secret/sops_db-password-") || !strings.Contains(d.stdout, "service/sops_app") {
		t.Errorf("diff: exit %d, want 1 naming the new secret and the service\n%s%s", d.code, d.stdout, d.stderr)
	}
	a := run("apply", "-f", dir, "--wait", "--timeout", "50s")
	if !strings.Contains(a.stdout, "rotated") || !strings.Contains(a.stdout, "service/sops_app updated") {
		t.Errorf("apply of the changed files:\n%s", a.stdout)
	}
	eventually(t, 30*time.Second, sees(1))
	_, secrets, _ := owned(t, instance)
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return !strings.HasPrefix(s, "sops_db-password-") })
	if len(secrets) != 2 {
		t.Errorf("secrets of the Secret %v, want both versions (the earlier one kept as history)", secrets)
	}
	list, err := docker.ConfigList(context.Background(), swarm.ConfigListOptions{Filters: filters.NewArgs(filters.Arg("label", "swarmgate.io/owner=Config/app-conf"), filters.Arg("label", "swarmgate.io/role=source-file"))})
	if err != nil || len(list) != 1 {
		t.Errorf("configs of the Config: %d, %v; want the new one only (revisionHistoryLimit 0)", len(list), err)
	}
	for _, out := range printed {
		for _, v := range values {
			if strings.Contains(out, strings.TrimSpace(v)) {
				t.Errorf("a secret's value is printed:\n%s", out)
			}
		}
	}
}
