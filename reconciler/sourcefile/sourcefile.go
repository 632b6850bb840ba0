// Package sourcefile reads the files that Secrets and Configs are made from: next to their
// manifest, inside its directory, bounded in size, a Secret's decrypted with SOPS. It fills each
// object's Data and Digest. Its errors name the object, field and file, never a value.
package sourcefile

import (
	"fmt"
	"path/filepath"

	"filippo.io/age"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/sops"
)

// Read reads the file of every Secret and Config of objs, decrypting a Secret's with ids.
func Read(objs []v1alpha1.Object, ids []age.Identity) field.ErrorList {
	var errs field.ErrorList
	for _, o := range objs {
		var (
			spec      *v1alpha1.SourceFileSpec
			data      *[]byte
			digest    *string
			encrypted bool
		)
		switch o := o.(type) {
		case *v1alpha1.Secret:
			spec, data, digest, encrypted = &o.Spec, &o.Data, &o.Digest, true
		case *v1alpha1.Config:
			spec, data, digest = &o.Spec, &o.Data, &o.Digest
		default:
			continue
		}
		content, file, err := read(o.GetObjectMeta().Origin.File, spec.File, encrypted, ids)
		if err != nil {
			e := field.Invalid(field.NewPath("spec", "file"), err.Error())
			errs = append(errs, field.ErrorList{e}.WithObject(o.GetObjectMeta().Origin.At, v1alpha1.Ref(o))...)
			continue
		}
		// A secret is named by its encrypted file, whose data key and IVs are random: a digest of
		// the value would let anyone who lists swarm secrets test guesses of a weak one. (A file
		// encrypted again makes a new secret, as a changed value does.)
		*data, *digest = content, v1alpha1.ContentDigest(file)
	}
	return errs
}

// read reads file, relative to the directory of manifest, and decrypts it when encrypted: it
// returns the content and the file as read.
func read(manifestFile, file string, encrypted bool, ids []age.Identity) (content, raw []byte, err error) {
	if manifestFile == "" || manifestFile == manifest.StdinName {
		return nil, nil, fmt.Errorf("a manifest read from standard input has no directory to read %s from", file)
	}
	dir := filepath.Dir(manifestFile)
	path := filepath.Join(dir, file)
	// A symbolic link in a git repository must not read the operator's own files.
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, nil, err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s cannot be read: %w", path, err)
	}
	if rel, err := filepath.Rel(realDir, real); err != nil || !filepath.IsLocal(rel) {
		return nil, nil, fmt.Errorf("%s is a symbolic link to outside the manifest's directory", path)
	}
	raw, err = manifest.ReadRegularFile(real, v1alpha1.MaxSourceFileSize)
	if err != nil {
		return nil, nil, err
	}
	data := raw
	if encrypted {
		if data, err = sops.Decrypt(raw, ids); err != nil {
			return nil, nil, fmt.Errorf("%s %w", path, err)
		}
	}
	if len(data) > v1alpha1.MaxSourceFileData {
		return nil, nil, fmt.Errorf("%s holds more than %d KiB, the most swarm takes in a secret or config", path, v1alpha1.MaxSourceFileData>>10)
	}
	return data, raw, nil
}
