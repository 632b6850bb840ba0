// Package sops decrypts files that SOPS (github.com/getsops/sops) encrypted for age recipients,
// in its binary format: a file's whole content in one value, "data", as `sops encrypt` writes any
// file that is not YAML, JSON, dotenv or INI. It decrypts with the sops Go library: its stores
// read the file (JSON or YAML), its age key source opens the data key with the identities given,
// and its tree decrypts the value and computes the MAC, which is verified. The library finds age
// identities in the environment (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, ~/.config)
// only when a key is given none, so Decrypt never asks it without identities, and never asks a
// key of another kind (KMS, PGP, Vault): nothing but the identities given is used, and calls
// share no state. Errors never hold a value: the library's, which may quote one, are replaced.
package sops

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"filippo.io/age"
	sopslib "github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/stores"
	"github.com/getsops/sops/v3/stores/json"
	"github.com/getsops/sops/v3/stores/yaml"
)

// encryptWhole says how to make a file swarmgate decrypts from one SOPS encrypted otherwise.
const encryptWhole = "encrypt the file as a whole, sops encrypt --input-type binary"

// lineFormat matches the MAC line SOPS writes into a dotenv (sops_mac=) or INI (a [sops] section's
// mac = ) file, so that a file of either format is told apart from one that is no SOPS file.
var lineFormat = regexp.MustCompile(`(?m)^(sops_mac=|mac\s*=\s*)ENC\[AES256_GCM,`)

// encrypted matches a value as SOPS encrypts it, so that an unencrypted value is refused before
// the library, whose error would quote it, sees it.
var encrypted = regexp.MustCompile(`^ENC\[AES256_GCM,data:.+,iv:.+,tag:.+,type:.+\]$`)

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
	tree, err := load(file)
	if err != nil {
		return nil, err
	}
	value, err := binaryValue(tree)
	if err != nil {
		return nil, err
	}
	if len(tree.Metadata.KeyGroups) != 1 {
		return nil, errors.New("uses several SOPS key groups (Shamir's secret sharing), which swarmgate does not decrypt: encrypt it for age recipients in one group")
	}
	var ageKeys []*sopsage.MasterKey
	for _, k := range tree.Metadata.KeyGroups[0] {
		if k, ok := k.(*sopsage.MasterKey); ok {
			ageKeys = append(ageKeys, k)
		}
	}
	if len(ageKeys) == 0 {
		return nil, errors.New("is encrypted for no age recipient (swarmgate decrypts age only)")
	}
	if len(ids) == 0 {
		return nil, errors.New("cannot be decrypted: no age identity given (SOPS_AGE_KEY_FILE)")
	}
	if value != "" && !encrypted.MatchString(value) {
		return nil, errors.New("data: is not a value SOPS encrypted (ENC[AES256_GCM,...])")
	}
	key, err := dataKey(ageKeys, ids)
	if err != nil {
		return nil, err
	}
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(key, cipher)
	if err != nil {
		return nil, errors.New("data: does not decrypt with the data key (altered?)")
	}
	want, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if wantMAC, ok := want.(string); err != nil || !ok || wantMAC == "" {
		return nil, errors.New("sops.mac: does not decrypt with the data key (altered?)")
	} else if subtle.ConstantTimeCompare([]byte(wantMAC), []byte(mac)) != 1 {
		return nil, errors.New("sops.mac: does not match the content (altered?)")
	}
	switch data := tree.Branches[0][0].Value.(type) {
	case string:
		return []byte(data), nil
	case []byte:
		return data, nil
	default:
		return nil, fmt.Errorf("data: has type %T, want str or bytes", data)
	}
}

// load reads a SOPS file, JSON or YAML, with the library's store of that format. Its parse errors
// are not kept: they may quote the file, which may be a value never encrypted.
func load(file []byte) (sopslib.Tree, error) {
	var branches sopslib.TreeBranches
	var err error
	if bytes.HasPrefix(bytes.TrimSpace(file), []byte("{")) {
		branches, err = json.NewStore(&config.JSONStoreConfig{}).LoadPlainFile(file)
	} else {
		branches, err = yaml.NewStore(&config.YAMLStoreConfig{}).LoadPlainFile(file)
	}
	if err == nil {
		var metadata sopslib.Metadata
		branches, metadata, err = stores.ExtractMetadata(branches, stores.MetadataOpts{Flatten: stores.MetadataFlattenNone})
		if err == nil {
			return sopslib.Tree{Branches: branches, Metadata: metadata}, nil
		}
		if !errors.Is(err, sopslib.MetadataNotFound) {
			// The metadata (keys, recipients, times) holds no value.
			return sopslib.Tree{}, fmt.Errorf("has SOPS metadata (sops) that does not load: %w", err)
		}
	}
	if lineFormat.Match(file) {
		return sopslib.Tree{}, errors.New("is a SOPS file of the dotenv or INI format, not the binary one: " + encryptWhole)
	}
	return sopslib.Tree{}, errors.New("is not a SOPS file")
}

// binaryValue is the encrypted value of a file in the binary format: its one item, data, a string.
func binaryValue(tree sopslib.Tree) (string, error) {
	if len(tree.Branches) == 1 && len(tree.Branches[0]) == 1 && tree.Branches[0][0].Key == "data" {
		if value, ok := tree.Branches[0][0].Value.(string); ok {
			return value, nil
		}
	}
	return "", errors.New("is a SOPS file of several values (the YAML or JSON format), not the binary one (one value, data): " + encryptWhole)
}

// dataKey decrypts the file's data key with the first of its age keys one of ids opens. Each key
// is given ids, so that the library never looks for identities in the environment.
func dataKey(keys []*sopsage.MasterKey, ids []age.Identity) ([]byte, error) {
	recipients := make([]string, 0, len(keys))
	for _, k := range keys {
		recipients = append(recipients, k.Recipient)
		sopsage.ParsedIdentities(ids).ApplyToMasterKey(k)
		key, err := k.Decrypt()
		if err != nil {
			continue
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("the data key for age recipient %s is not a 32-byte key", k.Recipient)
		}
		return key, nil
	}
	return nil, fmt.Errorf("no age identity given opens it: it is encrypted for %s", strings.Join(recipients, ", "))
}
