package compose

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/quotedprintable"
	"os"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode non-UTF-8 charsets (sets message.CharsetReader)
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"easbridge/server/eas"
)

// MaxHeaderBytes bounds a header block read from the client or the
// original.
const MaxHeaderBytes = 1 << 20

// Original is the message being replied to or forwarded.
type Original struct {
	// Header is the raw RFC 5322 header block of the original.
	Header []byte
	// PlainBody and HTMLBody are the decoded (UTF-8) bodies; either may be
	// empty.
	PlainBody, HTMLBody string
	// Attachments are the original's attachments and inline parts.
	Attachments []OriginalAttachment

	spool *os.File // OriginalFromMessage's attachment file, removed by Close
}

// Close releases what OriginalFromMessage holds (its temporary file). It
// is a no-op for an Original built by hand and safe to call twice.
func (o *Original) Close() error {
	if o.spool == nil {
		return nil
	}
	f := o.spool
	o.spool = nil
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	if cerr != nil {
		return fmt.Errorf("compose: close spool: %w", cerr)
	}
	if rerr != nil {
		return fmt.Errorf("compose: remove spool: %w", rerr)
	}
	return nil
}

// OriginalAttachment is one attachment or inline part of the original.
type OriginalAttachment struct {
	Filename    string
	ContentType string // "image/png", "text/plain; charset=iso-8859-1"; "" means by Filename's extension
	ContentID   string // without angle brackets
	Inline      bool
	// Open streams the decoded content. The composer closes what it
	// returns.
	Open func() (io.ReadCloser, error)
}

// Composer builds reply and forward messages. The zero value is ready to
// use.
type Composer struct {
	// Boundary returns the boundary of each multipart the composer writes,
	// in document order (RFC 2046 §5.1.1: 1–70 characters of bchars). nil
	// means "easbridge-" and 24 random hex digits.
	Boundary func() string
}

// Reply writes to w the client's message read from client with the
// original quoted below the client's text (MS-ASCMD 2.2.1.20 SmartReply):
// "On <date>, <from> wrote:" and "> " lines in text/plain, a blockquote in
// text/html. The original's inline images that its HTML references are
// carried with the HTML quote; other attachments are not.
//
// A client message that cannot be parsed is an *eas.StatusError with
// eas.StatusInvalidMIME; write errors and attachment Open errors are
// returned wrapped.
func Reply(w io.Writer, client io.Reader, orig Original) error {
	return Composer{}.Reply(w, client, orig)
}

// Forward writes to w the client's message with the original below an
// "-------- Original Message --------" block (From, Date, Subject, To, Cc)
// and the original's attachments added to the client's (MS-ASCMD 2.2.1.19
// SmartForward). Errors are as for Reply.
func Forward(w io.Writer, client io.Reader, orig Original) error {
	return Composer{}.Forward(w, client, orig)
}

// Reply is the package-level Reply with c's settings.
func (c Composer) Reply(w io.Writer, client io.Reader, orig Original) error {
	return c.compose(w, client, orig, modeReply)
}

// Forward is the package-level Forward with c's settings.
func (c Composer) Forward(w io.Writer, client io.Reader, orig Original) error {
	return c.compose(w, client, orig, modeForward)
}

type mode int

const (
	modeReply mode = iota
	modeForward
)

// opener writes an entity's header and returns the writer for its body:
// the output itself for the root, a part of the parent multipart otherwise.
type opener func(h textproto.Header) (io.Writer, error)

// builder is the state of one Reply or Forward.
type builder struct {
	comp Composer
	mode mode
	q    quotes

	related []OriginalAttachment // inline parts the HTML quote references
	attach  []OriginalAttachment // forward: parts for the top-level multipart/mixed

	didPlain, didHTML bool
	pendingRelated    bool // the HTML quote went into a client multipart/related that still has to get b.related
}

