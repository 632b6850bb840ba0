// Package stackimport turns docker stack files (the compose specification, read with
// compose-go: variable interpolation, extension fields and all) into swarmgate manifests: a
// Gateway, a Route for each routed service, which runs the service and routes its hostnames to it,
// and a Service for each other (a database, a worker, a job).
// Hostnames and ports come from the labels people already use for Traefik and caddy-docker-proxy,
// else the service's name (the blog's virtual hosts) and its published or exposed port.
package stackimport

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

// Options say what the files cannot.
type Options struct {
	// Gateway names the Gateway the Routes attach to. A service of that name in the files (the
	// blog's nginx) becomes it; otherwise a new one is made.
	Gateway string
	// Port is the new Gateway's listener port (80 when 0).
	Port int32
	// GatewayImage is the Gateway's nginx image; swarmgate's default when empty.
	GatewayImage string
	// BackendPort is the port of a service that no label, published port or expose names.
	BackendPort int32
	// Env interpolates ${VARIABLES}; the process environment when nil.
	Env map[string]string
}

// Stack is one stack file: its name (as `docker stack deploy -c FILE NAME` would get it, from the
// file's name here) and content.
type Stack struct {
	Name    string
	File    string
	Content []byte
}

// Result is what the stacks become: the objects, and notes on what did not carry over.
type Result struct {
	Objects []v1alpha1.Object
	Notes   []string
}

