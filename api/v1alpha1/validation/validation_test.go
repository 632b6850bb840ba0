package validation_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

func ptr[T any](v T) *T { return &v }

func meta(name string, doc int) v1alpha1.ObjectMeta {
	return v1alpha1.ObjectMeta{Name: name, Origin: v1alpha1.Origin{File: "test.yaml", Doc: doc}}
}

func typeMeta(k v1alpha1.Kind) v1alpha1.TypeMeta {
	return v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: k}
}

// The valid base objects every test case mutates.

func baseGateway() *v1alpha1.Gateway {
	return &v1alpha1.Gateway{TypeMeta: typeMeta(v1alpha1.KindGateway), Metadata: meta("gw", 1), Spec: v1alpha1.GatewaySpec{
		Zone:      "dmz",
		Listeners: []v1alpha1.Listener{{Name: "http", Port: 8080}},
	}}
}

// allowAll lets Routes of every namespace attach to a listener.
func allowAll() *v1alpha1.AllowedRoutes {
	return &v1alpha1.AllowedRoutes{Namespaces: &v1alpha1.RouteNamespaces{From: v1alpha1.NamespacesFromAll}}
}

// https is an HTTPS listener with certificates from the named secrets.
func https(name string, port v1alpha1.PortNumber, hostname string, certs ...string) v1alpha1.Listener {
	l := v1alpha1.Listener{Name: v1alpha1.SectionName(name), Port: port, Protocol: v1alpha1.ProtocolHTTPS, PublishMode: v1alpha1.PublishModeIngress,
		TLS: &v1alpha1.ListenerTLS{Mode: v1alpha1.TLSModeTerminate}}
	if hostname != "" {
		h := v1alpha1.Hostname(hostname)
		l.Hostname = &h
	}
	for _, c := range certs {
		l.TLS.CertificateRefs = append(l.TLS.CertificateRefs, v1alpha1.SecretObjectReference{Name: c})
	}
	return l
}

func baseRoute() *v1alpha1.Route {
	return &v1alpha1.Route{TypeMeta: typeMeta(v1alpha1.KindRoute), Metadata: meta("app", 2), Spec: v1alpha1.RouteSpec{
		ParentRefs: []v1alpha1.ParentRef{{Name: "gw", SectionName: "http"}},
		Hostnames:  []v1alpha1.Hostname{"app.example.com"},
		Rules: []v1alpha1.RouteRule{{
			Matches:     []v1alpha1.RouteMatch{{Path: &v1alpha1.PathMatch{Type: v1alpha1.PathMatchPathPrefix, Value: "/api"}}},
			BackendRefs: []v1alpha1.BackendRef{{Name: "app"}},
		}},
		Services: []v1alpha1.RouteService{{Name: "app", ServiceSpec: v1alpha1.ServiceSpec{Image: "bretfisher/httpenv", Port: ptr(v1alpha1.PortNumber(8888)), Zone: "dmz"}}},
	}}
}

func baseVirtualIP() *v1alpha1.VirtualIP {
	return &v1alpha1.VirtualIP{TypeMeta: typeMeta(v1alpha1.KindVirtualIP), Metadata: meta("vip", 3), Spec: v1alpha1.VirtualIPSpec{
		Address:         "172.22.1.5/24",
		VirtualRouterID: 51,
		Nodes:           []v1alpha1.VRRPNode{{Hostname: "node1", Priority: 150}, {Hostname: "node2", Priority: 100}},
		TrackGateway:    &v1alpha1.GatewayTrack{Name: "gw"},
		Image:           "swarmgate/keepalived:2.2",
	}}
}

func baseZone() *v1alpha1.Zone {
	return &v1alpha1.Zone{TypeMeta: typeMeta(v1alpha1.KindZone), Metadata: meta("dmz", 4), Spec: v1alpha1.ZoneSpec{
		Nodes: []string{"node1", "node2"},
	}}
}

// baseSet is a valid snapshot: one object of each kind that refer to one another.
func baseSet() (*v1alpha1.Gateway, *v1alpha1.Route, *v1alpha1.VirtualIP, *v1alpha1.Zone) {
	return baseGateway(), baseRoute(), baseVirtualIP(), baseZone()
}

func validate(objs ...v1alpha1.Object) []string {
	for _, o := range objs {
		o.Default()
	}
	errs := validation.Validate(objs)
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

func TestBaseObjectsAreValid(t *testing.T) {
	g, r, v, z := baseSet()
	if errs := validate(g, r, v, z); len(errs) > 0 {
		t.Fatalf("base set invalid:\n%s", strings.Join(errs, "\n"))
	}
}

// check runs one case: the snapshot after mutate must produce exactly the wanted errors (each given
// as a substring), or none.
func check(t *testing.T, mutate func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object, want ...string) {
	t.Helper()
	g, r, v, z := baseSet()
	objs := []v1alpha1.Object{g, r, v, z}
	if extra := mutate(g, r, v, z); extra != nil {
		objs = extra
	}
	got := validate(objs...)
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("error %d:\n got  %s\n want it to contain %s", i, got[i], w)
		}
	}
}

type mutation = func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object

