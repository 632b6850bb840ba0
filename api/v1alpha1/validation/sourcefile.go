package validation

import (
	"fmt"
	"path/filepath"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// validateSourceFile checks the spec of a Secret or a Config: a file inside the manifest's
// directory, and a history limit in bounds. Whether the file exists is the loader's to tell.
func validateSourceFile(spec *v1alpha1.SourceFileSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	switch {
	case spec.File == "":
		errs = append(errs, field.Required(p.Child("file"), "the file's path, relative to the manifest's directory"))
	case !filepath.IsLocal(spec.File):
		errs = append(errs, field.Invalid(p.Child("file"), "must be a path inside the manifest's directory (relative, without ..)"))
	}
	if n := spec.RevisionHistoryLimit; n != nil && (*n < 0 || *n > v1alpha1.MaxRevisionHistory) {
		errs = append(errs, field.Invalid(p.Child("revisionHistoryLimit"), fmt.Sprintf("must be 0 to %d", v1alpha1.MaxRevisionHistory)))
	}
	return errs
}
