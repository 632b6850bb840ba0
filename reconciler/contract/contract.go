// Package contract is what swarmgate's tasks and the rest of swarmgate agree on: where files are
// mounted into gateway and keepalived tasks, the paths and headers a gateway answers, the flags
// of the agents that run in those tasks, and the agents' wire protocol with the operator. The
// renderers, desired, the agents, the operator and cmd take these facts from here, so that a task
// started by one version and the configs written by it cannot disagree on them. It is a leaf: it
// imports the API's types and the standard library only.
package contract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Files mounted into a gateway's tasks.
const (
	// GatewayConfigPath is where a gateway's nginx reads the config swarmgate renders.
	GatewayConfigPath = "/etc/nginx/conf.d/default.conf"
	// GatewaySocketDir is where a gateway's nginx makes the unix sockets its stream servers hand
	// connections to its HTTPS servers on.
	GatewaySocketDir = "/tmp"
	// NginxModules are the files that load the dynamic modules of a gateway image's nginx
	// (Debian's layout; the stream module is one there): the gateway agent includes them when the
	// config has a stream part. Images with the module built in have none, which nginx allows.
	NginxModules = "/etc/nginx/modules-enabled/*.conf"
	// DebianStreamModule is where Debian's libnginx-mod-stream installs the stream module: the
	// real-nginx tests load it by this path (modules-enabled names it relative to nginx's
	// prefix, which they move into a directory of their own).
	DebianStreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"
	// CertDir is where the certificate secrets of HTTPS listeners are mounted.
	CertDir = "/run/secrets/swarmgate-tls"
	// ChainDir is where the chains of ACME certificates (swarm configs: they are public) are
	// mounted; AgentChainDir is where a gateway agent writes the chains it is handed, relative to
	// nginx's main config.
	ChainDir      = "/etc/swarmgate/tls"
	AgentChainDir = "tls"
	// AgentTokenPath is where a gateway agent reads its token, AgentCAPath the CAs it trusts for an
	// https operator.
	AgentTokenPath = "/run/secrets/swarmgate-agent-token"
	AgentCAPath    = "/run/secrets/swarmgate-agent-ca.pem"
	// UserFileDir is where the htpasswd secrets of SecurityPolicies' basic authentication are
	// mounted, one file per policy.
	UserFileDir = "/run/secrets/swarmgate-auth"
	// BackendCADir is where the CA secrets of BackendTLSPolicies are mounted, one file per policy;
	// SystemCAFile is the CA bundle of the gateway's image (Debian's, which the nginx images are).
	BackendCADir = "/run/secrets/swarmgate-backend-ca"
	SystemCAFile = "/etc/ssl/certs/ca-certificates.crt"
	// TaskEnv names a gateway task's environment variable that holds its task name.
	TaskEnv = "SWARMGATE_TASK"
)

// ChainFileName is the file name of a listener's ACME chain, KeyFileName of its key.
func ChainFileName(listener v1alpha1.SectionName) string { return string(listener) + ".crt" }
func KeyFileName(listener v1alpha1.SectionName) string   { return string(listener) + ".key" }

// Files mounted into a keepalived task.
const (
	// KeepalivedConfigPath is where the VRRP agent's keepalived reads its config.
	KeepalivedConfigPath = "/etc/keepalived/keepalived.conf"
	// TrackFile is the file keepalived watches for the local gateway's health: the VRRP agent,
	// which runs beside keepalived, writes 0 while the gateway answers and 1 when it does not. A
	// file rather than a vrrp_script: keepalived reacts at once (inotify), and the image needs no
	// shell.
	TrackFile = "/run/swarmgate/gateway"
)

// What a gateway answers besides its routes.
const (
	// HealthPath is the gateway's health check, served by the default server of each port, so a
	// route's host never shadows it and a VirtualIP's agent can ask any address.
	HealthPath = "/.well-known/swarmgate/health"
	// NodeHeader names, in the health check's answer, the node whose gateway task answered.
	NodeHeader = "X-Swarmgate-Node"
	// ACMEChallengePath is where ACME servers fetch HTTP-01 challenge answers (RFC 8555).
	ACMEChallengePath = "/.well-known/acme-challenge/"
)