func TestValidateGateway(t *testing.T) {
	tests := []struct {
		name   string
		mutate mutation
		want   []string
	}{
		{"global mode", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Mode = v1alpha1.ServiceModeGlobal
			return nil
		}, nil},
		{"replicas in global mode", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Mode, g.Spec.Replicas = v1alpha1.ServiceModeGlobal, ptr(int32(2))
			return nil
		}, []string{"test.yaml doc 1: Gateway gw: spec.replicas: is forbidden"}},
		{"bad image", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Image = "Nginx:latest"
			return nil
		}, []string{`spec.image: is not a valid image reference`}},
		{"image with registry and digest", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Image = "registry.local:5000/infra/nginx:1.27@sha256:" + strings.Repeat("a", 64)
			return nil
		}, nil},
		{"no listeners", func(g *v1alpha1.Gateway, r *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Listeners = nil
			return []v1alpha1.Object{g}
		}, []string{"spec.listeners: is required", `spec.zone: names no Zone`}},
		{"port out of range", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Listeners[0].Port = 70000
			return nil
		}, []string{"spec.listeners[0].port: is not a valid port (1 to 65535)"}},
		{"duplicate listener", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Listeners = append(g.Spec.Listeners, g.Spec.Listeners[0])
			return nil
		}, []string{`spec.listeners[1].name: is duplicated`, "spec.listeners[1].port: is duplicated"}},
		{"unknown protocol and publish mode", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Listeners[0].Protocol, g.Spec.Listeners[0].PublishMode = "SCTP", "host"
			return nil
		}, []string{`spec.listeners[0].protocol: is not supported`, `spec.listeners[0].publishMode: is not supported; supported: "Ingress", "Host"`}},
		{"HTTPS listeners sharing a port by hostname", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Listeners = append(g.Spec.Listeners, https("a", 443, "a.example.com", "cert-a"), https("wild", 443, "*.example.com", "cert-wild"),
				https("rest", 443, "", "cert-rsa", "cert-ecdsa"))
			return nil
		}, nil},
		{"HTTPS without a certificate, HTTP with one", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			l := https("a", 443, "", "cert-a")
			l.TLS = nil
			g.Spec.Listeners[0].TLS = &v1alpha1.ListenerTLS{Mode: v1alpha1.TLSModeTerminate}
			g.Spec.Listeners = append(g.Spec.Listeners, l)
			return nil
		}, []string{"spec.listeners[0].tls: is forbidden: only an HTTPS listener has TLS", "spec.listeners[1].tls: is required: an HTTPS listener needs tls.certificateRefs"}},
		{"bad TLS settings", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			l := https("a", 443, "", "bad/name", "b", "c")
			l.TLS.Mode = "Passthrough"
			l.TLS.Options = map[string]string{v1alpha1.TLSOptionMinVersion: "1.1", "ciphers": "ALL"}
			l.RedirectToHTTPS = &v1alpha1.HTTPSRedirect{}
			g.Spec.Listeners = append(g.Spec.Listeners, l)
			return nil
		}, []string{"spec.listeners[1].redirectToHTTPS: is forbidden", `spec.listeners[1].tls.mode: is not supported; supported: "Terminate"`,
			"spec.listeners[1].tls.certificateRefs: has 3 items; at most 2 are allowed", "spec.listeners[1].tls.certificateRefs[0].name: is not a swarm secret name",
			"spec.listeners[1].tls.options[ciphers]: is not supported", "spec.listeners[1].tls.options[swarmgate.io/min-version]: is not supported"}},
		{"ACME settings", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			both := https("both", 443, "a.example.com", "cert-a")
			both.TLS.ACME = &v1alpha1.ACMEIssuer{Directory: v1alpha1.LetsEncryptDirectory}
			wild := https("wild", 443, "*.example.com")
			wild.TLS.ACME = &v1alpha1.ACMEIssuer{Directory: "http://acme.example.com/dir", Email: "not an address"}
			g.Spec.Listeners = append(g.Spec.Listeners, both, wild)
			return nil
		}, []string{"spec.listeners[1].tls.acme: is forbidden: a listener takes its certificate from certificateRefs or from ACME, not both",
			"spec.listeners[2].tls.acme.directory: is not an https URL without credentials", "spec.listeners[2].tls.acme.email: is not an email address",
			"spec.listeners[2].hostname: is a wildcard, which only a DNS-01 challenge can prove",
			"spec.listeners[1].tls.acme: needs spec.agent", "spec.listeners[2].tls.acme: needs spec.agent"}},
		{"agent operatorURLs nginx or the agents cannot take", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Agent = &v1alpha1.GatewayAgent{OperatorURL: "http://operator:99999", TokenSecret: "agent-token"}
			return nil
		}, []string{"spec.agent.operatorURL: must name a host (a DNS name or an IP address) and, if any, a port from 1 to 65535, in at most 2048 characters"}},
		{"a 5,000-character operatorURL", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Agent = &v1alpha1.GatewayAgent{OperatorURL: "http://" + strings.Repeat("a", 4990) + ":9090", TokenSecret: "agent-token"}
			return nil
		}, []string{"spec.agent.operatorURL: must name a host"}},
		{"an operatorURL with an IPv6 address", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Agent = &v1alpha1.GatewayAgent{OperatorURL: "http://[fd00::1]:9090/", TokenSecret: "agent-token"}
			return nil
		}, nil},
		{"agent: {}, which an operator on the swarm completes", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Agent = &v1alpha1.GatewayAgent{}
			return nil
		}, nil},
		{"listeners on one port that conflict", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			l13 := https("b", 443, "b.example.com", "cert-b")
			l13.TLS.Options = map[string]string{v1alpha1.TLSOptionMinVersion: "1.3"}
			g.Spec.Listeners = append(g.Spec.Listeners, https("a", 443, "a.example.com", "cert-a"), l13, https("c", 8080, "c.example.com", "cert-c"),
				https("d", 443, "a.example.com", "cert-d"))
			return nil
		}, []string{"spec.listeners[2].tls.options[swarmgate.io/min-version]: differs from listener a's on the same port",
			"spec.listeners[3].port: is also listener http's, with another protocol or publish mode",
			"spec.listeners[4].port: is duplicated: another listener of this gateway publishes it for the same hostname"}},
		{"a route none of whose hostnames the listener has", func(g *v1alpha1.Gateway, r *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			h := v1alpha1.Hostname("*.example.org")
			g.Spec.Listeners[0].Hostname = &h
			return nil
		}, []string{"Route app: spec.parentRefs[0].sectionName: names a listener whose hostname matches none of spec.hostnames"}},
		{"a route whose wildcard covers the listener's hostname", func(g *v1alpha1.Gateway, r *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			h := v1alpha1.Hostname("shop.example.com")
			g.Spec.Listeners[0].Hostname = &h
			r.Spec.Hostnames = []v1alpha1.Hostname{"*.example.com"}
			return nil
		}, nil},
		{"bad network", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Network = v1alpha1.GatewayNetwork{Name: "-net", Isolation: "Strict"}
			return nil
		}, []string{`spec.network.name: is not a valid network name`, `spec.network.isolation: is not supported`}},
		{"bad policies", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.UpdatePolicy = &v1alpha1.UpdatePolicy{Delay: "10", Order: "random", FailureAction: "explode"}
			g.Spec.RestartPolicy = &v1alpha1.RestartPolicy{Condition: "always", MaxAttempts: ptr(int32(-1))}
			return nil
		}, []string{`spec.updatePolicy.delay: is not a valid duration`, `spec.updatePolicy.order: is not supported`,
			`spec.updatePolicy.failureAction: is not supported`, `spec.restartPolicy.condition: is not supported`, "spec.restartPolicy.maxAttempts: must not be negative"}},
		{"bad resources", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Resources = &v1alpha1.Resources{Limits: &v1alpha1.ResourceList{CPUs: "0", Memory: "1 XB"}, Reservations: &v1alpha1.ResourceList{CPUs: "0.25", Memory: "64Mi"}}
			return nil
		}, []string{`spec.resources.limits.cpus: must be more than 0`, `spec.resources.limits.memory: is not a byte size`}},
		{"reserved label", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Metadata.Labels = map[string]string{"swarmgate.io/owner": "me", "team": "web"}
			return nil
		}, []string{"metadata.labels[swarmgate.io/owner]: is forbidden"}},
		{"two gateways on one port", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			g2 := baseGateway()
			g2.Metadata = meta("gw2", 5)
			g2.Spec.Listeners[0].Name = "web"
			return []v1alpha1.Object{g, r, v, z, g2}
		}, []string{"test.yaml doc 5: Gateway gw2: spec.listeners[0].port: is already published by Gateway gw (test.yaml doc 1)"}},
		{"duplicate gateway name", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			g2 := baseGateway()
			g2.Metadata.Origin.Doc = 5
			return []v1alpha1.Object{g, r, v, z, g2}
		}, []string{`test.yaml doc 5: Gateway gw: metadata.name: is duplicated: also defined as Gateway gw (test.yaml doc 1)`}},
		{"route from another namespace: refused by default (Same)", func(_ *v1alpha1.Gateway, r *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			r.Metadata.Namespace = "shop"
			return nil
		}, []string{"Route app: spec.parentRefs[0].sectionName: names a listener that takes Routes from its Gateway's own no namespace only (allowedRoutes.namespaces.from: Same"}},
		{"route from another namespace, no section: refused by default (Same)", func(g *v1alpha1.Gateway, r *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Metadata.Namespace = "edge"
			r.Metadata.Namespace, r.Spec.ParentRefs[0].SectionName = "shop", ""
			return nil
		}, []string{"Route app: spec.parentRefs[0].name: Gateway gw takes Routes from its Gateway's own namespace edge only"}},
		{"route from another namespace: All", func(g *v1alpha1.Gateway, r *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Spec.Listeners[0].AllowedRoutes = allowAll()
			r.Metadata.Namespace = "shop"
			return nil
		}, nil},
		{"route and gateway in one namespace; parentRef namespace checked", func(g *v1alpha1.Gateway, r *v1alpha1.Route, _ *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			g.Metadata.Namespace, r.Metadata.Namespace = "shop", "shop"
			r2 := baseRoute()
			r2.Metadata = meta("other", 5)
			r2.Metadata.Namespace = "shop"
			r2.Spec.Hostnames[0] = "other.example.com"
			r2.Spec.Services = nil
			r2.Spec.Rules[0].BackendRefs[0].Port = ptr(v1alpha1.PortNumber(80))
			r2.Spec.ParentRefs[0].Namespace = "edge"
			return []v1alpha1.Object{g, r, z, r2}
		}, []string{"Route other: spec.parentRefs[0].namespace: is not the namespace of Gateway gw"}},
		{"allowedRoutes values", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			group := "gateway.networking.k8s.io"
			g.Spec.Listeners[0].AllowedRoutes = &v1alpha1.AllowedRoutes{Namespaces: &v1alpha1.RouteNamespaces{From: "Selector"},
				Kinds: []v1alpha1.RouteGroupKind{{Kind: "Route"}, {Group: &group, Kind: "HTTPRoute"}}}
			return nil
		}, []string{"spec.listeners[0].allowedRoutes.namespaces.from: is Selector", "spec.listeners[0].allowedRoutes.kinds[1]: is not a kind of route an HTTP listener takes"}},
		{"long qualified name", func(g *v1alpha1.Gateway, _ *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
			g.Metadata.Namespace = strings.Repeat("n", 40)
			g.Metadata.Name = strings.Repeat("g", 30)
			return []v1alpha1.Object{g}
		}, []string{"longer than 63 characters", `spec.zone: names no Zone`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, tt.mutate, tt.want...) })
	}
}

