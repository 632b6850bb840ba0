package main

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// load sends a steady stream of requests to the stable route through the virtual IP and keeps
// the failed ones.
type load struct {
	stop chan struct{}
	done sync.WaitGroup

	mu     sync.Mutex
	sent   int
	failed []failure
}

type failure struct {
	at  time.Time
	err string
}

var loadClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func startLoad(perSecond int) *load {
	l := &load{stop: make(chan struct{})}
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
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
				err := request()
				l.mu.Lock()
				defer l.mu.Unlock()
				l.sent++
				if err != nil {
					l.failed = append(l.failed, failure{start, err.Error()})
				}
			}()
		}
	}()
	return l
}

func request() error {
	req, err := http.NewRequest(http.MethodGet, "http://"+vipAddress+":8080/", nil)
	if err != nil {
		return err
	}
	req.Host = stableHost
	resp, err := loadClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

func (l *load) finish() {
	close(l.stop)
	l.done.Wait()
}

// failures returns the requests sent so far and those that failed between from and to.
func (l *load) failures(from, to time.Time) (sent int, failed []failure) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.failed {
		if !f.at.Before(from) && f.at.Before(to) {
			failed = append(failed, f)
		}
	}
	return l.sent, failed
}
