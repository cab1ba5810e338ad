// Package demo runs easbridge's built-in demo account: when no account is
// configured, easbridge points its IMAP, SMTP, CalDAV and CardDAV sources at
// in-process servers that hold a small, realistic data set, so that a phone
// on the LAN sees mail, events, tasks, notes and contacts at once.
//
// Everything lives in memory and listens on 127.0.0.1 only, on ports chosen
// by the system:
//
//   - IMAP: go-imap v2 imapserver + imapmemserver, plaintext login (loopback
//     only), mailboxes INBOX, Drafts, Sent, Trash, Junk, Archive, Projects and
//     Projects/Garden ("/" delimiter) with RFC 6154 SPECIAL-USE attributes.
//   - SMTP: go-smtp with AUTH PLAIN; every accepted message is appended to
//     Sent (and to INBOX when addressed to the demo user).
//   - DAV: go-webdav CalDAV and CardDAV on one HTTP server, Basic auth,
//     principal /demo/, calendar home /demo/calendars/ (calendar, tasks,
//     notes), address book home /demo/contacts/ (contacts).
//
// The data is generated relative to Options.Now and is lost on Close.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	// Europe/Berlin must resolve on systems without a zoneinfo database
	// (Windows): the demo calendar and go-ical's TZID handling need it.
	_ "time/tzdata"

	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-smtp"
)

// DefaultUser is the demo user name when Options.User is empty.
const DefaultUser = "demo"

// domain is the mail domain of the demo user and of its correspondents
// (RFC 2606 reserves example.com).
const domain = "example.com"

// Options configures Start.
type Options struct {
	// User and Password are the demo credentials for every protocol. User
	// defaults to DefaultUser, Password to a random 8-character string.
	User, Password string
	// Log receives server errors; nil discards them.
	Log *slog.Logger
	// Now anchors the generated data (mail dates, events, tasks); zero means
	// time.Now().
	Now time.Time
}

// Demo is a running demo account. Its fields are read-only.
type Demo struct {
	User, Password string
	// Address is the demo user's e-mail address (User@example.com unless
	// User already is an address).
	Address string
	// IMAPURL is "imap://127.0.0.1:PORT" (plaintext, loopback only).
	IMAPURL string
	// SMTPURL is "smtp://127.0.0.1:PORT" (AUTH PLAIN, no TLS, loopback only).
	SMTPURL string
	// DAVURL is "http://127.0.0.1:PORT/", the CalDAV and CardDAV base URL.
	DAVURL string

	log *slog.Logger
	// now is the clock for changes made after Start.
	now func() time.Time

	mail *mailStore
	dav  *davStore

	imapSrv *imapserver.Server
	smtpSrv *smtp.Server
	httpSrv *http.Server

	listeners []*trackedListener
	serving   sync.WaitGroup // one per Serve goroutine
	stop      context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// Start seeds the demo data and starts the IMAP, SMTP and DAV servers. ctx
// bounds start-up only; the servers run until Close.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("demo: start: %w", err)
	}
	d := &Demo{
		User:     opts.User,
		Password: opts.Password,
		log:      opts.Log,
		now:      time.Now,
	}
	if d.User == "" {
		d.User = DefaultUser
	}
	if d.Password == "" {
		pw, err := randomPassword(8)
		if err != nil {
			return nil, fmt.Errorf("demo: generate password: %w", err)
		}
		d.Password = pw
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.log = d.log.With("component", "demo")
	d.Address = d.User
	if !strings.Contains(d.Address, "@") {
		d.Address += "@" + domain
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}

	var err error
	if d.mail, err = newMailStore(d.User, d.Password, d.Address, now); err != nil {
		return nil, fmt.Errorf("demo: seed mail: %w", err)
	}
	if d.dav, err = newDAVStore(d.Address, now, d.now); err != nil {
		return nil, fmt.Errorf("demo: seed dav: %w", err)
	}

	baseCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stop = stop
	ok := false
	defer func() {
		if !ok {
			_ = d.Close()
		}
	}()

	imapLn, err := d.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: imap: %w", err)
	}
	smtpLn, err := d.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: smtp: %w", err)
	}
	httpLn, err := d.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: dav: %w", err)
	}
	d.IMAPURL = "imap://" + imapLn.Addr().String()
	d.SMTPURL = "smtp://" + smtpLn.Addr().String()
	d.DAVURL = "http://" + httpLn.Addr().String() + "/"

	d.imapSrv = d.newIMAPServer()
	d.smtpSrv = d.newSMTPServer()
	d.httpSrv = d.newHTTPServer(baseCtx)

	d.serve("imap", imapLn, d.imapSrv.Serve)
	d.serve("smtp", smtpLn, d.smtpSrv.Serve)
	d.serve("dav", httpLn, d.httpSrv.Serve)

	ok = true
	d.log.Info("demo account running", "user", d.User,
		"imap", d.IMAPURL, "smtp", d.SMTPURL, "dav", d.DAVURL)
	return d, nil
}

