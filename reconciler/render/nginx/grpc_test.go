package nginx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/swarmgate/swarmgate/api/manifest"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/api/v1alpha1/validation"
)

// grpcRoutesIn decodes and defaults the GRPCRoutes of manifests, for Options.GRPCRoutes.
func grpcRoutesIn(data []byte) []*v1alpha1.GRPCRoute {
	objs, _ := manifest.Decode("grpcroutes.yaml", data)
	for _, o := range objs {
		o.Default()
	}
	_, grpc := RoutesOf(objs)
	return grpc
}

// grpcEchoes starts one gRPC server per service on loopback, over HTTP/2 without TLS. Each
// answers any method, naming itself, the method and the metadata it got in its response headers.
func grpcEchoes(t *testing.T, services ...string) map[string]int32 {
	ports := map[string]int32{}
	for _, svc := range services {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			if err := stream.RecvMsg(new(healthpb.HealthCheckRequest)); err != nil {
				return err
			}
			method, _ := grpc.MethodFromServerStream(stream)
			md, _ := metadata.FromIncomingContext(stream.Context())
			out := metadata.Pairs("echo-service", svc, "echo-method", method)
			for _, k := range []string{"x-added", "env"} {
				for _, v := range md.Get(k) {
					out.Append("echo-"+k, v)
				}
			}
			if err := stream.SetHeader(out); err != nil {
				return err
			}
			return stream.SendMsg(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING})
		}))
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(srv.Stop)
		ports[svc] = int32(l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// grpcCall calls method (/service/method) through the gateway at addr for host, and returns the
// call's status code and response headers.
func grpcCall(t *testing.T, addr, host, method string, creds credentials.TransportCredentials, md ...string) (codes.Code, metadata.MD) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds), grpc.WithAuthority(host))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, md...)
	var header metadata.MD
	err = conn.Invoke(ctx, method, &healthpb.HealthCheckRequest{}, new(healthpb.HealthCheckResponse), grpc.Header(&header))
	return status.Code(err), header
}

