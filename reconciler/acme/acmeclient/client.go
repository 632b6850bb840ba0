// Package acmeclient obtains certificates from ACME servers (RFC 8555) with lego, answering the
// HTTP-01 challenge from memory (the gateways send /.well-known/acme-challenge/ to the operator,
// which serves Challenges) or the DNS-01 challenge with RFC 2136 updates to a DNS server, and asks
// the servers when to renew (ARI, RFC 9773).
package acmeclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/acme/api"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/providers/dns/dnsupdate"
	"github.com/go-acme/lego/v5/registration"
	"github.com/miekg/dns"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Challenges holds the answers to the HTTP-01 challenges in progress and serves them.
type Challenges struct {
	mu      sync.Mutex
	answers map[string]string // token -> key authorization
}

// NewChallenges returns an empty set of challenges.
func NewChallenges() *Challenges { return &Challenges{answers: map[string]string{}} }

// Present implements lego's challenge.Provider.
func (c *Challenges) Present(_ context.Context, _, token, keyAuth string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers[token] = keyAuth
	return nil
}

// CleanUp implements lego's challenge.Provider.
func (c *Challenges) CleanUp(_ context.Context, _, token, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.answers, token)
	return nil
}

// ServeHTTP answers GET /.well-known/acme-challenge/TOKEN with the key authorization of a
// challenge in progress, and 404 otherwise. Answers are public by design (RFC 8555 8.3).
func (c *Challenges) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.URL.Path, "/.well-known/acme-challenge/")
	c.mu.Lock()
	answer, ok := c.answers[token]
	c.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(answer))
}

// Client obtains certificates, keeping one ACME account per server and email.
type Client struct {
	key        crypto.Signer
	httpClient *http.Client
	challenges *Challenges
	dns        DNSCheck

	mu       sync.Mutex
	accounts map[string]*user // by directory and email
}

// DNSCheck is where a DNS-01 challenge's record is looked for before the ACME server is asked to
// check it.
type DNSCheck struct {
	// Resolvers are the recursive DNS servers ("host:port") asked; the system's when empty.
	Resolvers []string
	// ResolversOnly asks only them, not also every authoritative server of the zone (for
	// split-horizon DNS, where the operator cannot reach the public servers).
	ResolversOnly bool
}

// New returns a client with an account key (generated when nil: a new account on each start)
// whose requests to ACME servers go through httpClient (trusting their CAs). A process has one
// DNSCheck: lego keeps the resolvers in a package variable, which New sets.
func New(key crypto.Signer, httpClient *http.Client, challenges *Challenges, dns DNSCheck) (*Client, error) {
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		key = k
	}
	if len(dns.Resolvers) > 0 {
		opts := dns01.NewOptions()
		opts.RecursiveNameservers = dns.Resolvers
		dns01.SetDefaultClient(dns01.NewClient(opts))
	}
	return &Client{key: key, httpClient: httpClient, challenges: challenges, dns: dns, accounts: map[string]*user{}}, nil
}

// ParseAccountKey reads an account key in PEM (EC or PKCS #8).
func ParseAccountKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not an EC or PKCS #8 private key")
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("not a signing key")
	}
	return signer, nil
}

type user struct {
	email string
	key   crypto.Signer
	reg   *acme.ExtendedAccount
}

func (u *user) GetEmail() string                       { return u.email }
func (u *user) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *user) GetPrivateKey() crypto.Signer           { return u.key }

// Certificate is what the server issued: the chain (leaf first) in PEM, the private key in PEM
// when the order made a new one (nil when it renewed with a CSR it was given), the CSR the order
// sent (DER: a renewal with the same key sends it again), the leaf's validity and names, and its
// ARI certificate ID (RFC 9773 section 4.1), which names it when asking the server when to renew
// it.
type Certificate struct {
	Chain               []byte
	Key                 []byte
	CSR                 []byte
	NotBefore, NotAfter time.Time
	Names               []string
	ARIID               string
}

// Order is a certificate to obtain.
type Order struct {
	// Directory is the ACME server's directory URL; Email the account's contact.
	Directory, Email string
	// Host is the name the certificate is for ("*.example.com" with DNS-01).
	Host string
	// DNS01, when set, proves control of Host with a DNS-01 challenge whose record is written
	// there; else the HTTP-01 challenge is answered from Challenges.
	DNS01 *DNSUpdate
	// Replaces is the ARI ID of the certificate the new one replaces, if any: the server may then
	// exempt the order from rate limits (RFC 9773 section 5).
	Replaces string
	// CSR, when set, is the certificate request (DER) of an earlier order for Host: the new
	// certificate is for the same key, which the operator need not hold (the gateways have it
	// mounted), so a renewal is only a new public chain. Nil makes a new key.
	CSR []byte
}

// DNSUpdate is a DNS server that takes RFC 2136 updates, and the TSIG key that signs them (none
// when KeyName is empty).
type DNSUpdate struct {
	Nameserver string
	// KeyName and Algorithm (v1alpha1's TSIG constants, e.g. "HMACSHA256") name the key; Secret
	// is its base64 secret.
	KeyName, Algorithm, Secret string
}

