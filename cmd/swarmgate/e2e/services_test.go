package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// TestRouteServiceSecretsAndConfigs: a Route's service mounts existing swarm secrets and configs
// where it says, with the owner and mode it says, and a named volume and a tmpfs, runs the
// command it says, with its health check passing; a config that does not exist is refused before
// any write; the secret's value appears nowhere swarmgate prints.
func TestRouteServiceSecretsAndConfigs(t *testing.T) {
	const instance, port = "e2e-files", 18197
	t.Cleanup(func() { // after the instance: its service mounts them
		removeEventually(func() error { return docker.SecretRemove(context.Background(), "e2e-files-db-password") })
		removeEventually(func() error { return docker.ConfigRemove(context.Background(), "e2e-files-app-conf") })
	})
	cleanup(t, instance)
	ctx := context.Background()
	const password = "s3cret-passw0rd"
	removeLeftover(docker.ConfigRemove, "e2e-files-app-conf")
	removeLeftover(docker.SecretRemove, "e2e-files-db-password")
	_, err := docker.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "e2e-files-db-password"}, Data: []byte(password)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = docker.ConfigCreate(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "e2e-files-app-conf"}, Data: []byte("level = debug\n")})
	if err != nil {
		t.Fatal(err)
	}
	manifest := func(config string) string {
		return fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: files-gw}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: %d, publishMode: Host}]
  network: {name: e2e_files}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: files}
spec:
  parentRefs: [{name: files-gw}]
  hostnames: [files.test]
  rules: [{backendRefs: [{name: files}]}]
  services:
    - name: files
      image: swarmgate/echo:test
      port: 8888
      endpointMode: dnsrr
      command: [/echo]
      env: [{name: SERVICE, value: files}, {name: FILES, value: "/run/secrets/db-password,/etc/app.conf,/data,/scratch"}]
      secrets: [{name: e2e-files-db-password, target: db-password, mode: "0400"}]
      configs: [{name: %s, target: /etc/app.conf}]
      mounts: [{source: e2e-files-data, target: /data}, {type: tmpfs, target: /scratch, size: 16Mi}]
      healthcheck: {test: [CMD, /echo, health], interval: 1s, timeout: 2s, retries: 3}
      stopGracePeriod: 5s
`, port, config)
	}
	missing := writeManifests(t, "missing.yaml", manifest("e2e-files-no-such-config"))
	count := proxy.Reset()
	r := swarmgate(t, "apply", "-f", missing, "--instance", instance)
	if _, writes := count(); r.code == 0 || len(writes) != 0 || !strings.Contains(r.stderr, "Route/files: config e2e-files-no-such-config does not exist") {
		t.Errorf("apply with a missing config: exit %d, writes %v\n%s", r.code, writes, r.stderr)
	}

	good := writeManifests(t, "good.yaml", manifest("e2e-files-app-conf"))
	a := mustSucceed(t, "apply", "-f", good, "--instance", instance, "--wait", "--timeout", "90s")
	var reply struct {
		Files map[string]struct {
			Size int64  `json:"size"`
			Mode string `json:"mode"`
		} `json:"files"`
	}
	eventually(t, 60*time.Second, func() error {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
		req.Host = "files.test"
		resp, err := httpClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
			return err
		}
		if s := reply.Files["/run/secrets/db-password"]; s.Size != int64(len(password)) || s.Mode != "-r--------" {
			return fmt.Errorf("the secret in the task: %+v", s)
		}
		if c := reply.Files["/etc/app.conf"]; c.Size != int64(len("level = debug\n")) || c.Mode != "-r--r--r--" {
			return fmt.Errorf("the config in the task: %+v", c)
		}
		for _, dir := range []string{"/data", "/scratch"} {
			if m := reply.Files[dir]; m.Size < 0 {
				return fmt.Errorf("no %s in the task", dir)
			}
		}
		return nil
	})
	// The health check runs and passes.
	eventually(t, 30*time.Second, func() error {
		list, err := docker.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name=files"))})
		if err != nil || len(list) == 0 {
			return fmt.Errorf("no container of files: %v", err)
		}
		c, err := docker.ContainerInspect(ctx, list[0].ID)
		if err != nil {
			return err
		}
		if c.State.Health == nil || c.State.Health.Status != "healthy" {
			return fmt.Errorf("health %+v", c.State.Health)
		}
		return nil
	})
	t.Cleanup(func() { removeEventually(func() error { return docker.VolumeRemove(ctx, "e2e-files-data", true) }) })
	g := mustSucceed(t, "get", "route", "files", "-o", "yaml", "--instance", instance)
	d := swarmgate(t, "diff", "-f", good, "--instance", instance, "--show-config")
	for _, out := range []string{a.stdout, a.stderr, g.stdout, d.stdout, d.stderr} {
		if strings.Contains(out, password) {
			t.Errorf("the secret's value is printed:\n%s", out)
		}
	}
	if d.code != 0 {
		t.Errorf("diff after apply: exit %d\n%s", d.code, d.stdout)
	}
	mustSucceed(t, "delete", "-f", good, "--instance", instance)
}
