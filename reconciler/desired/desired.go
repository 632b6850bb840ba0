// Package desired translates validated manifests into the swarm objects they call for: node labels,
// overlay networks, config secrets and services, each labelled with its owner and instance. It is
// pure: no engine access, and the same manifests always give the same state, in canonical order.
package desired

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/acme"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

// State is every swarm object a set of manifests calls for.
type State struct {
	Instance string
	// Revision is the source revision the manifests came from, if known.
	Revision string
	// NodeLabels are the labels wanted on each node, by hostname.
	NodeLabels map[string]map[string]string
	Networks   []Network
	Secrets    []Secret
	Configs    []Config
	// SourceConfigs are the configs made from the files of Configs.
	SourceConfigs []Config
	Services      []Service
	// Owners lists every manifest object ("Kind/name") of the state, including those that need
	// no swarm object of their own.
	Owners []string
	// ExternalBackends are existing services routes send traffic to: swarmgate never changes
	// them, only checks that they exist on a network their gateway reaches.
	ExternalBackends []ExternalBackend
	// InvalidBackends are backendRefs of kinds swarmgate does not know, or of services of other
	// namespaces that no ReferenceGrant permits: their share of requests answers 500 (mirrors
	// are not sent), and their route reports them (ResolvedRefs False, InvalidKind or
	// RefNotPermitted).
	InvalidBackends []InvalidBackend
	// VirtualIPs are the virtual IPs and the nodes they run on.
	VirtualIPs []VirtualIP
	// AgentConfigs are the configs of the gateways whose agents take them from the operator, by
	// the gateway's qualified name.
	AgentConfigs map[string]AgentConfig
	// Applied are the store entries of the objects: one swarm config each.
	Applied []Applied
	// Warnings are what the manifests ask for that swarmgate does not converge.
	Warnings []string

	agentBytes  int        // the size of AgentConfigs' configs, which share contract.MaxAgentConfigSize
	hooks       []hookEdge // the hooks of the services added, recorded on the others by orderHooks
	sourceFiles sourceFiles
}

// AgentConfig is what a gateway's agents take from the operator: nginx's config and the chains of
// its ACME certificates, by file name (contract.ChainFileName). Both are public: keys stay in the
// secrets the tasks mount.
type AgentConfig struct {
	// Owner is the gateway's owner key.
	Owner  string
	Config []byte
	Chains map[string][]byte
	// Metrics says the gateway's agents report its traffic (spec.agent.metrics).
	Metrics bool
}

// InvalidBackend is a backendRef that cannot be used: its owner route, what it names
// ("example.com/Bucket assets", "shop_web") and why.
type InvalidBackend struct {
	Owner  string
	Ref    string
	Reason v1alpha1.ConditionReason
	// Mirror is set for a RequestMirror's backend: not sent, rather than answering 500.
	Mirror bool
}

// MissingAnswer is what requests to a backend service that does not exist get, as a status or a
// warning says it.
type MissingAnswer string

// What a missing service answers: 500 through gateways with agents, whose configs know which
// services exist (the Gateway API's answer); 503 through the others, whose nginx cannot resolve
// the name; or each, for a route on gateways of both.
const (
	AnswersError       MissingAnswer = "500"
	AnswersUnavailable MissingAnswer = "503"
	AnswersMixed       MissingAnswer = "500 (503 through gateways without agents)"
	// AnswersRefused is a stream route's: its connections are closed.
	AnswersRefused MissingAnswer = "a closed connection"
)

// ExternalBackend is a service a route names that no manifest declares.
type ExternalBackend struct {
	Owner   string
	Service string
	// Networks are those on which the gateway can reach it; it must be on one of them.
	Networks []string
	// Answer is what a request to it gets while it does not exist.
	Answer MissingAnswer
	// Attach says the Route asks for the service to be attached to Networks[0] when it is on none
	// of them (backendRefs[].attach).
	Attach bool
	// Mirror says the Route only mirrors requests to it: while it does not exist, nothing is
	// mirrored, no request answers for it.
	Mirror bool
}

// Network is an attachable overlay network.
type Network struct {
	Name      string
	Owner     string
	Encrypted bool
	Labels    map[string]string
}

