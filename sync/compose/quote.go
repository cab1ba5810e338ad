package compose

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"

	"github.com/emersion/go-message/mail"
)

// quotes are the texts a reply or forward adds: plain ends with CRLF and
// goes after the client's text; html goes before the client's </body>.
type quotes struct {
	plain   string
	html    string
	hasHTML bool   // the original has an HTML body
	origSrc string // the original HTML quoted, for cid: references
}

// references reports whether the quoted HTML refers to Content-ID cid
// (RFC 2392 "cid:" URL, case-insensitive scheme).
func (q quotes) references(cid string) bool {
	if q.origSrc == "" {
		return false
	}
	return strings.Contains(strings.ToLower(q.origSrc), "cid:"+strings.ToLower(normalizeCID(cid)))
}

// dateLayout is how quotes show the original's Date.
const dateLayout = "Mon, 2 Jan 2006 15:04 -0700"

// newQuotes builds the plain and HTML quotes of orig.
func newQuotes(orig Original, m mode) (quotes, error) {
	h, err := headerOf(orig.Header)
	if err != nil {
		return quotes{}, err
	}
	plainSrc := orig.PlainBody
	if strings.TrimSpace(plainSrc) == "" && orig.HTMLBody != "" {
		plainSrc = htmlToText(orig.HTMLBody)
	}
	htmlInner := ""
	q := quotes{hasHTML: strings.TrimSpace(orig.HTMLBody) != ""}
	if q.hasHTML {
		htmlInner = bodyInner(orig.HTMLBody)
		q.origSrc = htmlInner
	} else {
		htmlInner = textToHTML(orig.PlainBody)
	}

	from := addressText(h, "From")
	date := dateText(h)
	if m == modeReply {
		var attr string
		switch {
		case from != "" && date != "":
			attr = fmt.Sprintf("On %s, %s wrote:", date, from)
		case from != "":
			attr = from + " wrote:"
		case date != "":
			attr = fmt.Sprintf("On %s, the sender wrote:", date)
		default:
			attr = "The sender wrote:"
		}
		var pb strings.Builder
		pb.WriteString(attr + "\r\n")
		for _, l := range lines(plainSrc) {
			switch {
			case l == "":
				pb.WriteString(">\r\n")
			case strings.HasPrefix(l, ">"):
				pb.WriteString(">" + l + "\r\n") // ">> " nesting
			default:
				pb.WriteString("> " + l + "\r\n")
			}
		}
		q.plain = pb.String()
		q.html = "<br>\r\n<div class=\"easbridge-quote\">\r\n<div>" + html.EscapeString(attr) + "</div>\r\n" +
			"<blockquote type=\"cite\" style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex\">\r\n" +
			htmlInner + "\r\n</blockquote>\r\n</div>\r\n"
		return q, nil
	}

	// Forward: the header block, then the original body unquoted.
	type field struct{ name, value string }
	fields := []field{
		{"From", from},
		{"Date", date},
		{"Subject", subjectText(h)},
		{"To", addressText(h, "To")},
		{"Cc", addressText(h, "Cc")},
	}
	var pb, hb strings.Builder
	pb.WriteString("-------- Original Message --------\r\n")
	hb.WriteString("<br>\r\n<div class=\"easbridge-forward\">\r\n<div>-------- Original Message --------</div>\r\n<div>")
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		pb.WriteString(f.name + ": " + f.value + "\r\n")
		hb.WriteString("<b>" + f.name + ":</b> " + html.EscapeString(f.value) + "<br>\r\n")
	}
	pb.WriteString("\r\n")
	for _, l := range lines(plainSrc) {
		pb.WriteString(l + "\r\n")
	}
	hb.WriteString("</div>\r\n<br>\r\n" + htmlInner + "\r\n</div>\r\n")
	q.plain, q.html = pb.String(), hb.String()
	return q, nil
}

// lines splits text at any line end, without trailing empty lines.
func lines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// addressText is a header's addresses for display: "Name <addr>, addr",
// names RFC 2047-decoded; the decoded raw value when it does not parse.
func addressText(h mail.Header, key string) string {
	addrs, err := h.AddressList(key)
	if err != nil {
		v, _ := h.Text(key)
		return strings.TrimSpace(v)
	}
	parts := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if a.Name != "" {
			parts = append(parts, a.Name+" <"+a.Address+">")
		} else {
			parts = append(parts, a.Address)
		}
	}
	return strings.Join(parts, ", ")
}

// dateText is the original's Date for display, in its own zone.
func dateText(h mail.Header) string {
	if !h.Has("Date") {
		return ""
	}
	t, err := h.Date()
	if err != nil || t.IsZero() {
		v, _ := h.Text("Date")
		return strings.TrimSpace(v)
	}
	return t.Format(dateLayout)
}

// subjectText is the decoded Subject.
func subjectText(h mail.Header) string {
	s, _ := h.Subject()
	return strings.TrimSpace(s)
}

