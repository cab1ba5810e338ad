package smtpsend

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"easbridge/server/eas"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw      string
		addr     string
		implicit bool
		loopback bool
		wantErr  bool
	}{
		{raw: "smtp://mail.example.test", addr: "mail.example.test:587"},
		{raw: "submission://mail.example.test", addr: "mail.example.test:587"},
		{raw: "SMTP://mail.example.test:25", addr: "mail.example.test:25"},
		{raw: "smtps://mail.example.test", addr: "mail.example.test:465", implicit: true},
		{raw: "smtps://mail.example.test:2465/", addr: "mail.example.test:2465", implicit: true},
		{raw: "smtp://127.0.0.1:2525", addr: "127.0.0.1:2525", loopback: true},
		{raw: "smtp://[::1]:2525", addr: "[::1]:2525", loopback: true},
		{raw: "smtp://localhost", addr: "localhost:587", loopback: true},
		{raw: " smtp://mail.example.test ", addr: "mail.example.test:587"},
		{raw: "imap://mail.example.test", wantErr: true},
		{raw: "smtp://user:pw@mail.example.test", wantErr: true},
		{raw: "smtp://mail.example.test/path", wantErr: true},
		{raw: "smtp://mail.example.test?x=1", wantErr: true},
		{raw: "smtp://mail.example.test:0", wantErr: true},
		{raw: "smtp://mail.example.test:99999", wantErr: true},
		{raw: "smtp://", wantErr: true},
		{raw: "mail.example.test:587", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			cfg, err := ParseURL(tt.raw)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %+v, want error", tt.raw, cfg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Addr() != tt.addr || cfg.ImplicitTLS() != tt.implicit || cfg.loopback != tt.loopback {
				t.Errorf("got addr %q implicit %v loopback %v, want %q %v %v", cfg.Addr(), cfg.ImplicitTLS(), cfg.loopback, tt.addr, tt.implicit, tt.loopback)
			}
			if cfg.DialTimeout != DefaultDialTimeout {
				t.Errorf("DialTimeout = %v", cfg.DialTimeout)
			}
		})
	}
}

func TestNewWithHandBuiltConfig(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s := New(Config{URL: "smtp://" + ts.addr}, nil)
	if err := s.Send(context.Background(), "", "", "alice@example.test", []string{"bob@example.test"}, strings.NewReader(simpleMsg)); err != nil {
		t.Fatal(err)
	}
	bad := New(Config{URL: "ftp://x"}, nil)
	if err := bad.Send(context.Background(), "", "", "a@x.test", []string{"b@x.test"}, strings.NewReader(simpleMsg)); err == nil {
		t.Fatal("Send with a bad URL succeeded")
	}
}

// TestSendTransports covers the transport and authentication variants
// against in-process servers.
func TestSendTransports(t *testing.T) {
	cert, pool := testCert(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	trusted := &tls.Config{RootCAs: pool}

	tests := []struct {
		name     string
		opts     serverOptions
		url      func(addr string) string
		edit     func(cfg *Config, addr string)
		user     string
		wantUser string // authenticated as
		wantTLS  bool
	}{
		{
			name: "relay without AUTH, credentials unused",
			opts: serverOptions{},
			url:  func(a string) string { return "smtp://" + a },
			user: "alice",
		},
		{
			name:     "plain loopback with AUTH PLAIN",
			opts:     serverOptions{mechs: []string{"PLAIN", "LOGIN"}},
			url:      func(a string) string { return "smtp://" + a },
			user:     "alice",
			wantUser: "alice",
		},
		{
			name:     "AUTH LOGIN only",
			opts:     serverOptions{mechs: []string{"LOGIN"}},
			url:      func(a string) string { return "submission://" + a },
			user:     "alice",
			wantUser: "alice",
		},
		{
			name:     "STARTTLS self-signed with RootCAs",
			opts:     serverOptions{mechs: []string{"PLAIN"}, startTLS: serverTLS},
			url:      func(a string) string { return "smtp://" + a },
			edit:     func(c *Config, _ string) { c.TLS = trusted },
			user:     "alice",
			wantUser: "alice",
			wantTLS:  true,
		},
		{
			name: "STARTTLS to a non-loopback host name",
			opts: serverOptions{mechs: []string{"PLAIN"}, startTLS: serverTLS},
			url:  func(string) string { return "smtp://mail.example.test:587" },
			edit: func(c *Config, a string) {
				c.TLS = trusted
				c.DialContext = redirectDialer(a)
			},
			user:     "alice",
			wantUser: "alice",
			wantTLS:  true,
		},
		{
			name:     "implicit TLS",
			opts:     serverOptions{mechs: []string{"PLAIN"}, implicitTLS: serverTLS},
			url:      func(a string) string { return "smtps://" + a },
			edit:     func(c *Config, _ string) { c.TLS = trusted },
			user:     "alice",
			wantUser: "alice",
			wantTLS:  true,
		},
		{
			name: "no user: no AUTH even when offered",
			opts: serverOptions{mechs: []string{"PLAIN"}},
			url:  func(a string) string { return "smtp://" + a },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.opts)
			s := mustSender(t, tt.url(ts.addr), func(c *Config) {
				c.HelloName = "client.example.test"
				if tt.edit != nil {
					tt.edit(c, ts.addr)
				}
			})
			pw := ""
			if tt.user != "" {
				pw = "alicepw"
			}
			err := s.Send(context.Background(), tt.user, pw, "alice@example.test", []string{"bob@example.test", "carol@example.test"}, strings.NewReader(simpleMsg))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := ts.messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.from != "alice@example.test" || strings.Join(m.to, ",") != "bob@example.test,carol@example.test" {
				t.Errorf("envelope %q → %q", m.from, m.to)
			}
			if string(m.data) != simpleMsg {
				t.Errorf("data:\n%q\nwant\n%q", m.data, simpleMsg)
			}
			if m.user != tt.wantUser {
				t.Errorf("authenticated as %q, want %q", m.user, tt.wantUser)
			}
			if m.tls != tt.wantTLS {
				t.Errorf("TLS = %v, want %v", m.tls, tt.wantTLS)
			}
			if auths, _, _ := ts.counts(); tt.wantUser == "" && auths != 0 {
				t.Errorf("%d AUTH attempts, want none", auths)
			}
		})
	}
}

