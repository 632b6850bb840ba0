package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
)

// engineClientOpts choose the engine as the docker CLI does: --context, else DOCKER_HOST (unix://,
// tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, or ssh://user@host, which runs
// `docker system dial-stdio` over ssh on that host), else DOCKER_CONTEXT, else the current context
// of the docker CLI's config (`docker context use`), else the local socket.
func engineClientOpts(contextName string) ([]client.Opt, error) {
	if contextName == "" && os.Getenv(client.EnvOverrideHost) == "" {
		contextName = os.Getenv("DOCKER_CONTEXT")
		if contextName == "" {
			if cf, err := config.Load(config.Dir()); err == nil {
				contextName = cf.CurrentContext
			}
		}
	}
	if contextName != "" && contextName != "default" {
		return contextClientOpts(contextName)
	}
	if host := os.Getenv(client.EnvOverrideHost); strings.HasPrefix(host, "ssh://") {
		helper, err := connhelper.GetConnectionHelper(host)
		if err != nil {
			return nil, fmt.Errorf("DOCKER_HOST: %w", err)
		}
		return []client.Opt{client.WithHost(helper.Host), client.WithDialContext(helper.Dialer)}, nil
	}
	return []client.Opt{client.FromEnv}, nil
}

// contextClientOpts reads a docker CLI context: its endpoint, TLS material and, for ssh://, the
// connection helper.
func contextClientOpts(name string) ([]client.Opt, error) {
	s := store.New(config.ContextStoreDir(), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter(docker.DockerEndpoint, func() any { return &docker.EndpointMeta{} }),
	))
	meta, err := s.GetMetadata(name)
	if err != nil {
		return nil, fmt.Errorf("docker context %s: %w", name, err)
	}
	epMeta, err := docker.EndpointFromContext(meta)
	if err != nil {
		return nil, fmt.Errorf("docker context %s: %w", name, err)
	}
	ep, err := docker.WithTLSData(s, name, epMeta)
	if err != nil {
		return nil, fmt.Errorf("docker context %s: %w", name, err)
	}
	opts, err := ep.ClientOpts()
	if err != nil {
		return nil, fmt.Errorf("docker context %s: %w", name, err)
	}
	return opts, nil
}

// registryCredentials reads the docker CLI's credentials, as `docker login` left them (its config
// file, or the credential helper it names), and returns for an image the encoded credentials of
// its registry, "" when there are none. Nothing of them is ever printed.
func registryCredentials() (func(image string) (string, error), error) {
	cfg, err := config.Load(config.Dir())
	if err != nil {
		return nil, err
	}
	return func(image string) (string, error) {
		ref, err := reference.ParseNormalizedNamed(image)
		if err != nil {
			return "", fmt.Errorf("image reference: %w", err)
		}
		key := reference.Domain(ref)
		if key == "docker.io" {
			key = "https://index.docker.io/v1/" // where `docker login` keeps Docker Hub's
		}
		a, err := cfg.GetAuthConfig(key)
		if err != nil {
			return "", err
		}
		if a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" && a.RegistryToken == "" {
			return "", nil
		}
		return registry.EncodeAuthConfig(registry.AuthConfig{Username: a.Username, Password: a.Password, Auth: a.Auth,
			ServerAddress: a.ServerAddress, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken})
	}, nil
}
