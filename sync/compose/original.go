package compose

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/quotedprintable"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// MaxBodyText bounds each decoded body OriginalFromMessage keeps; longer
// bodies are cut (at a character boundary) with a note.
const MaxBodyText = 8 << 20

// truncatedNote ends a body cut at MaxBodyText.
const truncatedNote = "\n[…]"

// OriginalFromMessage reads a whole raw RFC 5322 message and returns it as
// an Original: the raw header, the first text/plain and text/html body
// parts decoded to UTF-8 (go-message's charset package), and every other
// leaf part as an attachment.
//
// Attachments are decoded (base64, quoted-printable) into one temporary
// file as they are read, not into memory; their Open reads a section of
// that file and may be called any number of times, also concurrently. The
// caller must call Close on the result to remove the file. Text
// attachments keep their bytes and their charset parameter.
func OriginalFromMessage(raw io.Reader) (o Original, err error) {
	lr := &io.LimitedReader{R: raw, N: MaxHeaderBytes}
	br := bufio.NewReader(lr)
	th, err := textproto.ReadHeader(br)
	if lr.N <= 0 {
		return Original{}, fmt.Errorf("compose: original header larger than %d bytes", MaxHeaderBytes)
	}
	if err != nil && !(errors.Is(err, io.EOF) && th.Len() > 0) {
		return Original{}, fmt.Errorf("compose: read original header: %w", err)
	}
	lr.N = math.MaxInt64
	var hb bytes.Buffer
	if err := textproto.WriteHeader(&hb, th); err != nil {
		return Original{}, fmt.Errorf("compose: original header: %w", err)
	}
	x := &extractor{o: &o}
	o.Header = hb.Bytes()
	defer func() {
		if err != nil {
			o.Close()
			o = Original{}
		}
	}()
	if err := x.walk(th, br, true, false, 0); err != nil {
		return o, err
	}
	if x.spool != nil {
		if err := x.spool.Sync(); err != nil {
			return o, fmt.Errorf("compose: spool: %w", err)
		}
	}
	return o, nil
}

// maxDepth bounds multipart nesting (hostile messages).
const maxDepth = 32

// extractor walks an original message.
type extractor struct {
	o         *Original
	spool     *os.File
	spoolSize int64
	gotPlain  bool
	gotHTML   bool
}

// walk visits one entity (body not yet decoded). isBody follows the same
// rule as the composer: alternative children, the related root part, the
// first part of other multiparts.
func (x *extractor) walk(th textproto.Header, body io.Reader, isBody, inRelated bool, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("compose: original nests more than %d multiparts", maxDepth)
	}
	h := message.Header{Header: th}
	mt, params, err := h.ContentType()
	if err != nil {
		mt, params = "application/octet-stream", map[string]string{}
	}
	disp, dparams, _ := h.ContentDisposition()
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		sub := strings.TrimPrefix(mt, "multipart/")
		start := normalizeCID(params["start"])
		mr := textproto.NewMultipartReader(body, params["boundary"])
		for i := 0; ; i++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("compose: original %s part %d: %w", mt, i+1, err)
			}
			childIsBody := isBody
			switch sub {
			case "alternative":
			case "related":
				if start == "" {
					childIsBody = isBody && i == 0
				} else {
					childIsBody = isBody && normalizeCID(p.Header.Get("Content-Id")) == start
				}
			default:
				childIsBody = isBody && i == 0
			}
			if err := x.walk(p.Header, p, childIsBody, sub == "related", depth+1); err != nil {
				return err
			}
		}
	}

	if isBody && disp != "attachment" {
		switch {
		case mt == "text/plain" && !x.gotPlain:
			x.gotPlain = true
			text, err := decodeText(h, body)
			x.o.PlainBody = text
			return err
		case mt == "text/html" && !x.gotHTML:
			x.gotHTML = true
			text, err := decodeText(h, body)
			x.o.HTMLBody = text
			return err
		}
	}
	return x.attachment(h, mt, params, disp, dparams, body, inRelated)
}

// decodeText decodes a body part to UTF-8, at most MaxBodyText bytes. An
// unknown charset keeps the bytes (invalid UTF-8 replaced); an unknown
// transfer encoding keeps the raw text.
func decodeText(h message.Header, body io.Reader) (string, error) {
	e, err := message.New(h, body)
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return "", fmt.Errorf("compose: decode original body: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(e.Body, MaxBodyText+1))
	if err != nil {
		return "", fmt.Errorf("compose: read original body: %w", err)
	}
	truncated := len(b) > MaxBodyText
	if truncated {
		b = b[:MaxBodyText]
		if i := lastRuneStart(b); i < len(b) && !utf8.FullRune(b[i:]) {
			b = b[:i] // do not cut a character in two
		}
	}
	// Drain what was not kept so the multipart reader can go on.
	if _, err := io.Copy(io.Discard, e.Body); err != nil {
		return "", fmt.Errorf("compose: read original body: %w", err)
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if truncated {
		s += truncatedNote
	}
	return s, nil
}

// lastRuneStart is the index of the start of the last (maybe partial)
// UTF-8 sequence in b.
func lastRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return len(b)
}

// attachment spools one leaf part, transfer-decoded, and records it.
func (x *extractor) attachment(h message.Header, mt string, params map[string]string, disp string, dparams map[string]string, body io.Reader, inRelated bool) error {
	dec, err := transferDecoder(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		dec = body // unknown encoding: keep the bytes as they are
	}
	if x.spool == nil {
		f, err := os.CreateTemp("", "easbridge-original-*")
		if err != nil {
			return fmt.Errorf("compose: spool attachments: %w", err)
		}
		x.spool = f
		x.o.spool = f
	}
	n, err := io.Copy(x.spool, dec)
	if err != nil {
		return fmt.Errorf("compose: spool attachment: %w", err)
	}
	off := x.spoolSize
	x.spoolSize += n
	f := x.spool

	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	ct := mt
	if cs := params["charset"]; cs != "" && strings.HasPrefix(mt, "text/") {
		ct = mime.FormatMediaType(mt, map[string]string{"charset": cs})
	}
	cid := normalizeCID(h.Get("Content-Id"))
	x.o.Attachments = append(x.o.Attachments, OriginalAttachment{
		Filename:    name,
		ContentType: ct,
		ContentID:   cid,
		Inline:      disp == "inline" || (disp == "" && inRelated),
		Open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(f, off, n)), nil
		},
	})
	return nil
}

// transferDecoder undoes a Content-Transfer-Encoding (RFC 2045 §6).
func transferDecoder(enc string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "7bit", "8bit", "binary":
		return r, nil
	case "quoted-printable":
		return quotedprintable.NewReader(r), nil
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: r}), nil
	}
	return nil, fmt.Errorf("compose: unknown transfer encoding %q", enc)
}

// base64Filter drops what is not base64 alphabet or padding (line ends,
// spaces, stray characters), as RFC 2045 §6.8 tells decoders to.
type base64Filter struct{ r io.Reader }

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
