package main

import (
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler"
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

// session loads and validates the manifests (bad input: every error printed, exit 1, no engine
// contact), then connects to the engine. The caller closes the client.
func (o *engineOptions) session(cmd *cobra.Command, files *fileOptions) ([]v1alpha1.Object, *reconciler.Reconciler, *client.Client, error) {
	objs, err := files.load(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	r, c, err := o.reconciler()
	if err != nil {
		return nil, nil, nil, err
	}
	return objs, r, c, nil
}
