package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/operator/lease"
	"github.com/swarmgate/swarmgate/reconciler/planner"
)

// engineOptions are the flags of every command that talks to the swarm.
type engineOptions struct {
	instance         string
	context          string
	forceConflicts   bool
	withRegistryAuth bool
}

func (o *engineOptions) addFlags(cmd *cobra.Command) {
	switch cmd.Name() {
	case "create-secret", "create-account-key": // the secrets they make are the user's, of no instance
	default:
		cmd.Flags().StringVar(&o.instance, "instance", "default", "name of this swarmgate instance; objects of other instances are never touched")
	}
	cmd.Flags().StringVar(&o.context, "context", "", "`NAME` of the docker CLI context of the engine to talk to (default: DOCKER_HOST, DOCKER_CONTEXT, the one 'docker context use' chose, the local socket)")
	if cmd.Name() == "apply" || cmd.Name() == "delete" {
		cmd.Flags().BoolVar(&o.forceConflicts, "force-conflicts", false, "write even while an operator (swarmgate run) holds the instance's lease")
	}
	if cmd.Name() == "apply" || cmd.Name() == "run" {
		cmd.Flags().BoolVar(&o.withRegistryAuth, "with-registry-auth", false, "send the docker CLI's credentials (docker login) of each image's registry with service writes, so nodes can pull private images")
	}
}

// client connects to the engine chosen as the docker CLI chooses it (see engineClientOpts),
// speaking the newest API version both sides know.
func (o *engineOptions) client(extra ...client.Opt) (*client.Client, error) {
	opts, err := engineClientOpts(o.context)
	if err != nil {
		return nil, err
	}
	return client.NewClientWithOpts(append(append(opts, client.WithAPIVersionNegotiation()), extra...)...)
}

// reconciler connects to the engine.
func (o *engineOptions) reconciler() (*reconciler.Reconciler, *client.Client, error) {
	c, err := o.client()
	if err != nil {
		return nil, nil, err
	}
	r := &reconciler.Reconciler{Engine: c, Instance: o.instance}
	if o.withRegistryAuth {
		if r.RegistryAuth, err = registryCredentials(); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("--with-registry-auth: %w", err)
		}
	}
	return r, c, nil
}

// session loads the manifests and validates each object (bad input: every error printed, exit 1,
// no engine contact), then connects to the engine; the set they make with the applied objects is
// validated when planned, before any write. The caller closes the client.
func (o *engineOptions) session(cmd *cobra.Command, files *fileOptions) ([]v1alpha1.Object, *reconciler.Reconciler, *client.Client, error) {
	return o.sessionOf(cmd, files.loadPart)
}

// wholeSession is session for manifests that are the whole instance (apply --prune): the set is
// validated too before the engine is contacted.
func (o *engineOptions) wholeSession(cmd *cobra.Command, files *fileOptions) ([]v1alpha1.Object, *reconciler.Reconciler, *client.Client, error) {
	return o.sessionOf(cmd, files.load)
}

func (o *engineOptions) sessionOf(cmd *cobra.Command, load func(*cobra.Command) ([]v1alpha1.Object, error)) ([]v1alpha1.Object, *reconciler.Reconciler, *client.Client, error) {
	objs, err := load(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	r, c, err := o.reconciler()
	if err != nil {
		return nil, nil, nil, err
	}
	return objs, r, c, nil
}

// plan plans a pass; input that is invalid together with the applied objects is printed like
// invalid manifests.
func plan(cmd *cobra.Command, r *reconciler.Reconciler, in reconciler.Input, opts planner.Options, withTasks bool) (*reconciler.Pass, error) {
	pass, err := r.Plan(cmd.Context(), in, opts, withTasks)
	if err != nil {
		return nil, invalidInput(cmd, err)
	}
	return pass, nil
}

// parseKind reads a kind as kubectl users type it: any case, singular or plural, with or without
// the API group ("routes", "Route", "route.swarmgate.io").
func parseKind(arg string) (v1alpha1.Kind, error) {
	a := strings.TrimSuffix(strings.ToLower(arg), "."+strings.Split(v1alpha1.GroupVersion, "/")[0])
	for _, k := range v1alpha1.Kinds {
		// As kubectl: the kind, its plural or a short name (get routes, get gw).
		if a == strings.ToLower(string(k)) || a == k.Plural() || slices.Contains(k.ShortNames(), a) {
			return k, nil
		}
	}
	names := make([]string, len(v1alpha1.Kinds))
	for i, k := range v1alpha1.Kinds {
		names[i] = strings.Join(append([]string{strings.ToLower(string(k))}, k.ShortNames()...), "|")
	}
	return "", fmt.Errorf("unknown kind %q: want one of %s (or a plural)", arg, strings.Join(names, ", "))
}

// parseRefs reads the objects a command names: "KIND NAME...", or "KIND/NAME..." (as `-o name`
// prints them). It returns owners: "Route/dmzhttp".
func parseRefs(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	var owners []string
	if !strings.Contains(args[0], "/") {
		kind, err := parseKind(args[0])
		if err != nil {
			return nil, err
		}
		if len(args) == 1 {
			return nil, fmt.Errorf("name the %s objects to act on (KIND NAME...)", kind)
		}
		for _, n := range args[1:] {
			owners = append(owners, inventory.NewOwner(kind, n).String())
		}
		return owners, nil
	}
	for _, a := range args {
		k, n, ok := strings.Cut(a, "/")
		if !ok || n == "" {
			return nil, fmt.Errorf("%q: want KIND/NAME", a)
		}
		kind, err := parseKind(k)
		if err != nil {
			return nil, err
		}
		owners = append(owners, inventory.NewOwner(kind, n).String())
	}
	return owners, nil
}

// refuseWhileLeased refuses a write to an instance whose lease a running operator holds: the CLI
// and the operator would undo each other's changes. force writes anyway.
func refuseWhileLeased(pass *reconciler.Pass, instance string, force bool) error {
	held := lease.Held(pass.Snapshot.Lease, time.Now())
	if held == nil || force {
		return nil
	}
	return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("instance %s is run by an operator (swarmgate run, %s, lease renewed %s ago): change its source instead, "+
		"or stop it; --force-conflicts writes anyway, and the operator will undo what its source does not say", instance, held.Holder, time.Since(held.Renewed).Round(time.Second))}
}
