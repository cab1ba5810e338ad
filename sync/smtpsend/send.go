package smtpsend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"easbridge/server/eas"
)

// Sender submits messages to one submission server. It holds no connection
// between calls and is safe for concurrent use: every Send dials its own.
type Sender struct {
	cfg    Config
	cfgErr error // from parsing a hand-built Config; returned by Send
	log    *slog.Logger
}

// New returns a Sender for cfg. A Config that was not made by ParseURL is
// parsed here; a bad URL makes every Send fail with that error. log may be
// nil (discard).
func New(cfg Config, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sender{cfg: cfg, log: log.With("component", "smtpsend")}
	if s.cfg.addr == "" {
		s.cfgErr = s.cfg.parse()
	}
	return s
}

// Send submits msg (RFC 5322, CRLF line ends) with the envelope sender from
// and the recipients to (RFC 5321 MAIL FROM / RCPT TO). msg is read once
// and streamed to the server, never held whole in memory.
//
// user and password are used for AUTH PLAIN (AUTH LOGIN when only that is
// offered) when the server offers AUTH and user is not empty; a server that
// offers no AUTH is used without it.
//
// Errors: eas.ErrBackendUnavailable (connecting, TLS, greeting, connection
// lost), eas.ErrAuthFailed (535), or an *eas.StatusError: 115
// SendQuotaExceeded (552), 116 MessageRecipientUnresolved (5xx to RCPT),
// 111 ServerErrorRetryLater (other 4xx), 120 MailSubmissionFailed (other
// failures). A failure to read msg is returned wrapped as it is; nothing is
// submitted then.
func (s *Sender) Send(ctx context.Context, user, password string, from string, to []string, msg io.Reader) error {
	if s.cfgErr != nil {
		return s.cfgErr
	}
	if len(to) == 0 {
		return eas.Errorf(eas.StatusMessageHasNoRecipient, "smtpsend: no recipients")
	}
	if err := checkAddresses(from, to); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("smtpsend: %w", err)
	}
	start := time.Now()
	log := s.log.With("server", s.cfg.addr, "user", user)

	c, raw, err := s.connect(ctx, user, password)
	if err != nil {
		log.Warn("submission failed", "stage", "connect", "err", err)
		return err
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer func() {
		stop()
		c.Close()
	}()

	err = s.transaction(ctx, c, from, to, msg, log)
	if err != nil {
		log.Warn("submission failed", "rcpts", len(to), "err", err)
		return err
	}
	// The message is accepted; a failing QUIT changes nothing.
	_ = c.Quit()
	log.Info("message submitted", "rcpts", len(to), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// transaction runs MAIL, RCPT and DATA on an authenticated client.
func (s *Sender) transaction(ctx context.Context, c *smtp.Client, from string, to []string, msg io.Reader, log *slog.Logger) error {
	var opts *smtp.MailOptions
	if !isASCII(from) || !allASCII(to) {
		// RFC 6531 SMTPUTF8; go-smtp would fail locally without it.
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			if !isASCII(from) {
				return eas.Errorf(eas.StatusMailSubmissionFailed, "smtpsend: sender %q needs SMTPUTF8, which the server does not offer", from)
			}
			return eas.Errorf(eas.StatusMessageRecipientUnresolved, "smtpsend: internationalized recipient needs SMTPUTF8, which the server does not offer")
		}
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(from, opts); err != nil {
		return mapReply(ctx, stageMail, err)
	}

	// Try every recipient so the error names all rejected ones; never send
	// DATA after a rejection (no partial delivery).
	var rejected []rcptError
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				return mapReply(ctx, stageRcpt, err) // connection trouble
			}
			log.Debug("recipient rejected", "rcpt", rcpt, "code", se.Code, "enhanced", se.EnhancedCode)
			rejected = append(rejected, rcptError{rcpt, se})
		}
	}
	if len(rejected) > 0 {
		_ = c.Reset() // abort the transaction politely; the connection is closed anyway
		return rcptFailure(rejected)
	}

	w, err := c.Data()
	if err != nil {
		return mapReply(ctx, stageData, err)
	}
	er := &errReader{r: msg}
	if _, err := io.Copy(w, er); err != nil {
		// Do not Close w: that would send the terminating "." and submit a
		// truncated message. Closing the connection aborts the transaction.
		c.Close()
		if er.err != nil {
			return fmt.Errorf("smtpsend: read message: %w", er.err)
		}
		return mapReply(ctx, stageData, err)
	}
	if err := w.Close(); err != nil {
		return mapReply(ctx, stageEndData, err)
	}
	return nil
}