// TestSendConnectFailures: everything before MAIL that fails is
// eas.ErrBackendUnavailable, and no credentials or mail reach the server.
func TestSendConnectFailures(t *testing.T) {
	cert, _ := testCert(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}

	closedPort := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}

	tests := []struct {
		name    string
		opts    *serverOptions // nil: no server
		url     func(addr string) string
		edit    func(cfg *Config, addr string)
		wantErr error
	}{
		{
			name: "unreachable port",
			url:  func(string) string { return "smtp://" + closedPort() },
		},
		{
			name:    "plain text refused for a non-loopback host",
			opts:    &serverOptions{mechs: []string{"PLAIN"}},
			url:     func(string) string { return "smtp://mail.example.test" },
			edit:    func(c *Config, a string) { c.DialContext = redirectDialer(a) },
			wantErr: errPlainRefused,
		},
		{
			name: "STARTTLS with an untrusted certificate",
			opts: &serverOptions{mechs: []string{"PLAIN"}, startTLS: serverTLS},
			url:  func(a string) string { return "smtp://" + a },
		},
		{
			name: "implicit TLS with an untrusted certificate",
			opts: &serverOptions{mechs: []string{"PLAIN"}, implicitTLS: serverTLS},
			url:  func(a string) string { return "smtps://" + a },
		},
		{
			name: "implicit TLS to a plain server",
			opts: &serverOptions{mechs: []string{"PLAIN"}},
			url:  func(a string) string { return "smtps://" + a },
			edit: func(c *Config, _ string) { c.DialTimeout = 500 * time.Millisecond },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts *testServer
			addr := ""
			if tt.opts != nil {
				ts = startServer(t, *tt.opts)
				addr = ts.addr
			}
			s := mustSender(t, tt.url(addr), func(c *Config) {
				if tt.edit != nil {
					tt.edit(c, addr)
				}
			})
			start := time.Now()
			err := s.Send(context.Background(), "alice", "alicepw", "alice@example.test", []string{"bob@example.test"}, strings.NewReader(simpleMsg))
			if !errors.Is(err, eas.ErrBackendUnavailable) {
				t.Fatalf("err = %v, want ErrBackendUnavailable", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if ts != nil {
				if auths, mails, _ := ts.counts(); auths != 0 || mails != 0 {
					t.Errorf("server saw %d AUTH and %d MAIL", auths, mails)
				}
			}
		})
	}
}

