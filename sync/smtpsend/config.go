package smtpsend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"easbridge/sync/endpoint"
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

// schemes are the accepted URL schemes: smtp and submission (RFC 6409,
// STARTTLS per RFC 3207) and smtps (implicit TLS, RFC 8314 3.3).
var schemes = []endpoint.Scheme{{Name: "smtp", Port: "587"}, {Name: "submission", Port: "587"}, {Name: "smtps", Port: "465", ImplicitTLS: true}}

// parse fills the derived fields and the defaults.
func (c *Config) parse() error {
	ep, err := endpoint.Parse(c.URL, schemes)
	if err != nil {
		return fmt.Errorf("smtpsend: %w", err)
	}
	c.host, c.addr, c.implicitTLS, c.loopback = ep.Host, ep.Addr, ep.ImplicitTLS, ep.Loopback
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return nil
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
