// Package status judges what swarmgate's objects are: in sync with what was applied, healthy, and
// for a virtual IP, which nodes hold the address, as their VRRP agents report it.
package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sync"

	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// Target is one node's agent.
type Target struct {
	Node string
	// Status is the agent's address: the node's address and the VirtualIP's status port.
	Status netip.AddrPort
}

// NodeReport is one node's report, or why there is none.
type NodeReport struct {
	Node   string           `json:"node"`
	Report *contract.Report `json:"report,omitempty"`
	Error  string           `json:"error,omitempty"`
}

// Observation is what one look at a virtual IP saw.
type Observation struct {
	Nodes []NodeReport `json:"nodes"`
	// AnsweredBy names the node whose gateway answered the health check sent to the address; with
	// host-mode listeners, the node that holds it.
	AnsweredBy string `json:"answeredBy,omitempty"`
	// AnswerError says why the address did not answer; empty when it did or was not asked.
	AnswerError string `json:"answerError,omitempty"`
}

// Holders lists the nodes that report holding the address.
func (o Observation) Holders() []string {
	var out []string
	for _, n := range o.Nodes {
		if n.Report != nil && n.Report.Holds {
			out = append(out, n.Node)
		}
	}
	return out
}

// Observe asks every node's agent for its report and, when healthPort is not 0, sends the
// gateway's health check to the address itself, all at once. client bounds each request.
func Observe(ctx context.Context, client *http.Client, targets []Target, vip netip.Addr, healthPort uint16) Observation {
	obs := Observation{Nodes: make([]NodeReport, len(targets))}
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs.Nodes[i] = NodeReport{Node: t.Node}
			r, err := fetchReport(ctx, client, t.Status)
			if err != nil {
				obs.Nodes[i].Error = err.Error()
			} else {
				obs.Nodes[i].Report = r
			}
		}()
	}
	if healthPort != 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node, err := answeredBy(ctx, client, netip.AddrPortFrom(vip, healthPort))
			if err != nil {
				obs.AnswerError = err.Error()
			}
			obs.AnsweredBy = node
		}()
	}
	wg.Wait()
	return obs
}

func fetchReport(ctx context.Context, client *http.Client, at netip.AddrPort) (*contract.Report, error) {
	resp, err := get(ctx, client, "http://"+at.String()+contract.StatusPath)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("agent at %s answered %s", at, resp.Status)
	}
	var r contract.Report
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&r); err != nil {
		return nil, fmt.Errorf("agent at %s: %w", at, err)
	}
	return &r, nil
}

// answeredBy sends the gateway's health check to the virtual IP and returns the node named in the
// answer.
func answeredBy(ctx context.Context, client *http.Client, at netip.AddrPort) (string, error) {
	resp, err := get(ctx, client, "http://"+at.String()+contract.HealthPath)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %s", at, resp.Status)
	}
	return resp.Header.Get(contract.NodeHeader), nil
}

func get(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}
