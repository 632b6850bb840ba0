package validation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// declaredService is a service a manifest runs: a Service, or an entry of a Route's
// spec.services, with the path of its spec in its object.
type declaredService struct {
	name string // as its namespace knows it
	obj  v1alpha1.Object
	path *field.Path
	spec *v1alpha1.ServiceSpec
}

// declaredServices lists the services the objects run, by swarm name; the first declaration of
// a name wins (a second is the claim error of its own object).
func declaredServices(objs []v1alpha1.Object) (map[string]declaredService, []string) {
	out := map[string]declaredService{}
	var order []string
	add := func(name string, d declaredService) {
		if _, ok := out[name]; !ok {
			out[name] = d
			order = append(order, name)
		}
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *v1alpha1.Service:
			add(o.Metadata.QualifiedName(), declaredService{o.Metadata.Name, o, field.NewPath("spec"), &o.Spec})
		case *v1alpha1.Route:
			for i := range o.Spec.Services {
				svc := &o.Spec.Services[i]
				add(v1alpha1.StackName(o.Metadata.Namespace, svc.Name), declaredService{svc.Name, o, field.NewPath("spec", "services").Index(i), &svc.ServiceSpec})
			}
		}
	}
	return out, order
}

// checkDependencies checks that dependsOn and hook.before name services declared in the same
// namespace, and that no service waits, through them, on itself.
func checkDependencies(objs []v1alpha1.Object) field.ErrorList {
	services, order := declaredServices(objs)
	// after[x] are the services x is created or updated after: those it depends on, and the
	// hooks that run before it.
	after := map[string][]string{}
	var errs field.ErrorList
	for _, name := range order {
		d := services[name]
		ns := d.obj.GetObjectMeta().Namespace
		var e field.ErrorList
		check := func(p *field.Path, refs []string) []string {
			var names []string
			for i, ref := range refs {
				target := v1alpha1.StackName(ns, ref)
				switch _, ok := services[target]; {
				case target == name:
					e = append(e, field.Invalid(p.Index(i), "names this service itself"))
				case !ok:
					e = append(e, field.Invalid(p.Index(i), fmt.Sprintf("%sservice %q in this namespace (a Service, or one of a Route's spec.services)", dangling, ref)))
				default:
					names = append(names, target)
				}
			}
			return names
		}
		after[name] = append(after[name], check(d.path.Child("dependsOn"), d.spec.DependsOn)...)
		if h := d.spec.Hook; h != nil {
			for _, target := range check(d.path.Child("hook", "before"), h.Before) {
				after[target] = append(after[target], name)
			}
		}
		errs = append(errs, withObject(e, d.obj)...)
	}
	// A cycle is reported once, on the service of the first declaration it passes.
	reported := map[string]bool{}
	for _, name := range order {
		cycle := findCycle(name, after)
		if cycle == nil || slices.ContainsFunc(cycle, func(n string) bool { return reported[n] }) {
			continue
		}
		for _, n := range cycle {
			reported[n] = true
		}
		names := make([]string, 0, len(cycle)+1)
		for _, n := range append(cycle, name) {
			names = append(names, services[n].name)
		}
		d := services[name]
		errs = append(errs, withObject(field.ErrorList{field.Invalid(d.path,
			"waits on itself through dependsOn and hooks: "+strings.Join(names, " after "))}, d.obj)...)
	}
	return errs
}

// findCycle returns the services on a path from start back to start through after, or nil.
func findCycle(start string, after map[string][]string) []string {
	visited := map[string]bool{}
	var path []string
	var walk func(n string) bool
	walk = func(n string) bool {
		path = append(path, n)
		for _, next := range after[n] {
			if next == start {
				return true
			}
			if !visited[next] {
				visited[next] = true
				if walk(next) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if walk(start) {
		return path
	}
	return nil
}
