package noteconv

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode non-UTF-8 notes
)

// ErrInvalid: the message cannot be read as a note.
var ErrInvalid = errors.New("noteconv: invalid note")

// Apple's note headers.
const (
	HeaderType    = "X-Uniform-Type-Identifier"
	TypeAppleNote = "com.apple.mail-note"
	headerCreated = "X-Mail-Created-Date"
	headerUUID    = "X-Universally-Unique-Identifier"
)

// maxBody bounds the body text read from one note.
const maxBody = 4 << 20

// Note is one note.
type Note struct {
	Subject    string
	Text       string // plain text body; derived from HTML when the note is HTML
	HTML       string // "" for a plain text note
	Categories []string
	Created    time.Time
	Modified   time.Time
	UUID       string
	// Apple is true when the message carried the com.apple.mail-note type.
	Apple bool
}

// Parse reads a stored message as a note. date is the message's
// INTERNALDATE, used when the header has no usable Date.
func Parse(raw []byte, date time.Time) (Note, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return Note{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	h := e.Header
	n := Note{Modified: date, Created: date}
	n.Subject = oneLine(headerText(h, "Subject"))
	n.Apple = strings.EqualFold(strings.TrimSpace(h.Get(HeaderType)), TypeAppleNote)
	n.UUID = strings.TrimSpace(h.Get(headerUUID))
	if t, err := mail.ParseDate(h.Get("Date")); err == nil {
		n.Modified = t
	}
	n.Created = n.Modified
	if t, err := mail.ParseDate(h.Get(headerCreated)); err == nil {
		n.Created = t
	}
	n.Categories = splitKeywords(headerText(h, "Keywords"))
	if err := n.readBody(e); err != nil {
		return Note{}, err
	}
	if n.Text == "" && n.HTML != "" {
		n.Text = htmlText(n.HTML)
	}
	return n, nil
}

// readBody takes the first text/plain and text/html leaves that are not
// attachments.
func (n *Note) readBody(e *message.Entity) error {
	var plain, htm string
	var plainSet, htmSet bool
	err := e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		if part.MultipartReader() != nil {
			return nil
		}
		if d, _, _ := part.Header.ContentDisposition(); d == "attachment" {
			return nil
		}
		t, _, _ := part.Header.ContentType()
		if t == "" {
			t = "text/plain"
		}
		if (t == "text/plain" && plainSet) || (t == "text/html" && htmSet) || (t != "text/plain" && t != "text/html") {
			return nil
		}
		b, rerr := io.ReadAll(io.LimitReader(part.Body, maxBody))
		if rerr != nil && len(b) == 0 {
			return rerr
		}
		s := cleanText(string(b))
		if t == "text/plain" {
			plain, plainSet = s, true
		} else {
			htm, htmSet = s, true
		}
		return nil
	})
	if err != nil && !plainSet && !htmSet {
		return fmt.Errorf("%w: body: %v", ErrInvalid, err)
	}
	n.Text, n.HTML = strings.ReplaceAll(plain, "\r\n", "\n"), htm
	return nil
}

func headerText(h message.Header, k string) string {
	s, err := h.Text(k)
	if err != nil {
		return h.Get(k)
	}
	return s
}

// Message builds the message to store for n. from is the account's address.
func (n Note) Message(from string) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", encodeWord(from))
	hdr("Date", n.Modified.Format(time.RFC1123Z))
	hdr("Subject", encodeWord(oneLine(n.Subject)))
	hdr(HeaderType, TypeAppleNote)
	hdr(headerCreated, n.Created.Format(time.RFC1123Z))
	if n.UUID != "" {
		hdr(headerUUID, n.UUID)
	}
	if len(n.Categories) > 0 {
		cats := make([]string, len(n.Categories))
		for i, c := range n.Categories {
			cats[i] = encodeWord(strings.ReplaceAll(oneLine(c), ",", " "))
		}
		hdr("Keywords", strings.Join(cats, ", "))
	}
	hdr("MIME-Version", "1.0")
	body, typ := n.HTML, "text/html"
	if body == "" {
		body, typ = n.Text, "text/plain"
	}
	hdr("Content-Type", typ+"; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")))
	_ = w.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

// NewUUID returns a random UUID (RFC 9562 version 4) for a new note.
func NewUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

// encodeWord encodes a header value as RFC 2047 words when it is not ASCII.
func encodeWord(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

func splitKeywords(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// oneLine makes a header value one clean line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, cleanText(s))
	return strings.TrimSpace(s)
}

// cleanText makes s valid UTF-8 without NUL bytes (WBXML text cannot
// hold them).
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}
