package main

import (
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

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
