package v1alpha1

// The longest lists an object may hold: the Gateway API's own limits where it has one. They bound
// the work validation does across objects (every hostname with every match of every Route), so
// that no input, however hostile, costs more than a bounded multiple of its size.
const (
	MaxListeners   = 64 // Gateway spec.listeners, as the Gateway API's Gateway
	MaxParentRefs  = 32 // Route spec.parentRefs, as HTTPRoute
	MaxHostnames   = 16 // Route spec.hostnames
	MaxRules       = 16 // Route spec.rules
	MaxMatches     = 64 // a rule's matches
	MaxFilters     = 16 // a rule's filters
	MaxBackendRefs = 16 // a rule's backendRefs
	MaxHeaders     = 16 // a match's headers, a header modifier's set, add and remove
	MaxQueryParams = 16 // a match's queryParams
	MaxServices    = 64 // Route spec.services
	MaxEnv         = 1024
)

// The ranges of numbers whose bounds are not the Go type's: VRRP's (RFC 5798: a router ID is 1 to
// 255; priority 255 belongs to the address owner, 0 to a master leaving) and backend weights (the
// Gateway API's).
const (
	MinVirtualRouterID = 1
	MaxVirtualRouterID = 255
	MinPriority        = 1
	MaxPriority        = 254
	MaxWeight          = 1000000
)

// A VirtualIP placed on a Zone gives the zone's nodes priorities falling from ZoneTopPriority, at
// least one apart, so it can place at most MaxZoneNodesForVirtualIP nodes.
const (
	ZoneTopPriority          = 250
	MaxZoneNodesForVirtualIP = ZoneTopPriority - MinPriority + 1
)

// Swarm's limits on the names of its objects (its own errors: "name must be 63 characters or
// fewer", "only 64 [a-zA-Z0-9-_.] characters allowed"). Validation holds the names a manifest
// gives to them; the names swarmgate derives from longer parts (a gateway's config secret, a
// route's own network) are shortened to them, so that whatever validates can be written.
const (
	MaxServiceNameLength = 63 // services
	MaxNetworkNameLength = 63 // networks
	MaxSecretNameLength  = 64 // secrets and configs
)
