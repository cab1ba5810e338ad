package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// SinkMessage is one message received by an SMTPSink.
type SinkMessage struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data []byte   // the message as transmitted (RFC 5322, CRLF line ends)
}

// SMTPSink is an in-process SMTP server on 127.0.0.1 that accepts every
// message without authentication and records it. Dovecot's submission
// service relays to it, so tests can see what a client "sent".
type SMTPSink struct {
	// Addr is the "127.0.0.1:port" the sink listens on.
	Addr string

	srv    *smtp.Server
	ln     *trackingListener
	served chan struct{} // closed when the Serve goroutine returns

	mu      sync.Mutex
	msgs    []SinkMessage
	changed chan struct{} // closed and replaced whenever msgs changes
	hook    func(SinkMessage) error
	closed  bool
}

// StartSMTPSink starts an SMTPSink that is closed at the end of the test.
func StartSMTPSink(t testing.TB) *SMTPSink {
	t.Helper()
	s, err := NewSMTPSink(nil)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// NewSMTPSink starts an SMTPSink on a free port. Server-side errors (such as
// peers dropping connections) go to logger at debug level; nil discards them.
// The caller must Close it.
func NewSMTPSink(logger *slog.Logger) (*SMTPSink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtp sink: listen: %w", err)
	}
	s := &SMTPSink{
		Addr:    l.Addr().String(),
		ln:      &trackingListener{Listener: l, conns: make(map[net.Conn]struct{})},
		served:  make(chan struct{}),
		changed: make(chan struct{}),
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: s}, nil
	}))
	s.srv.Domain = "sink.example.test"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 64 << 20
	s.srv.MaxRecipients = 1000
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.ErrorLog = slogPrinter{logger.With("component", "testenv.smtpsink")}
	// Owned by s: returns once Close closes the listener.
	go func() {
		defer close(s.served)
		s.srv.Serve(s.ln)
	}()
	return s, nil
}

// Close stops the sink and waits until its goroutines have returned. It is
// idempotent. Recorded messages stay readable.
func (s *SMTPSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.ln.closeAll() // the listener and every open connection
	<-s.served
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Listeners are closed already (Shutdown reports that, ignored); this
	// waits for the connection handlers, whose connections are cut.
	if err := s.srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("smtp sink: connection handlers did not return: %w", err)
	}
	return nil
}

// Messages returns a copy of every message received so far, oldest first.
func (s *SMTPSink) Messages() []SinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneMessages(s.msgs)
}

// Wait blocks until at least n messages have been received and returns all
// of them, or returns ctx's error together with the messages received so far.
func (s *SMTPSink) Wait(ctx context.Context, n int) ([]SinkMessage, error) {
	for {
		s.mu.Lock()
		msgs, changed := s.msgs, s.changed
		if len(msgs) >= n {
			out := cloneMessages(msgs)
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("smtp sink: waiting for %d messages, have %d: %w", n, len(msgs), ctx.Err())
		}
	}
}

// Reset forgets all received messages.
func (s *SMTPSink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
	close(s.changed)
	s.changed = make(chan struct{})
}

// SetHook installs f to be called for every message before it is recorded;
// when f returns an error the message is rejected with it (an *smtp.SMTPError
// controls the reply code, other errors give a 554). This lets tests simulate
// relay failures. nil removes the hook.
func (s *SMTPSink) SetHook(f func(SinkMessage) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = f
}

func (s *SMTPSink) deliver(m SinkMessage) error {
	s.mu.Lock()
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		if err := hook(m); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

func cloneMessages(in []SinkMessage) []SinkMessage {
	out := make([]SinkMessage, len(in))
	for i, m := range in {
		out[i] = SinkMessage{From: m.From, To: slices.Clone(m.To), Data: slices.Clone(m.Data)}
	}
	return out
}

// sinkSession collects one SMTP transaction.
type sinkSession struct {
	sink *SMTPSink
	from string
	to   []string
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	return ss.sink.deliver(SinkMessage{From: ss.from, To: slices.Clone(ss.to), Data: data})
}

// trackingListener remembers accepted connections so that Close can cut
// them; go-smtp's Shutdown only waits for them.
type trackingListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.Listener.Close()
	for c := range l.conns {
		c.(*trackedConn).Conn.Close()
	}
	clear(l.conns)
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// slogPrinter adapts an slog.Logger to go-smtp's Logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.l.Debug(fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.l.Debug(fmt.Sprint(v...)) }
