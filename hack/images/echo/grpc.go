package main

import (
	"crypto/tls"
	"log"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// serveGRPC answers any gRPC method on addr, like the conformance echo server's gRPC mode: it
// reads a grpc.health.v1 HealthCheckRequest (any message of that shape) and answers SERVING,
// naming its service, task and the method called in the response headers (echo-service,
// echo-task, echo-method). Over TLS when certFile (a PEM chain followed by its key) is set.
func serveGRPC(addr, service, task, certFile string) {
	var opts []grpc.ServerOption
	if certFile != "" {
		pemData, err := os.ReadFile(certFile)
		if err != nil {
			log.Fatal(err)
		}
		cert, err := tls.X509KeyPair(pemData, pemData)
		if err != nil {
			log.Fatal(err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	}
	opts = append(opts, grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		if err := stream.RecvMsg(new(healthpb.HealthCheckRequest)); err != nil {
			return err
		}
		method, _ := grpc.MethodFromServerStream(stream)
		if err := stream.SetHeader(metadata.Pairs("echo-service", service, "echo-task", task, "echo-method", method)); err != nil {
			return err
		}
		return stream.SendMsg(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING})
	}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("echo %s (%s) serving gRPC on %s", service, task, addr)
	log.Fatal(grpc.NewServer(opts...).Serve(l))
}
