// Package manifest reads swarmgate manifests from files, directories and standard input: it splits
// multi-document YAML, decodes each document strictly into its kind (an unknown field, a value of the
// wrong type, a missing or wrong apiVersion or kind are errors) and records where every object came
// from. It reports every problem it finds, not just the first.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Stdin is the path that means standard input, as in `-f -`.
const Stdin = "-"

// StdinName is how errors and origins name standard input.
const StdinName = "<stdin>"

// Limits on what Load reads: manifests are text a person writes, and a larger input (or a link to
// /dev/zero) is a mistake or an attack that must not exhaust the memory of the operator.
const (
	// MaxFileSize bounds one file (or standard input).
	MaxFileSize = 8 << 20
	// MaxTotalSize bounds everything one Load reads.
	MaxTotalSize = 64 << 20
	// MaxCredentialSize bounds a file holding a token or a private key (a few KiB at most): a
	// shared secret, a git token, an SSH key.
	MaxCredentialSize = 64 << 10
)

// Load reads every manifest under paths: files, directories (recursively, *.yaml and *.yml in
// lexical order, skipping hidden directories; see Files) and Stdin. It returns the decoded objects
// in the order read, with defaults not yet applied. The error, if any, is a field.ErrorList naming
// each problem.
func Load(paths []string, stdin io.Reader) ([]v1alpha1.Object, error) {
	var (
		objs      []v1alpha1.Object
		errs      field.ErrorList
		readStdin bool
		total     int64
	)
	add := func(origin string, data []byte) {
		if total += int64(len(data)); total > MaxTotalSize {
			errs = append(errs, &field.Error{Origin: origin, Detail: fmt.Sprintf("the manifests read exceed %d MiB in all", MaxTotalSize>>20)})
			return
		}
		o, e := Decode(origin, data)
		objs, errs = append(objs, o...), append(errs, e...)
	}
	for _, p := range paths {
		if total > MaxTotalSize {
			break
		}
		if p == Stdin {
			if readStdin {
				errs = append(errs, &field.Error{Origin: StdinName, Detail: "standard input given more than once"})
				continue
			}
			readStdin = true
			data, err := readLimited(stdin, MaxFileSize)
			if err != nil {
				errs = append(errs, &field.Error{Origin: StdinName, Detail: err.Error()})
				continue
			}
			add(StdinName, data)
			continue
		}
		files, err := Files(p)
		if err != nil {
			errs = append(errs, &field.Error{Origin: p, Detail: err.Error()})
			continue
		}
		for _, f := range files {
			data, err := ReadFile(f)
			if err != nil {
				errs = append(errs, &field.Error{Origin: f, Detail: err.Error()})
				continue
			}
			add(f, data)
		}
	}
	return objs, errs.ToError()
}

// ReadFile reads a manifest file: a regular file (not a FIFO, a device or a directory) of at most
// MaxFileSize bytes.
func ReadFile(path string) ([]byte, error) {
	return readRegular(path, MaxFileSize)
}

// ReadRegularFile reads a file swarmgate is given: a regular file of at most max bytes. Its
// errors name the file.
func ReadRegularFile(path string, max int64) ([]byte, error) {
	data, err := readRegular(path, max)
	var opened *fs.PathError
	if err != nil && !errors.As(err, &opened) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, err
}

// readRegular reads a regular file of at most max bytes. It is opened without blocking and
// checked before any read, so a FIFO or a device (/dev/zero) is refused at once instead of
// hanging or growing without end. Errors other than the open's do not name the file.
func readRegular(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file")
	}
	if info.Size() > max {
		return nil, tooLarge(max)
	}
	return readLimited(f, max)
}

// tooLarge says a file is over its cap, in MiB when the cap is.
func tooLarge(max int64) error {
	if max >= 1<<20 {
		return fmt.Errorf("is larger than %d MiB", max>>20)
	}
	return fmt.Errorf("is larger than %d bytes", max)
}

// readLimited reads at most max bytes, and fails rather than truncate.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, tooLarge(max)
	}
	return data, nil
}

