package v1alpha1

// Service runs a swarm service that no Route needs to reach: a database, a queue, a worker, or a
// one-shot job (a migration). It has the fields of a Route's spec.services entries; its name is
// the service's, "<namespace>_<name>" in a namespace.
type Service struct {
	TypeMeta `json:",inline"`
	// Metadata names the service.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is how the service runs.
	Spec ServiceSpec `json:"spec"`
}

// GetObjectMeta implements Object.
func (s *Service) GetObjectMeta() *ObjectMeta { return &s.Metadata }

// Default implements Object.
func (s *Service) Default() { s.Spec.defaults() }

// ServiceSpec is how a swarm service runs: a Service's spec, and each entry of a Route's
// spec.services (with its name).
type ServiceSpec struct {
	// Image to run, e.g. "bretfisher/httpenv".
	Image string `json:"image"`
	// Command replaces the image's entrypoint (a stack file's entrypoint); Args follow it.
	Command []string `json:"command,omitempty"`
	// Args are passed to the image's entrypoint.
	Args []string `json:"args,omitempty"`
	// Hostname of the tasks' containers; swarm's templates work ("{{.Node.Hostname}}-web").
	Hostname string `json:"hostname,omitempty"`
	// Mode is Replicated (the default) or Global; a Service may also be a one-shot job,
	// ReplicatedJob or GlobalJob (swarm's replicated-job and global-job), whose tasks run to
	// completion.
	Mode ServiceMode `json:"mode,omitempty"`
	// Replicas is the number of tasks in Replicated mode, or of tasks that must complete in
	// ReplicatedJob mode (all run at once). Defaults to 1; not allowed in the global modes.
	Replicas *int32 `json:"replicas,omitempty"`
	// Zone, when set, places the tasks on the nodes of that Zone only.
	Zone string `json:"zone,omitempty"`
	// Port the service's tasks listen on.
	Port *PortNumber `json:"port,omitempty"`
	// Env are environment variables of the tasks.
	Env []EnvVar `json:"env,omitempty"`
	// Secrets are existing swarm secrets mounted into the tasks as files: swarmgate never creates,
	// changes or shows them (a secret's value has no place in a manifest).
	Secrets []FileMount `json:"secrets,omitempty"`
	// Configs are existing swarm configs mounted into the tasks as files.
	Configs []FileMount `json:"configs,omitempty"`
	// Mounts are named volumes, host paths and tmpfs file systems mounted into the tasks.
	Mounts []Mount `json:"mounts,omitempty"`
	// Healthcheck is how docker checks that a task works (a stack file's healthcheck): swarm
	// replaces unhealthy tasks and waits for health before an update moves on.
	Healthcheck *Healthcheck `json:"healthcheck,omitempty"`
	// Placement adds constraints and spread preferences to the zone's, and bounds the tasks per
	// node.
	Placement *Placement `json:"placement,omitempty"`
	// Networks are existing overlay networks the tasks join besides their gateway's, by name.
	Networks []string `json:"networks,omitempty"`
	// StopSignal stops the tasks' containers ("SIGINT"); the image's, or SIGTERM, by default.
	StopSignal string `json:"stopSignal,omitempty"`
	// StopGracePeriod is how long a container has to stop before it is killed; 10s by default.
	StopGracePeriod *Duration `json:"stopGracePeriod,omitempty"`
	// EndpointMode is vip (the default) or dnsrr.
	EndpointMode EndpointMode `json:"endpointMode,omitempty"`
	// UpdatePolicy says how swarm rolls out a change; not for a job, which runs again whole.
	UpdatePolicy *UpdatePolicy `json:"updatePolicy,omitempty"`
	// RestartPolicy says when swarm restarts tasks; a job's failed tasks are retried by it
	// (condition on-failure by default for a job; any is refused: a job that completed would
	// run again).
	RestartPolicy *RestartPolicy `json:"restartPolicy,omitempty"`
	// Resources bounds and reserves CPU and memory for each task.
	Resources *Resources `json:"resources,omitempty"`
	// DependsOn names services of the same namespace (Services, or the services of Routes) that
	// are created before this one, as a stack file's depends_on: on a first apply, this one
	// starts once they exist. It does not wait for them to be healthy.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Hook, on a job, makes it run to completion before the services it names are created or
	// updated: a database migration before the new version of its app.
	Hook *Hook `json:"hook,omitempty"`
}

// Hook is a job that must succeed before other services change (Argo CD's PreSync hook). Each pass
// that creates or updates a service it names first waits for the job as it now is: a changed
// job runs again (swarm retries its failed tasks by its restartPolicy); one that failed, or
// did not finish within the timeout, stops the pass for the services it names, which keep
// running their current version, and is alerted.
type Hook struct {
	// Before names the services of the same namespace (Services, or the services of Routes)
	// that change only once this job succeeded. At least one.
	Before []string `json:"before"`
	// Timeout bounds the wait for the job to finish, a Go duration; 2m by default. The
	// operator bounds a whole pass to 5 minutes.
	Timeout *Duration `json:"timeout,omitempty"`
}

// DefaultHookTimeout is how long a pass waits for a hook by default.
const DefaultHookTimeout Duration = "2m"

// Job tells whether the mode runs tasks to completion.
func (m ServiceMode) Job() bool { return m == ServiceModeReplicatedJob || m == ServiceModeGlobalJob }

// defaults fills the unset optional fields of a service with their documented defaults.
func (svc *ServiceSpec) defaults() {
	for j := range svc.Mounts {
		if svc.Mounts[j].Type == "" {
			svc.Mounts[j].Type = MountVolume
		}
	}
	if svc.Mode == "" {
		svc.Mode = ServiceModeReplicated
	}
	if (svc.Mode == ServiceModeReplicated || svc.Mode == ServiceModeReplicatedJob) && svc.Replicas == nil {
		svc.Replicas = ptr(int32(1))
	}
	if svc.EndpointMode == "" {
		svc.EndpointMode = EndpointModeVIP
	}
	if svc.Mode.Job() && svc.RestartPolicy == nil {
		svc.RestartPolicy = &RestartPolicy{Condition: RestartConditionOnFailure}
	}
	if h := svc.Hook; h != nil && h.Timeout == nil {
		h.Timeout = ptr(DefaultHookTimeout)
	}
	defaultUpdatePolicy(svc.UpdatePolicy)
	defaultRestartPolicy(svc.RestartPolicy)
}
