package reconciler

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/swarmgate/swarmgate/"

// TestDependencyRules enforces which way dependencies flow: the API knows nothing of Docker or of
// swarmgate's machinery; renderers, desired state and planning are pure; only cmd and the tools
// under hack/ import the Docker client (engine access goes through narrow interfaces); the agents that
// run inside tasks know only the contract and the API; the pass and the status judge never import
// the operator or the agents; the task binary (and the command line it shares with swarmgate) links
// only the agents, not the operator, the CLI, sops or the Docker client.
func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, _ := strings.Cut(line, " ")
		pkg = strings.TrimPrefix(pkg, module)
		deps := map[string]bool{}
		var own []string // swarmgate's own packages among the deps
		for _, d := range strings.Fields(list) {
			deps[d] = true
			if strings.HasPrefix(d, module) {
				own = append(own, strings.TrimPrefix(d, module))
			}
		}
		uses := func(prefix string) bool {
			for d := range deps {
				if strings.HasPrefix(d, prefix) {
					return true
				}
			}
			return false
		}
		importsOwn := func(prefix string) bool {
			for _, d := range own {
				if d == prefix || strings.HasPrefix(d, prefix+"/") {
					return true
				}
			}
			return false
		}
		tool := strings.HasPrefix(pkg, "cmd/") || strings.HasPrefix(pkg, "hack/")
		switch {
		case !tool && deps["github.com/docker/docker/client"]:
			// Engine access goes through narrow interfaces that cmd satisfies with the real client.
			t.Errorf("%s imports the Docker client; only cmd and the tools under hack may", pkg)
		case strings.HasPrefix(pkg, "api/") && (uses("github.com/docker/") || importsOwn("reconciler") || importsOwn("cmd")):
			t.Errorf("%s depends on Docker or on swarmgate's machinery; the API must not", pkg)
		}
		switch {
		case strings.HasPrefix(pkg, "reconciler/render/") && (uses("github.com/docker/") || importsOwn("reconciler/operator") || importsOwn("reconciler/desired") || importsOwn("reconciler/agent")):
			t.Errorf("%s depends on Docker, the operator, desired or the agents; renderers are pure", pkg)
		case strings.HasPrefix(pkg, "reconciler/agent/"):
			for _, d := range own {
				if !strings.HasPrefix(d, "api/") && d != "reconciler/contract" {
					t.Errorf("%s imports %s; an agent runs in a task and knows only the contract and the API", pkg, d)
				}
			}
		case pkg == "reconciler/contract":
			for _, d := range own {
				if !strings.HasPrefix(d, "api/") {
					t.Errorf("the contract imports %s; it is a leaf", d)
				}
			}
		case pkg == "cmd/swarmgate-task", pkg == "cmd/internal/cli":
			// Every agent's process pays for what its binary links: sops's cloud SDKs alone cost
			// some 26 MB of resident memory at start.
			for _, d := range own {
				if !strings.HasPrefix(d, "api/") && d != "reconciler/contract" && !strings.HasPrefix(d, "reconciler/agent/") && d != "cmd/internal/cli" {
					t.Errorf("%s imports %s; the task binary links only the agents and the API", pkg, d)
				}
			}
			for _, heavy := range []string{"github.com/getsops/", "github.com/aws/", "cloud.google.com/", "github.com/Azure/", "github.com/hashicorp/vault/", "github.com/docker/docker/client"} {
				if uses(heavy) {
					t.Errorf("%s links %s; the task binary must not", pkg, heavy)
				}
			}
		case pkg == "reconciler/status", pkg == "reconciler", pkg == "reconciler/desired", pkg == "reconciler/planner":
			if importsOwn("reconciler/operator") || importsOwn("reconciler/agent") {
				t.Errorf("%s imports the operator or an agent; the pass and the status judge must not", pkg)
			}
		}
	}
}
