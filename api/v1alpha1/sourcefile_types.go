package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
)

// Secret is a swarm secret made from a file of the source, encrypted with SOPS for age
// recipients: swarmgate decrypts it (the CLI with SOPS_AGE_KEY_FILE, the operator with the
// identity its --age-key-file names) and owns the secret, named by a hash of its content. A
// service mounts it by naming it in its secrets, as an existing swarm secret; a changed file is a
// new secret and an update of the services that mount it.
type Secret struct {
	TypeMeta `json:",inline"`
	// Metadata names the secret as services mount it.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the file the secret is made from.
	Spec SourceFileSpec `json:"spec"`
	// Data is the file's decrypted content, read from the source when the object is loaded: never
	// stored, printed or compared.
	Data []byte `json:"-"`
	// Digest is the digest of the content the object was applied with, recorded so that an applied
	// object given again without its file (from the store) names the same swarm secret.
	Digest string `json:"digest,omitempty"`
}

// GetObjectMeta implements Object.
func (s *Secret) GetObjectMeta() *ObjectMeta { return &s.Metadata }

// Default implements Object.
func (s *Secret) Default() { s.Spec.defaults() }

// Config is a swarm config made from a plain file of the source, as a Secret is from an
// encrypted one.
type Config struct {
	TypeMeta `json:",inline"`
	// Metadata names the config as services mount it.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the file the config is made from.
	Spec SourceFileSpec `json:"spec"`
	// Data is the file's content, read from the source when the object is loaded.
	Data []byte `json:"-"`
	// Digest is the digest of the content the object was applied with (see Secret.Digest).
	Digest string `json:"digest,omitempty"`
}

// GetObjectMeta implements Object.
func (c *Config) GetObjectMeta() *ObjectMeta { return &c.Metadata }

// Default implements Object.
func (c *Config) Default() { c.Spec.defaults() }

// SourceFileSpec is the file a Secret or a Config is made from.
type SourceFileSpec struct {
	// File is the file's path relative to the manifest's directory, inside it ("db-password.enc").
	// A directory's *.yaml and *.yml files are manifests: name a secret's file otherwise.
	File string `json:"file"`
	// RevisionHistoryLimit is how many earlier versions, no longer mounted, are kept on the swarm
	// (for a rollback of a service to find its secret); 2 by default.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
}

// The bounds of a source file: swarm takes at most 500 KiB of data in a secret or a config, and a
// SOPS file holds it in base64 with its metadata.
const (
	MaxSourceFileData      = 500 << 10
	MaxSourceFileSize      = 1 << 20
	MaxRevisionHistory     = 10
	DefaultRevisionHistory = 2
)

// ContentDigest is the digest of a source file's content that names its swarm object: 10 hex
// digits of its SHA-256.
func ContentDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:10]
}

func (s *SourceFileSpec) defaults() {
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(DefaultRevisionHistory))
	}
}
