package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"filippo.io/age"
	sopsage "github.com/getsops/sops/v3/age"
)

// fileDataKey is the data key of an encrypted file, opened with ids.
func fileDataKey(t *testing.T, file []byte, ids []age.Identity) []byte {
	t.Helper()
	tree, err := load(file)
	if err != nil {
		t.Fatal(err)
	}
	var keys []*sopsage.MasterKey
	for _, k := range tree.Metadata.KeyGroups[0] {
		keys = append(keys, k.(*sopsage.MasterKey))
	}
	key, err := dataKey(keys, ids)
	if err != nil {
		t.Fatal(err)
	}
	return key
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
	sealed := gcm.Seal(nil, iv, []byte(value), []byte("data:"))
	data, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:str]", enc(data), enc(iv), enc(tag))
}

// inKeyGroups rewrites a JSON file's age recipients as n key groups of them, as sops writes a
// file encrypted for key groups (with Shamir's secret sharing when there are several).
func inKeyGroups(t *testing.T, file []byte, n int) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(file, &doc); err != nil {
		t.Fatal(err)
	}
	m := doc["sops"].(map[string]any)
	groups := make([]any, n)
	for i := range groups {
		groups[i] = map[string]any{"age": m["age"]}
	}
	m["key_groups"] = groups
	m["shamir_threshold"] = n
	delete(m, "age")
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
