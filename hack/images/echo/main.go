// Command echo is the backend of swarmgate's tests: it answers every request with JSON naming its
// service and task and describing the request it received, like the Gateway API conformance echo
// server. The service name comes from SERVICE (set it in the service's env); the task is the
// container hostname.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
)

type reply struct {
	Service string      `json:"service"`
	Task    string      `json:"task"`
	Method  string      `json:"method"`
	Host    string      `json:"host"`
	Path    string      `json:"path"`
	Headers http.Header `json:"headers"`
}

func main() {
	addr := ":8888"
	if v := os.Getenv("ADDR"); v != "" {
		addr = v
	}
	task, _ := os.Hostname()
	service := os.Getenv("SERVICE")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(reply{Service: service, Task: task, Method: r.Method, Host: r.Host, Path: r.RequestURI, Headers: r.Header})
	})
	log.Printf("echo %s (%s) listening on %s", service, task, addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
