// Package sops decrypts files that SOPS (github.com/getsops/sops) encrypted for age recipients,
// in its binary format: a file's whole content in one value, "data", as `sops encrypt` writes any
// file that is not YAML, JSON, dotenv or INI. It follows the format SOPS documents: the data key
// is age-encrypted to each recipient (sops.age[].enc), the value is AES-256-GCM encrypted with the
// data key and its path ("data:") as additional data, and the MAC (the SHA-512 of the values,
// encrypted with the data key and the last-modified time as additional data) is verified.
// Errors never hold a value.
package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"sigs.k8s.io/yaml"
)

// document is an encrypted file in SOPS's binary format; SOPS writes it as JSON (a YAML store
// holding only "data" is the same document).
type document struct {
	Data *string   `json:"data"`
	Sops *metadata `json:"sops"`
}

type metadata struct {
	Age []struct {
		Recipient string `json:"recipient"`
		Enc       string `json:"enc"`
	} `json:"age"`
	KeyGroups    []json.RawMessage `json:"key_groups"`
	LastModified string            `json:"lastmodified"`
	MAC          string            `json:"mac"`
}

// encryptWhole says how to make a file swarmgate decrypts from one SOPS encrypted otherwise.
const encryptWhole = "encrypt the file as a whole, sops encrypt --input-type binary"

// lineFormat matches the MAC line SOPS writes into a dotenv (sops_mac=) or INI (a [sops] section's
// mac = ) file, so that a file of either format is told apart from one that is no SOPS file.
var lineFormat = regexp.MustCompile(`(?m)^(sops_mac=|mac\s*=\s*)ENC\[AES256_GCM,`)

// dataPath is the additional data of the one value of a binary file: its path, "data", as SOPS
// joins paths ("a:b:").
const dataPath = "data:"

// ParseIdentities reads age identities (X25519 keys, one a line, # comments) as SOPS_AGE_KEY_FILE
// holds them.
func ParseIdentities(r io.Reader) ([]age.Identity, error) {
	ids, err := age.ParseIdentities(r)
	if err != nil {
		// age's errors quote no key material.
		return nil, fmt.Errorf("reading age identities: %w", err)
	}
	return ids, nil
}

// Decrypt returns the content of an encrypted file, decrypted with one of ids.
func Decrypt(file []byte, ids []age.Identity) ([]byte, error) {
	var top map[string]json.RawMessage
	var doc document
	js, err := yaml.YAMLToJSON(file)
	if err != nil || json.Unmarshal(js, &top) != nil || json.Unmarshal(js, &doc) != nil || doc.Sops == nil {
		if lineFormat.Match(file) {
			return nil, errors.New("is a SOPS file of the dotenv or INI format, not the binary one: " + encryptWhole)
		}
		return nil, errors.New("is not a SOPS file")
	}
	if doc.Data == nil || len(top) != 2 {
		return nil, errors.New("is a SOPS file of several values (the YAML or JSON format), not the binary one (one value, data): " + encryptWhole)
	}
	m := doc.Sops
	if len(m.KeyGroups) > 0 {
		return nil, errors.New("uses SOPS key groups (Shamir's secret sharing), which swarmgate does not decrypt: encrypt it for age recipients without key groups")
	}
	if len(m.Age) == 0 {
		return nil, errors.New("is encrypted for no age recipient (swarmgate decrypts age only)")
	}
	if len(ids) == 0 {
		return nil, errors.New("cannot be decrypted: no age identity given (SOPS_AGE_KEY_FILE)")
	}
	key, err := dataKey(m, ids)
	if err != nil {
		return nil, err
	}
	data, err := decryptValue(*doc.Data, key, dataPath)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if err := verifyMAC(m, key, data); err != nil {
		return nil, err
	}
	return data, nil
}

// dataKey decrypts the file's data key with the first recipient one of ids opens.
func dataKey(m *metadata, ids []age.Identity) ([]byte, error) {
	recipients := make([]string, 0, len(m.Age))
	for _, r := range m.Age {
		recipients = append(recipients, r.Recipient)
		rd, err := age.Decrypt(armor.NewReader(strings.NewReader(r.Enc)), ids...)
		if err != nil {
			continue
		}
		key, err := io.ReadAll(io.LimitReader(rd, 64))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("the data key for age recipient %s is not a 32-byte key", r.Recipient)
		}
		return key, nil
	}
	return nil, fmt.Errorf("no age identity given opens it: it is encrypted for %s", strings.Join(recipients, ", "))
}

// encrypted is a value as SOPS encrypts it.
var encrypted = regexp.MustCompile(`^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]$`)

// decryptValue decrypts one value with the data key and its path as additional data. SOPS leaves
// an empty value empty.
func decryptValue(value string, key []byte, path string) ([]byte, error) {
	if value == "" {
		return []byte{}, nil
	}
	parts := encrypted.FindStringSubmatch(value)
	if parts == nil {
		return nil, errors.New("is not a value SOPS encrypted (ENC[AES256_GCM,...])")
	}
	if t := parts[4]; t != "str" && t != "bytes" {
		return nil, fmt.Errorf("has type %q, want str or bytes", t)
	}
	var raw [3][]byte
	for i := range raw {
		b, err := base64.StdEncoding.DecodeString(parts[i+1])
		if err != nil {
			return nil, fmt.Errorf("has a %s that is not base64", []string{"data", "iv", "tag"}[i])
		}
		raw[i] = b
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(raw[1]) == 0 || len(raw[2]) != 16 {
		return nil, errors.New("has an iv or tag of the wrong size")
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(raw[1]))
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, raw[1], slices.Concat(raw[0], raw[2]), []byte(path))
	if err != nil {
		return nil, errors.New("does not decrypt with the data key (altered?)")
	}
	return plain, nil
}

// verifyMAC checks the file's MAC: the SHA-512 of its one value, in upper-case hex, encrypted
// with the last-modified time (RFC 3339) as additional data.
func verifyMAC(m *metadata, key, data []byte) error {
	modified, err := time.Parse(time.RFC3339, m.LastModified)
	if err != nil {
		return errors.New("sops.lastmodified: is not an RFC 3339 time")
	}
	want, err := decryptValue(m.MAC, key, modified.Format(time.RFC3339))
	if err != nil || len(want) == 0 {
		return errors.New("sops.mac: does not decrypt with the data key (altered?)")
	}
	sum := sha512.Sum512(data)
	got := []byte(fmt.Sprintf("%X", sum[:]))
	if subtle.ConstantTimeCompare(want, got) != 1 {
		return errors.New("sops.mac: does not match the content (altered?)")
	}
	return nil
}