func (c Composer) compose(w io.Writer, client io.Reader, orig Original, m mode) error {
	b := &builder{comp: c, mode: m}
	if err := b.prepare(orig); err != nil {
		return err
	}

	lr := &io.LimitedReader{R: client, N: MaxHeaderBytes}
	br := bufio.NewReader(lr)
	th, err := textproto.ReadHeader(br)
	if lr.N <= 0 {
		return eas.Errorf(eas.StatusInvalidMIME, "compose: client header larger than %d bytes", MaxHeaderBytes)
	}
	if err != nil && !(errors.Is(err, io.EOF) && th.Len() > 0) {
		return eas.Errorf(eas.StatusInvalidMIME, "compose: read client header: %w", err)
	}
	lr.N = math.MaxInt64
	h := message.Header{Header: th}
	mt, _, err := h.ContentType()
	if err != nil {
		return eas.Errorf(eas.StatusInvalidMIME, "compose: client Content-Type: %w", err)
	}
	root := rootOpener(w)

	switch {
	case isOpaque(mt):
		// Signed or encrypted: any change breaks it (RFC 1847 §2.1).
		return passRaw(root, th, br)
	case mt == "multipart/mixed":
		return b.entity(root, th, br, true, false, true)
	case b.mode == modeForward && len(b.attach)+len(b.related) > 0, !isBodyCandidate(h):
		return b.wrapMixed(root, th, br)
	default:
		return b.entity(root, th, br, true, false, false)
	}
}

// prepare computes the quotes and sorts the original's attachments: those
// whose Content-ID the quoted HTML references go with the HTML part (and,
// in a forward whose client has no HTML part, among the attachments); a
// forward carries all others.
func (b *builder) prepare(orig Original) error {
	q, err := newQuotes(orig, b.mode)
	if err != nil {
		return err
	}
	b.q = q
	for _, a := range orig.Attachments {
		switch {
		case a.ContentID != "" && q.references(a.ContentID):
			b.related = append(b.related, a)
		case b.mode == modeForward:
			b.attach = append(b.attach, a)
		}
	}
	return nil
}

// rootOpener writes the root header to w, adding MIME-Version when the
// header has MIME fields but none (RFC 2045 §4).
func rootOpener(w io.Writer) opener {
	return func(h textproto.Header) (io.Writer, error) {
		if h.Has("Content-Type") && !h.Has("Mime-Version") {
			setField(&h, "MIME-Version", "1.0")
		}
		if err := textproto.WriteHeader(w, h); err != nil {
			return nil, fmt.Errorf("compose: write header: %w", err)
		}
		return w, nil
	}
}

// partOpener creates parts of mw.
func partOpener(mw *textproto.MultipartWriter) opener {
	return func(h textproto.Header) (io.Writer, error) {
		pw, err := mw.CreatePart(h)
		if err != nil {
			return nil, fmt.Errorf("compose: create part: %w", err)
		}
		return pw, nil
	}
}

// entity writes one entity of the client's message: rewritten when it is a
// body part or a multipart holding one, copied raw otherwise. rootMixed is
// set for the top-level multipart/mixed, which gets the forward
// attachments.
func (b *builder) entity(open opener, th textproto.Header, body io.Reader, isBody, inRelated, rootMixed bool) error {
	h := message.Header{Header: th}
	mt, params, err := h.ContentType()
	if err != nil || !isBody || isOpaque(mt) {
		return passRaw(open, th, body)
	}
	disp, _, _ := h.ContentDisposition()
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return b.multipart(open, th, body, mt, params, rootMixed)
	case disp == "attachment":
		return passRaw(open, th, body)
	case mt == "text/plain" && !b.didPlain:
		return b.textPart(open, th, body, false, inRelated)
	case mt == "text/html" && !b.didHTML:
		return b.textPart(open, th, body, true, inRelated)
	}
	return passRaw(open, th, body)
}

