package operator

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/inventory"
	"github.com/swarmgate/swarmgate/reconciler/operator/alert"
	"github.com/swarmgate/swarmgate/reconciler/swarmstate"
)

// fakeSecrets is a swarm's secrets, with their data (which the real swarm never gives back).
type fakeSecrets struct {
	secrets []swarm.Secret
	data    map[string]string
	removed []string
	now     time.Time
}

func (f *fakeSecrets) SecretCreate(_ context.Context, spec swarm.SecretSpec) (swarm.SecretCreateResponse, error) {
	f.now = f.now.Add(time.Second)
	id := "id-" + spec.Name
	f.data[id] = string(spec.Data)
	spec.Data = nil
	f.secrets = append(f.secrets, swarm.Secret{ID: id, Meta: swarm.Meta{CreatedAt: f.now}, Spec: spec})
	return swarm.SecretCreateResponse{ID: id}, nil
}

func (f *fakeSecrets) SecretRemove(_ context.Context, id string) error {
	f.removed = append(f.removed, id)
	for i, s := range f.secrets {
		if s.ID == id {
			f.secrets = append(f.secrets[:i], f.secrets[i+1:]...)
		}
	}
	return nil
}

// snapshot is the swarm as a pass reads it, with services mounting the given secrets.
func (f *fakeSecrets) snapshot(mounted ...string) *swarmstate.Snapshot {
	var refs []*swarm.SecretReference
	for _, id := range mounted {
		refs = append(refs, &swarm.SecretReference{SecretID: id})
	}
	return &swarmstate.Snapshot{AgentTokens: append([]swarm.Secret(nil), f.secrets...),
		Services: []swarm.Service{{Spec: swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Secrets: refs}}}}}}
}

func TestAgentTokens(t *testing.T) {
	ctx := context.Background()
	f := &fakeSecrets{data: map[string]string{}}
	service := AgentService{URL: "http://swarmgate:9090", Network: "swarmgate-control"}
	tokens := newAgentTokens(service, "production")

	made, err := tokens.ensure(ctx, f, f.snapshot())
	if err != nil || !made || len(f.secrets) != 1 {
		t.Fatalf("first pass: made %v, %v, secrets %+v", made, err, f.secrets)
	}
	first := f.secrets[0]
	if l := first.Spec.Labels; l[inventory.LabelRole] != inventory.RoleAgentToken || l[inventory.LabelAgentURL] != service.URL ||
		l[inventory.LabelAgentNetwork] != service.Network || l[inventory.LabelInstance] != "production" {
		t.Errorf("labels %v", l)
	}
	token := f.data[first.ID]
	if len(token) != 64 || slices.Contains(slices.Collect(maps.Values(first.Spec.Labels)), token) {
		t.Fatalf("token of %d characters, or shown in the labels", len(token))
	}
	if !tokens.accepts(token) || tokens.accepts("") || tokens.accepts(token[:63]) {
		t.Errorf("accepts: the token must pass, nothing else")
	}

	// A restarted operator (or a standby taking over) knows the token by the label alone.
	restarted := newAgentTokens(service, "production")
	if made, err := restarted.ensure(ctx, f, f.snapshot(first.ID)); err != nil || made {
		t.Fatalf("restarted: made %v, %v", made, err)
	}
	if !restarted.accepts(token) {
		t.Errorf("the restarted operator refuses the token")
	}

	// A rotation makes a new token; the old one is accepted while a service mounts it, and
	// removed once none does.
	restarted.Rotate()
	if made, err := restarted.ensure(ctx, f, f.snapshot(first.ID)); err != nil || !made || len(f.secrets) != 2 {
		t.Fatalf("rotation: made %v, %v, secrets %d", made, err, len(f.secrets))
	}
	second := f.secrets[1]
	if made, err := restarted.ensure(ctx, f, f.snapshot(first.ID)); err != nil || made || len(f.removed) > 0 {
		t.Fatalf("while the old one is mounted: made %v, %v, removed %v", made, err, f.removed)
	}
	if !restarted.accepts(token) || !restarted.accepts(f.data[second.ID]) {
		t.Errorf("during the rotation both tokens must pass")
	}
	if _, err := restarted.ensure(ctx, f, f.snapshot(second.ID)); err != nil || len(f.removed) != 1 || f.removed[0] != first.ID {
		t.Fatalf("once the gateways moved: %v, removed %v", err, f.removed)
	}
	if _, err := restarted.ensure(ctx, f, f.snapshot(second.ID)); err != nil || restarted.accepts(token) {
		t.Errorf("the old token still passes: %v", err)
	}

	// A new URL is a new token secret, which says it.
	moved := newAgentTokens(AgentService{URL: "http://operator:9090", Network: "swarmgate-control"}, "production")
	if made, err := moved.ensure(ctx, f, f.snapshot(second.ID)); err != nil || !made || f.secrets[len(f.secrets)-1].Spec.Labels[inventory.LabelAgentURL] != "http://operator:9090" {
		t.Fatalf("a new URL: made %v, %v", made, err)
	}
}

// TestAgentTokenEndpoints: an operator on the swarm serves agents the token of its own secret
// (and no empty one), and rotates it on POST /rotate-agent-token with the hook token.
func TestAgentTokenEndpoints(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := New(&reconciler.Reconciler{Instance: "production"}, nil, Options{Agents: &AgentService{URL: "http://swarmgate:9090", Network: "swarmgate-control"}},
		alert.NewDispatcher(log, nil, alert.FormatJSON), NewMetrics(), log)
	srv := httptest.NewServer(c.Handler(Tokens{Hook: "h00k"}))
	defer srv.Close()
	do := func(method, path, header, value string) int {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set(header, value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// A standby knows no token yet: it answers any agent as it answers one with the token, so
	// the agent's next try, on a new connection, may reach the active operator.
	if got := do("GET", "/v1/gateways/gw/config", "Authorization", "Bearer guess"); got != http.StatusServiceUnavailable {
		t.Errorf("a standby answers %d, want 503", got)
	}
	f := &fakeSecrets{data: map[string]string{}}
	if _, err := c.tokens.ensure(context.Background(), f, f.snapshot()); err != nil { // its first pass
		t.Fatal(err)
	}
	token := f.data[f.secrets[0].ID]
	for _, tt := range []struct {
		name, method, path, header, value string
		authorized                        bool
	}{
		{"the operator's token", "GET", "/v1/gateways/gw/config", "Authorization", "Bearer " + token, true},
		{"no token", "GET", "/v1/gateways/gw/config", "Authorization", "Bearer ", false},
		{"another token", "GET", "/v1/gateways/gw/config", "Authorization", "Bearer " + strings.Repeat("0", 64), false},
		{"rotation with the hook token", "POST", "/rotate-agent-token", HookHeader, "h00k", true},
		{"rotation with the agents' token", "POST", "/rotate-agent-token", HookHeader, token, false},
	} {
		if got := do(tt.method, tt.path, tt.header, tt.value); (got != http.StatusUnauthorized) != tt.authorized {
			t.Errorf("%s: %d", tt.name, got)
		}
	}
	if !c.tokens.rotate {
		t.Error("POST /rotate-agent-token asked for no rotation")
	}
}
