package nginx

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

// structure tokenizes an nginx config the way nginx reads it and returns its shape: one line per
// directive or block with its depth, name and number of arguments, argument values (and the quoted
// keys of map blocks) left out, then every variable the arguments expand. Two
// configs with the same shape differ only in values; a manifest value that added a directive, a
// block or an argument would change the shape.
func structure(t testing.TB, conf string) string {
	t.Helper()
	var (
		out   strings.Builder
		words []string
		depth int
		word  strings.Builder
		inTok bool
		vars  []string // variables the arguments expand, but the one standing for a literal "$"
	)
	flush := func() {
		if inTok {
			words = append(words, word.String())
			word.Reset()
			inTok = false
		}
	}
	emit := func(kind string) {
		if len(words) == 0 {
			t.Fatalf("%s without a directive name at depth %d", kind, depth)
		}
		name := words[0]
		if strings.HasPrefix(name, `"`) {
			name = "<quoted>" // a map key: a value, not a directive
		}
		fmt.Fprintf(&out, "%d %s %s/%d\n", depth, kind, name, len(words)-1)
		for _, w := range words[1:] {
			for _, m := range varRef.FindAllStringSubmatch(w, -1) {
				if m[1] != dollarVar {
					vars = append(vars, m[1])
				}
			}
		}
		words = words[:0]
	}
	for i := 0; i < len(conf); i++ {
		c := conf[i]
		switch {
		case c == '"' || c == '\'':
			flush()
			inTok = true
			j := i + 1
			for ; j < len(conf) && conf[j] != c; j++ {
				if conf[j] == '\\' {
					j++
				}
			}
			if j >= len(conf) {
				t.Fatal("unterminated quoted string")
			}
			word.WriteString(conf[i : j+1])
			i = j
		case c == '#' && !inTok:
			for i < len(conf) && conf[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		case c == ';':
			flush()
			emit("directive")
		case c == '{' && !(inTok && strings.HasSuffix(word.String(), "$")):
			flush()
			emit("block")
			depth++
		case c == '}' && !inTok:
			if len(words) > 0 {
				t.Fatalf("words before } at depth %d: %q", depth, words)
			}
			depth--
			fmt.Fprintf(&out, "%d end\n", depth)
		default:
			word.WriteByte(c)
			inTok = true
		}
	}
	flush()
	if depth != 0 || len(words) > 0 {
		t.Fatalf("unbalanced config: depth %d, trailing %q", depth, words)
	}
	slices.Sort(vars)
	return out.String() + "variables: " + strings.Join(vars, " ") + "\n"
}

// varRef finds variable references ($name, ${name}, $1) the way nginx's script engine does.
var varRef = regexp.MustCompile(`\$\{?([A-Za-z0-9_]+)`)

// hostile builds a gateway and route whose free-text fields all hold the given values.
func hostile(headerValue, queryValue, setValue, addValue, respValue, rewritePath, redirectPath string) (*v1alpha1.Gateway, []*v1alpha1.Route) {
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: v1alpha1.KindGateway},
		Metadata: v1alpha1.ObjectMeta{Name: "gw"},
		Spec:     v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{{Name: "http", Port: 8080}}}}
	port := v1alpha1.PortNumber(80)
	rt := &v1alpha1.Route{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: v1alpha1.KindRoute},
		Metadata: v1alpha1.ObjectMeta{Name: "rt"},
		Spec: v1alpha1.RouteSpec{
			ParentRefs: []v1alpha1.ParentRef{{Name: "gw"}},
			Hostnames:  []v1alpha1.Hostname{"app.example.com"},
			Rules: []v1alpha1.RouteRule{
				{
					Matches: []v1alpha1.RouteMatch{{
						Path:        &v1alpha1.PathMatch{Value: "/fz"},
						Headers:     []v1alpha1.HeaderMatch{{Name: "X-Match", Value: headerValue}},
						QueryParams: []v1alpha1.QueryParamMatch{{Name: "q", Value: queryValue}},
					}},
					Filters: []v1alpha1.RouteFilter{
						{Type: v1alpha1.FilterRequestHeaderModifier, RequestHeaderModifier: &v1alpha1.HeaderModifier{
							Set: []v1alpha1.HTTPHeader{{Name: "X-Set", Value: setValue}},
							Add: []v1alpha1.HTTPHeader{{Name: "X-Add", Value: addValue}}}},
						{Type: v1alpha1.FilterResponseHeaderModifier, ResponseHeaderModifier: &v1alpha1.HeaderModifier{
							Set: []v1alpha1.HTTPHeader{{Name: "X-Resp", Value: respValue}}}},
						{Type: v1alpha1.FilterURLRewrite, URLRewrite: &v1alpha1.URLRewrite{
							Path: &v1alpha1.PathModifier{Type: v1alpha1.ReplaceFullPath, ReplaceFullPath: rewritePath}}},
					},
					BackendRefs: []v1alpha1.BackendRef{{Name: "svc", Port: &port}},
				},
				{
					Matches: []v1alpha1.RouteMatch{{Path: &v1alpha1.PathMatch{Value: "/rd"}}},
					Filters: []v1alpha1.RouteFilter{{Type: v1alpha1.FilterRequestRedirect, RequestRedirect: &v1alpha1.RequestRedirect{
						Path: &v1alpha1.PathModifier{Type: v1alpha1.ReplaceFullPath, ReplaceFullPath: redirectPath}}}},
				},
				{
					// The newer fields: filters on weighted backends, CORS, a mirror, a prefix rewrite.
					Matches: []v1alpha1.RouteMatch{{Path: &v1alpha1.PathMatch{Value: "/nw"}}},
					Filters: []v1alpha1.RouteFilter{
						{Type: v1alpha1.FilterCORS, CORS: &v1alpha1.CORSFilter{AllowOrigins: []string{"https://*.example.com"},
							AllowMethods: []string{"GET"}, AllowHeaders: []v1alpha1.HeaderName{"X-Requested-With"}, ExposeHeaders: []v1alpha1.HeaderName{"X-Total"}}},
						{Type: v1alpha1.FilterRequestMirror, RequestMirror: &v1alpha1.RequestMirror{BackendRef: v1alpha1.BackendRef{Name: "audit", Port: &port}}},
						{Type: v1alpha1.FilterURLRewrite, URLRewrite: &v1alpha1.URLRewrite{
							Path: &v1alpha1.PathModifier{Type: v1alpha1.ReplacePrefixMatch, ReplacePrefixMatch: rewritePath}}},
					},
					BackendRefs: []v1alpha1.BackendRef{
						{Name: "one", Port: &port, Filters: []v1alpha1.RouteFilter{{Type: v1alpha1.FilterRequestHeaderModifier,
							RequestHeaderModifier: &v1alpha1.HeaderModifier{Set: []v1alpha1.HTTPHeader{{Name: "X-Backend", Value: setValue}}}}}},
						{Name: "two", Port: &port, Filters: []v1alpha1.RouteFilter{{Type: v1alpha1.FilterRequestHeaderModifier,
							RequestHeaderModifier: &v1alpha1.HeaderModifier{Add: []v1alpha1.HTTPHeader{{Name: "X-Backend", Value: addValue}}}}}},
					},
				},
			},
		}}
	gw.Default()
	rt.Default()
	return gw, []*v1alpha1.Route{rt}
}