// YAML prints the objects as YAML documents under a comment.
func (r *Result) YAML(comment string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n", strings.ReplaceAll(comment, "\n", " "))
	for i, o := range r.Objects {
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v1alpha1.Ref(o), err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

// Load reads stack files, by the reading rules of manifests (regular files, size caps); each is
// a stack of its own, named after the file.
func Load(paths []string) ([]Stack, error) {
	var out []Stack
	for _, p := range paths {
		data, err := manifest.ReadRegularFile(p, manifest.MaxFileSize)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		out = append(out, Stack{Name: name, File: p, Content: data})
	}
	return out, nil
}

// Convert turns the stacks into manifests.
func Convert(ctx context.Context, stacks []Stack, o Options) (*Result, error) {
	env := o.Env
	if env == nil {
		env = map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
	}
	c := &converter{opts: o, res: &Result{}, middlewares: map[string]map[string]middlewareLabel{}, entrypoints: map[string]v1alpha1.SectionName{}}
	var gatewaySvc *types.ServiceConfig
	var gatewayStack *types.Project
	var services []routed
	for _, st := range stacks {
		if err := checkStack(st.File, st.Content); err != nil {
			return nil, err
		}
		project, err := loader.LoadWithContext(ctx, types.ConfigDetails{
			WorkingDir:  filepath.Dir(st.File),
			ConfigFiles: []types.ConfigFile{{Filename: st.File, Content: st.Content}},
			Environment: env,
		}, func(lo *loader.Options) {
			lo.SetProjectName(projectName(st.Name), true)
			lo.SkipResolveEnvironment = false
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.File, err)
		}
		for _, name := range slices.Sorted(maps.Keys(project.Services)) {
			svc := project.Services[name]
			if err := checkRanges(svc); err != nil {
				return nil, fmt.Errorf("%s: %w", st.File, err)
			}
			c.addMiddlewares(labels(svc))
			if name == o.Gateway {
				gatewaySvc, gatewayStack = &svc, project
				continue
			}
			services = append(services, routed{project, svc})
		}
	}
	network := c.gatewayNetwork(services)
	gw, err := c.gateway(gatewaySvc, gatewayStack, network)
	if err != nil {
		return nil, err
	}
	c.res.Objects = append(c.res.Objects, gw)
	specs := map[string]*v1alpha1.ServiceSpec{} // the services converted, by name
	for _, r := range services {
		if svc, err := c.unrouted(r, network); err != nil || svc != nil {
			if err != nil {
				return nil, fmt.Errorf("service %s: %w", r.service.Name, err)
			}
			c.res.Objects = append(c.res.Objects, svc)
			specs[r.service.Name] = &svc.Spec
			continue
		}
		routes, err := c.routes(r.project, r.service, network)
		if err == nil {
			err = checkRoutes(routes)
		}
		var skipped *notRouted
		switch {
		case errors.As(err, &skipped) && skipped.nothingRoutes:
			svc, err := c.service(r, network)
			if err != nil {
				return nil, fmt.Errorf("service %s: %w", r.service.Name, err)
			}
			c.note("service %s: %s; a Service runs it, without a Route", r.service.Name, skipped.reason)
			c.res.Objects = append(c.res.Objects, svc)
			specs[r.service.Name] = &svc.Spec
			continue
		case errors.As(err, &skipped):
			c.note("service %s: not routed, no Route made: %s", r.service.Name, skipped.reason)
			continue
		case err != nil:
			return nil, fmt.Errorf("service %s: %w", r.service.Name, err)
		}
		for _, route := range routes {
			c.res.Objects = append(c.res.Objects, route)
		}
		specs[r.service.Name] = &routes[0].Spec.Services[0].ServiceSpec
	}
	c.dependencies(services, specs)
	return c.res, nil
}

// unrouted is the Service of a one-shot job (deploy.mode replicated-job or global-job), which
// nothing routes; nil for any other service.
func (c *converter) unrouted(r routed, network string) (*v1alpha1.Service, error) {
	if d := r.service.Deploy; d == nil || d.Mode != "replicated-job" && d.Mode != "global-job" {
		return nil, nil
	}
	return c.service(r, network)
}

// service is a Service that runs svc: on the Gateway's network, as the stack's services shared
// theirs, and the external networks it names.
func (c *converter) service(r routed, network string) (*v1alpha1.Service, error) {
	spec, meta, err := c.serviceSpec(r.project, r.service, network)
	if err != nil {
		return nil, err
	}
	spec.Networks = append([]string{network}, spec.Networks...)
	svc := &v1alpha1.Service{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: v1alpha1.KindService}, Metadata: meta, Spec: spec}
	if errs := checkObject(svc); errs != "" {
		return nil, fmt.Errorf("its Service would not validate: %s", errs)
	}
	return svc, nil
}

// dependencies carries the stacks' depends_on over to the services converted: a job that must
// complete successfully (condition service_completed_successfully) becomes a hook before the
// services that wait on it; any other dependency, a dependsOn. One on a service not converted
// is left out, with a note.
func (c *converter) dependencies(services []routed, specs map[string]*v1alpha1.ServiceSpec) {
	for _, r := range services {
		spec := specs[r.service.Name]
		if spec == nil {
			continue
		}
		for _, dep := range slices.Sorted(maps.Keys(r.service.DependsOn)) {
			target := specs[dep]
			switch {
			case target == nil:
				c.note("service %s: depends_on %s, which is not converted: left out", r.service.Name, dep)
			case r.service.DependsOn[dep].Condition == types.ServiceConditionCompletedSuccessfully && target.Mode.Job():
				if target.Hook == nil {
					target.Hook = &v1alpha1.Hook{}
				}
				target.Hook.Before = append(target.Hook.Before, r.service.Name)
			default:
				spec.DependsOn = append(spec.DependsOn, dep)
			}
		}
	}
}

// notInProjectName is what compose-go refuses in a project (stack) name.
var notInProjectName = regexp.MustCompile(`[^a-z0-9_-]`)

// checkRoutes validates a service's Routes on their own, as apply will (with defaults): labels
// apply would refuse (a hostname with a port, a method nginx does not know) leave that service
// without a Route instead of failing the whole import.
func checkRoutes(routes []*v1alpha1.Route) error {
	for _, r := range routes {
		if problems := checkObject(r); problems != "" {
			return skip("Route %s would not validate: %s", r.Metadata.Name, problems)
		}
	}
	return nil
}

// checkObject validates an object on its own, as apply will (with defaults), and returns its
// problems, "" when there are none.
func checkObject(o v1alpha1.Object) string {
	b, err := json.Marshal(o)
	if err != nil {
		return err.Error()
	}
	defaulted := v1alpha1.New(o.GetTypeMeta().Kind)
	if err := json.Unmarshal(b, defaulted); err != nil {
		return err.Error()
	}
	defaulted.Default()
	errs := validation.ValidateObject(defaulted)
	problems := make([]string, len(errs))
	for i, e := range errs {
		problems[i] = e.Field + ": " + e.Detail
	}
	return strings.Join(problems, "; ")
}

// projectName is a stack name compose-go takes: lowercase letters, digits, '-' and '_'.
func projectName(s string) string {
	return notInProjectName.ReplaceAllString(strings.ToLower(s), "-")
}

// routed is a service a Route runs, with the stack it came from.
type routed struct {
	project *types.Project
	service types.ServiceConfig
}

type converter struct {
	opts Options
	res  *Result
	// middlewares are the Traefik middlewares the labels define, by name and lowercased field.
	middlewares map[string]map[string]middlewareLabel
	// entrypoints are the Gateway's listeners by the Traefik entrypoint they were (lowercased).
	entrypoints   map[string]v1alpha1.SectionName
	listenerCount int
}

func (c *converter) note(format string, args ...any) {
	c.res.Notes = append(c.res.Notes, fmt.Sprintf(format, args...))
}

// gatewayNetwork is the network the Routes' services reach their gateway on: the external
// network most of them join (the blog's nginx_default), else nginx_default.
func (c *converter) gatewayNetwork(services []routed) string {
	count := map[string]int{}
	for _, r := range services {
		for key := range r.service.Networks {
			if n, ok := r.project.Networks[key]; ok && bool(n.External) {
				count[cmp.Or(n.Name, key)]++
			}
		}
	}
	best := v1alpha1.DefaultNetworkName
	for _, name := range slices.Sorted(maps.Keys(count)) {
		if count[name] > count[best] {
			best = name
		}
	}
	return best
}

// gateway is the Gateway: the stack's proxy service converted (its published ports become
// listeners; its image and config are swarmgate's), or a new one.
func (c *converter) gateway(svc *types.ServiceConfig, project *types.Project, network string) (*v1alpha1.Gateway, error) {
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: v1alpha1.KindGateway},
		Metadata: v1alpha1.ObjectMeta{Name: c.opts.Gateway}}
	gw.Spec.Network.Name = network
	gw.Spec.Image = c.opts.GatewayImage
	if svc == nil {
		port := cmp.Or(c.opts.Port, 80)
		gw.Spec.Listeners = []v1alpha1.Listener{{Name: "http", Port: v1alpha1.PortNumber(port)}}
		c.listenerCount = 1
		c.note("Gateway %s is new (no service of that name in the files), listening on port %d", c.opts.Gateway, port)
		return gw, nil
	}
	// Traefik's entrypoints, from its command line: a listener on an entrypoint's port takes its
	// name, so that routers' entrypoints find it.
	entrypointPorts := map[uint32]string{}
	for _, arg := range slices.Concat(svc.Entrypoint, svc.Command) {
		if m := traefikEntrypoint.FindStringSubmatch(arg); m != nil && sectionName.MatchString(strings.ToLower(m[1])) {
			if n, err := strconv.ParseUint(m[2], 10, 16); err == nil {
				entrypointPorts[uint32(n)] = strings.ToLower(m[1])
			}
		}
	}
	for i, p := range svc.Ports {
		published, err := strconv.Atoi(p.Published)
		if err != nil || p.Protocol == "udp" {
			c.note("Gateway %s: port %q is not a TCP port it can publish; left out", svc.Name, p.Published)
			continue
		}
		name := "http"
		if i > 0 {
			name = fmt.Sprintf("http-%d", published)
		}
		if ep, ok := entrypointPorts[p.Target]; ok {
			name = ep
			c.entrypoints[ep] = v1alpha1.SectionName(ep)
		}
		l := v1alpha1.Listener{Name: v1alpha1.SectionName(name), Port: v1alpha1.PortNumber(published)}
		if p.Mode == "host" {
			l.PublishMode = v1alpha1.PublishModeHost
		}
		gw.Spec.Listeners = append(gw.Spec.Listeners, l)
	}
	c.listenerCount = len(gw.Spec.Listeners)
	if len(gw.Spec.Listeners) == 0 {
		return nil, fmt.Errorf("gateway service %s publishes no TCP port: publish one, or give the Gateway another name for a new one", svc.Name)
	}
	c.note("Gateway %s: its image %s and its nginx config are replaced by swarmgate's (%s, a config rendered from the Routes)", svc.Name, svc.Image, cmp.Or(c.opts.GatewayImage, v1alpha1.DefaultGatewayImage))
	if d := svc.Deploy; d != nil {
		if d.Mode == "global" {
			gw.Spec.Mode = v1alpha1.ServiceModeGlobal
		} else if d.Replicas != nil {
			gw.Spec.Replicas = ptr(int32(*d.Replicas))
		}
		gw.Spec.UpdatePolicy = updatePolicy(d.UpdateConfig)
		gw.Spec.RestartPolicy = restartPolicy(d.RestartPolicy)
		if len(d.Placement.Constraints) > 0 {
			c.note("Gateway %s: placement constraints %v left out: give the Gateway a zone", svc.Name, d.Placement.Constraints)
		}
	}
	return gw, nil
}

