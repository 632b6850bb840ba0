package main

import (
	"strings"
	"testing"

	clicontext "github.com/docker/cli/cli/context"
)

// A context's TLS settings make the client's TLS configuration as the docker CLI makes it.
func TestEndpointTLSConfig(t *testing.T) {
	tests := []struct {
		name    string
		ep      clicontext.EndpointMetaBase
		data    *clicontext.TLSData
		want    string // "none", "verify", "skip", or the error
		wantErr bool
	}{
		{"no TLS", clicontext.EndpointMetaBase{Host: "tcp://engine:2375"}, nil, "none", false},
		{"skip verification", clicontext.EndpointMetaBase{Host: "tcp://engine:2376", SkipTLSVerify: true}, nil, "skip", false},
		{"CA", clicontext.EndpointMetaBase{Host: "tcp://engine:2376"}, &clicontext.TLSData{}, "verify", false},
		{"CA not PEM", clicontext.EndpointMetaBase{Host: "tcp://engine:2376"}, &clicontext.TLSData{CA: []byte("not a certificate")}, "holds no PEM certificate", true},
		{"client certificate not PEM", clicontext.EndpointMetaBase{Host: "tcp://engine:2376"}, &clicontext.TLSData{Cert: []byte("x"), Key: []byte("y")}, "its TLS client certificate", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := endpointTLSConfig(tt.ep, tt.data)
			switch {
			case tt.wantErr:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want %q", err, tt.want)
				}
			case err != nil:
				t.Fatal(err)
			case tt.want == "none":
				if c != nil {
					t.Errorf("a TLS configuration for a context without TLS")
				}
			case c == nil || c.InsecureSkipVerify != (tt.want == "skip"):
				t.Errorf("got %+v, want %s", c, tt.want)
			}
		})
	}
}