// Secret is a swarm secret; its name carries a hash of its data, so a change makes a new secret.
type Secret struct {
	Name   string
	Owner  string
	Data   []byte
	Labels map[string]string
	// Target is the path the secret is mounted at in its service's tasks.
	Target string
	// Node is the node whose keepalived reads it; empty for a gateway's config.
	Node string
	// Keep is how many earlier secrets of its owner, no longer wanted, stay on the swarm: a
	// Secret's revision history.
	Keep int
}

// Service is a swarm service. In Spec, network attachments and secret references name their
// network and secret (Target, SecretName); the applier resolves them to IDs.
type Service struct {
	Name  string
	Owner string
	Spec  swarm.ServiceSpec
	// Agent marks a gateway whose agents take new configs from the operator.
	Agent bool
	// DependsOn are the services created before this one (its dependsOn), by swarm name.
	DependsOn []string
	// Hooks are the jobs that must succeed before this service is created or updated, by swarm
	// name, sorted.
	Hooks []string
	// HookTimeout, on a hook, bounds how long a pass waits for it to finish.
	HookTimeout time.Duration
}

// hookEdge is a hook job that must succeed before another service changes.
type hookEdge struct{ job, before string }

func gatewayStopSignal(gw *v1alpha1.Gateway) string {
	if gw.Spec.Agent != nil {
		return "SIGTERM"
	}
	return "SIGQUIT"
}

// gatewaySecrets mounts the config and, for an agent, its token, and the HTTPS listeners'
// certificates (existing secrets of the user's) and ACME keys.
func gatewaySecrets(gw *v1alpha1.Gateway, config string, acme map[v1alpha1.SectionName]acmeCertificate) []*swarm.SecretReference {
	refs := []*swarm.SecretReference{{
		SecretName: config,
		File:       &swarm.SecretReferenceFileTarget{Name: contract.GatewayConfigPath, UID: "0", GID: "0", Mode: 0o444},
	}}
	if a := gw.Spec.Agent; a != nil {
		refs = append(refs, &swarm.SecretReference{SecretName: a.TokenSecret,
			File: &swarm.SecretReferenceFileTarget{Name: contract.AgentTokenPath, UID: "0", GID: "0", Mode: 0o400}})
		if a.CASecret != "" {
			refs = append(refs, &swarm.SecretReference{SecretName: a.CASecret,
				File: &swarm.SecretReferenceFileTarget{Name: contract.AgentCAPath, UID: "0", GID: "0", Mode: 0o444}})
		}
	}
	// The HTTPS listeners' certificates and keys, mounted where the config reads them: by
	// listener, so a new certificate leaves the config as it is.
	for _, l := range gw.Spec.Listeners {
		if c, ok := acme[l.Name]; ok {
			refs = append(refs, &swarm.SecretReference{SecretName: c.keySecret,
				File: &swarm.SecretReferenceFileTarget{Name: nginx.KeyFile(l.Name), UID: "0", GID: "0", Mode: 0o400}})
			continue
		}
		if l.TLS == nil {
			continue
		}
		for i, ref := range l.TLS.CertificateRefs {
			refs = append(refs, &swarm.SecretReference{SecretName: ref.Name,
				File: &swarm.SecretReferenceFileTarget{Name: nginx.CertificateFile(contract.CertDir, l.Name, i), UID: "0", GID: "0", Mode: 0o400}})
		}
	}
	return refs
}

// gatewayConfigs mounts the chains of the ACME listeners' certificates, where nginx reads them
// (a gateway without agents) or its agents find them when they start.
func gatewayConfigs(gw *v1alpha1.Gateway, acme map[v1alpha1.SectionName]acmeCertificate) []*swarm.ConfigReference {
	var refs []*swarm.ConfigReference
	for _, l := range gw.Spec.Listeners {
		if c, ok := acme[l.Name]; ok {
			refs = append(refs, &swarm.ConfigReference{ConfigName: c.chainConfig,
				File: &swarm.ConfigReferenceFileTarget{Name: nginx.ChainFile(contract.ChainDir, l.Name), UID: "0", GID: "0", Mode: 0o444}})
		}
	}
	return refs
}