// Close stops the listeners, cuts every open connection, waits until the
// servers have released them and their accept loops have returned, then
// drops the data. It is safe to call more than once.
func (d *Demo) Close() error {
	d.closeOnce.Do(func() {
		// Stop accepting and cut the connections; a server's accept loop
		// then returns and each connection handler exits and closes its
		// connection, which is what shutdown waits for.
		for _, l := range d.listeners {
			l.shutdown()
		}
		d.serving.Wait()
		// The servers hold no more listeners or connections: Close only
		// releases what is left of their bookkeeping.
		var errs []error
		if d.imapSrv != nil {
			if err := d.imapSrv.Close(); err != nil && !isClosedErr(err) {
				errs = append(errs, fmt.Errorf("imap: %w", err))
			}
		}
		if d.smtpSrv != nil {
			if err := d.smtpSrv.Close(); err != nil && !isClosedErr(err) {
				errs = append(errs, fmt.Errorf("smtp: %w", err))
			}
		}
		if d.httpSrv != nil {
			if err := d.httpSrv.Close(); err != nil && !isClosedErr(err) {
				errs = append(errs, fmt.Errorf("dav: %w", err))
			}
		}
		if d.stop != nil {
			d.stop()
		}
		if err := errors.Join(errs...); err != nil {
			d.closeErr = fmt.Errorf("demo: close: %w", err)
		}
	})
	return d.closeErr
}

// listen opens a tracked TCP listener on a free loopback port.
func (d *Demo) listen(ctx context.Context) (*trackedListener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	tl := newTrackedListener(ln)
	d.listeners = append(d.listeners, tl)
	return tl, nil
}

// serve runs a server's accept loop in a goroutine that Close waits for.
func (d *Demo) serve(name string, ln net.Listener, serve func(net.Listener) error) {
	d.serving.Add(1)
	go func() {
		defer d.serving.Done()
		if err := serve(ln); err != nil && !isClosedErr(err) {
			d.log.Error("server stopped", "server", name, "err", err)
		}
	}()
}

// isClosedErr reports whether err only says that a server or listener was
// closed, the normal way out of an accept loop.
func isClosedErr(err error) bool {
	if err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) ||
		errors.Is(err, smtp.ErrServerClosed) {
		return true
	}
	// imapserver's "server closed" error is unexported.
	return strings.Contains(err.Error(), "imapserver: server closed")
}

// passwordAlphabet leaves out look-alikes (0/O, 1/l/I) so the password is
// easy to type on a phone.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomPassword returns n characters drawn uniformly from passwordAlphabet.
func randomPassword(n int) (string, error) {
	const limit = 256 - 256%len(passwordAlphabet)
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("read random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}

// trackedListener remembers the connections it accepted so that shutdown
// can cut them and wait until the server holding each one has closed it.
type trackedListener struct {
	net.Listener

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
	open   sync.WaitGroup // one per connection the server has not closed yet
}

func newTrackedListener(ln net.Listener) *trackedListener {
	return &trackedListener{Listener: ln, conns: make(map[*trackedConn]struct{})}
}

// Accept implements net.Listener.
func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	l.open.Add(1)
	return tc, nil
}

// shutdown closes the listener and every connection, then waits until the
// server has closed each connection itself (its handler is done with it).
func (l *trackedListener) shutdown() {
	l.mu.Lock()
	l.closed = true
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()

	_ = l.Listener.Close()
	for _, c := range conns {
		// Close the socket underneath: the handler's read fails, it
		// returns and calls trackedConn.Close, which releases l.open.
		_ = c.Conn.Close()
	}
	l.open.Wait()
}

// trackedConn is a connection handed out by a trackedListener.
type trackedConn struct {
	net.Conn
	l    *trackedListener
	once sync.Once
}

// Close implements net.Conn.
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
		c.l.open.Done()
	})
	return err
}

// printfLogger adapts slog to the Printf-style loggers of imapserver and
// go-smtp.
type printfLogger struct{ log *slog.Logger }

func (l printfLogger) Printf(format string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l printfLogger) Println(v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintln(v...)))
}
