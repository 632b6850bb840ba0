package acmeclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-acme/lego/v5/acme/api"
)

func TestChallenges(t *testing.T) {
	c := NewChallenges()
	get := func(token string) (int, string) {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/acme-challenge/"+token, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get("t1"); code != 404 {
		t.Errorf("no challenge: %d", code)
	}
	_ = c.Present(context.Background(), "shop.example.com", "t1", "t1.thumbprint")
	if code, body := get("t1"); code != 200 || body != "t1.thumbprint" {
		t.Errorf("challenge in progress: %d %q", code, body)
	}
	_ = c.CleanUp(context.Background(), "shop.example.com", "t1", "t1.thumbprint")
	if code, _ := get("t1"); code != 404 {
		t.Errorf("challenge cleaned up: %d", code)
	}
}

func TestParseAccountKey(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec, _ := x509.MarshalECPrivateKey(key)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	for name, data := range map[string][]byte{
		"EC":      pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ec}),
		"PKCS #8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	} {
		if _, err := ParseAccountKey(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, data := range map[string][]byte{"not PEM": []byte("hunter2"), "not a key": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")})} {
		if _, err := ParseAccountKey(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestARILeaf: the ID kept in a secret's label gives back the certificate's ID.
func TestARILeaf(t *testing.T) {
	for _, serial := range []*big.Int{big.NewInt(1), big.NewInt(255), new(big.Int).Lsh(big.NewInt(1), 159)} {
		leaf := &x509.Certificate{AuthorityKeyId: []byte{1, 2, 3, 250}, SerialNumber: serial}
		id, err := api.MakeARICertID(leaf)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ariLeaf(id)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := api.MakeARICertID(back); again != id {
			t.Errorf("serial %v: %q back as %q", serial, id, again)
		}
	}
	for _, id := range []string{"", "abc", ".", "a.", "!!.AQ"} {
		if _, err := ariLeaf(id); err == nil {
			t.Errorf("%q accepted", id)
		}
	}
}
