package v1alpha1

import "slices"

// The policy kinds follow Envoy Gateway's split by concern, which Gateway API users know:
// SecurityPolicy says who may pass (basic and forward authentication, IP lists),
// ClientTrafficPolicy how the gateway reads its clients (their real address behind a proxy),
// BackendTrafficPolicy how much traffic a client may send on (rate and connection limits).
// Each attaches to targets in the Gateway API's policy-attachment shape (targetRefs).
const (
	KindSecurityPolicy       Kind = "SecurityPolicy"
	KindClientTrafficPolicy  Kind = "ClientTrafficPolicy"
	KindBackendTrafficPolicy Kind = "BackendTrafficPolicy"
)

// IsPolicyKind tells whether k is one of the policy kinds.
func IsPolicyKind(k Kind) bool {
	return k == KindSecurityPolicy || k == KindClientTrafficPolicy || k == KindBackendTrafficPolicy
}

// PolicyTargetRef names what a policy attaches to (the Gateway API's
// LocalPolicyTargetReferenceWithSectionName): a Gateway, one of its listeners (sectionName is the
// listener's name), a Route, or one rule of a Route (sectionName is the rule's name).
type PolicyTargetRef struct {
	// Group defaults to swarmgate.io.
	Group *string `json:"group,omitempty"`
	// Kind is Gateway or Route.
	Kind Kind `json:"kind"`
	// Name of the Gateway or Route.
	Name string `json:"name"`
	// SectionName, when set, narrows the target to one listener of the Gateway or one named rule
	// of the Route.
	SectionName *SectionName `json:"sectionName,omitempty"`
}

// Policy is implemented by every policy kind.
type Policy interface {
	Object
	// Targets are the policy's targetRefs.
	Targets() []PolicyTargetRef
}

// SecurityPolicy says who may reach its targets. Where several SecurityPolicies apply to a request,
// the one on the most specific target applies, whole: a rule's before its Route's, a Route's
// before its listener's, a listener's before its Gateway's.
type SecurityPolicy struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta         `json:"metadata"`
	Spec     SecurityPolicySpec `json:"spec"`
}

// SecurityPolicySpec is what a SecurityPolicy asks for: at least one of its checks.
type SecurityPolicySpec struct {
	// TargetRefs are what it applies to. At least one, at most 16.
	TargetRefs []PolicyTargetRef `json:"targetRefs"`
	// BasicAuth asks for a user name and password.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// IPAccess admits or refuses clients by their address.
	IPAccess *IPAccess `json:"ipAccess,omitempty"`
	// ForwardAuth asks an auth service (Authelia, Authentik, oauth2-proxy) about each request.
	ForwardAuth *ForwardAuth `json:"forwardAuth,omitempty"`
}

// ForwardAuth asks an auth service about each request before it is served, with the request's
// headers (cookies, Authorization) and X-Forwarded-Method, -Proto, -Host, -Uri, -For and
// X-Original-URL saying what was asked. A 2xx answer lets the request through; 401 and 403 are
// answered to the client (with the service's WWW-Authenticate); a redirect (301, 302, 303, 307,
// 308: a login page) is answered as is, with its Location. Anything else answers 500.
type ForwardAuth struct {
	// URL is the auth service's endpoint: http or https, a swarm service's name (on the
	// gateway's network) or another host, an optional port and a path, e.g.
	// "http://authelia:9091/api/authz/forward-auth".
	URL string `json:"url"`
	// HeadersToBackend are the headers of the service's 2xx answer copied to the request the
	// backend receives, e.g. Remote-User, Remote-Groups. A client's own header of such a name
	// never reaches a backend of the gateway. At most 16.
	HeadersToBackend []HeaderName `json:"headersToBackend,omitempty"`
}

// BasicAuth asks for a user name and password (HTTP basic authentication).
type BasicAuth struct {
	// Realm is shown by browsers when they ask. Defaults to "Restricted".
	Realm string `json:"realm,omitempty"`
	// Secret is an existing swarm secret holding the users, one "user:hash" line each, as
	// htpasswd writes them. Never the passwords themselves: the manifest names the secret only.
	Secret string `json:"secret"`
}

