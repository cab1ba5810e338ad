package watch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// A minimal IMAP client for the watcher's one connection per account. It
// exists because go-imap v2 (beta.8) cannot be used for push: imapclient
// parses an unsolicited "* STATUS" (what NOTIFY sends, RFC 5465 §5.2) but
// hands it to no one (UnilateralDataHandler has no Status hook), and it
// cannot send NOTIFY. The watcher needs little: log in, ENABLE, NOTIFY,
// EXAMINE, IDLE, STATUS, NOOP, LOGOUT, and read untagged responses. It
// never fetches message data, so responses are small; a literal (RFC 3501
// §4.3; a mailbox name may come as one) is read whole, bounded by
// maxLiteral.

// Limits of the reader.
const (
	maxLine    = 1 << 20  // one response line, literals excluded
	maxLiteral = 64 << 10 // one literal: mailbox names, never message data
	// readBuffer is small: a watcher reads short lines (a longer one is
	// read in pieces), and there is one per account.
	readBuffer = 4 << 10
)

// ErrAuthFailed means the IMAP server refused the credentials.
var ErrAuthFailed = errors.New("watch: IMAP authentication failed")

// response is one server response: tag "*" (untagged), "+" (continuation)
// or a command tag; text is the rest of the line after the tag and a
// space, with literals cut out (lits holds them in order; the "{n}" marker
// stays in text).
type response struct {
	tag  string
	text string
	lits [][]byte
}

// kind is the first word of text, upper case: "OK", "STATUS", "EXISTS" of
// "* 3 EXISTS" (numbers are skipped), …
func (r *response) kind() string {
	s := r.text
	if n := numPrefix(s); n > 0 && len(s) > n && s[n] == ' ' {
		s = s[n+1:]
	}
	w, _, _ := strings.Cut(s, " ")
	return strings.ToUpper(w)
}

// number is the leading number of "* 3 EXISTS".
func (r *response) number() (uint32, bool) {
	n := numPrefix(r.text)
	if n == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(r.text[:n], 10, 32)
	return uint32(v), err == nil
}

func numPrefix(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// cond returns the condition of a status response (OK, NO, BAD, BYE,
// PREAUTH) and its response code without brackets ("" when none).
func (r *response) cond() (cond, code string) {
	cond, rest, _ := strings.Cut(r.text, " ")
	cond = strings.ToUpper(cond)
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i > 0 {
			code = rest[1:i]
		}
	}
	return cond, code
}

// readResponse reads one response with its literals.
func readResponse(br *bufio.Reader) (*response, error) {
	var text []byte
	var lits [][]byte
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		text = append(text, line...)
		n, ok := literalSuffix(line)
		if !ok {
			break
		}
		if n > maxLiteral {
			return nil, fmt.Errorf("watch: literal of %d octets", n)
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(br, lit); err != nil {
			return nil, fmt.Errorf("watch: read literal: %w", err)
		}
		lits = append(lits, lit)
	}
	tag, rest, _ := bytes.Cut(text, []byte(" "))
	if len(tag) == 0 {
		return nil, fmt.Errorf("watch: malformed response %.60q", text)
	}
	return &response{tag: string(tag), text: string(rest), lits: lits}, nil
}

