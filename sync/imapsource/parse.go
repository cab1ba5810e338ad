package imapsource

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// This file parses the few responses of the raw commands (wire.exchange):
// tagged completions, ENABLED, VANISHED and FETCH with UID, FLAGS, MODSEQ,
// INTERNALDATE and RFC822.SIZE (RFC 3501 §7, RFC 7162 §7 formal syntax).

// errSyntax is wrapped by every parse error.
var errSyntax = errors.New("imapsource: unexpected server response")

func syntaxErr(what string, resp []byte) error {
	if len(resp) > 120 {
		resp = append(resp[:120:120], "…"...)
	}
	return fmt.Errorf("%w: %s: %q", errSyntax, what, resp)
}

// parseTagged turns a tagged completion into nil (OK) or an *imap.Error.
func parseTagged(resp []byte) error {
	line := strings.TrimRight(string(resp), "\r\n")
	_, rest, ok := strings.Cut(line, " ")
	if !ok {
		return syntaxErr("tagged response", resp)
	}
	typ, text, _ := strings.Cut(rest, " ")
	typ = strings.ToUpper(typ)
	var code string
	if strings.HasPrefix(text, "[") {
		if end := strings.IndexByte(text, ']'); end > 0 {
			code, _, _ = strings.Cut(text[1:end], " ")
			text = strings.TrimPrefix(text[end+1:], " ")
		}
	}
	switch typ {
	case "OK":
		return nil
	case "NO", "BAD":
		return &imap.Error{Type: imap.StatusResponseType(typ), Code: imap.ResponseCode(strings.ToUpper(code)), Text: text}
	}
	return syntaxErr("tagged response", resp)
}

// untagged splits "* [n ]KIND rest" (KIND upper-cased); num is 0 when the
// response has no number.
func untagged(resp []byte) (num uint32, kind string, rest []byte, ok bool) {
	if !bytes.HasPrefix(resp, []byte("* ")) {
		return 0, "", nil, false
	}
	b := resp[2:]
	word, after, _ := bytes.Cut(b, []byte(" "))
	word = bytes.TrimRight(word, "\r\n")
	if n, err := strconv.ParseUint(string(word), 10, 32); err == nil {
		num = uint32(n)
		word, after, _ = bytes.Cut(after, []byte(" "))
		word = bytes.TrimRight(word, "\r\n")
	}
	return num, strings.ToUpper(string(word)), after, true
}

// parseEnabled reports whether an ENABLED response (RFC 5161 §3.2) lists
// capability.
func parseEnabled(rest []byte, capability string) bool {
	for _, f := range strings.Fields(string(rest)) {
		if strings.EqualFold(f, capability) {
			return true
		}
	}
	return false
}

// maxVanished bounds the UIDs one VANISHED response may expand to.
const maxVanished = 1 << 24

// parseVanished returns the UIDs of a VANISHED response's rest, "(EARLIER)
// 41,43:116" or "41" (RFC 7162 §3.2.10), ascending and without those at or
// above limit (0: no limit), which no message can have had.
func parseVanished(rest []byte, limit uint32) ([]uint32, error) {
	s := strings.TrimSpace(string(rest))
	if len(s) > 0 && s[0] == '(' {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return nil, syntaxErr("VANISHED", rest)
		}
		s = strings.TrimSpace(s[end+1:])
	}
	set, err := parseUIDSet(s)
	if err != nil {
		return nil, syntaxErr("VANISHED: "+err.Error(), rest)
	}
	var uids []uint32
	for _, r := range set {
		start, stop := uint32(r.Start), uint32(r.Stop)
		if start > stop {
			start, stop = stop, start
		}
		if limit > 0 && stop >= limit {
			if start >= limit {
				continue
			}
			stop = limit - 1
		}
		if len(uids)+int(stop-start) > maxVanished {
			return nil, syntaxErr("VANISHED: too many UIDs", rest)
		}
		for u := start; ; u++ {
			uids = append(uids, u)
			if u == stop {
				break
			}
		}
	}
	return sortUnique(uids), nil
}

// parseUIDSet parses a sequence of numbers and ranges without "*".
func parseUIDSet(s string) (imap.UIDSet, error) {
	var set imap.UIDSet
	for _, item := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(item, ":")
		start, err := strconv.ParseUint(a, 10, 32)
		if err != nil || start == 0 {
			return nil, fmt.Errorf("bad UID %q", a)
		}
		stop := start
		if isRange {
			if stop, err = strconv.ParseUint(b, 10, 32); err != nil || stop == 0 {
				return nil, fmt.Errorf("bad UID %q", b)
			}
		}
		set = append(set, imap.UIDRange{Start: imap.UID(start), Stop: imap.UID(stop)})
	}
	return set, nil
}

// fetchAtts are the attributes of one FETCH response that change detection
// uses; has* say which were present.
type fetchAtts struct {
	uid          uint32
	flags        []string
	modSeq       uint64
	internalDate time.Time
	size         int64
	hasFlags     bool
	hasDate      bool
	hasSize      bool
}

