package validation

import (
	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

func validateService(svc *v1alpha1.Service) field.ErrorList {
	return validateServiceSpec(field.NewPath("spec"), &svc.Spec)
}

// validateServiceMode checks a service's mode and replicas, and what a job may not have: an
// update policy (a changed job runs again whole), a restart on success (it would never end).
func validateServiceMode(p *field.Path, svc *v1alpha1.ServiceSpec) field.ErrorList {
	errs := oneOf(p.Child("mode"), svc.Mode, v1alpha1.ServiceModeReplicated, v1alpha1.ServiceModeGlobal,
		v1alpha1.ServiceModeReplicatedJob, v1alpha1.ServiceModeGlobalJob)
	switch {
	case (svc.Mode == v1alpha1.ServiceModeGlobal || svc.Mode == v1alpha1.ServiceModeGlobalJob) && svc.Replicas != nil:
		errs = append(errs, field.Forbidden(p.Child("replicas"), "the global modes run one task per node"))
	case svc.Replicas != nil && *svc.Replicas < 0:
		errs = append(errs, field.Invalid(p.Child("replicas"), "must not be negative"))
	case svc.Mode == v1alpha1.ServiceModeReplicatedJob && svc.Replicas != nil && *svc.Replicas == 0:
		errs = append(errs, field.Invalid(p.Child("replicas"), "a job completes at least one task"))
	}
	if !svc.Mode.Job() {
		if svc.Hook != nil {
			errs = append(errs, field.Forbidden(p.Child("hook"), "only a job (mode ReplicatedJob or GlobalJob) runs to completion, as a hook must"))
		}
		return errs
	}
	if svc.UpdatePolicy != nil {
		errs = append(errs, field.Forbidden(p.Child("updatePolicy"), "a changed job runs again whole; swarm takes no update policy for it"))
	}
	if r := svc.RestartPolicy; r != nil && r.Condition == v1alpha1.RestartConditionAny {
		errs = append(errs, field.Forbidden(p.Child("restartPolicy", "condition"), "a job restarted when it completes would never end; use on-failure or none"))
	}
	return errs
}

// validateDependencies checks the names of dependsOn and hook.before (the set checks that they
// name services), and the hook's timeout.
func validateDependencies(p *field.Path, svc *v1alpha1.ServiceSpec) field.ErrorList {
	errs := serviceNames(p.Child("dependsOn"), svc.DependsOn)
	if h := svc.Hook; h != nil {
		hp := p.Child("hook")
		if len(h.Before) == 0 {
			errs = append(errs, field.Required(hp.Child("before"), "the services the job must succeed before"))
		}
		errs = append(errs, serviceNames(hp.Child("before"), h.Before)...)
		errs = append(errs, validateServiceDuration(hp.Child("timeout"), h.Timeout)...)
	}
	return errs
}

// serviceNames checks a list of service names: DNS-1123 labels, each once, at most MaxServices.
func serviceNames(p *field.Path, names []string) field.ErrorList {
	errs := tooMany(p, len(names), v1alpha1.MaxServices)
	seen := map[string]bool{}
	for i, n := range names {
		errs = append(errs, validateDNSLabel(p.Index(i), n)...)
		if seen[n] {
			errs = append(errs, field.Duplicate(p.Index(i), ""))
		}
		seen[n] = true
	}
	return errs
}
