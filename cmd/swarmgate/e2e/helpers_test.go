package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
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

// loadResult is one request of a load loop.
type loadResult struct {
	start time.Time
	node  string // what answered, as the request tells it
	err   error
}

// loadLoop sends requests at a steady rate, each in its own goroutine (bounded by the request's
// own timeout), until stopped, and records each one's start, answer and error.
type loadLoop struct {
	mu      sync.Mutex
	results []loadResult
	stop    chan struct{}
	done    sync.WaitGroup
}

func startLoad(rate int, request func() (answer string, err error)) *loadLoop {
	l := &loadLoop{stop: make(chan struct{})}
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			l.done.Add(1)
			go func() {
				defer l.done.Done()
				start := time.Now()
				node, err := request()
				l.mu.Lock()
				l.results = append(l.results, loadResult{start, node, err})
				l.mu.Unlock()
			}()
		}
	}()
	return l
}

func (l *loadLoop) finish() []loadResult {
	close(l.stop)
	l.done.Wait()
	slices.SortFunc(l.results, func(a, b loadResult) int { return a.start.Compare(b.start) })
	return l.results
}

// gatewayConfigCurrent is the config (with its chains) the operator hands the agents of gateway,
// once every task of it reports serving that one.
func gatewayConfigCurrent(t *testing.T, op *operator, gateway string) (string, error) {
	t.Helper()
	var doc struct {
		GatewayConfigs map[string]struct {
			Desired string `json:"desired"`
			Tasks   []struct {
				Task   string `json:"task"`
				Served string `json:"served"`
			} `json:"tasks"`
		} `json:"gatewayConfigs"`
	}
	if err := json.Unmarshal([]byte(httpGet(t, "http://"+op.listen+"/status")), &doc); err != nil {
		return "", err
	}
	gc, ok := doc.GatewayConfigs[gateway]
	if !ok || len(gc.Tasks) == 0 {
		return "", fmt.Errorf("no gateway config status: %+v", doc.GatewayConfigs)
	}
	for _, task := range gc.Tasks {
		if task.Served != gc.Desired {
			return "", fmt.Errorf("task %s serves %s, want %s", task.Task, task.Served, gc.Desired)
		}
	}
	return gc.Desired, nil
}