// parseFetch parses the attribute list of "* n FETCH (…)".
func parseFetch(rest []byte) (fetchAtts, error) {
	var fa fetchAtts
	p := &sexpParser{b: rest}
	v, err := p.value()
	if err != nil {
		return fa, syntaxErr("FETCH: "+err.Error(), rest)
	}
	list, ok := v.([]any)
	if !ok || len(list)%2 != 0 {
		return fa, syntaxErr("FETCH", rest)
	}
	for i := 0; i < len(list); i += 2 {
		name, _ := list[i].(string)
		val := list[i+1]
		switch strings.ToUpper(name) {
		case "UID":
			n, err := atomUint(val, 32)
			if err != nil {
				return fa, syntaxErr("FETCH UID", rest)
			}
			fa.uid = uint32(n)
		case "FLAGS":
			l, ok := val.([]any)
			if !ok {
				return fa, syntaxErr("FETCH FLAGS", rest)
			}
			fa.hasFlags = true
			fa.flags = make([]string, 0, len(l))
			for _, f := range l {
				if s, ok := f.(string); ok {
					fa.flags = append(fa.flags, s)
				}
			}
		case "MODSEQ": // RFC 7162 §3.1.4: MODSEQ (n)
			l, ok := val.([]any)
			if !ok || len(l) != 1 {
				return fa, syntaxErr("FETCH MODSEQ", rest)
			}
			n, err := atomUint(l[0], 64)
			if err != nil {
				return fa, syntaxErr("FETCH MODSEQ", rest)
			}
			fa.modSeq = n
		case "INTERNALDATE":
			s, ok := val.(string)
			if !ok {
				return fa, syntaxErr("FETCH INTERNALDATE", rest)
			}
			t, err := time.Parse("_2-Jan-2006 15:04:05 -0700", s)
			if err != nil {
				return fa, syntaxErr("FETCH INTERNALDATE", rest)
			}
			fa.internalDate, fa.hasDate = t, true
		case "RFC822.SIZE":
			n, err := atomUint(val, 63)
			if err != nil {
				return fa, syntaxErr("FETCH RFC822.SIZE", rest)
			}
			fa.size, fa.hasSize = int64(n), true
		}
	}
	return fa, nil
}

func atomUint(v any, bits int) (uint64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, errSyntax
	}
	return strconv.ParseUint(s, 10, bits)
}

// sexpParser reads IMAP values: atoms and numbers (string), quoted strings
// (string), literals ([]byte), NIL (nil) and parenthesised lists ([]any).
type sexpParser struct {
	b []byte
	i int
}

func (p *sexpParser) value() (any, error) {
	p.space()
	if p.i >= len(p.b) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '(':
		p.i++
		var l []any
		for {
			p.space()
			if p.i >= len(p.b) {
				return nil, errors.New("unterminated list")
			}
			if p.b[p.i] == ')' {
				p.i++
				return l, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
	case c == '"':
		var sb strings.Builder
		for p.i++; p.i < len(p.b); p.i++ {
			switch p.b[p.i] {
			case '\\':
				p.i++
				if p.i < len(p.b) {
					sb.WriteByte(p.b[p.i])
				}
			case '"':
				p.i++
				return sb.String(), nil
			default:
				sb.WriteByte(p.b[p.i])
			}
		}
		return nil, errors.New("unterminated quoted string")
	case c == '{' || (c == '~' && p.i+1 < len(p.b) && p.b[p.i+1] == '{'):
		end := bytes.IndexByte(p.b[p.i:], '}')
		if end < 0 {
			return nil, errors.New("bad literal")
		}
		start := p.i + bytes.IndexByte(p.b[p.i:], '{') + 1
		n, err := strconv.Atoi(string(p.b[start : p.i+end]))
		if err != nil || n < 0 {
			return nil, errors.New("bad literal size")
		}
		p.i += end + 1
		if !bytes.HasPrefix(p.b[p.i:], []byte("\r\n")) || len(p.b)-p.i-2 < n {
			return nil, errors.New("short literal")
		}
		p.i += 2
		v := p.b[p.i : p.i+n]
		p.i += n
		return v, nil
	case c == ')':
		return nil, errors.New("unexpected )")
	default:
		start := p.i
		for p.i < len(p.b) {
			c := p.b[p.i]
			if c == '[' { // BODY[…]: up to the closing bracket
				end := bytes.IndexByte(p.b[p.i:], ']')
				if end < 0 {
					return nil, errors.New("unterminated [")
				}
				p.i += end + 1
				continue
			}
			if c == ' ' || c == '(' || c == ')' || c == '"' || c == '{' || c == '\r' || c == '\n' {
				break
			}
			p.i++
		}
		atom := string(p.b[start:p.i])
		if atom == "" {
			return nil, fmt.Errorf("unexpected %q", c)
		}
		if strings.EqualFold(atom, "NIL") {
			return nil, nil
		}
		return atom, nil
	}
}

func (p *sexpParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\r' || p.b[p.i] == '\n') {
		p.i++
	}
}
