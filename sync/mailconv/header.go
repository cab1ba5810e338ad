package mailconv

import (
	"bytes"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// field is one header field: its name as written and its value unfolded
// (RFC 5322 2.2.3: every CRLF that is followed by WSP is removed, the WSP
// kept), still raw (not RFC 2047 decoded), without the leading and
// trailing white space.
type field struct {
	name, value string
}

// header is a parsed header block in field order.
type header []field

// maxFields bounds the fields kept from one header block.
const maxFields = 2000

// parseHeader reads a header block leniently: it stops at the first empty
// line, accepts LF as well as CRLF line ends, treats a line that begins
// with WSP as a continuation of the previous field, and skips lines that
// are not fields (no colon, an mbox "From " line, garbage). It never fails.
func parseHeader(b []byte) header {
	var h header
	for len(b) > 0 && len(h) <= maxFields {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break // end of the header block
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) > 0 {
				// RFC 5322 2.2.3 unfolding: drop the CRLF, keep the WSP.
				h[len(h)-1].value += string(line)
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		// RFC 5322 4.5 obsolete syntax allows WSP before the colon.
		name := string(bytes.TrimRight(line[:colon], " \t"))
		if name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		h = append(h, field{name: name, value: string(line[colon+1:])})
	}
	for i := range h {
		h[i].value = strings.Trim(h[i].value, " \t\r\n")
	}
	return h
}

// get returns the first value of the field name (case-insensitive).
func (h header) get(name string) string {
	v, _ := h.lookup(name)
	return v
}

// lookup is get that also says whether the field exists.
func (h header) lookup(name string) (string, bool) {
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			return f.value, true
		}
	}
	return "", false
}

// headerBlock returns the header part of a raw message (up to and
// including the empty line), or all of it when there is no empty line.
func headerBlock(raw []byte) []byte {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return raw
		}
		line := raw[i : i+j]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return raw[:i+j+1]
		}
		i += j + 1
	}
	return raw
}

// address is one mailbox: a display name (decoded, may be empty) and an
// addr-spec.
type address struct {
	Name, Addr string
}

var addressParser = mail.AddressParser{WordDecoder: wordDecoder}

// maxAddresses bounds the recipients read from one field.
const maxAddresses = 1000

// parseAddressList parses an address-list field value. It uses net/mail
// (RFC 5322 3.4 with RFC 2047 names) and falls back to a lenient splitter
// for what real mail gets wrong (unquoted specials in names, missing
// brackets, stray commas). Group names are dropped, members kept. It never
// fails; values that hold no address give no entries.
func parseAddressList(raw string) []address {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	if !utf8.ValidString(raw) {
		raw = latin1([]byte(raw))
	}
	var out []address
	if list, err := addressParser.ParseList(raw); err == nil {
		for _, a := range list {
			name := a.Name
			if strings.Contains(name, "=?") {
				// Encoded words inside quotes (RFC 2047 5 forbids them,
				// many mailers write them anyway).
				name = decodeText(name)
			}
			out = append(out, address{Name: cleanLine(strings.TrimSpace(name)), Addr: cleanLine(a.Address)})
		}
	} else {
		out = lenientAddresses(raw)
	}
	if len(out) > maxAddresses {
		out = out[:maxAddresses]
	}
	return out
}

// lenientAddresses splits an address list at top-level commas and
// semicolons (outside quotes, comments and angle brackets) and reads each
// piece as `name <addr>`, `addr (name)` or `addr`.
func lenientAddresses(raw string) []address {
	out, unclosed := splitAddresses(raw, true)
	if unclosed {
		// An unclosed quote would swallow the rest: split again with
		// quotes taken as ordinary characters.
		out, _ = splitAddresses(raw, false)
	}
	return out
}

func splitAddresses(raw string, quotes bool) ([]address, bool) {
	var (
		out            []address
		quote          bool
		depth, angle   int
		start          int
		sawAngle, done bool
	)
	flush := func(end int) {
		if a, ok := lenientAddress(raw[start:end]); ok {
			out = append(out, a)
		}
		start = end + 1
	}
	for i := 0; i < len(raw) && !done; i++ {
		c := raw[i]
		switch {
		case quote:
			if c == '\\' {
				i++
			} else if c == '"' {
				quote = false
			}
		case c == '\\':
			i++
		case c == '"' && depth == 0 && quotes:
			quote = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle++
			sawAngle = true
		case c == '>' && angle > 0:
			angle--
		case angle > 0:
		case c == ':' && !sawAngle && !strings.ContainsRune(raw[start:i], '@'):
			// RFC 5322 3.4 group: "name: members;" — drop the name.
			start = i + 1
		case c == ',' || c == ';':
			flush(i)
			sawAngle = false
		}
		if len(out) > maxAddresses {
			done = true
		}
	}
	if start < len(raw) {
		flush(len(raw))
	}
	return out, quote
}

