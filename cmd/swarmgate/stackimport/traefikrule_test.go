package stackimport

import (
	"strings"
	"testing"
)

// TestTraefikRuleNesting: a rule nested deeper than any real one is refused, not followed
// recursively until the stack takes all memory (a label of a stack file may hold 8 MiB of "(").
func TestTraefikRuleNesting(t *testing.T) {
	for _, depth := range []int{maxNesting + 1, 4 << 20} {
		rule := strings.Repeat("(", depth) + "Host(`a.example.com`)" + strings.Repeat(")", depth)
		if _, err := parseTraefikRule(rule); err == nil || !strings.Contains(err.Error(), "nested") {
			t.Errorf("depth %d: %v, want a refusal of the nesting", depth, err)
		}
	}
	rule := strings.Repeat("(", maxNesting) + "Host(`a.example.com`)" + strings.Repeat(")", maxNesting)
	if _, err := parseTraefikRule(rule); err != nil {
		t.Errorf("depth %d: %v", maxNesting, err)
	}
}
