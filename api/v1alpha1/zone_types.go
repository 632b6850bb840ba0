package v1alpha1

// ZoneLabel is the node label that places a node in a zone, as in `node.labels.zone==dmz`.
const ZoneLabel = "zone"

// Zone is a set of swarm nodes that carry the label zone=<name> (and any extra labels), so services
// can be placed on them with the constraint node.labels.zone==<name>.
type Zone struct {
	TypeMeta `json:",inline"`
	// Metadata names the zone; the name is the value of the zone label.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired zone.
	Spec ZoneSpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (z *Zone) GetObjectMeta() *ObjectMeta { return &z.Metadata }

// ZoneSpec is the desired state of a Zone.
type ZoneSpec struct {
	// Nodes are the hostnames of the swarm nodes in the zone. At least one; a node is in at most
	// one zone.
	Nodes []string `json:"nodes"`
	// Labels are extra node labels set on every node of the zone. The key "zone" and keys under
	// "swarmgate.io/" are reserved.
	Labels map[string]string `json:"labels,omitempty"`
}

// Default implements Object. A Zone has no optional fields with defaults.
func (z *Zone) Default() {}
