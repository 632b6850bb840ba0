package reconciler

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyCmdImportsTheDockerClient enforces the dependency rule: the API knows nothing of Docker,
// rendering, desired state and planning are pure, and engine access goes through narrow
// interfaces that cmd satisfies with the real client. Tools under hack/ may drive the engine too.
func TestOnlyCmdAndToolsImportTheDockerClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/swarmgate/swarmgate/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		usesClient := strings.Contains(" "+deps+" ", " github.com/docker/docker/client ")
		usesDocker := strings.Contains(deps, "github.com/docker/docker/")
		switch {
		case strings.HasPrefix(pkg, "github.com/swarmgate/swarmgate/cmd/"), strings.HasPrefix(pkg, "github.com/swarmgate/swarmgate/hack/"):
			// The command and the tools that drive the engine (benchmarks, test helpers).
		case usesClient:
			t.Errorf("%s imports the Docker client; only cmd may", pkg)
		case strings.HasPrefix(pkg, "github.com/swarmgate/swarmgate/api/") && usesDocker:
			t.Errorf("%s depends on Docker; the API must not", pkg)
		case strings.Contains(pkg, "/render/") && usesDocker:
			t.Errorf("%s depends on Docker; renderers are pure", pkg)
		}
	}
}
