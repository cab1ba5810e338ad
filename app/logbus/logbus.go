// Package logbus is the in-memory log of EAS exchanges (one request and
// its answer) that the UI shows live and that --log-wbxml / log_wbxml
// appends to a file.
//
// The server publishes each exchange after redacting it (RedactHeaders,
// RedactQuery, RedactTree); the Bus keeps the most recent ones in a ring
// buffer and fans them out to subscribers without ever blocking the
// publisher: a subscriber that does not keep up misses exchanges, which
// shows as a gap in the IDs and in Dropped.
package logbus

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultCapacity is the ring size New uses for a capacity <= 0.
const DefaultCapacity = 1000

// DefaultSubscriberBuffer is the channel size Subscribe uses for buf <= 0.
const DefaultSubscriberBuffer = 64

// Exchange is one EAS request and its answer. Published exchanges are
// shared between readers and must be treated as read-only.
type Exchange struct {
	ID       uint64 // assigned by Publish, increasing from 1
	Time     time.Time
	Duration time.Duration

	Remote, User, DeviceID, DeviceType, Command, Version string

	HTTPStatus int
	EASStatus  int // 0 = none

	// RequestHeaders and ResponseHeaders are redacted copies.
	RequestHeaders, ResponseHeaders http.Header
	// RequestXML and ResponseXML are the decoded WBXML as XML (redacted),
	// or a note such as "(empty)" or "(not WBXML: 123 bytes)".
	RequestXML, ResponseXML string

	Error string
}

// Bus is a ring buffer of recent exchanges with subscribers. It is safe
// for concurrent use.
type Bus struct {
	mu      sync.Mutex
	ring    []Exchange
	start   int // index of the oldest exchange
	n       int // exchanges held
	lastID  uint64
	subs    map[*subscriber]struct{}
	dropped uint64
}

type subscriber struct {
	ch chan Exchange
}

// New returns a Bus keeping the last capacity exchanges (DefaultCapacity
// if capacity <= 0).
func New(capacity int) *Bus {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Bus{ring: make([]Exchange, capacity), subs: make(map[*subscriber]struct{})}
}

// Publish assigns e the next ID, stores it and hands it to every
// subscriber that has room; it never blocks. A zero Time is set to now.
// Headers are redacted again (RedactHeaders) in case the caller did not.
func (b *Bus) Publish(e Exchange) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.RequestHeaders = RedactHeaders(e.RequestHeaders)
	e.ResponseHeaders = RedactHeaders(e.ResponseHeaders)

	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastID++
	e.ID = b.lastID
	if b.n < len(b.ring) {
		b.ring[(b.start+b.n)%len(b.ring)] = e
		b.n++
	} else {
		b.ring[b.start] = e
		b.start = (b.start + 1) % len(b.ring)
	}
	for s := range b.subs {
		select {
		case s.ch <- e:
		default:
			b.dropped++
		}
	}
}

// Recent returns the last n exchanges (all held if n <= 0 or more than
// held), oldest first.
func (b *Bus) Recent(n int) []Exchange {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n <= 0 || n > b.n {
		n = b.n
	}
	out := make([]Exchange, n)
	for i := range n {
		out[i] = b.ring[(b.start+b.n-n+i)%len(b.ring)]
	}
	return out
}

// Subscribe returns a channel receiving every exchange published from now
// on, buffered for buf exchanges (DefaultSubscriberBuffer if buf <= 0);
// exchanges that find the buffer full are dropped for this subscriber. The
// channel is closed once ctx ends, after the exchanges still buffered.
func (b *Bus) Subscribe(ctx context.Context, buf int) <-chan Exchange {
	if buf <= 0 {
		buf = DefaultSubscriberBuffer
	}
	s := &subscriber{ch: make(chan Exchange, buf)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, s)
		close(s.ch) // Publish sends only under b.mu, to subscribers in b.subs
	})
	return s.ch
}

// Dropped is how many deliveries to subscribers were dropped because their
// buffer was full, in total.
func (b *Bus) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// Clear forgets the held exchanges. IDs keep increasing.
func (b *Bus) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.ring)
	b.start, b.n = 0, 0
}

func (b *Bus) subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// WriteTo writes e as a human-readable block: a header line (ID, time,
// remote address, user, device, command, version, HTTP and EAS status,
// duration), the error if any, then the request and response headers and
// XML, and a blank line. Headers are redacted again on the way.
func WriteTo(w io.Writer, e Exchange) error {
	var b strings.Builder
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	fmt.Fprintf(&b, "=== #%d %s %s user=%s device=%s", e.ID, e.Time.Format("2006-01-02 15:04:05.000 -0700"),
		dash(e.Remote), dash(e.User), dash(e.DeviceID))
	if e.DeviceType != "" {
		fmt.Fprintf(&b, " (%s)", e.DeviceType)
	}
	fmt.Fprintf(&b, " %s", dash(e.Command))
	if e.Version != "" {
		fmt.Fprintf(&b, " v%s", e.Version)
	}
	fmt.Fprintf(&b, " → HTTP %d", e.HTTPStatus)
	if e.EASStatus != 0 {
		fmt.Fprintf(&b, " EAS %d", e.EASStatus)
	}
	fmt.Fprintf(&b, " in %s\n", e.Duration.Round(time.Millisecond))
	if e.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", e.Error)
	}
	section := func(title string, h http.Header, xml string) {
		fmt.Fprintf(&b, "--- %s\n", title)
		h = RedactHeaders(h)
		keys := make([]string, 0, len(h))
		for k := range h {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, v := range h[k] {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		if len(keys) > 0 {
			b.WriteByte('\n')
		}
		if xml == "" {
			xml = "(none)"
		}
		b.WriteString(xml)
		if !strings.HasSuffix(xml, "\n") {
			b.WriteByte('\n')
		}
	}
	section("request", e.RequestHeaders, e.RequestXML)
	section("response", e.ResponseHeaders, e.ResponseXML)
	b.WriteByte('\n')
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("logbus: write exchange: %w", err)
	}
	return nil
}

// FileSink appends every exchange published on bus to the file at path
// (created with mode 0600: exchanges may hold mail content) until ctx
// ends, then returns nil after writing what was already received. It
// returns early with an error if the file cannot be opened or written.
// Exchanges the file could not keep up with are noted in it.
func FileSink(ctx context.Context, bus *Bus, path string) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("logbus: open %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("logbus: close %s: %w", path, cerr)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // unsubscribe when returning early
	ch := bus.Subscribe(ctx, 256)

	w := bufio.NewWriter(f)
	var last uint64
	for e := range ch {
		if last != 0 && e.ID > last+1 {
			fmt.Fprintf(w, "(%d exchanges not logged: the file could not keep up)\n\n", e.ID-last-1)
		}
		last = e.ID
		if err := WriteTo(w, e); err != nil {
			return fmt.Errorf("logbus: write %s: %w", path, err)
		}
		if len(ch) == 0 {
			if err := w.Flush(); err != nil {
				return fmt.Errorf("logbus: write %s: %w", path, err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("logbus: write %s: %w", path, err)
	}
	return nil
}