func TestValidateRoute(t *testing.T) {
	rule := func(r *v1alpha1.Route) *v1alpha1.RouteRule { return &r.Spec.Rules[0] }
	match := func(r *v1alpha1.Route) *v1alpha1.RouteMatch { return &r.Spec.Rules[0].Matches[0] }
	tests := []struct {
		name   string
		mutate func(r *v1alpha1.Route)
		want   []string
	}{
		{"bad hostname", func(r *v1alpha1.Route) { r.Spec.Hostnames[0] = "Bad_Host" },
			[]string{`test.yaml doc 2: Route app: spec.hostnames[0]: is not a valid hostname`}},
		{"wildcard hostname", func(r *v1alpha1.Route) { r.Spec.Hostnames[0] = "*.example.com" }, nil},
		{"wildcard in the middle", func(r *v1alpha1.Route) { r.Spec.Hostnames[0] = "a.*.example.com" },
			[]string{`spec.hostnames[0]: is not a valid hostname`}},
		{"IP hostname", func(r *v1alpha1.Route) { r.Spec.Hostnames[0] = "10.0.0.1" },
			[]string{`spec.hostnames[0]: is an IP address`}},
		{"no hostnames: every host of its listeners", func(r *v1alpha1.Route) { r.Spec.Hostnames = nil }, nil},
		{"service runtime", func(r *v1alpha1.Route) {
			d := func(s string) *v1alpha1.Duration { v := v1alpha1.Duration(s); return &v }
			svc := &r.Spec.Services[0]
			svc.Command = []string{"/app", "serve"}
			svc.Hostname = "{{.Node.Hostname}}-app"
			svc.Mounts = []v1alpha1.Mount{{Type: v1alpha1.MountVolume, Source: "data", Target: "/data"}, {Type: v1alpha1.MountBind, Source: "etc", Target: "/etc/x"},
				{Type: v1alpha1.MountTmpfs, Source: "x", Target: "/data/"}, {Type: v1alpha1.MountVolume, Target: "relative", Size: "1Mi"}}
			svc.Healthcheck = &v1alpha1.Healthcheck{Test: []string{"CMD-SHELL"}, Interval: d("forever"), Retries: ptr(int32(-1))}
			svc.Placement = &v1alpha1.Placement{Constraints: []string{"node.role!=manager", "node.labels.x==$(rm)"},
				Preferences: []v1alpha1.PlacementPreference{{Spread: "node.labels.rack"}, {Spread: "rack"}}}
			svc.Networks = []string{"legacy", "legacy", "bad name"}
			svc.StopSignal = "kill -9"
			svc.StopGracePeriod = d("25h")
		}, []string{"spec.services[0].mounts[1].source: is not the node's absolute path", "spec.services[0].mounts[2].target: is duplicated",
			"spec.services[0].mounts[2].source: is forbidden: a tmpfs has no source", "spec.services[0].mounts[3].target: is not an absolute path",
			"spec.services[0].mounts[3].size: is forbidden: only a tmpfs has a size", "spec.services[0].healthcheck.test: is not",
			"spec.services[0].healthcheck.interval: is not a duration", "spec.services[0].healthcheck.retries: must be 0 to 100",
			"spec.services[0].placement.constraints[1]: is not a placement constraint", "spec.services[0].placement.preferences[1].spread: is not a node label",
			"spec.services[0].networks[1]: is duplicated", "spec.services[0].networks[2]: is not a network name",
			"spec.services[0].stopSignal: is not a signal", "spec.services[0].stopGracePeriod: is not a duration"}},
		{"attach", func(r *v1alpha1.Route) {
			kind := "Bucket"
			r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, v1alpha1.BackendRef{Name: "legacy", Port: ptr(v1alpha1.PortNumber(80)), Attach: true},
				v1alpha1.BackendRef{Kind: &kind, Name: "b", Attach: true})
			r.Spec.Rules[0].Filters = []v1alpha1.RouteFilter{{Type: v1alpha1.FilterRequestMirror, RequestMirror: &v1alpha1.RequestMirror{
				BackendRef: v1alpha1.BackendRef{Name: "m", Port: ptr(v1alpha1.PortNumber(80)), Attach: true}}}}
		}, []string{"spec.rules[0].filters[0].requestMirror.backendRef.attach: is forbidden", "spec.rules[0].backendRefs[2].attach: is forbidden"}},
		{"backendRef filters", func(r *v1alpha1.Route) {
			mod := func(name v1alpha1.HeaderName) v1alpha1.RouteFilter {
				return v1alpha1.RouteFilter{Type: v1alpha1.FilterRequestHeaderModifier, RequestHeaderModifier: &v1alpha1.HeaderModifier{Set: []v1alpha1.HTTPHeader{{Name: name, Value: "v"}}}}
			}
			refs := &r.Spec.Rules[0].BackendRefs
			(*refs)[0].Filters = []v1alpha1.RouteFilter{mod("X-Backend")}
			*refs = append(*refs, v1alpha1.BackendRef{Name: "b", Port: ptr(v1alpha1.PortNumber(80)), Filters: []v1alpha1.RouteFilter{
				{Type: v1alpha1.FilterURLRewrite, URLRewrite: &v1alpha1.URLRewrite{Hostname: "x.example"}}}},
				v1alpha1.BackendRef{Name: "c", Port: ptr(v1alpha1.PortNumber(80)), Filters: []v1alpha1.RouteFilter{mod("X.Odd")}})
		}, []string{"spec.rules[0].backendRefs[1].filters[0].type: is not RequestHeaderModifier", "spec.rules[0].backendRefs[2].filters[0].requestHeaderModifier.set[0].name: on a backendRef, a header name is letters, digits and '-'"}},
		{"cors", func(r *v1alpha1.Route) {
			yes := true
			cors := func(c v1alpha1.CORSFilter) []v1alpha1.RouteFilter {
				c.MaxAge = max(c.MaxAge, 5)
				return []v1alpha1.RouteFilter{{Type: v1alpha1.FilterCORS, CORS: &c}}
			}
			r.Spec.Rules = append(r.Spec.Rules, r.Spec.Rules[0], r.Spec.Rules[0])
			r.Spec.Rules[0].Filters = cors(v1alpha1.CORSFilter{AllowOrigins: []string{"https://shop.example", "https://*.cdn.example:8443", "http://*"},
				AllowMethods: []string{"GET", "PUT"}, AllowHeaders: []v1alpha1.HeaderName{"*"}, ExposeHeaders: []v1alpha1.HeaderName{"X-Total"}, AllowCredentials: &yes})
			r.Spec.Rules[1].Filters = cors(v1alpha1.CORSFilter{AllowOrigins: []string{"*", "https://a.example"}, AllowMethods: []string{"get"},
				AllowHeaders: []v1alpha1.HeaderName{"Bad Header"}, ExposeHeaders: []v1alpha1.HeaderName{"*"}, AllowCredentials: &yes})
			r.Spec.Rules[2].Filters = cors(v1alpha1.CORSFilter{AllowOrigins: []string{"shop.example", "ftp://x.example", "https://x.example:70000", "https://a.*.example"}})
		}, []string{`spec.rules[1].filters[0].cors.allowOrigins: holds "*" with other values`, "spec.rules[1].filters[0].cors.allowMethods[0]: is not supported",
			"spec.rules[1].filters[0].cors.allowHeaders[0]", `spec.rules[1].filters[0].cors.exposeHeaders: is "*"`,
			"spec.rules[2].filters[0].cors.allowOrigins[0]: is not an origin", "spec.rules[2].filters[0].cors.allowOrigins[1]: is not an origin",
			"spec.rules[2].filters[0].cors.allowOrigins[2]: has a port outside", "spec.rules[2].filters[0].cors.allowOrigins[3]: is not an origin"}},
		{"mirrors", func(r *v1alpha1.Route) {
			mirror := func(name string, percent *int32, fraction *v1alpha1.Fraction) v1alpha1.RouteFilter {
				return v1alpha1.RouteFilter{Type: v1alpha1.FilterRequestMirror, RequestMirror: &v1alpha1.RequestMirror{
					BackendRef: v1alpha1.BackendRef{Name: name, Port: ptr(v1alpha1.PortNumber(80))}, Percent: percent, Fraction: fraction}}
			}
			r.Spec.Rules = append(r.Spec.Rules, r.Spec.Rules[0])
			r.Spec.Rules[0].Filters = []v1alpha1.RouteFilter{mirror("a", nil, nil), mirror("b", ptr(int32(10)), nil),
				mirror("c", nil, &v1alpha1.Fraction{Numerator: 1, Denominator: ptr(int32(3))})}
			r.Spec.Rules[1].Filters = []v1alpha1.RouteFilter{mirror("a", ptr(int32(101)), nil), mirror("b", ptr(int32(1)), &v1alpha1.Fraction{Numerator: 1}),
				mirror("c", nil, &v1alpha1.Fraction{Numerator: 4, Denominator: ptr(int32(3))})}
		}, []string{"spec.rules[1].filters[0].requestMirror.percent: must be 0 to 100", "spec.rules[1].filters[1].requestMirror.fraction: is forbidden: give percent or fraction",
			"spec.rules[1].filters[2].requestMirror.fraction: must be a numerator from 0 to a denominator"}},
		{"retry", func(r *v1alpha1.Route) {
			d := v1alpha1.Duration("100ms")
			r.Spec.Rules = append(r.Spec.Rules, r.Spec.Rules[0])
			r.Spec.Rules[0].Retry = &v1alpha1.RouteRetry{Codes: []int32{500, 502, 503, 504, 429}, Attempts: ptr(int32(2))}
			r.Spec.Rules[1].Retry = &v1alpha1.RouteRetry{Codes: []int32{501, 302}, Attempts: ptr(int32(11)), Backoff: &d}
		}, []string{"spec.rules[1].retry.codes[0]: is not one nginx can retry on", "spec.rules[1].retry.codes[1]: must be 400 to 599",
			"spec.rules[1].retry.attempts: must be 0 to 10", "spec.rules[1].retry.backoff: is forbidden: nginx retries at once"}},
		{"session persistence", func(r *v1alpha1.Route) {
			d := func(s string) *v1alpha1.Duration { v := v1alpha1.Duration(s); return &v }
			permanent := &v1alpha1.CookieConfig{LifetimeType: v1alpha1.CookieLifetimePermanent}
			r.Spec.Rules = append(r.Spec.Rules, r.Spec.Rules[0], r.Spec.Rules[0], r.Spec.Rules[0], r.Spec.Rules[0], r.Spec.Rules[0])
			r.Spec.Rules[0].SessionPersistence = &v1alpha1.SessionPersistence{AbsoluteTimeout: d("1h"), CookieConfig: permanent}
			r.Spec.Rules[1].SessionPersistence = &v1alpha1.SessionPersistence{Type: v1alpha1.SessionPersistenceHeader, SessionName: "X-Shop-Session"}
			r.Spec.Rules[2].SessionPersistence = &v1alpha1.SessionPersistence{Type: v1alpha1.SessionPersistenceHeader, CookieConfig: permanent}
			r.Spec.Rules[3].SessionPersistence = &v1alpha1.SessionPersistence{AbsoluteTimeout: d("1h")}
			r.Spec.Rules[4].SessionPersistence = &v1alpha1.SessionPersistence{AbsoluteTimeout: d("500ms"), CookieConfig: permanent}
			r.Spec.Rules[5].SessionPersistence = &v1alpha1.SessionPersistence{SessionName: strings.Repeat("s", 129), Type: "Query"}
		}, []string{"spec.rules[2].sessionPersistence.cookieConfig: is forbidden: is for type Cookie",
			"spec.rules[3].sessionPersistence.absoluteTimeout: is forbidden: nginx keeps no session state",
			"spec.rules[4].sessionPersistence.absoluteTimeout: must be a duration of at least 1s",
			"spec.rules[5].sessionPersistence.sessionName: must be letters", "spec.rules[5].sessionPersistence.type: "}},
		{"backend of another kind: no port needed, reported at apply, not refused", func(r *v1alpha1.Route) {
			group, kind := "storage.example.com", "Bucket"
			r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, v1alpha1.BackendRef{Group: &group, Kind: &kind, Name: "assets"})
		}, nil},
		{"backend group and kind malformed", func(r *v1alpha1.Route) {
			group, kind := "Storage_Example", "9Bucket"
			r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, v1alpha1.BackendRef{Group: &group, Kind: &kind, Name: "assets"})
		}, []string{"spec.rules[0].backendRefs[1].group: is not an API group", "spec.rules[0].backendRefs[1].kind: is not a kind"}},
		// Only what becomes a swarm name is limited: the Route's name is none.
		{"long route name with its namespace", func(r *v1alpha1.Route) {
			r.Metadata.Namespace, r.Metadata.Name = strings.Repeat("n", 40), strings.Repeat("r", 30)
		}, nil},
		{"long service name with the route's namespace", func(r *v1alpha1.Route) {
			r.Metadata.Namespace = strings.Repeat("n", 40)
			r.Spec.Services[0].Name, r.Spec.Rules[0].BackendRefs[0].Name = strings.Repeat("s", 30), strings.Repeat("s", 30)
		}, []string{"spec.services[0].name: with the route's namespace is longer than 63 characters"}},
		{"timeouts", func(r *v1alpha1.Route) {
			d := func(s string) *v1alpha1.Duration { v := v1alpha1.Duration(s); return &v }
			r.Spec.Rules = append(r.Spec.Rules, r.Spec.Rules[0], r.Spec.Rules[0])
			r.Spec.Rules[0].Timeouts = &v1alpha1.RouteTimeouts{Request: d("10s"), BackendRequest: d("0s")} // off: allowed
			r.Spec.Rules[1].Timeouts = &v1alpha1.RouteTimeouts{Request: d("1.5s"), BackendRequest: d("1m30s")}
			r.Spec.Rules[2].Timeouts = &v1alpha1.RouteTimeouts{Request: d("1s"), BackendRequest: d("2s")}
		}, []string{"spec.rules[1].timeouts.request: is not a Gateway API duration", "spec.rules[2].timeouts.backendRequest: is longer than timeouts.request"}},
		{"secrets and configs", func(r *v1alpha1.Route) {
			r.Spec.Services[0].Secrets = []v1alpha1.FileMount{{Name: "db-password", Target: "db", Mode: "0400", UID: "1000"}, {Name: "other", Target: "db"},
				{Name: "bad name!", Target: "../etc/shadow", UID: "root", Mode: "0999"}}
			r.Spec.Services[0].Configs = []v1alpha1.FileMount{{Name: "app-conf", Target: "/etc/app.conf"}, {Name: "x", Target: "etc/app.conf"}}
		}, []string{"spec.services[0].secrets[1].target: is duplicated: two files at one path", "spec.services[0].secrets[2].name: is not a swarm secret name",
			"spec.services[0].secrets[2].target: is not an absolute file path or a file name", "spec.services[0].secrets[2].uid: is not a numeric ID",
			"spec.services[0].secrets[2].mode: is not an octal file mode", "spec.services[0].configs[1].target: is not an absolute file path or a file name"}},
		{"rule names", func(r *v1alpha1.Route) {
			ok, bad := v1alpha1.SectionName("api"), v1alpha1.SectionName("Not_A_Label")
			r.Spec.Rules = append(r.Spec.Rules, r.Spec.Rules[0], r.Spec.Rules[0])
			r.Spec.Rules[0].Name, r.Spec.Rules[1].Name, r.Spec.Rules[2].Name = &ok, &ok, &bad
		}, []string{"spec.rules[1].name: is duplicated: another rule of this Route has it", "spec.rules[2].name: "}},
		{"a path the gateway keeps", func(r *v1alpha1.Route) { match(r).Path.Value = "/.well-known/swarmgate/health" },
			[]string{"spec.rules[0].matches[0].path.value: is under /.well-known/swarmgate, which the gateway keeps for its health check"}},
		{"the gateway's path, encoded", func(r *v1alpha1.Route) { match(r).Path.Value = "/.well-known/%73warmgate" },
			[]string{"spec.rules[0].matches[0].path.value: is under /.well-known/swarmgate"}},
		{"duplicate hostname", func(r *v1alpha1.Route) { r.Spec.Hostnames = append(r.Spec.Hostnames, "app.example.com") },
			[]string{`spec.hostnames[1]: is duplicated`}},
		{"relative path", func(r *v1alpha1.Route) { match(r).Path.Value = "api" }, []string{"must be an absolute path"}},
		{"path with semicolon", func(r *v1alpha1.Route) { match(r).Path.Value = "/a;return 200" },
			[]string{"must not contain whitespace"}},
		{"path with brace", func(r *v1alpha1.Route) { match(r).Path.Value = "/a}" }, []string{`must not contain any of ; { } " \`}},
		{"path with encoded slash", func(r *v1alpha1.Route) { match(r).Path.Value = "/a%2Fb" }, []string{"encoded slash"}},
		{"path not normalized", func(r *v1alpha1.Route) { match(r).Path.Value = "/a/../b" }, []string{"must be normalized"}},
		{"path with newline", func(r *v1alpha1.Route) { match(r).Path.Value = "/a\nb" }, []string{"control characters"}},
		{"path type regex", func(r *v1alpha1.Route) { match(r).Path.Type = "RegularExpression" },
			[]string{`spec.rules[0].matches[0].path.type: is not supported`}},
		{"header match", func(r *v1alpha1.Route) {
			match(r).Headers = []v1alpha1.HeaderMatch{{Name: "X-Env", Value: "canary"}, {Name: "x-env", Value: "b"}}
		}, []string{`spec.rules[0].matches[0].headers[1].name: is duplicated`}},
		{"header name not a token", func(r *v1alpha1.Route) { match(r).Headers = []v1alpha1.HeaderMatch{{Name: "X Env", Value: "a"}} },
			[]string{`headers[0].name: is not a valid HTTP header name`}},
		{"header value with CRLF", func(r *v1alpha1.Route) {
			match(r).Headers = []v1alpha1.HeaderMatch{{Name: "X-Env", Value: "a\r\nX-Evil: 1"}}
		}, []string{`headers[0].value: must be printable`}},
		{"query param", func(r *v1alpha1.Route) {
			match(r).QueryParams = []v1alpha1.QueryParamMatch{{Name: "v", Value: "2"}, {Name: "a-b", Value: "x"}}
		}, []string{`queryParams[1].name: is not a supported query parameter name`}},
		{"bad method", func(r *v1alpha1.Route) { match(r).Method = "get" }, []string{`method: is not supported`}},
		{"filters", func(r *v1alpha1.Route) {
			rule(r).Filters = []v1alpha1.RouteFilter{
				{Type: v1alpha1.FilterRequestHeaderModifier, RequestHeaderModifier: &v1alpha1.HeaderModifier{
					Set: []v1alpha1.HTTPHeader{{Name: "X-A", Value: "1"}}, Remove: []v1alpha1.HeaderName{"x-a"}}},
				{Type: v1alpha1.FilterURLRewrite, URLRewrite: &v1alpha1.URLRewrite{Path: &v1alpha1.PathModifier{Type: v1alpha1.ReplacePrefixMatch, ReplacePrefixMatch: "/v2"}}},
			}
		}, []string{`requestHeaderModifier.remove[0]: is duplicated`}},
		{"filter without its field", func(r *v1alpha1.Route) {
			rule(r).Filters = []v1alpha1.RouteFilter{{Type: v1alpha1.FilterRequestRedirect, URLRewrite: &v1alpha1.URLRewrite{Hostname: "x.example"}}}
		}, []string{"filters[0].requestRedirect: is required", "filters[0].urlRewrite: is forbidden", "spec.rules[0].backendRefs: is forbidden"}},
		{"redirect with backends", func(r *v1alpha1.Route) {
			rule(r).Filters = []v1alpha1.RouteFilter{{Type: v1alpha1.FilterRequestRedirect, RequestRedirect: &v1alpha1.RequestRedirect{Scheme: "https", StatusCode: ptr(int32(200))}}}
		}, []string{"requestRedirect.statusCode: is not a redirect status", "spec.rules[0].backendRefs: is forbidden"}},
		{"prefix rewrite needs prefix matches", func(r *v1alpha1.Route) {
			match(r).Path.Type = v1alpha1.PathMatchExact
			rule(r).Filters = []v1alpha1.RouteFilter{{Type: v1alpha1.FilterURLRewrite, URLRewrite: &v1alpha1.URLRewrite{
				Path: &v1alpha1.PathModifier{Type: v1alpha1.ReplacePrefixMatch, ReplacePrefixMatch: "/"}}}}
		}, []string{"urlRewrite.path.type: is forbidden: ReplacePrefixMatch needs every match"}},
		{"rewrite to wildcard host", func(r *v1alpha1.Route) {
			rule(r).Filters = []v1alpha1.RouteFilter{{Type: v1alpha1.FilterURLRewrite, URLRewrite: &v1alpha1.URLRewrite{Hostname: "*.example.com"}}}
		}, []string{"may not be a wildcard here"}},
		{"duplicate filter type", func(r *v1alpha1.Route) {
			f := v1alpha1.RouteFilter{Type: v1alpha1.FilterResponseHeaderModifier, ResponseHeaderModifier: &v1alpha1.HeaderModifier{Add: []v1alpha1.HTTPHeader{{Name: "X-A", Value: "1"}}}}
			rule(r).Filters = []v1alpha1.RouteFilter{f, f}
		}, []string{`filters[1].type: is duplicated`}},
		{"external backend without port", func(r *v1alpha1.Route) {
			rule(r).BackendRefs = []v1alpha1.BackendRef{{Name: "web", Namespace: "shop"}}
		}, []string{"spec.rules[0].backendRefs[0].port: is required"}},
		{"weight out of range", func(r *v1alpha1.Route) { rule(r).BackendRefs[0].Weight = ptr(int32(-1)) },
			[]string{"backendRefs[0].weight: must be 0 to 1000000"}},
		{"service problems", func(r *v1alpha1.Route) {
			r.Spec.Services[0].Env = []v1alpha1.EnvVar{{Name: "1BAD", Value: "x"}}
			r.Spec.Services[0].EndpointMode = "rr"
			r.Spec.Services = append(r.Spec.Services, v1alpha1.RouteService{Name: "app", ServiceSpec: v1alpha1.ServiceSpec{Image: "x"}})
		}, []string{`spec.services[0].env[0].name: is not a valid environment variable name`, `spec.services[0].endpointMode: is not supported`, `spec.services[1].name: is duplicated`}},
		{"missing gateway", func(r *v1alpha1.Route) { r.Spec.ParentRefs[0].Name = "other" },
			[]string{`spec.parentRefs[0].name: names no Gateway`}},
		{"missing listener", func(r *v1alpha1.Route) { r.Spec.ParentRefs[0].SectionName = "https" },
			[]string{`spec.parentRefs[0].sectionName: names no listener of Gateway gw`}},
		{"missing zone", func(r *v1alpha1.Route) { r.Spec.Services[0].Zone = "internal" },
			[]string{`spec.services[0].zone: names no Zone`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(g *v1alpha1.Gateway, r *v1alpha1.Route, _ *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
				g.Spec.Listeners[0].AllowedRoutes = allowAll() // namespaces are tested with the gateway
				tt.mutate(r)
				return nil
			}, tt.want...)
		})
	}
}

// TestValidateRouteConflictsByListener: Routes claim a hostname and match per listener where they
// serve that hostname, whichever route claimed it first elsewhere.
func TestValidateRouteConflictsByListener(t *testing.T) {
	host := func(h string) *v1alpha1.Hostname { return (*v1alpha1.Hostname)(&h) }
	route := func(name string, doc int, section v1alpha1.SectionName, hostnames ...v1alpha1.Hostname) *v1alpha1.Route {
		r := baseRoute()
		r.Metadata = meta(name, doc)
		r.Spec.Services = nil
		r.Spec.Rules[0].BackendRefs[0].Port = ptr(v1alpha1.PortNumber(80))
		r.Spec.ParentRefs[0].SectionName = section
		r.Spec.Hostnames = hostnames
		return r
	}
	tests := []struct {
		name      string
		listeners []v1alpha1.Listener
		routes    []*v1alpha1.Route
		want      []string
	}{
		{"listeners of their own", []v1alpha1.Listener{{Name: "a", Port: 8080}, {Name: "b", Port: 8081}, {Name: "c", Port: 8082}},
			[]*v1alpha1.Route{route("r1", 2, "a", "x.test"), route("r2", 3, "b", "x.test"), route("r3", 4, "c", "x.test")}, nil},
		{"a third on the first one's listener", []v1alpha1.Listener{{Name: "a", Port: 8080}, {Name: "b", Port: 8081}},
			[]*v1alpha1.Route{route("r1", 2, "a", "x.test"), route("r2", 3, "b", "x.test"), route("r3", 4, "a", "x.test")},
			[]string{`test.yaml doc 4: Route r3: spec.rules[0].matches[0]: host "x.test" with this match on Gateway gw listener a is already claimed by Route r1 (test.yaml doc 2)`}},
		{"one on every listener after one on each", []v1alpha1.Listener{{Name: "a", Port: 8080}, {Name: "b", Port: 8081}},
			[]*v1alpha1.Route{route("r1", 2, "a", "x.test"), route("r2", 3, "b", "x.test"), route("r3", 4, "", "x.test")},
			[]string{`Route r3: spec.rules[0].matches[0]: host "x.test" with this match on Gateway gw listener a is already claimed by Route r1`}},
		{"a hostname not served on the shared listener", []v1alpha1.Listener{{Name: "a", Port: 8080, Hostname: host("*.a.test")}, {Name: "b", Port: 8080, Hostname: host("*.b.test")}},
			[]*v1alpha1.Route{route("r1", 2, "", "x.a.test", "x.b.test"), route("r2", 3, "b", "x.a.test", "y.b.test")}, nil},
		{"a hostname served on the shared listener", []v1alpha1.Listener{{Name: "a", Port: 8080, Hostname: host("*.a.test")}, {Name: "b", Port: 8080, Hostname: host("*.b.test")}},
			[]*v1alpha1.Route{route("r1", 2, "", "x.a.test", "x.b.test"), route("r2", 3, "b", "x.a.test", "x.b.test")},
			[]string{`Route r2: spec.rules[0].matches[0]: host "x.b.test" with this match on Gateway gw listener b is already claimed by Route r1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(g *v1alpha1.Gateway, _ *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
				g.Spec.Listeners = tt.listeners
				v.Spec.TrackGateway.Listener = tt.listeners[0].Name
				objs := []v1alpha1.Object{g, v, z}
				for _, r := range tt.routes {
					objs = append(objs, r)
				}
				return objs
			}, tt.want...)
		})
	}
}

