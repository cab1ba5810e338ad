package imapsource

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-sasl"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// ErrClosed is returned by every method of an Account after Close.
var ErrClosed = errors.New("imapsource: account closed")

// healthCheckAfter is how long a connection may sit idle before it is
// probed with NOOP on reuse.
const healthCheckAfter = 30 * time.Second

// tlsMode is what an imap:// loopback server was found to offer.
type tlsMode int

const (
	tlsUnknown  tlsMode = iota // not probed yet
	tlsStartTLS                // server offers STARTTLS: always use it
	tlsPlain                   // loopback server without STARTTLS
)

// Account is one user's account on one IMAP server: a bounded pool of
// authenticated connections and the mailbox hierarchy as source.Folders.
// It is safe for concurrent use.
type Account struct {
	cfg      Config
	cfgErr   error
	user     string
	password string
	log      *slog.Logger

	sem    chan struct{} // one token per connection in use or being dialled
	done   chan struct{} // closed by Close
	timers sync.WaitGroup

	mu     sync.Mutex
	closed bool
	mode   tlsMode
	idle   []*poolConn // LIFO
	all    map[*poolConn]struct{}
}

// poolConn is one authenticated connection.
type poolConn struct {
	c         *imapclient.Client
	w         *wire // what c talks through
	idleSince time.Time
	timer     *time.Timer // idle expiry; nil while busy

	// Session state, used only by the holder of the connection (see
	// mail.go): the mailbox this package selected, "" when none or unknown.
	selected string
	writable bool      // selected with SELECT, not EXAMINE
	uidNext  uint32    // UIDs below this are known to the session
	syncedAt time.Time // last SELECT, EXAMINE or NOOP
	qresync  bool      // ENABLE QRESYNC done (RFC 7162 §3.2.3)
	rawTag   uint64    // tags of raw commands: "Q1", "Q2", …
}

var _ source.Folders = (*Account)(nil)

// NewAccount returns an Account for user on the server of cfg. It does no
// I/O; a bad cfg.URL makes every method fail. log may be nil.
func NewAccount(cfg Config, user, password string, log *slog.Logger) *Account {
	cfgErr := cfg.parse()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := cfg.MaxConns
	if n <= 0 {
		n = DefaultMaxConns
	}
	return &Account{
		cfg:      cfg,
		cfgErr:   cfgErr,
		user:     user,
		password: password,
		log:      log.With("imap", cfg.addr, "user", user),
		sem:      make(chan struct{}, n),
		done:     make(chan struct{}),
		all:      make(map[*poolConn]struct{}),
	}
}

// Login checks the credentials on a fresh connection: eas.ErrAuthFailed when
// the server refuses them, eas.ErrBackendUnavailable when it cannot be
// reached. The connection then joins the pool.
func (a *Account) Login(ctx context.Context) error {
	if err := a.takeSlot(ctx); err != nil {
		return err
	}
	// Make room: the fresh connection must not push the pool past MaxConns.
	// Holding a slot, we know at least one connection is idle then.
	a.mu.Lock()
	var evict *poolConn
	if len(a.all) >= cap(a.sem) && len(a.idle) > 0 {
		evict = a.idle[0] // the oldest
		a.idle = a.idle[1:]
		if evict.timer.Stop() {
			a.timers.Done()
		}
		delete(a.all, evict)
	}
	a.mu.Unlock()
	if evict != nil {
		closeConn(evict.c, true)
	}
	pc, err := a.dial(ctx)
	if err != nil {
		<-a.sem
		return err
	}
	a.release(pc, false)
	return nil
}

// Capabilities returns the capabilities of an authenticated connection.
func (a *Account) Capabilities(ctx context.Context) (imap.CapSet, error) {
	var caps imap.CapSet
	err := a.WithConn(ctx, func(c *imapclient.Client) error {
		caps = c.Caps()
		if caps == nil {
			return errors.New("no capability list")
		}
		caps = caps.Copy()
		return nil
	})
	if err != nil {
		return nil, mapErr(ctx, "capabilities", err)
	}
	return caps, nil
}