// routes are the Routes of svc: the first runs it and routes what its labels route on their
// listeners; one more for each other set of listeners its routers attach to.
func (c *converter) routes(project *types.Project, svc types.ServiceConfig, network string) ([]*v1alpha1.Route, error) {
	rs, err := c.routing(project, svc, network)
	if err != nil {
		return nil, err
	}
	spec, meta, err := c.serviceSpec(project, svc, network)
	if err != nil {
		return nil, err
	}
	run := v1alpha1.RouteService{Name: svc.Name, ServiceSpec: spec}
	run.Port = ptr(v1alpha1.PortNumber(rs.port))
	var routes []*v1alpha1.Route
	for i, g := range rs.groups {
		route := &v1alpha1.Route{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: v1alpha1.KindRoute}, Metadata: meta,
			Spec: v1alpha1.RouteSpec{Hostnames: g.hostnames, Rules: g.rules}}
		if i == 0 {
			route.Spec.Services = []v1alpha1.RouteService{run}
		} else {
			// The first Route runs the service; the others send to it at its port.
			route.Metadata = v1alpha1.ObjectMeta{Name: svc.Name + "-" + strings.Join(sectionStrings(g.sections), "-"), Labels: meta.Labels}
			for _, rule := range route.Spec.Rules {
				for j := range rule.BackendRefs {
					rule.BackendRefs[j].Port = ptr(v1alpha1.PortNumber(rs.port))
				}
			}
		}
		route.Spec.ParentRefs = []v1alpha1.ParentRef{{Name: c.opts.Gateway}}
		if len(g.sections) > 0 {
			route.Spec.ParentRefs = nil
			for _, s := range g.sections {
				route.Spec.ParentRefs = append(route.Spec.ParentRefs, v1alpha1.ParentRef{Name: c.opts.Gateway, SectionName: s})
			}
		}
		routes = append(routes, route)
	}
	return routes, nil
}