// tsigAlgorithms are the TSIG algorithms as the API names them and as DNS does.
var tsigAlgorithms = map[string]string{
	v1alpha1.TSIGHMACSHA1:   dns.HmacSHA1,
	v1alpha1.TSIGHMACSHA256: dns.HmacSHA256,
	v1alpha1.TSIGHMACSHA512: dns.HmacSHA512,
}

// Obtain has the server issue the certificate of o, registering the account there first if it has
// not been.
func (c *Client) Obtain(ctx context.Context, o Order) (*Certificate, error) {
	client, err := c.client(ctx, o.Directory, o.Email)
	if err != nil {
		return nil, err
	}
	if o.DNS01 == nil {
		err = client.Challenge.SetHTTP01Provider(c.challenges)
	} else {
		err = c.setDNS01(client, o.DNS01)
	}
	if err != nil {
		return nil, err
	}
	csr, keyPEM := o.CSR, []byte(nil)
	if csr == nil {
		if csr, keyPEM, err = newKey(o.Host); err != nil {
			return nil, err
		}
	}
	req, err := x509.ParseCertificateRequest(csr)
	if err != nil {
		return nil, fmt.Errorf("the certificate request: %w", err)
	}
	res, err := client.Certificate.ObtainForCSR(ctx, certificate.ObtainForCSRRequest{CSR: req, Bundle: true, ReplacesCertID: o.Replaces})
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(res.Certificate)
	if block == nil {
		return nil, errors.New("the server returned no PEM certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the server's certificate: %w", err)
	}
	id, err := api.MakeARICertID(leaf)
	if err != nil {
		return nil, fmt.Errorf("the server's certificate: %w", err)
	}
	return &Certificate{Chain: res.Certificate, Key: keyPEM, CSR: csr, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, Names: leaf.DNSNames, ARIID: id}, nil
}

// newKey makes a P-256 key for host and its certificate request (DER), naming host only as a DNS
// name: CAs no longer need a common name.
func newKey(host string) (csr, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	csr, err = x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{host}}, key)
	if err != nil {
		return nil, nil, err
	}
	return csr, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// setDNS01 has client answer DNS-01 challenges with updates to the server of d.
func (c *Client) setDNS01(client *lego.Client, d *DNSUpdate) error {
	config := dnsupdate.NewDefaultConfig()
	config.Nameserver = d.Nameserver
	if d.KeyName != "" {
		config.TSIGKey, config.TSIGAlgorithm, config.TSIGSecret = d.KeyName, tsigAlgorithms[d.Algorithm], d.Secret
		if config.TSIGAlgorithm == "" {
			return fmt.Errorf("TSIG algorithm %q is not supported", d.Algorithm)
		}
	}
	provider, err := dnsupdate.NewDNSProviderConfig(config)
	if err != nil {
		return err
	}
	return client.Challenge.SetDNS01Provider(provider, dns01.CondOptions(c.dns.ResolversOnly, dns01.DisableAuthoritativeNssPropagationRequirement()))
}

// ErrNoRenewalInfo is what RenewalWindow returns from a server that does not offer ARI.
var ErrNoRenewalInfo = api.ErrNoARI

// RenewalWindow asks the server at directory when to renew the certificate with ARI ID id
// (RFC 9773): the window it suggests (already past for a revoked certificate), and how long to
// wait before asking again (0 when the server does not say). The server may not offer ARI
// (ErrNoRenewalInfo).
func (c *Client) RenewalWindow(ctx context.Context, directory, email, id string) (start, end time.Time, retryAfter time.Duration, err error) {
	leaf, err := ariLeaf(id)
	if err != nil {
		return time.Time{}, time.Time{}, 0, err
	}
	client, err := c.client(ctx, directory, email)
	if err != nil {
		return time.Time{}, time.Time{}, 0, err
	}
	info, err := client.Certificate.GetRenewalInfo(ctx, leaf)
	if err != nil {
		return time.Time{}, time.Time{}, 0, err
	}
	return info.SuggestedWindow.Start, info.SuggestedWindow.End, info.RetryAfter, nil
}

// ariLeaf is the part of a certificate its ARI ID ("<base64url AKI>.<base64url serial>") holds,
// all that lego needs to ask about it.
func ariLeaf(id string) (*x509.Certificate, error) {
	aki, serial, ok := strings.Cut(id, ".")
	a, errA := base64.RawURLEncoding.DecodeString(aki)
	s, errS := base64.RawURLEncoding.DecodeString(serial)
	if !ok || errA != nil || errS != nil || len(a) == 0 || len(s) == 0 {
		return nil, errors.New("not an ARI certificate ID")
	}
	return &x509.Certificate{AuthorityKeyId: a, SerialNumber: new(big.Int).SetBytes(s)}, nil
}

// client returns a lego client for the account at directory, registering it once.
func (c *Client) client(ctx context.Context, directory, email string) (*lego.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.accounts[directory+" "+email]
	if u == nil {
		u = &user{email: email, key: c.key}
	}
	config := lego.NewConfig(u)
	config.CADirURL = directory
	config.HTTPClient = c.httpClient
	client, err := lego.NewClient(config)
	if err != nil {
		return nil, fmt.Errorf("ACME server %s: %w", directory, err)
	}
	if u.reg == nil {
		reg, err := client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true})
		if err != nil {
			return nil, fmt.Errorf("registering at %s: %w", directory, err)
		}
		u.reg = reg
		c.accounts[directory+" "+email] = u
	}
	return client, nil
}
