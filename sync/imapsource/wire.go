package imapsource

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Limits of the wire filter.
const (
	// maxLine bounds one response line (literals excluded). A UID SEARCH
	// answer for a million messages fits.
	maxLine = 16 << 20
	// maxDiverted bounds a response (literals included) taken off the
	// stream for a raw command.
	maxDiverted = 16 << 20
	// keepLine is the line buffer capacity kept between responses.
	keepLine = 256 << 10
	// rawIdle bounds the wait for each response line of a raw command.
	rawIdle = 60 * time.Second
)

// wire is the net.Conn imapclient talks through: it sits between the
// transport (TCP, or TLS above it) and imapclient and frames the server's
// responses (RFC 3501 §7: lines, with literals passed through unbuffered).
// It exists because go-imap v2 (beta.8) has no QRESYNC (RFC 7162):
// imapclient refuses ENABLE QRESYNC, cannot send the VANISHED FETCH
// modifier, and treats a VANISHED response as a fatal syntax error. So:
//
//   - raw commands (exchange) are written by this package and every
//     response up to their tagged completion is diverted to the caller,
//     never seen by imapclient; they are only sent while imapclient has no
//     command in flight (the caller holds the connection exclusively);
//   - a VANISHED response outside a raw command (unilateral, RFC 7162
//     §3.2.10, e.g. after UID EXPUNGE once QRESYNC is enabled) is dropped:
//     imapclient would fail on it and this package never needs it there;
//   - every command written is reported to onCommand (its name only).
//
// imapclient's reader goroutine is the only reader of the transport (it
// "pumps" raw responses through Read), except that a caller streaming a
// FETCH literal reads through Read while that goroutine waits for it.
type wire struct {
	conn      net.Conn
	in        *bufio.Reader
	onCommand func(string)

	closeOnce sync.Once
	closeErr  error

	// Read side: one reader at a time (see above); rmu makes sure.
	rmu     sync.Mutex
	pend    []byte // the part of the current response owed to imapclient
	litLeft int64  // literal octets still to pass through
	cont    bool   // the current response goes on after a literal
	route   route  // where the current response goes
	acc     []byte // a diverted response being collected
	line    []byte // line buffer

	mu       sync.Mutex
	raw      *rawCmd   // raw command in flight, nil when none
	deadline time.Time // read deadline as imapclient last set it

	wmu  sync.Mutex
	scan cmdScanner
}

type route int

const (
	routeClient route = iota // to imapclient
	routeRaw                 // to the raw command in flight
	routeDrop                // dropped (unilateral VANISHED)
)

// rawCmd is a raw command waiting for its responses.
type rawCmd struct {
	tag  string
	ch   chan []byte   // responses, the tagged one last
	quit chan struct{} // closed when the waiter gives up
	dead chan struct{} // closed when the connection failed; err says why
	err  error
}

var _ net.Conn = (*wire)(nil)

// newWire wraps conn. greeting, when not empty, is handed to imapclient
// before anything read from conn (after a STARTTLS done here, imapclient
// must still see a greeting).
func newWire(conn net.Conn, greeting string, onCommand func(string)) *wire {
	w := &wire{conn: conn, in: bufio.NewReaderSize(conn, 32<<10), onCommand: onCommand}
	if greeting != "" {
		w.pend = []byte(greeting)
	}
	return w
}

// Read hands imapclient the next bytes of the responses meant for it.
func (w *wire) Read(p []byte) (int, error) {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	for {
		if len(w.pend) > 0 {
			n := copy(p, w.pend)
			w.pend = w.pend[n:]
			return n, nil
		}
		if w.litLeft > 0 {
			if int64(len(p)) > w.litLeft {
				p = p[:w.litLeft]
			}
			n, err := w.in.Read(p)
			w.litLeft -= int64(n)
			if err != nil {
				w.fail(err)
			}
			return n, err
		}
		if err := w.next(); err != nil {
			w.fail(err)
			return 0, err
		}
	}
}