var (
	reBodyOpen  = regexp.MustCompile(`(?is)<body\b[^>]*>`)
	reBodyClose = regexp.MustCompile(`(?is)</body\s*>`)
	reHead      = regexp.MustCompile(`(?is)<head\b.*?</head\s*>`)
	reDocTags   = regexp.MustCompile(`(?is)<!doctype[^>]*>|</?html\b[^>]*>|</?body\b[^>]*>`)
	reScript    = regexp.MustCompile(`(?is)<script\b.*?</script\s*>`)
	reStyle     = regexp.MustCompile(`(?is)<style\b.*?</style\s*>`)
	reComment   = regexp.MustCompile(`(?s)<!--.*?-->`)
	reSpace     = regexp.MustCompile(`\s+`)
	reBreak     = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|blockquote|table|pre)\s*>`)
	reTag       = regexp.MustCompile(`(?s)<[^>]*>`)
	reBlank     = regexp.MustCompile(`\n{3,}`)
)

// bodyInner returns what is inside the <body> of an HTML document (the
// whole text without <head> and document tags when there is no <body>),
// so that it can be nested in the client's document.
func bodyInner(doc string) string {
	if loc := reBodyOpen.FindStringIndex(doc); loc != nil {
		inner := doc[loc[1]:]
		if ends := reBodyClose.FindAllStringIndex(inner, -1); len(ends) > 0 {
			inner = inner[:ends[len(ends)-1][0]]
		}
		return strings.TrimSpace(inner)
	}
	doc = reHead.ReplaceAllString(doc, "")
	return strings.TrimSpace(reDocTags.ReplaceAllString(doc, ""))
}

// textToHTML renders plain text as HTML: escaped, line breaks as <br>.
func textToHTML(text string) string {
	ls := lines(text)
	for i, l := range ls {
		ls[i] = html.EscapeString(l)
	}
	return strings.Join(ls, "<br>\r\n")
}

// htmlToText is a small HTML-to-text conversion for quoting an HTML-only
// original in a text/plain reply: scripts, styles and the head dropped,
// white space collapsed, block ends as line breaks, tags removed,
// entities decoded.
func htmlToText(doc string) string {
	s := reHead.ReplaceAllString(doc, "")
	s = reScript.ReplaceAllString(s, "")
	s = reStyle.ReplaceAllString(s, "")
	s = reComment.ReplaceAllString(s, "")
	s = reSpace.ReplaceAllString(s, " ")
	s = reBreak.ReplaceAllString(s, "\n")
	s = reTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSpace(strings.ReplaceAll(l, "\u00a0", " "))
	}
	s = reBlank.ReplaceAllString(strings.Join(ls, "\n"), "\n\n")
	return strings.TrimSpace(s)
}

// bodyEndTag is what insertBeforeBodyEnd looks for (any case).
const bodyEndTag = "</body"

// maxHoldBack bounds what insertBeforeBodyEnd keeps unwritten after a
// "</body": past that, the tag is taken as not the last one that matters
// and the quote goes to the end.
const maxHoldBack = 64 << 10

// insertBeforeBodyEnd copies the HTML from r to w with insert placed
// before its last "</body" (any case), or at the end when there is none.
// It streams: only the text from the latest "</body" on (at most
// maxHoldBack bytes) and a tag-length tail are held back.
func insertBeforeBodyEnd(w io.Writer, r io.Reader, insert string) error {
	var pending []byte
	buf := make([]byte, 32<<10)
	held := false // pending starts with "</body"
	flush := func(n int) error {
		if n <= 0 {
			return nil
		}
		if _, err := w.Write(pending[:n]); err != nil {
			return fmt.Errorf("compose: write HTML: %w", err)
		}
		pending = append(pending[:0], pending[n:]...)
		return nil
	}
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			// Search only where a new match can be: in the new bytes or
			// straddling into them, and not the held tag itself.
			from := max(0, len(pending)-len(bodyEndTag)+1)
			if held {
				from = max(from, 1)
			}
			pending = append(pending, buf[:n]...)
			if i := lastIndexFold(pending[from:], bodyEndTag); i >= 0 {
				if err := flush(from + i); err != nil {
					return err
				}
				held = true
			}
			switch {
			case held && len(pending) > maxHoldBack:
				if err := flush(len(pending) - len(bodyEndTag) + 1); err != nil {
					return err
				}
				held = false
			case !held:
				if err := flush(len(pending) - len(bodyEndTag) + 1); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("compose: read client HTML: %w", rerr)
		}
	}
	var err error
	if held {
		_, err = io.WriteString(w, insert)
		if err == nil {
			_, err = w.Write(pending)
		}
	} else {
		_, err = w.Write(pending)
		if err == nil {
			_, err = io.WriteString(w, "\r\n"+insert)
		}
	}
	if err != nil {
		return fmt.Errorf("compose: write HTML: %w", err)
	}
	return nil
}

// lastIndexFold is bytes.LastIndex for an ASCII needle, ignoring case.
func lastIndexFold(s []byte, needle string) int {
	for i := len(s) - len(needle); i >= 0; i-- {
		if bytes.EqualFold(s[i:i+len(needle)], []byte(needle)) {
			return i
		}
	}
	return -1
}

// base64Writer encodes to base64 in 76-character CRLF lines (RFC 2045
// §6.8).
type base64Writer struct {
	lw  *lineWriter
	enc io.WriteCloser
}

func newBase64Writer(w io.Writer) *base64Writer {
	lw := &lineWriter{w: w}
	return &base64Writer{lw: lw, enc: base64.NewEncoder(base64.StdEncoding, lw)}
}

func (b *base64Writer) Write(p []byte) (int, error) { return b.enc.Write(p) }

// Close flushes the encoder and ends the last line.
func (b *base64Writer) Close() error {
	if err := b.enc.Close(); err != nil {
		return err
	}
	if b.lw.col > 0 {
		_, err := io.WriteString(b.lw.w, "\r\n")
		return err
	}
	return nil
}

// lineWriter breaks its input into 76-character CRLF lines.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(76-l.col, len(p))
		if _, err := l.w.Write(p[:n]); err != nil {
			return written, err
		}
		written += n
		l.col += n
		p = p[n:]
		if l.col == 76 {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return written, err
			}
			l.col = 0
		}
	}
	return written, nil
}
