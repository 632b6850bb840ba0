package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/cmd/internal/cli"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/acme/acmeclient"
	"github.com/swarmgate/swarmgate/reconciler/operator"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/operator/lease"
	"github.com/swarmgate/swarmgate/reconciler/operator/source"
)

type runOptions struct {
	engine         engineOptions
	source         string
	branch         string
	path           string
	checkout       string
	interval       time.Duration
	tokenFile      string
	ageKeyFile     string
	sshKeyFile     string
	knownHostsFile string
	verifyCommits  bool
	allowedSigners string
	resync         time.Duration
	onDrift        string
	webhooks       []string
	alertFormat    string
	listen         string
	tlsCertFile    string
	tlsKeyFile     string
	hookTokenFile  string
	readTokenFile  string
	agentTokenFile string
	agentURL       string
	agentNetwork   string
	vipCheck       time.Duration
	prune          bool
	pruneMax       float64
	acmeCAFile     string
	acmeKeyFile    string
	acmeRenew      time.Duration
	acmeARI        time.Duration
	dnsResolvers   []string
	dnsOnly        bool
	secretsDir     string
	lease          lease.Timing
}

func newRunCommand() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run --source dir:PATH|git:URL",
		Short: "Keep the swarm converged to a directory or a git branch (the operator)",
		Long: `Run swarmgate as an operator: apply the manifests of a directory (re-read when
it changes) or of a git branch (pulled every --interval, and at once on
POST /hooks/git), and reconcile again whenever the swarm reports a change to
swarmgate's objects, and every --resync. Invalid manifests are alerted and
never applied: the swarm keeps the last good state. Drift (a change made to
the swarm by hand, or a rollback) is alerted once and healed, or with
--on-drift=alert only alerted. Objects of this instance that no manifest
declares any more are deleted. Serves /metrics, /healthz, /readyz, /status,
/explain and the dashboard (/ui/) on --listen.

One writer at a time: the operator holds a lease on its instance (a swarm
config it renews every --lease-renew), and apply and delete refuse to write while
it is held. A second operator of the same instance stands by until the lease is
free: a second after a clean stop, which releases it; --lease-duration after the
last renewal it saw otherwise (a killed or cut-off holder). A holder whose
renewals fail stops writing before a standby may start.`,
		Example: `  swarmgate run --source dir:/etc/swarmgate/manifests
  swarmgate run --source git:https://git.example.com/ops/swarm.git --branch main --path gateway \
    --git-token-file /run/secrets/git-token --alert-webhook https://hooks.slack.com/... --alert-format slack`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	f := cmd.Flags()
	o.engine.addFlags(cmd)
	f.StringVar(&o.source, "source", "", "dir:PATH or git:URL")
	f.StringVar(&o.branch, "branch", "main", "git branch to follow")
	f.StringVar(&o.path, "path", ".", "directory of the manifests within the git repository")
	f.StringVar(&o.checkout, "checkout-dir", "", "where to keep the private git checkout (default: a directory under the system's temp dir)")
	f.DurationVar(&o.interval, "interval", time.Minute, "how often to pull the git branch")
	f.StringVar(&o.tokenFile, "git-token-file", "", "file holding an HTTPS token for the git repository")
	f.StringVar(&o.sshKeyFile, "git-ssh-key-file", "", "file holding an SSH private key for the git repository")
	f.StringVar(&o.knownHostsFile, "git-known-hosts-file", "", "known_hosts file for SSH git URLs")
	f.StringVar(&o.ageKeyFile, "age-key-file", "", "file of age identities (e.g. a swarm secret) that decrypt the SOPS files of Secrets, as SOPS_AGE_KEY_FILE for the CLI")
	f.BoolVar(&o.verifyCommits, "verify-commits", false, "apply only git commits signed (OpenPGP) by a key in --allowed-signers")
	f.StringVar(&o.allowedSigners, "allowed-signers", "", "file of armored OpenPGP public keys whose signed commits --verify-commits accepts")
	f.DurationVar(&o.resync, "resync", 5*time.Minute, "reconcile at least this often")
	f.DurationVar(&o.vipCheck, "vip-check", 2*time.Second, "ask the VirtualIPs' node agents this often who holds each address; 0 never")
	f.BoolVar(&o.prune, "prune", true, "delete what the source no longer holds; with --prune=false it stays on the swarm, alerted (PruneHeld), until swarmgate delete")
	f.Float64Var(&o.pruneMax, "prune-max-fraction", 0.5, "refuse to prune more than this share of the instance's applied objects in one pass (more than one object), alerted (PruneHeld); 1 allows any")
	f.StringVar(&o.onDrift, "on-drift", "heal", "heal (re-apply and alert) or alert (alert only)")
	f.StringArrayVar(&o.webhooks, "alert-webhook", nil, "URL that alerts are POSTed to; repeatable")
	f.StringVar(&o.alertFormat, "alert-format", "json", "alert body: json, or slack for a Slack-compatible payload")
	f.StringVar(&o.listen, "listen", ":9090", "address of the metrics, health, status and webhook endpoints")
	f.StringVar(&o.tlsCertFile, "tls-cert-file", "", "serve the endpoints over HTTPS with this certificate chain (PEM), so tokens never cross the network in clear")
	f.StringVar(&o.tlsKeyFile, "tls-key-file", "", "the private key (PEM) of --tls-cert-file")
	f.StringVar(&o.hookTokenFile, "hook-token-file", "", "file holding the shared secret of POST /hooks/git (the endpoint is off without it)")
	f.StringVar(&o.acmeCAFile, "acme-ca-file", "", "PEM certificates of CAs to trust for ACME servers besides the system's (a private ACME server, or Pebble in tests)")
	f.StringVar(&o.acmeKeyFile, "acme-account-key-file", "", "PEM private key of the ACME account (e.g. a swarm secret); without it a new account is registered at each start")
	f.DurationVar(&o.acmeRenew, "acme-renew-before", 30*24*time.Hour, "renew an ACME certificate this long before it expires")
	f.DurationVar(&o.acmeARI, "acme-renewal-info-interval", 0, "ask the ACME server this often when to renew each certificate (ARI: at once after a revocation); 0 as the server's Retry-After says (6h without)")
	f.StringSliceVar(&o.dnsResolvers, "acme-dns01-recursive-nameservers", nil, "DNS servers (host:port) asked whether a DNS-01 challenge's record is visible before the ACME server checks it; the system's by default")
	f.BoolVar(&o.dnsOnly, "acme-dns01-recursive-nameservers-only", false, "ask only those, not also every authoritative server of the zone (split-horizon DNS)")
	f.StringVar(&o.secretsDir, "secrets-dir", "/run/secrets", "where the operator's swarm secrets are mounted: DNS-01 listeners' TSIG secrets are read there by name")
	f.StringVar(&o.agentTokenFile, "agent-token-file", "", "file holding the token of gateway agents (Gateways with spec.agent); their config endpoint is off without it")
	f.StringVar(&o.agentURL, "agent-url", "", "on the swarm: this operator's URL by its service name on --agent-network (http://swarmgate:9090); Gateways with spec.agent take it, and a token secret the operator makes, when they give none")
	f.StringVar(&o.agentNetwork, "agent-network", "", "the operator's network on which --agent-url's name resolves; such Gateways join it")
	f.StringVar(&o.readTokenFile, "read-token-file", "", "file holding a token that GET /status, /explain, /metrics and the dashboard /ui/ then require (Authorization: Bearer, or a browser login's password)")
	o.lease = lease.DefaultTiming()
	f.DurationVar(&o.lease.Duration, "lease-duration", o.lease.Duration, "how long the lease lasts without a renewal: a standby takes over this long after the holder's last renewal it saw")
	f.DurationVar(&o.lease.Renew, "lease-renew", o.lease.Renew, "how often the holder renews the lease (at most half of --lease-duration)")
	_ = cmd.MarkFlagRequired("source")
	return cmd
}

