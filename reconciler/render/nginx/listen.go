package nginx

import (
	"bytes"
	"net/url"
	"slices"
	"strconv"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/reconciler/contract"
)

// tlsDefaults are the TLS settings of every HTTPS server: TLS 1.2 and 1.3 with forward-secret
// AEAD ciphers only (Mozilla's "intermediate" profile), sessions resumed from a shared cache
// rather than by tickets (whose keys nginx would never rotate).
const tlsDefaults = `
# TLS for the HTTPS listeners: Mozilla's intermediate profile.
ssl_ciphers "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
ssl_prefer_server_ciphers off;
ssl_session_cache shared:sg_tls:10m;
ssl_session_timeout 1d;
ssl_session_tickets off;
`

// listen is a server's listen directive for a listener: HTTPS ports speak TLS, offering HTTP/2;
// HTTP ports that serve GRPCRoutes take HTTP/2 without TLS (h2c, with prior knowledge: nginx
// before 1.25.1 then takes only HTTP/2 on that port; later ones tell HTTP/1.1 from it). HTTPS
// listeners behind a TLS listener of the same port listen on the socket its stream server hands
// their connections to, each with the client's address in a PROXY header.
func (r *renderer) listen(l *v1alpha1.Listener, defaultServer bool) string {
	out := strconv.Itoa(int(l.Port))
	behindStream := r.behindStream(l)
	if behindStream {
		out = quote("unix:" + HTTPSSocket(r.opts.SocketDir, l.Port))
	}
	switch {
	case l.Protocol == v1alpha1.ProtocolHTTPS:
		out += " ssl http2"
	case r.h2c[l.Port]:
		out += " http2"
	}
	if defaultServer {
		out += " default_server"
	}
	if behindStream || r.proxyProtocol(l) {
		out += " proxy_protocol"
	}
	return out
}

// behindStream tells whether listener l is an HTTPS listener whose connections come from the
// stream server of a port it shares with TLS listeners.
func (r *renderer) behindStream(l *v1alpha1.Listener) bool {
	return l.Protocol == v1alpha1.ProtocolHTTPS && sharedTLSPort(r.gw, l.Port)
}

// certificates writes an HTTPS server's TLS versions and certificates; nothing for HTTP.
func (r *renderer) certificates(b *bytes.Buffer, l *v1alpha1.Listener) {
	if l == nil || l.Protocol != v1alpha1.ProtocolHTTPS || l.TLS == nil {
		return
	}
	b.WriteString("    ssl_protocols " + tlsProtocols(l) + ";\n")
	r.certificateFiles(b, l)
}

// certificateFiles writes the certificates of an HTTPS listener; one whose ACME certificate is
// not issued yet refuses the handshake.
func (r *renderer) certificateFiles(b *bytes.Buffer, l *v1alpha1.Listener) {
	if r.opts.ACMEChains[l.Name] {
		b.WriteString("    ssl_certificate " + quote(ChainFile(r.opts.ChainDir, l.Name)) + ";\n    ssl_certificate_key " + quote(KeyFile(l.Name)) + ";\n")
		return
	}
	if len(l.TLS.CertificateRefs) == 0 {
		b.WriteString("    # No certificate yet: ACME has not issued one.\n    ssl_reject_handshake on;\n")
	}
	for i := range l.TLS.CertificateRefs {
		f := quote(CertificateFile(r.opts.CertDir, l.Name, i))
		b.WriteString("    ssl_certificate " + f + ";\n    ssl_certificate_key " + f + ";\n")
	}
}

// tlsProtocols are the TLS versions a listener offers.
func tlsProtocols(l *v1alpha1.Listener) string {
	if l.TLS != nil && l.TLS.Options[v1alpha1.TLSOptionMinVersion] == "1.3" {
		return "TLSv1.3"
	}
	return "TLSv1.2 TLSv1.3"
}