// multipart rewrites a multipart entity that holds (or is) the body, with a
// fresh boundary: its children's content changes, and the quote must not
// be able to contain the boundary.
func (b *builder) multipart(open opener, th textproto.Header, body io.Reader, mt string, params map[string]string, rootMixed bool) error {
	oldBoundary := params["boundary"]
	if oldBoundary == "" {
		return eas.Errorf(eas.StatusInvalidMIME, "compose: %s without boundary", mt)
	}
	nh := th.Copy()
	np := make(map[string]string, len(params))
	for k, v := range params {
		np[k] = v
	}
	bnd := b.boundary()
	np["boundary"] = bnd
	setContentType(&nh, mt, np)
	nh.Del("Content-Transfer-Encoding") // RFC 2045 §6.4: identity only
	w, err := open(nh)
	if err != nil {
		return err
	}
	mw, err := newMultipartWriter(w, bnd)
	if err != nil {
		return err
	}
	sub := strings.TrimPrefix(mt, "multipart/")
	start := normalizeCID(params["start"])
	mr := textproto.NewMultipartReader(body, oldBoundary)
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return eas.Errorf(eas.StatusInvalidMIME, "compose: %s part %d: %w", mt, i+1, err)
		}
		var childIsBody bool
		switch sub {
		case "alternative":
			childIsBody = true
		case "related":
			if start == "" {
				childIsBody = i == 0
			} else {
				childIsBody = normalizeCID(p.Header.Get("Content-Id")) == start
			}
		default: // mixed and unknown subtypes (RFC 2046 §5.1.7)
			childIsBody = i == 0
			if i == 0 && !isBodyCandidate(message.Header{Header: p.Header}) {
				// The client wrote no text (only attachments): the quote
				// becomes the first part.
				if err := b.quotePart(partOpener(mw)); err != nil {
					return err
				}
				childIsBody = false
			}
		}
		if err := b.entity(partOpener(mw), p.Header, p, childIsBody, sub == "related", false); err != nil {
			return err
		}
	}
	if sub == "related" && b.pendingRelated {
		if err := writeAttachments(mw, b.related, true); err != nil {
			return err
		}
		b.pendingRelated = false
	}
	if rootMixed {
		if err := b.finishRoot(mw); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("compose: close %s: %w", mt, err)
	}
	return nil
}

// finishRoot adds, at the end of the top-level multipart/mixed, the quote
// when no part took it, and the forward attachments (with the inline
// images when no HTML part took them).
func (b *builder) finishRoot(mw *textproto.MultipartWriter) error {
	if !b.didPlain && !b.didHTML {
		if err := b.quotePart(partOpener(mw)); err != nil {
			return err
		}
	}
	atts := b.attach
	if b.mode == modeForward && !b.didHTML {
		atts = append(atts[:len(atts):len(atts)], b.related...)
	}
	return writeAttachments(mw, atts, false)
}

// wrapMixed makes the client's message the first part of a new top-level
// multipart/mixed, for a forward with attachments to add or a client
// message with no text of its own.
func (b *builder) wrapMixed(root opener, th textproto.Header, body io.Reader) error {
	rest, content := splitContentFields(th)
	if content.Len() == 0 {
		setField(&content, "Content-Type", "text/plain; charset=us-ascii") // RFC 2045 §5.2 default
	}
	bnd := b.boundary()
	setContentType(&rest, "multipart/mixed", map[string]string{"boundary": bnd})
	w, err := root(rest)
	if err != nil {
		return err
	}
	mw, err := newMultipartWriter(w, bnd)
	if err != nil {
		return err
	}
	if !isBodyCandidate(message.Header{Header: content}) {
		if err := b.quotePart(partOpener(mw)); err != nil {
			return err
		}
		if err := passRaw(partOpener(mw), content, body); err != nil {
			return err
		}
	} else if err := b.entity(partOpener(mw), content, body, true, false, false); err != nil {
		return err
	}
	if err := b.finishRoot(mw); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("compose: close multipart/mixed: %w", err)
	}
	return nil
}

