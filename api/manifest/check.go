package manifest

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/swarmgate/swarmgate/api/field"
)

// checker compares a decoded JSON value with the Go type it is to be decoded into and records every
// unknown field and every value of the wrong type, with its path. encoding/json stops at the first
// problem and names no path for unknown fields; users deserve all of them, located.
type checker struct {
	errs field.ErrorList
	// mistyped is set when a value has the wrong type: the object cannot be decoded faithfully.
	// Unknown fields alone leave a well-typed object that can still be validated.
	mistyped bool
}

func (c *checker) check(t reflect.Type, v any, p *field.Path) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return // null leaves the zero value, as it does in encoding/json
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			c.typeError(p, v, "a mapping")
			return
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if ft, ok := fields[k]; ok {
				c.check(ft, m[k], p.Child(k))
			} else {
				c.errs = append(c.errs, unknownField(p.Child(k), k, fields))
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			c.typeError(p, v, "a mapping")
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			c.check(t.Elem(), m[k], p.Key(k))
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			c.typeError(p, v, "a list")
			return
		}
		for i, e := range a {
			c.check(t.Elem(), e, p.Index(i))
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.typeError(p, v, "a string (quote it)")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.typeError(p, v, "true or false")
		}
	case reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			c.typeError(p, v, "an integer")
			return
		}
		if i, err := n.Int64(); err != nil || i < math.MinInt32 || i > math.MaxInt32 {
			c.typeError(p, v, "an integer")
		}
	default:
		// The API uses only the kinds above; a new field of another kind must be taught here.
		c.mistyped = true
		c.errs = append(c.errs, field.Errorf(p, "cannot check a value of Go type %s", t))
	}
}

func (c *checker) typeError(p *field.Path, v any, want string) {
	c.mistyped = true
	c.errs = append(c.errs, typeError(p, v, want))
}

func typeError(p *field.Path, v any, want string) *field.Error {
	got := "a string"
	switch v.(type) {
	case map[string]any:
		got = "a mapping"
	case []any:
		got = "a list"
	case json.Number:
		got = "a number"
	case bool:
		got = "a boolean"
	}
	return field.Errorf(p, "must be %s, not %s", want, got)
}

// unknownField reports a field the type does not have and, when one of its fields is a near miss
// (the same but for case, or a few letters apart), suggests it.
func unknownField(p *field.Path, name string, fields map[string]reflect.Type) *field.Error {
	best, bestDistance := "", 0
	for _, known := range slices.Sorted(maps.Keys(fields)) {
		d := editDistance(strings.ToLower(known), strings.ToLower(name))
		if best == "" || d < bestDistance {
			best, bestDistance = known, d
		}
	}
	if best != "" && bestDistance <= max(1, len(best)/4) {
		return field.Errorf(p, "unknown field (did you mean %q?)", best)
	}
	return field.Errorf(p, "unknown field")
}

// editDistance is the Levenshtein distance between two names. Names are short (a field name is
// what is compared; longer input is cut), so this costs little.
func editDistance(a, b string) int {
	const maxLen = 64
	a, b = a[:min(len(a), maxLen)], b[:min(len(b), maxLen)]
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// knownFields holds jsonFields' maps by type.
var knownFields sync.Map

// jsonFields maps the JSON names of a struct's fields to their types, following encoding/json's
// rules for the subset the API uses: tags name fields, "-" hides them, untagged embedded structs
// are inlined. The maps are kept by type, as the checker asks for the same few structs' fields in
// every document; they are only read.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if fields, ok := knownFields.Load(t); ok {
		return fields.(map[string]reflect.Type)
	}
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	knownFields.Store(t, fields)
	return fields
}