func (o *runOptions) newSource() (source.Source, time.Duration, error) {
	kind, target, ok := strings.Cut(o.source, ":")
	switch {
	case ok && kind == "dir":
		// A path that is not there is a typo, not a source that comes later: retrying it
		// forever would only hide it in the log.
		if _, err := os.Stat(target); err != nil {
			return nil, 0, fmt.Errorf("--source %s: %w", o.source, err)
		}
		return &source.Dir{Path: target}, 0, nil
	case ok && kind == "git":
		checkout := o.checkout
		if checkout == "" {
			checkout = filepath.Join(os.TempDir(), "swarmgate-checkout-"+o.engine.instance)
		}
		if o.verifyCommits != (o.allowedSigners != "") {
			return nil, 0, fmt.Errorf("--verify-commits and --allowed-signers go together")
		}
		g := &source.Git{URL: target, Branch: o.branch, Path: o.path, Checkout: checkout,
			TokenFile: o.tokenFile, SSHKeyFile: o.sshKeyFile, KnownHostsFile: o.knownHostsFile,
			AllowedSigners: o.allowedSigners}
		if err := g.CheckPath(); err != nil {
			return nil, 0, fmt.Errorf("--path: %w", err)
		}
		if err := g.CheckFiles(); err != nil {
			return nil, 0, fmt.Errorf("--git-token-file, --git-ssh-key-file, --git-known-hosts-file, --allowed-signers: %w", err)
		}
		return g, o.interval, nil
	}
	return nil, 0, fmt.Errorf("--source %q: want dir:PATH or git:URL", o.source)
}

