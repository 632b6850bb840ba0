package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// version is set at build time with
// -ldflags "-X github.com/swarmgate/swarmgate/cmd/internal/cli.version=v0.1.0".
var version = "dev"

// NewVersionCommand prints the version of swarmgate, of its API and of the Go it was built with.
func NewVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of swarmgate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version
			if info, ok := debug.ReadBuildInfo(); ok && v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
				v = info.Main.Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "swarmgate %s (API %s, %s %s/%s)\n", v, v1alpha1.GroupVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
