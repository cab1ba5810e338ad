package smtpsend

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"easbridge/server/eas"
)

// MaxHeaderBytes bounds the header block PrepareOutgoing reads (the body is
// streamed and not bounded here).
const MaxHeaderBytes = 1 << 20

// Envelope returns the SMTP envelope of a message from its header (RFC 5321
// §3.3): the sender address and the recipients of To, Cc and Bcc (RFC 5322
// §3.6.3). When the message carries Resent-To, Resent-Cc or Resent-Bcc
// (RFC 5322 §3.6.6) it is being resent: the recipients are those of the
// topmost Resent-* fields only, and the sender is Resent-Sender, else
// Resent-From.
//
// The sender is Sender when present, else the first From address. Group
// syntax ("team: a@x, b@y;") contributes its members; display names (RFC
// 2047-decoded or not) are dropped; recipients are deduplicated (local part
// compared exactly, domain case-insensitively), in header order.
//
// Errors are *eas.StatusError: 107 InvalidMIME for a missing or unparseable
// sender, 116 MessageRecipientUnresolved for an unparseable recipient field,
// 119 MessageHasNoRecipient when there is no recipient.
func Envelope(h mail.Header) (from string, to []string, err error) {
	resent := h.Has("Resent-To") || h.Has("Resent-Cc") || h.Has("Resent-Bcc")

	senderKeys := []string{"Sender", "From"}
	if resent {
		senderKeys = []string{"Resent-Sender", "Resent-From", "Sender", "From"}
	}
	for _, k := range senderKeys {
		v := strings.TrimSpace(h.Get(k))
		if v == "" {
			continue
		}
		addrs, err := mail.ParseAddressList(v)
		if err != nil {
			return "", nil, eas.Errorf(eas.StatusInvalidMIME, "smtpsend: %s: %w", k, err)
		}
		if len(addrs) > 0 {
			from = addrs[0].Address
			break
		}
	}
	if from == "" {
		return "", nil, eas.Errorf(eas.StatusInvalidMIME, "smtpsend: message has no From address")
	}

	seen := make(map[string]bool)
	add := func(k, v string) error {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		addrs, err := mail.ParseAddressList(v)
		if err != nil {
			return eas.Errorf(eas.StatusMessageRecipientUnresolved, "smtpsend: %s: %w", k, err)
		}
		for _, a := range addrs {
			key := addrKey(a.Address)
			if !seen[key] {
				seen[key] = true
				to = append(to, a.Address)
			}
		}
		return nil
	}
	for _, k := range []string{"To", "Cc", "Bcc"} {
		if resent {
			// Only the topmost (current) Resent block counts.
			if err := add("Resent-"+k, h.Get("Resent-"+k)); err != nil {
				return "", nil, err
			}
			continue
		}
		for _, v := range h.Values(k) {
			if err := add(k, v); err != nil {
				return "", nil, err
			}
		}
	}
	if len(to) == 0 {
		return "", nil, eas.Errorf(eas.StatusMessageHasNoRecipient, "smtpsend: message has no recipient")
	}
	return from, to, nil
}

// addrKey is the deduplication key of an address: the local part as is
// (RFC 5321 §2.4: it may be case-sensitive), the domain in lower case.
func addrKey(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr
	}
	return addr[:i] + strings.ToLower(addr[i:])
}

// PrepareOptions are the account defaults PrepareOutgoing applies.
type PrepareOptions struct {
	// DefaultFrom is the From address ("Name <addr>" or "addr") set when
	// the client's message has none.
	DefaultFrom string
	// Domain is the right-hand side of generated Message-IDs; empty means
	// the domain of the From address.
	Domain string
	// Now returns the time for a generated Date (nil: time.Now).
	Now func() time.Time
	// Rand is the randomness of generated Message-IDs (nil: crypto/rand).
	Rand io.Reader
	// Forwardees are recipients named outside the message (the Forwardees
	// of a 16.x SmartForward, MS-ASCMD 2.2.3.79): they are added to the
	// envelope and, when the message has no To field, become its To.
	Forwardees []*mail.Address
}

