package imapsource

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
	DefaultMaxConns    = 4
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultSurplusIdleTimeout: a burst of concurrent requests (five
	// phones of one user Pinging at once) grows the pool to MaxConns; the
	// connections beyond the first idle one go away this soon after.
	DefaultSurplusIdleTimeout = 15 * time.Second
)

// Config describes how to reach one IMAP server.
type Config struct {
	// URL is imap://host[:port] (STARTTLS, port 143) or imaps://host[:port]
	// (implicit TLS, port 993). A path, query or user info is an error.
	URL string
	// TLS is the TLS configuration (root CAs, client certificates). nil
	// means the system roots; ServerName defaults to the URL's host.
	TLS *tls.Config
	// DialTimeout bounds connecting, the TLS handshake, the greeting and the
	// authentication of one new connection (DefaultDialTimeout when zero).
	DialTimeout time.Duration
	// MaxConns is the most connections the account holds at once, idle and
	// busy together (DefaultMaxConns when zero or negative).
	MaxConns int
	// IdleTimeout is how long an unused connection stays open
	// (DefaultIdleTimeout when zero or negative).
	IdleTimeout time.Duration
	// SurplusIdleTimeout is how long an unused connection stays open when
	// another one is already idle (DefaultSurplusIdleTimeout when zero or
	// negative; never longer than IdleTimeout). Each pooled connection
	// costs a server process on the IMAP side and buffers on ours.
	SurplusIdleTimeout time.Duration
	// DialContext opens the TCP connection; nil means a net.Dialer. Tests
	// inject a counting dialer here.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// OnCommand, when set, is called with the name of every IMAP command
	// the account sends ("LOGIN", "SELECT", "UID FETCH", …; never its
	// arguments), so that benchmarks can count commands per operation. It
	// runs on the sending goroutine while the connection's writer is held:
	// it must be fast, safe for concurrent use, and must not call the
	// Account.
	OnCommand func(name string)

	// Set by ParseURL (and by NewAccount when the Config was built by hand).
	addr        string // host:port
	host        string
	implicitTLS bool
	loopback    bool
}

// Addr is the host:port the account connects to ("" before ParseURL).
func (c Config) Addr() string { return c.addr }

// ImplicitTLS reports whether the URL is imaps:// (TLS from the first byte).
func (c Config) ImplicitTLS() bool { return c.implicitTLS }

// ParseURL parses an imap:// or imaps:// URL into a Config with default
// timeouts and pool size.
func ParseURL(raw string) (Config, error) {
	cfg := Config{URL: raw}
	if err := cfg.parse(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// schemes are the accepted URL schemes: imap (RFC 5092, STARTTLS per RFC
// 3501 6.2.1) and imaps (implicit TLS, RFC 8314 3.3).
var schemes = []endpoint.Scheme{{Name: "imap", Port: "143"}, {Name: "imaps", Port: "993", ImplicitTLS: true}}

// parse fills the derived fields and the defaults.
func (c *Config) parse() error {
	ep, err := endpoint.Parse(c.URL, schemes)
	if err != nil {
		return fmt.Errorf("imapsource: %w", err)
	}
	c.host, c.addr, c.implicitTLS, c.loopback = ep.Host, ep.Addr, ep.ImplicitTLS, ep.Loopback
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.SurplusIdleTimeout <= 0 {
		c.SurplusIdleTimeout = DefaultSurplusIdleTimeout
	}
	c.SurplusIdleTimeout = min(c.SurplusIdleTimeout, c.IdleTimeout)
	return nil
}

// errPlainRefused is returned when an imap:// server on a non-loopback host
// offers no STARTTLS.
var errPlainRefused = errors.New("server offers no STARTTLS; refusing to send credentials in clear text to a non-loopback host")

// WatchDial returns what a push watcher (package watch) needs to open its
// own connection to this server: a dial function (TLS for imaps://) and the
// STARTTLS configuration for imap:// on a non-loopback host (nil on
// loopback, where the pool also allows plain text). The Config must come
// from ParseURL.
func (c Config) WatchDial() (dial func(ctx context.Context) (net.Conn, error), startTLS *tls.Config) {
	tc := c.TLS.Clone()
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = c.host
	}
	timeout := c.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	base := c.DialContext
	if base == nil {
		d := &net.Dialer{Timeout: timeout}
		base = d.DialContext
	}
	addr, implicit := c.addr, c.implicitTLS
	dial = func(ctx context.Context) (net.Conn, error) {
		raw, err := base(ctx, "tcp", addr)
		if err != nil || !implicit {
			return raw, err
		}
		conn := tls.Client(raw, tc)
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
	if !implicit && !c.loopback {
		startTLS = tc
	}
	return dial, startTLS
}
