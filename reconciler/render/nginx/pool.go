package nginx

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Pooled backends (Options.Tasks): what the upstream blocks hold and how long nginx waits on them.
const (
	// poolIdle is the most idle connections each nginx worker keeps per pool.
	poolIdle = 64
	// poolIdleTimeout closes an idle pooled connection before the backend would: below the 5 s
	// many servers (Node.js among them) close an idle keep-alive connection after, so nginx never
	// sends a request on a connection the backend is closing.
	poolIdleTimeout = 4 * time.Second
	// poolConnectTimeout bounds a connection to a task. Tasks share an overlay network with the
	// gateway, where connecting takes well under a millisecond: a task that does not answer in
	// time is gone (stopped during a rollout), and the request moves to the next task at once.
	poolConnectTimeout = 500 * time.Millisecond
	// resolverConnectTimeout bounds a connection to a backend nginx resolves by name.
	resolverConnectTimeout = 5 * time.Second
)

// pooled tells whether backends are upstream blocks of task addresses.
func (r *renderer) pooled() bool { return r.opts.Tasks != nil }

// connectTimeout is how long nginx waits to connect to a backend.
func (r *renderer) connectTimeout() string {
	if r.pooled() {
		return duration(poolConnectTimeout)
	}
	return duration(resolverConnectTimeout)
}

// duration writes d for nginx, in milliseconds.
func duration(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// pool returns the name of the upstream block holding the running tasks of service at port.
// tries is how many tries a rule's retry allows (0: as many as there are tasks): nginx tries each
// server of a block at most once per request, so each task is listed often enough for every try
// to have a server, and a backend of one task is retried too. session, when set, is the variable
// whose consistent hash picks the task (session persistence).
func (r *renderer) pool(service string, port int32, tries int, session string) string {
	_, port = r.opts.Backend(service, port)
	addrs := r.opts.Tasks[service]
	var body strings.Builder
	// Service names are DNS labels (validation): nothing a comment could be ended by.
	fmt.Fprintf(&body, "    # Service %s, port %d.\n", service, port)
	if session != "" {
		// Before keepalive, which nginx requires after the balancing method.
		body.WriteString("    hash $" + session + " consistent;\n")
	}
	if len(addrs) == 0 {
		// No running task: no server is up, nginx answers 502, which the server's error_page
		// turns into 503, as for a service nginx cannot resolve.
		body.WriteString("    server 127.0.0.1:1 down;\n")
	}
	copies := 1
	if tries > 0 && len(addrs) > 0 {
		copies = (tries + len(addrs) - 1) / len(addrs)
	}
	// No server is marked failed (nginx's default takes a task out of every pool that lists it
	// for 10 s after one error or timeout, also a read timeout that one rule set short): swarm's
	// task list already says which tasks are gone, and the short connect timeout moves a request
	// on from a stopping one.
	for range copies {
		for _, a := range addrs {
			body.WriteString("    server " + quote(netip.AddrPortFrom(a, uint16(port)).String()) + " max_fails=0;\n")
		}
	}
	fmt.Fprintf(&body, "    keepalive %d;\n    keepalive_timeout %s;\n", poolIdle, duration(poolIdleTimeout))
	key := body.String()
	if name, ok := r.pools[key]; ok {
		return name
	}
	name := "sg_pool" + strconv.Itoa(len(r.upstreams)+1)
	r.pools[key] = name
	r.upstreams = append(r.upstreams, "upstream "+name+" {\n"+key+"}\n")
	return name
}