// TestSendGreetingTimeout: a server that accepts and never greets costs
// DialTimeout, not go-smtp's five minutes.
func TestSendGreetingTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	s := mustSender(t, "smtp://"+ln.Addr().String(), func(c *Config) { c.DialTimeout = 300 * time.Millisecond })
	start := time.Now()
	err = s.Send(context.Background(), "alice", "alicepw", "alice@example.test", []string{"bob@example.test"}, strings.NewReader(simpleMsg))
	if !errors.Is(err, eas.ErrBackendUnavailable) {
		t.Fatalf("err = %v, want ErrBackendUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestSendSTARTTLSInjection: data pipelined behind the 220 reply to
// STARTTLS (RFC 7457 §2.2) aborts the connection.
func TestSendSTARTTLSInjection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		fmt.Fprintf(c, "220 evil ESMTP\r\n")
		r.ReadString('\n') // EHLO
		fmt.Fprintf(c, "250-evil\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n")
		r.ReadString('\n') // STARTTLS
		fmt.Fprintf(c, "220 go ahead\r\n250 injected\r\n")
		r.ReadString('\n')
	}()
	s := mustSender(t, "smtp://"+ln.Addr().String(), nil)
	err = s.Send(context.Background(), "alice", "alicepw", "alice@example.test", []string{"bob@example.test"}, strings.NewReader(simpleMsg))
	if !errors.Is(err, eas.ErrBackendUnavailable) || !strings.Contains(err.Error(), "injection") {
		t.Fatalf("err = %v, want the injection error", err)
	}
}

func TestSendReplyMapping(t *testing.T) {
	smtpErr := func(code int, enh smtp.EnhancedCode, msg string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
	}
	rejectBob := func(e *smtp.SMTPError) func(string) error {
		return func(to string) error {
			if strings.HasPrefix(to, "bob@") {
				return e
			}
			return nil
		}
	}
	tests := []struct {
		name       string
		opts       serverOptions
		wantStatus eas.Status // 0: see wantErr
		wantErr    error
		wantData   bool // the session saw DATA
	}{
		{
			name:       "RCPT 550 5.1.1 unknown user",
			opts:       serverOptions{rcptErr: rejectBob(smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "no such user"))},
			wantStatus: eas.StatusMessageRecipientUnresolved,
		},
		{
			name:       "RCPT 553 mailbox name not allowed",
			opts:       serverOptions{rcptErr: rejectBob(smtpErr(553, smtp.EnhancedCode{5, 1, 3}, "bad address"))},
			wantStatus: eas.StatusMessageRecipientUnresolved,
		},
		{
			name:       "RCPT 552 5.2.2 recipient mailbox full",
			opts:       serverOptions{rcptErr: rejectBob(smtpErr(552, smtp.EnhancedCode{5, 2, 2}, "mailbox full"))},
			wantStatus: eas.StatusMessageRecipientUnresolved,
		},
		{
			name:       "RCPT 552 5.5.3 too many recipients",
			opts:       serverOptions{rcptErr: rejectBob(smtpErr(552, smtp.EnhancedCode{5, 5, 3}, "too many recipients"))},
			wantStatus: eas.StatusSendQuotaExceeded,
		},
		{
			name:       "RCPT 450 greylisted",
			opts:       serverOptions{rcptErr: rejectBob(smtpErr(450, smtp.EnhancedCode{4, 2, 1}, "try later"))},
			wantStatus: eas.StatusServerErrorRetryLater,
		},
		{
			name:       "MAIL 552 5.3.4 size",
			opts:       serverOptions{mailErr: func(string) error { return smtpErr(552, smtp.EnhancedCode{5, 3, 4}, "too big") }},
			wantStatus: eas.StatusSendQuotaExceeded,
		},
		{
			name:       "MAIL 553 5.7.1 sender not owned",
			opts:       serverOptions{mailErr: func(string) error { return smtpErr(553, smtp.EnhancedCode{5, 7, 1}, "not your address") }},
			wantStatus: eas.StatusMailSubmissionFailed,
		},
		{
			name:       "MAIL 421 shutting down",
			opts:       serverOptions{mailErr: func(string) error { return smtpErr(421, smtp.EnhancedCode{4, 3, 2}, "bye") }},
			wantStatus: eas.StatusServerErrorRetryLater,
		},
		{
			name:       "end of DATA 552 quota exceeded (message size limit)",
			opts:       serverOptions{maxBytes: 64},
			wantStatus: eas.StatusSendQuotaExceeded,
			wantData:   true,
		},
		{
			name: "end of DATA 552 from the session",
			opts: serverOptions{data: func(r io.Reader) error {
				io.Copy(io.Discard, r)
				return smtpErr(552, smtp.EnhancedCode{5, 2, 2}, "quota")
			}},
			wantStatus: eas.StatusSendQuotaExceeded,
			wantData:   true,
		},
		{
			name: "end of DATA 554 rejected as spam",
			opts: serverOptions{data: func(r io.Reader) error {
				io.Copy(io.Discard, r)
				return smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "spam")
			}},
			wantStatus: eas.StatusMailSubmissionFailed,
			wantData:   true,
		},
		{
			name: "end of DATA 451 local error",
			opts: serverOptions{data: func(r io.Reader) error {
				io.Copy(io.Discard, r)
				return smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "try again")
			}},
			wantStatus: eas.StatusServerErrorRetryLater,
			wantData:   true,
		},
		{
			name:    "AUTH 535 wrong password",
			opts:    serverOptions{mechs: []string{"PLAIN"}, authErr: smtp.ErrAuthFailed},
			wantErr: eas.ErrAuthFailed,
		},
		{
			name:    "AUTH 454 temporary failure",
			opts:    serverOptions{mechs: []string{"PLAIN"}, authErr: smtpErr(454, smtp.EnhancedCode{4, 7, 0}, "temporary")},
			wantErr: eas.ErrBackendUnavailable,
		},
		{
			name:       "AUTH 534 mechanism too weak",
			opts:       serverOptions{mechs: []string{"PLAIN"}, authErr: smtpErr(534, smtp.EnhancedCode{5, 7, 9}, "too weak")},
			wantStatus: eas.StatusMailSubmissionFailed,
		},
		{
			name:       "AUTH offered without PLAIN or LOGIN",
			opts:       serverOptions{mechs: []string{"CRAM-MD5"}},
			wantStatus: eas.StatusMailSubmissionFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.opts)
			s := mustSender(t, "smtp://"+ts.addr, nil)
			err := s.Send(context.Background(), "alice", "alicepw", "alice@example.test",
				[]string{"carol@example.test", "bob@example.test"}, strings.NewReader(simpleMsg))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantStatus != 0 {
				st, ok := eas.StatusOf(err)
				if !ok || st != tt.wantStatus {
					t.Fatalf("err = %v (status %d, %v), want status %d", err, st, ok, tt.wantStatus)
				}
			}
			if _, _, datas := ts.counts(); (datas > 0) != tt.wantData {
				t.Errorf("session saw %d DATA, want DATA %v", datas, tt.wantData)
			}
			if !tt.wantData && len(ts.messages()) != 0 {
				t.Error("a message was delivered")
			}
		})
	}
}

