package validation

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// The primitive rules. Each returns the errors for one value at one path; an empty value is the
// caller's business (Required), except where noted.

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// gatewayHostname is the Gateway API's Hostname pattern.
	gatewayHostname = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// nodeHostname is what swarm nodes are called: an RFC 1123 hostname, case and '_' tolerated.
	nodeHostname = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?)*$`)
	// serviceName is what an existing swarm service may be called and still be a DNS name.
	serviceName = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	// networkName follows the Docker engine's rule for network names.
	networkName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// imageRef is a Docker image reference: [registry[:port]/]path[:tag][@sha256:digest].
	imageRef = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?` +
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
		`(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`)
	// labelKey is a label key that is safe in a placement constraint.
	labelKey = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$`)
	// constraintValue is a label value that is safe in a placement constraint.
	constraintValue = regexp.MustCompile(`^[A-Za-z0-9._/-]*$`)
	// headerToken is an RFC 7230 token, the grammar of header names.
	headerToken = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
	// matchHeaderName is what nginx can match on: it reads request headers as $http_<name>
	// variables, whose names hold only letters, digits and '_' ('-' maps to '_').
	matchHeaderName = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	// queryParamName is what nginx can match on as an $arg_<name> variable.
	queryParamName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	numericID      = regexp.MustCompile(`^[0-9]{1,10}$`)
	fileMode       = regexp.MustCompile(`^0?[0-7]{3}$`)
	// emailAddress is a plain address, nothing that could break a header or a URL.
	emailAddress = regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
	// apiGroup and apiKind are the Gateway API's Group and Kind patterns.
	apiGroup = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	apiKind  = regexp.MustCompile(`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`)
	// secretName is what a swarm secret may be called.
	secretName = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?$`)
	// tsigKeyName is a TSIG key's name: a DNS name, the final dot optional.
	tsigKeyName = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?)*\.?$`)
	// pathChars is the Gateway API's path character set, less ';' (nginx's directive separator).
	pathChars = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,=:@]|%[0-9A-Fa-f]{2})+$`)
	// encodedControl finds percent-encoded control characters (%00-%1F, %7F).
	encodedControl = regexp.MustCompile(`%([01][0-9A-Fa-f]|7[Ff])`)
	envName        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	ifaceName      = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)
	// vrrpPassword holds only characters that mean nothing to keepalived's config parser (no
	// comments, "$" definitions, "@" or "~" prefixes, quotes or braces).
	vrrpPassword = regexp.MustCompile(`^[A-Za-z0-9._+=/:,%^*-]{1,8}$`)
)

// HTTP methods a match may name.
var httpMethods = []v1alpha1.HTTPMethod{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// HTTPMethods are the methods a match may name, for the JSON Schema.
func HTTPMethods() []v1alpha1.HTTPMethod { return slices.Clone(httpMethods) }

// SchemaPatterns are the patterns the JSON Schema gives values, by what the values are: the
// expressions validation applies, so that an editor and validate agree. They are plain enough
// for ECMA-262 regular expressions, which JSON Schema uses.
func SchemaPatterns() map[string]string {
	return map[string]string{
		"dnsLabel":     dns1123Label.String(),
		"hostname":     gatewayHostname.String(),
		"headerName":   headerToken.String(),
		"sessionName":  matchHeaderName.String(),
		"envName":      envName.String(),
		"networkName":  networkName.String(),
		"interface":    ifaceName.String(),
		"vrrpPassword": vrrpPassword.String(),
		"image":        imageRef.String(),
		"secretName":   secretName.String(),
		// An absolute path of the Gateway API's characters (validation adds what a pattern
		// cannot say: decoded dot segments, encoded separators).
		"path": "^/" + strings.TrimSuffix(strings.TrimPrefix(pathChars.String(), "^"), "+$") + "*$",
		// Printable text: no CR, LF or other control characters (tab allowed).
		"headerValue": `^[^\x00-\x08\x0a-\x1f\x7f]*$`,
		// A request body size: "0" (no limit) or a byte size.
		"bodySize": "^(0|" + strings.TrimSuffix(strings.TrimPrefix(v1alpha1.ByteSizePattern(), "^"), "$") + ")$",
		// A Go duration ("10s", "1m30s", "500ms").
		"duration": `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`,
	}
}

func validateDNSLabel(p *field.Path, v string) field.ErrorList {
	if len(v) > 63 || !dns1123Label.MatchString(v) {
		return field.ErrorList{field.Invalid(p, "is not a valid DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)")}
	}
	return nil
}

// validateHostname applies the Gateway API's hostname rules; wildcard says whether a leading "*."
// label is allowed.
func validateHostname(p *field.Path, h v1alpha1.Hostname, wildcard bool) field.ErrorList {
	s := string(h)
	if _, err := netip.ParseAddr(s); err == nil {
		return field.ErrorList{field.Invalid(p, "is an IP address; a hostname is required")}
	}
	if len(s) > 253 || !gatewayHostname.MatchString(s) || labelTooLong(strings.TrimPrefix(s, "*.")) {
		return field.ErrorList{field.Invalid(p, "is not a valid hostname (lowercase DNS name, optionally starting with \"*.\")")}
	}
	if !wildcard && strings.HasPrefix(s, "*.") {
		return field.ErrorList{field.Invalid(p, "may not be a wildcard here")}
	}
	return nil
}

func labelTooLong(name string) bool {
	for _, l := range strings.Split(name, ".") {
		if len(l) > 63 {
			return true
		}
	}
	return false
}

func validateNodeHostname(p *field.Path, v string) field.ErrorList {
	if len(v) > 253 || !nodeHostname.MatchString(v) || labelTooLong(v) {
		return field.ErrorList{field.Invalid(p, "is not a valid node hostname")}
	}
	return nil
}

func validateImage(p *field.Path, v string) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "an image reference such as nginx:stable")}
	}
	if len(v) > 255 || !imageRef.MatchString(v) {
		return field.ErrorList{field.Invalid(p, "is not a valid image reference")}
	}
	return nil
}

