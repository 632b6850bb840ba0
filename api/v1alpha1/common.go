package v1alpha1

// PortNumber is a TCP port, 1 to 65535.
type PortNumber int32

// Duration is a Go duration string such as "10s", "1m30s" or "500ms".
type Duration string

// ServiceMode says how a swarm service schedules its tasks.
type ServiceMode string

// The service modes.
const (
	// ServiceModeReplicated runs the number of tasks given by replicas.
	ServiceModeReplicated ServiceMode = "Replicated"
	// ServiceModeGlobal runs one task on every node that satisfies the placement.
	ServiceModeGlobal ServiceMode = "Global"
	// ServiceModeReplicatedJob runs replicas tasks to completion, once per change (a Service's).
	ServiceModeReplicatedJob ServiceMode = "ReplicatedJob"
	// ServiceModeGlobalJob runs one task to completion on every node that satisfies the
	// placement, once per change (a Service's).
	ServiceModeGlobalJob ServiceMode = "GlobalJob"
)

// UpdateOrder says whether swarm stops an old task before starting its replacement.
type UpdateOrder string

// The update orders.
const (
	UpdateOrderStopFirst  UpdateOrder = "stop-first"
	UpdateOrderStartFirst UpdateOrder = "start-first"
)

// FailureAction is what swarm does when an update of a service fails.
type FailureAction string

// The failure actions.
const (
	FailureActionPause    FailureAction = "pause"
	FailureActionContinue FailureAction = "continue"
	FailureActionRollback FailureAction = "rollback"
)

// UpdatePolicy says how swarm rolls out a change to a service (docker's update_config).
type UpdatePolicy struct {
	// Parallelism is how many tasks are updated at once; 0 updates all at once. Defaults to 1.
	Parallelism *int32 `json:"parallelism,omitempty"`
	// Delay is the wait between updating two batches of tasks, e.g. "10s".
	Delay Duration `json:"delay,omitempty"`
	// Order is stop-first (the default) or start-first.
	Order UpdateOrder `json:"order,omitempty"`
	// FailureAction is pause (the default), continue or rollback.
	FailureAction FailureAction `json:"failureAction,omitempty"`
	// Monitor is how long swarm watches each updated task for failure, e.g. "5s".
	Monitor Duration `json:"monitor,omitempty"`
}

// RestartCondition says when swarm restarts a task.
type RestartCondition string

// The restart conditions.
const (
	RestartConditionNone      RestartCondition = "none"
	RestartConditionOnFailure RestartCondition = "on-failure"
	RestartConditionAny       RestartCondition = "any"
)

// RestartPolicy says when and how swarm restarts a service's tasks (docker's restart_policy).
type RestartPolicy struct {
	// Condition is none, on-failure or any (the default).
	Condition RestartCondition `json:"condition,omitempty"`
	// Delay is the wait between restart attempts, e.g. "5s".
	Delay Duration `json:"delay,omitempty"`
	// MaxAttempts bounds the restarts within Window; unset or 0 means no bound.
	MaxAttempts *int32 `json:"maxAttempts,omitempty"`
	// Window is the time over which restarts are counted for MaxAttempts, e.g. "2m".
	Window Duration `json:"window,omitempty"`
}

// Resources bounds and reserves CPU and memory for each task of a service.
type Resources struct {
	// Limits are the most a task may use.
	Limits *ResourceList `json:"limits,omitempty"`
	// Reservations are what the scheduler sets aside for a task on its node.
	Reservations *ResourceList `json:"reservations,omitempty"`
}

// ResourceList is an amount of CPU and memory.
type ResourceList struct {
	// CPUs is a decimal number of CPUs, e.g. "0.5" or "2".
	CPUs string `json:"cpus,omitempty"`
	// Memory is a byte size with an optional binary unit b, k, m or g (optionally followed by b or
	// written Ki, Mi, Gi), e.g. "256m" or "1Gi".
	Memory string `json:"memory,omitempty"`
}
