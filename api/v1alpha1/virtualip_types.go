package v1alpha1

// VirtualIP is a floating IP address that keepalived (VRRP) keeps on one healthy node of a set, so
// clients keep one address when a node dies. All nodes of one VirtualIP form one VRRP instance: they
// share its virtualRouterID, and the node with the highest priority holds the address.
type VirtualIP struct {
	TypeMeta `json:",inline"`
	// Metadata names the virtual IP.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired virtual IP.
	Spec VirtualIPSpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (v *VirtualIP) GetObjectMeta() *ObjectMeta { return &v.Metadata }

// Defaults of a VirtualIP.
const (
	DefaultVRRPInterface      = "eth0"
	DefaultVRRPAdvertInterval = Duration("1s")
	DefaultVRRPVersion        = 2
	// DefaultVRRPStatusPort is where each node's VRRP agent reports, on the node's host network.
	DefaultVRRPStatusPort = PortNumber(9177)
)

// VirtualIPSpec is the desired state of a VirtualIP.
type VirtualIPSpec struct {
	// Address is the virtual IP with its prefix length, e.g. "172.22.1.5/24".
	Address string `json:"address"`
	// Interface is the network interface that carries the address on every node, unless a node
	// overrides it. Defaults to "eth0".
	Interface string `json:"interface,omitempty"`
	// VirtualRouterID identifies this VRRP instance on the network, 1 to 255. Every node of the
	// virtual IP uses the same ID; two virtual IPs on one network need different IDs.
	VirtualRouterID int32 `json:"virtualRouterID"`
	// Version is the VRRP version, 2 (the default) or 3. Version 3 allows advert intervals below
	// one second, for sub-second failover, and has no authentication.
	Version int32 `json:"version,omitempty"`
	// AdvertInterval is how often the holder announces itself, e.g. "1s". Version 2 takes whole
	// seconds from 1s to 255s; version 3 takes hundredths of a second from 10ms to 40.95s.
	// Defaults to "1s".
	AdvertInterval Duration `json:"advertInterval,omitempty"`
	// Nodes are the nodes that may hold the address, with their priorities. Exactly one of Nodes
	// and Zone is set.
	Nodes []VRRPNode `json:"nodes,omitempty"`
	// Zone names a Zone whose nodes may hold the address; their priorities are computed from the
	// zone's node order, the first node highest.
	Zone string `json:"zone,omitempty"`
	// Unicast sends adverts to the other nodes' addresses instead of multicast, which many clouds
	// drop. Defaults to true.
	Unicast *bool `json:"unicast,omitempty"`
	// Preempt lets a node of higher priority take the address back when it returns. Defaults to true.
	Preempt *bool `json:"preempt,omitempty"`
	// PreemptDelay waits this long after start before preempting, e.g. "30s".
	PreemptDelay Duration `json:"preemptDelay,omitempty"`
	// Auth turns on VRRP version 2 password authentication. It is deprecated by the VRRP RFCs and
	// sent in clear text on the wire: it keeps apart misconfigured routers, not attackers.
	Auth *VRRPAuth `json:"auth,omitempty"`
	// TrackGateway, when set, moves the address away from a node whose local gateway task does not
	// answer on the listener's port.
	TrackGateway *GatewayTrack `json:"trackGateway,omitempty"`
	// Image is the keepalived image to run on each node, e.g. "swarmgate/keepalived:2.2". It must
	// hold keepalived and swarmgate's VRRP agent (`swarmgate vrrp-agent`), as the image
	// `make keepalived-image` builds does: the agent supervises keepalived, tells it whether the
	// local gateway answers, and reports whether the node holds the address.
	Image string `json:"image"`
	// StatusPort is the TCP port on each node's host network where the VRRP agent reports whether
	// the node holds the address (GET /vrrp/status); `get` and the operator read it to tell no
	// holder and two holders (split brain) apart from a healthy address. Defaults to 9177.
	StatusPort PortNumber `json:"statusPort,omitempty"`
}

// VRRPNode is a node that may hold a virtual IP.
type VRRPNode struct {
	// Hostname of the swarm node.
	Hostname string `json:"hostname"`
	// Priority, 1 to 254 and unique within the virtual IP: the highest live node holds the address.
	Priority int32 `json:"priority"`
	// Interface overrides spec.interface on this node.
	Interface string `json:"interface,omitempty"`
}

// VRRPAuth is VRRP version 2 password authentication.
type VRRPAuth struct {
	// Password shared by all nodes: 1 to 8 letters, digits or any of . _ + = / : , % ^ * -.
	// keepalived silently truncates longer passwords, so they are rejected. It is masked in logs
	// and diffs, but VRRP sends it in clear text.
	Password string `json:"password"`
}

// GatewayTrack names the gateway listener whose local health decides where a virtual IP lives.
type GatewayTrack struct {
	// Name of the Gateway.
	Name string `json:"name"`
	// Listener whose port is checked: an HTTP listener (the health check is plain HTTP), or a TCP
	// or TLS listener (checked by connecting to it; a TCP listener's check opens a connection to
	// its backend). Defaults to the gateway's first HTTP listener, or without one its first TCP
	// or TLS listener. UDP listeners cannot be checked.
	Listener SectionName `json:"listener,omitempty"`
}

// Default implements Object.
func (v *VirtualIP) Default() {
	s := &v.Spec
	if s.Interface == "" {
		s.Interface = DefaultVRRPInterface
	}
	if s.Version == 0 {
		s.Version = DefaultVRRPVersion
	}
	if s.AdvertInterval == "" {
		s.AdvertInterval = DefaultVRRPAdvertInterval
	}
	if s.Unicast == nil {
		s.Unicast = ptr(true)
	}
	if s.Preempt == nil {
		s.Preempt = ptr(true)
	}
	if s.StatusPort == 0 {
		s.StatusPort = DefaultVRRPStatusPort
	}
}
