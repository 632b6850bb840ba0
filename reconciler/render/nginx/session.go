package nginx

import (
	"slices"
	"strconv"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Session persistence without nginx plus, whose sticky cookie nginx's open source build lacks. A
// session is a token: the client's cookie or header of the session's name, else, on its first
// request, a new one ($request_id, random) that the answer hands it (Set-Cookie, or the header).
// A pool picks the task by a consistent hash of the token, so the requests of one session reach
// one task while the pool lists it; a task that fails a request, or leaves the pool, moves only
// its own sessions, to the next task of the hash ring. Weighted backends are split by the token
// too, so a session keeps its backend service as well.

// sessionKey is the session persistence of c (its rule's, else a BackendTrafficPolicy's) as
// variables: key, the token a request's backend is picked by, and issue, the value of the header
// that hands a new session its token ("" when the request brought one). Both are "" without
// session persistence.
type sessionKey struct {
	key, issue string
	header     string // the header issue goes in: Set-Cookie, or the session's own
}

func (r *renderer) session(c *candidate) sessionKey {
	sp := c.rule.SessionPersistence
	if sp == nil {
		scope := v1alpha1.PolicyScope{Gateway: r.gw, Listener: c.listener, Route: c.route, Rule: c.ruleIdx}
		if p, _, ok := v1alpha1.Applying(r.opts.Policies.Backend, scope); ok {
			sp = p.Spec.SessionPersistence
		}
	}
	if sp == nil {
		return sessionKey{}
	}
	// token is the variable holding the token the request brought, "" when none.
	token, header, issued := headerVar(sp.SessionName), sp.SessionName, variable("request_id")
	if sp.Type == v1alpha1.SessionPersistenceCookie {
		// A map of the Cookie header, not $cookie_<name>: that variable cannot name a cookie
		// with a '-', and compares names without case.
		token = r.addBlock("map $http_cookie", "    "+quote(`~(?:^|;)\s*`+regexLiteral(sp.SessionName)+`=([^;]+)`)+" \"$1\";\n    default \"\";\n")
		header = "Set-Cookie"
		issued = literal(sp.SessionName) + "=" + issued + "; Path=/; HttpOnly"
		if slices.ContainsFunc(r.gw.Spec.Listeners, func(l v1alpha1.Listener) bool {
			return l.Name == c.listener && l.Protocol == v1alpha1.ProtocolHTTPS
		}) {
			issued += "; Secure" // a browser sends it back over HTTPS only
		}
		if d, ok := permanentCookieAge(sp); ok {
			issued += "; Max-Age=" + strconv.FormatInt(int64(d/time.Second), 10)
		}
	}
	return sessionKey{
		key:    r.addBlock("map $"+token, "    \"\" "+quote(variable("request_id"))+";\n    default "+quote(variable(token))+";\n"),
		issue:  r.addBlock("map $"+token, "    \"\" "+quote(issued)+";\n    default \"\";\n"),
		header: header,
	}
}

// permanentCookieAge is how long a Permanent session cookie lives: its absoluteTimeout
// (validation requires it, at least a second).
func permanentCookieAge(sp *v1alpha1.SessionPersistence) (time.Duration, bool) {
	if sp.CookieConfig == nil || sp.CookieConfig.LifetimeType != v1alpha1.CookieLifetimePermanent || sp.AbsoluteTimeout == nil {
		return 0, false
	}
	d, err := time.ParseDuration(string(*sp.AbsoluteTimeout))
	return d, err == nil
}
