package v1alpha1

import (
	"reflect"
	"testing"
)

func TestDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Object
		want Object
	}{
		{"gateway",
			&Gateway{Spec: GatewaySpec{Listeners: []Listener{{Name: "http", Port: 8080}}, UpdatePolicy: &UpdatePolicy{}}},
			&Gateway{Spec: GatewaySpec{
				Image: DefaultGatewayImage, Mode: ServiceModeReplicated, Replicas: ptr(int32(1)),
				Listeners:    []Listener{{Name: "http", Port: 8080, Protocol: ProtocolHTTP, PublishMode: PublishModeIngress}},
				Network:      GatewayNetwork{Name: DefaultNetworkName, Isolation: IsolationShared},
				UpdatePolicy: &UpdatePolicy{Parallelism: ptr(int32(1)), Order: UpdateOrderStopFirst, FailureAction: FailureActionPause},
			}}},
		{"global gateway keeps replicas unset",
			&Gateway{Spec: GatewaySpec{Mode: ServiceModeGlobal}},
			&Gateway{Spec: GatewaySpec{Image: DefaultGatewayImage, Mode: ServiceModeGlobal,
				Network: GatewayNetwork{Name: DefaultNetworkName, Isolation: IsolationShared}}}},
		{"route",
			&Route{Spec: RouteSpec{
				Rules: []RouteRule{
					{BackendRefs: []BackendRef{{Name: "app"}, {Name: "ext", Namespace: "shop"}}},
					{Filters: []RouteFilter{{Type: FilterRequestRedirect, RequestRedirect: &RequestRedirect{}}}},
				},
				Services: []RouteService{{Name: "app", ServiceSpec: ServiceSpec{Port: ptr(PortNumber(8888)), RestartPolicy: &RestartPolicy{}}}},
			}},
			&Route{Spec: RouteSpec{
				Rules: []RouteRule{
					{
						Matches:     []RouteMatch{{Path: &PathMatch{Type: PathMatchPathPrefix, Value: "/"}}},
						BackendRefs: []BackendRef{{Name: "app", Port: ptr(PortNumber(8888)), Weight: ptr(int32(1))}, {Name: "ext", Namespace: "shop", Weight: ptr(int32(1))}},
					},
					{
						Matches: []RouteMatch{{Path: &PathMatch{Type: PathMatchPathPrefix, Value: "/"}}},
						Filters: []RouteFilter{{Type: FilterRequestRedirect, RequestRedirect: &RequestRedirect{StatusCode: ptr(int32(302))}}},
					},
				},
				Services: []RouteService{{Name: "app", ServiceSpec: ServiceSpec{Port: ptr(PortNumber(8888)), Mode: ServiceModeReplicated, Replicas: ptr(int32(1)),
					EndpointMode: EndpointModeVIP, RestartPolicy: &RestartPolicy{Condition: RestartConditionAny}}}},
			}}},
		{"job",
			&Service{Spec: ServiceSpec{Mode: ServiceModeReplicatedJob, Hook: &Hook{Before: []string{"app"}}}},
			&Service{Spec: ServiceSpec{Mode: ServiceModeReplicatedJob, Replicas: ptr(int32(1)), EndpointMode: EndpointModeVIP,
				RestartPolicy: &RestartPolicy{Condition: RestartConditionOnFailure}, Hook: &Hook{Before: []string{"app"}, Timeout: ptr(DefaultHookTimeout)}}}},
		{"global service",
			&Service{Spec: ServiceSpec{Mode: ServiceModeGlobal}},
			&Service{Spec: ServiceSpec{Mode: ServiceModeGlobal, EndpointMode: EndpointModeVIP}}},
		{"virtual IP",
			&VirtualIP{},
			&VirtualIP{Spec: VirtualIPSpec{Interface: DefaultVRRPInterface, Version: DefaultVRRPVersion,
				AdvertInterval: DefaultVRRPAdvertInterval, Unicast: ptr(true), Preempt: ptr(true), StatusPort: DefaultVRRPStatusPort}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Default()
			if !reflect.DeepEqual(tt.in, tt.want) {
				t.Errorf("got  %+v\nwant %+v", tt.in, tt.want)
			}
			// Defaulting twice changes nothing.
			tt.in.Default()
			if !reflect.DeepEqual(tt.in, tt.want) {
				t.Errorf("second Default changed the object: %+v", tt.in)
			}
		})
	}
}

func TestQuantities(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"0.5", 5e8}, {"2", 2e9}, {"0.000000001", 1}, {"0", 0}, {"10000000000", 0}, {"1e3", 0}, {"-1", 0},
	} {
		got, err := ParseCPUs(tt.in)
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("ParseCPUs(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"512", 512}, {"1k", 1024}, {"256m", 256 << 20}, {"1.5G", 3 << 29}, {"1Gi", 1 << 30}, {"2GB", 2 << 30}, {"1 GB", 1 << 30},
		{"17179869184g", 0}, {"0", 0}, {"1XB", 0}, {"-1m", 0},
	} {
		got, err := ParseMemory(tt.in)
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"100Mi", 100 << 20, true}, {DefaultMaxRequestBodySize, 100 << 20, true}, {"1g", 1 << 30, true},
		{"0.1", 0, false}, {"00", 0, false}, {"-1", 0, false}, {"10 megabytes", 0, false},
	} {
		got, err := ParseBodySize(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseBodySize(%q) = %d, %v; want %d (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestIntersectHostname(t *testing.T) {
	h := func(s string) *Hostname { x := Hostname(s); return &x }
	for _, tc := range []struct {
		listener *Hostname
		route    Hostname
		want     Hostname
		ok       bool
	}{
		{nil, "a.example.com", "a.example.com", true},
		{h("a.example.com"), "a.example.com", "a.example.com", true},
		{h("a.example.com"), "b.example.com", "", false},
		{h("*.example.com"), "a.example.com", "a.example.com", true},
		{h("*.example.com"), "a.b.example.com", "a.b.example.com", true},
		{h("*.example.com"), "example.com", "", false},
		{h("a.example.com"), "*.example.com", "a.example.com", true},
		{h("*.example.com"), "*.b.example.com", "*.b.example.com", true},
		{h("*.b.example.com"), "*.example.com", "*.b.example.com", true},
		{h("*.example.com"), "*.example.org", "", false},
		{h("*.example.com"), "aexample.com", "", false},
	} {
		got, ok := IntersectHostname(tc.listener, tc.route)
		if got != tc.want || ok != tc.ok {
			l := "<none>"
			if tc.listener != nil {
				l = string(*tc.listener)
			}
			t.Errorf("IntersectHostname(%s, %s) = %q %v, want %q %v", l, tc.route, got, ok, tc.want, tc.ok)
		}
	}
	if !(Specificity(h("a.example.com")) > Specificity(h("*.b.example.com")) && Specificity(h("*.b.example.com")) > Specificity(h("*.example.com")) &&
		Specificity(h("*.example.com")) > Specificity(nil)) {
		t.Error("specificity: want exact > longer wildcard > shorter wildcard > none")
	}
}