func TestValidateRouteConflicts(t *testing.T) {
	second := func() *v1alpha1.Route {
		r := baseRoute()
		r.Metadata = meta("other", 5)
		r.Spec.Services = nil
		r.Spec.Rules[0].BackendRefs = []v1alpha1.BackendRef{{Name: "other", Port: ptr(v1alpha1.PortNumber(80))}}
		return r
	}
	tests := []struct {
		name   string
		mutate func(r2 *v1alpha1.Route)
		want   []string
	}{
		{"same host, path and match", func(*v1alpha1.Route) {},
			[]string{`test.yaml doc 5: Route other: spec.rules[0].matches[0]: host "app.example.com" with this match on Gateway gw listener http is already claimed by Route app (test.yaml doc 2)`}},
		{"parentRef to all listeners still conflicts", func(r2 *v1alpha1.Route) { r2.Spec.ParentRefs[0].SectionName = "" },
			[]string{"is already claimed by Route app"}},
		{"other path", func(r2 *v1alpha1.Route) { r2.Spec.Rules[0].Matches[0].Path.Value = "/web" }, nil},
		{"other path type", func(r2 *v1alpha1.Route) { r2.Spec.Rules[0].Matches[0].Path.Type = v1alpha1.PathMatchExact }, nil},
		{"extra header", func(r2 *v1alpha1.Route) {
			r2.Spec.Rules[0].Matches[0].Headers = []v1alpha1.HeaderMatch{{Name: "X-Canary", Value: "1"}}
		}, nil},
		{"other hostname", func(r2 *v1alpha1.Route) { r2.Spec.Hostnames[0] = "web.example.com" }, nil},
		{"same service name", func(r2 *v1alpha1.Route) {
			r2.Spec.Hostnames[0] = "web.example.com"
			r2.Spec.Services = []v1alpha1.RouteService{{Name: "app", ServiceSpec: v1alpha1.ServiceSpec{Image: "nginx"}}}
		}, []string{`spec.services[0].name: is already a swarm service declared by Route app (test.yaml doc 2)`}},
		{"same service name in another namespace", func(r2 *v1alpha1.Route) {
			r2.Metadata.Namespace = "shop"
			r2.Spec.Hostnames[0] = "web.example.com"
			r2.Spec.Services = []v1alpha1.RouteService{{Name: "app", ServiceSpec: v1alpha1.ServiceSpec{Image: "nginx"}}}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
				g.Spec.Listeners[0].AllowedRoutes = allowAll()
				r2 := second()
				tt.mutate(r2)
				return []v1alpha1.Object{g, r, v, z, r2}
			}, tt.want...)
		})
	}
}

