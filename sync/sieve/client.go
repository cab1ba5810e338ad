package sieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"easbridge/sync/endpoint"
)

// DefaultPort is the ManageSieve port, RFC 5804 1.8.
const DefaultPort = "4190"

// schemes accepted by ParseURL: sieve:// only (STARTTLS; RFC 5804 has no
// implicit-TLS port).
var schemes = []endpoint.Scheme{{Name: "sieve", Port: DefaultPort}}

// ParseURL reads sieve://host[:port].
func ParseURL(raw string) (endpoint.Endpoint, error) {
	ep, err := endpoint.Parse(raw, schemes)
	if err != nil {
		return ep, fmt.Errorf("sieve: %w", err)
	}
	return ep, nil
}

// Capabilities is what the server announced, RFC 5804 1.7.
type Capabilities struct {
	Implementation string
	Sieve          []string // Sieve extensions, e.g. "vacation", "include"
	SASL           []string // SASL mechanisms, upper case
	StartTLS       bool
	Version        string
}

// HasExtension reports whether the server's Sieve supports ext.
func (c Capabilities) HasExtension(ext string) bool {
	for _, e := range c.Sieve {
		if strings.EqualFold(e, ext) {
			return true
		}
	}
	return false
}

// Script is one entry of LISTSCRIPTS.
type Script struct {
	Name   string
	Active bool
}

// Error is a NO or BYE answer to a command.
type Error struct {
	Command string
	Resp    Response
}

func (e *Error) Error() string {
	s := "sieve: " + e.Command + ": " + e.Resp.Status
	if e.Resp.Code != "" {
		s += " (" + e.Resp.Code + ")"
	}
	if e.Resp.Text != "" {
		s += " " + e.Resp.Text
	}
	return s
}

// IsCode reports whether err is a server answer with response code code
// (e.g. "NONEXISTENT").
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && strings.EqualFold(e.Resp.Code, code)
}

// Options configures Dial.
type Options struct {
	// TLS is the configuration for STARTTLS; ServerName defaults to the
	// host. Nil means the system roots.
	TLS *tls.Config
	// Timeout bounds each command round trip. Default 30 s.
	Timeout time.Duration
}

// Client is one ManageSieve connection.
type Client struct {
	conn    net.Conn
	r       *bufio.Reader
	caps    Capabilities
	timeout time.Duration
	limit   time.Time // the Dial context's deadline; zero: none
	tls     bool
}

// Dial connects to the server of ep, reads its greeting and upgrades with
// STARTTLS when offered. Without STARTTLS only a loopback server is
// accepted in plain text.
func Dial(ctx context.Context, ep endpoint.Endpoint, opts Options) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return nil, fmt.Errorf("sieve: dial %s: %w", ep.Addr, err)
	}
	dl, _ := ctx.Deadline()
	c, err := newClient(conn, opts, dl)
	if err != nil {
		conn.Close()
		return nil, err
	}
	switch {
	case c.caps.StartTLS:
		cfg := opts.TLS.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = ep.Host
		}
		if err := c.StartTLS(cfg); err != nil {
			c.Close()
			return nil, err
		}
	case !ep.Loopback:
		c.Close()
		return nil, fmt.Errorf("sieve: %s does not offer STARTTLS; refusing to send a password in clear text", ep.Addr)
	}
	return c, nil
}

// NewClient starts a session on conn: it reads the greeting (capabilities
// and OK). Tests pass a scripted conn.
func NewClient(conn net.Conn, opts Options) (*Client, error) {
	return newClient(conn, opts, time.Time{})
}

func newClient(conn net.Conn, opts Options, limit time.Time) (*Client, error) {
	c := &Client{conn: conn, r: bufio.NewReader(conn), timeout: opts.Timeout, limit: limit}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	c.deadline()
	lines, resp, err := readResponse(c.r)
	if err != nil {
		return nil, fmt.Errorf("sieve: greeting: %w", err)
	}
	if resp.Status != "OK" {
		return nil, &Error{Command: "greeting", Resp: resp}
	}
	c.caps = parseCapabilities(lines)
	return c, nil
}

// deadline bounds the next round trip by the timeout and the Dial
// context's deadline.
func (c *Client) deadline() {
	d := time.Now().Add(c.timeout)
	if !c.limit.IsZero() && c.limit.Before(d) {
		d = c.limit
	}
	_ = c.conn.SetDeadline(d)
}

// Capabilities returns the capabilities last announced.
func (c *Client) Capabilities() Capabilities { return c.caps }

// TLS reports whether the connection is encrypted.
func (c *Client) TLS() bool { return c.tls }

func parseCapabilities(lines [][]item) Capabilities {
	var caps Capabilities
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		val := ""
		if len(l) > 1 {
			val = l[1].s
		}
		switch strings.ToUpper(l[0].s) {
		case "IMPLEMENTATION":
			caps.Implementation = val
		case "SIEVE":
			caps.Sieve = strings.Fields(val)
		case "SASL":
			caps.SASL = strings.Fields(strings.ToUpper(val))
		case "STARTTLS":
			caps.StartTLS = true
		case "VERSION":
			caps.Version = val
		}
	}
	return caps
}

