package validation_test

import (
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// service is a Service of the base set's namespace (none) at document 5.
func service(name string, spec v1alpha1.ServiceSpec) *v1alpha1.Service {
	if spec.Image == "" {
		spec.Image = "postgres:16"
	}
	return &v1alpha1.Service{TypeMeta: typeMeta(v1alpha1.KindService), Metadata: meta(name, 5), Spec: spec}
}

// job is a ReplicatedJob Service that is a hook before the named services.
func job(name string, before ...string) *v1alpha1.Service {
	svc := service(name, v1alpha1.ServiceSpec{Image: "app:2", Mode: v1alpha1.ServiceModeReplicatedJob})
	if len(before) > 0 {
		svc.Spec.Hook = &v1alpha1.Hook{Before: before}
	}
	return svc
}

func TestValidateService(t *testing.T) {
	tests := []struct {
		name   string
		mutate mutation
		want   []string
	}{
		{"a database, a migration before the app, the app after the database", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			r.Spec.Services[0].DependsOn = []string{"db"}
			db := service("db", v1alpha1.ServiceSpec{Zone: "dmz", Mounts: []v1alpha1.Mount{{Source: "pgdata", Target: "/var/lib/postgresql/data"}}})
			return []v1alpha1.Object{g, r, v, z, db, job("migrate", "app")}
		}, nil},
		{"a global job", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			return []v1alpha1.Object{g, r, v, z, service("prune", v1alpha1.ServiceSpec{Mode: v1alpha1.ServiceModeGlobalJob})}
		}, nil},
		{"unknown zone", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			return []v1alpha1.Object{g, r, v, z, service("db", v1alpha1.ServiceSpec{Zone: "lan"})}
		}, []string{`Service db: spec.zone: names no Zone "lan"`}},
		{"no image", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			db := service("db", v1alpha1.ServiceSpec{})
			db.Spec.Image = ""
			return []v1alpha1.Object{g, r, v, z, db}
		}, []string{"Service db: spec.image: is required"}},
		{"the name of a Route's service", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			return []v1alpha1.Object{g, r, v, z, service("app", v1alpha1.ServiceSpec{})}
		}, []string{"Service app: metadata.name: names the same swarm service as Route app"}},
		{"replicas of a global job", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			return []v1alpha1.Object{g, r, v, z, service("prune", v1alpha1.ServiceSpec{Mode: v1alpha1.ServiceModeGlobalJob, Replicas: ptr(int32(2))})}
		}, []string{"Service prune: spec.replicas: is forbidden: the global modes run one task per node"}},
		{"a job of no task", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			j := job("migrate")
			j.Spec.Replicas = ptr(int32(0))
			return []v1alpha1.Object{g, r, v, z, j}
		}, []string{"Service migrate: spec.replicas: a job completes at least one task"}},
		{"a job with an update policy", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			j := job("migrate")
			j.Spec.UpdatePolicy = &v1alpha1.UpdatePolicy{}
			return []v1alpha1.Object{g, r, v, z, j}
		}, []string{"Service migrate: spec.updatePolicy: is forbidden"}},
		{"a job restarted when it completes", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			j := job("migrate")
			j.Spec.RestartPolicy = &v1alpha1.RestartPolicy{Condition: v1alpha1.RestartConditionAny}
			return []v1alpha1.Object{g, r, v, z, j}
		}, []string{"Service migrate: spec.restartPolicy.condition: is forbidden"}},
		{"a hook that is no job", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			return []v1alpha1.Object{g, r, v, z, service("migrate", v1alpha1.ServiceSpec{Hook: &v1alpha1.Hook{Before: []string{"app"}}})}
		}, []string{"Service migrate: spec.hook: is forbidden: only a job"}},
		{"a hook before nothing", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			j := job("migrate")
			j.Spec.Hook = &v1alpha1.Hook{Timeout: ptr(v1alpha1.Duration("forever"))}
			return []v1alpha1.Object{g, r, v, z, j}
		}, []string{"Service migrate: spec.hook.before: is required", "Service migrate: spec.hook.timeout: is not a duration"}},
		{"a hook before an unknown service", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			return []v1alpha1.Object{g, r, v, z, job("migrate", "web")}
		}, []string{`Service migrate: spec.hook.before[0]: names no service "web" in this namespace`}},
		{"a hook before a service of another namespace", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			j := job("migrate", "app")
			j.Metadata.Namespace = "shop"
			return []v1alpha1.Object{g, r, v, z, j}
		}, []string{`Service migrate: spec.hook.before[0]: names no service "app" in this namespace`}},
		{"a job in a Route", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			r.Spec.Services[0].Mode = v1alpha1.ServiceModeReplicatedJob
			return nil
		}, []string{"Route app: spec.services[0].mode: is forbidden: a Route's service serves requests"}},
		{"dependsOn itself, twice", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			r.Spec.Services[0].DependsOn = []string{"app", "app"}
			return nil
		}, []string{"Route app: spec.services[0].dependsOn[1]: is duplicate", "Route app: spec.services[0].dependsOn[0]: names this service itself",
			"Route app: spec.services[0].dependsOn[1]: names this service itself"}},
		{"a cycle through a hook", func(g *v1alpha1.Gateway, r *v1alpha1.Route, v *v1alpha1.VirtualIP, z *v1alpha1.Zone) []v1alpha1.Object {
			db := service("db", v1alpha1.ServiceSpec{DependsOn: []string{"app"}})
			migrate := job("migrate", "app")
			migrate.Spec.DependsOn = []string{"db"}
			return []v1alpha1.Object{g, r, v, z, db, migrate}
		}, []string{"Route app: spec.services[0]: waits on itself through dependsOn and hooks: app after migrate after db after app"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, tt.mutate, tt.want...) })
	}
}