// WithConn runs fn with an authenticated connection from the pool. fn may
// issue any command; it must consume every command it starts. A selected
// mailbox may stay selected: the next user must SELECT what it needs. If
// ctx ends while fn runs the connection is closed (which makes fn's pending
// commands fail) and discarded, as it is when fn returns an error that
// wraps neither a tagged NO/BAD (*imap.Error) nor eas.ErrNotFound,
// ErrExists, ErrSpecialFolder, ErrNotSupported or ErrInvalidName. Errors of
// fn are returned unchanged; errors getting a connection wrap
// eas.ErrAuthFailed or eas.ErrBackendUnavailable (or are ErrClosed).
func (a *Account) WithConn(ctx context.Context, fn func(*imapclient.Client) error) error {
	return a.withPC(ctx, func(pc *poolConn) error {
		defer func() { pc.selected = "" }() // fn may select anything
		return fn(pc.c)
	})
}

// withPC is WithConn with the pooled connection itself.
func (a *Account) withPC(ctx context.Context, fn func(*poolConn) error) error {
	pc, err := a.acquire(ctx)
	if err != nil {
		return err
	}
	// Closing the transport (not the client, whose Close may wait for a
	// literal to be read) makes every pending command fail.
	stop := context.AfterFunc(ctx, func() { pc.w.Close() })
	done := false
	defer func() {
		if !done { // fn panicked: the connection state is unknown
			stop()
			a.release(pc, true)
		}
	}()
	ferr := fn(pc)
	done = true
	aborted := !stop()
	broken := aborted || !connUsable(ferr) || pc.c.State() == imap.ConnStateLogout
	a.release(pc, broken)
	if aborted && ferr == nil {
		ferr = fmt.Errorf("imapsource: %w", ctx.Err())
	}
	return ferr
}

// connUsable reports whether a connection is still in a known state after
// an operation returned err: success, a tagged NO/BAD, or an error a
// pre-check produced without touching the connection.
func connUsable(err error) bool {
	if err == nil {
		return true
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		return true
	}
	for _, s := range []error{
		eas.ErrNotFound, eas.ErrExists, eas.ErrSpecialFolder, eas.ErrNotSupported, ErrInvalidName,
		source.ErrUIDValidity, source.ErrNoCondstore,
	} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Close closes every connection, idle or busy, and stops the idle timers.
// Busy commands fail. Later calls return ErrClosed; Close itself is
// idempotent.
func (a *Account) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.done)
	idle := a.idle
	for _, pc := range idle {
		if pc.timer != nil && pc.timer.Stop() {
			a.timers.Done()
		}
		delete(a.all, pc)
	}
	busy := make([]*poolConn, 0, len(a.all))
	for pc := range a.all {
		busy = append(busy, pc)
	}
	a.idle = nil
	clear(a.all)
	a.mu.Unlock()

	for _, pc := range idle {
		closeConn(pc.c, true)
	}
	for _, pc := range busy {
		// Only the transport: no LOGOUT (a busy client may hold its
		// encoder: IDLE, AUTHENTICATE) and no imapclient Close, which
		// waits for its reader goroutine, and that waits for whoever
		// reads a body literal (an open OpenPart stream). The holder's
		// release closes the client.
		pc.w.Close()
	}
	a.timers.Wait()
	return nil
}

// takeSlot takes a pool token, waiting for one when all are in use.
func (a *Account) takeSlot(ctx context.Context) error {
	if a.cfgErr != nil {
		return a.cfgErr
	}
	select {
	case <-a.done:
		return ErrClosed
	default:
	}
	select {
	case a.sem <- struct{}{}:
	case <-a.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("imapsource: waiting for a connection: %w", ctx.Err())
	}
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		<-a.sem
		return ErrClosed
	}
	return nil
}

// acquire returns a healthy authenticated connection; the caller owns its
// slot until release.
func (a *Account) acquire(ctx context.Context) (*poolConn, error) {
	if err := a.takeSlot(ctx); err != nil {
		return nil, err
	}
	for {
		pc := a.popIdle()
		if pc == nil {
			break
		}
		if a.healthy(ctx, pc) {
			return pc, nil
		}
		a.forget(pc)
		closeConn(pc.c, false)
	}
	pc, err := a.dial(ctx)
	if err != nil {
		<-a.sem
		return nil, err
	}
	return pc, nil
}

