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

// schemaBase is where the tests put the schema files: like an editor reading them from disk, the
// kinds' files resolve relative to swarmgate.json, with nothing fetched.
const schemaBase = "file:///schema/"

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
	schema := compileSchema(t)

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

// compileSchema compiles the generated schema as an editor would load it from disk.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
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
	return schema
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

// catchFloor is how many files of manifests/invalid the schema flags at least: a mistake the
// schema learns to express raises it; the test fails if it falls.
const catchFloor = 75

// TestSchemaCatchesInvalidCorpus runs every file of manifests/invalid through the schema, as an
// editor would, and reports how many it flags (the rest need what a schema cannot say: other
// objects, the swarm, nginx's limits).
func TestSchemaCatchesInvalidCorpus(t *testing.T) {
	t.Chdir("../..")
	schema := compileSchema(t)
	invalid, _ := filepath.Glob("manifests/invalid/*.yaml")
	var caught, missed []string
	for _, f := range invalid {
		data, _ := os.ReadFile(f)
		flagged := false
		for _, part := range strings.Split(string(data), "\n---\n") {
			js, err := yaml.YAMLToJSON([]byte(part))
			if err != nil {
				flagged = true // the editor's YAML parser flags it
				break
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
			if err != nil || schema.Validate(doc) != nil {
				flagged = true
				break
			}
		}
		if flagged {
			caught = append(caught, filepath.Base(f))
		} else {
			missed = append(missed, filepath.Base(f))
		}
	}
	t.Logf("the schema flags %d of the %d invalid files; not: %s", len(caught), len(invalid), strings.Join(missed, " "))
	if len(caught) < catchFloor {
		t.Errorf("the schema flags %d invalid files, fewer than %d", len(caught), catchFloor)
	}
}