// next reads one line (up to a literal or the end of a response) and routes
// it.
func (w *wire) next() error {
	line, err := w.readLine()
	if err != nil {
		return err
	}
	if !w.cont {
		w.route = w.classify(line)
	}
	n, isLit := literalSuffix(line)
	if w.route == routeClient {
		w.pend = line
		w.cont = isLit
		w.litLeft = n
		return nil
	}
	if len(w.acc)+len(line)+int(n) > maxDiverted {
		return fmt.Errorf("imapsource: response longer than %d octets", maxDiverted)
	}
	w.acc = append(w.acc, line...)
	if isLit {
		start := len(w.acc)
		w.acc = append(w.acc, make([]byte, n)...)
		if _, err := io.ReadFull(w.in, w.acc[start:]); err != nil {
			return err
		}
		w.cont = true
		return nil
	}
	w.cont = false
	resp := w.acc
	w.acc = nil
	if w.route == routeRaw {
		w.deliver(resp)
	}
	return nil
}

// readLine reads up to and including the next LF.
func (w *wire) readLine() ([]byte, error) {
	if cap(w.line) > keepLine {
		w.line = nil
	}
	w.line = w.line[:0]
	for {
		chunk, err := w.in.ReadSlice('\n')
		w.line = append(w.line, chunk...)
		switch {
		case err == nil:
			return w.line, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, err
		case len(w.line) > maxLine:
			return nil, fmt.Errorf("imapsource: response line longer than %d octets", maxLine)
		}
	}
}

// classify decides where a response goes, from its first line.
func (w *wire) classify(line []byte) route {
	w.mu.Lock()
	raw := w.raw
	w.mu.Unlock()
	if raw != nil {
		// imapclient has no command in flight: everything, tagged or
		// untagged, belongs to the raw command.
		return routeRaw
	}
	if isUntagged(line, "VANISHED") {
		return routeDrop
	}
	return routeClient
}

// deliver hands a response to the raw command in flight.
func (w *wire) deliver(resp []byte) {
	w.mu.Lock()
	raw := w.raw
	tagged := raw != nil && hasTag(resp, raw.tag)
	if tagged {
		w.raw = nil // what follows is imapclient's again
	} else if raw != nil {
		_ = w.conn.SetReadDeadline(time.Now().Add(rawIdle))
	}
	w.mu.Unlock()
	if raw == nil {
		return
	}
	select {
	case raw.ch <- resp:
	case <-raw.quit:
	}
}

// fail tells a raw command in flight that the connection broke.
func (w *wire) fail(err error) {
	w.mu.Lock()
	raw := w.raw
	w.raw = nil
	w.mu.Unlock()
	if raw != nil {
		raw.err = err
		close(raw.dead)
	}
}

