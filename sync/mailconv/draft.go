package mailconv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"easbridge/server/wbxml"
)

// DraftOptions gives DraftMIME what the client does not send.
type DraftOptions struct {
	From      string    // the user's mailbox, "Name <addr>" or "addr"; required
	Date      time.Time // zero: now
	MessageID string    // without angle brackets; "": generated
}

// draftAttachment is one AirSyncBase:Attachments/Add of a draft.
type draftAttachment struct {
	name, contentType, contentID string
	location                     string // ContentLocation (MS-ASAIRS 2.2.2.17.1)
	inline                       bool
	data                         []byte
}

// DraftMIME builds an RFC 5322 message (for IMAP APPEND to Drafts) from the
// ApplicationData of a client's Email Add in the Drafts folder (16.0+,
// MS-ASEMAIL 2.2.2.42 IsDraft): Email:To, Email:Cc, email2:Bcc, Email:Subject,
// Email:Importance, AirSyncBase:Body (Type 1 plain text; Type 2 HTML, sent
// with a plain text alternative) and AirSyncBase:Attachments/Add
// (DisplayName, ContentType, Content, ContentId, ContentLocation, IsInline; MS-ASAIRS
// 2.2.2.2 Add, 2.2.2.15 Content). Inline attachments are ordinary parts with disposition
// inline and their Content-ID (no multipart/related). Header text is
// encoded with RFC 2047, file names with RFC 2231, text bodies are
// quoted-printable UTF-8 and attachments base64 (go-message's writer).
func DraftMIME(appData *wbxml.Element, opts DraftOptions) ([]byte, error) {
	if appData == nil {
		return nil, errors.New("mailconv: draft: no ApplicationData")
	}
	from := parseAddressList(opts.From)
	if len(from) == 0 {
		return nil, errors.New("mailconv: draft: no From address")
	}
	var h mail.Header
	date := opts.Date
	if date.IsZero() {
		date = time.Now()
	}
	h.SetDate(date)
	h.SetAddressList("From", mailAddrs(from[:1]))
	for _, f := range []struct{ space, name, header string }{
		{wbxml.NSEmail, "To", "To"},    // MS-ASEMAIL 2.2.2.79
		{wbxml.NSEmail, "Cc", "Cc"},    // MS-ASEMAIL 2.2.2.18
		{wbxml.NSEmail2, "Bcc", "Bcc"}, // MS-ASEMAIL 2.2.2.9
	} {
		if v := appData.ChildText(f.space, f.name); v != "" {
			h.SetAddressList(f.header, mailAddrs(parseAddressList(clean(v))))
		}
	}
	if e := appData.Child(wbxml.NSEmail, "Subject"); e != nil { // MS-ASEMAIL 2.2.2.75.1
		h.SetSubject(cleanLine(text(e)))
	}
	if n, ok := appData.ChildInt(wbxml.NSEmail, "Importance"); ok { // MS-ASEMAIL 2.2.2.38
		switch n {
		case 0:
			h.Set("Importance", "low")
			h.Set("X-Priority", "5")
		case 2:
			h.Set("Importance", "high")
			h.Set("X-Priority", "1")
		}
	}
	if opts.MessageID != "" {
		h.SetMessageID(opts.MessageID)
	} else if err := h.GenerateMessageIDWithHostname(domainOf(from[0].Addr)); err != nil {
		return nil, fmt.Errorf("mailconv: draft: message id: %w", err)
	}

	// Body (MS-ASAIRS 2.2.2.9).
	var plain, html string
	if b := appData.Child(wbxml.NSAirSyncBase, "Body"); b != nil {
		data := clean(b.ChildText(wbxml.NSAirSyncBase, "Data"))
		if t, _ := b.ChildInt(wbxml.NSAirSyncBase, "Type"); t == 2 {
			html, plain = data, htmlToText(data)
		} else {
			plain = crlf(data)
		}
	}
	atts := draftAttachments(appData)

	var buf bytes.Buffer
	if err := writeDraft(&buf, h.Header, plain, html, atts); err != nil {
		return nil, fmt.Errorf("mailconv: draft: %w", err)
	}
	return buf.Bytes(), nil
}