func TestValidateVirtualIP(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(v *v1alpha1.VirtualIP)
		want   []string
	}{
		{"address without prefix", func(v *v1alpha1.VirtualIP) { v.Spec.Address = "172.22.1.5" },
			[]string{`spec.address: is not an address with a prefix length`}},
		{"IPv6", func(v *v1alpha1.VirtualIP) { v.Spec.Address, v.Spec.Version = "fd00::5/64", 3 }, nil},
		{"IPv6 with VRRP v2", func(v *v1alpha1.VirtualIP) { v.Spec.Address = "fd00::5/64" }, []string{`spec.address: is IPv6, which needs VRRP version 3`}},
		{"password with a definition", func(v *v1alpha1.VirtualIP) { v.Spec.Auth = &v1alpha1.VRRPAuth{Password: "$PW"} },
			[]string{"spec.auth.password: must be 1 to 8 characters"}},
		{"multicast", func(v *v1alpha1.VirtualIP) { v.Spec.Address = "224.0.0.18/32" }, []string{"is not a unicast address"}},
		{"router ID 0", func(v *v1alpha1.VirtualIP) { v.Spec.VirtualRouterID = 0 }, []string{"spec.virtualRouterID: must be 1 to 255"}},
		{"router ID 256", func(v *v1alpha1.VirtualIP) { v.Spec.VirtualRouterID = 256 }, []string{"spec.virtualRouterID: must be 1 to 255"}},
		{"priority 255", func(v *v1alpha1.VirtualIP) { v.Spec.Nodes[0].Priority = 255 }, []string{"spec.nodes[0].priority: must be 1 to 254"}},
		{"priority 0", func(v *v1alpha1.VirtualIP) { v.Spec.Nodes[1].Priority = 0 }, []string{"spec.nodes[1].priority: must be 1 to 254"}},
		{"equal priorities", func(v *v1alpha1.VirtualIP) { v.Spec.Nodes[1].Priority = 150 },
			[]string{"spec.nodes[1].priority: is duplicated: node node1 has it too"}},
		{"no nodes", func(v *v1alpha1.VirtualIP) { v.Spec.Nodes = nil }, []string{"spec.nodes: is required"}},
		{"zone", func(v *v1alpha1.VirtualIP) { v.Spec.Nodes, v.Spec.Zone = nil, "dmz" }, nil},
		{"nodes and zone", func(v *v1alpha1.VirtualIP) { v.Spec.Zone = "dmz" }, []string{"spec.zone: is forbidden: set either nodes or zone"}},
		{"unknown zone", func(v *v1alpha1.VirtualIP) { v.Spec.Nodes, v.Spec.Zone = nil, "edge" }, []string{`spec.zone: names no Zone`}},
		{"password too long", func(v *v1alpha1.VirtualIP) { v.Spec.Auth = &v1alpha1.VRRPAuth{Password: "YOUR_RANDOM_PASSWORD"} },
			[]string{"spec.auth.password: is 20 characters; keepalived uses only the first 8"}},
		{"password with quote", func(v *v1alpha1.VirtualIP) { v.Spec.Auth = &v1alpha1.VRRPAuth{Password: `a"b`} },
			[]string{"spec.auth.password: must be 1 to 8 characters: letters, digits"}},
		{"auth with v3", func(v *v1alpha1.VirtualIP) {
			v.Spec.Version, v.Spec.Auth = 3, &v1alpha1.VRRPAuth{Password: "secret"}
		}, []string{"spec.auth: is forbidden: VRRP version 3 has no authentication"}},
		{"sub-second with v2", func(v *v1alpha1.VirtualIP) { v.Spec.AdvertInterval = "500ms" },
			[]string{`spec.advertInterval: must be whole seconds`}},
		{"sub-second with v3", func(v *v1alpha1.VirtualIP) { v.Spec.Version, v.Spec.AdvertInterval = 3, "250ms" }, nil},
		{"v3 too fine", func(v *v1alpha1.VirtualIP) { v.Spec.Version, v.Spec.AdvertInterval = 3, "5ms" },
			[]string{`spec.advertInterval: must be hundredths of a second`}},
		{"version 4", func(v *v1alpha1.VirtualIP) { v.Spec.Version = 4 }, []string{"spec.version: must be 2 or 3"}},
		{"interface too long", func(v *v1alpha1.VirtualIP) { v.Spec.Nodes[0].Interface = "averyverylongname0" },
			[]string{`spec.nodes[0].interface: is not a valid network interface name`}},
		{"interface injection", func(v *v1alpha1.VirtualIP) { v.Spec.Interface = "eth0\n}" }, []string{"spec.interface"}},
		{"preempt delay without preempt", func(v *v1alpha1.VirtualIP) { v.Spec.Preempt, v.Spec.PreemptDelay = ptr(false), "10s" },
			[]string{"spec.preemptDelay: is forbidden"}},
		{"unknown tracked gateway", func(v *v1alpha1.VirtualIP) { v.Spec.TrackGateway.Name = "edge" },
			[]string{`spec.trackGateway.name: names no Gateway`}},
		{"unknown tracked listener", func(v *v1alpha1.VirtualIP) { v.Spec.TrackGateway.Listener = "https" },
			[]string{`spec.trackGateway.listener: names no listener of Gateway gw`}},
		{"no image", func(v *v1alpha1.VirtualIP) { v.Spec.Image = "" }, []string{"spec.image: is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(_ *v1alpha1.Gateway, _ *v1alpha1.Route, v *v1alpha1.VirtualIP, _ *v1alpha1.Zone) []v1alpha1.Object {
				tt.mutate(v)
				return nil
			}, tt.want...)
		})
	}
}

