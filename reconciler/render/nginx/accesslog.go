package nginx

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

// Access logs: one JSON line per request, written by nginx itself (log_format escape=json escapes
// every value it logs). The route, rule and backend a request went to are variables that the rule's
// own location sets, so a line names them without nginx knowing anything of Routes; each server
// sets its listener. A request no rule takes logs them empty: nginx reads a variable that no "set"
// reached as "", and warns of it unless told not to. What every server and location repeats is
// kept short: a config of many hosts must still fit a swarm secret.

// accessLogFormat names the log_format of the JSON lines.
const accessLogFormat = "sg_access"

// trafficLogTag is the syslog tag of the lines sent to the agent.
const trafficLogTag = "swarmgate"

// DefaultAccessLog is where nginx writes the access log unless told otherwise: the task's standard
// output, which `docker service logs` shows.
const DefaultAccessLog = "/dev/stdout"

// RequestIDHeader carries a request's id: taken from the client when well-formed, else generated,
// passed to the backend and returned to the client.
const RequestIDHeader = "X-Request-Id"

// The variables the JSON line reads: set per server and per rule.
const (
	listenerVar  = "sg_listener"
	routeVar     = "sg_route"
	ruleVar      = "sg_rule"
	backendVar   = "sg_backend"
	requestIDVar = "sg_request_id"
)

// accessLogFields are the JSON line's fields in order, each with its value: a quoted string, or
// for a number nginx always has, the bare variable.
func accessLogFields(gw *v1alpha1.Gateway) [][2]string {
	str := func(v string) string { return `"` + v + `"` }
	return [][2]string{
		{"time", str(variable("time_iso8601"))},
		{"gateway", str(literal(gw.Metadata.QualifiedName()))},
		{"listener", str(variable(listenerVar))},
		{"route", str(variable(routeVar))},
		{"rule", str(variable(ruleVar))},
		{"backend", str(variable(backendVar))},
		{"upstream", str(variable("upstream_addr"))},
		{"status", variable("status")},
		{"duration", variable("request_time")},
		{"upstream_time", str(variable("upstream_response_time"))},
		{"bytes_in", variable("request_length")},
		{"bytes_out", variable("bytes_sent")},
		{"client", str(variable("remote_addr"))},
		{"request_id", str(variable(requestIDVar))},
		{"method", str(variable("request_method"))},
		{"host", str(variable("host"))},
		{"uri", str(variable("request_uri"))},
	}
}

// accessLogDefinitions writes the http-level part of the access log: the JSON line's format and
// the request id, the client's when it is a plain token of up to 128 bytes (anything else could
// forge log fields or headers downstream), else nginx's own.
func accessLogDefinitions(b *bytes.Buffer, gw *v1alpha1.Gateway) {
	var line strings.Builder
	line.WriteByte('{')
	for i, f := range accessLogFields(gw) {
		if i > 0 {
			line.WriteByte(',')
		}
		line.WriteString(`"` + f[0] + `":` + f[1])
	}
	line.WriteByte('}')
	b.WriteString("# Access log: one JSON line per request.\nlog_format " + accessLogFormat + " escape=json " + quote(line.String()) + ";\n")
	b.WriteString("# The request id: the client's " + RequestIDHeader + " when well-formed, else a new one.\nmap $http_x_request_id $" + requestIDVar + " {\n    " +
		quote(`~^[A-Za-z0-9._:-]{1,128}\z`) + " $http_x_request_id;\n    default $request_id;\n}\n")
	b.WriteString("# Returned to the client in place of the backend's; a location with headers of its own repeats it.\n" + requestIDHeaders("", "proxy") +
		"# The route, rule and backend are empty for requests no rule takes. Declared here, since nginx\n# refuses a variable no directive defines: a gateway without routes sets none of them.\n" +
		"geo $" + routeVar + " {\n    default \"\";\n}\ngeo $" + ruleVar + " {\n    default \"\";\n}\ngeo $" + backendVar + " {\n    default \"\";\n}\nuninitialized_variable_warn off;\n\n")
}

// requestIDHeaders returns the request id to the client, in place of any the backend sent. nginx
// takes add_header and proxy_hide_header from the http level only into locations (and their
// if blocks) that have none of their own, so those repeat these.
func requestIDHeaders(indent, module string) string {
	return indent + "add_header " + RequestIDHeader + " $" + requestIDVar + " always;\n" + indent + module + "_hide_header " + RequestIDHeader + ";\n"
}

