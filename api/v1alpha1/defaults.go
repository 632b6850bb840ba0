package v1alpha1

func ptr[T any](v T) *T { return &v }

func defaultUpdatePolicy(p *UpdatePolicy) {
	if p == nil {
		return
	}
	if p.Parallelism == nil {
		p.Parallelism = ptr(int32(1))
	}
	if p.Order == "" {
		p.Order = UpdateOrderStopFirst
	}
	if p.FailureAction == "" {
		p.FailureAction = FailureActionPause
	}
}

func defaultRestartPolicy(p *RestartPolicy) {
	if p == nil {
		return
	}
	if p.Condition == "" {
		p.Condition = RestartConditionAny
	}
}
