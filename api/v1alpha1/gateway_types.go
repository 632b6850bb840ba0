package v1alpha1

// Gateway is an nginx service that publishes listener ports for many web apps and forwards each
// request to the backend its Routes name, over an attachable overlay network.
type Gateway struct {
	TypeMeta `json:",inline"`
	// Metadata names the gateway; the gateway's swarm service carries its qualified name.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired gateway.
	Spec GatewaySpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (g *Gateway) GetObjectMeta() *ObjectMeta { return &g.Metadata }

// DefaultGatewayImage is the nginx image a Gateway runs when spec.image is not set.
const DefaultGatewayImage = "nginx:stable"

// DefaultNetworkName is the overlay network a Gateway and its backends share unless told otherwise;
// it is the network of the blog setup swarmgate automates.
const DefaultNetworkName = "nginx_default"

// GatewaySpec is the desired state of a Gateway.
type GatewaySpec struct {
	// Image is the nginx image to run. Defaults to "nginx:stable". The image must load the
	// configuration swarmgate mounts at /etc/nginx/conf.d/default.conf.
	Image string `json:"image,omitempty"`
	// Mode is Replicated (the default) or Global (one task on every node of the zone).
	Mode ServiceMode `json:"mode,omitempty"`
	// Replicas is the number of gateway tasks in Replicated mode. Defaults to 1; not allowed in
	// Global mode.
	Replicas *int32 `json:"replicas,omitempty"`
	// Zone, when set, places the gateway's tasks on the nodes of that Zone only.
	Zone string `json:"zone,omitempty"`
	// Listeners are the ports the gateway publishes. At least one.
	Listeners []Listener `json:"listeners"`
	// Network is the overlay network the gateway reaches its backends on.
	Network GatewayNetwork `json:"network,omitempty"`
	// UpdatePolicy says how swarm rolls out a new gateway configuration.
	UpdatePolicy *UpdatePolicy `json:"updatePolicy,omitempty"`
	// RollbackPolicy says how swarm rolls back a failed update.
	RollbackPolicy *UpdatePolicy `json:"rollbackPolicy,omitempty"`
	// RestartPolicy says when swarm restarts gateway tasks.
	RestartPolicy *RestartPolicy `json:"restartPolicy,omitempty"`
	// Resources bounds and reserves CPU and memory for each gateway task.
	Resources *Resources `json:"resources,omitempty"`
	// Agent, when set, runs swarmgate's gateway agent in each task (`swarmgate gateway`, the
	// entrypoint of swarmgate's nginx image): it takes every new config from the operator
	// (`swarmgate run`) and reloads nginx in place, so a route change drops no request and the
	// config is not bound by a swarm secret's size. Without it, a new config replaces the tasks.
	Agent *GatewayAgent `json:"agent,omitempty"`
}

// GatewayAgent says how a gateway's agents reach the operator.
type GatewayAgent struct {
	// OperatorURL is where the gateway's tasks reach `swarmgate run` (its --listen address as
	// seen from a task), e.g. "http://10.0.0.1:9090".
	OperatorURL string `json:"operatorURL"`
	// TokenSecret names an existing swarm secret that holds the token the agents present to the
	// operator (whose --agent-token-file holds the same). swarmgate mounts it, never changes it.
	TokenSecret string `json:"tokenSecret"`
}

// SectionName names a part of an object, such as a listener of a Gateway. A DNS-1123 label.
type SectionName string

// ListenerProtocol is the protocol a listener accepts.
type ListenerProtocol string

// ProtocolHTTP is plain HTTP/1.1, the only protocol of v1alpha1.
const ProtocolHTTP ListenerProtocol = "HTTP"

// PublishMode says how swarm publishes a port.
type PublishMode string

// The publish modes.
const (
	// PublishModeIngress publishes the port on every node through swarm's routing mesh.
	PublishModeIngress PublishMode = "Ingress"
	// PublishModeHost publishes the port only on the nodes that run a gateway task.
	PublishModeHost PublishMode = "Host"
)

// Listener is a port the gateway publishes and serves HTTP on.
type Listener struct {
	// Name identifies the listener within its Gateway; Routes attach to it by this name.
	Name SectionName `json:"name"`
	// Port is the published port, 1 to 65535. nginx listens on the same port inside its task.
	Port PortNumber `json:"port"`
	// Protocol is HTTP, the default and only protocol of v1alpha1.
	Protocol ListenerProtocol `json:"protocol,omitempty"`
	// PublishMode is Ingress (the default: every node answers through the routing mesh) or Host
	// (only nodes that run a gateway task answer; needed where the routing mesh is unavailable and
	// to keep the client address).
	PublishMode PublishMode `json:"publishMode,omitempty"`
}

// Isolation says which networks a gateway shares with its backends.
type Isolation string

// The isolations.
const (
	// IsolationShared puts the gateway and every backend on one network, as the blog does.
	IsolationShared Isolation = "Shared"
	// IsolationPerRoute gives each Route a network of its own that only the gateway also joins, so
	// backends of different Routes cannot reach each other.
	IsolationPerRoute Isolation = "PerRoute"
)

// GatewayNetwork is the overlay network of a Gateway.
type GatewayNetwork struct {
	// Name of the attachable overlay network. Defaults to "nginx_default". With PerRoute isolation
	// it is the prefix of each Route's network name.
	Name string `json:"name,omitempty"`
	// Encrypted turns on IPsec encryption of the overlay's VXLAN traffic between nodes.
	Encrypted bool `json:"encrypted,omitempty"`
	// Isolation is Shared (the default) or PerRoute.
	Isolation Isolation `json:"isolation,omitempty"`
}

// Default implements Object.
func (g *Gateway) Default() {
	s := &g.Spec
	if s.Image == "" {
		s.Image = DefaultGatewayImage
	}
	if s.Mode == "" {
		s.Mode = ServiceModeReplicated
	}
	if s.Mode == ServiceModeReplicated && s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	for i := range s.Listeners {
		l := &s.Listeners[i]
		if l.Protocol == "" {
			l.Protocol = ProtocolHTTP
		}
		if l.PublishMode == "" {
			l.PublishMode = PublishModeIngress
		}
	}
	if s.Network.Name == "" {
		s.Network.Name = DefaultNetworkName
	}
	if s.Network.Isolation == "" {
		s.Network.Isolation = IsolationShared
	}
	defaultUpdatePolicy(s.UpdatePolicy)
	defaultUpdatePolicy(s.RollbackPolicy)
	defaultRestartPolicy(s.RestartPolicy)
}

// Listener returns the listener with the given name, or nil.
func (g *Gateway) Listener(name SectionName) *Listener {
	for i := range g.Spec.Listeners {
		if g.Spec.Listeners[i].Name == name {
			return &g.Spec.Listeners[i]
		}
	}
	return nil
}