// connect dials, secures and authenticates. On success it returns the client
// and the raw TCP connection (closed on ctx cancellation by the caller).
func (s *Sender) connect(ctx context.Context, user, password string) (*smtp.Client, net.Conn, error) {
	dialFn := s.cfg.DialContext
	if dialFn == nil {
		d := &net.Dialer{Timeout: s.cfg.DialTimeout}
		dialFn = d.DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	raw, err := dialFn(dctx, "tcp", s.cfg.addr)
	if err != nil {
		return nil, nil, s.connErr(ctx, "dial "+s.cfg.addr, err)
	}
	// ctx (or the setup deadline) ending closes raw, which unblocks any
	// read or write below; go-smtp resets the connection deadline per
	// command, so a deadline alone would not hold.
	stop := context.AfterFunc(dctx, func() { raw.Close() })
	c, err := s.setup(ctx, dctx, raw, user, password)
	if !stop() {
		// dctx ended and closed raw under setup: report why, not the
		// "use of closed network connection" that setup saw.
		if c != nil {
			c.Close()
		}
		cause := err
		if cause == nil {
			cause = dctx.Err()
		}
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("smtpsend: connect: %w (%v)", cerr, cause)
		} else {
			err = fmt.Errorf("smtpsend: connect: %w: no answer within %v (%v)", eas.ErrBackendUnavailable, s.cfg.DialTimeout, cause)
		}
	}
	if err != nil {
		raw.Close()
		return nil, nil, err
	}
	c.CommandTimeout = commandTimeout
	return c, raw, nil
}

// setup secures the connection, says EHLO and authenticates. ctx is the
// caller's context (its end is reported as such); dctx also carries the
// DialTimeout deadline (its expiry is the backend being unavailable).
func (s *Sender) setup(ctx, dctx context.Context, raw net.Conn, user, password string) (*smtp.Client, error) {
	hello := s.helloName(raw)
	var conn net.Conn
	if s.cfg.implicitTLS {
		tc := tls.Client(raw, s.cfg.tlsConfig())
		if err := tc.HandshakeContext(dctx); err != nil {
			return nil, s.connErr(ctx, "TLS handshake", err)
		}
		conn = tc
	} else {
		var err error
		conn, err = s.startTLS(ctx, dctx, raw, hello)
		if err != nil {
			return nil, err
		}
	}

	c := smtp.NewClient(conn)
	c.CommandTimeout = s.cfg.DialTimeout
	if err := c.Hello(hello); err != nil {
		c.Close()
		return nil, s.connErr(ctx, "EHLO", err)
	}
	if err := s.auth(ctx, c, user, password); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// startTLS reads the greeting, says EHLO and runs STARTTLS (RFC 3207) when
// offered. It returns the connection to hand to go-smtp, which replays a
// 220 greeting. Without STARTTLS the connection stays plain, for loopback
// hosts only.
func (s *Sender) startTLS(ctx, dctx context.Context, raw net.Conn, hello string) (net.Conn, error) {
	tp := textproto.NewConn(raw) // never Closed: raw lives on
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, s.connErr(ctx, "greeting", err)
	}
	exts, err := ehlo(tp, hello)
	if err != nil {
		return nil, s.connErr(ctx, "EHLO", err)
	}
	if _, ok := exts["STARTTLS"]; !ok {
		if !s.cfg.loopback {
			return nil, fmt.Errorf("smtpsend: %s: %w: %w", s.cfg.addr, eas.ErrBackendUnavailable, errPlainRefused)
		}
		if tp.R.Buffered() != 0 {
			return nil, fmt.Errorf("smtpsend: EHLO: %w: unexpected data after the reply", eas.ErrBackendUnavailable)
		}
		return &replayConn{Conn: raw, pre: strings.NewReader(replayedGreeting)}, nil
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, s.connErr(ctx, "STARTTLS", err)
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, s.connErr(ctx, "STARTTLS", err)
	}
	// RFC 7457 §2.2: anything the server sent after its 220 was sent in
	// clear text and must not be read as if it came over TLS.
	if tp.R.Buffered() != 0 {
		return nil, fmt.Errorf("smtpsend: STARTTLS: %w: data after the 220 reply (command injection?)", eas.ErrBackendUnavailable)
	}
	tc := tls.Client(raw, s.cfg.tlsConfig())
	if err := tc.HandshakeContext(dctx); err != nil {
		return nil, s.connErr(ctx, "TLS handshake after STARTTLS", err)
	}
	return &replayConn{Conn: tc, pre: strings.NewReader(replayedGreeting)}, nil
}

// replayedGreeting is what go-smtp reads as the greeting of a connection
// whose real greeting startTLS consumed.
const replayedGreeting = "220 easbridge: greeting already read\r\n"

// replayConn serves pre before the connection's own data.
type replayConn struct {
	net.Conn
	pre *strings.Reader
}

func (c *replayConn) Read(p []byte) (int, error) {
	if c.pre.Len() > 0 {
		return c.pre.Read(p)
	}
	return c.Conn.Read(p)
}

