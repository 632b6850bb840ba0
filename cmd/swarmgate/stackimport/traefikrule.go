package stackimport

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// A Traefik router rule (v2 and v3 syntax) is read into the requests it matches: an OR of ANDs
// (disjunctive normal form) of matchers, each a function of the request with one argument. What
// has no faithful Route match (negation, regular expressions, client addresses) is an error:
// import never turns a rule into a wider one.

// matcher is one condition of a rule: Host, Path, PathPrefix, Method, Header or Query.
type matcher struct {
	kind  string
	name  string // of a header or query parameter
	value string
}

// conjunction is matchers that must all hold.
type conjunction []matcher

// maxConjunctions bounds the expansion of a rule into its alternatives: a real rule has a few,
// and ANDs of ORs multiply.
const maxConjunctions = 64

// maxNesting bounds parentheses within parentheses: a real rule nests a few, and each level is a
// recursion (a label of 8 MiB of "(" overflowed the stack at 1 GB).
const maxNesting = 32

// parseTraefikRule reads a rule into the alternatives it matches.
func parseTraefikRule(rule string) ([]conjunction, error) {
	p := &ruleParser{in: rule}
	p.skipSpace()
	alts, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.in) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.in[p.pos:p.pos+1], p.pos)
	}
	return alts, nil
}

type ruleParser struct {
	in  string
	pos int
	// depth is how many parentheses enclose pos.
	depth int
}

func (p *ruleParser) skipSpace() {
	for p.pos < len(p.in) && unicode.IsSpace(rune(p.in[p.pos])) {
		p.pos++
	}
}

// consume takes tok if it comes next.
func (p *ruleParser) consume(tok string) bool {
	if strings.HasPrefix(p.in[p.pos:], tok) {
		p.pos += len(tok)
		p.skipSpace()
		return true
	}
	return false
}

func (p *ruleParser) or() ([]conjunction, error) {
	alts, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.consume("||") {
		more, err := p.and()
		if err != nil {
			return nil, err
		}
		if alts = append(alts, more...); len(alts) > maxConjunctions {
			return nil, fmt.Errorf("the rule has over %d alternatives", maxConjunctions)
		}
	}
	return alts, nil
}

func (p *ruleParser) and() ([]conjunction, error) {
	alts, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.consume("&&") {
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		if len(alts)*len(right) > maxConjunctions {
			return nil, fmt.Errorf("the rule has over %d alternatives", maxConjunctions)
		}
		var product []conjunction
		for _, l := range alts {
			for _, r := range right {
				product = append(product, append(append(conjunction{}, l...), r...))
			}
		}
		alts = product
	}
	return alts, nil
}

func (p *ruleParser) unary() ([]conjunction, error) {
	switch {
	case p.consume("!"):
		return nil, errors.New("negation (!) matches everything but a condition; a Route matches only what it names")
	case p.consume("("):
		if p.depth++; p.depth > maxNesting {
			return nil, fmt.Errorf("parentheses nested over %d deep at offset %d", maxNesting, p.pos)
		}
		alts, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.consume(")") {
			return nil, fmt.Errorf("missing ) at offset %d", p.pos)
		}
		p.depth--
		return alts, nil
	}
	return p.call()
}

// call reads a matcher; its arguments are alternatives (Host(`a`, `b`) in v2), except for the
// name and value of Headers and Query.
func (p *ruleParser) call() ([]conjunction, error) {
	start := p.pos
	for p.pos < len(p.in) && (unicode.IsLetter(rune(p.in[p.pos])) || unicode.IsDigit(rune(p.in[p.pos]))) {
		p.pos++
	}
	name := p.in[start:p.pos]
	p.skipSpace()
	if name == "" || !p.consume("(") {
		return nil, fmt.Errorf("expected a matcher such as Host(`...`) at offset %d", start)
	}
	var args []string
	for !p.consume(")") {
		if len(args) > 0 && !p.consume(",") {
			return nil, fmt.Errorf("expected , or ) at offset %d", p.pos)
		}
		arg, err := p.quoted()
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("%s() has no argument", name)
	}
	one := func(kind string) []conjunction {
		var alts []conjunction
		for _, a := range args {
			alts = append(alts, conjunction{{kind: kind, value: a}})
		}
		return alts
	}
	switch name {
	case "Host", "HostHeader":
		return one("Host"), nil
	case "Path", "PathPrefix", "Method":
		return one(name), nil
	case "Headers", "Header":
		if len(args) != 2 {
			return nil, fmt.Errorf("%s takes a name and a value", name)
		}
		return []conjunction{{{kind: "Header", name: args[0], value: args[1]}}}, nil
	case "Query":
		var alts []conjunction
		switch {
		case len(args) == 2: // v3: Query(`name`, `value`)
			alts = append(alts, conjunction{{kind: "Query", name: args[0], value: args[1]}})
		default: // v2: Query(`name=value`, ...), each an alternative
			for _, a := range args {
				k, v, ok := strings.Cut(a, "=")
				if !ok {
					return nil, errors.New("a Query with a name only matches any value; a Route matches a query parameter's exact value")
				}
				alts = append(alts, conjunction{{kind: "Query", name: k, value: v}})
			}
		}
		return alts, nil
	}
	return nil, fmt.Errorf("%s has no Route match that means the same (Host, Path, PathPrefix, Method, Header and Query do)", name)
}

// quoted reads a `backquoted` or "double-quoted" argument.
func (p *ruleParser) quoted() (string, error) {
	if p.pos >= len(p.in) || (p.in[p.pos] != '`' && p.in[p.pos] != '"') {
		return "", fmt.Errorf("expected a quoted argument at offset %d", p.pos)
	}
	q := p.in[p.pos]
	end := strings.IndexByte(p.in[p.pos+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated argument at offset %d", p.pos)
	}
	arg := p.in[p.pos+1 : p.pos+1+end]
	p.pos += end + 2
	p.skipSpace()
	return arg, nil
}
