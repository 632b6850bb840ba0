package v1alpha1

import (
	"net/url"
	"regexp"
	"strings"
)

// Route routes HTTP requests for its hostnames from a Gateway's listener to backend swarm services:
// services the Route runs itself (spec.services) or services that already exist on the swarm.
// It follows the Gateway API's HTTPRoute.
type Route struct {
	TypeMeta `json:",inline"`
	// Metadata names the route.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired route.
	Spec RouteSpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (r *Route) GetObjectMeta() *ObjectMeta { return &r.Metadata }

// RouteSpec is the desired state of a Route.
type RouteSpec struct {
	// ParentRefs are the gateways (and optionally listeners) the route attaches to. At least one.
	ParentRefs []ParentRef `json:"parentRefs"`
	// Hostnames are the virtual hosts the route serves, matched against the request's Host header.
	// A hostname is lowercase, may start with "*." to cover any one or more leading labels, and is
	// never an IP address. At least one.
	Hostnames []Hostname `json:"hostnames"`
	// Rules say which requests go where. At least one.
	Rules []RouteRule `json:"rules"`
	// Services are swarm services the route runs and owns; backendRefs name them like any service.
	Services []RouteService `json:"services,omitempty"`
	// RequestBody bounds and streams the request bodies (uploads) of the route's requests; each
	// field set here overrides its Gateway's spec.requestBody.
	RequestBody *RequestBody `json:"requestBody,omitempty"`
}

// Hostname is a DNS name, optionally with a leading "*." wildcard label.
type Hostname string

// ParentRef names a Gateway, and optionally one of its listeners, that a Route attaches to.
type ParentRef struct {
	// Name of the Gateway.
	Name string `json:"name"`
	// Namespace, when set, is the Gateway's namespace, checked: gateway names are unique
	// across namespaces here, so unset names the Gateway whatever its namespace (the Gateway API
	// defaults to the Route's). Whether the Gateway takes the Route is its listeners'
	// allowedRoutes.
	Namespace string `json:"namespace,omitempty"`
	// SectionName is the listener; unset attaches the route to every listener of the gateway.
	SectionName SectionName `json:"sectionName,omitempty"`
}

// RouteRule is a set of matches, the filters applied to matching requests, and the backends that
// serve them.
type RouteRule struct {
	// Name, when set, names the rule within its Route (the Gateway API's rules[].name): unique
	// there, a DNS-1123 label, shown in the generated config.
	Name *SectionName `json:"name,omitempty"`
	// Timeouts bound how long the gateway waits for the backend (the Gateway API's
	// rules[].timeouts); a request that takes longer answers 504.
	Timeouts *RouteTimeouts `json:"timeouts,omitempty"`
	// Retry has the gateway try a failed request again (the Gateway API's rules[].retry), on
	// another address of the backend: nginx retries only across the addresses a name resolves to.
	Retry *RouteRetry `json:"retry,omitempty"`
	// SessionPersistence keeps the requests of one session on one task of the backend (the
	// Gateway API's rules[].sessionPersistence).
	SessionPersistence *SessionPersistence `json:"sessionPersistence,omitempty"`
	// Matches are ORed: a request that satisfies any one of them is handled by this rule. Unset
	// means one match of path prefix "/".
	Matches []RouteMatch `json:"matches,omitempty"`
	// Filters modify matching requests and responses, or redirect them.
	Filters []RouteFilter `json:"filters,omitempty"`
	// BackendRefs are the services that serve matching requests, sharing them by weight. A rule
	// without backends (and without a redirect) answers 500.
	BackendRefs []BackendRef `json:"backendRefs,omitempty"`
}

// PathMatchType says how a path match compares the request path.
type PathMatchType string

// The path match types.
const (
	// PathMatchExact matches the path exactly.
	PathMatchExact PathMatchType = "Exact"
	// PathMatchPathPrefix matches whole path elements: "/abc" matches "/abc" and "/abc/x", not "/abcd".
	PathMatchPathPrefix PathMatchType = "PathPrefix"
)

// RouteMatch is a set of conditions that are ANDed: a request matches when all of them hold.
type RouteMatch struct {
	// Path matches the request path. Defaults to prefix "/".
	Path *PathMatch `json:"path,omitempty"`
	// Headers match request headers, all of them.
	Headers []HeaderMatch `json:"headers,omitempty"`
	// QueryParams match query parameters, all of them.
	QueryParams []QueryParamMatch `json:"queryParams,omitempty"`
	// Method matches the request method, e.g. GET.
	Method HTTPMethod `json:"method,omitempty"`
}

// PathMatch matches the request path.
type PathMatch struct {
	// Type is Exact or PathPrefix (the default).
	Type PathMatchType `json:"type,omitempty"`
	// Value is an absolute path, e.g. "/api". Defaults to "/".
	Value string `json:"value,omitempty"`
}

// MatchType says how a header or query parameter value is compared.
type MatchType string

// MatchExact compares values exactly; the only match type of v1alpha1.
const MatchExact MatchType = "Exact"

// HeaderName is an HTTP header name: an RFC 7230 token, compared case-insensitively.
type HeaderName string

// HeaderMatch matches one request header.
type HeaderMatch struct {
	// Type is Exact, the default and only type.
	Type MatchType `json:"type,omitempty"`
	// Name of the header.
	Name HeaderName `json:"name"`
	// Value the header must have.
	Value string `json:"value"`
}

// QueryParamMatch matches one query parameter.
type QueryParamMatch struct {
	// Type is Exact, the default and only type.
	Type MatchType `json:"type,omitempty"`
	// Name of the query parameter: letters, digits and '_'. nginx, which compares them, ignores the
	// case of names (where the Gateway API asks for an exact match): "Debug" also matches "debug".
	Name string `json:"name"`
	// Value the parameter must have, compared exactly with the value as sent (not percent-decoded),
	// of its first occurrence.
	Value string `json:"value"`
}

// HTTPMethod is an HTTP request method.
type HTTPMethod string

// FilterType names a RouteFilter.
type FilterType string

// The filter types.
const (
	FilterRequestHeaderModifier  FilterType = "RequestHeaderModifier"
	FilterResponseHeaderModifier FilterType = "ResponseHeaderModifier"
	FilterRequestRedirect        FilterType = "RequestRedirect"
	FilterURLRewrite             FilterType = "URLRewrite"
	FilterRequestMirror          FilterType = "RequestMirror"
	FilterCORS                   FilterType = "CORS"
)

// RouteFilter changes a request or response on its way. Exactly the field named by Type is set.
type RouteFilter struct {
	// Type is RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite,
	// RequestMirror or CORS.
	Type FilterType `json:"type"`
	// RequestHeaderModifier changes the headers sent to the backend.
	RequestHeaderModifier *HeaderModifier `json:"requestHeaderModifier,omitempty"`
	// ResponseHeaderModifier changes the headers sent to the client.
	ResponseHeaderModifier *HeaderModifier `json:"responseHeaderModifier,omitempty"`
	// RequestRedirect answers with a redirect instead of forwarding the request.
	RequestRedirect *RequestRedirect `json:"requestRedirect,omitempty"`
	// URLRewrite changes the host or path the backend sees.
	URLRewrite *URLRewrite `json:"urlRewrite,omitempty"`
	// RequestMirror sends a copy of each request (or of a share of them) to another service,
	// whose answers are thrown away. A rule may have several.
	RequestMirror *RequestMirror `json:"requestMirror,omitempty"`
	// CORS answers cross-origin preflight requests at the gateway and marks the answers to
	// allowed origins (the Gateway API's CORS filter).
	CORS *CORSFilter `json:"cors,omitempty"`
}

// CORSFilter is the Gateway API's CORS filter. A preflight request (OPTIONS with Origin and
// Access-Control-Request-Method) is answered 204 by the gateway, with the CORS headers when its
// origin is allowed (Access-Control-Expose-Headers included, as the Gateway API's conformance
// cases expect) and without them otherwise; other requests go to the backends, and their answers
// to an allowed origin carry Access-Control-Allow-Origin (and -Credentials, -Expose-Headers).
type CORSFilter struct {
	// AllowOrigins are "scheme://host[:port]" origins (http or https; the scheme's port is
	// assumed when left out); a host may start with "*", which covers any labels to its left;
	// "*" alone allows every origin. At most 64.
	AllowOrigins []string `json:"allowOrigins,omitempty"`
	// AllowCredentials adds Access-Control-Allow-Credentials: true; the wildcards are then
	// answered with the request's own origin, method and headers, as browsers require.
	AllowCredentials *bool `json:"allowCredentials,omitempty"`
	// AllowMethods are the methods allowed (or "*"); GET, HEAD and POST always are. At most 9.
	AllowMethods []string `json:"allowMethods,omitempty"`
	// AllowHeaders are the request headers allowed (or "*"). At most 64.
	AllowHeaders []HeaderName `json:"allowHeaders,omitempty"`
	// ExposeHeaders are the response headers scripts may read (or "*", not with credentials).
	// At most 64.
	ExposeHeaders []HeaderName `json:"exposeHeaders,omitempty"`
	// MaxAge is how long, in seconds, a browser may cache a preflight's answer. Defaults to 5.
	MaxAge int32 `json:"maxAge,omitempty"`
}

// RequestMirror is the Gateway API's request mirror: a copy of the request as the client sent it
// (method, URI, headers, body) goes to BackendRef too.
type RequestMirror struct {
	// BackendRef is the service the copies go to (a swarm service: group "", kind Service).
	BackendRef BackendRef `json:"backendRef"`
	// Percent of the requests mirrored, 0 to 100; or Fraction. Unset: all of them.
	Percent *int32 `json:"percent,omitempty"`
	// Fraction of the requests mirrored (numerator/denominator, denominator 100 by default);
	// nginx shares by percentage with two decimals, so 1/3 is 33.33%.
	Fraction *Fraction `json:"fraction,omitempty"`
}

// Fraction is a share: numerator out of denominator.
type Fraction struct {
	Numerator   int32  `json:"numerator"`
	Denominator *int32 `json:"denominator,omitempty"`
}

// HeaderModifier sets, adds and removes headers.
type HeaderModifier struct {
	// Set replaces the header's value, or adds the header if absent.
	Set []HTTPHeader `json:"set,omitempty"`
	// Add appends a value to the header.
	Add []HTTPHeader `json:"add,omitempty"`
	// Remove drops the named headers.
	Remove []HeaderName `json:"remove,omitempty"`
}

// HTTPHeader is a header name and value.
type HTTPHeader struct {
	// Name of the header.
	Name HeaderName `json:"name"`
	// Value of the header: printable characters, no CR or LF.
	Value string `json:"value"`
}

// PathModifierType says how a redirect or rewrite changes the path.
type PathModifierType string

// The path modifier types.
const (
	// ReplaceFullPath replaces the whole path.
	ReplaceFullPath PathModifierType = "ReplaceFullPath"
	// ReplacePrefixMatch replaces the part of the path the rule's PathPrefix matched.
	ReplacePrefixMatch PathModifierType = "ReplacePrefixMatch"
)

// PathModifier changes a request path.
type PathModifier struct {
	// Type is ReplaceFullPath or ReplacePrefixMatch.
	Type PathModifierType `json:"type"`
	// ReplaceFullPath is the new path, with Type ReplaceFullPath.
	ReplaceFullPath string `json:"replaceFullPath,omitempty"`
	// ReplacePrefixMatch replaces the matched prefix, with Type ReplacePrefixMatch.
	ReplacePrefixMatch string `json:"replacePrefixMatch,omitempty"`
}

// RequestRedirect answers a request with a redirect. Unset parts keep the request's own.
type RequestRedirect struct {
	// Scheme is http or https.
	Scheme string `json:"scheme,omitempty"`
	// Hostname replaces the request's host.
	Hostname Hostname `json:"hostname,omitempty"`
	// Port replaces the port; unset keeps the scheme's well-known port.
	Port *PortNumber `json:"port,omitempty"`
	// Path changes the path.
	Path *PathModifier `json:"path,omitempty"`
	// StatusCode is 301, 302 (the default), 303, 307 or 308.
	StatusCode *int32 `json:"statusCode,omitempty"`
}

// URLRewrite changes what the backend sees.
type URLRewrite struct {
	// Hostname replaces the Host header sent to the backend.
	Hostname Hostname `json:"hostname,omitempty"`
	// Path changes the path sent to the backend.
	Path *PathModifier `json:"path,omitempty"`
}

// BackendRef names a swarm service that serves requests, and its share of them.
type BackendRef struct {
	// Group and Kind say what Name names, as in the Gateway API: a swarm service is group ""
	// and kind "Service", the defaults. Another group or kind is no error in the manifest (a
	// Kubernetes manifest may carry one): the share of requests it would take answers 500 and the
	// Route reports ResolvedRefs False, reason InvalidKind, while the rest of the Route serves.
	Group *string `json:"group,omitempty"`
	Kind  *string `json:"kind,omitempty"`
	// Name of the service: one of this route's spec.services, or an existing swarm service.
	Name string `json:"name"`
	// Namespace is the stack of an existing service: the service is then "<namespace>_<name>".
	// Services of spec.services always live in the route's own namespace.
	Namespace string `json:"namespace,omitempty"`
	// Port the service listens on. Defaults to the port of the spec.services entry it names;
	// required for an existing service.
	Port *PortNumber `json:"port,omitempty"`
	// Weight is this backend's share of the rule's requests relative to the others, 0 to 1000000.
	// Defaults to 1; 0 sends it no requests.
	Weight *int32 `json:"weight,omitempty"`
	// Attach, for an existing service that is on no network its gateway reaches, adds the
	// gateway's network to it: a change to a service swarmgate did not create (its tasks are
	// replaced; a `docker stack deploy` of its stack takes the network away again, and the next
	// pass adds it back). Off by default: without it such a backend is only reported.
	Attach bool `json:"attach,omitempty"`
	// Filters apply only to the requests sent to this backend (the Gateway API's
	// backendRefs[].filters), after the rule's. Only RequestHeaderModifier here, whose header
	// names are letters, digits and '-'; put the other filters on the rule.
	Filters []RouteFilter `json:"filters,omitempty"`
}

// EndpointMode says how a service's tasks are found by name.
type EndpointMode string

// The endpoint modes.
const (
	// EndpointModeVIP gives the service one virtual IP that balances over its tasks.
	EndpointModeVIP EndpointMode = "vip"
	// EndpointModeDNSRR answers the service name with the addresses of all its tasks.
	EndpointModeDNSRR EndpointMode = "dnsrr"
)

// RouteService is a swarm service a Route runs and owns.
type RouteService struct {
	// Name of the service, a DNS-1123 label; the swarm service is named "<namespace>_<name>" when
	// the route has a namespace. Backends reach it by this name.
	Name string `json:"name"`
	// ServiceSpec is how the service runs, as a Service's spec says it; a Route's services are
	// long-running (no job modes, no hook).
	ServiceSpec `json:",inline"`
}

// MountType is the kind of a mount.
type MountType string

// The mount types.
const (
	// MountVolume is a named volume (created on each node where a task runs, if missing) or,
	// without a source, an anonymous one.
	MountVolume MountType = "volume"
	// MountBind is a path of the node's file system.
	MountBind MountType = "bind"
	// MountTmpfs is a file system in memory, gone with the task.
	MountTmpfs MountType = "tmpfs"
)

// Mount is a file system mounted into a service's tasks, as a stack file's long syntax.
type Mount struct {
	// Type is volume (the default), bind or tmpfs.
	Type MountType `json:"type,omitempty"`
	// Source is the volume's name, or the node's absolute path of a bind; none for tmpfs.
	Source string `json:"source,omitempty"`
	// Target is the absolute path in the container.
	Target string `json:"target"`
	// ReadOnly mounts it read-only.
	ReadOnly bool `json:"readOnly,omitempty"`
	// Size bounds a tmpfs, as a byte size ("64Mi").
	Size string `json:"size,omitempty"`
}

// Healthcheck is a container's health check.
type Healthcheck struct {
	// Test is the check: ["CMD", "program", "arg"...], ["CMD-SHELL", "command line"], or
	// ["NONE"] to turn the image's off.
	Test []string `json:"test"`
	// Interval between checks, Timeout of one, StartPeriod during which failures do not count;
	// Go durations ("30s").
	Interval    *Duration `json:"interval,omitempty"`
	Timeout     *Duration `json:"timeout,omitempty"`
	StartPeriod *Duration `json:"startPeriod,omitempty"`
	// Retries is how many failures in a row make the task unhealthy.
	Retries *int32 `json:"retries,omitempty"`
}

// Placement places a service's tasks, as a stack file's deploy.placement.
type Placement struct {
	// Constraints every node must meet: "node.labels.disk==ssd", "node.role!=manager".
	Constraints []string `json:"constraints,omitempty"`
	// Preferences spread the tasks over the values of node labels, in order.
	Preferences []PlacementPreference `json:"preferences,omitempty"`
	// MaxReplicasPerNode bounds a replicated service's tasks on one node; 0 or unset: no bound.
	MaxReplicasPerNode *int32 `json:"maxReplicasPerNode,omitempty"`
}

// PlacementPreference spreads tasks evenly over the values of a node label.
type PlacementPreference struct {
	// Spread is the label: "node.labels.rack".
	Spread string `json:"spread"`
}

// RouteTimeouts are a rule's timeouts, in the Gateway API's duration format ("10s", "1m30s",
// "500ms"); "0s" turns one off.
type RouteTimeouts struct {
	// Request bounds the whole request, as the client sees it.
	Request *Duration `json:"request,omitempty"`
	// BackendRequest bounds one request to the backend; at most Request.
	BackendRequest *Duration `json:"backendRequest,omitempty"`
}

// RetryableCodes are the backend answers nginx can retry a request on (proxy_next_upstream's
// http_NNN); the Gateway API allows any code from 400 to 599.
var RetryableCodes = []int32{403, 404, 429, 500, 502, 503, 504}

// RouteRetry says when the gateway retries a request. A connection error or a timeout is always
// retried (the Gateway API's HTTPRouteRetryConnectionError), so are the listed answers, non-idempotent
// requests (POST) included, as the Gateway API makes no exception for them. Retries go to
// another address of the backend: a service in endpointMode dnsrr has one per task, one in vip
// mode has a single address, which nginx does not retry.
type RouteRetry struct {
	// Codes are the backend's answers that are retried: 403, 404, 429, 500, 502, 503 or 504
	// (RetryableCodes).
	Codes []int32 `json:"codes,omitempty"`
	// Attempts is the most times one request is retried, 0 to 10; unset tries each address once.
	Attempts *int32 `json:"attempts,omitempty"`
	// Backoff, the Gateway API's minimum wait between attempts, is refused: nginx retries at
	// once and cannot wait.
	Backoff *Duration `json:"backoff,omitempty"`
}

// SessionPersistence keeps the requests of one session on one task of the backend while that task
// runs; once it is gone, they move to another. The session is a token the gateway hands the
// client (a cookie, or a response header the client sends back) when a request comes without one;
// the backend's tasks are chosen by a consistent hash of it, so a task leaving moves only its own
// sessions. The token is the gateway's, not the backend's: nginx keeps no session state, so a
// session lasts as long as the client keeps the token.
type SessionPersistence struct {
	// SessionName names the cookie or header: letters, digits and '-', at most 128. Defaults to
	// DefaultSessionName.
	SessionName string `json:"sessionName,omitempty"`
	// Type is Cookie (the default) or Header.
	Type SessionPersistenceType `json:"type,omitempty"`
	// AbsoluteTimeout ends a session this long after it started: the cookie's Max-Age. Only
	// for a cookie whose lifetimeType is Permanent, which requires it.
	AbsoluteTimeout *Duration `json:"absoluteTimeout,omitempty"`
	// IdleTimeout, the Gateway API's end of a session idle that long, is refused: nginx keeps no
	// session state to measure it by.
	IdleTimeout *Duration `json:"idleTimeout,omitempty"`
	// CookieConfig says how long the cookie lives, for type Cookie.
	CookieConfig *CookieConfig `json:"cookieConfig,omitempty"`
}

// Default fills in the session's name, type and cookie lifetime; a nil one stays nil.
func (sp *SessionPersistence) Default() {
	if sp == nil {
		return
	}
	if sp.SessionName == "" {
		sp.SessionName = DefaultSessionName
	}
	if sp.Type == "" {
		sp.Type = SessionPersistenceCookie
	}
	if sp.Type == SessionPersistenceCookie && sp.CookieConfig == nil {
		sp.CookieConfig = &CookieConfig{}
	}
	if c := sp.CookieConfig; c != nil && c.LifetimeType == "" {
		c.LifetimeType = CookieLifetimeSession
	}
}

// DefaultSessionName names the cookie or header of a SessionPersistence without a sessionName.
const DefaultSessionName = "sg-session"

// SessionPersistenceType is what carries the session's token.
type SessionPersistenceType string

// The session persistence types.
const (
	SessionPersistenceCookie SessionPersistenceType = "Cookie"
	SessionPersistenceHeader SessionPersistenceType = "Header"
)

// CookieConfig says how long a session cookie lives.
type CookieConfig struct {
	// LifetimeType is Session (the default: the browser drops the cookie when it closes) or
	// Permanent (it keeps it for absoluteTimeout).
	LifetimeType CookieLifetimeType `json:"lifetimeType,omitempty"`
}

// CookieLifetimeType is how long a session cookie lives.
type CookieLifetimeType string

// The cookie lifetime types.
const (
	CookieLifetimeSession   CookieLifetimeType = "Session"
	CookieLifetimePermanent CookieLifetimeType = "Permanent"
)

// FileMount mounts an existing swarm secret or config into a service's tasks, as a stack file's
// long syntax does.
type FileMount struct {
	// Name of the swarm secret or config.
	Name string `json:"name"`
	// Target is the file's path in the task: absolute, or a file name (under /run/secrets for a
	// secret, under / for a config). Defaults to the name.
	Target string `json:"target,omitempty"`
	// UID and GID own the file, as numbers. Default "0".
	UID string `json:"uid,omitempty"`
	GID string `json:"gid,omitempty"`
	// Mode is the file's permissions in octal, as a string ("0400"). Defaults to "0444".
	Mode string `json:"mode,omitempty"`
}

// EnvVar is an environment variable.
type EnvVar struct {
	// Name of the variable: letters, digits and '_', not starting with a digit.
	Name string `json:"name"`
	// Value of the variable.
	Value string `json:"value"`
}

// secretLikeName matches the names of environment variables that usually hold credentials.
var secretLikeName = regexp.MustCompile(`(?i)pass|secret|token|key|cred|auth|private|cert|salt|dsn|session|cookie|sign`)

// SecretLike reports whether an environment variable's value may be a credential, by its name or
// as a URL with user info ("postgres://user:pass@db"): diffs and alerts then say only that it
// changed. Other values are configuration, shown as get -o yaml shows them.
func SecretLike(name, value string) bool {
	return secretLikeName.MatchString(name) || strings.Contains(value, "://") && strings.Contains(value, "@")
}

// Default implements Object.
func (r *Route) Default() {
	for i := range r.Spec.Rules {
		rule := &r.Spec.Rules[i]
		if len(rule.Matches) == 0 {
			rule.Matches = []RouteMatch{{}}
		}
		for j := range rule.Matches {
			defaultMatch(&rule.Matches[j])
		}
		rule.SessionPersistence.Default()
		for j := range rule.BackendRefs {
			ref := &rule.BackendRefs[j]
			if ref.Weight == nil {
				ref.Weight = ptr(int32(1))
			}
			if ref.Port == nil && ref.Namespace == "" && ref.IsService() {
				if svc := r.Service(ref.Name); svc != nil && svc.Port != nil {
					ref.Port = ptr(*svc.Port)
				}
			}
		}
		for j := range rule.Filters {
			if rd := rule.Filters[j].RequestRedirect; rd != nil && rd.StatusCode == nil {
				rd.StatusCode = ptr(int32(302))
			}
			if c := rule.Filters[j].CORS; c != nil && c.MaxAge == 0 {
				c.MaxAge = 5
			}
			if m := rule.Filters[j].RequestMirror; m != nil {
				ref := &m.BackendRef
				if ref.Port == nil && ref.Namespace == "" && ref.IsService() {
					if svc := r.Service(ref.Name); svc != nil && svc.Port != nil {
						ref.Port = ptr(*svc.Port)
					}
				}
				if f := m.Fraction; f != nil && f.Denominator == nil {
					f.Denominator = ptr(int32(100))
				}
			}
		}
	}
	for i := range r.Spec.Services {
		r.Spec.Services[i].ServiceSpec.defaults()
	}
}

func defaultMatch(m *RouteMatch) {
	if m.Path == nil {
		m.Path = &PathMatch{}
	}
	if m.Path.Type == "" {
		m.Path.Type = PathMatchPathPrefix
	}
	if m.Path.Value == "" {
		m.Path.Value = "/"
	}
	for i := range m.Headers {
		if m.Headers[i].Type == "" {
			m.Headers[i].Type = MatchExact
		}
	}
	for i := range m.QueryParams {
		if m.QueryParams[i].Type == "" {
			m.QueryParams[i].Type = MatchExact
		}
	}
}

// Service returns the entry of spec.services with the given name, or nil.
func (r *Route) Service(name string) *RouteService {
	for i := range r.Spec.Services {
		if r.Spec.Services[i].Name == name {
			return &r.Spec.Services[i]
		}
	}
	return nil
}

// IsService tells whether the backendRef names a swarm service (group "", kind "Service"), the
// only kind of backend swarmgate knows.
func (ref BackendRef) IsService() bool {
	return (ref.Group == nil || *ref.Group == "") && (ref.Kind == nil || *ref.Kind == "Service")
}

// BackendServiceName is the swarm service a backendRef of this route names: "<namespace>_<name>"
// for an explicit namespace, the route's own stack for one of its spec.services, and the plain
// name otherwise.
func (r *Route) BackendServiceName(ref BackendRef) string {
	switch {
	case ref.Namespace != "":
		return StackName(ref.Namespace, ref.Name)
	case r.Service(ref.Name) != nil:
		return StackName(r.Metadata.Namespace, ref.Name)
	}
	return ref.Name
}

// AttachesTo reports whether the route attaches to listener l of gateway gw: a parentRef names
// them, and l's allowedRoutes admit the route's namespace (hostnames aside).
func (r *Route) AttachesTo(gw *Gateway, l *Listener) bool {
	if !l.Allows(gw.Metadata.Namespace, r.Metadata.Namespace) || !l.AllowsKind(r.RouteKind()) {
		return false
	}
	for _, p := range r.Spec.ParentRefs {
		if p.Refers(gw) && (p.SectionName == "" || p.SectionName == l.Name) {
			return true
		}
	}
	return false
}

// Refers tells whether the parentRef names gw.
func (p ParentRef) Refers(gw *Gateway) bool {
	return p.Name == gw.Metadata.Name && (p.Namespace == "" || p.Namespace == gw.Metadata.Namespace)
}

// DecodedPath is a path as nginx matches and forwards it: percent-decoded. Validation applies its
// rules to this form too, so an encoded character is no way around them, and two paths that
// decode alike are one path.
func DecodedPath(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		return d
	}
	return p
}