// serviceSpec is how svc runs, and the metadata of the object that runs it: its name, and its
// labels that are not a proxy's.
func (c *converter) serviceSpec(project *types.Project, svc types.ServiceConfig, network string) (v1alpha1.ServiceSpec, v1alpha1.ObjectMeta, error) {
	var run v1alpha1.ServiceSpec
	var meta v1alpha1.ObjectMeta
	if svc.Image == "" {
		return run, meta, errors.New("has no image (swarm does not build)")
	}
	run = v1alpha1.ServiceSpec{Image: svc.Image, Command: svc.Entrypoint, Args: svc.Command, Hostname: svc.Hostname, StopSignal: svc.StopSignal}
	for _, name := range slices.Sorted(maps.Keys(svc.Environment)) {
		if v := svc.Environment[name]; v != nil {
			run.Env = append(run.Env, v1alpha1.EnvVar{Name: name, Value: *v})
		} else {
			c.note("service %s: environment variable %s has no value here; left out", svc.Name, name)
		}
	}
	if svc.StopGracePeriod != nil {
		run.StopGracePeriod = duration(*svc.StopGracePeriod)
	}
	for _, s := range svc.Secrets {
		def, ok := project.Secrets[s.Source]
		run.Secrets = append(run.Secrets, c.fileMount(svc.Name, "secret", types.FileReferenceConfig(s), types.FileObjectConfig(def), ok))
	}
	for _, cf := range svc.Configs {
		def, ok := project.Configs[cf.Source]
		run.Configs = append(run.Configs, c.fileMount(svc.Name, "config", types.FileReferenceConfig(cf), types.FileObjectConfig(def), ok))
	}
	for _, v := range svc.Volumes {
		m := v1alpha1.Mount{Type: v1alpha1.MountType(v.Type), Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeVolume:
			if def, ok := project.Volumes[v.Source]; ok {
				m.Source = cmp.Or(def.Name, v.Source)
			}
		case types.VolumeTypeBind:
		case types.VolumeTypeTmpfs:
			if v.Tmpfs != nil && v.Tmpfs.Size > 0 {
				m.Size = strconv.FormatInt(int64(v.Tmpfs.Size), 10)
			}
		default:
			c.note("service %s: a %s mount at %s is left out", svc.Name, v.Type, v.Target)
			continue
		}
		run.Mounts = append(run.Mounts, m)
	}
	if h := svc.HealthCheck; h != nil {
		hc := &v1alpha1.Healthcheck{Test: h.Test}
		if h.Disable {
			hc.Test = []string{"NONE"}
		}
		if h.Interval != nil {
			hc.Interval = duration(*h.Interval)
		}
		if h.Timeout != nil {
			hc.Timeout = duration(*h.Timeout)
		}
		if h.StartPeriod != nil {
			hc.StartPeriod = duration(*h.StartPeriod)
		}
		if h.Retries != nil {
			hc.Retries = ptr(int32(*h.Retries))
		}
		run.Healthcheck = hc
	}
	for _, key := range slices.Sorted(maps.Keys(svc.Networks)) {
		def, ok := project.Networks[key]
		name := cmp.Or(def.Name, key)
		switch {
		case name == network:
		case ok && bool(def.External):
			run.Networks = append(run.Networks, name)
		default:
			c.note("service %s: the stack's own network %s is left out (the service joins its gateway's network %s)", svc.Name, key, network)
		}
	}
	meta = v1alpha1.ObjectMeta{Name: svc.Name}
	for k, v := range labels(svc) {
		if proxyLabel(k) || strings.HasPrefix(k, v1alpha1.LabelPrefix) {
			continue
		}
		if meta.Labels == nil {
			meta.Labels = map[string]string{}
		}
		meta.Labels[k] = v
	}
	if d := svc.Deploy; d != nil {
		switch d.Mode {
		case "global":
			run.Mode = v1alpha1.ServiceModeGlobal
		case "global-job":
			run.Mode = v1alpha1.ServiceModeGlobalJob
		case "replicated-job":
			run.Mode = v1alpha1.ServiceModeReplicatedJob
		}
		if d.Replicas != nil && run.Mode != v1alpha1.ServiceModeGlobal && run.Mode != v1alpha1.ServiceModeGlobalJob {
			run.Replicas = ptr(int32(*d.Replicas))
		}
		if !run.Mode.Job() {
			run.UpdatePolicy = updatePolicy(d.UpdateConfig)
		}
		run.RestartPolicy = restartPolicy(d.RestartPolicy)
		run.Resources = resources(d.Resources)
		if d.EndpointMode == "dnsrr" {
			run.EndpointMode = v1alpha1.EndpointModeDNSRR
		}
		p := d.Placement
		if len(p.Constraints) > 0 || len(p.Preferences) > 0 || p.MaxReplicas > 0 {
			run.Placement = &v1alpha1.Placement{Constraints: p.Constraints}
			for _, pref := range p.Preferences {
				run.Placement.Preferences = append(run.Placement.Preferences, v1alpha1.PlacementPreference{Spread: pref.Spread})
			}
			if p.MaxReplicas > 0 {
				run.Placement.MaxReplicasPerNode = ptr(int32(p.MaxReplicas))
			}
		}
	}
	return run, meta, nil
}