// defaultServers writes, for each port, the server of the requests no route claims: it answers
// the gateway's health check and 404, or redirects to HTTPS. On an HTTPS port it presents the
// certificate of the listener without a hostname; when every listener there has one, a client
// naming another host (or none) is refused in the TLS handshake.
func (r *renderer) defaultServers(b *bytes.Buffer, gw *v1alpha1.Gateway, fallbacks map[v1alpha1.PortNumber]*server) {
	var ports []v1alpha1.PortNumber
	for _, l := range gw.Spec.Listeners {
		if !l.Protocol.Stream() && !slices.Contains(ports, l.Port) {
			ports = append(ports, l.Port)
		}
	}
	for _, port := range ports {
		var catchAll *v1alpha1.Listener
		var first *v1alpha1.Listener
		for i := range gw.Spec.Listeners {
			l := &gw.Spec.Listeners[i]
			if l.Port != port || l.Protocol.Stream() {
				continue
			}
			if first == nil {
				first = l
			}
			if l.Hostname == nil {
				catchAll = l
			}
		}
		r.defaultServer(b, port, first, catchAll, fallbacks[port])
		// Listeners of this port with a hostname that redirect answer their hosts with it.
		for i := range gw.Spec.Listeners {
			l := &gw.Spec.Listeners[i]
			if l.Port != port || l.Hostname == nil || l.RedirectToHTTPS == nil {
				continue
			}
			b.WriteString("\n# Listener " + string(l.Name) + ": redirects to HTTPS.\nserver {\n    listen " + r.listen(l, false) + ";\n    server_name " +
				quote(string(*l.Hostname)) + ";\n")
			r.serverAccessLog(b, l)
			r.acmeLocation(b, l)
			b.WriteString("    location / {\n        return 301 " + redirectURL(l.RedirectToHTTPS) + ";\n    }\n}\n")
		}
	}
}

// defaultServer writes the default server of one port: the routes without hostnames when there
// are (fallback), else the health check and 404 or the redirect to HTTPS; on an HTTPS port without
// a listener for every name, the refusal of the handshake.
func (r *renderer) defaultServer(b *bytes.Buffer, port v1alpha1.PortNumber, first, catchAll *v1alpha1.Listener, fallback *server) {
	if fallback != nil {
		r.server(b, fallback)
		return
	}
	b.WriteString("\n# Port " + strconv.Itoa(int(port)) + ": hosts no route claims, and the health check of the gateway.\nserver {\n    listen " +
		r.listen(first, true) + ";\n    server_name _;\n")
	log := first
	if catchAll != nil {
		log = catchAll
	}
	r.serverAccessLog(b, log)
	// Before a refused handshake's early end: a request whose Host no server takes ends here even
	// when its server name chose another server's certificate.
	r.clientPolicy(b, log)
	if first.Protocol == v1alpha1.ProtocolHTTPS {
		// nginx takes the TLS versions of a port from its default server: the protocol is
		// agreed before the server name is known. Validation makes a port's listeners agree.
		b.WriteString("    ssl_protocols " + tlsProtocols(first) + ";\n")
		if catchAll == nil {
			b.WriteString("    ssl_reject_handshake on;\n}\n")
			return
		}
		r.certificateFiles(b, catchAll)
	}
	b.WriteString(healthLocation)
	r.acmeLocation(b, first)
	if catchAll != nil && catchAll.RedirectToHTTPS != nil {
		b.WriteString("    location / {\n        return 301 " + redirectURL(catchAll.RedirectToHTTPS) + ";\n    }\n}\n")
	} else {
		b.WriteString("    location / {\n        return 404;\n    }\n}\n")
	}
}

// acmeSolver is the operator's URL (scheme and host) when a listener of the gateway takes its
// certificate from ACME: the agent's operatorURL, which validation requires then.
func acmeSolver(gw *v1alpha1.Gateway) string {
	if gw.Spec.Agent == nil || !slices.ContainsFunc(gw.Spec.Listeners, func(l v1alpha1.Listener) bool { return l.TLS != nil && l.TLS.ACME != nil }) {
		return ""
	}
	u, err := url.Parse(gw.Spec.Agent.OperatorURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// acmeLocation sends ACME's HTTP-01 challenges (/.well-known/acme-challenge/TOKEN, on the HTTP
// port the ACME server reaches) to the operator, which answers them; in every server of an HTTP
// port, so whatever host the server validates, its challenge gets through.
func (r *renderer) acmeLocation(b *bytes.Buffer, l *v1alpha1.Listener) {
	if r.acme == "" || l == nil || l.Protocol != v1alpha1.ProtocolHTTP {
		return
	}
	b.WriteString("    # ACME HTTP-01 challenges, answered by the operator.\n    location ^~ " + contract.ACMEChallengePath + " {\n        set $sg_acme " +
		quote(literal(r.acme)) + ";\n        proxy_pass $sg_acme;\n    }\n")
}

// healthLocation answers the gateway's health check, naming the node whose task answered.
const healthLocation = "    location = " + contract.HealthPath + " {\n        access_log off;\n        add_header " + contract.NodeHeader + " $hostname always;\n        return 200 \"ok\\n\";\n    }\n"

// redirectURL is the HTTPS URL of the request, on the redirect's port (left out when 443).
func redirectURL(r *v1alpha1.HTTPSRedirect) string {
	port := ""
	if r.Port != nil && *r.Port != 443 {
		port = ":" + strconv.Itoa(int(*r.Port))
	}
	return quote("https://" + variable("host") + port + variable("request_uri"))
}
