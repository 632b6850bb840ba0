package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// TestSchemaInSync fails when the committed schema differs from what the Go types generate: run
// `go run ./hack/schemagen` from the repository root after changing the API.
func TestSchemaInSync(t *testing.T) {
	t.Chdir("../..")
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := filepath.Glob(filepath.Join(outDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(committed) != len(files) {
		t.Errorf("%s holds %d files, the generator makes %d", outDir, len(committed), len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s/%s is out of date: run `go run ./hack/schemagen` from the repository root", outDir, name)
		}
	}
}

// TestSchemaAcceptsExamples checks the schema against the manifests: an editor must never flag a
// valid example, and must flag an unknown field.
func TestSchemaAcceptsExamples(t *testing.T) {
	t.Chdir("../..")
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	for name, b := range files {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(schemaBase+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	schema, err := c.Compile(schemaBase + combinedFile)
	if err != nil {
		t.Fatal(err)
	}

	examples, err := filepath.Glob("manifests/examples/*/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range examples {
		for i, doc := range documents(t, f) {
			if err := schema.Validate(doc); err != nil {
				t.Errorf("%s doc %d: %v", f, i+1, err)
			}
		}
	}
	docs := documents(t, "manifests/invalid/unknown-field.yaml")
	if err := schema.Validate(docs[1]); err == nil {
		t.Error("the schema accepts an unknown field")
	}
}

func documents(t *testing.T, file string) []any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []any
	for _, part := range strings.Split(string(data), "\n---\n") {
		js, err := yaml.YAMLToJSON([]byte(part))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
	return docs
}