func sectionStrings(sections []v1alpha1.SectionName) []string {
	out := make([]string, len(sections))
	for i, s := range sections {
		out[i] = string(s)
	}
	return out
}

// fileMount mounts the swarm secret or config (kind) a service refers to, by its swarm name (the
// stack's definition def, when declared, may rename it); one the stack would create from a file
// must exist already, which a note says.
func (c *converter) fileMount(service, kind string, ref types.FileReferenceConfig, def types.FileObjectConfig, declared bool) v1alpha1.FileMount {
	name := ref.Source
	if declared {
		name = cmp.Or(def.Name, ref.Source)
		if !bool(def.External) {
			c.note("service %s: %s %s is created from a file by docker stack deploy; swarmgate mounts existing ones only: create %s first (docker %s create)", service, kind, ref.Source, name, kind)
		}
	}
	fm := v1alpha1.FileMount{Name: name, Target: ref.Target, UID: ref.UID, GID: ref.GID}
	if ref.Mode != nil {
		fm.Mode = fmt.Sprintf("0%o", int64(*ref.Mode))
	}
	return fm
}

func updatePolicy(u *types.UpdateConfig) *v1alpha1.UpdatePolicy {
	if u == nil {
		return nil
	}
	p := &v1alpha1.UpdatePolicy{Order: v1alpha1.UpdateOrder(u.Order), FailureAction: v1alpha1.FailureAction(u.FailureAction)}
	if u.Parallelism != nil {
		p.Parallelism = ptr(int32(*u.Parallelism))
	}
	if u.Delay != 0 {
		p.Delay = *duration(u.Delay)
	}
	if u.Monitor != 0 {
		p.Monitor = *duration(u.Monitor)
	}
	return p
}