// TestServeGRPC serves a GRPCRoute through the real nginx on an HTTP listener (h2c) and an HTTPS
// one: calls go by service and method (exact and regular expression) and header, get the
// request header filter, are mirrored, and fail UNAVAILABLE without a backend (or all of weight 0) and
// UNIMPLEMENTED without a matching rule, as the Gateway API's conformance cases expect.
func TestServeGRPC(t *testing.T) {
	h2c, tlsPort := freePort(t), freePort(t)
	input := []byte(fmt.Sprintf(`apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  listeners:
    - {name: h2c, port: %d}
    - {name: tls, port: %d, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
---
apiVersion: swarmgate.io/v1alpha1
kind: GRPCRoute
metadata: {name: echo}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
    - matches: [{method: {service: echo.Echo, method: One}}]
      backendRefs: [{name: a, port: 1}]
    - matches: [{method: {service: echo.Echo}}]
      filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-added, value: "v$1"}]}}]
      backendRefs: [{name: b, port: 1}]
    - matches: [{method: {type: RegularExpression, service: 'echo\.Other.*', method: 'Re[a-z]+'}}]
      backendRefs: [{name: a, port: 1}]
    - matches: [{method: {method: Hdr}, headers: [{type: RegularExpression, name: env, value: 'prod|staging'}]}]
      backendRefs: [{name: b, port: 1}]
    - matches: [{method: {service: none.None}}]
    - matches: [{method: {service: zero.Zero}}]
      backendRefs: [{name: a, port: 1, weight: 0}, {name: b, port: 1, weight: 0}]
    - matches: [{method: {service: echo.Mirrored}}]
      filters: [{type: RequestMirror, requestMirror: {backendRef: {name: mirror, port: 1}}}]
      backendRefs: [{name: a, port: 1}]
`, h2c, tlsPort))
	gw, routes := loadInput(t, "grpc.yaml", input)
	opts := Options{GRPCRoutes: grpcRoutesIn(input)}
	echoes := grpcEchoes(t, "a", "b")
	// The mirror's copies: the methods called, which it answers as the echoes do.
	mirrored := make(chan string, 16)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mirror := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		if err := stream.RecvMsg(new(healthpb.HealthCheckRequest)); err != nil {
			return err
		}
		method, _ := grpc.MethodFromServerStream(stream)
		mirrored <- method
		return stream.SendMsg(&healthpb.HealthCheckResponse{})
	}))
	go func() { _ = mirror.Serve(l) }()
	t.Cleanup(mirror.Stop)
	echoes["mirror"] = int32(l.Addr().(*net.TCPAddr).Port)
	opts.Backend = func(service string, _ int32) (string, int32) { return "127.0.0.1", echoes[service] }
	conf, err := Render(gw, routes, opts)
	if err != nil {
		t.Fatal(err)
	}
	nginxTest(t, conf)
	startNginx(t, conf, h2c, tlsPort)

	type want struct {
		code    codes.Code
		service string
		added   string
	}
	cases := []struct {
		method string
		md     []string
		want   want
	}{
		{"/echo.Echo/One", nil, want{codes.OK, "a", ""}},
		{"/echo.Echo/Two", nil, want{codes.OK, "b", "v$1"}},
		{"/echo.OtherX/Read", nil, want{codes.OK, "a", ""}},
		{"/echo.OtherX/Re", nil, want{codes.Unimplemented, "", ""}},
		{"/any.Svc/Hdr", []string{"env", "staging"}, want{codes.OK, "b", ""}},
		{"/any.Svc/Hdr", []string{"env", "dev"}, want{codes.Unimplemented, "", ""}},
		{"/none.None/X", nil, want{codes.Unavailable, "", ""}},
		{"/zero.Zero/X", nil, want{codes.Unavailable, "", ""}},
		{"/echo.Mirrored/Copy", nil, want{codes.OK, "a", ""}},
		{"/zzz.Z/Q", nil, want{codes.Unimplemented, "", ""}},
	}
	transports := []struct {
		name  v1alpha1.SectionName
		addr  string
		creds credentials.TransportCredentials
	}{
		{"h2c", fmt.Sprintf("127.0.0.1:%d", h2c), insecure.NewCredentials()},
		{"tls", fmt.Sprintf("127.0.0.1:%d", tlsPort), credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})},
	}
	for _, tr := range transports {
		for _, c := range cases {
			code, header := grpcCall(t, tr.addr, "grpc.example.com", c.method, tr.creds, c.md...)
			got := want{code: code}
			if v := header.Get("echo-service"); len(v) > 0 {
				got.service = v[0]
			}
			if v := header.Get("echo-x-added"); len(v) > 0 {
				got.added = v[0]
			}
			if got != c.want {
				t.Errorf("%s %s %v: got %+v, want %+v", tr.name, c.method, c.md, got, c.want)
			}
			if c.want.code == codes.OK && fmt.Sprint(header.Get("echo-method")) != "["+c.method+"]" {
				t.Errorf("%s %s: the backend got %v", tr.name, c.method, header.Get("echo-method"))
			}
			grpcExplained(t, gw, routes, opts, tr.name, c.method, c.md, code, got.service)
		}
		select {
		case m := <-mirrored:
			if m != "/echo.Mirrored/Copy" {
				t.Errorf("%s: the mirror got %s", tr.name, m)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the mirror got no copy", tr.name)
		}
	}
}

