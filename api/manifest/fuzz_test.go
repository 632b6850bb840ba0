package manifest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

// FuzzDecodeValidate feeds arbitrary bytes through decoding, defaulting and validation: none of it
// may panic, and an object that validates must validate again after a second defaulting.
func FuzzDecodeValidate(f *testing.F) {
	for _, pattern := range []string{"../../manifests/examples/*/*.yaml", "../../manifests/invalid/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, errs := manifest.Decode("fuzz.yaml", data)
		for _, o := range objs {
			o.Default()
		}
		verrs := validation.ValidateSnapshot(objs, errs)
		if len(verrs) > 0 {
			return
		}
		for _, o := range objs {
			o.Default()
		}
		if again := validation.Validate(objs); len(again) > 0 {
			t.Fatalf("valid objects became invalid after defaulting again: %v", again)
		}
	})
}
