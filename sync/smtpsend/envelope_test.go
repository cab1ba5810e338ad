package smtpsend

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"easbridge/server/eas"
)

func parseHeader(t *testing.T, raw string) mail.Header {
	t.Helper()
	h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(raw + "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return mail.Header{Header: message.Header{Header: h}}
}

func TestEnvelope(t *testing.T) {
	tests := []struct {
		name       string
		header     string
		from       string
		to         []string
		wantStatus eas.Status
	}{
		{
			name:   "to cc bcc",
			header: "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nCc: \"Carol C.\" <carol@example.test>\r\nBcc: dave@example.test\r\n",
			from:   "alice@example.test",
			to:     []string{"bob@example.test", "carol@example.test", "dave@example.test"},
		},
		{
			name:   "deduplicated, domain case-insensitive",
			header: "From: alice@example.test\r\nTo: bob@example.test, Bob <bob@EXAMPLE.test>\r\nCc: bob@example.test\r\nBcc: Bob@example.test\r\n",
			from:   "alice@example.test",
			to:     []string{"bob@example.test", "Bob@example.test"},
		},
		{
			name:   "RFC 2047 names dropped",
			header: "From: =?utf-8?q?J=C3=B6rg?= <joerg@example.test>\r\nTo: =?iso-8859-1?q?Ren=E9?= <rene@example.test>\r\n",
			from:   "joerg@example.test",
			to:     []string{"rene@example.test"},
		},
		{
			name:   "group syntax",
			header: "From: alice@example.test\r\nTo: Team: bob@example.test, Carol <carol@example.test>;, erin@example.test\r\nCc: undisclosed-recipients:;\r\n",
			from:   "alice@example.test",
			to:     []string{"bob@example.test", "carol@example.test", "erin@example.test"},
		},
		{
			name:   "several To fields",
			header: "From: alice@example.test\r\nTo: bob@example.test\r\nTo: carol@example.test\r\n",
			from:   "alice@example.test",
			to:     []string{"bob@example.test", "carol@example.test"},
		},
		{
			name:   "Sender is the envelope sender",
			header: "From: Boss <boss@example.test>, alice@example.test\r\nSender: alice@example.test\r\nTo: bob@example.test\r\n",
			from:   "alice@example.test",
			to:     []string{"bob@example.test"},
		},
		{
			name: "Resent fields replace the original recipients",
			header: "Resent-From: alice@example.test\r\nResent-To: frank@example.test\r\nResent-Bcc: grace@example.test\r\n" +
				"From: bob@example.test\r\nTo: alice@example.test\r\nCc: carol@example.test\r\n",
			from: "alice@example.test",
			to:   []string{"frank@example.test", "grace@example.test"},
		},
		{
			name:   "internationalized address",
			header: "From: alice@example.test\r\nTo: =?utf-8?q?M=C3=BCller?= <müller@bücher.example>\r\n",
			from:   "alice@example.test",
			to:     []string{"müller@bücher.example"},
		},
		{
			name:       "no recipient",
			header:     "From: alice@example.test\r\nSubject: x\r\n",
			wantStatus: eas.StatusMessageHasNoRecipient,
		},
		{
			name:       "only empty groups",
			header:     "From: alice@example.test\r\nTo: undisclosed-recipients:;\r\n",
			wantStatus: eas.StatusMessageHasNoRecipient,
		},
		{
			name:       "no From",
			header:     "To: bob@example.test\r\n",
			wantStatus: eas.StatusInvalidMIME,
		},
		{
			name:       "bad From",
			header:     "From: <<alice\r\nTo: bob@example.test\r\n",
			wantStatus: eas.StatusInvalidMIME,
		},
		{
			name:       "bad recipient",
			header:     "From: alice@example.test\r\nTo: Bob <bob>\r\n",
			wantStatus: eas.StatusMessageRecipientUnresolved,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, err := Envelope(parseHeader(t, tt.header))
			if tt.wantStatus != 0 {
				if st, _ := eas.StatusOf(err); st != tt.wantStatus {
					t.Fatalf("err = %v, want status %d", err, tt.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from != tt.from || !slices.Equal(to, tt.to) {
				t.Errorf("Envelope = %q %q, want %q %q", from, to, tt.from, tt.to)
			}
		})
	}
}

// zeroRand yields a fixed Message-ID.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestPrepareOutgoing(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", 3600)) }
	opts := PrepareOptions{DefaultFrom: "Alice Example <alice@example.test>", Now: now, Rand: zeroRand{}}
	const body = "Hello.\r\n\r\nBcc: this is body text, not a header\r\n"
	tests := []struct {
		name       string
		opts       PrepareOptions
		in         string
		want       string // header block written
		from       string
		rcpts      []string
		wantStatus eas.Status
	}{
		{
			name: "Bcc removed, Date and Message-ID added",
			opts: opts,
			in:   "From: alice@example.test\r\nTo: bob@example.test\r\nBcc: carol@example.test,\r\n dave@example.test\r\nSubject: hi\r\n\r\n" + body,
			want: "Message-Id: <aaaaaaaaaaaaaaaaaaaaaaaaaa@example.test>\r\n" +
				"Date: Wed, 04 Mar 2026 05:06:07 +0100\r\n" +
				"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\n",
			from:  "alice@example.test",
			rcpts: []string{"bob@example.test", "carol@example.test", "dave@example.test"},
		},
		{
			name: "existing Date and Message-ID kept, From defaulted, Domain used",
			opts: PrepareOptions{DefaultFrom: opts.DefaultFrom, Domain: "Bridge.Example.test", Now: now, Rand: zeroRand{}},
			in:   "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\nTo: bob@example.test\r\n\r\n" + body,
			want: "From: \"Alice Example\" <alice@example.test>\r\n" +
				"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\nTo: bob@example.test\r\n\r\n",
			from:  "alice@example.test",
			rcpts: []string{"bob@example.test"},
		},
		{
			name: "Domain for the generated Message-ID",
			opts: PrepareOptions{Domain: "Bridge.Example.test", Now: now, Rand: zeroRand{}},
			in:   "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: alice@example.test\r\nTo: bob@example.test\r\n\r\n" + body,
			want: "Message-Id: <aaaaaaaaaaaaaaaaaaaaaaaaaa@bridge.example.test>\r\n" +
				"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: alice@example.test\r\nTo: bob@example.test\r\n\r\n",
			from:  "alice@example.test",
			rcpts: []string{"bob@example.test"},
		},
		{
			name: "header only, LF line ends",
			opts: opts,
			in:   "Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\nFrom: alice@example.test\nTo: bob@example.test\n",
			// go-message writes header lines with CRLF whatever it read.
			want: "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\nFrom: alice@example.test\r\nTo: bob@example.test\r\n\r\n",
			from: "alice@example.test", rcpts: []string{"bob@example.test"},
		},
		{
			name:       "only Bcc recipients still count",
			opts:       opts,
			in:         "From: alice@example.test\r\nBcc: bob@example.test\r\n\r\n" + body,
			want:       "Message-Id: <aaaaaaaaaaaaaaaaaaaaaaaaaa@example.test>\r\nDate: Wed, 04 Mar 2026 05:06:07 +0100\r\nFrom: alice@example.test\r\n\r\n",
			from:       "alice@example.test",
			rcpts:      []string{"bob@example.test"},
			wantStatus: 0,
		},
		{
			name:       "no recipient",
			opts:       opts,
			in:         "From: alice@example.test\r\nSubject: x\r\n\r\n" + body,
			wantStatus: eas.StatusMessageHasNoRecipient,
		},
		{
			name:       "no From and no default",
			opts:       PrepareOptions{},
			in:         "To: bob@example.test\r\n\r\n" + body,
			wantStatus: eas.StatusInvalidMIME,
		},
		{
			name:       "malformed header",
			opts:       opts,
			in:         "From alice@example.test\r\nTo: bob@example.test\r\n\r\n" + body,
			wantStatus: eas.StatusInvalidMIME,
		},
		{
			name:       "header too large",
			opts:       opts,
			in:         "From: alice@example.test\r\nTo: bob@example.test\r\nX-Big: " + strings.Repeat("x", MaxHeaderBytes) + "\r\n\r\n" + body,
			wantStatus: eas.StatusInvalidMIME,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			from, rcpts, err := PrepareOutgoing(strings.NewReader(tt.in), &out, tt.opts)
			if tt.wantStatus != 0 {
				if st, _ := eas.StatusOf(err); st != tt.wantStatus {
					t.Fatalf("err = %v, want status %d", err, tt.wantStatus)
				}
				if out.Len() != 0 {
					t.Errorf("wrote %d bytes before failing", out.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from != tt.from || !slices.Equal(rcpts, tt.rcpts) {
				t.Errorf("envelope %q %q, want %q %q", from, rcpts, tt.from, tt.rcpts)
			}
			wantOut := tt.want
			if strings.Contains(tt.in, "\r\n\r\n") || strings.Contains(tt.in, "\n\n") {
				wantOut += body
			}
			if out.String() != wantOut {
				t.Errorf("output:\n%s\nwant:\n%s", out.String(), wantOut)
			}
		})
	}
}

// TestPrepareOutgoingStreamsBody: the body is copied as read, not held.
func TestPrepareOutgoingStreamsBody(t *testing.T) {
	const hdr = "From: alice@example.test\r\nTo: bob@example.test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\n"
	r := io.MultiReader(strings.NewReader(hdr), io.LimitReader(zeroRand{}, 8<<20))
	cw := &countWriter{}
	if _, _, err := PrepareOutgoing(r, cw, PrepareOptions{}); err != nil {
		t.Fatal(err)
	}
	if cw.n != int64(len(hdr))+8<<20 {
		t.Errorf("wrote %d bytes", cw.n)
	}
	if cw.maxWrite > 64<<10 {
		t.Errorf("largest single write %d bytes: body buffered?", cw.maxWrite)
	}
	// A failing writer is reported.
	wErr := errors.New("disk full")
	_, _, err := PrepareOutgoing(strings.NewReader(hdr+"body\r\n"), failWriter{wErr}, PrepareOptions{})
	if !errors.Is(err, wErr) {
		t.Errorf("err = %v", err)
	}
}

type countWriter struct{ n, maxWrite int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	c.maxWrite = max(c.maxWrite, int64(len(p)))
	return len(p), nil
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
