package main

import (
	"bytes"
	"fmt"
	"os"

	"filippo.io/age"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/reconciler/sops"
)

// sopsAgeKeyFile is the variable that names the age identities the CLI decrypts Secrets' files
// with, as sops reads it.
const sopsAgeKeyFile = "SOPS_AGE_KEY_FILE"

// readAgeIdentities reads the age identities of a file; none when path is empty.
func readAgeIdentities(what, path string) ([]age.Identity, error) {
	if path == "" {
		return nil, nil
	}
	b, err := manifest.ReadRegularFile(path, manifest.MaxCredentialSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ids, err := sops.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", what, path, err)
	}
	return ids, nil
}

// cliAgeIdentities are the identities SOPS_AGE_KEY_FILE names.
func cliAgeIdentities() ([]age.Identity, error) {
	return readAgeIdentities(sopsAgeKeyFile, os.Getenv(sopsAgeKeyFile))
}
