package redact

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://user:tok3n@git.example.com/ops/swarm.git", "https://REDACTED@git.example.com/ops/swarm.git"},
		{"https://tok3n@git.example.com/ops/swarm.git", "https://REDACTED@git.example.com/ops/swarm.git"},
		{"https://git.example.com/ops/swarm.git", "https://git.example.com/ops/swarm.git"},
		{"git@git.example.com:ops/swarm.git", "git@git.example.com:ops/swarm.git"},
		{"file:///srv/repo.git", "file:///srv/repo.git"},
		{"https://u:p@[::1", Placeholder},
	} {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Webhook("https://hooks.slack.com/services/T0/B0/tok3n?x=tok3n"); got != "https://hooks.slack.com/REDACTED" {
		t.Errorf("Webhook: %s", got)
	}
	err := Error(&url.Error{Op: "Post", URL: "https://hooks.slack.com/services/T0/B0/tok3n", Err: errors.New("refused")}, Webhook)
	if strings.Contains(err.Error(), "tok3n") {
		t.Errorf("Error: %v", err)
	}
}