// Files lists the manifest files a path names: the file itself, or the YAML files below a
// directory in lexical order, skipping hidden directories. Within a directory, a symbolic link is
// followed only to a regular file inside that directory: a link in a git repository must not read
// the operator's own files.
func Files(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	root, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
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
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return err
			}
			if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return fmt.Errorf("%s: a symbolic link to outside %s", p, path)
			}
		}
		files = append(files, p)
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
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark says nothing
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return nil, field.ErrorList{{Origin: file, Detail: "is not UTF-8 text (UTF-16, or binary?); manifests are UTF-8 YAML"}}
	}
	docs := splitDocuments(data)
	decoded := decodeDocuments(docs)
	for i, doc := range docs {
		origin := v1alpha1.Origin{File: file, Doc: i + 1, Line: doc.line, Lines: fieldLines(doc.data, doc.line)}
		obj, e, usable := decoded[i].obj, decoded[i].errs, decoded[i].usable
		if obj != nil {
			obj.GetObjectMeta().Origin = origin
		}
		if len(e) > 0 {
			name := ""
			if obj != nil {
				name = v1alpha1.Ref(obj)
			}
			errs = append(errs, e.WithObject(origin.At, name)...)
		}
		if usable {
			objs = append(objs, obj)
		}
	}
	return objs, errs
}

// decodedDocument is what decodeDocument returned for one document.
type decodedDocument struct {
	obj    v1alpha1.Object
	errs   field.ErrorList
	usable bool
}

// decodeDocuments decodes the documents on every core: each is independent of the others, and
// parsing a thousand of them is most of the time a no-op apply takes.
func decodeDocuments(docs []document) []decodedDocument {
	out := make([]decodedDocument, len(docs))
	var (
		next atomic.Int64 // the next document to decode
		wg   sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), len(docs)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(docs); i = int(next.Add(1) - 1) {
				d := &out[i]
				d.obj, d.errs, d.usable = decodeDocument(docs[i].data, docs[i].line)
			}
		})
	}
	wg.Wait()
	return out
}

type document struct {
	line int // 1-based line of the document's first line within its file
	data []byte
}

