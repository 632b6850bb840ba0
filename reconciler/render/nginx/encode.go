package nginx

import (
	"strings"
)

// Every string from a manifest reaches the config through these functions, and only through them.
// Together with validation (which refuses control characters and ';' in paths, and restricts names
// that become nginx variables) they make it impossible for a value to end a token, a directive or a
// block, or to expand a variable.

// quote writes s as one double-quoted nginx token. nginx's parser unescapes \" \\ \t \r \n inside
// quotes and nothing else, so escaping those is enough to keep any byte sequence one token.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// dollarVar holds a literal "$". nginx has no escape for "$" in values that expand variables, so a
// literal dollar is written as a reference to this variable, which a geo block defines as "$".
const dollarVar = "sg_dollar"

// literal prepares text from a manifest for a value in which nginx expands variables (headers,
// redirect targets, rewrites): every "$" becomes ${sg_dollar}. The result still needs quote.
func literal(s string) string {
	return strings.ReplaceAll(s, "$", "${"+dollarVar+"}")
}

// variable references an nginx variable inside a value: ${name}. The braces keep it apart from
// literal text that follows.
func variable(name string) string {
	return "${" + name + "}"
}

// regexLiteral escapes s for a PCRE pattern so that it matches exactly s: every ASCII character
// that is not a letter or digit is escaped (PCRE accepts an escape before any of them); other
// bytes stand for themselves.
func regexLiteral(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		isAlnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if c < 0x80 && !isAlnum {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// headerVar is the nginx variable holding a request header: $http_ and the name in lowercase with
// '-' as '_'. Validation admits only letters, digits and '-' in names that reach here.
func headerVar(name string) string {
	return "http_" + strings.ReplaceAll(strings.ToLower(name), "-", "_")
}

// mapKey writes s as the source value of a map entry: one token, led by a backslash, which the
// map module drops, so that no value reads as one of its special parameters ("default",
// "include", "hostnames", "volatile") or as a regular expression ("~").
func mapKey(s string) string {
	return quote(`\` + s)
}
