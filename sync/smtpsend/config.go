package smtpsend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero fields of Config.
const (
	DefaultDialTimeout = 15 * time.Second
	// commandTimeout bounds each SMTP command after authentication (RFC
	// 5321 §4.5.3.2 recommends minutes); go-smtp's own default.
	commandTimeout = 5 * time.Minute
)

// Config describes how to reach one submission server.
type Config struct {
	// URL is smtp://host[:port] or submission://host[:port] (STARTTLS when
	// offered, RFC 3207; default port 587, RFC 6409) or smtps://host[:port]
	// (implicit TLS, RFC 8314; default port 465). Plain text is allowed only
	// to a loopback host. A path, query or user info is an error.
	URL string
	// TLS is the TLS configuration (root CAs, client certificates). nil
	// means the system roots; ServerName defaults to the URL's host.
	TLS *tls.Config
	// DialTimeout bounds connecting, the TLS handshake, the greeting, EHLO
	// and AUTH (DefaultDialTimeout when zero or negative).
	DialTimeout time.Duration
	// HelloName is the EHLO argument (RFC 5321 §4.1.1.1). Empty means the
	// host name when it is a FQDN, else the address literal of the local
	// end of the connection ("[192.0.2.1]").
	HelloName string
	// DialContext opens the TCP connection; nil means a net.Dialer. Tests
	// inject dialers here.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Set by ParseURL (and by New when the Config was built by hand).
	addr        string // host:port
	host        string
	implicitTLS bool
	loopback    bool
}

// Addr is the host:port the sender connects to ("" before ParseURL).
func (c Config) Addr() string { return c.addr }

// ImplicitTLS reports whether the URL is smtps:// (TLS from the first byte).
func (c Config) ImplicitTLS() bool { return c.implicitTLS }

// ParseURL parses an smtp://, submission:// or smtps:// URL into a Config
// with the default timeout.
func ParseURL(raw string) (Config, error) {
	cfg := Config{URL: raw}
	if err := cfg.parse(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parse fills the derived fields and the defaults.
func (c *Config) parse() error {
	u, err := url.Parse(strings.TrimSpace(c.URL))
	if err != nil {
		return fmt.Errorf("smtpsend: parse URL: %w", err)
	}
	var port string
	switch strings.ToLower(u.Scheme) {
	case "smtp", "submission": // RFC 6409 message submission, STARTTLS (RFC 3207)
		port = "587"
	case "smtps": // implicit TLS, RFC 8314 §3.3
		port = "465"
		c.implicitTLS = true
	default:
		return fmt.Errorf("smtpsend: parse URL %q: scheme must be smtp, submission or smtps", c.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return fmt.Errorf("smtpsend: parse URL %q: only %s://host[:port] is allowed", c.URL, u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("smtpsend: parse URL %q: no host", c.URL)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("smtpsend: parse URL %q: bad port %q", c.URL, p)
		}
		port = p
	}
	c.host = host
	c.addr = net.JoinHostPort(host, port)
	c.loopback = isLoopback(host)
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return nil
}

// isLoopback reports whether host is "localhost" or a loopback IP literal.
// Other names are not resolved: a name that resolves to 127.0.0.1 today may
// not tomorrow.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errPlainRefused is returned (wrapped with eas.ErrBackendUnavailable) when
// a server on a non-loopback host offers no STARTTLS.
var errPlainRefused = errors.New("server offers no STARTTLS; refusing to send mail and credentials in clear text to a non-loopback host")

// tlsConfig returns the TLS configuration for the handshake: a copy of
// Config.TLS with ServerName defaulted to the URL's host and TLS 1.2 as the
// minimum (RFC 8314 §4.1 wants current TLS).
func (c Config) tlsConfig() *tls.Config {
	var tc *tls.Config
	if c.TLS != nil {
		tc = c.TLS.Clone()
	} else {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName = c.host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return tc
}