// writeDraft writes the MIME structure: text/plain alone, or
// multipart/alternative (plain, HTML), inside multipart/mixed when there
// are attachments.
func writeDraft(w io.Writer, h message.Header, plain, html string, atts []draftAttachment) error {
	if len(atts) == 0 {
		return writeText(w, h, plain, html)
	}
	h.SetContentType("multipart/mixed", nil)
	mw, err := message.CreateWriter(w, h)
	if err != nil {
		return err
	}
	if err := writeTextPart(mw, plain, html); err != nil {
		return err
	}
	for _, a := range atts {
		var ah message.Header
		ah.SetContentType(a.contentType, nil)
		disp := "attachment"
		if a.inline {
			disp = "inline"
		}
		ah.SetContentDisposition(disp, map[string]string{"filename": a.name})
		if a.contentID != "" {
			ah.Set("Content-ID", "<"+a.contentID+">")
		}
		if a.location != "" {
			ah.Set("Content-Location", locationHeader(a.location))
		}
		ah.Set("Content-Transfer-Encoding", "base64")
		pw, err := mw.CreatePart(ah)
		if err != nil {
			return fmt.Errorf("attachment %q: %w", a.name, err)
		}
		if _, err := pw.Write(a.data); err != nil {
			return fmt.Errorf("attachment %q: %w", a.name, err)
		}
		if err := pw.Close(); err != nil {
			return fmt.Errorf("attachment %q: %w", a.name, err)
		}
	}
	return mw.Close()
}

// writeText writes the text (plain, or alternative plain and HTML) as a
// whole entity with header h.
func writeText(w io.Writer, h message.Header, plain, html string) error {
	if html == "" {
		setText(&h, "text/plain")
		tw, err := message.CreateWriter(w, h)
		if err != nil {
			return err
		}
		return writeClose(tw, crlf(plain))
	}
	h.SetContentType("multipart/alternative", nil)
	aw, err := message.CreateWriter(w, h)
	if err != nil {
		return err
	}
	return writeAlternatives(aw, plain, html)
}

// writeTextPart writes the text as the first part of a multipart.
func writeTextPart(mw *message.Writer, plain, html string) error {
	var h message.Header
	if html == "" {
		setText(&h, "text/plain")
		pw, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		return writeClose(pw, crlf(plain))
	}
	h.SetContentType("multipart/alternative", nil)
	aw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	return writeAlternatives(aw, plain, html)
}

// writeAlternatives writes the plain and HTML parts of a
// multipart/alternative and closes it.
func writeAlternatives(aw *message.Writer, plain, html string) error {
	for _, p := range []struct{ typ, body string }{{"text/plain", crlf(plain)}, {"text/html", html}} {
		var ph message.Header
		setText(&ph, p.typ)
		pw, err := aw.CreatePart(ph)
		if err != nil {
			return fmt.Errorf("%s part: %w", p.typ, err)
		}
		if err := writeClose(pw, p.body); err != nil {
			return err
		}
	}
	return aw.Close()
}

func setText(h *message.Header, typ string) {
	h.SetContentType(typ, map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
}

// draftAttachments reads AirSyncBase:Attachments/Add (MS-ASAIRS 2.2.2.2).
func draftAttachments(appData *wbxml.Element) []draftAttachment {
	var out []draftAttachment
	list := appData.Child(wbxml.NSAirSyncBase, "Attachments")
	for i, add := range list.All(wbxml.NSAirSyncBase, "Add") {
		a := draftAttachment{
			name:        cleanLine(add.ChildText(wbxml.NSAirSyncBase, "DisplayName")),
			contentType: strings.TrimSpace(add.ChildText(wbxml.NSAirSyncBase, "ContentType")),
			contentID:   strings.Trim(cleanLine(add.ChildText(wbxml.NSAirSyncBase, "ContentId")), "<> "),
			location:    strings.TrimSpace(cleanLine(add.ChildText(wbxml.NSAirSyncBase, "ContentLocation"))),
		}
		if c := add.Child(wbxml.NSAirSyncBase, "Content"); c != nil {
			a.data = []byte(text(c))
		}
		if v, ok := add.ChildInt(wbxml.NSAirSyncBase, "IsInline"); ok && v == 1 {
			a.inline = true
		}
		if a.name == "" {
			a.name = fmt.Sprintf("attachment-%d", i+1)
		}
		if t, _, ok := strings.Cut(a.contentType, "/"); !ok || t == "" || strings.ContainsAny(a.contentType, " \t;\"") {
			a.contentType = "application/octet-stream"
		}
		out = append(out, a)
	}
	return out
}

func mailAddrs(list []address) []*mail.Address {
	out := make([]*mail.Address, 0, len(list))
	for _, a := range list {
		out = append(out, &mail.Address{Name: a.Name, Address: a.Addr})
	}
	return out
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i+1 < len(addr) {
		return addr[i+1:]
	}
	return "localhost"
}

func writeClose(w io.WriteCloser, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}