func validatePort(p *field.Path, port v1alpha1.PortNumber) field.ErrorList {
	if port < 1 || port > 65535 {
		return field.ErrorList{field.Invalid(p, "is not a valid port (1 to 65535)")}
	}
	return nil
}

func validateDuration(p *field.Path, d v1alpha1.Duration) field.ErrorList {
	if d == "" {
		return nil
	}
	v, err := time.ParseDuration(string(d))
	if err != nil || v < 0 {
		return field.ErrorList{field.Invalid(p, `is not a valid duration (e.g. "10s", "1m30s")`)}
	}
	return nil
}

// validatePath applies the Gateway API's path rules, and refuses what nginx could misread.
func validatePath(p *field.Path, v string) field.ErrorList {
	switch {
	case !strings.HasPrefix(v, "/"):
		return field.ErrorList{field.Invalid(p, "must be an absolute path starting with '/'")}
	case strings.ContainsFunc(v, isSpaceOrControl):
		return field.ErrorList{field.Invalid(p, "must not contain whitespace or control characters")}
	case strings.ContainsAny(v, `;{}"\`):
		return field.ErrorList{field.Invalid(p, "must not contain any of ; { } \" \\")}
	case strings.Contains(strings.ToLower(v), "%2f") || strings.Contains(strings.ToLower(v), "%5c"):
		return field.ErrorList{field.Invalid(p, "must not contain an encoded slash or backslash")}
	case encodedControl.MatchString(v):
		return field.ErrorList{field.Invalid(p, "must not contain an encoded control character")}
	case strings.Contains(v, "//") || strings.Contains(v, "/./") || strings.Contains(v, "/../") ||
		strings.HasSuffix(v, "/.") || strings.HasSuffix(v, "/.."):
		return field.ErrorList{field.Invalid(p, "must be normalized (no '//', '/./' or '/../' segments)")}
	case !pathChars.MatchString(v):
		return field.ErrorList{field.Invalid(p, "contains characters not allowed in a URL path")}
	case len(v) > 1024:
		return field.ErrorList{field.Invalid(p, "is longer than 1024 characters")}
	}
	// nginx matches the decoded path: the rules hold for it too.
	switch d := v1alpha1.DecodedPath(v); {
	case strings.ContainsAny(d, `;{}"\%`):
		return field.ErrorList{field.Invalid(p, "must not contain, even percent-encoded, any of ; { } \" \\ %")}
	case strings.Contains(d, "//") || strings.Contains(d, "/./") || strings.Contains(d, "/../") ||
		strings.HasSuffix(d, "/.") || strings.HasSuffix(d, "/.."):
		return field.ErrorList{field.Invalid(p, "must be normalized once percent-decoded (no '//', '/./' or '/../' segments)")}
	}
	return nil
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029
}

func validateHeaderName(p *field.Path, h v1alpha1.HeaderName) field.ErrorList {
	if len(h) > 256 || !headerToken.MatchString(string(h)) {
		return field.ErrorList{field.Invalid(p, "is not a valid HTTP header name (an RFC 7230 token)")}
	}
	return nil
}

// validateHeaderValue accepts printable text and tabs: no CR, LF or other control characters.
func validateHeaderValue(p *field.Path, v string) field.ErrorList {
	if strings.ContainsFunc(v, func(r rune) bool { return r != '\t' && isSpaceOrControl(r) && r != ' ' }) {
		return field.ErrorList{field.Invalid(p, "must be printable (no CR, LF or control characters)")}
	}
	if len(v) > 4096 {
		return field.ErrorList{field.Invalid(p, "is longer than 4096 characters")}
	}
	return nil
}

func validateUpdatePolicy(p *field.Path, u *v1alpha1.UpdatePolicy) field.ErrorList {
	if u == nil {
		return nil
	}
	var errs field.ErrorList
	if u.Parallelism != nil && *u.Parallelism < 0 {
		errs = append(errs, field.Invalid(p.Child("parallelism"), "must not be negative"))
	}
	errs = append(errs, validateDuration(p.Child("delay"), u.Delay)...)
	errs = append(errs, validateDuration(p.Child("monitor"), u.Monitor)...)
	errs = append(errs, oneOf(p.Child("order"), u.Order, v1alpha1.UpdateOrderStopFirst, v1alpha1.UpdateOrderStartFirst)...)
	errs = append(errs, oneOf(p.Child("failureAction"), u.FailureAction,
		v1alpha1.FailureActionPause, v1alpha1.FailureActionContinue, v1alpha1.FailureActionRollback)...)
	return errs
}

func validateRestartPolicy(p *field.Path, r *v1alpha1.RestartPolicy) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, oneOf(p.Child("condition"), r.Condition,
		v1alpha1.RestartConditionNone, v1alpha1.RestartConditionOnFailure, v1alpha1.RestartConditionAny)...)
	errs = append(errs, validateDuration(p.Child("delay"), r.Delay)...)
	errs = append(errs, validateDuration(p.Child("window"), r.Window)...)
	if r.MaxAttempts != nil && *r.MaxAttempts < 0 {
		errs = append(errs, field.Invalid(p.Child("maxAttempts"), "must not be negative"))
	}
	return errs
}

