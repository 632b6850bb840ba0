package main

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"

	"github.com/invopop/jsonschema"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

// enums are the values of the API's string types that take a fixed set, from its constants.
var enums = map[reflect.Type][]any{
	reflect.TypeFor[v1alpha1.ListenerProtocol](): {v1alpha1.ProtocolHTTP, v1alpha1.ProtocolHTTPS},
	reflect.TypeFor[v1alpha1.PublishMode]():      {v1alpha1.PublishModeIngress, v1alpha1.PublishModeHost},
	reflect.TypeFor[v1alpha1.TLSMode]():          {v1alpha1.TLSModeTerminate},
	reflect.TypeFor[v1alpha1.Isolation]():        {v1alpha1.IsolationShared, v1alpha1.IsolationPerRoute},
	reflect.TypeFor[v1alpha1.PathMatchType]():    {v1alpha1.PathMatchExact, v1alpha1.PathMatchPathPrefix},
	reflect.TypeFor[v1alpha1.MatchType]():        {v1alpha1.MatchExact},
	reflect.TypeFor[v1alpha1.FilterType](): {v1alpha1.FilterRequestHeaderModifier, v1alpha1.FilterResponseHeaderModifier,
		v1alpha1.FilterRequestRedirect, v1alpha1.FilterURLRewrite, v1alpha1.FilterRequestMirror, v1alpha1.FilterCORS},
	reflect.TypeFor[v1alpha1.PathModifierType](): {v1alpha1.ReplaceFullPath, v1alpha1.ReplacePrefixMatch},
	reflect.TypeFor[v1alpha1.ServiceMode]():      {v1alpha1.ServiceModeReplicated, v1alpha1.ServiceModeGlobal, v1alpha1.ServiceModeReplicatedJob, v1alpha1.ServiceModeGlobalJob},
	reflect.TypeFor[v1alpha1.UpdateOrder]():      {v1alpha1.UpdateOrderStopFirst, v1alpha1.UpdateOrderStartFirst},
	reflect.TypeFor[v1alpha1.FailureAction](): {v1alpha1.FailureActionPause, v1alpha1.FailureActionContinue,
		v1alpha1.FailureActionRollback},
	reflect.TypeFor[v1alpha1.RestartCondition](): {v1alpha1.RestartConditionNone, v1alpha1.RestartConditionOnFailure,
		v1alpha1.RestartConditionAny},
	reflect.TypeFor[v1alpha1.EndpointMode]():            {v1alpha1.EndpointModeVIP, v1alpha1.EndpointModeDNSRR},
	reflect.TypeFor[v1alpha1.MountType]():               {v1alpha1.MountVolume, v1alpha1.MountBind, v1alpha1.MountTmpfs},
	reflect.TypeFor[v1alpha1.FromNamespaces]():          {v1alpha1.NamespacesFromSame, v1alpha1.NamespacesFromAll},
	reflect.TypeFor[v1alpha1.SessionPersistenceType]():  {v1alpha1.SessionPersistenceCookie, v1alpha1.SessionPersistenceHeader},
	reflect.TypeFor[v1alpha1.CookieLifetimeType]():      {v1alpha1.CookieLifetimeSession, v1alpha1.CookieLifetimePermanent},
	reflect.TypeFor[v1alpha1.GRPCMethodMatchType]():     {v1alpha1.GRPCMethodMatchExact, v1alpha1.GRPCMethodMatchRegularExpression},
	reflect.TypeFor[v1alpha1.GRPCHeaderMatchType]():     {v1alpha1.GRPCHeaderMatchExact, v1alpha1.GRPCHeaderMatchRegularExpression},
	reflect.TypeFor[v1alpha1.GRPCRouteFilterType]():     anys(validation.GRPCFilterTypes()),
	reflect.TypeFor[v1alpha1.WellKnownCACertificates](): {v1alpha1.WellKnownCACertificatesSystem},
}

