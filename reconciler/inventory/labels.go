// Package inventory is how swarmgate knows what it made: the labels it puts on the swarm objects
// it creates (its inventory: there is no other store), and the owner key that names, in those
// labels, the manifest object a swarm object was made for.
package inventory

import "github.com/swarmgate/swarmgate/api/v1alpha1"

// Labels swarmgate puts on the swarm objects it creates, under the prefix reserved for it
// (v1alpha1.LabelPrefix). They are the inventory of what it made (the applied manifest objects
// are kept in swarm configs that carry them too), and swarmgate updates or deletes only objects
// that carry them with its instance. Storage, not API: manifests never set them.
const (
	// LabelManagedBy marks an object as created by swarmgate; its value is ManagedByValue.
	LabelManagedBy = v1alpha1.LabelPrefix + "managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "swarmgate"
	// LabelInstance names the swarmgate instance (one per repository of manifests) that owns the
	// object, so two instances on one swarm never prune each other's objects.
	LabelInstance = v1alpha1.LabelPrefix + "instance"
	// LabelOwner names the manifest object the swarm object was made for: "Route/dmzhttp".
	LabelOwner = v1alpha1.LabelPrefix + "owner"
	// LabelSpecHash is a hash of the spec swarmgate asked for, for telling what changed since.
	LabelSpecHash = v1alpha1.LabelPrefix + "spec-hash"
	// LabelRevision is the source revision (a git commit) of the pass that last wrote the object.
	// It is not compared: a new revision rewrites only objects whose spec changed.
	LabelRevision = v1alpha1.LabelPrefix + "revision"
	// LabelRole says what a swarm config or secret of swarmgate's is: RoleApplied, RoleLease,
	// RoleCertificate, RoleCertificateKey, RoleAgentToken or RoleSourceFile.
	LabelRole = v1alpha1.LabelPrefix + "role"
	// RoleApplied marks a config of the store of applied objects: one applied manifest object.
	RoleApplied = "applied-object"
	// RoleLease marks the lease a running operator holds on its instance, so that one writer
	// writes at a time.
	RoleLease = "lease"
	// RoleCertificate marks a config holding the certificate chain (PEM, leaf first) the operator
	// obtained with ACME for a listener (LabelListener) of its owner Gateway: public, so readable
	// back and handed to gateway agents. LabelTLSNotAfter and LabelTLSNames describe it, LabelTLSKey
	// names the secret of its key. (Earlier versions kept chain and key in one secret, served
	// until its renewal.)
	RoleCertificate = "certificate"
	// RoleCertificateKey marks a secret holding the private key (PEM) of a listener's ACME
	// certificates: kept across renewals, so that a renewal changes only the public chain.
	// LabelTLSCSR holds its certificate request, LabelTLSNames the names it asks for.
	RoleCertificateKey = "certificate-key"
	// RoleAgentToken marks a secret an operator on the swarm made (swarmgate run --agent-url)
	// holding the token its gateway agents present: no pass changes or prunes it, the operator
	// alone makes and rotates it. Its labels say what the agents of a Gateway whose spec.agent
	// leaves them unset use: LabelAgentURL and LabelAgentNetwork, and LabelAgentTokenSHA256 lets
	// any operator of the instance check a token without the secret's data, which the swarm
	// never gives back.
	RoleAgentToken = "agent-token"
	// RoleSourceFile marks a config made from the file of a Config manifest object.
	RoleSourceFile = "source-file"
	// LabelAgentURL is where gateway agents reach the operator, by its service name.
	LabelAgentURL = v1alpha1.LabelPrefix + "agent-url"
	// LabelAgentNetwork is the operator's network, which gateways whose agents take
	// LabelAgentURL join.
	LabelAgentNetwork = v1alpha1.LabelPrefix + "agent-network"
	// LabelAgentTokenSHA256 is the SHA-256 (hex) of the agent token: a random 256-bit token, so
	// the hash tells nothing of it.
	LabelAgentTokenSHA256 = v1alpha1.LabelPrefix + "agent-token-sha256"
	// LabelTLSKey, on a certificate chain config, names the secret holding its key.
	LabelTLSKey = v1alpha1.LabelPrefix + "tls-key"
	// LabelTLSCSR, on a certificate key secret, is its certificate request (DER, base64): it
	// proves the key to the ACME server at each renewal, without the operator reading the key.
	LabelTLSCSR = v1alpha1.LabelPrefix + "tls-csr"
	// LabelVRRPSalt, on the store entry of a VirtualIP with a password, is the random salt its
	// keepalived config secrets are named with in place of the password, which a digest of the
	// config would let anyone who lists secrets test guesses against. A new password draws a new
	// salt, so its secrets are new and its tasks replaced.
	LabelVRRPSalt = v1alpha1.LabelPrefix + "vrrp-salt"
	// LabelListener names the listener of a certificate or key.
	LabelListener = v1alpha1.LabelPrefix + "listener"
	// LabelLeaseHolder names who holds a lease: "host/pid" of the operator.
	LabelLeaseHolder = v1alpha1.LabelPrefix + "lease-holder"
	// LabelLeaseRenewed is when the holder last renewed the lease (RFC 3339, its clock).
	LabelLeaseRenewed = v1alpha1.LabelPrefix + "lease-renewed"
	// LabelLeaseDuration is how long the holder's lease lasts without a renewal (a Go duration),
	// so that standbys and the CLI with other settings judge it as its holder does.
	LabelLeaseDuration = v1alpha1.LabelPrefix + "lease-duration"
	// LabelTLSNotAfter, on a certificate secret made by `swarmgate tls create-secret`, is when its
	// certificate expires (RFC 3339): the secret's data cannot be read back, its labels can.
	LabelTLSNotAfter = v1alpha1.LabelPrefix + "tls-not-after"
	// LabelTLSNotBefore is when it became valid (RFC 3339): with LabelTLSNotAfter, its lifetime.
	LabelTLSNotBefore = v1alpha1.LabelPrefix + "tls-not-before"
	// LabelTLSNames lists the DNS names the certificate is valid for, comma-separated.
	LabelTLSNames = v1alpha1.LabelPrefix + "tls-names"
	// LabelACMEARIID, on a certificate secret the operator obtained, is the certificate's ARI ID
	// (RFC 9773), by which the operator asks the ACME server when to renew it (at once after a
	// revocation) and tells it which certificate a new one replaces.
	LabelACMEARIID = v1alpha1.LabelPrefix + "acme-ari-id"
	// LabelOwnedNodeLabels, suffixed with "." and the instance, lists on a node the label keys
	// that instance set (comma-separated), so it removes only those.
	LabelOwnedNodeLabels = v1alpha1.LabelPrefix + "owned-labels"
)