// quotePart writes a part holding only the quote: text/plain, text/html,
// or a multipart/alternative of both, following what the original has.
func (b *builder) quotePart(open opener) error {
	wantHTML := b.q.hasHTML && !b.didHTML
	wantPlain := !b.didPlain
	textHdr := func(mt string) textproto.Header {
		var h textproto.Header
		setField(&h, "Content-Type", mt+"; charset=utf-8")
		return h
	}
	const emptyHTML = "<html><body>\r\n</body></html>\r\n"
	switch {
	case wantPlain && wantHTML:
		var h textproto.Header
		bnd := b.boundary()
		setContentType(&h, "multipart/alternative", map[string]string{"boundary": bnd})
		w, err := open(h)
		if err != nil {
			return err
		}
		mw, err := newMultipartWriter(w, bnd)
		if err != nil {
			return err
		}
		if err := b.textPart(partOpener(mw), textHdr("text/plain"), strings.NewReader(""), false, false); err != nil {
			return err
		}
		if err := b.textPart(partOpener(mw), textHdr("text/html"), strings.NewReader(emptyHTML), true, false); err != nil {
			return err
		}
		if err := mw.Close(); err != nil {
			return fmt.Errorf("compose: close multipart/alternative: %w", err)
		}
		return nil
	case wantHTML:
		return b.textPart(open, textHdr("text/html"), strings.NewReader(emptyHTML), true, false)
	case wantPlain:
		return b.textPart(open, textHdr("text/plain"), strings.NewReader(""), false, false)
	}
	return nil
}

// textPart decodes a client text part, appends (plain) or inserts (HTML)
// the quote and writes it as UTF-8 quoted-printable. A part whose charset
// or transfer encoding go-message does not know is copied raw instead.
func (b *builder) textPart(open opener, th textproto.Header, body io.Reader, isHTML, inRelated bool) error {
	h := message.Header{Header: th}
	mt, params, _ := h.ContentType()
	e, err := message.New(h, body)
	if err != nil {
		// Nothing was read yet: message.New only wraps body.
		return passRaw(open, th, body)
	}
	np := map[string]string{"charset": "utf-8"}
	for k, v := range params {
		if k != "charset" {
			np[k] = v
		}
	}
	nh := th.Copy()
	setContentType(&nh, mt, np)
	setField(&nh, "Content-Transfer-Encoding", "quoted-printable")
	nh.Del("Content-Length")

	wrapRelated := isHTML && !inRelated && len(b.related) > 0
	var (
		w  io.Writer
		mw *textproto.MultipartWriter
	)
	if wrapRelated {
		// multipart/related (RFC 2387) around the HTML and the images it
		// references; the entity's non-content fields stay outside.
		rest, content := splitContentFields(nh)
		bnd := b.boundary()
		setContentType(&rest, "multipart/related", map[string]string{"type": "text/html", "boundary": bnd})
		rw, err := open(rest)
		if err != nil {
			return err
		}
		if mw, err = newMultipartWriter(rw, bnd); err != nil {
			return err
		}
		if w, err = mw.CreatePart(content); err != nil {
			return fmt.Errorf("compose: create part: %w", err)
		}
	} else if w, err = open(nh); err != nil {
		return err
	}

	qp := quotedprintable.NewWriter(w)
	if isHTML {
		err = insertBeforeBodyEnd(qp, e.Body, b.q.html)
	} else {
		err = appendQuote(qp, e.Body, b.q.plain)
	}
	if err != nil {
		return err
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("compose: write text: %w", err)
	}
	if !isHTML {
		b.didPlain = true
		return nil
	}
	b.didHTML = true
	switch {
	case wrapRelated:
		if err := writeAttachments(mw, b.related, true); err != nil {
			return err
		}
		if err := mw.Close(); err != nil {
			return fmt.Errorf("compose: close multipart/related: %w", err)
		}
	case inRelated && len(b.related) > 0:
		b.pendingRelated = true // the enclosing multipart/related adds them
	}
	return nil
}

// appendQuote copies the client's text and then the quote, separated by an
// empty line when there is text.
func appendQuote(w io.Writer, text io.Reader, quote string) error {
	tw := &tailWriter{w: w}
	if _, err := io.Copy(tw, text); err != nil {
		return fmt.Errorf("compose: copy client text: %w", err)
	}
	var sep string // none before a quote that stands alone
	switch {
	case tw.n > 0 && tw.last != '\n':
		sep = "\r\n\r\n"
	case tw.n > 0:
		sep = "\r\n"
	}
	if _, err := io.WriteString(w, sep+quote); err != nil {
		return fmt.Errorf("compose: write quote: %w", err)
	}
	return nil
}