func TestValidateVirtualIPAcrossObjects(t *testing.T) {
	// The blog's mistake: one VirtualIP per node, each with its own virtual_router_id.
	check(t, func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
		v2 := baseVirtualIP()
		v2.Metadata = meta("vip-node2", 5)
		v2.Spec.VirtualRouterID = 102
		return []v1alpha1.Object{g, r, v, z, v2}
	}, `test.yaml doc 5: VirtualIP vip-node2: spec.address: is already held by VirtualIP vip (test.yaml doc 3); all nodes of one virtual IP form one VRRP instance`)
	check(t, func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
		v2 := baseVirtualIP()
		v2.Metadata = meta("vip2", 5)
		v2.Spec.Address = "172.22.1.6/24"
		return []v1alpha1.Object{g, r, v, z, v2}
	}, "spec.virtualRouterID: is already used by VirtualIP vip (test.yaml doc 3)")
	// A zone's nodes get priorities falling from 250 one apart: it can place 250 nodes, no more.
	for _, tt := range []struct {
		nodes int
		want  []string
	}{
		{v1alpha1.MaxZoneNodesForVirtualIP, nil},
		{v1alpha1.MaxZoneNodesForVirtualIP + 1, []string{"test.yaml doc 3: VirtualIP vip: spec.zone: names a Zone of 251 nodes; VRRP priorities give a virtual IP at most 250"}},
	} {
		check(t, func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			v.Spec.Nodes, v.Spec.Zone = nil, "dmz"
			z.Spec.Nodes = nil
			for i := range tt.nodes {
				z.Spec.Nodes = append(z.Spec.Nodes, fmt.Sprintf("node%d", i))
			}
			return nil
		}, tt.want...)
	}
}

