package smtpsend

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"easbridge/server/eas"
	"easbridge/sync/testenv"
)

// TestDovecotSubmission runs against the real Dovecot submission service of
// the test rig, which relays to an in-process sink.
func TestDovecotSubmission(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	s := mustSender(t, "smtp://"+d.SubmissionAddr, func(c *Config) { c.HelloName = "phone.example.test" })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("Bcc in the envelope, not in the message", func(t *testing.T) {
		d.Sink.Reset()
		const in = "From: Alice <alice@example.test>\r\n" +
			"To: Bob <bob@example.test>\r\n" +
			"Cc: carol@example.test\r\n" +
			"Bcc: Dave <dave@example.test>, bob@example.test\r\n" +
			"Subject: Bcc test\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n" +
			"\r\n" +
			"Secret list.\r\n"
		from, rcpts, err := s.SendMIME(ctx, "alice", "alicepw", strings.NewReader(in), PrepareOptions{DefaultFrom: "alice@example.test"})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"bob@example.test", "carol@example.test", "dave@example.test"}
		if from != "alice@example.test" || !slices.Equal(rcpts, want) {
			t.Errorf("envelope %q %q", from, rcpts)
		}
		msgs, err := d.Sink.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		m := msgs[0]
		if m.From != "alice@example.test" {
			t.Errorf("MAIL FROM %q", m.From)
		}
		got := slices.Clone(m.To)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("RCPT TO %q, want %q", got, want)
		}
		r, err := mail.CreateReader(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Has("Bcc") {
			t.Errorf("relayed message has a Bcc header:\n%s", m.Data)
		}
		if id, _ := r.Header.MessageID(); !strings.HasSuffix(id, "@example.test") {
			t.Errorf("Message-ID %q", id)
		}
		if date, err := r.Header.Date(); err != nil || time.Since(date) > time.Hour {
			t.Errorf("Date %v %v", date, err)
		}
		if !bytes.Contains(m.Data, []byte("\r\n\r\nSecret list.\r\n")) {
			t.Errorf("body not relayed:\n%s", m.Data)
		}
	})

	t.Run("wrong password is ErrAuthFailed, quickly", func(t *testing.T) {
		d.Sink.Reset()
		start := time.Now()
		err := s.Send(ctx, "alice", "wrong", "alice@example.test", []string{"bob@example.test"}, strings.NewReader(simpleMsg))
		if !errors.Is(err, eas.ErrAuthFailed) {
			t.Fatalf("err = %v, want ErrAuthFailed", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v", d)
		}
		if n := len(d.Sink.Messages()); n != 0 {
			t.Errorf("%d messages relayed", n)
		}
	})

	t.Run("login with the full address", func(t *testing.T) {
		d.Sink.Reset()
		if err := s.Send(ctx, "alice@example.test", "alicepw", "alice@example.test", []string{"bob@example.test"}, strings.NewReader(simpleMsg)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Sink.Wait(ctx, 1); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unreachable port is ErrBackendUnavailable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		s := mustSender(t, "smtp://"+addr, nil)
		err = s.Send(ctx, "alice", "alicepw", "alice@example.test", []string{"bob@example.test"}, strings.NewReader(simpleMsg))
		if !errors.Is(err, eas.ErrBackendUnavailable) {
			t.Fatalf("err = %v, want ErrBackendUnavailable", err)
		}
	})

	// The relay (sink) rejects at the end of DATA; Dovecot passes its reply
	// on to the client.
	relayTests := []struct {
		name string
		err  error
		want eas.Status
	}{
		{"relay 552 quota", &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "message too big for quota"}, eas.StatusSendQuotaExceeded},
		{"relay 554 policy", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected by policy"}, eas.StatusMailSubmissionFailed},
		{"relay 451 temporary", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}, eas.StatusServerErrorRetryLater},
	}
	for _, tt := range relayTests {
		t.Run(tt.name, func(t *testing.T) {
			d.Sink.Reset()
			d.Sink.SetHook(func(testenv.SinkMessage) error { return tt.err })
			defer d.Sink.SetHook(nil)
			err := s.Send(ctx, "alice", "alicepw", "alice@example.test", []string{"bob@example.test"}, strings.NewReader(simpleMsg))
			st, ok := eas.StatusOf(err)
			if !ok || st != tt.want {
				t.Fatalf("err = %v, want status %d", err, tt.want)
			}
			t.Logf("Dovecot relayed: %v", err)
			if n := len(d.Sink.Messages()); n != 0 {
				t.Errorf("%d messages recorded", n)
			}
		})
	}
}
