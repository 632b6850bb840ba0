package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/swarm"
	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/cmd/internal/cli"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
)

func newTLSCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "Certificates of HTTPS listeners",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newTLSCreateSecretCommand(), newTLSCreateAccountKeyCommand())
	return cmd
}

func newTLSCreateAccountKeyCommand() *cobra.Command {
	var engine engineOptions
	cmd := &cobra.Command{
		Use:   "create-account-key NAME",
		Short: "Create an ACME account key in a swarm secret, for swarmgate run --acme-account-key-file",
		Long: `Generate an ACME account key (ECDSA P-256) and keep it in the swarm secret
NAME. Mount it into the operator's service and pass its path to
--acme-account-key-file: the operator then keeps one account at each ACME
server across restarts, instead of registering a new one at each start. The
key is never printed.`,
		Example: `  swarmgate tls create-account-key swarmgate-acme-account
  # in the operator's stack: secrets: [swarmgate-acme-account], and
  #   --acme-account-key-file /run/secrets/swarmgate-acme-account`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return err
			}
			der, err := x509.MarshalECPrivateKey(key)
			if err != nil {
				return err
			}
			c, err := engine.client()
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.SecretCreate(cmd.Context(), swarm.SecretSpec{Annotations: swarm.Annotations{Name: args[0]},
				Data: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})})
			if cerrdefs.IsAlreadyExists(err) || cerrdefs.IsConflict(err) {
				return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("a secret named %s exists; it may be the account key already", args[0])}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "secret/%s created\n", args[0])
			return nil
		},
	}
	engine.addFlags(cmd)
	return cmd
}

func newTLSCreateSecretCommand() *cobra.Command {
	var (
		engine   engineOptions
		certFile string
		keyFile  string
	)
	cmd := &cobra.Command{
		Use:   "create-secret NAME --cert FILE --key FILE",
		Short: "Check a certificate and its key, and keep them in a swarm secret for an HTTPS listener",
		Long: `Check that the certificate chain (PEM, leaf first) and the private key (PEM)
belong together and that the certificate is valid now, then create the swarm
secret NAME holding both, for a listener's tls.certificateRefs. Its labels
record when the certificate expires and the names it covers, so that apply can
refuse an expired certificate before any write (swarm never gives a secret's
data back). Secrets cannot change: to renew, create a new secret (a new name)
and point the listener at it; apply then moves the gateway and the old secret
can be removed. Nothing is printed of the key.`,
		Example: `  swarmgate tls create-secret shop-example-com-2026-11 --cert fullchain.pem --key privkey.pem`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, labels, err := certificateSecret(certFile, keyFile, time.Now())
			if err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			c, err := engine.client()
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.SecretCreate(cmd.Context(), swarm.SecretSpec{Annotations: swarm.Annotations{Name: args[0], Labels: labels}, Data: data})
			if cerrdefs.IsAlreadyExists(err) || cerrdefs.IsConflict(err) {
				return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("a secret named %s exists; secrets cannot change: create one with a new name and point the listener at it", args[0])}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "secret/%s created (valid until %s for %s)\n", args[0], labels[inventory.LabelTLSNotAfter], labels[inventory.LabelTLSNames])
			return nil
		},
	}
	cmd.Flags().StringVar(&certFile, "cert", "", "PEM certificate chain, leaf first")
	cmd.Flags().StringVar(&keyFile, "key", "", "PEM private key of the leaf certificate")
	_ = cmd.MarkFlagRequired("cert")
	_ = cmd.MarkFlagRequired("key")
	engine.addFlags(cmd)
	return cmd
}

// certificateSecret checks a certificate chain and its key and returns the secret's data (the
// chain, then the key: nginx reads both from one file) and its labels. Errors never quote the key.
func certificateSecret(certFile, keyFile string, now time.Time) ([]byte, map[string]string, error) {
	certPEM, err := cli.ReadPEM(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--cert: %w", err)
	}
	keyPEM, err := cli.ReadPEM(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--key: %w", err)
	}
	if err := checkChain("--cert "+certFile, certPEM); err != nil {
		return nil, nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("the certificate and the key do not make a pair (is the leaf first in --cert, and is --key its key?): %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("--cert: %w", err)
	}
	switch {
	case !now.Before(leaf.NotAfter):
		return nil, nil, fmt.Errorf("--cert: the certificate expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return nil, nil, fmt.Errorf("--cert: the certificate is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	case len(leaf.DNSNames) == 0:
		return nil, nil, errors.New("--cert: the certificate names no DNS name (subjectAltName); clients match the host against those")
	}
	var data bytes.Buffer
	for _, der := range pair.Certificate {
		_ = pem.Encode(&data, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	for rest := keyPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			_ = pem.Encode(&data, block)
		}
	}
	names := slices.Clone(leaf.DNSNames)
	slices.Sort(names)
	return data.Bytes(), map[string]string{
		inventory.LabelTLSNotAfter: leaf.NotAfter.UTC().Format(time.RFC3339),
		inventory.LabelTLSNames:    strings.Join(names, ","),
	}, nil
}

// minRSABits is the smallest RSA key the OpenSSL security level of the gateway images (2:
// 112-bit security) loads; nginx refuses a smaller one with "ee key too small".
const minRSABits = 2048

// checkChain parses every CERTIFICATE block of a chain as nginx's OpenSSL will, and refuses the
// keys and signatures its security level refuses. Errors name the file and the block (counted
// from 1), never the content.
func checkChain(file string, chainPEM []byte) error {
	n := 0
	for rest := chainPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("%s: certificate block %d does not parse: %w", file, n, err)
		}
		switch k := cert.PublicKey.(type) {
		case *rsa.PublicKey:
			if bits := k.N.BitLen(); bits < minRSABits {
				return fmt.Errorf("%s: certificate block %d has an RSA key of %d bits; nginx refuses fewer than %d (OpenSSL security level 2)", file, n, bits, minRSABits)
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return fmt.Errorf("%s: certificate block %d has a %T key; use RSA (2048 bits or more) or ECDSA", file, n, k)
		}
		selfSigned := bytes.Equal(cert.RawIssuer, cert.RawSubject)
		if !selfSigned && slices.Contains(weakSignatures, cert.SignatureAlgorithm) {
			return fmt.Errorf("%s: certificate block %d is signed with %s, which nginx refuses (OpenSSL security level 2)", file, n, cert.SignatureAlgorithm)
		}
	}
}

// weakSignatures are the signature algorithms OpenSSL's security level 2 refuses on a certificate
// that is not self-signed (MD5 and SHA-1 are under its 112 bits).
var weakSignatures = []x509.SignatureAlgorithm{x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1}