// ehlo says EHLO and returns the extension keywords (upper case) with their
// parameters; a server that rejects EHLO with 500/502 gets HELO and has no
// extensions (RFC 5321 §4.1.4, §3.2).
func ehlo(tp *textproto.Conn, hello string) (map[string]string, error) {
	if err := tp.PrintfLine("EHLO %s", hello); err != nil {
		return nil, err
	}
	code, msg, err := tp.ReadResponse(250)
	if err != nil {
		if code != 500 && code != 502 {
			return nil, err
		}
		if err := tp.PrintfLine("HELO %s", hello); err != nil {
			return nil, err
		}
		if _, _, err := tp.ReadResponse(250); err != nil {
			return nil, err
		}
		return map[string]string{}, nil
	}
	exts := make(map[string]string)
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] { // the first line is the greeting text
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		exts[strings.ToUpper(k)] = v
	}
	return exts, nil
}

// auth authenticates when the server offers AUTH (RFC 4954) and user is set.
func (s *Sender) auth(ctx context.Context, c *smtp.Client, user, password string) error {
	if user == "" {
		return nil
	}
	if ok, _ := c.Extension("AUTH"); !ok {
		s.log.Debug("server offers no AUTH; sending without", "server", s.cfg.addr)
		return nil
	}
	var (
		mech string
		cl   sasl.Client
	)
	switch {
	case c.SupportsAuth(sasl.Plain):
		mech, cl = sasl.Plain, sasl.NewPlainClient("", user, password) // RFC 4616
	case c.SupportsAuth(sasl.Login):
		mech, cl = sasl.Login, sasl.NewLoginClient(user, password)
	default:
		_, mechs := c.Extension("AUTH")
		return eas.Errorf(eas.StatusMailSubmissionFailed, "smtpsend: server offers neither AUTH PLAIN nor LOGIN (offers %q)", mechs)
	}
	err := c.Auth(cl)
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("smtpsend: AUTH %s: %w (%v)", mech, ctx.Err(), err)
	case errors.As(err, &se) && (se.Code == 535 || se.EnhancedCode == smtp.EnhancedCode{5, 7, 8}):
		// RFC 4954 §6: 535 5.7.8 authentication credentials invalid.
		return fmt.Errorf("smtpsend: AUTH %s: %w: %w", mech, eas.ErrAuthFailed, err)
	case errors.As(err, &se) && se.Code/100 == 5:
		// 534 mechanism too weak, 538 encryption required, …: a
		// configuration problem no password will fix.
		return &eas.StatusError{Status: eas.StatusMailSubmissionFailed, Err: fmt.Errorf("smtpsend: AUTH %s: %w", mech, err)}
	default: // 454 temporary failure, connection trouble
		return fmt.Errorf("smtpsend: AUTH %s: %w: %w", mech, eas.ErrBackendUnavailable, err)
	}
}

// helloName is Config.HelloName, else a FQDN host name, else the address
// literal of the local end (RFC 5321 §4.1.4 allows it when there is no
// meaningful name).
func (s *Sender) helloName(c net.Conn) string {
	if s.cfg.HelloName != "" {
		return s.cfg.HelloName
	}
	if h, err := os.Hostname(); err == nil && strings.Contains(h, ".") && !strings.ContainsAny(h, " \t\r\n") {
		return h
	}
	if ta, ok := c.LocalAddr().(*net.TCPAddr); ok {
		if ip4 := ta.IP.To4(); ip4 != nil {
			return "[" + ip4.String() + "]"
		}
		return "[IPv6:" + ta.IP.String() + "]"
	}
	return "localhost"
}

// connErr wraps a failure before the mail transaction: ctx's error when
// ctx ended, else eas.ErrBackendUnavailable (a 4xx/5xx greeting or EHLO
// reply included: the server does not serve us now).
func (s *Sender) connErr(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("smtpsend: %s: %w (%v)", op, cerr, err)
	}
	return fmt.Errorf("smtpsend: %s: %w: %w", op, eas.ErrBackendUnavailable, err)
}

// checkAddresses rejects what cannot go into MAIL FROM / RCPT TO (RFC 5321
// §4.1.2 Path): line breaks and angle brackets, and empty recipients. The
// empty sender (null reverse-path) is allowed.
func checkAddresses(from string, to []string) error {
	if strings.ContainsAny(from, "\r\n<>") {
		return eas.Errorf(eas.StatusMailSubmissionFailed, "smtpsend: invalid sender %q", from)
	}
	for _, r := range to {
		if r == "" || strings.ContainsAny(r, "\r\n<> ") {
			return eas.Errorf(eas.StatusMessageRecipientUnresolved, "smtpsend: invalid recipient %q", r)
		}
	}
	return nil
}

// errReader remembers the error of the underlying reader, so that a failed
// copy can tell reading the message from writing to the server.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allASCII(l []string) bool {
	for _, s := range l {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
