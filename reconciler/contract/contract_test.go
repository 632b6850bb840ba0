package contract

import (
	"flag"
	"slices"
	"testing"
	"time"
)

// TestAgentFlagsRoundTrip: what desired writes into a task's arguments, the agent's command reads
// back as the same flags; the fixed ones come first, in the order tasks already run with.
func TestAgentFlagsRoundTrip(t *testing.T) {
	gw := NewGatewayAgentFlags()
	gw.Operator, gw.Gateway = "http://operator:9090", "web"
	withCA := gw
	withCA.CAFile = AgentCAPath
	vrrp := NewVRRPAgentFlags()
	vrrp.Node, vrrp.Address, vrrp.Interface, vrrp.Listen = "node1", "10.0.0.100/24", "eth1", ":9300"
	tracked := vrrp
	tracked.TrackURL, tracked.TrackInterval = "http://10.0.0.1:80"+HealthPath, 250*time.Millisecond

	tests := []struct {
		name  string
		args  []string
		want  any
		parse func([]string) (any, error)
	}{
		{"gateway", gw.Args(), gw, func(args []string) (any, error) {
			f := NewGatewayAgentFlags()
			return f, parse(&f, args)
		}},
		{"gateway with a CA", withCA.Args(), withCA, func(args []string) (any, error) {
			f := NewGatewayAgentFlags()
			return f, parse(&f, args)
		}},
		{"vrrp", vrrp.Args(), vrrp, func(args []string) (any, error) {
			f := NewVRRPAgentFlags()
			return f, parse(&f, args)
		}},
		{"vrrp tracking a gateway", tracked.Args(), tracked, func(args []string) (any, error) {
			f := NewVRRPAgentFlags()
			return f, parse(&f, args)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%v parses to %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
	if want := []string{"--operator", "http://operator:9090", "--gateway", "web", "--token-file", AgentTokenPath, "--bootstrap", GatewayConfigPath,
		"--ca-file", AgentCAPath}; !slices.Equal(withCA.Args(), want) {
		t.Errorf("gateway args %q, want %q", withCA.Args(), want)
	}
	if want := []string{"--node", "node1", "--address", "10.0.0.100/24", "--interface", "eth1", "--listen", ":9300"}; !slices.Equal(vrrp.Args(), want) {
		t.Errorf("vrrp args %q, want %q", vrrp.Args(), want)
	}
}

func parse(f interface{ Define(FlagSet) }, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	f.Define(fs)
	return fs.Parse(args)
}
