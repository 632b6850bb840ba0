package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
)

func networkListOptions(f filters.Args) network.ListOptions { return network.ListOptions{Filters: f} }

// echo is what the echo backend answers.
type echo struct {
	Service string `json:"service"`
	Task    string `json:"task"`
	Path    string `json:"path"`
	Host    string `json:"host"`
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// get sends a request for host through the gateway on port.
func get(port int, host, path string) (int, echo, error) {
	req, err := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	if err != nil {
		return 0, echo{}, err
	}
	req.Host = host
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, echo{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echo
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &e); err != nil {
			return resp.StatusCode, e, fmt.Errorf("not an echo answer: %s", body)
		}
	}
	return resp.StatusCode, e, nil
}

func networkInspectOptions() network.InspectOptions { return network.InspectOptions{} }

func filtersFor(serviceID string) filters.Args {
	return filters.NewArgs(filters.Arg("service", serviceID))
}
