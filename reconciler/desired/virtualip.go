package desired

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/render/keepalived"
)

// Node is a node of the swarm as the desired state needs it: its hostname and its address, which
// keepalived's unicast adverts go to.
type Node struct {
	Hostname string
	Addr     netip.Addr
}

// HostNetwork is the network a service attaches to for the host's network stack: keepalived must
// see and change the node's own interfaces.
const HostNetwork = "host"

// LabelNode names, on a VirtualIP's per-node service, the node it is pinned to.
const LabelNode = v1alpha1.LabelPrefix + "node"

// VRRPNode is one node of a VirtualIP as the desired state runs it.
type VRRPNode struct {
	keepalived.Node
	// Service is the name of the node's keepalived service.
	Service string
}

// VirtualIP is what the desired state knows of a VirtualIP beyond its services: the nodes it runs
// on and where each one's agent reports, for status.
type VirtualIP struct {
	Name       string
	Owner      string
	Address    netip.Prefix
	StatusPort v1alpha1.PortNumber
	// HealthPort is the tracked gateway listener's port, where the address should answer; 0 when
	// the VirtualIP tracks no gateway.
	HealthPort v1alpha1.PortNumber
	Nodes      []VRRPNode
	// Missing are the nodes of the VirtualIP that the swarm does not have.
	Missing []string
}

