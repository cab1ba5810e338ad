package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/emersion/go-message/mail"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/compose"
	"easbridge/sync/smtpsend"
	"easbridge/sync/state"
)

// Sending (MS-ASCMD 2.2.1.17 SendMail, 2.2.1.19 SmartReply, 2.2.1.20
// SmartForward).
//
// Implementation notes:
//   - The outgoing message is spooled to a temporary file (never held
//     whole in memory), prepared (Bcc removed, Date/Message-ID added) and
//     submitted over SMTP with the login's credentials.
//   - Only after the submission succeeded is a copy appended to \Sent
//     (SaveInSentItems) and \Answered / $Forwarded set on the original; a
//     failed submission saves nothing.
//   - A ClientId already sent by this device answers 118 (previously sent)
//     without sending again.

// SendMail implements server.Sender.
func (s *session) SendMail(ctx context.Context, deviceID, clientID string, mime io.Reader, saveInSent bool) error {
	return s.send(ctx, deviceID, clientID, mime, saveInSent, nil)
}

// SmartReply implements server.Sender.
func (s *session) SmartReply(ctx context.Context, deviceID, clientID string, mime io.Reader, src server.ItemRef, replaceMime, saveInSent bool) error {
	return s.smart(ctx, deviceID, clientID, mime, src, replaceMime, saveInSent, false, nil)
}

// SmartForward implements server.Sender.
func (s *session) SmartForward(ctx context.Context, deviceID, clientID string, mime io.Reader, src server.ItemRef, replaceMime, saveInSent bool) error {
	return s.smart(ctx, deviceID, clientID, mime, src, replaceMime, saveInSent, true, nil)
}

// smart sends a SmartReply or SmartForward; fw are the Forwardees of a
// 16.x SmartForward (see forwardees.go).
func (s *session) smart(ctx context.Context, deviceID, clientID string, mime io.Reader, src server.ItemRef, replaceMime, saveInSent, forward bool, fw []*mail.Address) error {
	id := src.ServerID
	if id == "" {
		id = src.LongID
	}
	coll, uid, ok := parseServerID(id)
	if !ok || (src.CollectionID != "" && src.CollectionID != coll) {
		return eas.Errorf(eas.StatusItemNotFound, "source item %q", id)
	}
	mb, err := s.mailboxFor(ctx, coll)
	if err != nil {
		return eas.Errorf(eas.StatusItemNotFound, "source folder %s", coll)
	}
	flag := `\Answered`
	if forward {
		flag = "$Forwarded"
	}
	after := func() {
		if err := s.l.mail.SetFlags(context.WithoutCancel(ctx), mb, uid, []string{flag}, nil); err != nil {
			s.e.log.Info("engine: mark original", "flag", flag, "err", err)
		}
	}
	if replaceMime {
		return s.sendTo(ctx, deviceID, clientID, mime, saveInSent, after, fw)
	}
	raw, _, err := s.l.mail.OpenMessage(ctx, mb, uid)
	if err != nil {
		return eas.Errorf(eas.StatusItemNotFound, "original %s: %v", id, err)
	}
	orig, err := compose.OriginalFromMessage(raw)
	raw.Close()
	if err != nil {
		return eas.Errorf(eas.StatusInvalidMIME, "original %s: %v", id, err)
	}
	defer orig.Close()
	spool, err := os.CreateTemp("", "easbridge-compose-*")
	if err != nil {
		return fmt.Errorf("engine: spool: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	if forward {
		err = compose.Forward(spool, mime, orig)
	} else {
		err = compose.Reply(spool, mime, orig)
	}
	if err != nil {
		return eas.Errorf(eas.StatusInvalidMIME, "compose: %v", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return s.sendTo(ctx, deviceID, clientID, spool, saveInSent, after, fw)
}

func (s *session) send(ctx context.Context, deviceID, clientID string, mime io.Reader, saveInSent bool, after func()) error {
	return s.sendTo(ctx, deviceID, clientID, mime, saveInSent, after, nil)
}

// sendTo is send with extra recipients fw (smtpsend.PrepareOptions
// Forwardees).
func (s *session) sendTo(ctx context.Context, deviceID, clientID string, mime io.Reader, saveInSent bool, after func(), fw []*mail.Address) error {
	if s.l.smtp == nil {
		return eas.Errorf(eas.StatusMailSubmissionFailed, "no SMTP server configured for account %s", s.l.account.Name)
	}
	sentKey := "sent/" + deviceID + "/" + clientID
	if clientID != "" {
		if _, err := s.store().Setting(ctx, s.l.user, sentKey); err == nil {
			return eas.Errorf(eas.StatusMessagePreviouslySent, "ClientId %s was sent already", clientID)
		} else if !errors.Is(err, state.ErrNotFound) {
			return err
		}
	}
	spool, err := os.CreateTemp("", "easbridge-send-*")
	if err != nil {
		return fmt.Errorf("engine: spool: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	from, rcpts, err := smtpsend.PrepareOutgoing(mime, spool, smtpsend.PrepareOptions{DefaultFrom: s.l.email, Domain: s.l.account.Domain, Forwardees: fw})
	if err != nil {
		return err
	}
	size, err := spool.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := s.l.smtp.Send(ctx, s.l.remote, s.l.password, from, rcpts, spool); err != nil {
		return fmt.Errorf("engine: submit: %w", err)
	}
	if clientID != "" {
		_ = s.store().PutSetting(context.WithoutCancel(ctx), s.l.user, sentKey, []byte(time.Now().UTC().Format(time.RFC3339)))
	}
	if after != nil {
		after()
	}
	if saveInSent && s.l.mail != nil {
		sent, err := s.l.mail.SpecialUse(ctx, `\Sent`)
		if err == nil && sent != "" {
			if _, err := spool.Seek(0, io.SeekStart); err == nil {
				if _, err := s.l.mail.Append(context.WithoutCancel(ctx), sent, []string{`\Seen`}, time.Now(), spool, size); err != nil {
					s.e.log.Warn("engine: save in Sent failed (the message was sent)", "err", err)
				}
			}
		}
	}
	return nil
}

// newSMTP builds the login's SMTP sender, nil when the account has none.
func newSMTP(a *Account, log *slog.Logger) (*smtpsend.Sender, error) {
	if a.SMTP == "" {
		return nil, nil
	}
	cfg, err := smtpsend.ParseURL(a.SMTP)
	if err != nil {
		return nil, err
	}
	return smtpsend.New(cfg, log.With("account", a.Name)), nil
}
