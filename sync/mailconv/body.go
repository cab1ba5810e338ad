package mailconv

import (
	"unicode/utf8"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// Body selection (MS-ASAIRS 2.2.2.9 Body, 2.2.2.12 BodyPreference,
// 2.2.2.3.2 AllOrNone).
//
//   - Type 4 (MIME) is sent when the client has a Type 4 preference and
//     MIMESupport is 2, or 1 and the message is S/MIME (MS-ASCMD
//     2.2.3.110.3), or Type 4 is its only preference; and the raw message was
//     fetched. The data is m.Raw (a prefix of the message), as text when it
//     is valid UTF-8 and as opaque bytes otherwise, so that 8-bit MIME (and
//     S/MIME signatures over it) reaches the client unchanged.
//   - Otherwise the preference for the native type goes first (HTML when
//     the message has an HTML part, else plain text), then the others in
//     the client's order. Type 3 (RTF) is answered with plain text.
//   - HTML is sent as it is; plain text asked as HTML is escaped into a
//     minimal document; HTML asked as plain text is converted (html.go).
//   - TruncationSize cuts the data at a UTF-8 boundary (Truncated 1).
//     With AllOrNone a body that does not fit (or was only partly fetched)
//     makes the server try the next preference; when none fits, the first
//     is sent without Data and with Truncated 1.
//   - EstimatedDataSize is the size of the whole body in that format; for a
//     partly fetched part it is extrapolated from the part's size.

// plainBody renders the body as plain text.
func (c *converter) plainBody() *rendered {
	if c.plainText != nil {
		return c.plainText
	}
	r := &rendered{}
	if c.plain != nil {
		t, n := partText(c.plain)
		// An empty text alternative next to HTML is a placeholder.
		if !isBlank(t) || c.html == nil {
			r.text = crlf(t)
			r.partial = c.plain.BodyTruncated
			r.estimate = estimate(len(r.text), n, decodedSize(c.plain), r.partial)
			c.plainText = r
			return r
		}
	}
	if c.html != nil {
		h := c.htmlBody()
		r.text = htmlToText(h.text)
		r.partial = h.partial
		r.estimate = estimate(len(r.text), len(h.text), int64(h.estimate), r.partial)
	}
	c.plainText = r
	return r
}

// htmlBody renders the body as HTML.
func (c *converter) htmlBody() *rendered {
	if c.htmlText != nil {
		return c.htmlText
	}
	r := &rendered{}
	if c.html != nil {
		t, n := partText(c.html)
		r.text = t
		r.partial = c.html.BodyTruncated
		r.estimate = estimate(len(t), n, decodedSize(c.html), r.partial)
	} else {
		p := c.plainBody()
		r.text = textToHTML(p.text)
		r.partial = p.partial
		r.estimate = estimate(len(r.text), len(p.text), int64(p.estimate), r.partial)
	}
	c.htmlText = r
	return r
}

// estimate scales the full source size by how much the conversion changed
// the fetched prefix; for a complete source it is the output size.
func estimate(out, in int, full int64, partial bool) int {
	if !partial || in <= 0 || full <= int64(in) {
		return out
	}
	est := int(float64(out) / float64(in) * float64(full))
	return max(est, out)
}

func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\r' && r != '\n' {
			return false
		}
	}
	return true
}

func hasType(prefs []server.BodyPreference, t int) bool {
	for _, p := range prefs {
		if p.Type == t {
			return true
		}
	}
	return false
}

// candidate is one BodyPreference turned into what we can send.
type candidate struct {
	pref server.BodyPreference
	typ  int // 1, 2 or 4
}

// candidates orders the client's preferences as the server tries them.
func (c *converter) candidates(prefs []server.BodyPreference) []candidate {
	if len(prefs) == 0 {
		prefs = []server.BodyPreference{{Type: 1}} // MS-ASAIRS: plain text by default
	}
	var out []candidate
	if len(c.raw) > 0 || c.opts.MIMETruncation < 0 {
		onlyMIME := !hasType(prefs, 1) && !hasType(prefs, 2) && !hasType(prefs, 3)
		smime := c.class == classSMIME || c.class == classSMIMESigned
		if onlyMIME || c.opts.MIMESupport == 2 || (c.opts.MIMESupport == 1 && smime) {
			for _, p := range prefs {
				if p.Type == 4 {
					if len(c.raw) > 0 || c.opts.mimeLimit(p) < 0 {
						out = append(out, candidate{p, 4})
					}
					break
				}
			}
		}
	}
	native := 1
	if c.html != nil {
		native = 2
	}
	for _, p := range prefs {
		if p.Type == native {
			out = append(out, candidate{p, native})
			break
		}
	}
	for _, p := range prefs {
		switch {
		case p.Type == native:
		case p.Type == 1 || p.Type == 2:
			out = append(out, candidate{p, p.Type})
		case p.Type == 3:
			out = append(out, candidate{p, 1}) // no RTF here
		}
	}
	if len(out) == 0 {
		// Only Type 4 (or unknown types) and no raw message: plain text.
		out = append(out, candidate{prefs[0], 1})
	}
	return out
}