// addVirtualIP adds one keepalived service per node of vip that the swarm has, each pinned to its
// node, on the host's network, with the capabilities VRRP needs and its own config secret. The
// swarm cannot give one service's tasks different configs, so each node has a service of its own.
func (s *State) addVirtualIP(vip *v1alpha1.VirtualIP, zones map[string]*v1alpha1.Zone, gateways []*v1alpha1.Gateway, known map[string]netip.Addr) error {
	owner := inventory.OwnerOf(vip).String()
	nodes, missing, err := keepalived.Nodes(vip, zones[vip.Spec.Zone], known)
	if err != nil {
		return err
	}
	for _, h := range missing {
		s.Warnings = append(s.Warnings, fmt.Sprintf("VirtualIP %s: node %s is not in the swarm; no keepalived runs there", vip.Metadata.Name, h))
	}
	var tracked *v1alpha1.Listener
	if t := vip.Spec.TrackGateway; t != nil {
		for _, gw := range gateways {
			if gw.Metadata.Name == t.Name {
				tracked = gw.TrackedListener(t.Listener)
			}
		}
	}
	res, err := keepalived.Render(vip, nodes, tracked != nil)
	if err != nil {
		return err
	}
	// A secret is named by its config, unless that holds a password: a short one, in a config
	// anyone who reads the manifests knows the rest of, could be guessed from a digest of it.
	// Then by the config with the password masked, and the salt drawn for the password.
	named := res.Configs
	if vip.Spec.Auth != nil {
		masked := *vip
		masked.Spec.Auth = &v1alpha1.VRRPAuth{Password: "masked"}
		m, err := keepalived.Render(&masked, nodes, tracked != nil)
		if err != nil {
			return err
		}
		for host, conf := range m.Configs {
			m.Configs[host] = append(conf, "\x00"+s.vrrpSalts[owner]...)
		}
		named = m.Configs
	}
	s.Warnings = append(s.Warnings, res.Warnings...)
	prefix, _ := netip.ParsePrefix(vip.Spec.Address) // validated
	v := VirtualIP{Name: vip.Metadata.Name, Owner: owner, Address: prefix, StatusPort: vip.Spec.StatusPort, Missing: missing}
	if tracked != nil {
		v.HealthPort = tracked.Port
	}
	for _, n := range nodes {
		conf := res.Configs[n.Hostname]
		secret := Secret{
			Name:   hashedName(vip.Metadata.QualifiedName()+"-vrrp-"+n.Hostname, named[n.Hostname]),
			Owner:  owner,
			Data:   conf,
			Labels: s.labels(owner, vip.Metadata.Labels),
			Target: contract.KeepalivedConfigPath,
			Node:   n.Hostname,
		}
		secret.Labels[LabelNode] = n.Hostname
		s.Secrets = append(s.Secrets, secret)

		flags := contract.NewVRRPAgentFlags()
		flags.Node, flags.Address, flags.Interface = n.Hostname, prefix.String(), n.Interface
		flags.Listen = ":" + strconv.Itoa(int(vip.Spec.StatusPort))
		if tracked != nil {
			// The node's own address reaches its host-mode port like a client's request does.
			host := netip.AddrFrom4([4]byte{127, 0, 0, 1})
			if n.Address.IsValid() {
				host = n.Address
			}
			addr := netip.AddrPortFrom(host, uint16(tracked.Port)).String()
			flags.TrackURL = "http://" + addr + contract.HealthPath
			if tracked.Protocol.Stream() {
				flags.TrackURL = contract.TrackConnect + addr // no HTTP there: a connection is the check
			}
		}
		args := flags.Args()
		name := swarmName(vip.Metadata.QualifiedName()+"-vrrp-"+n.Hostname, v1alpha1.MaxServiceNameLength)
		labels := s.labels(owner, vip.Metadata.Labels)
		labels[LabelNode] = n.Hostname
		restartDelay := time.Second
		stopGrace := 10 * time.Second
		one := uint64(1)
		spec := swarm.ServiceSpec{
			Annotations: swarm.Annotations{Name: name, Labels: labels},
			TaskTemplate: swarm.TaskSpec{
				ContainerSpec: &swarm.ContainerSpec{
					Image:    CanonicalImage(vip.Spec.Image),
					Args:     args,
					Hostname: n.Hostname,
					// keepalived adds and removes the address (NET_ADMIN), sends gratuitous ARP
					// (NET_RAW) and VRRP adverts (NET_BROADCAST for multicast).
					CapabilityAdd: []string{"CAP_NET_ADMIN", "CAP_NET_BROADCAST", "CAP_NET_RAW"},
					Secrets: []*swarm.SecretReference{{
						SecretName: secret.Name,
						File:       &swarm.SecretReferenceFileTarget{Name: contract.KeepalivedConfigPath, UID: "0", GID: "0", Mode: 0o400},
					}},
					// Time for keepalived to send its priority-0 advert, which hands the address
					// over at once instead of after the master-down interval.
					StopGracePeriod: &stopGrace,
				},
				Placement: &swarm.Placement{Constraints: []string{"node.hostname==" + n.Hostname}},
				// A dead keepalived comes back quickly: until it does, this node cannot take the
				// address.
				RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: &restartDelay},
				Networks:      attachments([]string{HostNetwork}),
			},
			Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
			// One task: an update has nothing to pause for. A task that fails after it is
			// restarted by the restart policy like any other.
			UpdateConfig: &swarm.UpdateConfig{Parallelism: 1, Order: swarm.UpdateOrderStopFirst, FailureAction: swarm.UpdateFailureActionContinue},
		}
		s.addService(owner, spec)
		v.Nodes = append(v.Nodes, VRRPNode{Node: n, Service: name})
	}
	s.VirtualIPs = append(s.VirtualIPs, v)
	return nil
}

var notInServiceName = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// swarmName makes a swarm object name of at most max characters from name: characters a service
// name cannot hold become '-', and a name too long is cut and ends in a hash of the whole, so two
// long names stay apart.
// hashedName is a swarm name for an object holding data: name, shortened to fit, and the first 10
// hex digits of data's SHA-256, so that new data is a new object.
func hashedName(name string, data []byte) string {
	return digestName(name, v1alpha1.ContentDigest(data))
}

// digestName is a content-addressed secret's or config's name: name, fitted, and the digest.
func digestName(name, digest string) string {
	return fit(name, name, v1alpha1.MaxSecretNameLength-11) + "-" + digest
}

// swarmName is name with what a service name cannot hold replaced, fitted to max.
func swarmName(name string, max int) string {
	return fit(notInServiceName.ReplaceAllString(name, "-"), name, max)
}

// fit is name when it has at most max characters, else its start and a hash of whole (the name
// before any cleaning): one input always gives one name, and two inputs that differ give two.
func fit(name, whole string, max int) string {
	if len(name) <= max {
		return name
	}
	sum := sha256.Sum256([]byte(whole))
	return name[:max-9] + "-" + hex.EncodeToString(sum[:])[:8]
}
