package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"sigs.k8s.io/yaml"
)

func mustParse(t *testing.T, file []byte) *metadata {
	t.Helper()
	js, err := yaml.YAMLToJSON(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc document
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Sops
}

// encryptForTest encrypts a value at the path "data:" as sops does: AES-256-GCM with a 32-byte IV.
func encryptForTest(t *testing.T, key []byte, value string) string {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, 32)
	_, _ = rand.Read(iv)
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		t.Fatal(err)
	}
	sealed := gcm.Seal(nil, iv, []byte(value), []byte(dataPath))
	data, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:str]", enc(data), enc(iv), enc(tag))
}