// cmd sends line (already encoded) and reads the response. NO and BYE
// become *Error.
func (c *Client) cmd(name, line string) ([][]item, Response, error) {
	c.deadline()
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		return nil, Response{}, fmt.Errorf("sieve: %s: write: %w", name, err)
	}
	lines, resp, err := readResponse(c.r)
	if err != nil {
		return nil, resp, fmt.Errorf("sieve: %s: %w", name, err)
	}
	if resp.Status != "OK" {
		return lines, resp, &Error{Command: name, Resp: resp}
	}
	return lines, resp, nil
}

// StartTLS upgrades the connection, RFC 5804 2.2, and reads the
// capabilities the server sends again afterwards.
func (c *Client) StartTLS(cfg *tls.Config) error {
	if _, _, err := c.cmd("STARTTLS", "STARTTLS"); err != nil {
		return err
	}
	tc := tls.Client(c.conn, cfg)
	c.deadline()
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("sieve: STARTTLS handshake: %w", err)
	}
	c.conn, c.r, c.tls = tc, bufio.NewReader(tc), true
	lines, resp, err := readResponse(c.r)
	if err != nil {
		return fmt.Errorf("sieve: capabilities after STARTTLS: %w", err)
	}
	if resp.Status != "OK" {
		return &Error{Command: "STARTTLS", Resp: resp}
	}
	c.caps = parseCapabilities(lines)
	return nil
}

// AuthenticatePlain logs in with SASL PLAIN (RFC 4616), the initial
// response sent with the command, RFC 5804 2.1. The password appears in
// no error.
func (c *Client) AuthenticatePlain(user, password string) error {
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	_, _, err := c.cmd("AUTHENTICATE", `AUTHENTICATE "PLAIN" `+quote(ir))
	var e *Error
	if errors.As(err, &e) {
		return fmt.Errorf("sieve: login as %s: %w", user, err)
	}
	return err
}

// ListScripts lists the user's scripts, RFC 5804 2.7.
func (c *Client) ListScripts() ([]Script, error) {
	lines, _, err := c.cmd("LISTSCRIPTS", "LISTSCRIPTS")
	if err != nil {
		return nil, err
	}
	var out []Script
	for _, l := range lines {
		if len(l) == 0 || l[0].atom {
			return nil, fmt.Errorf("sieve: LISTSCRIPTS: %w: bad line", errProtocol)
		}
		s := Script{Name: l[0].s}
		if len(l) > 1 && l[1].atom && strings.EqualFold(l[1].s, "ACTIVE") {
			s.Active = true
		}
		out = append(out, s)
	}
	return out, nil
}

// Active returns the name of the active script, "" when none.
func (c *Client) Active() (string, error) {
	list, err := c.ListScripts()
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if s.Active {
			return s.Name, nil
		}
	}
	return "", nil
}

// GetScript returns a script's content, RFC 5804 2.9.
func (c *Client) GetScript(name string) (string, error) {
	lines, _, err := c.cmd("GETSCRIPT", "GETSCRIPT "+quote(name))
	if err != nil {
		return "", err
	}
	if len(lines) != 1 || len(lines[0]) != 1 || lines[0][0].atom {
		return "", fmt.Errorf("sieve: GETSCRIPT: %w: expected one string", errProtocol)
	}
	return lines[0][0].s, nil
}

// PutScript stores a script, RFC 5804 2.6 (the server checks it).
func (c *Client) PutScript(name, content string) error {
	_, _, err := c.cmd("PUTSCRIPT", "PUTSCRIPT "+quote(name)+" "+literal(content))
	return err
}

// CheckScript asks the server whether content is valid, RFC 5804 2.12.
func (c *Client) CheckScript(content string) error {
	_, _, err := c.cmd("CHECKSCRIPT", "CHECKSCRIPT "+literal(content))
	return err
}

// SetActive activates a script; "" deactivates all, RFC 5804 2.8.
func (c *Client) SetActive(name string) error {
	_, _, err := c.cmd("SETACTIVE", "SETACTIVE "+quote(name))
	return err
}

// DeleteScript deletes a script (not the active one), RFC 5804 2.10.
func (c *Client) DeleteScript(name string) error {
	_, _, err := c.cmd("DELETESCRIPT", "DELETESCRIPT "+quote(name))
	return err
}

// Logout ends the session, RFC 5804 2.3, and closes the connection.
func (c *Client) Logout() error {
	_, resp, err := c.cmd("LOGOUT", "LOGOUT")
	var e *Error
	if errors.As(err, &e) && resp.Status == "BYE" {
		err = nil // some servers answer BYE
	}
	cerr := c.conn.Close()
	if err != nil {
		return err
	}
	if cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		return fmt.Errorf("sieve: close: %w", cerr)
	}
	return nil
}

// Close closes the connection without LOGOUT.
func (c *Client) Close() error { return c.conn.Close() }