// tailWriter remembers how much was written and the last byte.
type tailWriter struct {
	w    io.Writer
	n    int64
	last byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if n > 0 {
		t.n += int64(n)
		t.last = p[n-1]
	}
	return n, err
}

// passRaw copies an entity unchanged: header and still-encoded body.
func passRaw(open opener, th textproto.Header, body io.Reader) error {
	w, err := open(th)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, body); err != nil {
		return fmt.Errorf("compose: copy part: %w", err)
	}
	return nil
}

// newMultipartWriter returns a multipart writer to w with boundary bnd.
func newMultipartWriter(w io.Writer, bnd string) (*textproto.MultipartWriter, error) {
	mw := textproto.NewMultipartWriter(w)
	if err := mw.SetBoundary(bnd); err != nil {
		return nil, fmt.Errorf("compose: boundary %q: %w", bnd, err)
	}
	return mw, nil
}

// writeAttachments streams atts as parts of mw.
func writeAttachments(mw *textproto.MultipartWriter, atts []OriginalAttachment, inline bool) error {
	for _, a := range atts {
		if err := writeAttachment(mw, a, inline); err != nil {
			return err
		}
	}
	return nil
}

// writeAttachment writes one attachment part, base64-encoded (message/*
// as 8bit, RFC 2046 §5.2.1), its content streamed from a.Open.
func writeAttachment(mw *textproto.MultipartWriter, a OriginalAttachment, forceInline bool) error {
	if a.Open == nil {
		return fmt.Errorf("compose: attachment %q has no Open", a.Filename)
	}
	mt, params := attachmentType(a)
	if a.Filename != "" {
		params["name"] = a.Filename
	}
	var h textproto.Header
	setContentType(&h, mt, params)
	disp := "attachment"
	if a.Inline || forceInline {
		disp = "inline"
	}
	dparams := map[string]string{}
	if a.Filename != "" {
		dparams["filename"] = a.Filename
	}
	setField(&h, "Content-Disposition", mime.FormatMediaType(disp, dparams))
	if a.ContentID != "" {
		setField(&h, "Content-ID", "<"+normalizeCID(a.ContentID)+">")
	}
	message8bit := strings.HasPrefix(mt, "message/")
	if message8bit {
		setField(&h, "Content-Transfer-Encoding", "8bit")
	} else {
		setField(&h, "Content-Transfer-Encoding", "base64")
	}

	pw, err := mw.CreatePart(h)
	if err != nil {
		return fmt.Errorf("compose: create attachment part: %w", err)
	}
	rc, err := a.Open()
	if err != nil {
		return fmt.Errorf("compose: open attachment %q: %w", a.Filename, err)
	}
	defer rc.Close()
	if message8bit {
		tw := &tailWriter{w: pw}
		if _, err := io.Copy(tw, rc); err != nil {
			return fmt.Errorf("compose: copy attachment %q: %w", a.Filename, err)
		}
		if tw.n > 0 && tw.last != '\n' {
			if _, err := io.WriteString(pw, "\r\n"); err != nil {
				return fmt.Errorf("compose: copy attachment %q: %w", a.Filename, err)
			}
		}
		return nil
	}
	enc := newBase64Writer(pw)
	if _, err := io.Copy(enc, rc); err != nil {
		return fmt.Errorf("compose: copy attachment %q: %w", a.Filename, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("compose: encode attachment %q: %w", a.Filename, err)
	}
	return nil
}

// attachmentType returns the media type and parameters for an attachment:
// its ContentType, else the type of its file name extension, else
// application/octet-stream.
func attachmentType(a OriginalAttachment) (string, map[string]string) {
	ct := a.ContentType
	if ct == "" {
		if i := strings.LastIndexByte(a.Filename, '.'); i >= 0 {
			ct = mime.TypeByExtension(a.Filename[i:])
		}
	}
	if ct != "" {
		if mt, params, err := mime.ParseMediaType(ct); err == nil {
			delete(params, "name")
			delete(params, "boundary")
			return mt, params
		}
	}
	return "application/octet-stream", map[string]string{}
}

// boundary returns the next multipart boundary.
func (b *builder) boundary() string {
	if b.comp.Boundary != nil {
		return b.comp.Boundary()
	}
	var r [12]byte
	rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "easbridge-" + hex.EncodeToString(r[:])
}

// Header helpers.

// setContentType sets Content-Type with RFC 2231 parameter encoding where
// needed (mime.FormatMediaType).
func setContentType(h *textproto.Header, mt string, params map[string]string) {
	v := mime.FormatMediaType(mt, params)
	if v == "" { // a parameter it cannot format: keep the type at least
		v = mt
	}
	setField(h, "Content-Type", v)
}

// setField sets key to value where the field already is (the first one;
// others are removed), else at the bottom of the header, so a rewritten
// header keeps its order (textproto.Header.Set moves it to the top).
func setField(h *textproto.Header, key, value string) {
	var tmp textproto.Header
	tmp.Set(key, value)
	formatted, err := tmp.Raw(key)
	if err != nil { // CR or LF in value: let WriteHeader report it
		h.Set(key, value)
		return
	}
	// Keep the caller's spelling ("MIME-Version", "Content-ID"), not the
	// canonical "Mime-Version".
	formatted = append([]byte(key), formatted[len(key):]...)
	var raws [][]byte
	placed := false
	fields := h.Fields()
	for fields.Next() {
		raw, err := fields.Raw()
		if err != nil {
			continue
		}
		if strings.EqualFold(fields.Key(), key) {
			if placed {
				continue
			}
			raw, placed = formatted, true
		}
		raws = append(raws, raw)
	}
	if !placed {
		raws = append(raws, formatted)
	}
	var nh textproto.Header
	for i := len(raws) - 1; i >= 0; i-- { // AddRaw inserts at the top
		nh.AddRaw(raws[i])
	}
	*h = nh
}

// splitContentFields splits h into the MIME content fields (Content-*,
// RFC 2045 §9, RFC 2183) and the rest, both in their original order.
func splitContentFields(h textproto.Header) (rest, content textproto.Header) {
	var restRaw, contentRaw [][]byte
	fields := h.Fields()
	for fields.Next() {
		raw, err := fields.Raw()
		if err != nil {
			continue
		}
		if strings.HasPrefix(strings.ToLower(fields.Key()), "content-") {
			contentRaw = append(contentRaw, raw)
		} else {
			restRaw = append(restRaw, raw)
		}
	}
	for i := len(restRaw) - 1; i >= 0; i-- { // AddRaw inserts at the top
		rest.AddRaw(restRaw[i])
	}
	for i := len(contentRaw) - 1; i >= 0; i-- {
		content.AddRaw(contentRaw[i])
	}
	return rest, content
}

// isOpaque reports whether a client entity must not be changed.
func isOpaque(mt string) bool {
	switch mt {
	case "multipart/signed", "multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime":
		return true
	}
	return false
}

// isBodyCandidate reports whether an entity can carry the body text.
func isBodyCandidate(h message.Header) bool {
	mt, _, err := h.ContentType()
	if err != nil || isOpaque(mt) {
		return false
	}
	if strings.HasPrefix(mt, "multipart/") {
		return true
	}
	disp, _, _ := h.ContentDisposition()
	return disp != "attachment" && (mt == "text/plain" || mt == "text/html")
}

// normalizeCID strips angle brackets and space from a Content-ID or a
// start parameter (RFC 2392 §2).
func normalizeCID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	return s
}

// headerOf parses a raw header block (which may lack the final empty line).
func headerOf(raw []byte) (mail.Header, error) {
	lr := &io.LimitedReader{R: bytes.NewReader(raw), N: MaxHeaderBytes}
	th, err := textproto.ReadHeader(bufio.NewReader(lr))
	if err != nil && !errors.Is(err, io.EOF) {
		return mail.Header{}, fmt.Errorf("compose: parse original header: %w", err)
	}
	return mail.Header{Header: message.Header{Header: th}}, nil
}