// renderHostile renders the hostile route, or returns false when validation refuses its values.
func renderHostile(t testing.TB, values ...string) (string, bool) {
	t.Helper()
	gw, routes := hostile(values[0], values[1], values[2], values[3], values[4], values[5], values[6])
	if errs := validation.Validate([]v1alpha1.Object{gw, routes[0]}); len(errs) > 0 {
		return "", false
	}
	conf, err := Render(gw, routes, Options{})
	var ve *ValueError
	if errors.As(err, &ve) {
		return "", false // refused as validate refuses it: a value nginx cannot take in one token
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(conf), true
}

var benign = []string{"a", "b", "c", "d", "e", "/f", "/g"}

// nasty are values that would break out of a naively written config.
var nasty = []string{
	`x; return 200 pwned;`, `x } server { listen 1; }`, `"`, `\`, `\"; deny all; #`, `$host`, `${request_uri}`,
	`$1`, "a\nb", "a\rb", "a\x00b", `# comment`, `{`, `}`, `'`, "\u2028", "日本語", `%s %d %%`, `\n`, `\\"`,
	`/a$b`, `/x'y`, `/p(1)*+,=:@!&`, "/é", `/%7Bx%7D`, `/a%0Ab`,
}

// TestRenderedStructureIgnoresValues renders every nasty value in every free-text field: what
// validation lets through must leave the config's shape unchanged, and the real nginx must accept it.
func TestRenderedStructureIgnoresValues(t *testing.T) {
	ref, ok := renderHostile(t, benign...)
	if !ok {
		t.Fatal("benign values are invalid")
	}
	want := structure(t, ref)
	accepted := 0
	for field := range benign {
		for _, v := range nasty {
			values := append([]string(nil), benign...)
			values[field] = v
			conf, ok := renderHostile(t, values...)
			if !ok {
				continue
			}
			accepted++
			if got := structure(t, conf); got != want {
				t.Fatalf("value %q in field %d changed the config's structure:\n%s", v, field, conf)
			}
			nginxTest(t, []byte(conf))
		}
	}
	if accepted < 40 {
		t.Errorf("only %d hostile values passed validation; the test proves little", accepted)
	}
}

// FuzzRenderStructure renders random values in every free-text field: whatever validation accepts
// must render to the same structure as benign values, and the real nginx must accept it.
func FuzzRenderStructure(f *testing.F) {
	for _, v := range nasty {
		f.Add(v, v, v, v, v, v, v)
	}
	f.Fuzz(func(t *testing.T, a, b, c, d, e, p1, p2 string) {
		ref, _ := renderHostile(t, benign...)
		conf, ok := renderHostile(t, a, b, c, d, e, p1, p2)
		if !ok {
			return
		}
		if structure(t, conf) != structure(t, ref) {
			t.Fatalf("structure changed:\n%s", conf)
		}
		nginxTest(t, []byte(conf))
	})
}
