package main

import (
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/status"
)

// TestWideTable: -o wide adds what each object serves: hostnames and ports.
func TestWideTable(t *testing.T) {
	host := v1alpha1.Hostname("shop.example.com")
	objs := []v1alpha1.Object{
		&v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindGateway}, Metadata: v1alpha1.ObjectMeta{Name: "gw"},
			Spec: v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{{Name: "http", Port: 8080, Protocol: v1alpha1.ProtocolHTTP},
				{Name: "https", Port: 8443, Protocol: v1alpha1.ProtocolHTTPS, Hostname: &host}}}},
		&v1alpha1.Route{TypeMeta: v1alpha1.TypeMeta{Kind: v1alpha1.KindRoute}, Metadata: v1alpha1.ObjectMeta{Name: "shop"},
			Spec: v1alpha1.RouteSpec{Hostnames: []v1alpha1.Hostname{"shop.example.com", "www.shop.example.com"}}},
	}
	statuses := []status.ObjectStatus{{Kind: v1alpha1.KindGateway, Name: "gw"}, {Kind: v1alpha1.KindRoute, Name: "shop"}}
	var out strings.Builder
	if err := printTable(&out, statuses, objs, true, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"HOSTNAMES PORTS CONFIG", "Gateway gw - - shop.example.com 8080/HTTP,8443/HTTPS -",
		"Route shop - - shop.example.com,www.shop.example.com - -"} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("lacks %q:\n%s", want, out.String())
		}
	}
}

// TestTablePolicies: a policy's target shows, in its message, the policies attached to it and
// which of them do not apply there.
func TestTablePolicies(t *testing.T) {
	statuses := []status.ObjectStatus{{Kind: v1alpha1.KindGateway, Name: "gw", Sync: v1alpha1.Synced, Health: v1alpha1.Healthy,
		Policies: []status.AttachedPolicy{{Kind: v1alpha1.KindSecurityPolicy, Name: "auth", SectionName: "http", Reason: v1alpha1.ReasonAccepted},
			{Kind: v1alpha1.KindBackendTrafficPolicy, Name: "slow", Reason: v1alpha1.ReasonConflicted}}}}
	var out strings.Builder
	if err := printTable(&out, statuses, nil, false, false); err != nil {
		t.Fatal(err)
	}
	want := "Gateway gw Synced Healthy - policies: SecurityPolicy auth (http), BackendTrafficPolicy slow Conflicted"
	if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
		t.Errorf("lacks %q:\n%s", want, out.String())
	}
}
