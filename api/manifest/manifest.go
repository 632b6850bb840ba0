// Package manifest reads swarmgate manifests from files, directories and standard input: it splits
// multi-document YAML, decodes each document strictly into its kind (an unknown field, a value of the
// wrong type, a missing or wrong apiVersion or kind are errors) and records where every object came
// from. It reports every problem it finds, not just the first.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Stdin is the path that means standard input, as in `-f -`.
const Stdin = "-"

// stdinName is how errors name standard input.
const stdinName = "<stdin>"

// Load reads every manifest under paths: files, directories (recursively, *.yaml and *.yml in
// lexical order, skipping hidden directories) and Stdin. It returns the decoded objects in the order
// read, with defaults not yet applied. The error, if any, is a field.ErrorList naming each problem.
func Load(paths []string, stdin io.Reader) ([]v1alpha1.Object, error) {
	var (
		objs      []v1alpha1.Object
		errs      field.ErrorList
		readStdin bool
	)
	for _, p := range paths {
		if p == Stdin {
			if readStdin {
				errs = append(errs, &field.Error{Origin: stdinName, Detail: "standard input given more than once"})
				continue
			}
			readStdin = true
			data, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, &field.Error{Origin: stdinName, Detail: err.Error()})
				continue
			}
			o, e := Decode(stdinName, data)
			objs, errs = append(objs, o...), append(errs, e...)
			continue
		}
		files, err := manifestFiles(p)
		if err != nil {
			errs = append(errs, &field.Error{Origin: p, Detail: err.Error()})
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, &field.Error{Origin: f, Detail: err.Error()})
				continue
			}
			o, e := Decode(f, data)
			objs, errs = append(objs, o...), append(errs, e...)
		}
	}
	return objs, errs.ToError()
}

// manifestFiles lists the manifest files a path names: the file itself, or the YAML files below a
// directory in lexical order.
func manifestFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext == ".yaml" || ext == ".yml" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml or *.yml files in directory")
	}
	return files, nil
}

// Decode decodes every document of one file. Empty documents are skipped but counted, so that
// "doc N" names the N-th document a reader sees. The objects returned include those whose only
// errors are unknown fields, so they can still be validated; callers must not use them when the
// error list is not empty.
func Decode(file string, data []byte) ([]v1alpha1.Object, field.ErrorList) {
	var (
		objs []v1alpha1.Object
		errs field.ErrorList
	)
	for i, doc := range splitDocuments(data) {
		origin := v1alpha1.Origin{File: file, Doc: i + 1, Line: doc.line}
		obj, e, usable := decodeDocument(doc.data)
		if obj != nil {
			obj.GetObjectMeta().Origin = origin
		}
		if len(e) > 0 {
			name := ""
			if obj != nil {
				name = v1alpha1.Ref(obj)
			}
			errs = append(errs, e.WithObject(origin.String(), name)...)
		}
		if usable {
			objs = append(objs, obj)
		}
	}
	return objs, errs
}

type document struct {
	line int // 1-based line of the document's first line within its file
	data []byte
}

// splitDocuments splits a YAML stream at lines that are a document separator ("---", optionally
// followed by a comment). Blank lines and comments before a leading separator are no document.
func splitDocuments(data []byte) []document {
	var (
		docs   []document
		start  int // offset of the current document
		first  = 1 // its first line
		offset int
		line   int
	)
	for l := range bytes.Lines(data) {
		line++
		if isSeparator(l) {
			if chunk := data[start:offset]; len(docs) > 0 || !onlyComments(chunk) {
				docs = append(docs, document{line: first, data: chunk})
			}
			start, first = offset+len(l), line+1
		}
		offset += len(l)
	}
	if rest := data[start:]; len(docs) == 0 || len(bytes.TrimSpace(rest)) > 0 {
		docs = append(docs, document{line: first, data: rest})
	}
	return docs
}

// onlyComments reports whether a chunk of YAML holds nothing but blank lines and comments.
func onlyComments(chunk []byte) bool {
	for line := range bytes.Lines(chunk) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}

func isSeparator(line []byte) bool {
	line = bytes.TrimRight(line, " \t\r\n")
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '#'
}

// decodeDocument decodes one YAML document. It returns a nil object and no error for an empty
// document. usable says whether the object decoded faithfully enough to be validated: true when
// nothing is wrong or only unknown fields are, so that its other mistakes are reported in the same
// run. On other errors the object, when there is one, is empty but for kind and name, so the error
// can name it.
func decodeDocument(data []byte) (obj v1alpha1.Object, errs field.ErrorList, usable bool) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, field.ErrorList{{Detail: "invalid YAML: " + strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")}}, false
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, field.ErrorList{{Detail: "invalid YAML: " + err.Error()}}, false
	}
	if raw == nil {
		return nil, nil, false
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, field.ErrorList{{Detail: "a manifest must be a mapping with apiVersion, kind, metadata and spec"}}, false
	}

	obj, errs = newObject(m)
	if obj == nil {
		return nil, errs, false
	}
	versionOK := len(errs) == 0
	c := &checker{}
	c.check(reflect.TypeOf(obj), m, nil)
	errs = append(errs, c.errs...)
	if c.mistyped || !versionOK {
		if meta, ok := m["metadata"].(map[string]any); ok {
			if name, ok := meta["name"].(string); ok {
				obj.GetObjectMeta().Name = name
			}
		}
		return obj, errs, false
	}
	// encoding/json skips unknown fields, which the checker has reported.
	if err := json.Unmarshal(js, obj); err != nil {
		// The checker accepts only what decodes; reaching here is a bug in it, reported, not hidden.
		return obj, append(errs, &field.Error{Detail: "cannot decode: " + err.Error()}), false
	}
	return obj, errs, true
}

// newObject checks apiVersion and kind and returns an empty object of that kind.
func newObject(m map[string]any) (v1alpha1.Object, field.ErrorList) {
	var errs field.ErrorList
	switch v, ok := m["apiVersion"]; {
	case !ok:
		errs = append(errs, field.Required(field.NewPath("apiVersion"), "must be "+v1alpha1.GroupVersion))
	case v != v1alpha1.GroupVersion:
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), v1alpha1.GroupVersion))
	}
	kind, _ := m["kind"].(string)
	obj := v1alpha1.New(v1alpha1.Kind(kind))
	if obj == nil {
		if _, ok := m["kind"]; !ok {
			errs = append(errs, field.Required(field.NewPath("kind"), "one of Gateway, Route, VirtualIP, Zone"))
		} else {
			errs = append(errs, field.NotSupported(field.NewPath("kind"), v1alpha1.Kinds...))
		}
		return nil, errs
	}
	obj.GetTypeMeta().Kind = v1alpha1.Kind(kind)
	return obj, errs
}
