// Package redact takes credentials out of URLs before they reach a log, an error, an alert or the
// status page: a git URL may carry a user and token (https://user:token@host/repo.git), and a
// webhook URL its token in the path (Slack's https://hooks.slack.com/services/T/B/secret).
package redact

import (
	"errors"
	"net/url"
	"strings"
)

// Placeholder stands where a credential was.
const Placeholder = "REDACTED"

// URL returns u without its user information (user names are often tokens too). A string without
// a scheme (an scp-like git address, a path) is returned as it is: it cannot carry a password.
func URL(u string) string {
	if !strings.Contains(u, "://") {
		return u // user@host:path or a path: no password in that syntax
	}
	p, err := url.Parse(u)
	if err != nil {
		return Placeholder // unparseable: it may be anything
	}
	if p.User != nil {
		p.User = url.User(Placeholder)
	}
	return p.String()
}

// Webhook returns a webhook URL with only its scheme and host: its path and query may be its token.
func Webhook(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return Placeholder
	}
	return p.Scheme + "://" + p.Host + "/" + Placeholder
}

// Error rewrites the URL a *url.Error (what net/http returns) names with redactURL, and returns err.
func Error(err error, redactURL func(string) string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}