// The gateway agents' protocol: GET AgentConfigPath(gateway) with the agent token as a bearer
// token, Accept BundleType and the task's state in headers. The operator answers the desired
// Bundle (200, HashHeader) when the task serves another one, or waits up to MaxWait for one and
// answers 304.
const (
	BundleType     = "application/vnd.swarmgate.bundle+json"
	TaskHeader     = "X-Swarmgate-Task"
	ServedHeader   = "X-Swarmgate-Served"
	RejectedHeader = "X-Swarmgate-Rejected"
	// UnmountedHeader, with RejectedHeader, says the task did not take the config because files
	// it reads are not mounted in the task: swarm is replacing it with one that has them. No
	// refusal of nginx's, no alert.
	UnmountedHeader = "X-Swarmgate-Unmounted"
	ErrorHeader     = "X-Swarmgate-Error"
	HashHeader      = "X-Swarmgate-Config-Hash"
	MaxWait         = 25 * time.Second
	// MaxAgentConfigSize bounds the configs of the gateways whose agents take them from the
	// operator, all of one set together (the operator holds them all, and rendering them costs no
	// more however many such gateways a manifest declares); MaxBundleSize a bundle (a config and
	// its chains).
	MaxAgentConfigSize = 64 << 20
	MaxBundleSize      = 2 * MaxAgentConfigSize
)

// AgentConfigPath is the operator's endpoint for a gateway's config.
func AgentConfigPath(gateway string) string {
	return "/v1/gateways/" + url.PathEscape(gateway) + "/config"
}

// Bundle is what the operator hands a gateway's agents: nginx's config and the chains of the
// gateway's ACME certificates, by file name under AgentChainDir. Both are public: the keys are
// secrets mounted in the tasks, and a renewal keeps them.
type Bundle struct {
	Config string            `json:"config"`
	Chains map[string]string `json:"chains,omitempty"`
}

// Encode is the bundle as the operator sends it. Map keys are sorted: one bundle, one encoding.
func (b Bundle) Encode() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(b) // strings and a map of strings always encode
	return buf.Bytes()
}

// Hash names an encoded bundle: the first 16 hex digits of its SHA-256.
func Hash(conf []byte) string {
	sum := sha256.Sum256(conf)
	return hex.EncodeToString(sum[:])[:16]
}

// The VRRP agents' protocol: each node's agent serves its Report on StatusPath.
const StatusPath = "/vrrp/status"

// Report is what one node's VRRP agent says of its node.
type Report struct {
	// Node is the node's hostname.
	Node string `json:"node"`
	// Address is the virtual IP, with its prefix length.
	Address string `json:"address"`
	// Interface is the interface that carries the address on this node.
	Interface string `json:"interface"`
	// InterfaceFound is false when the node has no such interface: keepalived cannot run there.
	InterfaceFound bool `json:"interfaceFound"`
	// Holds is true while the address is on the node's interface.
	Holds bool `json:"holds"`
	// GatewayHealthy says whether the node's gateway answers its health check; absent when the
	// virtual IP tracks no gateway.
	GatewayHealthy *bool `json:"gatewayHealthy,omitempty"`
}

// FlagSet is where an agent command defines its flags: a *pflag.FlagSet or a *flag.FlagSet.
type FlagSet interface {
	StringVar(p *string, name, value, usage string)
	DurationVar(p *time.Duration, name string, value time.Duration, usage string)
}

// GatewayAgentFlags are the flags of `swarmgate gateway`, the agent in each task of a gateway with
// spec.agent: desired writes them into the task's arguments, cmd defines them.
type GatewayAgentFlags struct {
	Operator  string
	Gateway   string
	TokenFile string
	CAFile    string
	Bootstrap string
	Task      string
	Chains    string
	Keys      string
	Dir       string
	Nginx     string
	Traffic   string
}

// NewGatewayAgentFlags returns the flags with their defaults.
func NewGatewayAgentFlags() GatewayAgentFlags {
	return GatewayAgentFlags{TokenFile: AgentTokenPath, Bootstrap: GatewayConfigPath, Chains: ChainDir, Keys: CertDir,
		Dir: "/run/swarmgate", Nginx: "/usr/sbin/nginx", Traffic: TrafficSocket}
}

// Args are f as a task's arguments: the operator, gateway, token and bootstrap always, the
// others when they differ from their defaults (in this order, so a task's arguments stay the
// same from one swarmgate version to the next and its service is not updated for nothing).
func (f GatewayAgentFlags) Args() []string {
	args := []string{"--operator", f.Operator, "--gateway", f.Gateway, "--token-file", f.TokenFile, "--bootstrap", f.Bootstrap}
	d := NewGatewayAgentFlags()
	for _, o := range []struct{ name, value, def string }{
		{"ca-file", f.CAFile, d.CAFile}, {"task", f.Task, d.Task}, {"chains", f.Chains, d.Chains},
		{"keys", f.Keys, d.Keys}, {"dir", f.Dir, d.Dir}, {"nginx", f.Nginx, d.Nginx}, {"traffic-socket", f.Traffic, d.Traffic},
	} {
		if o.value != o.def {
			args = append(args, "--"+o.name, o.value)
		}
	}
	return args
}

