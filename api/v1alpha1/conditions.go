package v1alpha1

// ConditionType names a condition of an object's status. The types and their reasons follow the
// Gateway API's; swarm has no API server, so status is computed by reading the swarm, never stored.
type ConditionType string

// The condition types.
const (
	// ConditionAccepted says the object is valid and swarmgate converges it.
	ConditionAccepted ConditionType = "Accepted"
	// ConditionResolvedRefs says every backend a Route names exists and its gateway reaches it.
	ConditionResolvedRefs ConditionType = "ResolvedRefs"
	// ConditionProgrammed says the swarm holds what the object asks for.
	ConditionProgrammed ConditionType = "Programmed"
	// ConditionReady says the object serves: its tasks run and, for a VirtualIP, exactly one node
	// holds the address and it answers.
	ConditionReady ConditionType = "Ready"
)

// ConditionStatus is True, False or Unknown.
type ConditionStatus string

// The condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// ConditionReason says why a condition has its status.
type ConditionReason string

// The reasons.
const (
	ReasonAccepted            ConditionReason = "Accepted"
	ReasonResolvedRefs        ConditionReason = "ResolvedRefs"
	ReasonBackendNotFound     ConditionReason = "BackendNotFound"
	ReasonBackendNotReachable ConditionReason = "BackendNotReachable"
	ReasonProgrammed          ConditionReason = "Programmed"
	ReasonDrifted             ConditionReason = "Drifted"
	ReasonMissing             ConditionReason = "Missing"
	ReasonReady               ConditionReason = "Ready"
	ReasonNotProgrammed       ConditionReason = "NotProgrammed"
	ReasonTasksNotRunning     ConditionReason = "TasksNotRunning"
	// ReasonNoHolder: no node of a VirtualIP holds its address.
	ReasonNoHolder ConditionReason = "NoHolder"
	// ReasonSplitBrain: more than one node holds a VirtualIP's address, typically because their
	// VRRP adverts do not reach each other (a firewall dropping protocol 112, a partition).
	ReasonSplitBrain ConditionReason = "SplitBrain"
	// ReasonNotAnswering: a VirtualIP's address is held but its gateway does not answer there.
	ReasonNotAnswering ConditionReason = "NotAnswering"
	// ReasonUnobservable: no node's VRRP agent could be asked (from where the question was asked).
	ReasonUnobservable ConditionReason = "Unobservable"
)