// popIdle takes the most recently used idle connection, or nil.
func (a *Account) popIdle() *poolConn {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.idle)
	if n == 0 {
		return nil
	}
	pc := a.idle[n-1]
	a.idle = a.idle[:n-1]
	if pc.timer.Stop() {
		a.timers.Done()
	}
	pc.timer = nil
	return pc
}

// healthy reports whether an idle connection can be reused: not closed and,
// after a long idle time, answering NOOP.
func (a *Account) healthy(ctx context.Context, pc *poolConn) bool {
	select {
	case <-pc.c.Closed():
		return false
	default:
	}
	if time.Since(pc.idleSince) < healthCheckAfter {
		return true
	}
	stop := context.AfterFunc(ctx, func() { pc.c.Close() })
	err := pc.c.Noop().Wait()
	if err == nil {
		pc.syncedAt = time.Now() // NOOP also refreshed the selected mailbox
	}
	return stop() && err == nil
}

// release gives a connection back: to the idle list, or closed when broken,
// surplus or the account is closed. The slot is freed last, so that idle +
// busy never exceeds MaxConns.
func (a *Account) release(pc *poolConn, broken bool) {
	a.mu.Lock()
	if broken || a.closed || len(a.idle) >= cap(a.sem) {
		delete(a.all, pc)
		a.mu.Unlock()
		closeConn(pc.c, !broken)
		<-a.sem
		return
	}
	pc.idleSince = time.Now()
	keep := a.cfg.IdleTimeout
	if len(a.idle) > 0 {
		keep = a.cfg.SurplusIdleTimeout
	}
	a.timers.Add(1)
	pc.timer = time.AfterFunc(keep, func() {
		defer a.timers.Done()
		a.expire(pc)
	})
	a.idle = append(a.idle, pc)
	a.mu.Unlock()
	<-a.sem
}

// expire closes an idle connection whose timer fired, unless it was taken
// in the meantime.
func (a *Account) expire(pc *poolConn) {
	a.mu.Lock()
	found := false
	for i, p := range a.idle {
		if p == pc {
			a.idle = append(a.idle[:i], a.idle[i+1:]...)
			found = true
			break
		}
	}
	if found {
		delete(a.all, pc)
	}
	a.mu.Unlock()
	if found {
		a.log.Debug("imapsource: closing idle connection")
		closeConn(pc.c, true)
	}
}

// forget removes a connection from the set Close closes.
func (a *Account) forget(pc *poolConn) {
	a.mu.Lock()
	delete(a.all, pc)
	a.mu.Unlock()
}

// closeConn closes a client, saying LOGOUT first when polite (the reply is
// not awaited).
func closeConn(c *imapclient.Client, polite bool) {
	if polite {
		select {
		case <-c.Closed():
		default:
			_ = c.Logout() // only sends; Close below ends the command
		}
	}
	_ = c.Close()
}

// dial opens, secures and authenticates a new connection and registers it
// with the pool. The caller holds a slot.
func (a *Account) dial(ctx context.Context) (*poolConn, error) {
	dctx, cancel := context.WithTimeout(ctx, a.cfg.DialTimeout)
	defer cancel()
	start := time.Now()
	c, w, err := a.connect(dctx)
	if err != nil {
		if ctx.Err() != nil { // the caller gave up, not the server
			return nil, fmt.Errorf("imapsource: connect %s: %w", a.cfg.addr, ctx.Err())
		}
		if dctx.Err() != nil && !errors.Is(err, eas.ErrAuthFailed) {
			err = fmt.Errorf("%w: timed out after %v: %w", eas.ErrBackendUnavailable, a.cfg.DialTimeout, err)
		}
		a.log.Info("imapsource: connect failed", "err", err, "took", time.Since(start).Round(time.Millisecond))
		return nil, fmt.Errorf("imapsource: connect %s: %w", a.cfg.addr, err)
	}
	pc := &poolConn{c: c, w: w}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		closeConn(c, true)
		return nil, ErrClosed
	}
	a.all[pc] = struct{}{}
	a.mu.Unlock()
	a.log.Debug("imapsource: connected", "took", time.Since(start).Round(time.Millisecond))
	return pc, nil
}

