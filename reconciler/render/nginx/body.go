package nginx

import (
	"bytes"
	"strconv"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// bodyPolicy is how a location takes request bodies: the largest it accepts (0: any size) and
// whether it streams them to the backend instead of buffering them.
type bodyPolicy struct {
	maxSize int64
	stream  bool
}

// applied returns p with the fields set in b replacing p's. Validation has checked b's size.
func (p bodyPolicy) applied(b *v1alpha1.RequestBody) bodyPolicy {
	if b == nil {
		return p
	}
	if b.MaxSize != nil {
		p.maxSize, _ = v1alpha1.ParseBodySize(*b.MaxSize)
	}
	if b.Buffering != nil {
		p.stream = !*b.Buffering
	}
	return p
}

// gatewayBody is the policy of gw's requests: its requestBody over the default.
func gatewayBody(gw *v1alpha1.Gateway) bodyPolicy {
	size, _ := v1alpha1.ParseBodySize(v1alpha1.DefaultMaxRequestBodySize)
	return bodyPolicy{maxSize: size}.applied(gw.Spec.RequestBody)
}

// body is the policy of c's requests: its Route's requestBody over the Gateway's.
func (r *renderer) body(c *candidate) bodyPolicy {
	return r.gatewayBody.applied(c.route.Spec.RequestBody)
}

// loosest is the policy a location that dispatches cands checks a request's Content-Length
// against (nginx does so before any rewrite): the largest size any of them accepts; the
// candidates with a smaller one check theirs again in their internal location.
func (r *renderer) loosest(cands []*candidate) int64 {
	size := int64(-1)
	for _, c := range cands {
		switch s := r.body(c).maxSize; {
		case s == 0 || size == 0:
			size = 0
		case s > size:
			size = s
		}
	}
	return size
}

// writeBody writes the directives of p at indent, all of them: the gateway's, in the http block.
func writeBody(b *bytes.Buffer, p bodyPolicy, indent string) {
	b.WriteString(indent + "client_max_body_size " + strconv.FormatInt(p.maxSize, 10) + ";\n")
	if p.stream {
		b.WriteString(indent + "proxy_request_buffering off;\n")
	}
}

// writeBodyOverride writes, for a location, the directives of p that differ from the gateway's.
func (r *renderer) writeBodyOverride(b *bytes.Buffer, p bodyPolicy, indent string) {
	if p.maxSize != r.gatewayBody.maxSize {
		b.WriteString(indent + "client_max_body_size " + strconv.FormatInt(p.maxSize, 10) + ";\n")
	}
	if p.stream != r.gatewayBody.stream {
		b.WriteString(indent + "proxy_request_buffering " + map[bool]string{true: "off", false: "on"}[p.stream] + ";\n")
	}
}
