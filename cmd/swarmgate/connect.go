package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/connhelper"
	clicontext "github.com/docker/cli/cli/context"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/tlsconfig"
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

// dockerEndpoint is the name of a docker CLI context's engine endpoint.
const dockerEndpoint = "docker"

// contextClientOpts reads a docker CLI context: its endpoint, TLS material and, for ssh://, the
// connection helper. It reads the context store itself rather than through the CLI's
// cli/context/docker, whose client options are those of another engine client
// (github.com/moby/moby/client) since docker/cli v29.
func contextClientOpts(name string) ([]client.Opt, error) {
	s := store.New(config.ContextStoreDir(), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter(dockerEndpoint, func() any { return &clicontext.EndpointMetaBase{} }),
	))
	meta, err := s.GetMetadata(name)
	if err != nil {
		return nil, fmt.Errorf("docker context %s: %w", name, err)
	}
	ep, ok := meta.Endpoints[dockerEndpoint].(clicontext.EndpointMetaBase)
	if !ok {
		return nil, fmt.Errorf("docker context %s: has no docker endpoint", name)
	}
	tlsData, err := clicontext.LoadTLSData(s, name, dockerEndpoint)
	if err != nil {
		return nil, fmt.Errorf("docker context %s: %w", name, err)
	}
	opts, err := endpointClientOpts(ep, tlsData)
	if err != nil {
		return nil, fmt.Errorf("docker context %s: %w", name, err)
	}
	return opts, nil
}

// endpointClientOpts connect to a context's endpoint as the docker CLI does: over the connection
// helper for ssh://, over TLS with the context's material for tcp://, else (a socket) directly.
func endpointClientOpts(ep clicontext.EndpointMetaBase, tlsData *clicontext.TLSData) ([]client.Opt, error) {
	opts := []client.Opt{client.WithVersionFromEnv()}
	if ep.Host == "" {
		return opts, nil
	}
	helper, err := connhelper.GetConnectionHelper(ep.Host)
	if err != nil {
		return nil, err
	}
	if helper != nil {
		return append(opts,
			client.WithHTTPClient(&http.Client{Transport: &http.Transport{DialContext: helper.Dialer}}),
			client.WithHost(helper.Host), client.WithDialContext(helper.Dialer)), nil
	}
	if proto, _, _ := strings.Cut(ep.Host, "://"); proto != "unix" && proto != "npipe" && proto != "fd" {
		tlsConfig, err := endpointTLSConfig(ep, tlsData)
		if err != nil {
			return nil, err
		}
		if tlsConfig != nil {
			opts = append(opts, client.WithHTTPClient(&http.Client{
				Transport: &http.Transport{
					TLSClientConfig: tlsConfig,
					DialContext:     (&net.Dialer{KeepAlive: 30 * time.Second, Timeout: 30 * time.Second}).DialContext,
				},
				CheckRedirect: client.CheckRedirect,
			}))
		}
	}
	return append(opts, client.WithHost(ep.Host)), nil
}

// endpointTLSConfig is the TLS configuration of a context's endpoint: its CA, its client
// certificate and whether it skips verification; nil when it has none of them.
func endpointTLSConfig(ep clicontext.EndpointMetaBase, data *clicontext.TLSData) (*tls.Config, error) {
	if data == nil && !ep.SkipTLSVerify {
		return nil, nil
	}
	var tlsOpts []func(*tls.Config)
	if data != nil && data.CA != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data.CA) {
			return nil, errors.New("its TLS CA (ca.pem) holds no PEM certificate")
		}
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.RootCAs = pool })
	}
	if data != nil && data.Key != nil && data.Cert != nil {
		cert, err := tls.X509KeyPair(data.Cert, data.Key)
		if err != nil {
			return nil, fmt.Errorf("its TLS client certificate: %w", err)
		}
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.Certificates = []tls.Certificate{cert} })
	}
	if ep.SkipTLSVerify {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.InsecureSkipVerify = true })
	}
	return tlsconfig.ClientDefault(tlsOpts...), nil
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
