package nginx

import (
	"bytes"
	"strconv"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// writeIdleTimeouts writes, in the http block, how long a connection to a backend may stay silent:
// nginx's read and send timeouts, which also time an upgraded (websocket) connection's silence,
// instead of nginx's 60s. A rule's timeouts replace them in its locations. Validation has checked
// the gateway's idleTimeout.
func writeIdleTimeouts(b *bytes.Buffer, gw *v1alpha1.Gateway) {
	idle := v1alpha1.DefaultIdleTimeout
	if gw.Spec.IdleTimeout != nil {
		idle = *gw.Spec.IdleTimeout
	}
	d, _ := time.ParseDuration(string(idle))
	ms := strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	b.WriteString("# Backend connections (websockets, long polls) may stay silent this long.\n")
	b.WriteString("proxy_read_timeout " + ms + ";\nproxy_send_timeout " + ms + ";\n")
}