// Options are what the manifests do not say.
type Options struct {
	// Instance names this swarmgate instance in ownership labels.
	Instance string
	// Revision, if set, is recorded on every object written.
	Revision string
	// Nginx tunes the rendered gateway configs.
	Nginx nginx.Options
	// Nodes are the swarm's nodes: virtual IPs run on those of them they name, and their unicast
	// adverts go to these addresses.
	Nodes []Node
	// Services are the names of the swarm's services, when known: the configs of gateways with
	// agents (which take a new config without a task replaced) then answer 500 for a backend
	// service that neither exists nor is declared, as the Gateway API says, instead of 503.
	Services []string
	// Tasks, when read (not nil), are the swarm's running tasks with their addresses: the configs
	// of gateways with agents then pool each backend's connections to its tasks (see
	// nginx.Options.Tasks). A task swarm is shutting down is not among them.
	Tasks []Task
	// Agents, when an operator on the swarm serves gateway agents, fill in what a Gateway's
	// spec.agent leaves unset; nil when none does.
	Agents *AgentDefaults
	// Issued are the ACME listeners' current certificates, by acme.Key; Certificates are
	// new ones the operator obtained, to be stored.
	Issued       map[string]acme.IssuedCertificate
	Certificates []acme.Certificate
}

// Task is a running task's address on one network.
type Task struct {
	Service, Network string
	Addr             netip.Addr
}

// taskAddrs returns the addresses, on the given networks, of each service's tasks, sorted: the
// same tasks render the same config.
func taskAddrs(tasks []Task, networks []string) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	for _, t := range tasks {
		if slices.Contains(networks, t.Network) {
			out[t.Service] = append(out[t.Service], t.Addr)
		}
	}
	for svc, addrs := range out {
		slices.SortFunc(addrs, netip.Addr.Compare)
		out[svc] = slices.Compact(addrs)
	}
	return out
}