// readLine reads a CRLF-terminated line without its CRLF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
		if len(line) > maxLine {
			return nil, fmt.Errorf("watch: response line longer than %d octets", maxLine)
		}
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// literalSuffix reports whether line ends with a literal announcement
// "{n}" or "{n+}" and returns n.
func literalSuffix(line []byte) (int, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	i := bytes.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	digits := strings.TrimSuffix(string(line[i+1:len(line)-1]), "+")
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// token is one item of response data: an atom (numbers, NIL, flags), a
// string (quoted or literal) or a parenthesised list.
type token struct {
	atom   string
	str    string
	isStr  bool
	list   []token
	isList bool
}

func (t token) value() string {
	if t.isStr {
		return t.str
	}
	return t.atom
}

// tokenizer reads response data (not resp-text, whose free text may hold
// anything).
type tokenizer struct {
	s    string
	lits [][]byte
}

func (z *tokenizer) skipSpace() {
	for len(z.s) > 0 && z.s[0] == ' ' {
		z.s = z.s[1:]
	}
}

// next reads one token; ok is false at the end or on a syntax error.
func (z *tokenizer) next() (token, bool) {
	z.skipSpace()
	if z.s == "" {
		return token{}, false
	}
	switch c := z.s[0]; c {
	case '(':
		z.s = z.s[1:]
		var l []token
		for {
			z.skipSpace()
			if strings.HasPrefix(z.s, ")") {
				z.s = z.s[1:]
				return token{list: l, isList: true}, true
			}
			t, ok := z.next()
			if !ok {
				return token{}, false
			}
			l = append(l, t)
		}
	case ')':
		return token{}, false
	case '"':
		var b strings.Builder
		for i := 1; i < len(z.s); i++ {
			switch z.s[i] {
			case '\\':
				if i+1 < len(z.s) {
					i++
					b.WriteByte(z.s[i])
				}
			case '"':
				z.s = z.s[i+1:]
				return token{str: b.String(), isStr: true}, true
			default:
				b.WriteByte(z.s[i])
			}
		}
		return token{}, false
	case '{':
		end := strings.IndexByte(z.s, '}')
		if end < 0 || len(z.lits) == 0 {
			return token{}, false
		}
		z.s = z.s[end+1:]
		lit := z.lits[0]
		z.lits = z.lits[1:]
		return token{str: string(lit), isStr: true}, true
	default:
		i := 0
		for i < len(z.s) && z.s[i] != ' ' && z.s[i] != '(' && z.s[i] != ')' {
			i++
		}
		t := token{atom: z.s[:i]}
		z.s = z.s[i:]
		return t, true
	}
}

// statusVals are the values of a STATUS response (RFC 3501 §7.2.4, RFC
// 7162 §3.1.6 HIGHESTMODSEQ). NOTIFY sends only the changed ones, so each
// has a presence bit.
type statusVals struct {
	has                                  uint8
	messages, uidNext, uidValidity, seen uint32
	highestModSeq                        uint64
}

const (
	hasMessages = 1 << iota
	hasUIDNext
	hasUIDValidity
	hasUnseen
	hasModSeq
)

// merge returns v updated with the values present in u.
func (v statusVals) merge(u statusVals) statusVals {
	if u.has&hasMessages != 0 {
		v.messages = u.messages
	}
	if u.has&hasUIDNext != 0 {
		v.uidNext = u.uidNext
	}
	if u.has&hasUIDValidity != 0 {
		v.uidValidity = u.uidValidity
	}
	if u.has&hasUnseen != 0 {
		v.seen = u.seen
	}
	if u.has&hasModSeq != 0 {
		v.highestModSeq = u.highestModSeq
	}
	v.has |= u.has
	return v
}

// parseStatus parses the data of "* STATUS mailbox (att value …)". The
// mailbox is decoded (modified UTF-7) and normalised (INBOX).
func parseStatus(r *response) (string, statusVals, error) {
	z := &tokenizer{s: r.text, lits: r.lits}
	var v statusVals
	if kw, ok := z.next(); !ok || !strings.EqualFold(kw.atom, "STATUS") {
		return "", v, errors.New("watch: not a STATUS response")
	}
	mb, ok := z.next()
	if !ok || mb.isList {
		return "", v, fmt.Errorf("watch: STATUS without mailbox: %.80q", r.text)
	}
	atts, ok := z.next()
	if !ok || !atts.isList || len(atts.list)%2 != 0 {
		return "", v, fmt.Errorf("watch: STATUS without attributes: %.80q", r.text)
	}
	for i := 0; i < len(atts.list); i += 2 {
		n, err := strconv.ParseUint(atts.list[i+1].atom, 10, 64)
		if err != nil {
			continue // an attribute this package does not know
		}
		switch strings.ToUpper(atts.list[i].atom) {
		case "MESSAGES":
			v.messages, v.has = uint32(n), v.has|hasMessages
		case "UIDNEXT":
			v.uidNext, v.has = uint32(n), v.has|hasUIDNext
		case "UIDVALIDITY":
			v.uidValidity, v.has = uint32(n), v.has|hasUIDValidity
		case "UNSEEN":
			v.seen, v.has = uint32(n), v.has|hasUnseen
		case "HIGHESTMODSEQ":
			v.highestModSeq, v.has = n, v.has|hasModSeq
		}
	}
	return normMailbox(serverName(mb.value())), v, nil
}

// serverName decodes a mailbox name from the server: modified UTF-7 (RFC
// 3501 §5.1.3), except that a name with 8-bit octets is taken as UTF-8
// (Dovecot 2.3 sends the names of NOTIFY's STATUS responses so), as is a
// name that is no valid modified UTF-7.
func serverName(raw string) string {
	if !isASCII(raw) {
		return raw
	}
	if name, err := decodeMUTF7(raw); err == nil {
		return name
	}
	return raw
}

// isASCII reports whether s is 7-bit.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// namespace is one namespace of RFC 2342: its prefix (decoded) and
// whether it is personal.
type namespace struct {
	prefix   string
	personal bool
}

// parseNamespace reads "* NAMESPACE (personal…) (other users…) (shared…)".
func parseNamespace(r *response) []namespace {
	z := &tokenizer{s: r.text, lits: r.lits}
	if kw, ok := z.next(); !ok || !strings.EqualFold(kw.atom, "NAMESPACE") {
		return nil
	}
	var out []namespace
	for i := range 3 {
		t, ok := z.next()
		if !ok {
			break
		}
		for _, ns := range t.list { // NIL has no list
			if ns.isList && len(ns.list) > 0 {
				out = append(out, namespace{prefix: serverName(ns.list[0].value()), personal: i == 0})
			}
		}
	}
	return out
}

// isPersonal reports whether mailbox m lies in a personal namespace: the
// longest namespace prefix it starts with is personal. INBOX always is;
// without NAMESPACE everything is.
func isPersonal(m string, spaces []namespace) bool {
	if m == "INBOX" || len(spaces) == 0 {
		return true
	}
	best, personal := -1, false
	for _, ns := range spaces {
		if strings.HasPrefix(m, ns.prefix) && len(ns.prefix) > best {
			best, personal = len(ns.prefix), ns.personal
		}
	}
	return personal
}

// normMailbox spells INBOX, which is case-insensitive (RFC 3501 §5.1), in
// upper case; other names are case-sensitive and kept.
func normMailbox(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

// quoteMailbox encodes a mailbox name as an IMAP quoted string.
func quoteMailbox(name string) string {
	return quote(encodeMUTF7(name))
}

// quote makes an IMAP quoted string of s, which must not hold CR, LF or
// NUL (checked by the callers).
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// validName reports whether a mailbox name or credential can be sent as a
// quoted string.
func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "\r\n\x00")
}