// content is a candidate's data.
type content struct {
	text     string
	raw      []byte // MIME that is not valid UTF-8
	partial  bool
	estimate int
	plain    func() string // plain text for Preview
}

func (c *converter) content(typ int) content {
	switch typ {
	case 4:
		est := max(int(c.m.Size), len(c.raw))
		partial := c.cut || (c.m.Size > 0 && int64(len(c.raw)) < c.m.Size)
		ct := content{partial: partial, estimate: est, plain: func() string { return c.plainBody().text }}
		if utf8.Valid(c.raw) && !containsNUL(c.raw) {
			ct.text = string(c.raw)
		} else {
			ct.raw = c.raw
		}
		return ct
	case 2:
		h := c.htmlBody()
		return content{text: h.text, partial: h.partial, estimate: h.estimate, plain: func() string { return c.plainBody().text }}
	}
	p := c.plainBody()
	return content{text: p.text, partial: p.partial, estimate: p.estimate, plain: func() string { return p.text }}
}

func containsNUL(b []byte) bool {
	for _, x := range b {
		if x == 0 {
			return true
		}
	}
	return false
}

func (ct content) size() int {
	if ct.raw != nil {
		return len(ct.raw)
	}
	return len(ct.text)
}

// body is AirSyncBase:Body (MS-ASAIRS 2.2.2.9).
func (c *converter) body() *wbxml.Element {
	return c.bodyElement("Body", c.opts.BodyPrefs, false)
}

// bodyPart is AirSyncBase:BodyPart (MS-ASAIRS 2.2.2.10, 14.1+): the
// message part for conversation views, always HTML. This server does not
// isolate the new text of a reply, so the part is the whole HTML body.
func (c *converter) bodyPart() *wbxml.Element {
	prefs := make([]server.BodyPreference, 0, len(c.opts.BodyPartPrefs))
	for _, p := range c.opts.BodyPartPrefs {
		if p.Type == 2 {
			prefs = append(prefs, p)
		}
	}
	if len(prefs) == 0 {
		prefs = []server.BodyPreference{{Type: 2}}
	}
	return c.bodyElement("BodyPart", prefs, true)
}

func (c *converter) bodyElement(name string, prefs []server.BodyPreference, part bool) *wbxml.Element {
	cands := c.candidates(prefs)
	if part {
		cands = []candidate{{prefs[0], 2}}
	}
	chosen, fits := cands[0], false
	var ct content
	for _, cand := range cands {
		ct = c.content(cand.typ)
		limit := c.limit(cand)
		if cand.pref.AllOrNone && (limit < 0 || limit > 0 && (ct.size() > limit || ct.partial)) {
			continue
		}
		chosen, fits = cand, true
		break
	}
	if !fits {
		ct = c.content(chosen.typ)
	}
	e := wbxml.New(wbxml.NSAirSyncBase, name)
	if part {
		e.Add(wbxml.Int(wbxml.NSAirSyncBase, "Status", 1)) // MS-ASAIRS Status (BodyPart): 1 success
	}
	e.Add(wbxml.Int(wbxml.NSAirSyncBase, "Type", chosen.typ), // MS-ASAIRS 2.2.2.41.1
		wbxml.Int(wbxml.NSAirSyncBase, "EstimatedDataSize", max(ct.estimate, ct.size()))) // MS-ASAIRS 2.2.2.23.2
	limit := c.limit(chosen)
	switch {
	case !fits, limit < 0:
		// AllOrNone and nothing fits (MS-ASAIRS 2.2.2.3.2), or MIMETruncation
		// code 0 (MS-ASCMD 2.2.3.111): no data.
		e.Add(wbxml.Int(wbxml.NSAirSyncBase, "Truncated", 1)) // MS-ASAIRS 2.2.2.39.1
	case ct.raw != nil:
		data, truncated := ct.raw, ct.partial
		if limit > 0 && len(data) > limit {
			data, truncated = data[:limit], true
		}
		if truncated {
			e.Add(wbxml.Int(wbxml.NSAirSyncBase, "Truncated", 1))
		}
		e.Add(wbxml.Opaque(wbxml.NSAirSyncBase, "Data", data)) // MS-ASAIRS 2.2.2.20.1
	default:
		data, truncated := ct.text, ct.partial
		if limit > 0 && len(data) > limit {
			data, truncated = truncateUTF8(data, limit), true
		}
		if truncated {
			e.Add(wbxml.Int(wbxml.NSAirSyncBase, "Truncated", 1))
		}
		e.Add(txt(wbxml.NSAirSyncBase, "Data", data))
	}
	if c.atLeast(eas.V140) && chosen.pref.Preview > 0 {
		if p := preview(ct.plain(), chosen.pref.Preview); p != "" {
			e.Add(txt(wbxml.NSAirSyncBase, "Preview", p)) // MS-ASAIRS Preview (14.0+)
		}
	}
	return e
}
