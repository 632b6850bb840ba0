// Package v1alpha1 holds the swarmgate.io/v1alpha1 API: the kinds Gateway, Route, Service, VirtualIP,
// Zone, ReferenceGrant and the policies that users write as YAML manifests, and the explicit
// defaulting applied to them after decoding.
//
// The types know nothing of Docker: they describe what a user wants, and the reconciler translates
// them into swarm objects. Names and semantics follow the Kubernetes Gateway API
// (gateway.networking.k8s.io/v1 Gateway and HTTPRoute) wherever they fit a swarm.
package v1alpha1
