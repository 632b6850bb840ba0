package v1alpha1

import (
	"slices"
	"strings"
)

// Gateway is an nginx service that publishes listener ports for many web apps and forwards each
// request to the backend its Routes name, over an attachable overlay network.
type Gateway struct {
	TypeMeta `json:",inline"`
	// Metadata names the gateway; the gateway's swarm service carries its qualified name.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired gateway.
	Spec GatewaySpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (g *Gateway) GetObjectMeta() *ObjectMeta { return &g.Metadata }

// DefaultGatewayImage is the nginx image a Gateway runs when spec.image is not set.
const DefaultGatewayImage = "nginx:stable"

// DefaultNetworkName is the overlay network a Gateway and its backends share unless told otherwise;
// it is the network of the blog setup swarmgate automates.
const DefaultNetworkName = "nginx_default"

// GatewaySpec is the desired state of a Gateway.
type GatewaySpec struct {
	// Image is the nginx image to run. Defaults to "nginx:stable". The image must load the
	// configuration swarmgate mounts at /etc/nginx/conf.d/default.conf.
	Image string `json:"image,omitempty"`
	// Mode is Replicated (the default) or Global (one task on every node of the zone).
	Mode ServiceMode `json:"mode,omitempty"`
	// Replicas is the number of gateway tasks in Replicated mode. Defaults to 1; not allowed in
	// Global mode.
	Replicas *int32 `json:"replicas,omitempty"`
	// Zone, when set, places the gateway's tasks on the nodes of that Zone only.
	Zone string `json:"zone,omitempty"`
	// Listeners are the ports the gateway publishes. At least one.
	Listeners []Listener `json:"listeners"`
	// Network is the overlay network the gateway reaches its backends on.
	Network GatewayNetwork `json:"network,omitempty"`
	// UpdatePolicy says how swarm rolls out a new gateway configuration.
	UpdatePolicy *UpdatePolicy `json:"updatePolicy,omitempty"`
	// RollbackPolicy says how swarm rolls back a failed update.
	RollbackPolicy *UpdatePolicy `json:"rollbackPolicy,omitempty"`
	// RestartPolicy says when swarm restarts gateway tasks.
	RestartPolicy *RestartPolicy `json:"restartPolicy,omitempty"`
	// Resources bounds and reserves CPU and memory for each gateway task.
	Resources *Resources `json:"resources,omitempty"`
	// Agent, when set, runs swarmgate's gateway agent in each task (`swarmgate gateway`, the
	// entrypoint of swarmgate's nginx image): it takes every new config from the operator
	// (`swarmgate run`) and reloads nginx in place, so a route change drops no request and the
	// config is not bound by a swarm secret's size. Without it, a new config replaces the tasks.
	Agent *GatewayAgent `json:"agent,omitempty"`
	// RequestBody bounds and streams the request bodies (uploads) of every Route attached to the
	// gateway; a Route's own requestBody overrides it. By default bodies of up to 100 MiB are
	// accepted, buffered.
	RequestBody *RequestBody `json:"requestBody,omitempty"`
	// IdleTimeout is how long a connection to a backend may stay silent, in the Gateway API's
	// duration format ("90s", "1h"): an upgraded connection (a websocket) with no message either
	// way for that long is closed, and a request whose backend sends nothing for that long (a
	// long poll) answers 504. Defaults to DefaultIdleTimeout, "1h". A rule's timeouts replace it
	// for that rule's requests, upgraded ones included: nginx times both with the same timers.
	IdleTimeout *Duration `json:"idleTimeout,omitempty"`
	// AccessLog says which requests the gateway's tasks log, one JSON line each on their standard
	// output (`docker service logs`). Unset: every request is logged.
	AccessLog *AccessLog `json:"accessLog,omitempty"`
}

// AccessLog selects the requests a gateway logs. The filters combine: with errorsOnly and
// slowerThan both set, a request that is either is logged; samplePercent then keeps a share of
// those.
type AccessLog struct {
	// Enabled, when false, logs no request. Defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// ErrorsOnly logs only the requests answered with a status of 400 or more.
	ErrorsOnly bool `json:"errorsOnly,omitempty"`
	// SlowerThan logs only the requests that took longer than this (e.g. "500ms"), counted in
	// whole milliseconds as nginx measures them.
	SlowerThan Duration `json:"slowerThan,omitempty"`
	// SamplePercent logs this share of the requests, 1 to 100, picked at random. Defaults to 100.
	SamplePercent *int32 `json:"samplePercent,omitempty"`
}

// Logs tells whether the gateway logs requests at all.
func (a *AccessLog) Logs() bool { return a == nil || a.Enabled == nil || *a.Enabled }

// GatewayAgent says how a gateway's agents reach the operator. With the operator running on the
// swarm (manifests/deploy), `agent: {}` needs nothing else: the gateway joins the operator's
// network and its agents reach the operator by its service name, with a token the operator made.
type GatewayAgent struct {
	// OperatorURL is where the gateway's tasks reach `swarmgate run` (its --listen address as
	// seen from a task), e.g. "http://10.0.0.1:9090". Unset: the URL of the operator on the
	// swarm (its --agent-url), through its network, which the gateway then joins.
	OperatorURL string `json:"operatorURL,omitempty"`
	// TokenSecret names an existing swarm secret that holds the token the agents present to the
	// operator (whose --agent-token-file holds the same). swarmgate mounts it, never changes it.
	// Unset: the token secret the operator on the swarm made (run --agent-url).
	TokenSecret string `json:"tokenSecret,omitempty"`
	// CASecret names an existing swarm secret holding the CA certificates (PEM) the agents trust
	// for an https operatorURL: those the operator's certificate (`swarmgate run
	// --tls-cert-file`) chains to. Without it they trust the image's system CAs. swarmgate
	// mounts it, never changes it.
	CASecret string `json:"caSecret,omitempty"`
}

// SectionName names a part of an object, such as a listener of a Gateway. A DNS-1123 label.
type SectionName string

// ListenerProtocol is the protocol a listener accepts.
type ListenerProtocol string

// The listener protocols.
const (
	// ProtocolHTTP is plain HTTP/1.1.
	ProtocolHTTP ListenerProtocol = "HTTP"
	// ProtocolHTTPS is HTTP over TLS, terminated by the gateway, with HTTP/2 offered by ALPN.
	ProtocolHTTPS ListenerProtocol = "HTTPS"
)

// PublishMode says how swarm publishes a port.
type PublishMode string

// The publish modes.
const (
	// PublishModeIngress publishes the port on every node through swarm's routing mesh.
	PublishModeIngress PublishMode = "Ingress"
	// PublishModeHost publishes the port only on the nodes that run a gateway task.
	PublishModeHost PublishMode = "Host"
)

// Listener is a port the gateway publishes and serves HTTP or HTTPS on.
type Listener struct {
	// Name identifies the listener within its Gateway; Routes attach to it by this name.
	Name SectionName `json:"name"`
	// Hostname, when set, limits the listener to requests for it: an exact name, or "*.example.com"
	// for any name below example.com. Routes attached to the listener serve the hostnames they
	// share with it (the Gateway API's intersection). Several listeners may share a port when
	// their hostnames differ; a request goes to the listener whose hostname matches it most
	// exactly (for HTTPS, chosen by the TLS server name), and a listener without one takes the rest.
	Hostname *Hostname `json:"hostname,omitempty"`
	// Port is the published port, 1 to 65535. nginx listens on the same port inside its task.
	Port PortNumber `json:"port"`
	// Protocol is HTTP (the default) or HTTPS (then tls is required).
	Protocol ListenerProtocol `json:"protocol,omitempty"`
	// TLS is the certificate of an HTTPS listener.
	TLS *ListenerTLS `json:"tls,omitempty"`
	// RedirectToHTTPS, on an HTTP listener, answers every request with a permanent redirect
	// (301) to the same URL over HTTPS, instead of serving the Routes attached to it.
	RedirectToHTTPS *HTTPSRedirect `json:"redirectToHTTPS,omitempty"`
	// AllowedRoutes says which Routes may attach (the Gateway API's): from the Gateway's own
	// namespace (Same, the default) or from all (All: a gateway shared by several stacks).
	AllowedRoutes *AllowedRoutes `json:"allowedRoutes,omitempty"`
	// PublishMode is Ingress (the default: every node answers through the routing mesh) or Host
	// (only nodes that run a gateway task answer; needed where the routing mesh is unavailable and
	// to keep the client address).
	PublishMode PublishMode `json:"publishMode,omitempty"`
}

// FromNamespaces says from which namespaces a listener takes Routes.
type FromNamespaces string

// The namespaces a listener takes Routes from. The Gateway API's Selector needs namespace
// labels, which stacks do not have.
const (
	NamespacesFromSame FromNamespaces = "Same"
	NamespacesFromAll  FromNamespaces = "All"
)

// AllowedRoutes are the Routes a listener takes.
type AllowedRoutes struct {
	// Namespaces the Routes may come from.
	Namespaces *RouteNamespaces `json:"namespaces,omitempty"`
	// Kinds of Routes taken (group swarmgate.io): Route, GRPCRoute. Unset: both.
	Kinds []RouteGroupKind `json:"kinds,omitempty"`
}

// RouteNamespaces says from which namespaces Routes may attach.
type RouteNamespaces struct {
	// From is Same (the Gateway's namespace; the default) or All.
	From FromNamespaces `json:"from,omitempty"`
}

// RouteGroupKind is a kind of Route.
type RouteGroupKind struct {
	// Group defaults to swarmgate.io.
	Group *string `json:"group,omitempty"`
	// Kind is Route or GRPCRoute.
	Kind string `json:"kind"`
}

// Allows tells whether the listener, of a Gateway in namespace gwNamespace, takes Routes from
// namespace routeNamespace.
func (l *Listener) Allows(gwNamespace, routeNamespace string) bool {
	from := NamespacesFromSame
	if a := l.AllowedRoutes; a != nil && a.Namespaces != nil && a.Namespaces.From != "" {
		from = a.Namespaces.From
	}
	return from == NamespacesFromAll || gwNamespace == routeNamespace
}

// AllowsKind tells whether the listener takes Routes of the kind (Route or GRPCRoute).
func (l *Listener) AllowsKind(kind Kind) bool {
	if l.AllowedRoutes == nil || len(l.AllowedRoutes.Kinds) == 0 {
		return true
	}
	return slices.ContainsFunc(l.AllowedRoutes.Kinds, func(k RouteGroupKind) bool { return Kind(k.Kind) == kind })
}

// TLSMode is how a listener handles TLS. Only Terminate is supported: nginx decrypts and routes
// by HTTP (the Gateway API's Passthrough needs TLSRoute, which swarmgate does not have).
type TLSMode string

// TLSModeTerminate ends TLS at the gateway.
const TLSModeTerminate TLSMode = "Terminate"

// The TLS options a listener's tls.options may set (the Gateway API's implementation-specific
// options).
const (
	// TLSOptionMinVersion is the oldest TLS version offered: "1.2" (the default) or "1.3".
	TLSOptionMinVersion = "swarmgate.io/min-version"
)

// ListenerTLS is the TLS configuration of an HTTPS listener.
type ListenerTLS struct {
	// Mode is Terminate, the default and only mode.
	Mode TLSMode `json:"mode,omitempty"`
	// CertificateRefs name existing swarm secrets, each holding a PEM certificate chain (leaf
	// first) followed by its PEM private key, as `swarmgate tls create-secret` makes them.
	// swarmgate mounts them into the gateway's tasks and never changes them. One or two (an
	// RSA and an ECDSA certificate, which nginx offers by what the client supports). Not with ACME.
	CertificateRefs []SecretObjectReference `json:"certificateRefs,omitempty"`
	// ACME, instead of certificateRefs, has the operator (`swarmgate run`) obtain the listener's
	// certificate for its hostname from an ACME server (HTTP-01, answered through the gateway's
	// HTTP listener, or DNS-01) and renew it before it expires. The certificate lives in a swarm
	// secret the operator owns; the gateway refuses TLS for the hostname until the first one is
	// issued.
	ACME *ACMEIssuer `json:"acme,omitempty"`
	// Options tune TLS; see TLSOptionMinVersion.
	Options map[string]string `json:"options,omitempty"`
}

// LetsEncryptDirectory is the directory of Let's Encrypt's production ACME server.
const LetsEncryptDirectory = "https://acme-v02.api.letsencrypt.org/directory"

// ACMEIssuer is an ACME server and the account swarmgate uses there.
type ACMEIssuer struct {
	// Directory is the server's directory URL. Defaults to Let's Encrypt's (LetsEncryptDirectory).
	Directory string `json:"directory,omitempty"`
	// Email is the account's contact, to which the server sends expiry warnings.
	Email string `json:"email,omitempty"`
	// DNS01, when set, proves control of the hostname with the DNS-01 challenge instead of
	// HTTP-01: the operator writes the challenge's TXT record at a DNS server. It is the way to a
	// wildcard certificate, and needs neither spec.agent nor an HTTP listener.
	DNS01 *ACMEDNS01 `json:"dns01,omitempty"`
}

// HTTP01 tells whether the issuer's certificates are proved with the HTTP-01 challenge, answered
// through the gateway (else DNS-01).
func (a *ACMEIssuer) HTTP01() bool { return a.DNS01 == nil }

// ACMEDNS01 is how the operator writes the TXT records of DNS-01 challenges. One way for now:
// RFC 2136 dynamic updates, which BIND, Knot, PowerDNS, Windows DNS and others accept.
type ACMEDNS01 struct {
	// RFC2136 sends the records to a DNS server as dynamic updates (cert-manager's names).
	RFC2136 *ACMERFC2136 `json:"rfc2136,omitempty"`
}

// The TSIG algorithms an RFC 2136 update may be signed with.
const (
	TSIGHMACSHA1   = "HMACSHA1"
	TSIGHMACSHA256 = "HMACSHA256"
	TSIGHMACSHA512 = "HMACSHA512"
)

// ACMERFC2136 is a DNS server that takes dynamic updates (RFC 2136) of the zone holding
// _acme-challenge.<hostname>, signed with a TSIG key (RFC 8945) or, where the server allows it by
// address, unsigned.
type ACMERFC2136 struct {
	// Nameserver is the server's address, "host" or "host:port" (port 53 by default), as the
	// operator reaches it.
	Nameserver string `json:"nameserver"`
	// TSIGKeyName is the name of the TSIG key, as the server's configuration calls it.
	TSIGKeyName string `json:"tsigKeyName,omitempty"`
	// TSIGAlgorithm is HMACSHA1, HMACSHA256 (the default) or HMACSHA512.
	TSIGAlgorithm string `json:"tsigAlgorithm,omitempty"`
	// TSIGSecretRef names the swarm secret holding the key's base64 secret. The operator reads it
	// where swarm mounts its service's secrets (`swarmgate run --secrets-dir`, /run/secrets): give
	// the operator's service that secret.
	TSIGSecretRef *SecretObjectReference `json:"tsigSecretRef,omitempty"`
}

// SecretObjectReference names a swarm secret.
type SecretObjectReference struct {
	// Name of the swarm secret.
	Name string `json:"name"`
}

// HTTPSRedirect says where an HTTP listener redirects.
type HTTPSRedirect struct {
	// Port of the HTTPS URL; defaults to 443 (then left out of the URL).
	Port *PortNumber `json:"port,omitempty"`
}

// Isolation says which networks a gateway shares with its backends.
type Isolation string

// The isolations.
const (
	// IsolationShared puts the gateway and every backend on one network, as the blog does.
	IsolationShared Isolation = "Shared"
	// IsolationPerRoute gives each Route a network of its own that only the gateway also joins, so
	// backends of different Routes cannot reach each other.
	IsolationPerRoute Isolation = "PerRoute"
)

// GatewayNetwork is the overlay network of a Gateway.
type GatewayNetwork struct {
	// Name of the attachable overlay network. Defaults to "nginx_default". With PerRoute isolation
	// it is the prefix of each Route's network name.
	Name string `json:"name,omitempty"`
	// Encrypted turns on IPsec encryption of the overlay's VXLAN traffic between nodes.
	Encrypted bool `json:"encrypted,omitempty"`
	// Isolation is Shared (the default) or PerRoute.
	Isolation Isolation `json:"isolation,omitempty"`
}

// Default implements Object.
func (g *Gateway) Default() {
	s := &g.Spec
	if s.Image == "" {
		s.Image = DefaultGatewayImage
	}
	if s.Mode == "" {
		s.Mode = ServiceModeReplicated
	}
	if s.Mode == ServiceModeReplicated && s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	for i := range s.Listeners {
		l := &s.Listeners[i]
		if l.Protocol == "" {
			l.Protocol = ProtocolHTTP
		}
		if l.PublishMode == "" {
			l.PublishMode = PublishModeIngress
		}
		if l.TLS != nil && l.TLS.Mode == "" {
			l.TLS.Mode = TLSModeTerminate
		}
		if l.TLS != nil && l.TLS.ACME != nil {
			a := l.TLS.ACME
			if a.Directory == "" {
				a.Directory = LetsEncryptDirectory
			}
			if r := a.DNS01; r != nil && r.RFC2136 != nil && r.RFC2136.TSIGKeyName != "" && r.RFC2136.TSIGAlgorithm == "" {
				r.RFC2136.TSIGAlgorithm = TSIGHMACSHA256
			}
		}
		if r := l.RedirectToHTTPS; r != nil && r.Port == nil {
			r.Port = ptr(PortNumber(443))
		}
	}
	if s.Network.Name == "" {
		s.Network.Name = DefaultNetworkName
	}
	if s.Network.Isolation == "" {
		s.Network.Isolation = IsolationShared
	}
	defaultUpdatePolicy(s.UpdatePolicy)
	defaultUpdatePolicy(s.RollbackPolicy)
	defaultRestartPolicy(s.RestartPolicy)
}

// Listener returns the listener with the given name, or nil.
func (g *Gateway) Listener(name SectionName) *Listener {
	for i := range g.Spec.Listeners {
		if g.Spec.Listeners[i].Name == name {
			return &g.Spec.Listeners[i]
		}
	}
	return nil
}

// HealthListener is the listener a VirtualIP tracking the gateway checks by default: its first
// HTTP listener (the health check is plain HTTP), or nil.
func (g *Gateway) HealthListener() *Listener {
	for i := range g.Spec.Listeners {
		if g.Spec.Listeners[i].Protocol != ProtocolHTTPS {
			return &g.Spec.Listeners[i]
		}
	}
	return nil
}

// Matches reports whether a listener or route hostname covers a request's host: equal, or below
// a wildcard's domain by one or more labels ("*.example.com" covers "a.b.example.com", not
// "example.com"). A wildcard host covers one whose domain is at or below its own.
func (h Hostname) Matches(host Hostname) bool {
	if h == host {
		return true
	}
	domain, wild := strings.CutPrefix(string(h), "*")
	if !wild {
		return false
	}
	other := strings.TrimPrefix(string(host), "*")
	return strings.HasSuffix(other, domain) && len(other) > len(domain)
}

// IntersectHostname is the hostname a route serves on a listener, as the Gateway API defines it:
// the more specific of the two when one covers the other; none when neither does. A listener
// without a hostname takes the route's.
func IntersectHostname(listener *Hostname, route Hostname) (Hostname, bool) {
	switch {
	case listener == nil:
		return route, true
	case listener.Matches(route):
		return route, true
	case route.Matches(*listener):
		return *listener, true
	}
	return "", false
}

// Specificity orders hostnames for choosing among listeners of one port: an exact name beats any
// wildcard, a longer wildcard beats a shorter one, and any hostname beats none (-1).
func Specificity(h *Hostname) int {
	switch {
	case h == nil:
		return -1
	case strings.HasPrefix(string(*h), "*"):
		return len(*h)
	}
	return 1 << 16
}

// DefaultIdleTimeout is how long a gateway's connections to backends may stay silent when its
// spec.idleTimeout is not set: long enough for websockets and long polls that go quiet for minutes,
// where nginx's own 60s closes them.
const DefaultIdleTimeout Duration = "1h"
