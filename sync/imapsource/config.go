package imapsource

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
	DefaultMaxConns    = 4
	DefaultIdleTimeout = 5 * time.Minute
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

// parse fills the derived fields and the defaults.
func (c *Config) parse() error {
	u, err := url.Parse(strings.TrimSpace(c.URL))
	if err != nil {
		return fmt.Errorf("imapsource: parse URL: %w", err)
	}
	var port string
	switch strings.ToLower(u.Scheme) {
	case "imap": // RFC 5092 imap URL scheme, STARTTLS (RFC 3501 §6.2.1)
		port = "143"
	case "imaps": // implicit TLS, RFC 8314 §3.3
		port = "993"
		c.implicitTLS = true
	default:
		return fmt.Errorf("imapsource: parse URL %q: scheme must be imap or imaps", c.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return fmt.Errorf("imapsource: parse URL %q: only imap[s]://host[:port] is allowed", c.URL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("imapsource: parse URL %q: no host", c.URL)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("imapsource: parse URL %q: bad port %q", c.URL, p)
		}
		port = p
	}
	c.host = host
	c.addr = net.JoinHostPort(host, port)
	c.loopback = isLoopback(host)
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
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
