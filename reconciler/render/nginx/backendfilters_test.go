package nginx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestServeBackendFilters: a backendRef's RequestHeaderModifier applies only to the requests sent
// to that backend, after the rule's (the Gateway API's HTTPRouteBackendRequestHeaderModifier); a
// backend that does not change a header gets the client's value.
func TestServeBackendFilters(t *testing.T) {
	ports := stubBackends(t, "blue", "green", "solo")
	_, port := serveOneRoute(t, "filters.test", `    - matches: [{path: {value: /solo}}]
      backendRefs:
        - name: solo
          port: 80
          filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Backend, value: solo}]}}]
    - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Rule, value: both}]}}]
      backendRefs:
        - name: blue
          port: 80
          filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Backend, value: blue}], add: [{name: X-Trace, value: b}]}}]
        - name: green
          port: 80
          filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Backend, value: green}], remove: [X-Client]}}]
`, Options{Backend: func(svc string, _ int32) (string, int32) { return "127.0.0.1", ports[svc] }})
	get := func(path string) echo {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		req.Host = "filters.test"
		req.Header.Set("X-Client", "c")
		req.Header.Set("X-Trace", "t")
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e echo
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	if e := get("/solo"); e.Service != "solo" || e.Headers.Get("X-Backend") != "solo" || e.Headers.Get("X-Client") != "c" {
		t.Errorf("solo saw %v", e.Headers)
	}
	seen := map[string]int{}
	for range 40 {
		e := get("/")
		seen[e.Service]++
		h := e.Headers
		if h.Get("X-Rule") != "both" || h.Get("X-Backend") != e.Service {
			t.Errorf("%s saw X-Rule %q X-Backend %q", e.Service, h.Get("X-Rule"), h.Get("X-Backend"))
		}
		switch e.Service {
		case "blue":
			if h.Get("X-Trace") != "t,b" || h.Get("X-Client") != "c" {
				t.Errorf("blue saw X-Trace %q X-Client %q", h.Get("X-Trace"), h.Get("X-Client"))
			}
		case "green":
			if h.Get("X-Trace") != "t" || h.Get("X-Client") != "" {
				t.Errorf("green saw X-Trace %q X-Client %q", h.Get("X-Trace"), h.Get("X-Client"))
			}
		}
	}
	if seen["blue"] == 0 || seen["green"] == 0 {
		t.Errorf("requests went %v, want both backends", seen)
	}
}
