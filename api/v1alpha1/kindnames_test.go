package v1alpha1

import (
	"slices"
	"testing"
)

func TestKindNames(t *testing.T) {
	for _, tt := range []struct {
		kind   Kind
		plural string
		short  []string
	}{
		{KindGateway, "gateways", []string{"gw", "gtw"}},
		{KindRoute, "routes", []string{"rt"}},
		{KindZone, "zones", nil},
		{KindVirtualIP, "virtualips", []string{"vip"}},
		{KindReferenceGrant, "referencegrants", []string{"refgrant"}},
		{KindSecurityPolicy, "securitypolicies", []string{"sp"}},
		{KindClientTrafficPolicy, "clienttrafficpolicies", []string{"ctp"}},
		{KindBackendTrafficPolicy, "backendtrafficpolicies", []string{"btp"}},
	} {
		if got := tt.kind.Plural(); got != tt.plural {
			t.Errorf("%s.Plural() = %q, want %q", tt.kind, got, tt.plural)
		}
		if got := tt.kind.ShortNames(); !slices.Equal(got, tt.short) {
			t.Errorf("%s.ShortNames() = %q, want %q", tt.kind, got, tt.short)
		}
	}
	// No name stands for two kinds.
	seen := map[string]Kind{}
	for _, k := range Kinds {
		for _, n := range append([]string{k.Plural()}, k.ShortNames()...) {
			if other, ok := seen[n]; ok {
				t.Errorf("%q names both %s and %s", n, other, k)
			}
			seen[n] = k
		}
	}
}
