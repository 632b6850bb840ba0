package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWithRegistryAuth: apply --with-registry-auth sends the credentials `docker login` left for
// the image's registry with the service's writes (as docker stack deploy --with-registry-auth),
// without it none, and never prints them. (No registry here: the service has no task to pull.)
func TestWithRegistryAuth(t *testing.T) {
	const instance = "e2e-regauth"
	cleanup(t, instance)
	dockerConfig := t.TempDir()
	const password = "r3gistry-s3cret"
	auth := base64.StdEncoding.EncodeToString([]byte("ci:" + password))
	if err := os.WriteFile(filepath.Join(dockerConfig, "config.json"), []byte(`{"auths": {"registry.example.test:5000": {"auth": "`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	manifests := writeManifests(t, "regauth.yaml", `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: regauth-gw}
spec:
  image: swarmgate/nginx:test
  replicas: 0
  listeners: [{name: http, port: 18177, publishMode: Host}]
  network: {name: e2e_regauth}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: regauth}
spec:
  parentRefs: [{name: regauth-gw}]
  hostnames: [regauth.test]
  rules: [{backendRefs: [{name: private-app}]}]
  services: [{name: private-app, image: "registry.example.test:5000/shop/app:1.0", port: 8080, replicas: 0}]
`)
	apply := func(flags ...string) (result, []string) {
		count := proxy.Reset()
		cmd := command(append([]string{"apply", "-f", manifests, "--instance", instance}, flags...)...)
		cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+dockerConfig)
		r := runCommand(t, cmd)
		_, writes := count()
		return r, writes
	}
	r, writes := apply("--with-registry-auth")
	if r.code != 0 {
		t.Fatalf("apply: %d\n%s", r.code, r.stderr)
	}
	created := func(writes []string, withCredentials bool) bool {
		return slices.ContainsFunc(writes, func(w string) bool {
			return strings.Contains(w, "/services/create") && strings.HasSuffix(w, " with registry credentials") == withCredentials
		})
	}
	// The private app's create carries them; the gateway's image (on no registry with any) none.
	if !created(writes, true) || !created(writes, false) {
		t.Errorf("writes %v: want the private app's create with credentials and the gateway's without", writes)
	}
	if strings.Contains(r.stdout+r.stderr, password) || strings.Contains(r.stdout+r.stderr, auth) {
		t.Errorf("the credentials are printed:\n%s%s", r.stdout, r.stderr)
	}
	mustSucceed(t, "delete", "-f", manifests, "--instance", instance)
	if _, writes = apply(); created(writes, true) {
		t.Errorf("without --with-registry-auth, credentials were sent: %v", writes)
	}
	mustSucceed(t, "delete", "-f", manifests, "--instance", instance)
}
