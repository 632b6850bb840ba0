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

// AffectedCondition is the condition a policy's target shows while a policy of kind applies to
// it or to one of its listeners or rules, as the Gateway API's policy attachment (GEP-713) asks:
// "SecurityPolicyAffected".
func AffectedCondition(kind Kind) ConditionType { return ConditionType(string(kind) + "Affected") }

// SyncStatus says whether the swarm holds what an object asks for, as Argo CD's sync status does.
type SyncStatus string

// The sync statuses.
const (
	// Synced: the swarm holds what the applied object asks for.
	Synced SyncStatus = "Synced"
	// OutOfSync: it differs (the drift lists the fields), or the object is not applied as given.
	OutOfSync SyncStatus = "OutOfSync"
)

// HealthStatus says whether an object serves, apart from whether it is in sync: a Route may be in
// sync and answer 503 (its backend is missing), or be scaled by hand and serve well.
type HealthStatus string

// The health statuses, from best to worst.
const (
	// Healthy: every task runs; a Route's backends resolve; a VirtualIP's address is held once.
	Healthy HealthStatus = "Healthy"
	// Progressing: swarm is getting there (tasks starting, an update rolling out).
	Progressing HealthStatus = "Progressing"
	// Degraded: it is not serving as asked, and waiting will not fix it (the reason says why).
	Degraded HealthStatus = "Degraded"
	// Missing: the swarm lacks its services.
	Missing HealthStatus = "Missing"
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
	// ReasonInvalidKind: a backendRef names something other than a swarm service.
	ReasonInvalidKind ConditionReason = "InvalidKind"
	// ReasonRefNotPermitted: a backendRef names a service of another namespace that no
	// ReferenceGrant there shares.
	ReasonRefNotPermitted ConditionReason = "RefNotPermitted"
	ReasonProgrammed      ConditionReason = "Programmed"
	ReasonDrifted         ConditionReason = "Drifted"
	ReasonMissing         ConditionReason = "Missing"
	ReasonReady           ConditionReason = "Ready"
	ReasonNotProgrammed   ConditionReason = "NotProgrammed"
	ReasonTasksNotRunning ConditionReason = "TasksNotRunning"
	// ReasonTasksFailing: tasks do not run and the newest one failed (its error says why: a
	// missing image, a crash, no node that satisfies the constraints).
	ReasonTasksFailing ConditionReason = "TasksFailing"
	// ReasonHostPortInUse: a task waits for a node whose host-mode port something else holds;
	// it runs only once that lets go, so it is reported at once, naming the port and the holder.
	ReasonHostPortInUse ConditionReason = "HostPortInUse"
	// ReasonJobSucceeded, ReasonJobRunning, ReasonJobFailed: where a job's current run (since it
	// last changed) stands; a failed one says its newest failed task's error.
	ReasonJobSucceeded ConditionReason = "JobSucceeded"
	ReasonJobRunning   ConditionReason = "JobRunning"
	ReasonJobFailed    ConditionReason = "JobFailed"
	// ReasonUpdating: swarm is rolling out an update (or rolling one back).
	ReasonUpdating ConditionReason = "Updating"
	// ReasonUpdatePaused: swarm paused an update that failed (update failureAction pause).
	ReasonUpdatePaused ConditionReason = "UpdatePaused"
	// ReasonRolledBack: swarm rolled back an update that failed; the old spec runs.
	ReasonRolledBack ConditionReason = "RolledBack"
	// ReasonConfigRejected: a gateway agent's nginx refused the newest config (`nginx -t`); the
	// task keeps serving the one before.
	ReasonConfigRejected ConditionReason = "ConfigRejected"
	// ReasonConfigPending: a gateway agent has not taken the newest config yet.
	ReasonConfigPending ConditionReason = "ConfigPending"
	// ReasonNotApplied: the object given is not the one applied (get -f of a changed file).
	ReasonNotApplied ConditionReason = "NotApplied"
	// ReasonNoHolder: no node of a VirtualIP holds its address.
	ReasonNoHolder ConditionReason = "NoHolder"
	// ReasonSplitBrain: more than one node holds a VirtualIP's address, typically because their
	// VRRP adverts do not reach each other (a firewall dropping protocol 112, a partition).
	ReasonSplitBrain ConditionReason = "SplitBrain"
	// ReasonNotAnswering: a VirtualIP's address is held but its gateway does not answer there.
	ReasonNotAnswering ConditionReason = "NotAnswering"
	// ReasonUnobservable: no node's VRRP agent could be asked (from where the question was asked).
	ReasonUnobservable ConditionReason = "Unobservable"
	// ReasonConflicted: a policy's target has a policy of the same kind that applies there instead
	// (the first by namespace and name).
	ReasonConflicted ConditionReason = "Conflicted"
	// ReasonTargetNotFound: a policy's target (a Gateway, listener, Route or named rule) is not in
	// the set.
	ReasonTargetNotFound ConditionReason = "TargetNotFound"
)
