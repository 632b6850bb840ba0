package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/registry"
)

// TestRegistryCredentials: the credentials `docker login` left are found by the image's registry,
// Docker Hub's under its historical key, and an image of a registry without any gets none.
func TestRegistryCredentials(t *testing.T) {
	dir := t.TempDir()
	auth := func(user, pass string) string { return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)) }
	conf := `{"auths": {"registry.example.test:5000": {"auth": "` + auth("ci", "s3cret") + `"}, "https://index.docker.io/v1/": {"auth": "` + auth("hubuser", "hubpass") + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	creds, err := registryCredentials()
	if err != nil {
		t.Fatal(err)
	}
	for image, user := range map[string]string{
		"registry.example.test:5000/shop/web:1.0": "ci",
		"nginx:stable":             "hubuser",
		"other.example.test/app:1": "",
	} {
		encoded, err := creds(image)
		if err != nil {
			t.Fatalf("%s: %v", image, err)
		}
		if user == "" {
			if encoded != "" {
				t.Errorf("%s: credentials sent to a registry without any", image)
			}
			continue
		}
		raw, err := base64.URLEncoding.DecodeString(encoded)
		if err != nil {
			t.Fatalf("%s: %v", image, err)
		}
		var a registry.AuthConfig
		if err := json.Unmarshal(raw, &a); err != nil || a.Username != user {
			t.Errorf("%s: %+v %v, want user %s", image, a, err, user)
		}
	}
}