func anys[T any](values []T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// typeSchema maps the API's value types to what a schema can say of them: their enums, the
// patterns validation applies, and port numbers' range.
func typeSchema(t reflect.Type) *jsonschema.Schema {
	patterns := validation.SchemaPatterns()
	if values, ok := enums[t]; ok {
		return &jsonschema.Schema{Type: "string", Enum: values}
	}
	switch t {
	case reflect.TypeFor[v1alpha1.PortNumber]():
		return &jsonschema.Schema{Type: "integer", Minimum: "1", Maximum: "65535"}
	case reflect.TypeFor[v1alpha1.Hostname]():
		// A hostname is never an IP address.
		return &jsonschema.Schema{Type: "string", Pattern: patterns["hostname"], MaxLength: ptr(uint64(253)),
			Not: &jsonschema.Schema{Pattern: `^[0-9]+(\.[0-9]+){3}$`}}
	case reflect.TypeFor[v1alpha1.HeaderName]():
		return &jsonschema.Schema{Type: "string", Pattern: patterns["headerName"], MaxLength: ptr(uint64(256))}
	case reflect.TypeFor[v1alpha1.SectionName]():
		return &jsonschema.Schema{Type: "string", Pattern: patterns["dnsLabel"], MaxLength: ptr(uint64(63))}
	case reflect.TypeFor[v1alpha1.Duration]():
		return &jsonschema.Schema{Type: "string", Pattern: patterns["duration"]}
	case reflect.TypeFor[v1alpha1.HTTPMethod]():
		var methods []any
		for _, m := range validation.HTTPMethods() {
			methods = append(methods, m)
		}
		return &jsonschema.Schema{Type: "string", Enum: methods}
	}
	return nil
}

// fieldRule refines one property of one definition (a Go type of the API).
type fieldRule struct {
	def, prop string
	apply     func(*jsonschema.Schema)
}

// fieldRules are the per-field rules validation applies that a schema can say: names, images,
// list lengths, number ranges, reserved label keys: the API's constants, which validation uses too.
func fieldRules() []fieldRule {
	patterns := validation.SchemaPatterns()
	pattern := func(name string, max uint64) func(*jsonschema.Schema) {
		return func(s *jsonschema.Schema) { s.Pattern, s.MaxLength = patterns[name], ptr(max) }
	}
	items := func(min, max uint64) func(*jsonschema.Schema) {
		return func(s *jsonschema.Schema) {
			if min > 0 {
				s.MinItems = ptr(min)
			}
			if max > 0 {
				s.MaxItems = ptr(max)
			}
		}
	}
	def := func(v any) func(*jsonschema.Schema) {
		return func(s *jsonschema.Schema) { s.Default = v }
	}
	between := func(min, max int) func(*jsonschema.Schema) {
		return func(s *jsonschema.Schema) {
			s.Minimum, s.Maximum = json.Number(strconv.Itoa(min)), json.Number(strconv.Itoa(max))
		}
	}
	return []fieldRule{
		{"ObjectMeta", "name", pattern("dnsLabel", 63)},
		{"ObjectMeta", "namespace", pattern("dnsLabel", 63)},
		{"ObjectMeta", "labels", func(s *jsonschema.Schema) {
			s.PropertyNames = &jsonschema.Schema{Not: &jsonschema.Schema{Pattern: "^swarmgate\\.io/"}}
		}},
		{"GatewaySpec", "image", func(s *jsonschema.Schema) { pattern("image", 512)(s); s.Default = v1alpha1.DefaultGatewayImage }},
		{"GatewaySpec", "listeners", items(1, v1alpha1.MaxListeners)},
		{"AccessLog", "enabled", def(true)},
		{"AccessLog", "samplePercent", func(s *jsonschema.Schema) { between(1, 100)(s); s.Default = 100 }},
		{"GatewayNetwork", "name", func(s *jsonschema.Schema) {
			pattern("networkName", v1alpha1.MaxNetworkNameLength)(s)
			s.Default = v1alpha1.DefaultNetworkName
		}},
		{"RouteSpec", "parentRefs", items(1, v1alpha1.MaxParentRefs)},
		{"RouteSpec", "hostnames", items(0, v1alpha1.MaxHostnames)},
		{"RouteSpec", "rules", items(1, v1alpha1.MaxRules)},
		{"RouteSpec", "services", items(0, v1alpha1.MaxServices)},
		{"RouteService", "name", pattern("dnsLabel", 63)},
		{"RouteService", "image", pattern("image", 512)},
		{"ServiceSpec", "image", pattern("image", 512)},
		{"EnvVar", "name", pattern("envName", 1024)},
		{"BackendRef", "weight", between(0, v1alpha1.MaxWeight)},
		{"RequestRedirect", "statusCode", func(s *jsonschema.Schema) { s.Enum, s.Default = []any{301, 302, 303, 307, 308}, 302 }},
		{"RequestBody", "maxSize", func(s *jsonschema.Schema) {
			s.Pattern, s.Default = patterns["bodySize"], v1alpha1.DefaultMaxRequestBodySize
		}},
		{"RequestBody", "buffering", def(true)},
		{"GatewaySpec", "idleTimeout", def(v1alpha1.DefaultIdleTimeout)},
		{"ZoneSpec", "nodes", items(1, 0)},
		{"VirtualIPSpec", "virtualRouterID", between(v1alpha1.MinVirtualRouterID, v1alpha1.MaxVirtualRouterID)},
		{"VirtualIPSpec", "address", func(s *jsonschema.Schema) { s.Pattern = `^[0-9A-Fa-f:.]+/[0-9]{1,3}$` }}, // an address with its prefix length
		{"VirtualIPSpec", "interface", pattern("interface", 15)},
		{"VRRPNode", "priority", between(v1alpha1.MinPriority, v1alpha1.MaxPriority)},
		{"VRRPNode", "interface", pattern("interface", 15)},
		{"VRRPAuth", "password", pattern("vrrpPassword", 8)},
		{"SecretObjectReference", "name", pattern("secretName", v1alpha1.MaxSecretNameLength)},
		{"PathMatch", "value", func(s *jsonschema.Schema) {
			pattern("path", 1024)(s)
			// Normalized (no dot or empty segments), no encoded '/' or ';' (nginx decodes them).
			s.Not = &jsonschema.Schema{Pattern: `(^|/)\.\.?(/|$)|//|%2[Ff]|%3[Bb]`}
		}},
		{"CORSFilter", "allowOrigins", wildcardAlone},
		{"CORSFilter", "allowMethods", wildcardAlone},
		{"ACMERFC2136", "nameserver", func(s *jsonschema.Schema) { s.Pattern = `^[A-Za-z0-9._:\[\]-]+$` }}, // host or host:port
		{"BackendRef", "filters", func(s *jsonschema.Schema) {
			s.Items = &jsonschema.Schema{AllOf: []*jsonschema.Schema{s.Items,
				{Properties: props("type", &jsonschema.Schema{Const: string(v1alpha1.FilterRequestHeaderModifier)})}}}
		}},
		{"HTTPHeader", "value", pattern("headerValue", 4096)},
		{"HeaderMatch", "value", pattern("headerValue", 4096)},
		{"ACMERFC2136", "tsigAlgorithm", func(s *jsonschema.Schema) {
			s.Enum = []any{v1alpha1.TSIGHMACSHA1, v1alpha1.TSIGHMACSHA256, v1alpha1.TSIGHMACSHA512}
		}},
		// Refused by validation (nginx cannot wait between attempts): an editor says so at once.
		{"RouteRetry", "backoff", func(s *jsonschema.Schema) { s.Not = &jsonschema.Schema{} }},
		// Refused by validation (nginx keeps no session state).
		{"SessionPersistence", "idleTimeout", func(s *jsonschema.Schema) { s.Not = &jsonschema.Schema{} }},
		{"SessionPersistence", "sessionName", func(s *jsonschema.Schema) {
			pattern("sessionName", 128)(s)
			s.Default = v1alpha1.DefaultSessionName
		}},
		{"SessionPersistence", "type", def(v1alpha1.SessionPersistenceCookie)},
		{"CookieConfig", "lifetimeType", def(v1alpha1.CookieLifetimeSession)},
		// Defaults, as the API's Default methods fill them in (editors show and complete them).
		{"GatewaySpec", "mode", def(v1alpha1.ServiceModeReplicated)},
		{"GatewaySpec", "replicas", def(1)},
		{"GatewayNetwork", "isolation", def(v1alpha1.IsolationShared)},
		{"Listener", "protocol", def(v1alpha1.ProtocolHTTP)},
		{"Listener", "publishMode", def(v1alpha1.PublishModeIngress)},
		{"ListenerTLS", "mode", def(v1alpha1.TLSModeTerminate)},
		{"ACMEIssuer", "directory", def(v1alpha1.LetsEncryptDirectory)},
		{"PathMatch", "type", def(v1alpha1.PathMatchPathPrefix)},
		{"BackendRef", "weight", def(1)},
		// A Route's services are the ServiceSpec inlined, with a name.
		{"RouteService", "mode", def(v1alpha1.ServiceModeReplicated)},
		{"RouteService", "replicas", def(1)},
		{"RouteService", "endpointMode", def(v1alpha1.EndpointModeVIP)},
		{"ServiceSpec", "mode", def(v1alpha1.ServiceModeReplicated)},
		{"ServiceSpec", "replicas", def(1)},
		{"ServiceSpec", "endpointMode", def(v1alpha1.EndpointModeVIP)},
		{"Hook", "before", items(1, v1alpha1.MaxServices)},
		{"Hook", "timeout", def(v1alpha1.DefaultHookTimeout)},
		{"Mount", "type", def(v1alpha1.MountVolume)},
		{"CORSFilter", "maxAge", def(5)},
		{"ZoneSpec", "labels", func(s *jsonschema.Schema) {
			s.PropertyNames = &jsonschema.Schema{Not: &jsonschema.Schema{Pattern: "^(" + v1alpha1.ZoneLabel + "$|swarmgate\\.io/)"}}
		}},
	}
}

// defRules refine whole definitions: what one field asks of another.
func defRules() map[string]func(*jsonschema.Schema) {
	return map[string]func(*jsonschema.Schema){
		// A filter has the field its type names.
		"RouteFilter": func(s *jsonschema.Schema) {
			fields := validation.FilterFields()
			for _, t := range slices.Sorted(maps.Keys(fields)) {
				field := fields[t]
				s.AllOf = append(s.AllOf, &jsonschema.Schema{
					If:   &jsonschema.Schema{Properties: props("type", &jsonschema.Schema{Const: string(t)}), Required: []string{"type"}},
					Then: &jsonschema.Schema{Required: []string{field}},
				})
			}
		},
		// A GRPCRoute's filter has the field its type names.
		"GRPCRouteFilter": func(s *jsonschema.Schema) {
			fields := validation.FilterFields()
			for _, t := range validation.GRPCFilterTypes() {
				s.AllOf = append(s.AllOf, &jsonschema.Schema{
					If:   &jsonschema.Schema{Properties: props("type", &jsonschema.Schema{Const: string(t)}), Required: []string{"type"}},
					Then: &jsonschema.Schema{Required: []string{fields[v1alpha1.FilterType(t)]}},
				})
			}
		},
		// A bind mounts an absolute path of the node.
		"Mount": func(s *jsonschema.Schema) {
			s.AllOf = append(s.AllOf, &jsonschema.Schema{
				If:   &jsonschema.Schema{Properties: props("type", &jsonschema.Schema{Const: string(v1alpha1.MountBind)}), Required: []string{"type"}},
				Then: &jsonschema.Schema{Required: []string{"source"}, Properties: props("source", &jsonschema.Schema{Pattern: "^/"})},
			})
		},
		// Global mode has no replica count.
		"GatewaySpec": longRunning,
		// A Route's service serves requests: no job modes, no hook.
		"RouteService": func(s *jsonschema.Schema) {
			longRunning(s)
			s.AllOf = append(s.AllOf, &jsonschema.Schema{Not: &jsonschema.Schema{Required: []string{"hook"}}})
		},
		"ServiceSpec": func(s *jsonschema.Schema) {
			globalWithoutReplicas(s)
			jobs := &jsonschema.Schema{Enum: []any{v1alpha1.ServiceModeReplicatedJob, v1alpha1.ServiceModeGlobalJob}}
			s.AllOf = append(s.AllOf,
				// A job takes no update policy, and no restart once it completed.
				&jsonschema.Schema{
					If: &jsonschema.Schema{Properties: props("mode", jobs), Required: []string{"mode"}},
					Then: &jsonschema.Schema{Not: &jsonschema.Schema{Required: []string{"updatePolicy"}},
						Properties: props("restartPolicy", &jsonschema.Schema{Properties: props("condition", &jsonschema.Schema{Not: &jsonschema.Schema{Const: string(v1alpha1.RestartConditionAny)}})})},
				},
				// Only a job is a hook.
				&jsonschema.Schema{
					If:   &jsonschema.Schema{Required: []string{"hook"}},
					Then: &jsonschema.Schema{Required: []string{"mode"}, Properties: props("mode", jobs)},
				})
		},
		// A redirect answers every request itself: no backends, nothing to mirror.
		"RouteRule": func(s *jsonschema.Schema) {
			s.AllOf = append(s.AllOf, &jsonschema.Schema{
				If: &jsonschema.Schema{Properties: props("filters", &jsonschema.Schema{Contains: filterOfType(v1alpha1.FilterRequestRedirect)}), Required: []string{"filters"}},
				Then: &jsonschema.Schema{
					Not:        &jsonschema.Schema{Required: []string{"backendRefs"}},
					Properties: props("filters", &jsonschema.Schema{Not: &jsonschema.Schema{Contains: filterOfType(v1alpha1.FilterRequestMirror)}}),
				},
			})
		},
		// A virtual IP names its nodes or a zone, not both; VRRP version 2 adverts in whole seconds.
		"VirtualIPSpec": func(s *jsonschema.Schema) {
			s.Not = &jsonschema.Schema{Required: []string{"nodes", "zone"}}
			// Version 2 when given, or by default.
			v2 := &jsonschema.Schema{Properties: props("version", &jsonschema.Schema{Const: 2}), Required: []string{"version"}}
			if v1alpha1.DefaultVRRPVersion == 2 {
				v2 = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{v2, {Not: &jsonschema.Schema{Required: []string{"version"}}}}}
			}
			s.AllOf = append(s.AllOf, &jsonschema.Schema{
				If:   v2,
				Then: &jsonschema.Schema{Properties: props("advertInterval", &jsonschema.Schema{Pattern: `^([0-9]+m)?[0-9]+s$`})},
			})
		},
		// Only DNS-01 proves a wildcard.
		"Listener": func(s *jsonschema.Schema) {
			httpACME := &jsonschema.Schema{Properties: props("acme", &jsonschema.Schema{Not: &jsonschema.Schema{Required: []string{"dns01"}}}), Required: []string{"acme"}}
			s.AllOf = append(s.AllOf, &jsonschema.Schema{
				If:   &jsonschema.Schema{Properties: props("tls", httpACME), Required: []string{"tls", "hostname"}},
				Then: &jsonschema.Schema{Properties: props("hostname", &jsonschema.Schema{Not: &jsonschema.Schema{Pattern: `^\*`}})},
			})
		},
		// The agents' CA is for an https operatorURL.
		"GatewayAgent": func(s *jsonschema.Schema) {
			s.AllOf = append(s.AllOf, &jsonschema.Schema{
				If:   &jsonschema.Schema{Required: []string{"caSecret"}},
				Then: &jsonschema.Schema{Properties: props("operatorURL", &jsonschema.Schema{Pattern: "^https://"})},
			})
		},
		// A TSIG key name goes with its secret.
		"ACMERFC2136": func(s *jsonschema.Schema) {
			s.DependentRequired = map[string][]string{"tsigKeyName": {"tsigSecretRef"}}
		},
	}
}