// grpcExplained checks that Explain says of a gRPC call what the real nginx did with it: the
// service that answered is among the chosen GRPCRoute rule's backends, UNIMPLEMENTED (nginx's 404)
// is no rule serving, UNAVAILABLE a rule without a backend to send to.
func grpcExplained(t *testing.T, gw *v1alpha1.Gateway, routes []*v1alpha1.Route, opts Options, listener v1alpha1.SectionName, method string, md []string, code codes.Code, service string) {
	t.Helper()
	headers := map[string][]string{}
	for i := 0; i+1 < len(md); i += 2 {
		headers[md[i]] = append(headers[md[i]], md[i+1])
	}
	ex, err := Explain(gw, routes, Request{Listener: listener, Host: "grpc.example.com", Target: method, Method: "POST", Headers: headers}, opts)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	c := ex.Chosen
	switch code {
	case codes.OK:
		if c == nil || c.Kind != v1alpha1.KindGRPCRoute || !slices.ContainsFunc(c.Backends, func(b Backend) bool { return b.Service == service }) {
			t.Errorf("%s %s %v: nginx sent it to %s; explain says %+v", listener, method, md, service, ex)
		}
	case codes.Unimplemented:
		if c != nil || !strings.HasPrefix(ex.Answer, "404") {
			t.Errorf("%s %s %v: nginx found no rule; explain says %+v", listener, method, md, ex)
		}
	case codes.Unavailable:
		if c == nil || slices.ContainsFunc(c.Backends, func(b Backend) bool { return b.Weight > 0 && b.Refused == "" }) {
			t.Errorf("%s %s %v: nginx had no backend; explain says %+v", listener, method, md, ex)
		}
	}
}

// hostileGRPC renders a GRPCRoute whose regular expressions (service, method, header) and exact
// header value all hold value, or returns false when validation refuses it.
func hostileGRPC(t *testing.T, value string) (string, bool) {
	t.Helper()
	gw := &v1alpha1.Gateway{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: v1alpha1.KindGateway},
		Metadata: v1alpha1.ObjectMeta{Name: "gw"}, Spec: v1alpha1.GatewaySpec{Listeners: []v1alpha1.Listener{{Name: "h2c", Port: 50051}}}}
	port := v1alpha1.PortNumber(50051)
	g := &v1alpha1.GRPCRoute{TypeMeta: v1alpha1.TypeMeta{APIVersion: v1alpha1.GroupVersion, Kind: v1alpha1.KindGRPCRoute},
		Metadata: v1alpha1.ObjectMeta{Name: "rpc"}, Spec: v1alpha1.GRPCRouteSpec{
			ParentRefs: []v1alpha1.ParentRef{{Name: "gw"}},
			Rules: []v1alpha1.GRPCRouteRule{{
				Matches: []v1alpha1.GRPCRouteMatch{{
					Method: &v1alpha1.GRPCMethodMatch{Type: v1alpha1.GRPCMethodMatchRegularExpression, Service: value, Method: value},
					Headers: []v1alpha1.GRPCHeaderMatch{{Type: v1alpha1.GRPCHeaderMatchRegularExpression, Name: "x-re", Value: value},
						{Name: "x-exact", Value: value}},
				}},
				BackendRefs: []v1alpha1.BackendRef{{Name: "svc", Port: &port}},
			}},
		}}
	gw.Default()
	g.Default()
	if errs := validation.Validate([]v1alpha1.Object{gw, g}); len(errs) > 0 {
		return "", false
	}
	conf, err := Render(gw, []*v1alpha1.Route{g.AsRoute()}, Options{GRPCRoutes: []*v1alpha1.GRPCRoute{g}})
	var ve *ValueError
	if errors.As(err, &ve) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(conf), true
}

// TestGRPCStructureIgnoresValues renders hostile values in a GRPCRoute's regular expressions and
// header values: what validation lets through must leave the config's shape unchanged (a named
// group, which would set an nginx variable, is refused), and the real nginx must accept it.
func TestGRPCStructureIgnoresValues(t *testing.T) {
	ref, ok := hostileGRPC(t, "a")
	if !ok {
		t.Fatal("a benign value is invalid")
	}
	want := structure(t, ref)
	accepted := 0
	for _, v := range append(slices.Clone(nasty), `(?P<sg_upstream>x)`, `(?<sg_route>x)`, `\x{100}`, `a)|(b`, `.*$`, `[^/]+\z`, `(?i)é\pL`) {
		conf, ok := hostileGRPC(t, v)
		if !ok {
			continue
		}
		accepted++
		if got := structure(t, conf); got != want {
			t.Fatalf("value %q changed the config's structure:\n%s", v, conf)
		}
		nginxTest(t, []byte(conf))
	}
	if accepted < 10 {
		t.Errorf("only %d hostile values passed validation; the test proves little", accepted)
	}
}
