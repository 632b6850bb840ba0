// Command schemagen writes the JSON Schema of every swarmgate kind into manifests/schema, from the
// Go types and their doc comments, so editors running yaml-language-server check and complete
// manifests. Run it from the repository root: go run ./hack/schemagen
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/invopop/jsonschema"
	orderedmap "github.com/pb33f/ordered-map/v2"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

const (
	modulePath = "github.com/swarmgate/swarmgate"
	apiDir     = "./api/v1alpha1"
	outDir     = "manifests/schema"
	// combinedFile dispatches on kind to the schema of that kind; manifests name it in their
	// yaml-language-server modeline.
	combinedFile = "swarmgate.json"
)

func main() {
	files, err := generate()
	if err == nil {
		err = write(files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

// generate returns the schema files by name. It reads the API's Go comments relative to the
// working directory, which must be the repository root.
func generate() (map[string][]byte, error) {
	r := &jsonschema.Reflector{Mapper: typeSchema, Anonymous: true}
	if err := r.AddGoComments(modulePath, apiDir); err != nil {
		return nil, fmt.Errorf("reading doc comments: %w", err)
	}
	files := map[string][]byte{}
	combined := &jsonschema.Schema{
		Version:     jsonschema.Version,
		Title:       "swarmgate manifest",
		Description: "Any swarmgate.io/v1alpha1 object; the kind field selects its schema.",
		Type:        "object",
		Required:    []string{"apiVersion", "kind"},
	}
	for _, kind := range v1alpha1.Kinds {
		s := r.Reflect(v1alpha1.New(kind))
		name := strings.ToLower(string(kind)) + ".json"
		// No $id: the kinds' files are referred to relative to the file itself, so an editor
		// resolves them from disk, offline, wherever the schema directory is.
		s.Title = string(kind)
		if err := constrain(s.Definitions); err != nil {
			return nil, err
		}
		root, ok := s.Definitions[string(kind)]
		if !ok {
			return nil, fmt.Errorf("%s: no definition for the kind itself", kind)
		}
		if kind == v1alpha1.KindReferenceGrant {
			// A grant lives in the namespace whose services it shares.
			meta, _ := root.Properties.Get("metadata")
			root.Properties.Set("metadata", &jsonschema.Schema{AllOf: []*jsonschema.Schema{meta, {Required: []string{"namespace"}}}})
		}
		// apiVersion and kind are fixed strings for each kind.
		root.Properties.Set("apiVersion", &jsonschema.Schema{Type: "string", Const: v1alpha1.GroupVersion,
			Description: "APIVersion must be \"" + v1alpha1.GroupVersion + "\"."})
		root.Properties.Set("kind", &jsonschema.Schema{Type: "string", Const: string(kind),
			Description: "Kind of the object."})
		b, err := marshal(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		files[name] = b
		combined.AllOf = append(combined.AllOf, &jsonschema.Schema{
			If:   &jsonschema.Schema{Properties: props("kind", &jsonschema.Schema{Const: string(kind)}), Required: []string{"kind"}},
			Then: &jsonschema.Schema{Ref: name},
		})
	}
	kinds := make([]any, len(v1alpha1.Kinds))
	for i, k := range v1alpha1.Kinds {
		kinds[i] = string(k)
	}
	combined.Properties = props("apiVersion", &jsonschema.Schema{Type: "string", Const: v1alpha1.GroupVersion})
	combined.Properties.Set("kind", &jsonschema.Schema{Type: "string", Enum: kinds})
	b, err := marshal(combined)
	if err != nil {
		return nil, err
	}
	files[combinedFile] = b
	return files, nil
}

func props(name string, s *jsonschema.Schema) *orderedmap.OrderedMap[string, *jsonschema.Schema] {
	p := orderedmap.New[string, *jsonschema.Schema]()
	p.Set(name, s)
	return p
}

func marshal(s *jsonschema.Schema) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func write(files map[string][]byte) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(outDir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