// globalWithoutReplicas says a service in a global mode has no replicas.
func globalWithoutReplicas(s *jsonschema.Schema) {
	s.AllOf = append(s.AllOf, &jsonschema.Schema{
		If: &jsonschema.Schema{Properties: props("mode", &jsonschema.Schema{Enum: []any{v1alpha1.ServiceModeGlobal, v1alpha1.ServiceModeGlobalJob}}),
			Required: []string{"mode"}},
		Then: &jsonschema.Schema{Not: &jsonschema.Schema{Required: []string{"replicas"}}},
	})
}

// longRunning says a service that serves (a Gateway's, a Route's) is in no job mode, and has no
// replicas in Global mode.
func longRunning(s *jsonschema.Schema) {
	globalWithoutReplicas(s)
	s.AllOf = append(s.AllOf, &jsonschema.Schema{
		Properties: props("mode", &jsonschema.Schema{Enum: []any{v1alpha1.ServiceModeReplicated, v1alpha1.ServiceModeGlobal}}),
	})
}

// filterOfType matches a filter of type t.
func filterOfType(t v1alpha1.FilterType) *jsonschema.Schema {
	return &jsonschema.Schema{Properties: props("type", &jsonschema.Schema{Const: string(t)}), Required: []string{"type"}}
}

// wildcardAlone says a list holding "*" holds nothing else.
func wildcardAlone(s *jsonschema.Schema) {
	s.If = &jsonschema.Schema{Contains: &jsonschema.Schema{Const: "*"}}
	s.Then = &jsonschema.Schema{MaxItems: ptr(uint64(1))}
}

// constrain applies the field rules to a kind's definitions. A rule for a definition the kind
// does not use is skipped; one for a property its definition lacks is an error (the API changed).
func constrain(defs jsonschema.Definitions) error {
	for name, apply := range defRules() {
		if def, ok := defs[name]; ok {
			apply(def)
		}
	}
	for _, r := range fieldRules() {
		def, ok := defs[r.def]
		if !ok {
			continue
		}
		prop, ok := def.Properties.Get(r.prop)
		if !ok {
			return &missingProperty{r.def, r.prop}
		}
		r.apply(prop)
	}
	return nil
}

type missingProperty struct{ def, prop string }

func (e *missingProperty) Error() string {
	return "schema rule for " + e.def + "." + e.prop + ": no such property"
}

func ptr[T any](v T) *T { return &v }