// accessLogFilter returns the variable access_log's if= tests for a gateway's filters: non-empty
// (and not "0") for a request to log; "" when every request is logged.
func (r *renderer) accessLogFilter(a *v1alpha1.AccessLog) string {
	if a == nil {
		return ""
	}
	var selected []string
	if a.ErrorsOnly {
		selected = append(selected, r.addBlock("map $status", "    \"~^[45]\" 1;\n    default \"\";\n"))
	}
	if d, err := time.ParseDuration(string(a.SlowerThan)); a.SlowerThan != "" && err == nil {
		selected = append(selected, r.addBlock("map $request_time", "    "+quote("~^(?:"+atLeastMilliseconds(d.Milliseconds()+1)+`)\z`)+" 1;\n    default \"\";\n"))
	}
	filter := ""
	switch len(selected) {
	case 1:
		filter = selected[0]
	case 2: // either
		filter = r.addBlock("map "+quote(variable(selected[0])+variable(selected[1])), "    \"\" \"\";\n    default 1;\n")
	}
	if a.SamplePercent == nil || *a.SamplePercent >= 100 {
		return filter
	}
	// A key of its own: requests sampled are not those a weighted split of the same key sends to
	// one backend.
	sample := r.addBlock(`split_clients "${request_id}log"`, "    "+strconv.Itoa(int(*a.SamplePercent))+"% 1;\n    * \"\";\n")
	if filter == "" {
		return sample
	}
	return r.addBlock("map "+quote(variable(filter)+variable(sample)), "    \"11\" 1;\n    default \"\";\n")
}

// atLeastMilliseconds is a regular expression matching nginx's $request_time ("S.mmm": whole
// seconds, then milliseconds in three digits) when it is ms milliseconds or more. nginx compares
// no numbers, so the comparison is spelled out digit by digit.
func atLeastMilliseconds(ms int64) string {
	secs, frac := strconv.FormatInt(ms/1000, 10), strconv.FormatInt(1000+ms%1000, 10)[1:]
	// More seconds: more digits, or as many and greater.
	alts := []string{`[1-9]\d{` + strconv.Itoa(len(secs)) + `,}\.\d{3}`}
	for _, g := range greater(secs) {
		alts = append(alts, g+`\.\d{3}`)
	}
	// As many seconds, and as many milliseconds or more.
	alts = append(alts, secs+`\.`+frac)
	for _, g := range greater(frac) {
		alts = append(alts, secs+`\.`+g)
	}
	return strings.Join(alts, "|")
}

// greater lists patterns that together match the strings of digits as long as n that are greater
// than n: n's first i digits, then a greater digit, then any.
func greater(n string) []string {
	var out []string
	for i := 0; i < len(n); i++ {
		if n[i] == '9' {
			continue
		}
		p := n[:i] + "[" + string(n[i]+1) + "-9]"
		if rest := len(n) - i - 1; rest > 0 {
			p += `\d{` + strconv.Itoa(rest) + "}"
		}
		out = append(out, p)
	}
	return out
}

// serverAccessLog writes what every server of a listener needs for its access log: where and
// whether to log, where to count traffic, and the listener's name.
func (r *renderer) serverAccessLog(b *bytes.Buffer, l *v1alpha1.Listener) {
	switch {
	case r.logs:
		b.WriteString("    access_log " + quote(r.opts.AccessLog) + " " + accessLogFormat)
		if r.logIf != "" {
			b.WriteString(" if=$" + r.logIf)
		}
		b.WriteString(";\n")
	case r.opts.TrafficLog == "":
		b.WriteString("    access_log off;\n")
	}
	if r.opts.TrafficLog != "" {
		b.WriteString("    access_log " + quote("syslog:server=unix:"+r.opts.TrafficLog+",nohostname,tag="+trafficLogTag) + " " + accessLogFormat + ";\n")
	}
	b.WriteString("    set $" + listenerVar + " " + quote(string(l.Name)) + ";\n")
}

// ruleIdentity writes the directives of a rule's location that name it in the access log.
func ruleIdentity(c *candidate, line func(...string)) {
	route, rule := ruleNames(c)
	line("set $", routeVar, " ", quote(literal(route)), ";")
	line("set $", ruleVar, " ", quote(literal(rule)), ";")
}

// ruleNames are the route and rule of c, as the access log names them.
func ruleNames(c *candidate) (route, rule string) { return TrafficNames(c.route, c.ruleIdx) }

// TrafficNames are the route ("namespace/name", or its name) and rule (its name, or its index)
// of rt's rule i, as the access log and the traffic series name them.
func TrafficNames(rt *v1alpha1.Route, i int) (route, rule string) {
	rule = strconv.Itoa(i)
	if name := rt.Spec.Rules[i].Name; name != nil {
		rule = string(*name)
	}
	route = rt.Metadata.Name
	if ns := rt.Metadata.Namespace; ns != "" {
		route = ns + "/" + route
	}
	return route, rule
}