func restartPolicy(r *types.RestartPolicy) *v1alpha1.RestartPolicy {
	if r == nil {
		return nil
	}
	p := &v1alpha1.RestartPolicy{Condition: v1alpha1.RestartCondition(r.Condition)}
	if r.Delay != nil {
		p.Delay = *duration(*r.Delay)
	}
	if r.Window != nil {
		p.Window = *duration(*r.Window)
	}
	if r.MaxAttempts != nil {
		p.MaxAttempts = ptr(int32(*r.MaxAttempts))
	}
	return p
}

func resources(r types.Resources) *v1alpha1.Resources {
	list := func(res *types.Resource) *v1alpha1.ResourceList {
		if res == nil || res.NanoCPUs == 0 && res.MemoryBytes == 0 {
			return nil
		}
		l := &v1alpha1.ResourceList{}
		if res.NanoCPUs > 0 {
			l.CPUs = strconv.FormatFloat(float64(res.NanoCPUs), 'f', -1, 32)
		}
		if res.MemoryBytes > 0 {
			l.Memory = strconv.FormatInt(int64(res.MemoryBytes), 10)
		}
		return l
	}
	out := &v1alpha1.Resources{Limits: list(r.Limits), Reservations: list(r.Reservations)}
	if out.Limits == nil && out.Reservations == nil {
		return nil
	}
	return out
}

func duration(d types.Duration) *v1alpha1.Duration {
	v := v1alpha1.Duration(time.Duration(d).String())
	return &v
}

func ptr[T any](v T) *T { return &v }