// capSet is a capability list, upper case.
type capSet map[string]bool

func parseCaps(s string) capSet {
	c := capSet{}
	for _, f := range strings.Fields(s) {
		c[strings.ToUpper(f)] = true
	}
	delete(c, "CAPABILITY")
	return c
}

// conn is one authenticated IMAP connection. After login a reader
// goroutine (started by login, ended by close, which waits for it) turns
// the stream into responses on resp; everything else happens on the
// owner's goroutine, one command at a time.
type conn struct {
	nc      net.Conn
	br      *bufio.Reader
	caps    capSet
	timeout time.Duration // per command answer and per write
	tagN    uint64

	resp       chan *response
	readerDone chan struct{}
	readErr    error // set before resp is closed
}

// dialIMAP opens and authenticates a connection: greeting, STARTTLS when
// cfg asks for it, CAPABILITY when not announced, AUTHENTICATE PLAIN (RFC
// 4616, with SASL-IR, RFC 4959, when offered) or LOGIN (RFC 3501 §6.2.3).
// timeout bounds the whole exchange; ctx cancels it. Errors wrap
// ErrAuthFailed when the server refused the credentials.
func dialIMAP(ctx context.Context, cfg *IMAPConfig, timeout time.Duration) (*conn, error) {
	if cfg == nil || cfg.Dial == nil {
		return nil, errors.New("watch: account has no IMAP dialer")
	}
	if !validName(cfg.User) || !validName(cfg.Password) {
		return nil, fmt.Errorf("watch: user name or password unusable in IMAP: %w", ErrAuthFailed)
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := cfg.Dial(dctx)
	if err != nil {
		return nil, fmt.Errorf("watch: dial IMAP: %w", err)
	}
	// The context ends the handshake by closing the connection; the
	// deadline covers a server that accepts and then says nothing.
	stop := context.AfterFunc(dctx, func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(timeout))
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, readBuffer), timeout: timeout}
	if err := c.handshake(cfg); err != nil {
		stop()
		nc.Close()
		if dctx.Err() != nil && !errors.Is(err, ErrAuthFailed) {
			err = fmt.Errorf("%w (%w)", err, dctx.Err())
		}
		return nil, err
	}
	if !stop() {
		nc.Close()
		return nil, fmt.Errorf("watch: IMAP login: %w", dctx.Err())
	}
	_ = nc.SetDeadline(time.Time{})
	c.resp = make(chan *response, 16)
	c.readerDone = make(chan struct{})
	go c.readLoop()
	return c, nil
}

