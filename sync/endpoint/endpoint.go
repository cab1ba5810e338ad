// Package endpoint parses the server URLs of an account (imap://,
// smtps://, …) into an address to dial and the TLS mode to use. Only
// scheme://host[:port] is accepted: credentials never travel in a URL.
package endpoint

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Scheme is one accepted URL scheme.
type Scheme struct {
	Name        string // lower case, e.g. "imaps"
	Port        string // default port
	ImplicitTLS bool   // TLS from the first byte (RFC 8314 3.3); else STARTTLS
}

// Endpoint is a parsed server URL.
type Endpoint struct {
	Host        string
	Addr        string // host:port
	ImplicitTLS bool
	// Loopback is true for "localhost" and loopback IP literals only.
	Loopback bool
}

// Parse reads raw with one of schemes.
func Parse(raw string, schemes []Scheme) (Endpoint, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Endpoint{}, fmt.Errorf("parse URL: %w", err)
	}
	if u.User != nil {
		raw = u.Redacted() // errors are logged: never echo a password
	}
	var sch *Scheme
	for i := range schemes {
		if strings.EqualFold(u.Scheme, schemes[i].Name) {
			sch = &schemes[i]
		}
	}
	if sch == nil {
		names := make([]string, len(schemes))
		for i, s := range schemes {
			names[i] = s.Name
		}
		last := len(names) - 1
		list := strings.Join(names[:last], ", ") + " or " + names[last]
		return Endpoint{}, fmt.Errorf("parse URL %q: scheme must be %s", raw, list)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return Endpoint{}, fmt.Errorf("parse URL %q: only %s://host[:port] is allowed", raw, sch.Name)
	}
	host := u.Hostname()
	if host == "" {
		return Endpoint{}, fmt.Errorf("parse URL %q: no host", raw)
	}
	port := sch.Port
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Endpoint{}, fmt.Errorf("parse URL %q: bad port %q", raw, p)
		}
		port = p
	}
	return Endpoint{Host: host, Addr: net.JoinHostPort(host, port), ImplicitTLS: sch.ImplicitTLS, Loopback: IsLoopback(host)}, nil
}

// IsLoopback reports whether host is "localhost" or a loopback IP literal.
// Other names are not resolved: a name that resolves to 127.0.0.1 today may
// not tomorrow.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
