package smtpsend

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testLogger logs to the test output at debug level when -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// serverOptions configures an in-process go-smtp server.
type serverOptions struct {
	mechs       []string        // AUTH mechanisms offered ("PLAIN", "LOGIN"); none = no AUTH
	startTLS    *tls.Config     // offer STARTTLS with this config
	implicitTLS *tls.Config     // TLS from the first byte
	maxBytes    int64           // Server.MaxMessageBytes (0: 64 MiB)
	smtputf8    bool            // advertise SMTPUTF8 (RFC 6531)
	authErr     *smtp.SMTPError // reply to every AUTH instead of checking
	mailErr     func(from string) error
	rcptErr     func(to string) error
	// data consumes the message; nil records it in memory.
	data func(r io.Reader) error
}

// received is one message a testServer accepted.
type received struct {
	from string
	to   []string
	data []byte
	user string // authenticated user, "" without AUTH
	tls  bool
}

// testServer is an in-process SMTP server on 127.0.0.1.
type testServer struct {
	addr string
	opts serverOptions

	mu     sync.Mutex
	msgs   []received
	auths  int // AUTH attempts
	mails  int // MAIL commands
	datas  int // DATA commands that reached the session
	closed chan struct{}
}

func startServer(t *testing.T, opts serverOptions) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String(), opts: opts, closed: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		s := &session{ts: ts, tls: isTLS}
		if len(opts.mechs) > 0 {
			return &authSession{session: s}, nil
		}
		return s, nil
	}))
	srv.Domain = "mx.example.test"
	srv.MaxMessageBytes = 64 << 20
	if opts.maxBytes > 0 {
		srv.MaxMessageBytes = opts.maxBytes
	}
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = nopLogger{}
	srv.EnableSMTPUTF8 = opts.smtputf8
	if opts.startTLS != nil {
		srv.TLSConfig = opts.startTLS
	}
	if opts.implicitTLS != nil {
		srv.TLSConfig = opts.implicitTLS
		ln = tls.NewListener(ln, opts.implicitTLS)
		srv.AllowInsecureAuth = false
	}
	if opts.startTLS == nil && opts.implicitTLS == nil {
		srv.AllowInsecureAuth = true // AUTH over plain, like the Dovecot rig
	}
	go func() {
		defer close(ts.closed)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-ts.closed
	})
	return ts
}

func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.msgs)
}

func (ts *testServer) counts() (auths, mails, datas int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.auths, ts.mails, ts.datas
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

type session struct {
	ts   *testServer
	tls  bool
	user string
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.ts.mu.Lock()
	s.ts.mails++
	s.ts.mu.Unlock()
	if s.ts.opts.mailErr != nil {
		if err := s.ts.opts.mailErr(from); err != nil {
			return err
		}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ts.opts.rcptErr != nil {
		if err := s.ts.opts.rcptErr(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	s.ts.mu.Lock()
	s.ts.datas++
	s.ts.mu.Unlock()
	if s.ts.opts.data != nil {
		if err := s.ts.opts.data(r); err != nil {
			return err
		}
		s.ts.mu.Lock()
		s.ts.msgs = append(s.ts.msgs, received{from: s.from, to: slices.Clone(s.to), user: s.user, tls: s.tls})
		s.ts.mu.Unlock()
		return nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, received{from: s.from, to: slices.Clone(s.to), data: b, user: s.user, tls: s.tls})
	s.ts.mu.Unlock()
	return nil
}

// authSession adds AUTH with the users alice/alicepw.
type authSession struct{ *session }

func (s *authSession) AuthMechanisms() []string { return s.ts.opts.mechs }

func (s *authSession) Auth(mech string) (sasl.Server, error) {
	s.ts.mu.Lock()
	s.ts.auths++
	s.ts.mu.Unlock()
	check := func(user, pass string) error {
		if s.ts.opts.authErr != nil {
			return s.ts.opts.authErr
		}
		if user != "alice" || pass != "alicepw" {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of the (obsolete, undocumented) LOGIN
// mechanism, which go-sasl only implements as a client.
type loginServer struct {
	check      func(user, pass string) error
	step       int
	user, pass string
}

func (l *loginServer) Next(resp []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step++
		if len(resp) > 0 { // initial response carries the user name
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(resp)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.pass = string(resp)
		l.step++
		return nil, true, l.check(l.user, l.pass)
	}
	return nil, true, errors.New("unexpected LOGIN step")
}

// testCert returns a self-signed server certificate for 127.0.0.1,
// localhost and mail.example.test, and a pool trusting it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "easbridge smtpsend test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", "mail.example.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// redirectDialer dials to instead of the address asked for, so a test can
// use a non-loopback host name in the URL.
func redirectDialer(to string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
}

// mustSender parses rawURL and returns a Sender for it.
func mustSender(t *testing.T, rawURL string, edit func(*Config)) *Sender {
	t.Helper()
	cfg, err := ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg)
	}
	return New(cfg, testLogger(t))
}

const simpleMsg = "From: Alice <alice@example.test>\r\n" +
	"To: Bob <bob@example.test>\r\n" +
	"Subject: hello\r\n" +
	"\r\n" +
	"Hi Bob.\r\n" +
	".leading dot\r\n"
