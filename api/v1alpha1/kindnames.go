package v1alpha1

import "strings"

// Plural is the kind's name for many objects, lower case, as kubectl names resources: "routes",
// "securitypolicies".
func (k Kind) Plural() string {
	l := strings.ToLower(string(k))
	if s, ok := strings.CutSuffix(l, "y"); ok && !strings.ContainsAny(s[len(s)-1:], "aeiou") {
		return s + "ies" // policy, but gateway
	}
	return l + "s"
}

// ShortNames are the kind's abbreviations, as kubectl takes them: the Gateway API's own (gtw,
// refgrant) and Envoy Gateway's for its policies (sp, ctp, btp), and gw, rt, vip.
func (k Kind) ShortNames() []string { return shortNames[k] }

var shortNames = map[Kind][]string{
	KindGateway:              {"gw", "gtw"},
	KindRoute:                {"rt"},
	KindVirtualIP:            {"vip"},
	KindReferenceGrant:       {"refgrant"},
	KindSecurityPolicy:       {"sp"},
	KindClientTrafficPolicy:  {"ctp"},
	KindBackendTrafficPolicy: {"btp"},
}
