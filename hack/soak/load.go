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

// failure is a request that failed: sent at at, given up at end. A request is judged by the
// whole time it was in flight, not by when it was sent: one sent a second before a fault may wait
// the client's timeout (2 s) and fail with it.
type failure struct {
	at, end time.Time
	err     string
}

func (f failure) String() string {
	return fmt.Sprintf("sent at %s, failed %s later: %s", f.at.Format(time.RFC3339Nano), f.end.Sub(f.at).Round(time.Millisecond), f.err)
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
					l.failed = append(l.failed, failure{at: start, end: time.Now(), err: err.Error()})
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

// failedWithin returns the requests sent so far and those that failed in flight wholly between
// from and to.
func (l *load) failedWithin(from, to time.Time) (sent int, failed []failure) {
	return l.failures(func(f failure) bool { return !f.at.Before(from) && f.end.Before(to) })
}

// failedDuring returns the requests sent so far and those that failed in flight at some time
// between from and to.
func (l *load) failedDuring(from, to time.Time) (sent int, failed []failure) {
	return l.failures(func(f failure) bool { return f.at.Before(to) && !f.end.Before(from) })
}

func (l *load) failures(keep func(failure) bool) (sent int, failed []failure) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.failed {
		if keep(f) {
			failed = append(failed, f)
		}
	}
	return l.sent, failed
}