// connect dials and runs the pre-authentication dance: TLS or STARTTLS or
// (loopback only) plain, greeting, then authentication. Errors wrap
// eas.ErrAuthFailed or eas.ErrBackendUnavailable.
func (a *Account) connect(ctx context.Context) (*imapclient.Client, *wire, error) {
	var (
		c   *imapclient.Client
		w   *wire
		err error
	)
	switch {
	case a.cfg.implicitTLS:
		c, w, err = a.open(ctx, func(raw net.Conn) (*imapclient.Client, *wire, error) {
			tc := tls.Client(raw, a.tlsConfig())
			if err := tc.HandshakeContext(ctx); err != nil {
				return nil, nil, fmt.Errorf("TLS handshake: %w", err)
			}
			w := newWire(tc, "", a.cfg.OnCommand)
			return imapclient.New(w, a.clientOptions()), w, nil
		})
	case !a.cfg.loopback || a.tlsMode() == tlsStartTLS:
		c, w, err = a.open(ctx, a.startTLS)
	default: // loopback imap://: STARTTLS if offered, else plain
		c, w, err = a.open(ctx, func(raw net.Conn) (*imapclient.Client, *wire, error) {
			w := newWire(raw, "", a.cfg.OnCommand)
			c := imapclient.New(w, a.clientOptions())
			if err := c.WaitGreeting(); err != nil {
				c.Close()
				return nil, nil, fmt.Errorf("greeting: %w", err)
			}
			if a.tlsMode() == tlsPlain {
				return c, w, nil
			}
			caps := c.Caps()
			if caps == nil {
				c.Close()
				return nil, nil, errors.New("no capability list")
			}
			if !caps.Has(imap.CapStartTLS) {
				a.setTLSMode(tlsPlain)
				return c, w, nil
			}
			c.Close()
			return nil, nil, errRedialStartTLS
		})
		if errors.Is(err, errRedialStartTLS) {
			a.setTLSMode(tlsStartTLS)
			c, w, err = a.open(ctx, a.startTLS)
		}
	}
	return c, w, err
}

// errRedialStartTLS tells connect that a loopback server offers STARTTLS.
var errRedialStartTLS = errors.New("redial with STARTTLS")