// handshake runs greeting, STARTTLS and login synchronously (no reader
// goroutine yet, so that STARTTLS can swap the transport).
func (c *conn) handshake(cfg *IMAPConfig) error {
	g, err := readResponse(c.br)
	if err != nil {
		return fmt.Errorf("watch: IMAP greeting: %w", err)
	}
	cond, code := g.cond()
	switch {
	case g.tag != "*" || (cond != "OK" && cond != "PREAUTH"):
		return fmt.Errorf("watch: IMAP greeting %.80q", g.text)
	case strings.HasPrefix(strings.ToUpper(code), "CAPABILITY "):
		c.caps = parseCaps(code)
	}
	preauth := cond == "PREAUTH"
	if cfg.StartTLS != nil {
		if preauth {
			return errors.New("watch: PREAUTH greeting leaves no room for STARTTLS (RFC 3501 §7.1.4)")
		}
		if _, err := c.syncCommand("STARTTLS", nil); err != nil {
			return fmt.Errorf("watch: STARTTLS: %w", err)
		}
		if c.br.Buffered() > 0 {
			// Plain text read as if it came over TLS: CVE-2011-0411.
			return errors.New("watch: STARTTLS: server sent data before the TLS handshake")
		}
		tc := tls.Client(c.nc, cfg.StartTLS)
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("watch: STARTTLS: %w", err)
		}
		c.nc, c.br, c.caps = tc, bufio.NewReaderSize(tc, readBuffer), nil
	}
	if c.caps == nil {
		if err := c.capability(); err != nil {
			return err
		}
	}
	if preauth {
		return nil
	}
	var done *response
	switch {
	case c.caps["AUTH=PLAIN"]:
		ir := base64.StdEncoding.EncodeToString([]byte("\x00" + cfg.User + "\x00" + cfg.Password))
		if c.caps["SASL-IR"] {
			done, err = c.syncCommand("AUTHENTICATE PLAIN "+ir, nil)
		} else {
			done, err = c.syncCommand("AUTHENTICATE PLAIN", func() string { return ir })
		}
	case !c.caps["LOGINDISABLED"]:
		done, err = c.syncCommand("LOGIN "+quote(cfg.User)+" "+quote(cfg.Password), nil)
	default:
		return errors.New("watch: IMAP server offers neither AUTH=PLAIN nor LOGIN")
	}
	if err != nil {
		var ne *noError
		if errors.As(err, &ne) && ne.cond == "NO" {
			return fmt.Errorf("watch: IMAP login: %w: %w", ErrAuthFailed, err)
		}
		return fmt.Errorf("watch: IMAP login: %w", err)
	}
	// Capabilities may change with authentication (RFC 3501 §6.2.3).
	if _, code := done.cond(); strings.HasPrefix(strings.ToUpper(code), "CAPABILITY ") {
		c.caps = parseCaps(code)
		return nil
	}
	return c.capability()
}