// IPAccess admits or refuses clients by their address (the peer's, or the one a trusted proxy
// forwards: see ClientTrafficPolicy). Deny is checked first; when Allow is set, every address it
// does not list is refused. A refused client is answered 403.
type IPAccess struct {
	// Allow lists the addresses admitted, as CIDRs ("192.0.2.0/24") or addresses. At most 64.
	Allow []string `json:"allow,omitempty"`
	// Deny lists the addresses refused. At most 64.
	Deny []string `json:"deny,omitempty"`
}

// ClientTrafficPolicy says how the gateway reads its clients. It attaches to Gateways and their
// listeners only: it acts before any Route is chosen.
type ClientTrafficPolicy struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta              `json:"metadata"`
	Spec     ClientTrafficPolicySpec `json:"spec"`
}

// ClientTrafficPolicySpec is what a ClientTrafficPolicy asks for.
type ClientTrafficPolicySpec struct {
	// TargetRefs are the Gateways or listeners it applies to. At least one, at most 16.
	TargetRefs []PolicyTargetRef `json:"targetRefs"`
	// ClientIPDetection says where the client's address comes from. Required.
	ClientIPDetection *ClientIPDetection `json:"clientIPDetection"`
}

// ClientIPDetection takes the client's address from what trusted proxies (a load balancer in
// front of the gateway) say: their X-Forwarded-For header, or the PROXY protocol. Without it, the client's address is the
// peer's: right with host-mode publishing, the routing mesh's own with ingress mode.
type ClientIPDetection struct {
	// TrustedProxies are the proxies whose X-Forwarded-For is believed, as CIDRs or addresses: the
	// client is the rightmost address of the header that is not one of them. At least one, at most
	// 64.
	TrustedProxies []string `json:"trustedProxies"`
	// ProxyProtocol takes the client's address from the PROXY protocol header (v1 or v2) that the
	// trusted proxies send first on each connection, instead of from X-Forwarded-For: for a TCP
	// load balancer, which cannot add headers. Every connection to the listener's port must then
	// start with it, so all listeners sharing a port agree, and a VirtualIP cannot track the port
	// (its health check sends no PROXY header).
	ProxyProtocol bool `json:"proxyProtocol,omitempty"`
}

// BackendTrafficPolicy bounds the traffic a client sends on to its targets, and compresses what
// comes back.
type BackendTrafficPolicy struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta               `json:"metadata"`
	Spec     BackendTrafficPolicySpec `json:"spec"`
}

// BackendTrafficPolicySpec is what a BackendTrafficPolicy asks for: a limit or compression. Each
// target has its own count: a policy on two Routes limits each Route apart.
type BackendTrafficPolicySpec struct {
	// TargetRefs are what it applies to. At least one, at most 16.
	TargetRefs []PolicyTargetRef `json:"targetRefs"`
	// RateLimit bounds the requests per client address.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// ConnectionLimit bounds the connections per client address with a request in progress.
	ConnectionLimit *ConnectionLimit `json:"connectionLimit,omitempty"`
	// Compression compresses responses with gzip for clients that accept it.
	Compression *Compression `json:"compression,omitempty"`
	// SessionPersistence keeps the requests of one session on one task of the backend, for the
	// rules without a sessionPersistence of their own.
	SessionPersistence *SessionPersistence `json:"sessionPersistence,omitempty"`
}

// Compression compresses responses with gzip, for clients that accept it, when the backend did
// not already.
type Compression struct {
	// ContentTypes are the media types compressed ("text/html" always is). Defaults to
	// DefaultCompressedTypes. At most 32.
	ContentTypes []string `json:"contentTypes,omitempty"`
	// MinLength is the smallest response compressed, in bytes, as its Content-Length says.
	// Defaults to 1024.
	MinLength *int32 `json:"minLength,omitempty"`
}

