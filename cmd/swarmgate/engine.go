package main

import (
	"fmt"
	"strings"

	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/planner"
)

// engineOptions are the flags of every command that talks to the swarm.
type engineOptions struct {
	instance string
}

func (o *engineOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.instance, "instance", "default", "name of this swarmgate instance; objects of other instances are never touched")
}

// reconciler connects to the engine the environment names (DOCKER_HOST, or the local socket),
// speaking the newest API version both sides know.
func (o *engineOptions) reconciler() (*reconciler.Reconciler, *client.Client, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, nil, err
	}
	return &reconciler.Reconciler{Engine: c, Instance: o.instance}, c, nil
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
		if l := strings.ToLower(string(k)); a == l || a == l+"s" {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown kind %q: want one of gateway, route, virtualip, zone", arg)
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
			owners = append(owners, string(kind)+"/"+n)
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
		owners = append(owners, string(kind)+"/"+n)
	}
	return owners, nil
}