func TestValidateZone(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(z *v1alpha1.Zone) []v1alpha1.Object
		want   []string
	}{
		{"no nodes", func(z *v1alpha1.Zone) []v1alpha1.Object { z.Spec.Nodes = nil; return nil }, []string{"spec.nodes: is required"}},
		{"bad node", func(z *v1alpha1.Zone) []v1alpha1.Object { z.Spec.Nodes[0] = "node 1"; return nil },
			[]string{`spec.nodes[0]: is not a valid node hostname`}},
		{"zone label", func(z *v1alpha1.Zone) []v1alpha1.Object { z.Spec.Labels = map[string]string{"zone": "x"}; return nil },
			[]string{"spec.labels[zone]: is forbidden"}},
		{"label value with operator", func(z *v1alpha1.Zone) []v1alpha1.Object {
			z.Spec.Labels = map[string]string{"tier": "a==b"}
			return nil
		}, []string{`spec.labels[tier]: is not a valid node label value`}},
		{"node in two zones", func(z *v1alpha1.Zone) []v1alpha1.Object {
			z2 := baseZone()
			z2.Metadata = meta("manager", 5)
			z2.Spec.Nodes = []string{"node0", "node2"}
			z2.Spec.Labels = map[string]string{"tier": "core"}
			return []v1alpha1.Object{z2}
		}, []string{`test.yaml doc 5: Zone manager: spec.nodes[1]: is already in Zone dmz (test.yaml doc 4); a node carries one zone label`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
				if extra := tt.mutate(z); extra != nil {
					return append([]v1alpha1.Object{g, r, v, z}, extra...)
				}
				return nil
			}, tt.want...)
		})
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	g, r, v, z := baseSet()
	r.Spec.Hostnames[0] = "Bad_Host"
	v.Spec.VirtualRouterID = 300
	got := validate(g, r, v, z)
	if len(got) != 2 {
		t.Fatalf("want both mistakes reported, got:\n%s", strings.Join(got, "\n"))
	}
}

