package sieve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxLiteral bounds a literal or quoted string sent by the server: a
// Sieve script larger than this is refused (servers default to far less,
// e.g. Pigeonhole's sieve_max_script_size of 1 MiB).
const MaxLiteral = 4 << 20

// maxLineItems bounds the number of items on one response line.
const maxLineItems = 1024

// Response is one final response line, RFC 5804 4: OK, NO or BYE with an
// optional response code and human-readable text.
type Response struct {
	Status string   // "OK", "NO" or "BYE"
	Code   string   // response code atom, e.g. "NONEXISTENT", "QUOTA/MAXSIZE"; "" when none
	Args   []string // the code's arguments, e.g. the SASL data of (SASL "…")
	Text   string   // human-readable text, may be empty
}

// item is one element of a data line: an atom or a string (quoted or
// literal).
type item struct {
	atom bool
	s    string
}

// errProtocol marks a malformed server response.
var errProtocol = errors.New("sieve: protocol error")

// readResponse reads data lines until the final OK/NO/BYE line and
// returns both. A BYE or NO is returned as the Response, not as an error;
// errors are I/O failures and malformed input (wrapping errProtocol).
func readResponse(r *bufio.Reader) ([][]item, Response, error) {
	var lines [][]item
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, Response{}, err
		}
		if len(line) > 0 && line[0].atom {
			switch st := strings.ToUpper(line[0].s); st {
			case "OK", "NO", "BYE":
				resp, err := finalResponse(st, line[1:])
				return lines, resp, err
			}
		}
		lines = append(lines, line)
		if len(lines) > 100000 {
			return nil, Response{}, fmt.Errorf("%w: too many response lines", errProtocol)
		}
	}
}

// finalResponse reads [SP "(" code *(SP string) ")"] [SP string] after
// the status atom. readLine has already split the parenthesised part into
// items "(" … ")".
func finalResponse(status string, rest []item) (Response, error) {
	resp := Response{Status: status}
	if len(rest) > 0 && rest[0].atom && rest[0].s == "(" {
		end := -1
		for i, it := range rest {
			if it.atom && it.s == ")" {
				end = i
				break
			}
		}
		if end < 2 || !rest[1].atom {
			return resp, fmt.Errorf("%w: bad response code in %s", errProtocol, status)
		}
		resp.Code = strings.ToUpper(rest[1].s)
		for _, it := range rest[2:end] {
			resp.Args = append(resp.Args, it.s)
		}
		rest = rest[end+1:]
	}
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && !rest[0].atom:
		resp.Text = rest[0].s
	default:
		return resp, fmt.Errorf("%w: unexpected items after %s", errProtocol, status)
	}
	return resp, nil
}

// readLine reads one response line (which may span literals) into items.
// Parentheses are returned as the atoms "(" and ")".
func readLine(r *bufio.Reader) ([]item, error) {
	var out []item
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		switch {
		case c == ' ':
			continue
		case c == '\r':
			if c, err = r.ReadByte(); err != nil {
				return nil, unexpectedEOF(err)
			}
			if c != '\n' {
				return nil, fmt.Errorf("%w: CR without LF", errProtocol)
			}
			return out, nil
		case c == '\n': // tolerate a bare LF
			return out, nil
		case c == '"':
			s, err := readQuoted(r)
			if err != nil {
				return nil, err
			}
			out = append(out, item{s: s})
		case c == '{':
			s, err := readLiteral(r)
			if err != nil {
				return nil, err
			}
			out = append(out, item{s: s})
		case c == '(' || c == ')':
			out = append(out, item{atom: true, s: string(c)})
		case isAtomChar(c):
			var b strings.Builder
			b.WriteByte(c)
			for {
				n, err := r.Peek(1)
				if err != nil || !isAtomChar(n[0]) {
					break
				}
				_, _ = r.ReadByte()
				b.WriteByte(n[0])
				if b.Len() > 1024 {
					return nil, fmt.Errorf("%w: atom too long", errProtocol)
				}
			}
			out = append(out, item{atom: true, s: b.String()})
		default:
			return nil, fmt.Errorf("%w: unexpected byte %q", errProtocol, c)
		}
		if len(out) > maxLineItems {
			return nil, fmt.Errorf("%w: too many items on a line", errProtocol)
		}
	}
}

func isAtomChar(c byte) bool {
	// RFC 5804 4: ATOM-CHAR excludes controls, SP, '(', ')', '{', '"',
	// '\', '%', '*' (and we also stop at the line end).
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`(){"\%*`, rune(c))
}

// readQuoted reads a quoted string after its opening quote, RFC 5804 4:
// "\" escapes only '"' and '\'; CR and LF are not allowed.
func readQuoted(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", unexpectedEOF(err)
		}
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if c, err = r.ReadByte(); err != nil {
				return "", unexpectedEOF(err)
			}
			if c != '"' && c != '\\' {
				return "", fmt.Errorf("%w: bad escape \\%c in quoted string", errProtocol, c)
			}
		case '\r', '\n', 0:
			return "", fmt.Errorf("%w: line end in quoted string", errProtocol)
		}
		b.WriteByte(c)
		if b.Len() > MaxLiteral {
			return "", fmt.Errorf("%w: quoted string too long", errProtocol)
		}
	}
}

// readLiteral reads "{n}" CRLF and n octets after the opening brace; the
// server may also write "{n+}".
func readLiteral(r *bufio.Reader) (string, error) {
	spec, err := r.ReadString('}')
	if err != nil {
		return "", unexpectedEOF(err)
	}
	spec = strings.TrimSuffix(strings.TrimSuffix(spec, "}"), "+")
	n, err := strconv.Atoi(spec)
	if err != nil || n < 0 || len(spec) > 9 {
		return "", fmt.Errorf("%w: bad literal length %q", errProtocol, spec)
	}
	if n > MaxLiteral {
		return "", fmt.Errorf("%w: literal of %d bytes exceeds %d", errProtocol, n, MaxLiteral)
	}
	crlf := make([]byte, 2)
	if _, err := io.ReadFull(r, crlf); err != nil {
		return "", unexpectedEOF(err)
	}
	if crlf[0] != '\r' || crlf[1] != '\n' {
		return "", fmt.Errorf("%w: literal not followed by CRLF", errProtocol)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", unexpectedEOF(err)
	}
	return string(buf), nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("sieve: connection closed: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("sieve: read: %w", err)
}

// quote writes s as a quoted string when it can be one, else as a
// non-synchronizing literal (RFC 5804 4).
func quote(s string) string {
	if len(s) <= 1024 && !strings.ContainsAny(s, "\r\n\x00") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return literal(s)
}

// literal is the non-synchronizing literal {n+} CRLF s.
func literal(s string) string {
	return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s
}
