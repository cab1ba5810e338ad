package mailconv

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"time"

	"easbridge/sync/source"
)

// MessageFromRaw builds the source.Message an IMAP source would fetch for
// the raw RFC 5322 message raw: the header block (CRLF line ends, ending
// with the empty line), the MIME structure as BODYSTRUCTURE gives it
// (IMAP part numbers: Path [] for the root, [1], [2], [2 1] … inside
// multiparts; message/rfc822 parts are leaves; sizes in encoded octets;
// line counts for text parts; parameters with lower-case keys and RFC 2231
// continuations left as separate keys, like go-imap), the still
// transfer-encoded bodies of the text/plain and text/html leaves that are
// not attachments (whole, not truncated), and Raw holding all of raw (so
// MIME body preferences work). Body slices share memory with raw.
//
// The structure is read leniently (a missing boundary makes a leaf, an
// unterminated multipart ends at the end of the data), so a broken message
// still gives a structure. The only error is an empty raw.
//
// It exists for tests here and in the engine, and for the fallback when a
// server gave no structure; apply a FetchSpec with ApplyFetchSpec.
func MessageFromRaw(raw []byte, uid uint32, flags []string, date time.Time) (*source.Message, error) {
	if len(raw) == 0 {
		return nil, errors.New("mailconv: message from raw: empty message")
	}
	hb := headerBlock(raw)
	hdr := crlf(string(hb))
	switch {
	case strings.HasSuffix(hdr, "\r\n\r\n"):
	case strings.HasSuffix(hdr, "\r\n"):
		hdr += "\r\n"
	default:
		hdr += "\r\n\r\n"
	}
	return &source.Message{
		UID:          uid,
		Flags:        slices.Clone(flags),
		InternalDate: date,
		Size:         int64(len(raw)),
		Header:       []byte(hdr),
		Root:         parseStructure(raw, false),
		Raw:          raw,
	}, nil
}

// ApplyFetchSpec returns a copy of m as a source would have fetched it with
// spec: text bodies cut to spec.TextLimit octets (BodyTruncated set when
// cut; no bodies when the limit is 0), Raw cut to spec.RawLimit (none when
// 0). The Part tree is copied; m is not changed.
func ApplyFetchSpec(m *source.Message, spec source.FetchSpec) *source.Message {
	if m == nil {
		return nil
	}
	c := *m
	c.Flags = slices.Clone(m.Flags)
	c.Root = limitPart(m.Root, spec.TextLimit, 0)
	switch {
	case spec.RawLimit <= 0:
		c.Raw, c.RawTruncated = nil, false
	case int64(len(m.Raw)) > spec.RawLimit:
		c.Raw, c.RawTruncated = m.Raw[:spec.RawLimit:spec.RawLimit], true
	}
	return &c
}

func limitPart(p *source.Part, limit int64, depth int) *source.Part {
	if p == nil || depth > maxDepth {
		return nil
	}
	c := *p
	c.Path = slices.Clone(p.Path)
	c.Children = nil
	for _, ch := range p.Children {
		c.Children = append(c.Children, limitPart(ch, limit, depth+1))
	}
	switch {
	case p.Body == nil:
	case limit <= 0:
		c.Body, c.BodyTruncated = nil, false
	case int64(len(p.Body)) > source.PartLimit(p, limit):
		limit = source.PartLimit(p, limit)
		c.Body, c.BodyTruncated = p.Body[:limit:limit], true
	}
	return &c
}

// parseStructure parses raw (a whole message, or a prefix of one when cut
// is true) into a Part tree with the text bodies filled in.
func parseStructure(raw []byte, cut bool) *source.Part {
	return parseEntity(raw, []int{}, 0, false, cut)
}

// maxParts bounds the children of one multipart.
const maxParts = 1000

