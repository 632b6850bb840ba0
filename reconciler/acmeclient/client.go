// Package acmeclient obtains certificates from ACME servers (RFC 8555) with lego, answering the
// HTTP-01 challenge from memory: the gateways send /.well-known/acme-challenge/ to the operator,
// which serves Challenges.
package acmeclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"
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

	mu       sync.Mutex
	accounts map[string]*user // by directory and email
}

// New returns a client with an account key (generated when nil: a new account on each start)
// whose requests to ACME servers go through httpClient (trusting their CAs).
func New(key crypto.Signer, httpClient *http.Client, challenges *Challenges) (*Client, error) {
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		key = k
	}
	return &Client{key: key, httpClient: httpClient, challenges: challenges, accounts: map[string]*user{}}, nil
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

// Certificate is what the server issued: the chain (leaf first) then the key, in PEM, and the
// leaf's expiry and names.
type Certificate struct {
	Data     []byte
	NotAfter time.Time
	Names    []string
}

// Obtain has the server at directory issue a certificate for host, registering the account there
// first if it has not been.
func (c *Client) Obtain(ctx context.Context, directory, email, host string) (*Certificate, error) {
	client, err := c.client(ctx, directory, email)
	if err != nil {
		return nil, err
	}
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{host}, Bundle: true, KeyType: certcrypto.EC256})
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
	data := append(append([]byte{}, res.Certificate...), res.PrivateKey...)
	return &Certificate{Data: data, NotAfter: leaf.NotAfter, Names: leaf.DNSNames}, nil
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
	if err := client.Challenge.SetHTTP01Provider(c.challenges); err != nil {
		return nil, err
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