// exchange sends one command this package writes itself (tag and CRLF are
// added) and calls handle with each untagged response (the whole response,
// literals inline) until the tagged one, which it returns as an *imap.Error
// for NO/BAD. The caller must hold the connection and have no imapclient
// command in flight.
func (w *wire) exchange(ctx context.Context, tag, command string, handle func(resp []byte) error) error {
	raw := &rawCmd{tag: tag, ch: make(chan []byte), quit: make(chan struct{}), dead: make(chan struct{})}
	w.mu.Lock()
	if w.raw != nil {
		w.mu.Unlock()
		return errors.New("imapsource: raw command already in flight")
	}
	w.raw = raw
	_ = w.conn.SetReadDeadline(time.Now().Add(rawIdle))
	w.mu.Unlock()
	defer close(raw.quit)

	if _, err := w.Write([]byte(tag + " " + command + "\r\n")); err != nil {
		w.fail(err)
		return err
	}
	var herr error
	for {
		select {
		case resp := <-raw.ch:
			if !hasTag(resp, tag) {
				if herr == nil {
					herr = handle(resp)
				}
				continue
			}
			w.mu.Lock()
			_ = w.conn.SetReadDeadline(w.deadline) // imapclient's again
			w.mu.Unlock()
			if err := parseTagged(resp); err != nil {
				return err
			}
			return herr
		case <-raw.dead:
			return raw.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Write sends what imapclient (or exchange) writes, reporting commands.
func (w *wire) Write(p []byte) (int, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.onCommand != nil {
		w.scan.feed(p, w.onCommand)
	}
	return w.conn.Write(p)
}

// Close closes the transport; later calls return net.ErrClosed.
func (w *wire) Close() error {
	err := net.ErrClosed
	w.closeOnce.Do(func() {
		w.closeErr = w.conn.Close()
		err = w.closeErr
	})
	return err
}

func (w *wire) LocalAddr() net.Addr  { return w.conn.LocalAddr() }
func (w *wire) RemoteAddr() net.Addr { return w.conn.RemoteAddr() }

func (w *wire) SetDeadline(t time.Time) error {
	if err := w.SetReadDeadline(t); err != nil {
		return err
	}
	return w.conn.SetWriteDeadline(t)
}

// SetReadDeadline records imapclient's deadline, which a raw command
// replaces while it runs.
func (w *wire) SetReadDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadline = t
	if w.raw != nil {
		return nil
	}
	return w.conn.SetReadDeadline(t)
}

func (w *wire) SetWriteDeadline(t time.Time) error { return w.conn.SetWriteDeadline(t) }

// extendRead pushes the read deadline d into the future; a caller streaming
// a literal uses it so that imapclient's deadline (set once for the whole
// literal) becomes an idle timeout.
func (w *wire) extendRead(d time.Duration) {
	_ = w.conn.SetReadDeadline(time.Now().Add(d))
}

// literalSuffix reports whether a line ends with a literal announcement,
// "{n}" or "~{n}" (RFC 3516 literal8) on the server side, "{n+}" (RFC 7888
// LITERAL+) on the client side, before its CRLF, and n.
func literalSuffix(line []byte) (int64, bool) {
	l := bytes.TrimRight(line, "\r\n")
	if len(l) < 3 || l[len(l)-1] != '}' {
		return 0, false
	}
	open := bytes.LastIndexByte(l, '{')
	if open < 0 {
		return 0, false
	}
	num := bytes.TrimSuffix(l[open+1:len(l)-1], []byte("+"))
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || n < 0 || len(num) == 0 || num[0] == '+' || num[0] == '-' {
		return 0, false
	}
	return n, true
}

// isUntagged reports whether line is "* <kind> …" (case-insensitive).
func isUntagged(line []byte, kind string) bool {
	if len(line) < 2+len(kind) || line[0] != '*' || line[1] != ' ' {
		return false
	}
	rest := line[2:]
	if !bytes.EqualFold(rest[:len(kind)], []byte(kind)) {
		return false
	}
	return len(rest) == len(kind) || rest[len(kind)] == ' ' || rest[len(kind)] == '\r' || rest[len(kind)] == '\n'
}

// hasTag reports whether resp is the tagged response of tag.
func hasTag(resp []byte, tag string) bool {
	return len(resp) > len(tag) && string(resp[:len(tag)]) == tag && resp[len(tag)] == ' '
}

// cmdScanner finds the start of each command in the client's byte stream
// (lines, with literals skipped) and reports the command's name.
type cmdScanner struct {
	head []byte // the first bytes of the current line
	tail []byte // its last bytes, for the literal announcement
	skip int64  // literal octets to skip
	cont bool   // the current line continues a command after a literal
}

const (
	scanHead = 48
	scanTail = 32
)

func (s *cmdScanner) feed(p []byte, report func(string)) {
	for len(p) > 0 {
		if s.skip > 0 {
			n := min(int64(len(p)), s.skip)
			s.skip -= n
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i+1]
		}
		p = p[len(seg):]
		if !s.cont && len(s.head) < scanHead {
			s.head = append(s.head, seg[:min(len(seg), scanHead-len(s.head))]...)
		}
		if len(seg) >= scanTail {
			s.tail = append(s.tail[:0], seg[len(seg)-scanTail:]...)
		} else {
			s.tail = append(s.tail, seg...)
			if over := len(s.tail) - scanTail; over > 0 {
				s.tail = s.tail[:copy(s.tail, s.tail[over:])]
			}
		}
		if i < 0 {
			continue
		}
		n, lit := literalSuffix(s.tail)
		if !s.cont {
			if name := commandName(s.head); name != "" {
				report(name)
			}
		}
		s.head, s.tail = s.head[:0], s.tail[:0]
		s.cont, s.skip = lit, n
	}
}

// commandName is the command of a line "tag NAME …" ("UID FETCH" for UID
// commands), "" for lines that are not commands (AUTHENTICATE responses,
// IDLE's DONE): they have no space.
func commandName(head []byte) string {
	f := bytes.Fields(head)
	if len(f) < 2 {
		return ""
	}
	name := bytes.ToUpper(f[1])
	for _, c := range name {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' && c != '=' {
			return ""
		}
	}
	if string(name) == "UID" && len(f) >= 3 {
		return "UID " + string(bytes.ToUpper(f[2]))
	}
	return string(name)
}