// Build returns the state the objects call for. They must be defaulted and valid.
func Build(objs []v1alpha1.Object, opts Options) (*State, error) {
	s := &State{Instance: opts.Instance, Revision: opts.Revision, NodeLabels: map[string]map[string]string{}, AgentConfigs: map[string]AgentConfig{}}
	s.sourceFiles = sourceFiles{secrets: map[string]string{}, configs: map[string]string{}}
	opts.Nginx.Grants = v1alpha1.GrantsOf(objs)
	opts.Nginx.Policies = nginx.PoliciesOf(objs)
	opts.Nginx.StreamRoutes = v1alpha1.StreamRoutesOf(objs)
	var (
		gateways []*v1alpha1.Gateway
		routes   []*v1alpha1.Route
		services []*v1alpha1.Service
		vips     []*v1alpha1.VirtualIP
		zones    = map[string]*v1alpha1.Zone{}
	)
	for _, o := range objs {
		s.Owners = append(s.Owners, inventory.OwnerOf(o).String())
		if err := s.addApplied(o); err != nil {
			return nil, err
		}
		switch o := o.(type) {
		case *v1alpha1.Zone:
			zones[o.Metadata.Name] = o
			for _, n := range o.Spec.Nodes {
				labels := map[string]string{v1alpha1.ZoneLabel: o.Metadata.Name}
				for k, v := range o.Spec.Labels {
					labels[k] = v
				}
				s.NodeLabels[n] = labels
			}
		case *v1alpha1.Gateway:
			gateways = append(gateways, o)
		case *v1alpha1.Route:
			routes = append(routes, o)
		case *v1alpha1.GRPCRoute:
			routes = append(routes, o.AsRoute())
			opts.Nginx.GRPCRoutes = append(opts.Nginx.GRPCRoutes, o)
		case *v1alpha1.Service:
			services = append(services, o)
		case *v1alpha1.VirtualIP:
			vips = append(vips, o)
		case *v1alpha1.Secret:
			s.addSourceSecret(o)
		case *v1alpha1.Config:
			s.addSourceConfig(o)
		}
	}
	for _, gw := range gateways {
		opts := opts
		opts.Nginx.Replicas = gatewayTasks(gw, zones[gw.Spec.Zone], opts.Nodes)
		if err := s.addGateway(gw, routes, services, opts); err != nil {
			return nil, err
		}
	}
	for _, rt := range routes {
		s.addRouteServices(rt, gateways, opts.Nginx.Grants, opts.Services != nil)
	}
	for _, rt := range opts.Nginx.StreamRoutes {
		s.addStreamBackends(rt, gateways)
	}
	for _, svc := range services {
		s.addServiceObject(svc)
	}
	s.orderHooks()
	known := make(map[string]netip.Addr, len(opts.Nodes))
	for _, n := range opts.Nodes {
		known[n.Hostname] = n.Addr
	}
	for _, vip := range vips {
		if err := s.addVirtualIP(vip, zones, gateways, known); err != nil {
			return nil, err
		}
	}
	slices.Sort(s.Owners)
	slices.SortFunc(s.Networks, func(a, b Network) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(s.Secrets, func(a, b Secret) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(s.Configs, func(a, b Config) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(s.SourceConfigs, func(a, b Config) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(s.Services, func(a, b Service) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(s.VirtualIPs, func(a, b VirtualIP) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(s.Applied, func(a, b Applied) int { return cmp.Compare(a.Name, b.Name) })
	// A backend that another route declares is not external.
	declared := map[string]bool{}
	for _, svc := range s.Services {
		declared[svc.Name] = true
	}
	s.ExternalBackends = slices.DeleteFunc(s.ExternalBackends, func(b ExternalBackend) bool { return declared[b.Service] })
	return s, nil
}

// backendKind is a backendRef's "group/kind", or its kind when the group is the core one.
func backendKind(ref v1alpha1.BackendRef) string {
	kind := "Service"
	if ref.Kind != nil {
		kind = *ref.Kind
	}
	if ref.Group != nil && *ref.Group != "" {
		return *ref.Group + "/" + kind
	}
	return kind
}

// labels returns the ownership labels of an object made for owner, plus the user's labels.
func (s *State) labels(owner string, user map[string]string) map[string]string {
	l := map[string]string{
		inventory.LabelManagedBy: inventory.ManagedByValue,
		inventory.LabelInstance:  s.Instance,
		inventory.LabelOwner:     owner,
	}
	if s.Revision != "" {
		l[inventory.LabelRevision] = s.Revision
	}
	for k, v := range user {
		l[k] = v
	}
	return l
}

func (s *State) addNetwork(name, owner string, encrypted bool, user map[string]string) {
	for _, n := range s.Networks {
		if n.Name == name {
			return // two gateways may share a network; the first declares it
		}
	}
	s.Networks = append(s.Networks, Network{Name: name, Owner: owner, Encrypted: encrypted, Labels: s.labels(owner, user)})
}

// routeNetwork is the network of one Route under PerRoute isolation.
func routeNetwork(gw *v1alpha1.Gateway, rt *v1alpha1.Route) string {
	name := gw.Spec.Network.Name + "_" + rt.Metadata.QualifiedName()
	return fit(name, name, v1alpha1.MaxNetworkNameLength)
}

func (s *State) addGateway(gw *v1alpha1.Gateway, routes []*v1alpha1.Route, services []*v1alpha1.Service, opts Options) error {
	owner := inventory.OwnerOf(gw).String()
	gw, control, err := withAgentDefaults(gw, opts.Agents)
	if err != nil {
		return err
	}
	gw, acme := s.withCertificates(gw, opts)
	chains := map[string][]byte{}
	if len(acme) > 0 {
		opts.Nginx.ACMEChains = map[v1alpha1.SectionName]bool{}
		for l, c := range acme {
			opts.Nginx.ACMEChains[l] = true
			chains[contract.ChainFileName(l)] = c.chain
		}
		if gw.Spec.Agent != nil {
			opts.Nginx.ChainDir = contract.AgentChainDir
		}
	}
	metrics := gw.Spec.Agent != nil && gw.Spec.Agent.Metrics
	if metrics {
		opts.Nginx.TrafficLog = contract.TrafficSocket
	}
	if gw.Spec.Agent != nil && opts.Services != nil {
		known := map[string]bool{}
		for _, name := range opts.Services {
			known[name] = true
		}
		for _, rt := range routes {
			for _, svc := range rt.Spec.Services {
				known[v1alpha1.StackName(rt.Metadata.Namespace, svc.Name)] = true
			}
		}
		for _, svc := range services {
			known[svc.Metadata.QualifiedName()] = true
		}
		opts.Nginx.Services = known
	}
	var networks []string
	if gw.Spec.Network.Isolation == v1alpha1.IsolationPerRoute {
		for _, rt := range routes {
			if attachesToGateway(rt, gw) {
				networks = append(networks, routeNetwork(gw, rt))
			}
		}
	} else {
		networks = []string{gw.Spec.Network.Name}
	}
	// The bootstrap config, in the gateway's secret, resolves backends by name: one naming tasks
	// would change, and replace the gateway's tasks, whenever a backend's tasks do.
	conf, err := nginx.Render(gw, routes, opts.Nginx)
	var tooLarge *nginx.SizeError
	switch {
	case gw.Spec.Agent != nil && errors.As(err, &tooLarge):
		// Agents take the config from the operator, not from a secret: only the bootstrap must
		// fit one. A task that starts with this one, without routes, answers 404 until its agent
		// has the real one, a moment later.
		if conf, err = nginx.Render(gw, nil, opts.Nginx); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	switch {
	case gw.Spec.Agent != nil && opts.Tasks == nil && tooLarge == nil:
		s.AgentConfigs[gw.Metadata.QualifiedName()] = AgentConfig{Owner: owner, Config: conf, Chains: chains, Metrics: metrics}
		s.agentBytes += len(conf)
	case gw.Spec.Agent != nil:
		agentOpts := opts.Nginx
		agentOpts.MaxSize = nginx.AgentConfigBudget(contract.MaxAgentConfigSize, s.agentBytes)
		if opts.Tasks != nil {
			agentOpts.Tasks = taskAddrs(opts.Tasks, networks)
		}
		agentConf, err := nginx.Render(gw, routes, agentOpts)
		if err != nil {
			return err
		}
		s.AgentConfigs[gw.Metadata.QualifiedName()] = AgentConfig{Owner: owner, Config: agentConf, Chains: chains, Metrics: metrics}
		s.agentBytes += len(agentConf)
	}
	secret := Secret{Name: hashedName(gw.Metadata.QualifiedName()+"-conf", conf), Owner: owner, Data: conf,
		Labels: s.labels(owner, gw.Metadata.Labels), Target: contract.GatewayConfigPath}
	s.Secrets = append(s.Secrets, secret)

	for _, n := range networks {
		s.addNetwork(n, owner, gw.Spec.Network.Encrypted, gw.Metadata.Labels)
	}

	ports := make([]swarm.PortConfig, 0, len(gw.Spec.Listeners))
	for _, l := range gw.Spec.Listeners {
		protocol := swarm.PortConfigProtocolTCP
		if l.Protocol == v1alpha1.ProtocolUDP {
			protocol = swarm.PortConfigProtocolUDP
		}
		if slices.ContainsFunc(ports, func(p swarm.PortConfig) bool { return p.PublishedPort == uint32(l.Port) && p.Protocol == protocol }) {
			continue // listeners told apart by hostname (or TLS and HTTPS) share their port
		}
		mode := swarm.PortConfigPublishModeIngress
		if l.PublishMode == v1alpha1.PublishModeHost {
			mode = swarm.PortConfigPublishModeHost
		}
		ports = append(ports, swarm.PortConfig{Protocol: protocol, TargetPort: uint32(l.Port), PublishedPort: uint32(l.Port), PublishMode: mode})
	}
	stopGrace := 30 * time.Second // for a stopping task to finish its requests
	var args, env []string
	var sysctls map[string]string
	if metrics {
		sysctls = map[string]string{contract.TrafficQueueSysctl: contract.TrafficQueueLength}
	}
	if a := gw.Spec.Agent; a != nil {
		flags := contract.NewGatewayAgentFlags()
		flags.Operator, flags.Gateway = a.OperatorURL, gw.Metadata.QualifiedName()
		if a.CASecret != "" {
			flags.CAFile = contract.AgentCAPath
		}
		args = flags.Args()
		env = []string{contract.TaskEnv + "={{.Task.Name}}"}
	}
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: gw.Metadata.QualifiedName(), Labels: s.labels(owner, gw.Metadata.Labels)},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image: CanonicalImage(gw.Spec.Image),
				// nginx's $hostname is then the node's, which the health check names.
				Hostname: "{{.Node.Hostname}}",
				Args:     args,
				Env:      env,
				Sysctls:  sysctls,
				Secrets:  slices.Concat(gatewaySecrets(gw, secret.Name, acme), userFiles(gw, routes, opts.Nginx.Policies), backendCAs(gw, routes, opts.Nginx.Policies)),
				Configs:  gatewayConfigs(gw, acme),
				// A graceful stop: nginx closes its listeners and finishes in-flight requests, for
				// up to the grace period. nginx takes SIGQUIT; an agent takes SIGTERM and passes
				// nginx SIGQUIT.
				StopSignal:      gatewayStopSignal(gw),
				StopGracePeriod: &stopGrace,
			},
			Placement:     placement(gw.Spec.Zone),
			RestartPolicy: restartPolicy(gw.Spec.RestartPolicy),
			Resources:     resources(gw.Spec.Resources),
			Networks:      attachments(gatewayNetworks(networks, control)),
		},
		Mode:           mode(gw.Spec.Mode, gw.Spec.Replicas),
		UpdateConfig:   updateConfig(gw.Spec.UpdatePolicy),
		RollbackConfig: updateConfig(gw.Spec.RollbackPolicy),
		EndpointSpec:   &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP, Ports: ports},
	}
	s.addService(owner, spec)
	s.Services[len(s.Services)-1].Agent = gw.Spec.Agent != nil
	return nil
}

// gatewayNetworks are the networks a gateway's tasks join: its own and, when its agents reach the
// operator through it, the operator's (which it neither creates nor owns: the operator's stack
// does).
func gatewayNetworks(own []string, control string) []string {
	if control == "" || slices.Contains(own, control) {
		return own
	}
	return append(slices.Clone(own), control)
}

func attachesToGateway(rt *v1alpha1.Route, gw *v1alpha1.Gateway) bool {
	for i := range gw.Spec.Listeners {
		if rt.AttachesTo(gw, &gw.Spec.Listeners[i]) {
			return true
		}
	}
	return false
}

// addStreamBackends records the backends of a stream route as external: services of its
// namespace that must be on the network of the gateways it attaches to (Shared isolation, as
// validation requires).
func (s *State) addStreamBackends(rt v1alpha1.StreamRoute, gateways []*v1alpha1.Gateway) {
	owner := inventory.OwnerOf(rt).String()
	var networks []string
	for _, gw := range gateways {
		if slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool { return v1alpha1.StreamAttachesTo(rt, gw, &l) }) &&
			!slices.Contains(networks, gw.Spec.Network.Name) {
			networks = append(networks, gw.Spec.Network.Name)
		}
	}
	slices.Sort(networks)
	for _, rule := range rt.StreamRules() {
		for _, ref := range rule.BackendRefs {
			name := v1alpha1.StreamBackendServiceName(ref)
			if !ref.IsService() || slices.ContainsFunc(s.ExternalBackends, func(b ExternalBackend) bool { return b.Owner == owner && b.Service == name }) {
				continue
			}
			s.ExternalBackends = append(s.ExternalBackends, ExternalBackend{Owner: owner, Service: name, Networks: networks, Answer: AnswersRefused})
		}
	}
}

func (s *State) addRouteServices(rt *v1alpha1.Route, gateways []*v1alpha1.Gateway, grants []*v1alpha1.ReferenceGrant, servicesKnown bool) {
	owner := inventory.OwnerOf(rt).String()
	var networks []string
	// A missing service answers 500 through gateways with agents (their configs know which
	// services exist), 503 through the others.
	var answer MissingAnswer
	for _, gw := range gateways {
		if !attachesToGateway(rt, gw) {
			continue
		}
		code := AnswersUnavailable
		if gw.Spec.Agent != nil && servicesKnown {
			code = AnswersError
		}
		if answer != "" && answer != code {
			code = AnswersMixed
		}
		answer = code
		n := gw.Spec.Network.Name
		if gw.Spec.Network.Isolation == v1alpha1.IsolationPerRoute {
			n = routeNetwork(gw, rt)
		}
		if !slices.Contains(networks, n) {
			networks = append(networks, n)
		}
	}
	slices.Sort(networks)
	declared := map[string]bool{}
	for _, svc := range rt.Spec.Services {
		declared[v1alpha1.StackName(rt.Metadata.Namespace, svc.Name)] = true
	}
	for i, rule := range rt.Spec.Rules {
		if r := rule.Retry; r != nil && (r.Attempts == nil || *r.Attempts > 0) {
			for _, ref := range rule.BackendRefs {
				if svc := rt.Service(ref.Name); ref.IsService() && ref.Namespace == "" && svc != nil && svc.EndpointMode != v1alpha1.EndpointModeDNSRR {
					s.Warnings = append(s.Warnings, fmt.Sprintf("%s: rules[%d].retry: service %s has one address (endpointMode vip), so nginx has nowhere to retry; endpointMode dnsrr gives each task one", owner, i, ref.Name))
				}
			}
		}
		refs := slices.Clone(rule.BackendRefs)
		for _, f := range rule.Filters {
			if f.RequestMirror != nil {
				refs = append(refs, f.RequestMirror.BackendRef)
			}
		}
		for j, ref := range refs {
			mirror := j >= len(rule.BackendRefs)
			if !ref.IsService() {
				s.InvalidBackends = append(s.InvalidBackends, InvalidBackend{Owner: owner, Ref: backendKind(ref) + " " + ref.Name, Reason: v1alpha1.ReasonInvalidKind})
				continue
			}
			if !v1alpha1.Permits(grants, rt, ref) {
				s.InvalidBackends = append(s.InvalidBackends, InvalidBackend{Owner: owner, Ref: rt.BackendServiceName(ref), Reason: v1alpha1.ReasonRefNotPermitted, Mirror: mirror})
				continue
			}
			name := rt.BackendServiceName(ref)
			if declared[name] {
				continue
			}
			if i := slices.IndexFunc(s.ExternalBackends, func(b ExternalBackend) bool { return b.Owner == owner && b.Service == name }); i >= 0 {
				s.ExternalBackends[i].Attach = s.ExternalBackends[i].Attach || ref.Attach
				s.ExternalBackends[i].Mirror = s.ExternalBackends[i].Mirror && mirror
				continue
			}
			s.ExternalBackends = append(s.ExternalBackends, ExternalBackend{Owner: owner, Service: name, Networks: networks, Answer: answer, Attach: ref.Attach, Mirror: mirror})
		}
	}
	for i := range rt.Spec.Services {
		svc := &rt.Spec.Services[i]
		s.addService(owner, s.serviceSpec(v1alpha1.StackName(rt.Metadata.Namespace, svc.Name), owner, rt.Metadata, &svc.ServiceSpec, slices.Concat(networks, svc.Networks)))
		s.orderService(rt.Metadata.Namespace, &svc.ServiceSpec)
	}
}

// addServiceObject adds the service a Service runs, on the networks it names.
func (s *State) addServiceObject(svc *v1alpha1.Service) {
	owner := inventory.OwnerOf(svc).String()
	s.addService(owner, s.serviceSpec(svc.Metadata.QualifiedName(), owner, svc.Metadata, &svc.Spec, svc.Spec.Networks))
	s.orderService(svc.Metadata.Namespace, &svc.Spec)
}

// serviceSpec is the swarm spec of a service a Route or a Service runs, named name, on networks.
func (s *State) serviceSpec(name, owner string, meta v1alpha1.ObjectMeta, svc *v1alpha1.ServiceSpec, networks []string) swarm.ServiceSpec {
	env := make([]string, 0, len(svc.Env))
	for _, e := range svc.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	slices.Sort(env)
	endpoint := swarm.ResolutionModeVIP
	if svc.EndpointMode == v1alpha1.EndpointModeDNSRR {
		endpoint = swarm.ResolutionModeDNSRR
	}
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name, Labels: s.labels(owner, meta.Labels)},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: CanonicalImage(svc.Image), Command: svc.Command, Args: svc.Args, Env: env,
				Hostname: svc.Hostname, Secrets: secretRefs(svc.Secrets, s.sourceFiles.secrets, meta.Namespace),
				Configs: configRefs(svc.Configs, s.sourceFiles.configs, meta.Namespace), Mounts: mounts(svc.Mounts),
				Healthcheck: healthcheck(svc.Healthcheck), StopSignal: svc.StopSignal, StopGracePeriod: durationOrNil(svc.StopGracePeriod)},
			Placement:     servicePlacement(svc.Zone, svc.Placement),
			RestartPolicy: restartPolicy(svc.RestartPolicy),
			Resources:     resources(svc.Resources),
			Networks:      attachments(networks),
		},
		Mode:         mode(svc.Mode, svc.Replicas),
		UpdateConfig: updateConfig(svc.UpdatePolicy),
		EndpointSpec: &swarm.EndpointSpec{Mode: endpoint},
	}
}

