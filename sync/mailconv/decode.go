package mailconv

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"easbridge/sync/source"
)

// Transfer decoding. IMAP gives part bodies as they are on the wire; the
// decoders here are lenient (RFC 2045 6.7 note: robust implementations
// keep going) because a body that fails to decode still has to show up on
// the phone, and because a fetched prefix (FetchSpec.TextLimit) can end in
// the middle of an escape or a base64 quantum.

// decodeTransfer undoes a Content-Transfer-Encoding. Unknown encodings
// (x-uuencode, …) and 7bit/8bit/binary pass through.
func decodeTransfer(b []byte, enc string) []byte {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQP(b)
	}
	return b
}

// decodeBase64 decodes base64 ignoring every byte outside the alphabet
// (line breaks, spaces, garbage) and a trailing partial quantum.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			// Padding ends the data (concatenated base64 is rare and
			// not worth guessing at).
			goto done
		}
	}
done:
	if r := len(clean) % 4; r == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	// Errors cannot happen with the filtered alphabet and a length that
	// is not 1 mod 4; n is what decoded either way.
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeQP decodes quoted-printable (RFC 2045 6.7): "=XX" escapes, soft
// line breaks ("=" at the end of a line, trailing white space allowed) and
// otherwise literal bytes. Malformed escapes are kept literally; an escape
// cut off at the end of a fetched prefix is dropped.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		eq := bytes.IndexByte(b, '=')
		if eq < 0 {
			return append(out, b...)
		}
		out = append(out, b[:eq]...)
		b = b[eq+1:] // after the "="
		// Soft line break: "=", optional white space, CRLF or LF.
		j := 0
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		switch {
		case j < len(b) && b[j] == '\n':
			b = b[j+1:]
			continue
		case j < len(b) && b[j] == '\r':
			j++
			if j < len(b) && b[j] == '\n' {
				j++
			}
			b = b[j:]
			continue
		case j >= len(b):
			return out // "=" (and blanks) at the very end: cut-off soft break
		}
		if len(b) >= 2 {
			if h, ok := unhex(b[0]); ok {
				if l, ok := unhex(b[1]); ok {
					out = append(out, h<<4|l)
					b = b[2:]
					continue
				}
			}
		} else if _, ok := unhex(b[0]); ok {
			return out // "=X" cut off at the end
		}
		out = append(out, '=')
	}
	return out
}

// decodedSize estimates a part's decoded size from its encoded size
// (BODYSTRUCTURE size): base64 carries 57 octets in every 78-octet line
// (76 characters and CRLF; the last line's CRLF belongs to the boundary),
// quoted-printable and the rest are counted as they are.
func decodedSize(p *source.Part) int64 {
	if p == nil || p.Size <= 0 {
		return 0
	}
	if strings.EqualFold(p.Encoding, "base64") {
		breaks := max((p.Size+77)/78-1, 0)
		if p.Lines > 0 {
			breaks = p.Lines
		}
		if n := (p.Size - 2*breaks) * 3 / 4; n > 0 {
			return n
		}
		return p.Size * 3 / 4
	}
	return p.Size
}

// partText decodes a text part's fetched body to UTF-8: transfer decoding,
// then the charset parameter (RFC 2046 4.1.2; none means US-ASCII, read
// best effort). When the body was cut short by the fetch limit an
// incomplete character at the end is dropped. decoded is the number of
// decoded octets before charset conversion.
func partText(p *source.Part) (text string, decoded int) {
	raw := decodeTransfer(p.Body, p.Encoding)
	cs := ""
	if p.Params != nil {
		cs = paramValue(p.Params, "charset")
	}
	if p.BodyTruncated {
		raw = trimIncompleteUTF8(raw)
	}
	s := toUTF8(raw, cs)
	if p.BodyTruncated {
		s = strings.TrimSuffix(s, "\uFFFD")
	}
	return clean(s), len(raw)
}

// trimIncompleteUTF8 drops a UTF-8 sequence cut off at the end of b.
func trimIncompleteUTF8(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		if c := b[len(b)-i]; utf8.RuneStart(c) {
			if c >= 0xC0 && !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}
