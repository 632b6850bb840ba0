// Package field describes the place of a value within an object (a field path such as
// "spec.rules[0].matches[1].path.value") and the errors found there, so that every problem with a
// manifest can name its file, its object and its field.
package field

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Path is the path from an object's root to one of its fields. The zero of *Path (nil) is the root.
type Path struct {
	parent *Path
	// elem is ".name", "[3]" or "[key]".
	elem string
}

// NewPath returns the path of a top-level field and, optionally, fields below it.
func NewPath(name string, more ...string) *Path {
	return (*Path)(nil).Child(name, more...)
}

// Child returns the path of a field below p.
func (p *Path) Child(name string, more ...string) *Path {
	c := &Path{parent: p, elem: "." + name}
	for _, m := range more {
		c = &Path{parent: c, elem: "." + m}
	}
	return c
}

// Index returns the path of the i-th element of the list at p.
func (p *Path) Index(i int) *Path {
	return &Path{parent: p, elem: "[" + strconv.Itoa(i) + "]"}
}

// Key returns the path of the map entry with key k at p.
func (p *Path) Key(k string) *Path {
	return &Path{parent: p, elem: "[" + k + "]"}
}

// String formats the path as "spec.rules[0].matches".
func (p *Path) String() string {
	if p == nil {
		return ""
	}
	var elems []string
	for q := p; q != nil; q = q.parent {
		elems = append(elems, q.elem)
	}
	var b strings.Builder
	for i := len(elems) - 1; i >= 0; i-- {
		b.WriteString(elems[i])
	}
	return strings.TrimPrefix(b.String(), ".")
}

// Error is one problem with one field of one object.
type Error struct {
	// Origin is where the object was read from, e.g. "manifests/app.yaml doc 2".
	Origin string
	// Object names the object, e.g. "Route dmzhttp"; empty when it could not be told.
	Object string
	// Field is the field path, e.g. "spec.hostnames[0]"; empty for the object as a whole.
	Field string
	// Detail says what is wrong.
	Detail string
}

// Error formats the error as
// `manifests/app.yaml doc 2: Route dmzhttp: spec.hostnames[0]: "Bad_Host" is not a valid hostname`.
func (e *Error) Error() string {
	parts := make([]string, 0, 4)
	for _, s := range []string{e.Origin, e.Object, e.Field, e.Detail} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// ErrorList is every problem found, in the order they were found.
type ErrorList []*Error

// Error joins the errors, one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// ToError returns nil for an empty list and the list otherwise, so callers can return it as an error
// without the typed-nil trap.
func (l ErrorList) ToError() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// WithObject sets the origin and object of every error that has none yet: origin says where a
// field (its path, "" for the object) was read.
func (l ErrorList) WithObject(origin func(field string) string, object string) ErrorList {
	for _, e := range l {
		if e.Origin == "" {
			e.Origin = origin(e.Field)
		}
		if e.Object == "" {
			e.Object = object
		}
	}
	return l
}

// Sort orders the errors by their text, so reports are stable whatever order checks ran in.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Error() < l[j].Error() })
}

// Invalid reports a value that breaks a rule: `is not a valid hostname`. The value itself is never
// part of the message: it may be a password or a token, and messages reach logs, alerts and the
// operator's status page.
func Invalid(p *Path, detail string) *Error {
	return &Error{Field: p.String(), Detail: detail}
}

// Required reports a missing value.
func Required(p *Path, detail string) *Error {
	d := "is required"
	if detail != "" {
		d += ": " + detail
	}
	return &Error{Field: p.String(), Detail: d}
}

// NotSupported reports a value outside a fixed set, and the set.
func NotSupported[T ~string](p *Path, supported ...T) *Error {
	q := make([]string, len(supported))
	for i, s := range supported {
		q[i] = strconv.Quote(string(s))
	}
	return &Error{Field: p.String(), Detail: "is not supported; supported: " + strings.Join(q, ", ")}
}

// Duplicate reports a value that must be unique but is not (without the value, like Invalid).
func Duplicate(p *Path, detail string) *Error {
	d := "is duplicated"
	if detail != "" {
		d += ": " + detail
	}
	return &Error{Field: p.String(), Detail: d}
}

// Forbidden reports a field that may not be set here.
func Forbidden(p *Path, detail string) *Error {
	return &Error{Field: p.String(), Detail: "is forbidden: " + detail}
}

// Errorf reports anything else.
func Errorf(p *Path, format string, args ...any) *Error {
	return &Error{Field: p.String(), Detail: fmt.Sprintf(format, args...)}
}

// Nearest returns the name of known that is a near miss of name (the same but for case, or a few
// letters apart), or "".
func Nearest(name string, known []string) string {
	best, bestDistance := "", 0
	for _, k := range slices.Sorted(slices.Values(known)) {
		d := editDistance(strings.ToLower(k), strings.ToLower(name))
		if best == "" || d < bestDistance {
			best, bestDistance = k, d
		}
	}
	if best != "" && bestDistance <= max(1, len(best)/4) {
		return best
	}
	return ""
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
