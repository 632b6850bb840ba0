package operator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// AgentService is where an operator on the swarm serves gateway agents: the Gateways whose
// spec.agent leaves operatorURL and tokenSecret unset take these, and a token secret the operator
// makes.
type AgentService struct {
	// URL is the operator's URL by its service name, e.g. "http://swarmgate:9090".
	URL string
	// Network is the operator's network on which that name resolves; such gateways join it.
	Network string
}

// agentTokenWriter is the part of the Docker client that makes and removes token secrets.
type agentTokenWriter interface {
	SecretCreate(ctx context.Context, secret swarm.SecretSpec) (swarm.SecretCreateResponse, error)
	SecretRemove(ctx context.Context, id string) error
}

// agentTokens makes the agents' token secret of an operator on the swarm, rotates it when asked
// (or when the operator's URL or network changed), and checks the tokens agents present against
// the SHA-256 each such secret carries: the swarm never gives a secret's data back, so an
// operator that restarts, or a standby that takes over, knows the tokens by these alone.
type agentTokens struct {
	service  AgentService
	instance string

	mu     sync.Mutex
	sums   [][]byte // of the tokens of every token secret on the swarm
	read   bool     // whether sums were read: a standby has not
	rotate bool
}

func newAgentTokens(service AgentService, instance string) *agentTokens {
	return &agentTokens{service: service, instance: instance}
}

// Rotate asks the next pass for a new token: the gateways move to it (their tasks are replaced),
// and the old secret, accepted until then, is removed once no service mounts it.
func (t *agentTokens) Rotate() {
	t.mu.Lock()
	t.rotate = true
	t.mu.Unlock()
}

// known reports whether the tokens were read from the swarm: by this operator's passes, which a
// standby does not run.
func (t *agentTokens) known() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.read
}

// accepts reports whether token is the token of one of the token secrets.
func (t *agentTokens) accepts(token string) bool {
	sum := sha256.Sum256([]byte(token))
	t.mu.Lock()
	defer t.mu.Unlock()
	ok := 0
	for _, s := range t.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], s)
	}
	return ok == 1
}

// ensure makes a new token secret when the snapshot has none for the operator's URL and network,
// or a rotation is asked for, and removes the older ones no service mounts. It reports whether it
// made one: the pass then reads the swarm again. The token is written to the secret only.
func (t *agentTokens) ensure(ctx context.Context, w agentTokenWriter, snap *swarmstate.Snapshot) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sums, t.read = t.sums[:0], true
	for _, sec := range snap.AgentTokens {
		if sum, err := hex.DecodeString(sec.Spec.Labels[inventory.LabelAgentTokenSHA256]); err == nil && len(sum) == sha256.Size {
			t.sums = append(t.sums, sum)
		}
	}
	d := reconciler.AgentDefaults(snap)
	if d == nil || d.OperatorURL != t.service.URL || d.Network != t.service.Network || t.rotate {
		if err := t.create(ctx, w); err != nil {
			return false, err
		}
		t.rotate = false
		return true, nil
	}
	for _, sec := range snap.AgentTokens {
		if sec.Spec.Name == d.TokenSecret || mounted(snap.Services, sec) {
			continue
		}
		if err := w.SecretRemove(ctx, sec.ID); err != nil {
			return false, fmt.Errorf("removing the agents' old token secret %s: %w", sec.Spec.Name, err)
		}
	}
	return false, nil
}

func (t *agentTokens) create(ctx context.Context, w agentTokenWriter) error {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand never fails
	token := hex.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	name := fmt.Sprintf("swarmgate-%.24s-agent-token-%x", t.instance, sum[:4]) // within a secret name's 64 characters
	_, err := w.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: name, Labels: map[string]string{
		inventory.LabelManagedBy:        inventory.ManagedByValue,
		inventory.LabelInstance:         t.instance,
		inventory.LabelRole:             inventory.RoleAgentToken,
		inventory.LabelAgentURL:         t.service.URL,
		inventory.LabelAgentNetwork:     t.service.Network,
		inventory.LabelAgentTokenSHA256: hex.EncodeToString(sum[:]),
	}}, Data: []byte(token)})
	if err != nil {
		return fmt.Errorf("making the agents' token secret %s: %w", name, err)
	}
	t.sums = append(t.sums, sum[:])
	return nil
}

// mounted reports whether a service mounts the secret.
func mounted(services []swarm.Service, sec swarm.Secret) bool {
	return slices.ContainsFunc(services, func(svc swarm.Service) bool {
		cs := svc.Spec.TaskTemplate.ContainerSpec
		return cs != nil && slices.ContainsFunc(cs.Secrets, func(r *swarm.SecretReference) bool { return r.SecretID == sec.ID })
	})
}
