package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/render/keepalived"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

func newRenderCommand() *cobra.Command {
	opts := &fileOptions{}
	var (
		addresses   []string
		showSecrets bool
	)
	cmd := &cobra.Command{
		Use:   "render -f PATH...",
		Short: "Print the nginx and keepalived configuration the manifests produce",
		Long: `Render, without touching the swarm, the configuration swarmgate would give
each gateway (its nginx conf.d/default.conf) and each node of each virtual IP
(its keepalived.conf). Virtual IPs with unicast adverts need every node's
address: apply reads it from the swarm, render takes it from --node-address.`,
		Example: `  # The seed scenario's gateway and keepalived configs
  swarmgate render -f manifests/examples/seed/ \
    --node-address node1=10.0.0.1 --node-address node2=10.0.0.2 --node-address node3=10.0.0.3`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addrs, err := parseNodeAddresses(addresses)
			if err != nil {
				return &exitCodeError{code: exitFail, msg: err.Error()}
			}
			objs, err := opts.load(cmd)
			if err != nil {
				return err
			}
			return render(cmd.OutOrStdout(), objs, addrs, showSecrets)
		},
	}
	opts.addFlags(cmd)
	cmd.Flags().StringArrayVar(&addresses, "node-address", nil, "HOSTNAME=IP of a node, for virtual IPs with unicast adverts; repeatable")
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print VRRP passwords instead of masking them")
	return cmd
}

func parseNodeAddresses(flags []string) (map[string]netip.Addr, error) {
	addrs := map[string]netip.Addr{}
	for _, f := range flags {
		host, ip, ok := strings.Cut(f, "=")
		a, err := netip.ParseAddr(ip)
		if !ok || host == "" || err != nil {
			return nil, fmt.Errorf("--node-address %q: want HOSTNAME=IP", f)
		}
		addrs[host] = a
	}
	return addrs, nil
}

func render(w io.Writer, objs []v1alpha1.Object, addrs map[string]netip.Addr, showSecrets bool) error {
	var (
		gateways []*v1alpha1.Gateway
		routes   []*v1alpha1.Route
		vips     []*v1alpha1.VirtualIP
		zones    = map[string]*v1alpha1.Zone{}
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *v1alpha1.Gateway:
			gateways = append(gateways, o)
		case *v1alpha1.Route:
			routes = append(routes, o)
		case *v1alpha1.VirtualIP:
			vips = append(vips, o)
		case *v1alpha1.Zone:
			zones[o.Metadata.Name] = o
		}
	}
	gatewayByName := map[string]*v1alpha1.Gateway{}
	for _, gw := range gateways {
		gatewayByName[gw.Metadata.Name] = gw
		conf, err := nginx.Render(gw, routes, nginx.Options{})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "# ---- Gateway %s: /etc/nginx/conf.d/default.conf\n%s\n", gw.Metadata.Name, conf)
	}
	for _, vip := range vips {
		nodes, err := keepalived.Nodes(vip, zones[vip.Spec.Zone], addrs)
		if err != nil {
			return &exitCodeError{code: exitFail, msg: err.Error() + " (pass --node-address HOSTNAME=IP)"}
		}
		res, err := keepalived.Render(vip, nodes, trackedPort(vip, gatewayByName))
		if err != nil {
			return err
		}
		for _, warning := range res.Warnings {
			slog.Warn(warning, "reason", "VRRPConfig")
		}
		hosts := make([]string, 0, len(res.Configs))
		for h := range res.Configs {
			hosts = append(hosts, h)
		}
		slices.Sort(hosts)
		for _, h := range hosts {
			conf := res.Configs[h]
			if vip.Spec.Auth != nil && !showSecrets {
				conf = bytes.ReplaceAll(conf, []byte("auth_pass "+vip.Spec.Auth.Password+"\n"), []byte(maskedPassword+"\n"))
			}
			fmt.Fprintf(w, "# ---- VirtualIP %s, node %s: /etc/keepalived/keepalived.conf\n%s\n", vip.Metadata.Name, h, conf)
		}
	}
	return nil
}

// maskedPassword replaces a VRRP password in printed configs.
const maskedPassword = "auth_pass ******** # masked; --show-secrets prints it"

// trackedPort is the port of the gateway listener a virtual IP follows, or 0.
func trackedPort(vip *v1alpha1.VirtualIP, gateways map[string]*v1alpha1.Gateway) v1alpha1.PortNumber {
	t := vip.Spec.TrackGateway
	if t == nil || gateways[t.Name] == nil {
		return 0
	}
	gw := gateways[t.Name]
	if t.Listener != "" {
		return gw.Listener(t.Listener).Port
	}
	return gw.Spec.Listeners[0].Port
}