// splitDocuments splits a YAML stream at document markers: a "---" line starts a document (text
// after "--- " on the same line belongs to it), a "..." line ends one. Blank lines and comments
// before a leading separator are no document. Nothing of the input is dropped: every byte that is
// not a marker is in a document, which decodes or is an error.
func splitDocuments(data []byte) []document {
	var (
		docs   []document
		start  int // offset of the current document
		first  = 1 // its first line
		offset int
		line   int
	)
	ended := false // the last marker was "...": what follows up to the next one is no document if empty
	for l := range bytes.Lines(data) {
		line++
		if marker, content := documentMarker(l); marker {
			if chunk := data[start:offset]; (len(docs) > 0 && !ended) || !onlyComments(chunk) {
				docs = append(docs, document{line: first, data: chunk})
			}
			ended = bytes.HasPrefix(l, []byte("..."))
			start, first = offset+len(l)-len(content), line+1
			if len(bytes.TrimSpace(content)) > 0 {
				first = line
			}
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

// documentMarker reports whether a line is "---" or "..." (alone, or followed by white space or a
// comment), and returns what follows a "--- " that is not a comment: the start of the document.
func documentMarker(line []byte) (bool, []byte) {
	trimmed := bytes.TrimRight(line, " \t\r\n")
	for _, m := range []string{"---", "..."} {
		if !bytes.HasPrefix(trimmed, []byte(m)) {
			continue
		}
		rest := trimmed[3:]
		switch {
		case len(rest) == 0:
			return true, nil
		case rest[0] != ' ' && rest[0] != '\t':
			return false, nil
		}
		content := bytes.TrimLeft(rest, " \t")
		if content[0] == '#' || m == "..." {
			return true, nil
		}
		return true, line[len(line)-len(bytes.TrimLeft(line[3:], " \t")):]
	}
	return false, nil
}

// decodeDocument decodes one YAML document. It returns a nil object and no error for an empty
// document. usable says whether the object decoded faithfully enough to be validated: true when
// nothing is wrong or only unknown fields are, so that its other mistakes are reported in the same
// run. On other errors the object, when there is one, is empty but for kind and name, so the error
// can name it.
// decodeDocument decodes one document whose first line is the file's line first: every line an
// error names is a line of the file.
func decodeDocument(data []byte, first int) (obj v1alpha1.Object, errs field.ErrorList, usable bool) {
	obj, errs, usable = decodeStrict(data)
	for _, e := range errs {
		e.Detail = yamlLine.ReplaceAllStringFunc(e.Detail, func(m string) string {
			n, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
			return "line " + strconv.Itoa(n+first-1)
		})
	}
	if numbers := yaml11Numbers(data, first); len(numbers) > 0 {
		return obj, append(errs, numbers...), false
	}
	return obj, errs, usable
}

func decodeStrict(data []byte) (obj v1alpha1.Object, errs field.ErrorList, usable bool) {
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
			errs = append(errs, field.Required(field.NewPath("kind"), "one of "+kindNames()))
		} else {
			e := field.NotSupported(field.NewPath("kind"), v1alpha1.Kinds...)
			known := make([]string, len(v1alpha1.Kinds))
			for i, k := range v1alpha1.Kinds {
				known[i] = string(k)
			}
			if s, ok := m["kind"].(string); ok {
				if best := field.Nearest(s, known); best != "" {
					e.Detail += fmt.Sprintf(" (did you mean %q?)", best)
				}
			}
			errs = append(errs, e)
		}
		return nil, errs
	}
	obj.GetTypeMeta().Kind = v1alpha1.Kind(kind)
	return obj, errs
}

// kindNames lists the kinds as errors name them: "Zone, ReferenceGrant, Gateway...".
func kindNames() string {
	names := make([]string, len(v1alpha1.Kinds))
	for i, k := range v1alpha1.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// octalLooking is a plain number with a leading zero: YAML 1.1, which the decoder follows, reads
// "0443" as octal 291, which nobody who wrote it meant.
var octalLooking = regexp.MustCompile(`^[-+]?0[0-9_]+$`)

// mayHaveOctal reports whether a plain scalar in data may start with a leading zero: a zero,
// signed or not, followed by a digit or "_", at the start of the text or after a space or YAML
// punctuation. A document without one has no octal-looking number and is not parsed again for
// them (most documents: a no-op apply of a thousand objects spent a fifth of its time on that
// parse). A byte scan: a regular expression cost a quarter of the parse it saves.
func mayHaveOctal(data []byte) bool {
	starts := func(i int) bool { return i < 0 || strings.IndexByte(" \t\n\f\r[]{},:?-", data[i]) >= 0 }
	for i := 0; i+1 < len(data); i++ {
		if data[i] != '0' || (data[i+1] < '0' || data[i+1] > '9') && data[i+1] != '_' {
			continue
		}
		if starts(i-1) || data[i-1] == '+' && starts(i-2) {
			return true
		}
	}
	return false
}

// yamlLine is how the YAML parser names a line in its errors: counted from the document's start.
var yamlLine = regexp.MustCompile(`line [0-9]+`)

// fieldLines returns what reads the line in the file of every field of a document (which starts
// at line first), by path, for errors to name. Only errors need it: the document is parsed for it
// once, when first asked, never on the way of a valid manifest.
func fieldLines(data []byte, first int) func() map[string]int {
	return sync.OnceValue(func() map[string]int {
		var root yamlv3.Node
		if yamlv3.Unmarshal(data, &root) != nil {
			return nil
		}
		lines := map[string]int{}
		var walk func(n *yamlv3.Node, p *field.Path)
		walk = func(n *yamlv3.Node, p *field.Path) {
			switch n.Kind {
			case yamlv3.DocumentNode:
				for _, c := range n.Content {
					walk(c, p)
				}
			case yamlv3.MappingNode:
				for i := 0; i+1 < len(n.Content); i += 2 {
					c := p.Child(n.Content[i].Value)
					lines[c.String()] = n.Content[i].Line + first - 1
					walk(n.Content[i+1], c)
				}
			case yamlv3.SequenceNode:
				for i, c := range n.Content {
					lines[p.Index(i).String()] = c.Line + first - 1
					walk(c, p.Index(i))
				}
			}
		}
		walk(&root, nil)
		return lines
	})
}

// yaml11Numbers reports every unquoted number with a leading zero, with its field path and its
// line in the file (the document starts at line first).
func yaml11Numbers(data []byte, first int) field.ErrorList {
	var root yamlv3.Node
	if !mayHaveOctal(data) || yamlv3.Unmarshal(data, &root) != nil {
		return nil // the decoder reports the syntax error
	}
	var errs field.ErrorList
	var walk func(n *yamlv3.Node, p *field.Path)
	walk = func(n *yamlv3.Node, p *field.Path) {
		switch n.Kind {
		case yamlv3.DocumentNode:
			for _, c := range n.Content {
				walk(c, p)
			}
		case yamlv3.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], p.Child(n.Content[i].Value))
			}
		case yamlv3.SequenceNode:
			for i, c := range n.Content {
				walk(c, p.Index(i))
			}
		case yamlv3.ScalarNode:
			if n.Style == 0 && octalLooking.MatchString(n.Value) {
				errs = append(errs, field.Errorf(p, "a number with a leading zero is read as octal (line %d); write it without the zero, or quote it if it is text", n.Line+first-1))
			}
		}
	}
	walk(&root, nil)
	return errs
}
