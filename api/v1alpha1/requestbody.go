package v1alpha1

import "errors"

// DefaultMaxRequestBodySize is the largest request body a gateway accepts when neither its Gateway
// nor its Route says: room for the photos, videos and archives web apps take, where nginx's own
// default (1 MiB) refuses most uploads.
const DefaultMaxRequestBodySize = "100Mi"

// RequestBody says how the gateway takes request bodies (uploads). Set on a Gateway, it applies to
// every Route attached to it; set on a Route, each of its fields that is set replaces the
// Gateway's for that Route's requests.
type RequestBody struct {
	// MaxSize is the largest request body accepted, a byte size in binary units ("100Mi", "1g",
	// "512k", "1048576"); a larger body is answered 413 (Payload Too Large). "0" accepts bodies of
	// any size. Defaults to DefaultMaxRequestBodySize, "100Mi".
	MaxSize *string `json:"maxSize,omitempty"`
	// Buffering, on by default, has the gateway read a whole body (to a temporary file beyond
	// 16 KiB) before it passes the request on, so that a slow client holds no backend connection.
	// false streams the body to the backend as it arrives (nginx's proxy_request_buffering off):
	// a large upload then starts reaching the backend at once and takes no disk on the gateway.
	Buffering *bool `json:"buffering,omitempty"`
}

// ParseBodySize reads a request body size: "0" for no limit, else a byte size as ParseMemory reads
// it.
func ParseBodySize(s string) (int64, error) {
	if s == "0" {
		return 0, nil
	}
	n, err := ParseMemory(s)
	if err != nil {
		return 0, errors.New(`is not "0" or a byte size (e.g. "100Mi", "1g")`)
	}
	return n, nil
}