// parseEntity parses one MIME entity (header and body). path is its IMAP
// part number; digest says the parent is multipart/digest (default child
// type message/rfc822, RFC 2046 5.1.5); open says the entity runs to the
// end of a cut-off prefix.
func parseEntity(b []byte, path []int, depth int, digest, open bool) *source.Part {
	hb := headerBlock(b)
	body := b[len(hb):]
	if len(hb) == len(b) && !bytes.Contains(hb, []byte{':'}) {
		// No header at all: the whole entity is body.
		hb, body = nil, b
	}
	h := parseHeader(hb)
	p := &source.Part{Path: path}
	ct, params := parseParamHeader(h.get("Content-Type"))
	typ, sub, ok := strings.Cut(ct, "/")
	typ, sub = strings.TrimSpace(typ), strings.TrimSpace(sub)
	if !ok || typ == "" || sub == "" || strings.ContainsAny(ct, " \t\"") {
		typ, sub, params = "text", "plain", nil
		if digest {
			typ, sub = "message", "rfc822"
		}
	}
	if typ == "text" && params["charset"] == "" && !hasKey(params, "charset*") {
		if params == nil {
			params = make(map[string]string)
		}
		params["charset"] = "us-ascii" // RFC 2045 5.2 default, as servers report it
	}
	p.Type, p.Subtype, p.Params = typ, sub, params
	p.Encoding = strings.ToLower(strings.TrimSpace(h.get("Content-Transfer-Encoding")))
	if p.Encoding == "" {
		p.Encoding = "7bit"
	}
	p.ID = strings.TrimSpace(strings.Trim(strings.TrimSpace(h.get("Content-ID")), "<>"))
	p.Location = strings.TrimSpace(h.get("Content-Location"))
	p.Description = h.get("Content-Description")
	if d := h.get("Content-Disposition"); d != "" {
		disp, dp := parseParamHeader(d)
		p.Disposition, p.DispParams = disp, dp
	}
	p.Size = int64(len(body))
	if typ == "multipart" && depth < maxDepth {
		if boundary := params["boundary"]; boundary != "" {
			parts, closed := splitMultipart(body, boundary)
			if len(parts) > 0 {
				for i, pb := range parts {
					cpath := append(slices.Clip(path), i+1)
					p.Children = append(p.Children, parseEntity(pb, cpath, depth+1,
						sub == "digest", open && !closed && i == len(parts)-1))
				}
				return p
			}
		}
		// A multipart without boundary or parts is read as text, as
		// IMAP servers report it.
		p.Type, p.Subtype, p.Params = "text", "plain", map[string]string{"charset": "us-ascii"}
	}
	if p.Type == "text" || (p.Type == "message" && p.Subtype == "rfc822") {
		p.Lines = int64(bytes.Count(body, []byte{'\n'}))
	}
	if p.Type == "text" && (p.Subtype == "plain" || p.Subtype == "html") && !isAttachment(p) || source.IsITIPPart(p) {
		p.Body = body[:len(body):len(body)]
		p.BodyTruncated = open
	}
	return p
}

// splitMultipart splits a multipart body at its boundary delimiter lines
// (RFC 2046 5.1.1: "--boundary" at the start of a line, optional "--" for
// the close delimiter, then optional white space; the line break before a
// delimiter belongs to it). The preamble and epilogue are dropped. closed
// is false when the close delimiter is missing; the last part then runs to
// the end of the data.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	start := -1
	for pos := 0; pos < len(body); {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		if end < 0 {
			end = len(body)
		} else {
			end += pos
			next = end + 1
		}
		line := bytes.TrimSuffix(body[pos:end], []byte{'\r'})
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			isClose := bytes.HasPrefix(rest, []byte("--"))
			if isClose {
				rest = rest[2:]
			}
			if len(bytes.TrimRight(rest, " \t")) == 0 {
				if start >= 0 {
					e := pos
					if e > start && body[e-1] == '\n' {
						e--
						if e > start && body[e-1] == '\r' {
							e--
						}
					}
					parts = append(parts, body[start:e:e])
					if len(parts) >= maxParts {
						return parts, true
					}
				}
				if isClose {
					return parts, true
				}
				start = next
			}
		}
		pos = next
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts, false
}
