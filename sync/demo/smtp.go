package demo

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// newSMTPServer returns the submission server: AUTH PLAIN with the demo
// credentials, no TLS (loopback only). Nothing is relayed: each message is
// appended to Sent, and to INBOX when the demo user is a recipient.
func (d *Demo) newSMTPServer() *smtp.Server {
	log := d.log.With("server", "smtp")
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{store: d.mail, now: d.now, log: log}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.MaxMessageBytes = 25 << 20
	s.MaxRecipients = 100
	s.ReadTimeout = 5 * time.Minute
	s.WriteTimeout = time.Minute
	s.ErrorLog = printfLogger{log}
	return s
}

// smtpSession is one SMTP connection's state.
type smtpSession struct {
	store *mailStore
	now   func() time.Time
	log   *slog.Logger

	authed bool
	from   string
	rcpts  []string
}

var _ smtp.AuthSession = (*smtpSession)(nil)

// AuthMechanisms implements smtp.AuthSession.
func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth implements smtp.AuthSession.
func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		// imapmemserver's check is constant-time.
		if err := s.store.user.Login(username, password); err != nil {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

// Mail implements smtp.Session.
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

// Rcpt implements smtp.Session.
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data implements smtp.Session.
func (s *smtpSession) Data(r io.Reader) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	now := s.now()
	if _, err := s.store.append("Sent", raw, []imap.Flag{imap.FlagSeen}, now); err != nil {
		s.log.Error("append to Sent", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not store the message"}
	}
	for _, rcpt := range s.rcpts {
		if strings.EqualFold(rcpt, s.store.address) {
			if _, err := s.store.append("INBOX", raw, nil, now); err != nil {
				s.log.Error("deliver to INBOX", "err", err)
			}
			break
		}
	}
	s.log.Info("demo message sent", "from", s.from, "rcpts", len(s.rcpts), "bytes", len(raw))
	return nil
}

// Reset implements smtp.Session.
func (s *smtpSession) Reset() {
	s.from = ""
	s.rcpts = nil
}

// Logout implements smtp.Session.
func (s *smtpSession) Logout() error { return nil }