// open dials, hands the raw connection to setup (TLS, greeting) and
// authenticates. ctx cancellation closes the raw connection, which unblocks
// whatever step is running. Errors other than errRedialStartTLS wrap
// eas.ErrAuthFailed or eas.ErrBackendUnavailable.
func (a *Account) open(ctx context.Context, setup func(net.Conn) (*imapclient.Client, *wire, error)) (*imapclient.Client, *wire, error) {
	dialFn := a.cfg.DialContext
	if dialFn == nil {
		d := &net.Dialer{Timeout: a.cfg.DialTimeout}
		dialFn = d.DialContext
	}
	raw, err := dialFn(ctx, "tcp", a.cfg.addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: dial: %w", eas.ErrBackendUnavailable, err)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	c, w, err := setup(raw)
	if err != nil {
		stop()
		raw.Close()
		if errors.Is(err, errRedialStartTLS) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w: %w", eas.ErrBackendUnavailable, err)
	}
	err = a.authenticate(ctx, c)
	if !stop() && err == nil {
		err = fmt.Errorf("%w: %w", eas.ErrBackendUnavailable, ctx.Err())
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, w, nil
}

// startTLS upgrades raw with STARTTLS (RFC 3501 §6.2.1; RFC 8314 would
// prefer imaps://). A server that refuses it is an error: plain text is for
// loopback servers that do not offer STARTTLS at all. The exchange is done
// here rather than by imapclient so that the wire filter sits above TLS
// (imapclient would wrap TLS around whatever conn it was given); imapclient
// then starts on the TLS connection with a synthetic greeting and asks for
// the capabilities again, as RFC 3501 §6.2.1 requires.
func (a *Account) startTLS(raw net.Conn) (*imapclient.Client, *wire, error) {
	br := bufio.NewReaderSize(raw, 4096)
	readLine := func() (string, error) {
		var line []byte
		for {
			chunk, err := br.ReadSlice('\n')
			line = append(line, chunk...)
			if err == nil {
				return strings.TrimRight(string(line), "\r\n"), nil
			}
			if !errors.Is(err, bufio.ErrBufferFull) || len(line) > 64<<10 {
				return "", err
			}
		}
	}
	greeting, err := readLine()
	if err != nil {
		return nil, nil, fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(strings.ToUpper(greeting), "* OK") {
		// PREAUTH leaves no room for STARTTLS (RFC 3501 §7.1.4); BYE is a refusal.
		return nil, nil, fmt.Errorf("STARTTLS: %w (greeting %.60q)", errPlainRefused, greeting)
	}
	if a.cfg.OnCommand != nil {
		a.cfg.OnCommand("STARTTLS")
	}
	if _, err := io.WriteString(raw, "S0 STARTTLS\r\n"); err != nil {
		return nil, nil, fmt.Errorf("STARTTLS: %w", err)
	}
	for {
		line, err := readLine()
		if err != nil {
			return nil, nil, fmt.Errorf("STARTTLS: %w", err)
		}
		if !strings.HasPrefix(line, "S0 ") {
			continue // untagged data (CAPABILITY …)
		}
		if err := parseTagged([]byte(line)); err != nil {
			return nil, nil, fmt.Errorf("STARTTLS: %w (%v)", errPlainRefused, err)
		}
		break
	}
	if br.Buffered() > 0 {
		// Plain text after the OK would be read as if it came over TLS
		// (the STARTTLS command injection of CVE-2011-0411).
		return nil, nil, errors.New("STARTTLS: server sent data before the TLS handshake")
	}
	tc := tls.Client(raw, a.tlsConfig())
	if err := tc.Handshake(); err != nil {
		return nil, nil, fmt.Errorf("STARTTLS: TLS handshake: %w", err)
	}
	w := newWire(tc, "* OK [easbridge] TLS established\r\n", a.cfg.OnCommand)
	return imapclient.New(w, a.clientOptions()), w, nil
}

// authenticate logs in: AUTHENTICATE PLAIN (RFC 4616) when offered, else
// LOGIN (RFC 3501 §6.2.3). A connection opened PREAUTH is already in.
func (a *Account) authenticate(ctx context.Context, c *imapclient.Client) error {
	if err := c.WaitGreeting(); err != nil {
		return fmt.Errorf("%w: greeting: %w", eas.ErrBackendUnavailable, err)
	}
	if c.State() == imap.ConnStateAuthenticated {
		return nil // PREAUTH, RFC 3501 §7.1.4
	}
	caps := c.Caps()
	if caps == nil {
		return fmt.Errorf("%w: no capability list", eas.ErrBackendUnavailable)
	}
	var err error
	switch {
	case hasMech(caps, sasl.Plain):
		err = c.Authenticate(sasl.NewPlainClient("", a.user, a.password))
	case !caps.Has(imap.CapLoginDisabled):
		err = c.Login(a.user, a.password).Wait()
	default:
		return fmt.Errorf("%w: server offers neither AUTH=PLAIN nor LOGIN", eas.ErrBackendUnavailable)
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: login: %w", eas.ErrBackendUnavailable, err)
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		switch {
		case ie.Code == imap.ResponseCodeUnavailable: // RFC 5530: try later
			return fmt.Errorf("%w: login: %w", eas.ErrBackendUnavailable, err)
		case ie.Type == imap.StatusResponseTypeNo:
			return fmt.Errorf("%w: login: %w", eas.ErrAuthFailed, err)
		}
	}
	return fmt.Errorf("%w: login: %w", eas.ErrBackendUnavailable, err)
}

func hasMech(caps imap.CapSet, mech string) bool {
	for _, m := range caps.AuthMechanisms() {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

func (a *Account) clientOptions() *imapclient.Options {
	// No DebugWriter: it would record the password. RFC 2047 words in
	// BODYSTRUCTURE parameters (file names) may use any charset.
	return &imapclient.Options{WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader}}
}

func (a *Account) tlsConfig() *tls.Config {
	var tc *tls.Config
	if a.cfg.TLS != nil {
		tc = a.cfg.TLS.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = a.cfg.host
	}
	if tc.NextProtos == nil && a.cfg.implicitTLS {
		tc.NextProtos = []string{"imap"} // RFC 8314 §7.3 ALPN
	}
	return tc
}

func (a *Account) tlsMode() tlsMode {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mode
}

func (a *Account) setTLSMode(m tlsMode) {
	a.mu.Lock()
	a.mode = m
	a.mu.Unlock()
}