// PrepareOutgoing copies the client's message from r to w ready for
// submission, and returns its envelope (see Envelope). Only the header is
// parsed and held; the body is copied through as it is read.
//
// Changes to the header: a missing From is set to opts.DefaultFrom; a
// missing Date (RFC 5322 §3.6.1) and Message-ID (§3.6.4, "<random@domain>")
// are added; Bcc and Resent-Bcc are removed (§3.6.3: their recipients get
// the message without seeing the field); opts.Forwardees become the To
// field when there is none, and join the envelope. All other fields are
// written as the client sent them.
//
// Errors come before anything is written to w: 107 InvalidMIME for an
// unparseable header or no From at all, 116/119 from Envelope. A failure
// to write w or to read the body is returned wrapped.
func PrepareOutgoing(r io.Reader, w io.Writer, opts PrepareOptions) (from string, rcpts []string, err error) {
	h, body, from, rcpts, err := prepareHeader(r, opts)
	if err != nil {
		return "", nil, err
	}
	if err := textproto.WriteHeader(w, h.Header.Header); err != nil {
		return "", nil, fmt.Errorf("smtpsend: write header: %w", err)
	}
	if _, err := io.Copy(w, body); err != nil {
		return "", nil, fmt.Errorf("smtpsend: copy body: %w", err)
	}
	return from, rcpts, nil
}

// SendMIME prepares the client's message as PrepareOutgoing does and
// submits it with Send, streaming the body from msg to the server. It
// returns the envelope used.
func (s *Sender) SendMIME(ctx context.Context, user, password string, msg io.Reader, opts PrepareOptions) (from string, rcpts []string, err error) {
	h, body, from, rcpts, err := prepareHeader(msg, opts)
	if err != nil {
		return "", nil, err
	}
	var hb bytes.Buffer
	if err := textproto.WriteHeader(&hb, h.Header.Header); err != nil {
		return "", nil, fmt.Errorf("smtpsend: write header: %w", err)
	}
	if err := s.Send(ctx, user, password, from, rcpts, io.MultiReader(&hb, body)); err != nil {
		return "", nil, err
	}
	return from, rcpts, nil
}

// prepareHeader reads and fixes the header of r and returns it with the
// rest of r (the body) and the envelope.
func prepareHeader(r io.Reader, opts PrepareOptions) (h mail.Header, body io.Reader, from string, rcpts []string, err error) {
	lr := &io.LimitedReader{R: r, N: MaxHeaderBytes}
	br := bufio.NewReader(lr)
	th, err := textproto.ReadHeader(br)
	if lr.N <= 0 {
		return h, nil, "", nil, eas.Errorf(eas.StatusInvalidMIME, "smtpsend: header larger than %d bytes", MaxHeaderBytes)
	}
	if err != nil && !(errors.Is(err, io.EOF) && th.Len() > 0) { // a header-only message has no blank line
		return h, nil, "", nil, eas.Errorf(eas.StatusInvalidMIME, "smtpsend: read header: %w", err)
	}
	lr.N = math.MaxInt64 // the body is not bounded
	h = mail.Header{Header: message.Header{Header: th}}

	if strings.TrimSpace(h.Get("From")) == "" {
		if opts.DefaultFrom == "" {
			return h, nil, "", nil, eas.Errorf(eas.StatusInvalidMIME, "smtpsend: message has no From and the account no default")
		}
		a, err := mail.ParseAddress(opts.DefaultFrom)
		if err != nil {
			return h, nil, "", nil, fmt.Errorf("smtpsend: default From %q: %w", opts.DefaultFrom, err)
		}
		h.SetAddressList("From", []*mail.Address{a})
	}
	if len(opts.Forwardees) > 0 && strings.TrimSpace(h.Get("To")) == "" {
		h.SetAddressList("To", opts.Forwardees)
	}
	from, rcpts, err = Envelope(h)
	if err != nil {
		return h, nil, "", nil, err
	}
	rcpts = addRecipients(rcpts, opts.Forwardees)
	h.Del("Bcc")
	h.Del("Resent-Bcc")
	if !h.Has("Date") {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		h.SetDate(now())
	}
	if strings.TrimSpace(h.Get("Message-Id")) == "" {
		id, err := newMessageID(opts, from)
		if err != nil {
			return h, nil, "", nil, err
		}
		h.SetMessageID(id)
	}
	return h, br, from, rcpts, nil
}

// newMessageID returns "random@domain" (RFC 5322 §3.6.4 msg-id without the
// angle brackets): 128 random bits, base32, and opts.Domain or the domain
// of from.
func newMessageID(opts PrepareOptions, from string) (string, error) {
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("smtpsend: Message-ID: %w", err)
	}
	domain := opts.Domain
	if domain == "" {
		if i := strings.LastIndexByte(from, '@'); i >= 0 {
			domain = from[i+1:]
		}
	}
	if !isDotAtom(domain) {
		domain = "easbridge.invalid" // RFC 2606 reserved name
	}
	local := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return local + "@" + strings.ToLower(domain), nil
}

// isDotAtom reports whether s is a plain ASCII host name usable as id-right
// (RFC 5322 §3.6.4 dot-atom-text restricted to letters, digits, '-', '.').
func isDotAtom(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
