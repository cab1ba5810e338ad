package mailconv

import (
	"strconv"
	"strings"
)

// MIME parameters.
//
// source.Part carries parameters the way IMAP BODYSTRUCTURE gives them:
// lower-case keys as written (RFC 2231 continuations and charsets stay in
// separate keys such as "filename*0*"), values unquoted and, with go-imap,
// RFC 2047 decoded. paramValue puts a parameter back together.

// parseParamHeader splits a Content-Type or Content-Disposition value into
// its first token (lower case) and its parameters (RFC 2045 5.1, RFC 2183):
// keys lower case, values unquoted and RFC 2047 decoded like go-imap does.
// It is lenient: a parameter without "=" is skipped, quotes may be missing.
func parseParamHeader(v string) (string, map[string]string) {
	first, rest, _ := strings.Cut(v, ";")
	first = strings.ToLower(strings.TrimSpace(stripComments(first)))
	var params map[string]string
	for rest != "" {
		var item string
		item, rest = cutParam(rest)
		k, val, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" || strings.ContainsAny(k, " \t\"") {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 1 && val[0] == '"' {
			val = unquoteParam(val)
		}
		if params == nil {
			params = make(map[string]string)
		}
		if _, dup := params[k]; dup {
			continue // RFC 2045: first one wins
		}
		if !strings.HasSuffix(k, "*") && strings.Contains(val, "=?") {
			val = decodeText(val)
		}
		params[k] = val
		if len(params) > 64 {
			break
		}
	}
	return first, params
}

// cutParam returns the text up to the next ";" outside quotes.
func cutParam(s string) (item, rest string) {
	quote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote && c == '\\':
			i++
		case c == '"':
			quote = !quote
		case c == ';' && !quote:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// unquoteParam reads a quoted-string value (a missing closing quote is
// tolerated).
func unquoteParam(s string) string {
	var sb strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			sb.WriteByte(s[i])
			continue
		}
		if c == '"' {
			break
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// paramValue returns parameter name decoded: RFC 2231 extended values
// (name*, name*0, name*0*, name*1 …, with charset and percent escapes)
// first, then the plain value with RFC 2047 encoded words decoded (which
// RFC 2047 5 forbids in parameters but mailers write anyway). "" when the
// parameter is missing.
func paramValue(params map[string]string, name string) string {
	if len(params) == 0 {
		return ""
	}
	if v, ok := params[name+"*"]; ok {
		cs, text := split2231(v)
		return cleanLine(toUTF8(pctDecode(text), cs))
	}
	if _, ok0 := params[name+"*0"]; ok0 || hasKey(params, name+"*0*") {
		var (
			buf []byte
			cs  string
		)
		for i := 0; i < 100; i++ {
			n := name + "*" + strconv.Itoa(i)
			if v, ok := params[n+"*"]; ok {
				if i == 0 {
					cs, v = split2231(v)
				}
				buf = append(buf, pctDecode(v)...)
			} else if v, ok := params[n]; ok {
				buf = append(buf, v...)
			} else {
				break
			}
		}
		return cleanLine(toUTF8(buf, cs))
	}
	if v, ok := params[name]; ok {
		return decodeText(v)
	}
	return ""
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// split2231 splits charset'language'text (RFC 2231 4); a value without the
// two quotes is all text.
func split2231(v string) (cs, text string) {
	first := strings.IndexByte(v, '\'')
	if first < 0 {
		return "", v
	}
	second := strings.IndexByte(v[first+1:], '\'')
	if second < 0 {
		return "", v
	}
	return v[:first], v[first+1+second+1:]
}

// pctDecode decodes %XX escapes; malformed escapes stay as they are.
func pctDecode(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					b = append(b, h<<4|l)
					i += 2
					continue
				}
			}
		}
		b = append(b, s[i])
	}
	return b
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