// Define defines the flags in fs, bound to f's fields, with f's values as their defaults.
func (f *GatewayAgentFlags) Define(fs FlagSet) {
	fs.StringVar(&f.Operator, "operator", f.Operator, "the operator's URL")
	fs.StringVar(&f.Gateway, "gateway", f.Gateway, "the gateway's qualified name")
	fs.StringVar(&f.TokenFile, "token-file", f.TokenFile, "file holding the agent token")
	fs.StringVar(&f.CAFile, "ca-file", f.CAFile, "CA certificates (PEM) to trust for an https operator, instead of the system's")
	fs.StringVar(&f.Bootstrap, "bootstrap", f.Bootstrap, "the config to serve first")
	fs.StringVar(&f.Task, "task", f.Task, "this task's name (default: $"+TaskEnv+", or the hostname)")
	fs.StringVar(&f.Chains, "chains", f.Chains, "where the ACME certificate chains are mounted")
	fs.StringVar(&f.Keys, "keys", f.Keys, "where their keys are mounted")
	fs.StringVar(&f.Dir, "dir", f.Dir, "where to write nginx's configs")
	fs.StringVar(&f.Nginx, "nginx", f.Nginx, "the nginx binary")
	fs.StringVar(&f.Traffic, "traffic-socket", f.Traffic, "where nginx sends the access log lines the agent counts")
}

// VRRPAgentFlags are the flags of `swarmgate vrrp-agent`, the agent in each node's keepalived task
// of a VirtualIP: desired writes them into the task's arguments, cmd defines them.
type VRRPAgentFlags struct {
	Node          string
	Address       string // the virtual IP with its prefix length
	Interface     string
	Listen        string
	TrackURL      string
	TrackFile     string
	TrackInterval time.Duration
	Keepalived    string
	Config        string
}

// NewVRRPAgentFlags returns the flags with their defaults.
func NewVRRPAgentFlags() VRRPAgentFlags {
	return VRRPAgentFlags{Interface: "eth0", Listen: ":" + strconv.Itoa(int(v1alpha1.DefaultVRRPStatusPort)), TrackFile: TrackFile,
		Keepalived: "/usr/sbin/keepalived", Config: KeepalivedConfigPath}
}

// Args are f as a task's arguments: the node, address, interface and status address always, the
// health check when the virtual IP tracks a gateway, the others when they differ from their
// defaults.
func (f VRRPAgentFlags) Args() []string {
	args := []string{"--node", f.Node, "--address", f.Address, "--interface", f.Interface, "--listen", f.Listen}
	d := NewVRRPAgentFlags()
	for _, o := range []struct{ name, value, def string }{
		{"track-url", f.TrackURL, d.TrackURL}, {"track-file", f.TrackFile, d.TrackFile},
		{"track-interval", durationArg(f.TrackInterval), durationArg(d.TrackInterval)},
		{"keepalived", f.Keepalived, d.Keepalived}, {"config", f.Config, d.Config},
	} {
		if o.value != o.def {
			args = append(args, "--"+o.name, o.value)
		}
	}
	return args
}