func (c *conn) capability() error {
	c.caps = nil
	if _, err := c.syncCommand("CAPABILITY", nil); err != nil {
		return fmt.Errorf("watch: CAPABILITY: %w", err)
	}
	if c.caps == nil {
		return errors.New("watch: no CAPABILITY response")
	}
	return nil
}

// noError is a tagged NO or BAD.
type noError struct {
	cond, text string
}

func (e *noError) Error() string { return "watch: server said " + e.text }

func (c *conn) nextTag() string {
	c.tagN++
	return "W" + strconv.FormatUint(c.tagN, 10)
}

func (c *conn) write(line string) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := io.WriteString(c.nc, line+"\r\n")
	if err != nil {
		return fmt.Errorf("watch: write: %w", err)
	}
	return nil
}

// syncCommand runs a command before the reader goroutine exists (under the
// handshake deadline). cont answers a continuation request. CAPABILITY
// responses update c.caps; other untagged data is ignored.
func (c *conn) syncCommand(cmd string, cont func() string) (*response, error) {
	tag := c.nextTag()
	if err := c.write(tag + " " + cmd); err != nil {
		return nil, err
	}
	for {
		r, err := readResponse(c.br)
		if err != nil {
			return nil, err
		}
		switch {
		case r.tag == tag:
			return r, tagged(r)
		case r.tag == "+":
			if cont == nil {
				return nil, fmt.Errorf("watch: unexpected continuation request to %s", strings.Fields(cmd)[0])
			}
			if err := c.write(cont()); err != nil {
				return nil, err
			}
			cont = nil
		case r.kind() == "CAPABILITY":
			c.caps = parseCaps(r.text)
		case r.kind() == "BYE":
			return nil, fmt.Errorf("watch: server closed: %.80q", r.text)
		}
	}
}

// tagged turns a tagged completion into an error unless it is OK.
func tagged(r *response) error {
	cond, _ := r.cond()
	if cond == "OK" {
		return nil
	}
	return &noError{cond: cond, text: r.text}
}

func (c *conn) readLoop() {
	defer close(c.readerDone)
	defer close(c.resp)
	for {
		r, err := readResponse(c.br)
		if err != nil {
			c.readErr = err
			return
		}
		c.resp <- r
	}
}

// errClosed is readErr when the reader ended without an error of its own.
var errClosed = errors.New("watch: connection closed")

// next waits for the next response; an error when the connection ended,
// the timer fired (t may be nil: no timeout) or ctx ended.
func (c *conn) next(ctx context.Context, t <-chan time.Time) (*response, error) {
	select {
	case r, ok := <-c.resp:
		if !ok {
			if c.readErr != nil {
				return nil, fmt.Errorf("watch: read: %w", c.readErr)
			}
			return nil, errClosed
		}
		return r, nil
	case <-t:
		return nil, fmt.Errorf("watch: no answer from the IMAP server within %v", c.timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// command runs one command and hands every untagged response that arrives
// meanwhile to data (which may be nil). The answer must come within
// c.timeout.
func (c *conn) command(ctx context.Context, cmd string, data func(*response)) (*response, error) {
	tag := c.nextTag()
	if err := c.write(tag + " " + cmd); err != nil {
		return nil, err
	}
	return c.await(ctx, tag, data)
}

// await reads responses until the tagged completion of tag.
func (c *conn) await(ctx context.Context, tag string, data func(*response)) (*response, error) {
	t := time.NewTimer(c.timeout)
	defer t.Stop()
	for {
		r, err := c.next(ctx, t.C)
		if err != nil {
			return nil, err
		}
		switch {
		case r.tag == tag:
			return r, tagged(r)
		case r.tag == "+":
			return nil, errors.New("watch: unexpected continuation request")
		case data != nil:
			data(r)
		}
	}
}

// close ends the connection: LOGOUT when polite (not awaited), then the
// transport; it waits for the reader goroutine.
func (c *conn) close(polite bool) {
	if polite {
		_ = c.write(c.nextTag() + " LOGOUT")
	}
	c.nc.Close()
	for range c.resp { // unblock the reader, then wait for its end
	}
	<-c.readerDone
}
