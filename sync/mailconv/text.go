package mailconv

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// Text hygiene. Every string that leaves this package in a WBXML text
// element goes through clean (bodies) or cleanLine (header fields): WBXML
// STR_I text must be valid UTF-8 and cannot hold a NUL byte.

// clean makes s valid UTF-8 (invalid bytes become U+FFFD) and drops NUL
// bytes. It does not allocate when s is already clean.
func clean(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// cleanLine is clean for one-line values (subjects, names, addresses):
// control characters other than tab, CR and LF included, become spaces.
func cleanLine(s string) string {
	s = clean(s)
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}

// latin1 converts ISO-8859-1 bytes to UTF-8.
func latin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// bestEffort returns b as UTF-8 when it is valid UTF-8, else as Latin-1:
// the fallback for unlabelled 8-bit text and unknown charsets.
func bestEffort(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(b)
}

// normCharset lower-cases a charset label and strips quotes, white space
// and RFC 2231 language suffixes.
func normCharset(cs string) string {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`))
	if i := strings.IndexByte(cs, '*'); i >= 0 {
		cs = cs[:i]
	}
	return cs
}

// toUTF8 converts text in the named charset to UTF-8. It never fails:
// unknown charsets (and decoders that stop early) fall back to bestEffort.
// The result is not yet cleaned.
func toUTF8(b []byte, cs string) string {
	switch normCharset(cs) {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "x-unknown", "unknown", "default", "unicode-1-1-utf-8":
		return bestEffort(b)
	case "iso-8859-1", "latin1", "l1", "iso_8859-1":
		// Latin-1 is a subset of what charset offers, done here without
		// the reader allocations; labelled Latin-1 text that is valid
		// UTF-8 is still read as Latin-1, as labelled.
		return latin1(b)
	}
	r, err := charset.Reader(normCharset(cs), bytes.NewReader(b))
	if err != nil {
		return bestEffort(b)
	}
	out, err := io.ReadAll(r)
	if err != nil && len(out) == 0 {
		return bestEffort(b)
	}
	return string(out)
}

// lenientCharsetReader is a mime.WordDecoder CharsetReader that never
// fails (RFC 2047 words in unknown charsets are read best effort).
func lenientCharsetReader(cs string, in io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(in)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(toUTF8(b, cs)), nil
}

var wordDecoder = &mime.WordDecoder{CharsetReader: lenientCharsetReader}

// decodeText decodes an unstructured header value: raw 8-bit bytes that are
// not UTF-8 are read as Latin-1 (RFC 6532 allows raw UTF-8), then RFC 2047
// encoded words are decoded (white space between adjacent encoded words is
// dropped, RFC 2047 6.2). The result is cleaned for one line.
func decodeText(raw string) string {
	if !utf8.ValidString(raw) {
		raw = latin1([]byte(raw))
	}
	if strings.Contains(raw, "=?") {
		if dec, err := wordDecoder.DecodeHeader(raw); err == nil {
			raw = dec
		}
	}
	return cleanLine(raw)
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// crlf turns every line ending (LF, CR LF, lone CR) into CR LF, the line
// ending EAS clients expect in plain text bodies.
func crlf(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	good := true
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r':
			if i+1 >= len(s) || s[i+1] != '\n' {
				good = false
			} else {
				i++
			}
		case '\n':
			good = false
		}
		if !good {
			break
		}
	}
	if good {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/32)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			sb.WriteString("\r\n")
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case '\n':
			sb.WriteString("\r\n")
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}