func lenientAddress(s string) (address, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return address{}, false
	}
	var name, addr string
	if lt := strings.LastIndexByte(s, '<'); lt >= 0 {
		rest := s[lt+1:]
		if gt := strings.IndexByte(rest, '>'); gt >= 0 {
			rest = rest[:gt]
		}
		addr = rest
		name = unquote(stripComments(s[:lt]))
		if name == "" {
			name = commentText(s[:lt])
		}
	} else {
		addr = stripComments(s)
		name = commentText(s)
	}
	addr = strings.Join(strings.Fields(addr), "")
	addr = strings.Trim(addr, `"`)
	name = decodeText(strings.TrimSpace(name))
	if addr == "" && name == "" {
		return address{}, false
	}
	if addr == "" {
		addr, name = name, ""
	}
	return address{Name: name, Addr: cleanLine(addr)}, true
}

// stripComments removes RFC 5322 comments, (nested (ones)) included.
func stripComments(s string) string {
	if !strings.ContainsRune(s, '(') {
		return s
	}
	var sb strings.Builder
	depth, quote := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote:
			if c == '\\' && i+1 < len(s) {
				sb.WriteByte(c)
				i++
				c = s[i]
			} else if c == '"' {
				quote = false
			}
		case depth == 0 && c == '"':
			quote = true
		case c == '(':
			depth++
			continue
		case c == ')' && depth > 0:
			depth--
			continue
		case depth > 0:
			if c == '\\' {
				i++
			}
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// commentText returns the text of the first top-level comment, the name
// in the old `addr (Name)` form.
func commentText(s string) string {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return ""
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return strings.TrimSpace(s[open+1 : i])
			}
		}
	}
	return strings.TrimSpace(s[open+1:])
}

// unquote removes the quotes of quoted strings and their backslash escapes.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			continue
		}
		if c == '\\' && i+1 < len(s) {
			i++
			c = s[i]
		}
		sb.WriteByte(c)
	}
	return strings.TrimSpace(sb.String())
}

var nameEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// formatAddress writes one mailbox the way Exchange does in Email:To and
// friends (MS-ASEMAIL 2.2.2.79): `"Display Name" <addr>`, or the bare
// address when there is no name (or the name is the address).
func formatAddress(a address) string {
	if a.Name == "" || a.Name == a.Addr {
		return a.Addr
	}
	name := nameEscaper.Replace(a.Name)
	if a.Addr == "" {
		return `"` + name + `"`
	}
	return `"` + name + `" <` + a.Addr + `>`
}

// formatAddresses joins mailboxes with ", " (RFC 5322 address-list).
func formatAddresses(list []address) string {
	var sb strings.Builder
	for i, a := range list {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(formatAddress(a))
	}
	return sb.String()
}

// displayNames joins display names (the address when there is none) with
// "; " like PidTagDisplayTo (MS-ASEMAIL 2.2.2.29: semicolon separated).
func displayNames(list []address) string {
	var sb strings.Builder
	for i, a := range list {
		if i > 0 {
			sb.WriteString("; ")
		}
		if a.Name != "" {
			sb.WriteString(a.Name)
		} else {
			sb.WriteString(a.Addr)
		}
	}
	return sb.String()
}

// msgIDs returns the message identifiers of a References, In-Reply-To or
// Message-ID value (RFC 5322 3.6.4), without angle brackets, in order.
// Identifiers without brackets (seen in the wild) are split at white space.
func msgIDs(v string) []string {
	var ids []string
	for len(v) > 0 {
		lt := strings.IndexByte(v, '<')
		if lt < 0 {
			if len(ids) == 0 {
				for _, f := range strings.Fields(stripComments(v)) {
					if strings.ContainsRune(f, '@') {
						ids = append(ids, f)
					}
				}
			}
			break
		}
		gt := strings.IndexByte(v[lt:], '>')
		if gt < 0 {
			break
		}
		if id := strings.TrimSpace(v[lt+1 : lt+gt]); id != "" {
			ids = append(ids, strings.Join(strings.Fields(id), ""))
		}
		v = v[lt+gt+1:]
	}
	return ids
}

// parseDate reads an RFC 5322 Date value; ok is false when it cannot.
func parseDate(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := mail.ParseDate(v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
