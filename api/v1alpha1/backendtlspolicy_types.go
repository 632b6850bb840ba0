package v1alpha1

// KindBackendTLSPolicy has gateways speak TLS to backend services (the Gateway API's
// BackendTLSPolicy).
const KindBackendTLSPolicy Kind = "BackendTLSPolicy"

// BackendTLSPolicy has every gateway reach its target services over TLS, verifying their
// certificate against CA certificates and a hostname, which it also sends as the server name
// (SNI): HTTP backends by https, gRPC backends by grpcs. It follows the Gateway API's
// BackendTLSPolicy.
type BackendTLSPolicy struct {
	TypeMeta `json:",inline"`
	// Metadata names the policy.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired policy.
	Spec BackendTLSPolicySpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (p *BackendTLSPolicy) GetObjectMeta() *ObjectMeta { return &p.Metadata }

// Default implements Object.
func (p *BackendTLSPolicy) Default() {
	for i := range p.Spec.Validation.CACertificateRefs {
		if p.Spec.Validation.CACertificateRefs[i].Kind == "" {
			p.Spec.Validation.CACertificateRefs[i].Kind = "Secret"
		}
	}
}

// BackendTLSPolicySpec is what a BackendTLSPolicy asks for.
type BackendTLSPolicySpec struct {
	// TargetRefs are the services reached over TLS. At least one, at most 16.
	TargetRefs []BackendTLSTargetRef `json:"targetRefs"`
	// Validation says how their certificates are verified.
	Validation BackendTLSValidation `json:"validation"`
}

// BackendTLSTargetRef names a swarm service (the Gateway API's group "", kind Service).
type BackendTLSTargetRef struct {
	// Group is "", the default.
	Group string `json:"group,omitempty"`
	// Kind is Service.
	Kind string `json:"kind"`
	// Name is the swarm service's name as backendRefs resolve it: "<namespace>_<name>" for a
	// service of a stack, as `docker service ls` shows it.
	Name string `json:"name"`
}

// WellKnownCACertificates names a set of trusted CAs other than those of a secret.
type WellKnownCACertificates string

// WellKnownCACertificatesSystem is the CA bundle of the gateway's image
// (/etc/ssl/certs/ca-certificates.crt).
const WellKnownCACertificatesSystem WellKnownCACertificates = "System"

// BackendTLSValidation says how a backend's certificate is verified: against the CAs of one swarm
// secret or the system's, and for a hostname.
type BackendTLSValidation struct {
	// CACertificateRefs is the swarm secret holding the PEM CA certificates to trust (kind Secret,
	// the default; group ""). At most one: nginx reads one CA file per backend. Or
	// WellKnownCACertificates.
	CACertificateRefs []CACertificateRef `json:"caCertificateRefs,omitempty"`
	// WellKnownCACertificates is System: the CAs of the gateway's image.
	WellKnownCACertificates WellKnownCACertificates `json:"wellKnownCACertificates,omitempty"`
	// Hostname is the name the backend's certificate must hold, also sent as the TLS server name
	// (SNI). A DNS name without wildcard.
	Hostname Hostname `json:"hostname"`
}

// CACertificateRef names a swarm secret of CA certificates.
type CACertificateRef struct {
	// Group is "", the default.
	Group string `json:"group,omitempty"`
	// Kind is Secret, the default.
	Kind string `json:"kind,omitempty"`
	// Name of the swarm secret.
	Name string `json:"name"`
}