func (o *runOptions) run(ctx context.Context) error {
	src, poll, err := o.newSource()
	if err != nil {
		return &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	if o.pruneMax <= 0 || o.pruneMax > 1 {
		return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("--prune-max-fraction %g: want more than 0, at most 1", o.pruneMax)}
	}
	if o.onDrift != "heal" && o.onDrift != "alert" {
		return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("--on-drift %q: want heal or alert", o.onDrift)}
	}
	if o.alertFormat != string(alert.FormatJSON) && o.alertFormat != string(alert.FormatSlack) {
		return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("--alert-format %q: want json or slack", o.alertFormat)}
	}
	var tokens operator.Tokens
	if tokens.Hook, err = cli.ReadToken("--hook-token-file", o.hookTokenFile); err != nil {
		return &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	if tokens.Read, err = cli.ReadToken("--read-token-file", o.readTokenFile); err != nil {
		return &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	if tokens.Agent, err = cli.ReadToken("--agent-token-file", o.agentTokenFile); err != nil {
		return &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	agents, err := o.agentService()
	if err != nil {
		return &exitCodeError{Code: exitFail, Msg: err.Error()}
	}

	acme, err := o.acme()
	if err != nil {
		return &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	if err := o.lease.Check(); err != nil {
		return &exitCodeError{Code: exitFail, Msg: "--lease-duration, --lease-renew: " + err.Error()}
	}
	tlsConfig, err := o.endpointTLS()
	if err != nil {
		return &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	metrics := operator.NewMetrics()
	// The lease has its own client; every other write of the operator passes its fence, so an
	// operator that lost the lease writes nothing more.
	leaseEngine, err := countingClient(&o.engine, metrics, nil)
	if err != nil {
		return err
	}
	defer leaseEngine.Close()
	holder := lease.NewHolder(leaseEngine, o.engine.instance, o.lease)
	c, err := countingClient(&o.engine, metrics, holder.Fence)
	if err != nil {
		return err
	}
	defer c.Close()
	log := slog.Default()
	alerts := alert.NewDispatcher(log, o.webhooks, alert.Format(o.alertFormat))
	alerts.Dropped = func(string) { metrics.AlertsLost.Inc() }
	defer alerts.Close()
	rec := &reconciler.Reconciler{Engine: c, Instance: o.engine.instance}
	if o.engine.withRegistryAuth {
		if rec.RegistryAuth, err = registryCredentials(); err != nil {
			return fmt.Errorf("--with-registry-auth: %w", err)
		}
	}
	ids, err := readAgeIdentities("--age-key-file", o.ageKeyFile)
	if err != nil {
		return &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	ctl := operator.New(rec, c,
		operator.Options{Source: src, AgeIdentities: ids, Poll: poll, Resync: o.resync, Heal: o.onDrift == "heal", VirtualIPCheck: o.vipCheck, ACME: acme,
			KeepRemoved: !o.prune, PruneMaxFraction: o.pruneMax, Agents: agents,
			Lease: holder}, alerts, metrics, log)

	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	if tlsConfig != nil {
		l = tls.NewListener(l, tlsConfig)
	}
	// The endpoints face the network: every connection is bounded in time, and their number too,
	// in all and per client, so idle or slow clients cannot use up the file descriptors the
	// reconciler needs nor keep health checks and agents waiting.
	limited := operator.LimitConnections(l, operator.MaxConnections, operator.MaxConnectionsPerClient)
	srv := &http.Server{Handler: ctl.Handler(tokens), ConnState: limited.ConnState, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
	go func() {
		if err := srv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving the endpoints", "error", err)
		}
	}()
	log.Info("swarmgate running", "source", src.String(), "instance", o.engine.instance, "listen", l.Addr().String(), "on-drift", o.onDrift)
	err = ctl.Run(ctx)
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	log.Info("swarmgate stopped")
	return err
}

// agentService is where this operator serves gateway agents on the swarm; nil without --agent-url.
func (o *runOptions) agentService() (*operator.AgentService, error) {
	if (o.agentURL == "") != (o.agentNetwork == "") {
		return nil, errors.New("--agent-url and --agent-network go together")
	}
	if o.agentURL == "" {
		return nil, nil
	}
	if why := validation.OperatorURL(o.agentURL); why != "" {
		return nil, fmt.Errorf("--agent-url: %s", why)
	}
	if !validation.NetworkName(o.agentNetwork) {
		return nil, errors.New("--agent-network: is not a valid network name")
	}
	return &operator.AgentService{URL: o.agentURL, Network: o.agentNetwork}, nil
}

// acme sets up the ACME client: the account key from --acme-account-key-file (or a new one), and
// the ACME servers' CAs: the system's and --acme-ca-file's.
// endpointTLS is the TLS config of the endpoints, nil for plain HTTP. The certificate is read once:
// on a swarm a new one is a new secret, and so a new task.
func (o *runOptions) endpointTLS() (*tls.Config, error) {
	if (o.tlsCertFile == "") != (o.tlsKeyFile == "") {
		return nil, errors.New("--tls-cert-file and --tls-key-file go together")
	}
	if o.tlsCertFile == "" {
		return nil, nil
	}
	certPEM, err := cli.ReadPEM(o.tlsCertFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert-file: %w", err)
	}
	keyPEM, err := cli.ReadPEM(o.tlsKeyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-key-file: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert-file, --tls-key-file: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func (o *runOptions) acme() (*operator.ACME, error) {
	var key crypto.Signer
	if o.acmeKeyFile != "" {
		data, err := cli.ReadPEM(o.acmeKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--acme-account-key-file: %w", err)
		}
		if key, err = acmeclient.ParseAccountKey(data); err != nil {
			return nil, fmt.Errorf("--acme-account-key-file: %w", err)
		}
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if o.acmeCAFile != "" {
		data, err := cli.ReadPEM(o.acmeCAFile)
		if err != nil {
			return nil, fmt.Errorf("--acme-ca-file: %w", err)
		}
		if !roots.AppendCertsFromPEM(data) {
			return nil, errors.New("--acme-ca-file: no PEM certificate in it")
		}
	}
	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment,
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	var resolvers []string
	for _, r := range o.dnsResolvers {
		if _, _, err := net.SplitHostPort(r); err != nil {
			r = net.JoinHostPort(r, "53")
		}
		resolvers = append(resolvers, r)
	}
	challenges := acmeclient.NewChallenges()
	client, err := acmeclient.New(key, httpClient, challenges, acmeclient.DNSCheck{Resolvers: resolvers, ResolversOnly: o.dnsOnly})
	if err != nil {
		return nil, err
	}
	return &operator.ACME{Client: client, Challenges: challenges, RenewBefore: o.acmeRenew, RenewalInfoInterval: o.acmeARI, SecretsDir: o.secretsDir}, nil
}

// countingClient is the engine's client with every request that reaches the engine counted by
// verb in the metrics; wrap, when set, sees each request first.
func countingClient(engine *engineOptions, m *operator.Metrics, wrap func(http.RoundTripper) http.RoundTripper) (*client.Client, error) {
	base, err := engine.client()
	if err != nil {
		return nil, err
	}
	transport := base.HTTPClient().Transport // already set up for the engine's socket, TLS or ssh
	var counted http.RoundTripper = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		m.APIRequests.WithLabelValues(r.Method).Inc()
		return transport.RoundTrip(r)
	})
	if wrap != nil {
		counted = wrap(counted)
	}
	return engine.client(client.WithHTTPClient(&http.Client{Transport: counted}))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