// TestSendRejectedRecipientsListed: every rejected recipient is named and
// nothing is delivered to the accepted ones.
func TestSendRejectedRecipientsListed(t *testing.T) {
	ts := startServer(t, serverOptions{rcptErr: func(to string) error {
		if strings.HasPrefix(to, "x") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "unknown " + to}
		}
		return nil
	}})
	s := mustSender(t, "smtp://"+ts.addr, nil)
	err := s.Send(context.Background(), "", "", "alice@example.test",
		[]string{"bob@example.test", "x1@example.test", "carol@example.test", "x2@example.test"}, strings.NewReader(simpleMsg))
	var re *RecipientError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a RecipientError", err)
	}
	if len(re.Rejected) != 2 || re.Rejected["x1@example.test"] == nil || re.Rejected["x2@example.test"] == nil {
		t.Errorf("rejected = %v", re.Rejected)
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("errors.As SMTPError = %v", se)
	}
	if _, _, datas := ts.counts(); datas != 0 || len(ts.messages()) != 0 {
		t.Error("DATA was sent after a rejected recipient")
	}
}

func TestSendNoRecipients(t *testing.T) {
	s := mustSender(t, "smtp://127.0.0.1:1", nil)
	err := s.Send(context.Background(), "", "", "alice@example.test", nil, strings.NewReader(simpleMsg))
	if st, _ := eas.StatusOf(err); st != eas.StatusMessageHasNoRecipient {
		t.Fatalf("err = %v", err)
	}
}

// genReader produces n bytes of a message (header, then 76-character
// lines, some starting with a dot) without holding them.
type genReader struct {
	n, off int64
	line   []byte
	pos    int
	hdr    *strings.Reader
}

func newGenReader(n int64) *genReader {
	hdr := "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: big\r\n\r\n"
	return &genReader{n: n, hdr: strings.NewReader(hdr), line: []byte("." + strings.Repeat("0123456789", 7) + "abcde\r\n")}
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.hdr.Len() > 0 {
		return g.hdr.Read(p)
	}
	if g.off >= g.n {
		return 0, io.EOF
	}
	if rem := g.n - g.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], g.line[g.pos:])
		n += c
		g.pos = (g.pos + c) % len(g.line)
	}
	g.off += int64(n)
	return n, nil
}