func validateResources(p *field.Path, r *v1alpha1.Resources) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	for _, l := range []struct {
		name string
		list *v1alpha1.ResourceList
	}{{"limits", r.Limits}, {"reservations", r.Reservations}} {
		if l.list == nil {
			continue
		}
		if c := l.list.CPUs; c != "" {
			if _, err := v1alpha1.ParseCPUs(c); err != nil {
				errs = append(errs, field.Invalid(p.Child(l.name, "cpus"), err.Error()))
			}
		}
		if m := l.list.Memory; m != "" {
			if _, err := v1alpha1.ParseMemory(m); err != nil {
				errs = append(errs, field.Invalid(p.Child(l.name, "memory"), err.Error()))
			}
		}
	}
	return errs
}

// validateReplicas checks the mode and that replicas is set in Replicated mode only.
func validateReplicas(p *field.Path, mode v1alpha1.ServiceMode, replicas *int32) field.ErrorList {
	errs := oneOf(p.Child("mode"), mode, v1alpha1.ServiceModeReplicated, v1alpha1.ServiceModeGlobal)
	switch {
	case mode == v1alpha1.ServiceModeGlobal && replicas != nil:
		errs = append(errs, field.Forbidden(p.Child("replicas"), "Global mode runs one task per node"))
	case replicas != nil && *replicas < 0:
		errs = append(errs, field.Invalid(p.Child("replicas"), "must not be negative"))
	}
	return errs
}

// validateLabels checks user labels copied onto swarm objects.
func validateLabels(p *field.Path, labels map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		switch {
		case !labelKey.MatchString(k):
			errs = append(errs, field.Invalid(p.Key(k), "is not a valid label key"))
		case strings.HasPrefix(k, v1alpha1.LabelPrefix):
			errs = append(errs, field.Forbidden(p.Key(k), fmt.Sprintf("label keys under %q are reserved for swarmgate", v1alpha1.LabelPrefix)))
		}
		if strings.ContainsFunc(labels[k], func(r rune) bool { return r != ' ' && isSpaceOrControl(r) }) {
			errs = append(errs, field.Invalid(p.Key(k), "must not contain control characters"))
		}
	}
	return errs
}

func oneOf[T ~string](p *field.Path, v T, allowed ...T) field.ErrorList {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(p, allowed...)}
}

// validateRequestBody checks a Gateway's or Route's requestBody.
func validateRequestBody(p *field.Path, b *v1alpha1.RequestBody) field.ErrorList {
	if b == nil || b.MaxSize == nil {
		return nil
	}
	if _, err := v1alpha1.ParseBodySize(*b.MaxSize); err != nil {
		return field.ErrorList{field.Invalid(p.Child("maxSize"), err.Error())}
	}
	return nil
}