func TestValidateReferenceGrant(t *testing.T) {
	group := "gateway.networking.k8s.io"
	bad := "not a name!"
	for _, tc := range []struct {
		name  string
		grant v1alpha1.ReferenceGrant
		want  []string
	}{
		{"valid", v1alpha1.ReferenceGrant{Metadata: v1alpha1.ObjectMeta{Name: "g", Namespace: "stack"}, Spec: v1alpha1.ReferenceGrantSpec{
			From: []v1alpha1.ReferenceGrantFrom{{Kind: v1alpha1.KindRoute, Namespace: "shop"}, {Kind: v1alpha1.KindRoute}},
			To:   []v1alpha1.ReferenceGrantTo{{Kind: "Service"}}}}, nil},
		{"no namespace, no lists", v1alpha1.ReferenceGrant{Metadata: v1alpha1.ObjectMeta{Name: "g"}},
			[]string{"metadata.namespace: is required", "spec.from: is required", "spec.to: is required"}},
		{"kinds and names", v1alpha1.ReferenceGrant{Metadata: v1alpha1.ObjectMeta{Name: "g", Namespace: "stack"}, Spec: v1alpha1.ReferenceGrantSpec{
			From: []v1alpha1.ReferenceGrantFrom{{Group: &group, Kind: "HTTPRoute", Namespace: "Shop"}},
			To:   []v1alpha1.ReferenceGrantTo{{Kind: "Secret"}, {Kind: "Service", Name: &bad}}}},
			[]string{"spec.from[0].kind: is not Route", "spec.from[0].namespace: is not a valid DNS-1123 label", "spec.to[0].kind: is not Service", "spec.to[1].name: is not a valid service name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.grant
			g.TypeMeta = typeMeta(v1alpha1.KindReferenceGrant)
			g.Metadata.Origin = v1alpha1.Origin{File: "test.yaml", Doc: 1}
			got := validate(&g)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("error %d: %s, want it to contain %s", i, got[i], w)
				}
			}
		})
	}
}
