package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/sourcefile"
)

// fileOptions are the -f flags of every command that reads manifests.
type fileOptions struct {
	paths []string
}

func (o *fileOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVarP(&o.paths, "filename", "f", nil, "manifest file or directory (read recursively), or - for standard input; repeatable")
	switch cmd.Name() {
	case "get", "delete": // they may name objects of the store instead
	case "validate": // validate exits 0 or 1 only: without files is invalid input (validate checks)
	default:
		_ = cmd.MarkFlagRequired("filename")
	}
}

// load reads, defaults and validates the manifests as a whole set. On bad input it prints every
// error and returns an exit error, so nothing after it runs on a broken snapshot.
func (o *fileOptions) load(cmd *cobra.Command) ([]v1alpha1.Object, error) {
	objs, err := reconciler.LoadManifests(o.paths, cmd.InOrStdin())
	if err == nil {
		err = readSourceFiles(objs)
	}
	return objs, invalidInput(cmd, err)
}

// readSourceFiles reads the files of the Secrets and Configs of objs, decrypting with the
// identities of SOPS_AGE_KEY_FILE.
func readSourceFiles(objs []v1alpha1.Object) error {
	ids, err := cliAgeIdentities()
	if err != nil {
		return err
	}
	return sourcefile.Read(objs, ids).ToError()
}

// loadPart reads the manifests of a command that joins them with the applied objects: each
// object is validated here, the set they make when planned.
func (o *fileOptions) loadPart(cmd *cobra.Command) ([]v1alpha1.Object, error) {
	objs, err := reconciler.LoadPart(o.paths, cmd.InOrStdin())
	if err == nil {
		err = readSourceFiles(objs)
	}
	return objs, invalidInput(cmd, err)
}

// invalidInput prints every error of invalid manifests (also those the store of applied objects
// adds: a Route conflicting with one applied before) and returns an exit error; other errors
// pass through.
func invalidInput(cmd *cobra.Command, err error) error {
	var errs field.ErrorList
	if !errors.As(err, &errs) {
		return err
	}
	w := cmd.ErrOrStderr()
	for _, e := range errs {
		fmt.Fprintln(w, e)
	}
	noun := "errors"
	if len(errs) == 1 {
		noun = "error"
	}
	return &exitCodeError{Code: exitFail, Msg: fmt.Sprintf("%d %s in the manifests; nothing was changed", len(errs), noun)}
}

func newValidateCommand() *cobra.Command {
	var (
		opts       = &fileOptions{}
		engine     engineOptions
		serverSide bool
	)
	cmd := &cobra.Command{
		Use:   "validate -f PATH...",
		Short: "Check manifests without touching the swarm",
		Long: `Decode and validate manifests: every object on its own and the set as a whole
(references between objects, conflicting routes, duplicate ports, router IDs
and service names). Every error names the file, the document, the object and
the field. Exits 0 when the manifests are valid and 1 when they are not.

Without the swarm, the files are the whole set: a Route whose Gateway was
applied from another file is refused. --server-side validates them with the
objects applied to the instance instead, as apply will (kubectl's
--dry-run=server), and changes nothing.`,
		Example: `  # Validate every manifest in a directory
  swarmgate validate -f manifests/examples/seed/

  # Validate a manifest from standard input
  cat route.yaml | swarmgate validate -f -

  # Validate a Route against the Gateway applied earlier
  swarmgate validate -f route.yaml --server-side`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.paths) == 0 {
				return &exitCodeError{Code: exitFail, Msg: "no manifests given: -f PATH (a file or directory), or -f - for standard input"}
			}
			if serverSide {
				return validateServerSide(cmd, opts, &engine)
			}
			objs, err := reconciler.LoadManifests(opts.paths, cmd.InOrStdin())
			if err != nil {
				var (
					errs field.ErrorList
					exit *exitCodeError
				)
				dangling := errors.As(err, &errs) && slices.ContainsFunc(errs, validation.Dangling)
				if err = invalidInput(cmd, err); dangling && errors.As(err, &exit) {
					exit.Msg += "; what these files reference but do not hold (a Route's Gateway) may have been applied to the swarm: validate --server-side checks against the applied objects"
				}
				return err
			}
			if err := readSourceFiles(objs); err != nil {
				return invalidInput(cmd, err)
			}
			if len(objs) == 0 {
				// Valid, but most likely not what was meant: a wrong path, or files emptied.
				fmt.Fprintln(cmd.OutOrStdout(), "valid, but the manifests hold no objects")
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s valid\n", summarize(objs))
			return nil
		},
	}
	opts.addFlags(cmd)
	engine.addFlags(cmd)
	cmd.Flags().BoolVar(&serverSide, "server-side", false, "validate with the objects applied to the instance, as apply would (reads the swarm, changes nothing)")
	return cmd
}

// validateServerSide validates the manifests as apply would: each object on its own, then the
// set they make with the applied objects, against the swarm (services that clash, secrets that
// are missing). Nothing is written.
func validateServerSide(cmd *cobra.Command, files *fileOptions, engine *engineOptions) error {
	objs, r, c, err := engine.session(cmd, files)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := plan(cmd, r, reconciler.Input{Objects: objs}, planner.Options{}, false); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s valid with the objects applied to instance %s\n", summarize(objs), engine.instance)
	return nil
}

// summarize counts objects by kind: "4 objects (1 Zone, 1 Gateway, 2 Route)".
func summarize(objs []v1alpha1.Object) string {
	counts := map[v1alpha1.Kind]int{}
	for _, o := range objs {
		counts[o.GetTypeMeta().Kind]++
	}
	parts := make([]string, 0, len(counts))
	for _, k := range v1alpha1.Kinds {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	noun := "objects"
	if len(objs) == 1 {
		noun = "object"
	}
	return fmt.Sprintf("%d %s (%s)", len(objs), noun, strings.Join(parts, ", "))
}