// orderService records, on the service just added, what it waits for: the services it depends
// on, created before it, and the hooks that must succeed before it changes, by swarm name; and,
// on a hook, how long a pass waits for it.
func (s *State) orderService(namespace string, svc *v1alpha1.ServiceSpec) {
	added := &s.Services[len(s.Services)-1]
	for _, dep := range svc.DependsOn {
		added.DependsOn = append(added.DependsOn, v1alpha1.StackName(namespace, dep))
	}
	if h := svc.Hook; h != nil {
		added.HookTimeout = duration(*h.Timeout)
		for _, name := range h.Before {
			s.hooks = append(s.hooks, hookEdge{job: added.Name, before: v1alpha1.StackName(namespace, name)})
		}
	}
}

// orderHooks records each hook on the services it runs before, once every service is added.
func (s *State) orderHooks() {
	for _, h := range s.hooks {
		for i := range s.Services {
			if s.Services[i].Name == h.before {
				s.Services[i].Hooks = append(s.Services[i].Hooks, h.job)
			}
		}
	}
	for i := range s.Services {
		slices.Sort(s.Services[i].Hooks)
	}
}

// fileTarget is where a mount's file goes (a file name goes under dir), its owner and its mode.
func fileTarget(fm v1alpha1.FileMount, dir string) (name, uid, gid string, mode os.FileMode) {
	name, uid, gid, mode = fm.Target, fm.UID, fm.GID, 0o444
	if name == "" {
		name = fm.Name
	}
	if !strings.HasPrefix(name, "/") {
		name = path.Join(dir, name)
	}
	if uid == "" {
		uid = "0"
	}
	if gid == "" {
		gid = "0"
	}
	if fm.Mode != "" {
		if m, err := strconv.ParseUint(fm.Mode, 8, 32); err == nil { // validated
			mode = os.FileMode(m)
		}
	}
	return name, uid, gid, mode
}