// DefaultCompressedTypes are the media types Compression compresses by default: text that
// shrinks well.
var DefaultCompressedTypes = []string{"text/css", "text/plain", "text/xml", "text/javascript", "application/javascript",
	"application/json", "application/xml", "image/svg+xml"}

// DefaultCompressionMinLength is Compression's smallest response by default.
const DefaultCompressionMinLength = 1024

// RateUnit is the time a rate counts requests over.
type RateUnit string

// The rate units.
const (
	RateUnitSecond RateUnit = "Second"
	RateUnitMinute RateUnit = "Minute"
)

// RateLimit bounds the requests of each client address, for the whole gateway: the limit is shared
// among the gateway's tasks (each takes its part), so it holds when requests spread evenly.
type RateLimit struct {
	// Requests is how many a client may make per Unit. At least 1.
	Requests int32 `json:"requests"`
	// Unit is Second (the default) or Minute.
	Unit RateUnit `json:"unit,omitempty"`
	// Burst is how many requests above the rate are served anyway (at once), before the status is
	// answered. Defaults to 0.
	Burst *int32 `json:"burst,omitempty"`
	// StatusCode answers the requests over the limit: 400 to 599, 429 by default.
	StatusCode *int32 `json:"statusCode,omitempty"`
}

// ConnectionLimit bounds the connections of each client address that have a request in progress,
// for the whole gateway (shared among its tasks, as RateLimit is).
type ConnectionLimit struct {
	// Connections is how many a client may have. At least 1.
	Connections int32 `json:"connections"`
	// StatusCode answers the requests over the limit: 400 to 599, 429 by default.
	StatusCode *int32 `json:"statusCode,omitempty"`
}

// DefaultRealm is BasicAuth's realm when none is given.
const DefaultRealm = "Restricted"

// DefaultLimitStatus answers the requests over a rate or connection limit.
const DefaultLimitStatus = 429

// GetObjectMeta implements Object.
func (p *SecurityPolicy) GetObjectMeta() *ObjectMeta { return &p.Metadata }

// GetObjectMeta implements Object.
func (p *ClientTrafficPolicy) GetObjectMeta() *ObjectMeta { return &p.Metadata }

// GetObjectMeta implements Object.
func (p *BackendTrafficPolicy) GetObjectMeta() *ObjectMeta { return &p.Metadata }

// Targets implements Policy.
func (p *SecurityPolicy) Targets() []PolicyTargetRef { return p.Spec.TargetRefs }

// Targets implements Policy.
func (p *ClientTrafficPolicy) Targets() []PolicyTargetRef { return p.Spec.TargetRefs }

// Targets implements Policy.
func (p *BackendTrafficPolicy) Targets() []PolicyTargetRef { return p.Spec.TargetRefs }

// Default implements Object.
func (p *SecurityPolicy) Default() {
	if a := p.Spec.BasicAuth; a != nil && a.Realm == "" {
		a.Realm = DefaultRealm
	}
}

// Default implements Object. A ClientTrafficPolicy has no optional fields with defaults.
func (p *ClientTrafficPolicy) Default() {}

// Default implements Object.
func (p *BackendTrafficPolicy) Default() {
	p.Spec.SessionPersistence.Default()
	if r := p.Spec.RateLimit; r != nil {
		if r.Unit == "" {
			r.Unit = RateUnitSecond
		}
		if r.Burst == nil {
			r.Burst = ptr(int32(0))
		}
		if r.StatusCode == nil {
			r.StatusCode = ptr(int32(DefaultLimitStatus))
		}
	}
	if c := p.Spec.ConnectionLimit; c != nil && c.StatusCode == nil {
		c.StatusCode = ptr(int32(DefaultLimitStatus))
	}
	if c := p.Spec.Compression; c != nil {
		if len(c.ContentTypes) == 0 {
			c.ContentTypes = slices.Clone(DefaultCompressedTypes)
		}
		if c.MinLength == nil {
			c.MinLength = ptr(int32(DefaultCompressionMinLength))
		}
	}
}
