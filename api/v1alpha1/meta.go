package v1alpha1

import (
	"fmt"
	"strings"
)

// GroupVersion is the apiVersion every swarmgate manifest carries.
const GroupVersion = "swarmgate.io/v1alpha1"

// Kind names one of the object kinds of this API.
type Kind string

// The kinds of this API.
const (
	KindGateway   Kind = "Gateway"
	KindRoute     Kind = "Route"
	KindVirtualIP Kind = "VirtualIP"
	KindZone      Kind = "Zone"
	// KindReferenceGrant lets Routes use services of other namespaces.
	KindReferenceGrant Kind = "ReferenceGrant"
	// KindService runs a swarm service no Route needs to reach.
	KindService Kind = "Service"
	// KindSecret is a swarm secret made from a SOPS-encrypted file of the source.
	KindSecret Kind = "Secret"
	// KindConfig is a swarm config made from a file of the source.
	KindConfig Kind = "Config"
)

// Kinds lists every kind in the order objects of that kind are converged: zones label nodes before
// anything is placed on them, gateways own the networks routes join, virtual IPs track gateways.
// Policies have no swarm objects of their own: they change the configs of the gateways they target.
// Services are planned with the services of Routes, in the order of their dependsOn and hooks;
// the secrets and configs they mount are made before any service.
var Kinds = []Kind{KindZone, KindReferenceGrant, KindGateway, KindRoute, KindGRPCRoute, KindTCPRoute, KindTLSRoute, KindUDPRoute, KindVirtualIP,
	KindSecurityPolicy, KindClientTrafficPolicy, KindBackendTrafficPolicy, KindBackendTLSPolicy, KindService,
	KindSecret, KindConfig}

// LabelPrefix is reserved for the labels swarmgate itself puts on the swarm objects it owns; a
// manifest may not set labels under it.
const LabelPrefix = "swarmgate.io/"

// TypeMeta names the API version and kind of an object.
type TypeMeta struct {
	// APIVersion must be "swarmgate.io/v1alpha1".
	APIVersion string `json:"apiVersion"`
	// Kind is one of Gateway, Route, GRPCRoute, TCPRoute, TLSRoute, UDPRoute, Service, Secret,
	// Config, VirtualIP, Zone, ReferenceGrant, SecurityPolicy, ClientTrafficPolicy,
	// BackendTrafficPolicy or
	// BackendTLSPolicy.
	Kind Kind `json:"kind"`
}

// ObjectMeta is the metadata every object carries.
type ObjectMeta struct {
	// Name identifies the object among objects of its kind. It must be a DNS-1123 label
	// (lowercase letters, digits and '-', at most 63 characters) because it names swarm services.
	Name string `json:"name"`
	// Namespace, when set, is the stack the object belongs to: swarm objects created for it are
	// named "<namespace>_<name>", as `docker stack deploy` names them. A DNS-1123 label.
	Namespace string `json:"namespace,omitempty"`
	// Labels are copied onto the swarm objects created for this object. Keys under
	// "swarmgate.io/" are reserved.
	Labels map[string]string `json:"labels,omitempty"`

	// Origin records where the object was read from. It is never part of a manifest.
	Origin Origin `json:"-"`
}

// QualifiedName is the name swarm objects created for this object carry: "<namespace>_<name>", or
// just the name when there is no namespace.
func (m *ObjectMeta) QualifiedName() string {
	return StackName(m.Namespace, m.Name)
}

// StackName joins a stack (namespace) and a name the way `docker stack deploy` does.
func StackName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "_" + name
}

// Origin is the place an object was read from: a file (or "<stdin>") and the 1-based index and first
// line of the YAML document within it.
type Origin struct {
	File string
	Doc  int
	Line int
	// Lines reads the lines in the file of the document's fields, by path ("spec.hostnames[0]"),
	// when an error needs them; nil when unknown.
	Lines func() map[string]int
}

// String formats the origin as errors show it: "manifests/app.yaml doc 2".
func (o Origin) String() string {
	if o.File == "" {
		return "<unknown>"
	}
	return fmt.Sprintf("%s doc %d", o.File, o.Doc)
}

// At formats where a field of the object was read, as an editor jumps to it:
// "manifests/app.yaml:14 doc 2". A field the document does not hold (a default, a required field
// left out) is placed at its nearest parent that it does; the object, at its document's first line.
func (o Origin) At(path string) string {
	if o.File == "" || o.Line == 0 {
		return o.String()
	}
	line := o.Line
	var lines map[string]int
	if o.Lines != nil {
		lines = o.Lines()
	}
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := lines[p]; ok {
			line = l
			break
		}
	}
	return fmt.Sprintf("%s:%d doc %d", o.File, line, o.Doc)
}

// parentPath is the path one step up: "spec.rules[0]" of "spec.rules[0].matches", "spec.rules"
// of "spec.rules[0]".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Object is implemented by every kind of this API.
type Object interface {
	// GetTypeMeta returns the object's apiVersion and kind.
	GetTypeMeta() *TypeMeta
	// GetObjectMeta returns the object's metadata.
	GetObjectMeta() *ObjectMeta
	// Default fills every unset optional field with its documented default.
	Default()
}

// Ref formats an object as errors and logs name it: "Route dmzhttp", or "Route <unnamed>".
func Ref(o Object) string {
	name := o.GetObjectMeta().Name
	if name == "" {
		name = "<unnamed>"
	}
	return fmt.Sprintf("%s %s", o.GetTypeMeta().Kind, name)
}

// GetTypeMeta implements Object.
func (t *TypeMeta) GetTypeMeta() *TypeMeta { return t }

// New returns an empty object of the given kind, or nil if the kind is unknown.
func New(kind Kind) Object {
	switch kind {
	case KindGateway:
		return &Gateway{}
	case KindRoute:
		return &Route{}
	case KindGRPCRoute:
		return &GRPCRoute{}
	case KindTCPRoute:
		return &TCPRoute{}
	case KindTLSRoute:
		return &TLSRoute{}
	case KindUDPRoute:
		return &UDPRoute{}
	case KindVirtualIP:
		return &VirtualIP{}
	case KindZone:
		return &Zone{}
	case KindReferenceGrant:
		return &ReferenceGrant{}
	case KindService:
		return &Service{}
	case KindSecret:
		return &Secret{}
	case KindConfig:
		return &Config{}
	case KindSecurityPolicy:
		return &SecurityPolicy{}
	case KindClientTrafficPolicy:
		return &ClientTrafficPolicy{}
	case KindBackendTrafficPolicy:
		return &BackendTrafficPolicy{}
	case KindBackendTLSPolicy:
		return &BackendTLSPolicy{}
	}
	return nil
}