// TestSendStreamsLargeMessage sends 30 MB and checks that the heap never
// grows by more than 10 MB while it does, and that every byte arrived
// (dot-stuffing undone by the server).
func TestSendStreamsLargeMessage(t *testing.T) {
	const size = 30 << 20
	var got atomic.Int64
	ts := startServer(t, serverOptions{data: func(r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		got.Store(n)
		return err
	}})
	s := mustSender(t, "smtp://"+ts.addr, nil)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	msg := newGenReader(size)
	err := s.Send(context.Background(), "", "", "alice@example.test", []string{"bob@example.test"}, msg)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	hdrLen := int64(len("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: big\r\n\r\n"))
	// The generated body ends mid-line; DATA adds the final CRLF (RFC 5321
	// §4.1.1.4).
	if got.Load() != size+hdrLen+2 {
		t.Errorf("server got %d bytes, want %d", got.Load(), size+hdrLen+2)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("heap: base %d KB, peak %d KB, growth %d KB", base>>10, peak.Load()>>10, growth>>10)
	if growth > 10<<20 {
		t.Errorf("heap grew by %d MB while sending 30 MB", growth>>20)
	}
}

// failingReader returns n bytes of a message, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// TestSendReadErrorSubmitsNothing: a message that cannot be read to the end
// must not be submitted truncated.
func TestSendReadErrorSubmitsNothing(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s := mustSender(t, "smtp://"+ts.addr, nil)
	readErr := errors.New("client went away")
	msg := &failingReader{r: io.LimitReader(newGenReader(1<<20), 200<<10), err: readErr}
	err := s.Send(context.Background(), "", "", "alice@example.test", []string{"bob@example.test"}, msg)
	if !errors.Is(err, readErr) {
		t.Fatalf("err = %v, want the read error", err)
	}
	time.Sleep(100 * time.Millisecond) // let the server notice the closed connection
	if n := len(ts.messages()); n != 0 {
		t.Fatalf("server accepted %d truncated messages", n)
	}
}

// TestSendCancelDuringData: cancelling ctx while the server stalls in DATA
// returns promptly with ctx's error and delivers nothing.
func TestSendCancelDuringData(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ts := startServer(t, serverOptions{data: func(r io.Reader) error {
		<-release // read nothing: the client's writes block on full buffers
		return errors.New("released")
	}})
	s := mustSender(t, "smtp://"+ts.addr, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	err := s.Send(ctx, "", "", "alice@example.test", []string{"bob@example.test"}, newGenReader(64<<20))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if n := len(ts.messages()); n != 0 {
		t.Fatalf("server accepted %d messages", n)
	}
}

// TestSendAddressChecks: addresses that cannot be sent are the client's
// problem (a status), not the server being unavailable.
func TestSendAddressChecks(t *testing.T) {
	ts := startServer(t, serverOptions{}) // no SMTPUTF8
	s := mustSender(t, "smtp://"+ts.addr, nil)
	tests := []struct {
		name string
		from string
		to   []string
		want eas.Status
	}{
		{"recipient with CRLF", "alice@example.test", []string{"bob@example.test\r\nRCPT TO:<x@y>"}, eas.StatusMessageRecipientUnresolved},
		{"empty recipient", "alice@example.test", []string{""}, eas.StatusMessageRecipientUnresolved},
		{"sender with angle bracket", "alice@example.test>", []string{"bob@example.test"}, eas.StatusMailSubmissionFailed},
		{"UTF-8 recipient without SMTPUTF8", "alice@example.test", []string{"müller@bücher.example"}, eas.StatusMessageRecipientUnresolved},
		{"UTF-8 sender without SMTPUTF8", "jörg@example.test", []string{"bob@example.test"}, eas.StatusMailSubmissionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Send(context.Background(), "", "", tt.from, tt.to, strings.NewReader(simpleMsg))
			if st, _ := eas.StatusOf(err); st != tt.want {
				t.Fatalf("err = %v, want status %d", err, tt.want)
			}
		})
	}
	if _, mails, _ := ts.counts(); mails != 0 {
		t.Errorf("%d MAIL commands reached the server", mails)
	}

	// With SMTPUTF8 offered, internationalized addresses go through.
	ts8 := startServer(t, serverOptions{smtputf8: true})
	s8 := mustSender(t, "smtp://"+ts8.addr, nil)
	if err := s8.Send(context.Background(), "", "", "jörg@example.test", []string{"müller@bücher.example"}, strings.NewReader(simpleMsg)); err != nil {
		t.Fatal(err)
	}
	if m := ts8.messages(); len(m) != 1 || m[0].to[0] != "müller@bücher.example" {
		t.Fatalf("got %+v", m)
	}
}