// secretRefs mounts secrets by name (the applier resolves the IDs): those made from the files of
// the Secrets declared in namespace, or existing ones of the user's.
func secretRefs(mounts []v1alpha1.FileMount, declared map[string]string, namespace string) []*swarm.SecretReference {
	var out []*swarm.SecretReference
	for _, fm := range mounts {
		name, uid, gid, mode := fileTarget(fm, "/run/secrets")
		out = append(out, &swarm.SecretReference{SecretName: mounted(declared, namespace, fm.Name), File: &swarm.SecretReferenceFileTarget{Name: name, UID: uid, GID: gid, Mode: mode}})
	}
	return out
}

// configRefs mounts configs by name, as secretRefs secrets.
func configRefs(mounts []v1alpha1.FileMount, declared map[string]string, namespace string) []*swarm.ConfigReference {
	var out []*swarm.ConfigReference
	for _, fm := range mounts {
		name, uid, gid, mode := fileTarget(fm, "/")
		out = append(out, &swarm.ConfigReference{ConfigName: mounted(declared, namespace, fm.Name), File: &swarm.ConfigReferenceFileTarget{Name: name, UID: uid, GID: gid, Mode: mode}})
	}
	return out
}

// addService records a service with the hash of its spec as a label. The hash covers the spec
// swarmgate asks for, labels included, so any change to it changes the hash.
func (s *State) addService(owner string, spec swarm.ServiceSpec) {
	spec.Labels[inventory.LabelSpecHash] = SpecHash(spec)
	s.Services = append(s.Services, Service{Name: spec.Name, Owner: owner, Spec: spec})
}

// SpecHash hashes a service spec as swarmgate asked for it, without the hash and revision labels.
// encoding/json writes map keys sorted, so the hash is stable.
func SpecHash(spec swarm.ServiceSpec) string {
	labels := make(map[string]string, len(spec.Labels))
	for k, v := range spec.Labels {
		if k != inventory.LabelSpecHash && k != inventory.LabelRevision {
			labels[k] = v
		}
	}
	spec.Labels = labels
	b, err := json.Marshal(spec)
	if err != nil {
		panic(fmt.Sprintf("marshal service spec: %v", err)) // a ServiceSpec always marshals
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}