func durationArg(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// Define defines the flags in fs, bound to f's fields, with f's values as their defaults.
func (f *VRRPAgentFlags) Define(fs FlagSet) {
	fs.StringVar(&f.Node, "node", f.Node, "hostname of this node")
	fs.StringVar(&f.Address, "address", f.Address, "the virtual IP with its prefix length")
	fs.StringVar(&f.Interface, "interface", f.Interface, "interface that carries the address")
	fs.StringVar(&f.Listen, "listen", f.Listen, "address of the status server")
	fs.StringVar(&f.TrackURL, "track-url", f.TrackURL, "the local gateway's health check; empty tracks nothing")
	fs.StringVar(&f.TrackFile, "track-file", f.TrackFile, "file keepalived tracks")
	fs.DurationVar(&f.TrackInterval, "track-interval", f.TrackInterval, "how often the gateway is checked (default 100ms)")
	fs.StringVar(&f.Keepalived, "keepalived", f.Keepalived, "the keepalived binary")
	fs.StringVar(&f.Config, "config", f.Config, "keepalived.conf")
}

// TrackConnect starts a VRRP agent's track URL ("tcp://host:port") that checks a gateway's TCP or
// TLS listener by connecting to it.
const TrackConnect = "tcp://"

// StreamLine starts each line of the stream part of a gateway's config: lines the http block
// reads as comments, and the agent writes, without it, into the stream block of nginx's main
// config.
const StreamLine = "#stream "

// SplitStream returns the stream part of a gateway's config: its StreamLine lines, without it;
// nil when it has none.
func SplitStream(conf []byte) []byte {
	var out []byte
	for line := range bytes.Lines(conf) {
		if rest, ok := bytes.CutPrefix(line, []byte(StreamLine)); ok {
			out = append(out, rest...)
		}
	}
	return out
}

// The gateway agents' traffic reports, for Gateways with spec.agent.metrics: nginx sends each
// request's access log line (the JSON line of the stdout access log, unfiltered) to the agent on
// TrafficSocket as syslog; the agent counts them and POSTs a TrafficReport of its task's totals
// since it started to AgentTrafficPath(gateway) every TrafficInterval (and once more as it
// stops), with the agent token as a bearer token. Totals rather than increments: a report lost on
// the way loses no count, and the operator tells a restarted agent by its Start.
const (
	TrafficSocket = "/run/swarmgate/traffic.sock"
	// TrafficQueueSysctl and TrafficQueueLength deepen the socket's queue in the gateway task's
	// network namespace. nginx sends each line without waiting and drops it when the queue is
	// full; a new namespace's queue holds 10 datagrams, which a burst of requests on a busy node
	// fills before the agent is scheduled to read (seen: 2 of 600 requests lost from the counts).
	// The queue's memory stays bounded by each nginx worker's socket send buffer.
	TrafficQueueSysctl = "net.unix.max_dgram_qlen"
	TrafficQueueLength = "1024"
	TrafficType        = "application/vnd.swarmgate.traffic+json"
	TrafficInterval    = 5 * time.Second
	// MaxTrafficReportSize bounds a report: its series are bounded by the gateway's Routes,
	// rules and backends, which a config of MaxAgentConfigSize bounds in turn.
	MaxTrafficReportSize = 16 << 20
)

// AgentTrafficPath is the operator's endpoint for a gateway's traffic reports.
func AgentTrafficPath(gateway string) string {
	return "/v1/gateways/" + url.PathEscape(gateway) + "/traffic"
}

// LatencyBuckets are the upper bounds, in seconds, of the latency histograms' buckets; a last,
// unbounded bucket follows. Agents and operator share them, so histograms add up.
var LatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// StatusClasses are the status classes traffic is counted by; requests with any other status
// (none that nginx answers) are not counted.
var StatusClasses = []string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// TrafficReport is one gateway task's traffic since its agent started.
type TrafficReport struct {
	Task string `json:"task"`
	// Start tells one run of the agent from the next: when it changes, counting restarted at 0.
	Start time.Time `json:"start"`
	// Connections are the client connections nginx holds open now.
	Connections int64           `json:"connections"`
	Series      []TrafficSeries `json:"series"`
}

// TrafficKey is what traffic is counted by. Route and Rule are empty for requests no rule took.
type TrafficKey struct {
	Listener string `json:"listener"`
	Route    string `json:"route"`
	Rule     string `json:"rule"`
	Backend  string `json:"backend"`
	Class    string `json:"class"`
}

// TrafficSeries are the totals of one key.
type TrafficSeries struct {
	TrafficKey
	Requests uint64 `json:"requests"`
	BytesIn  uint64 `json:"bytesIn"`
	BytesOut uint64 `json:"bytesOut"`
	// Duration is the time to answer the request; UpstreamTime the time its backends took,
	// observed only for requests that reached one.
	Duration     Histogram `json:"duration"`
	UpstreamTime Histogram `json:"upstreamTime"`
}

// Histogram counts observations in LatencyBuckets: Counts[i] those at most LatencyBuckets[i] and
// above the bound before, the last those above every bound.
type Histogram struct {
	Counts []uint64 `json:"counts"`
	Sum    float64  `json:"sum"`
}

// Observe counts v, in seconds.
func (h *Histogram) Observe(v float64) {
	if h.Counts == nil {
		h.Counts = make([]uint64, len(LatencyBuckets)+1)
	}
	i := 0
	for i < len(LatencyBuckets) && v > LatencyBuckets[i] {
		i++
	}
	h.Counts[i]++
	h.Sum += v
}

// Add adds o's observations to h.
func (h *Histogram) Add(o Histogram) {
	if len(o.Counts) == 0 {
		return
	}
	if h.Counts == nil {
		h.Counts = make([]uint64, len(LatencyBuckets)+1)
	}
	for i := range min(len(h.Counts), len(o.Counts)) {
		h.Counts[i] += o.Counts[i]
	}
	h.Sum += o.Sum
}

// Total is the number of observations.
func (h Histogram) Total() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}
