package desired

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler/acme"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

// TestIssuedCertificates: where each form of an issued ACME certificate is mounted and read. A
// chain and key (this version's) are mounted by listener, the chain read where the tasks mount it
// or, for a gateway with agents, where the agents write the chains they are handed, which the
// agents' config carries. A certificate an earlier version stored (chain and key in one secret) is
// served as it was, as a file of both.
func TestIssuedCertificates(t *testing.T) {
	gateway := func(agent string) string {
		return `apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
` + agent + `  listeners:
    - {name: http, port: 80}
    - {name: shop, port: 443, protocol: HTTPS, hostname: shop.example.com, tls: {acme: {email: ops@example.com, dns01: {rfc2136: {nameserver: "10.0.0.53:53"}}}}}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: shop, port: 80}]}]
`
	}
	const withAgents = "  agent: {operatorURL: \"http://10.0.0.1:9090\", tokenSecret: agent-token}\n"
	current := acme.IssuedCertificate{Name: "gw-shop-tls-1111111111", KeySecret: "gw-shop-tlskey-2222222222", Chain: []byte("chain")}
	legacy := acme.IssuedCertificate{Name: "gw-shop-tls-3333333333", Legacy: true}
	for _, tc := range []struct {
		name, agent string
		issued      acme.IssuedCertificate
		// secrets and configs the service mounts (name -> target), what the config reads
		secrets, configs map[string]string
		reads            []string
		agentChain       bool
	}{
		{"chain and key", "", current,
			map[string]string{current.KeySecret: nginx.KeyFile("shop")}, map[string]string{current.Name: nginx.ChainFile(contract.ChainDir, "shop")},
			[]string{`ssl_certificate "/etc/swarmgate/tls/shop.crt"`, `ssl_certificate_key "/run/secrets/swarmgate-tls/shop.key"`}, false},
		{"chain and key, with agents", withAgents, current,
			map[string]string{current.KeySecret: nginx.KeyFile("shop")}, map[string]string{current.Name: nginx.ChainFile(contract.ChainDir, "shop")},
			[]string{`ssl_certificate "tls/shop.crt"`, `ssl_certificate_key "/run/secrets/swarmgate-tls/shop.key"`}, true},
		{"an earlier version's", withAgents, legacy,
			map[string]string{legacy.Name: nginx.CertificateFile(contract.CertDir, "shop", 0)}, nil,
			[]string{`ssl_certificate "/run/secrets/swarmgate-tls/shop-0.pem"`, `ssl_certificate_key "/run/secrets/swarmgate-tls/shop-0.pem"`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := buildWith(t, gateway(tc.agent), Options{Instance: "i", Issued: map[string]acme.IssuedCertificate{"gw/shop": tc.issued}})
			var svc *swarm.ContainerSpec
			var conf []byte
			for _, x := range s.Services {
				if x.Name == "gw" {
					svc = x.Spec.TaskTemplate.ContainerSpec
				}
			}
			for _, sec := range s.Secrets {
				if strings.HasPrefix(sec.Name, "gw-conf-") {
					conf = sec.Data
				}
			}
			for name, target := range tc.secrets {
				if !mountsSecret(svc.Secrets, name, target) {
					t.Errorf("secret %s not mounted at %s: %+v", name, target, svc.Secrets)
				}
			}
			for name, target := range tc.configs {
				if !mountsConfig(svc.Configs, name, target) {
					t.Errorf("config %s not mounted at %s: %+v", name, target, svc.Configs)
				}
			}
			if len(svc.Configs) != len(tc.configs) {
				t.Errorf("configs mounted: %+v, want %v", svc.Configs, tc.configs)
			}
			for _, want := range tc.reads {
				if !strings.Contains(string(conf), want) {
					t.Errorf("the config does not read %s:\n%s", want, conf)
				}
			}
			if got := s.AgentConfigs["gw"].Chains[contract.ChainFileName("shop")]; (got != nil) != tc.agentChain {
				t.Errorf("the agents are handed chain %q, want one: %v", got, tc.agentChain)
			}
		})
	}
}

func mountsSecret(refs []*swarm.SecretReference, name, target string) bool {
	for _, r := range refs {
		if r.SecretName == name && r.File != nil && r.File.Name == target {
			return true
		}
	}
	return false
}

func mountsConfig(refs []*swarm.ConfigReference, name, target string) bool {
	for _, r := range refs {
		if r.ConfigName == name && r.File != nil && r.File.Name == target {
			return true
		}
	}
	return false
}
