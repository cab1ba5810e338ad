package watch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of HubOptions; doc.go says where each comes from.
const (
	DefaultDAVInterval    = 30 * time.Second
	DefaultIdleRefresh    = 25 * time.Minute
	DefaultPollInterval   = 30 * time.Second
	DefaultGrace          = 60 * time.Second
	DefaultBackoffMin     = 1 * time.Second
	DefaultBackoffMax     = 60 * time.Second
	DefaultCommandTimeout = 30 * time.Second
	DefaultFastPoll       = 200 * time.Millisecond
	DefaultFastPollLimit  = 10
)

// HubOptions configures a Hub. Zero values take the defaults above.
type HubOptions struct {
	// Log receives connection changes and errors. Default: discard.
	Log *slog.Logger
	// DAVInterval is the poll period of DAV tokens (default 30 s).
	DAVInterval time.Duration
	// IdleRefresh is how often an IDLE is ended and re-issued, and how
	// often a NOTIFY connection sends NOOP (default 25 min: under RFC 2177's
	// 29 min and RFC 3501 §5.4's 30 min autologout).
	IdleRefresh time.Duration
	// PollInterval is the STATUS poll period of the mailboxes the IDLE
	// fallback does not select (default 30 s).
	PollInterval time.Duration
	// Grace is how long a watcher outlives its last subscription, and how
	// long a mailbox or collection stays watched after its last
	// subscription ends (default 60 s: a phone's Sync between two Pings).
	Grace time.Duration
	// BackoffMin and BackoffMax bound the exponential reconnect delay
	// (defaults 1 s and 60 s, ±20 % jitter).
	BackoffMin, BackoffMax time.Duration
	// CommandTimeout bounds dialling plus login, each IMAP command's
	// answer and each DAV token request (default 30 s).
	CommandTimeout time.Duration
	// NoNotify makes the watcher use IDLE even when the server offers
	// NOTIFY (for servers with a broken NOTIFY, and for tests).
	NoNotify bool
	// FastPoll is the period of the STATUS checks a NOTIFY watcher adds
	// while the hub has at most FastPollLimit watchers (default 200 ms).
	// Servers delay their notifications (Dovecot by a fixed 500 ms); a
	// small installation can afford to ask sooner.
	FastPoll time.Duration
	// FastPollLimit is the most watchers (accounts) for which FastPoll
	// applies (default 10); negative turns the fast checks off, so a
	// large installation relies on NOTIFY alone.
	FastPollLimit int
}

func (o *HubOptions) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&o.DAVInterval, DefaultDAVInterval)
	set(&o.IdleRefresh, DefaultIdleRefresh)
	set(&o.PollInterval, DefaultPollInterval)
	set(&o.Grace, DefaultGrace)
	set(&o.BackoffMin, DefaultBackoffMin)
	set(&o.BackoffMax, DefaultBackoffMax)
	set(&o.CommandTimeout, DefaultCommandTimeout)
	set(&o.FastPoll, DefaultFastPoll)
	if o.FastPollLimit == 0 {
		o.FastPollLimit = DefaultFastPollLimit
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffMin)
}

// Account describes how to watch one account.
type Account struct {
	// Key identifies the account (e.g. IMAP server + remote user): one
	// watcher, hence one IMAP connection, per key.
	Key string
	// IMAP opens the watcher's own connection (never one of the request
	// pool: it is busy with IDLE or NOTIFY for as long as the watcher
	// lives). nil when the account's mailboxes are not to be watched.
	IMAP *IMAPConfig
	// DAVToken returns a collection's sync-token or CTag, the cheapest
	// change check (davsource.Account.Token). nil when no collections are
	// to be watched.
	DAVToken func(ctx context.Context, collection string) (string, error)
}

// IMAPConfig is how the watcher connects and logs in. The watcher drives
// the connection itself (see imapconn.go for why not go-imap), so it gets
// the transport and the credentials, not a logged-in client.
type IMAPConfig struct {
	// Dial opens the transport to the server: TCP for imap://, TLS for
	// imaps:// (tls.Dialer). It should enable TCP keep-alives (net.Dialer
	// does by default): a NOTIFY connection is otherwise silent for
	// IdleRefresh, and keep-alives are what notices a dead peer sooner.
	Dial func(ctx context.Context) (net.Conn, error)
	// StartTLS, when not nil, upgrades the connection with STARTTLS (RFC
	// 3501 §6.2.1) with this configuration before logging in.
	StartTLS *tls.Config
	// User and Password log in (AUTHENTICATE PLAIN, else LOGIN).
	User, Password string
}

// Event says that a watched mailbox or collection may have changed;
// exactly one of the fields is set. Events are hints, coalesced per name:
// the receiver checks (STATUS, sync-token) before acting.
type Event struct{ Mailbox, Collection string }

// ErrClosed is returned by Watch after Close.
var ErrClosed = errors.New("watch: hub closed")

// Hub keeps one watcher per account key and hands out subscriptions.
type Hub struct {
	opts HubOptions
	log  *slog.Logger
	// wg counts every goroutine of every watcher (loops and grace
	// timers); Close waits for it.
	wg sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	watchers map[string]*watcher
	// closing holds the done channel of a stopped watcher still shutting
	// down, so that its successor for the same key connects only after
	// its connection is gone (one connection per account).
	closing map[string]chan struct{}
}

// NewHub returns a Hub; Close releases it.
func NewHub(opts HubOptions) *Hub {
	opts.defaults()
	return &Hub{opts: opts, log: opts.Log, watchers: map[string]*watcher{}, closing: map[string]chan struct{}{}}
}

// Close stops every watcher and waits until their goroutines have ended
// and their connections are closed. Every subscription channel is closed.
// It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	ws := make([]*watcher, 0, len(h.watchers))
	for _, w := range h.watchers {
		ws = append(ws, w)
	}
	clear(h.watchers)
	h.mu.Unlock()
	for _, w := range ws {
		w.mu.Lock()
		w.cancelGrace()
		for s := range w.subs {
			w.dropSub(s)
			if s.stop != nil {
				s.stop()
			}
		}
		w.stopLocked()
		w.mu.Unlock()
	}
	h.wg.Wait()
	return nil
}

// fastPoll reports whether NOTIFY watchers should add their FastPoll
// STATUS checks: only while the hub has at most FastPollLimit watchers.
func (h *Hub) fastPoll() bool {
	if h.opts.FastPollLimit < 0 {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.watchers) <= h.opts.FastPollLimit
}

// Watch registers interest in mailboxes (names as the IMAP server has
// them, UTF-8, "INBOX" in any case) and DAV collections of account a.
// Events arrive on the returned channel, coalesced: a name is queued at
// most once until it is received. Cancelling ctx unregisters and closes the
// channel. A mailbox becoming watched (the first time, and again after
// every reconnect) yields an event, since a change may have been missed
// before; so does a collection's first token. When the last subscription
// of an account ends, its watcher stops after HubOptions.Grace.
//
// The non-nil parts of a replace those of the account's previous Account
// (new credentials apply from the next connection).
func (h *Hub) Watch(ctx context.Context, a Account, mailboxes, collections []string) (<-chan Event, error) {
	if a.Key == "" {
		return nil, errors.New("watch: account without key")
	}
	mbs, err := cleanNames(mailboxes, normMailbox)
	if err != nil {
		return nil, err
	}
	colls, err := cleanNames(collections, func(s string) string { return s })
	if err != nil {
		return nil, err
	}
	switch {
	case len(mbs)+len(colls) == 0:
		return nil, errors.New("watch: nothing to watch")
	case len(mbs) > 0 && (a.IMAP == nil || a.IMAP.Dial == nil):
		return nil, fmt.Errorf("watch: account %s: mailboxes to watch but no IMAP", a.Key)
	case len(colls) > 0 && a.DAVToken == nil:
		return nil, fmt.Errorf("watch: account %s: collections to watch but no DAV", a.Key)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &sub{
		mailboxes:   setOf(mbs),
		collections: setOf(colls),
		ch:          make(chan Event, len(mbs)+len(colls)),
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	w := h.watchers[a.Key]
	if w == nil {
		w = h.newWatcher(a.Key)
		h.watchers[a.Key] = w
	}
	// w.mu before h.mu is released: expire (h.mu, then w.mu) cannot stop
	// w between here and the new subscription.
	w.mu.Lock()
	h.mu.Unlock()
	w.acct.Key = a.Key
	if a.IMAP != nil {
		w.acct.IMAP = a.IMAP
	}
	if a.DAVToken != nil {
		w.acct.DAVToken = a.DAVToken
	}
	w.cancelGrace()
	w.subs[s] = struct{}{}
	now := time.Now()
	newMail, newDAV := false, false
	for _, m := range mbs {
		st := w.mailboxes[m]
		if st == nil {
			st = &mailboxState{}
			w.mailboxes[m] = st
			newMail = true
		}
		st.refs++
		st.released = now
	}
	for _, c := range colls {
		st := w.collections[c]
		if st == nil {
			st = &collectionState{}
			w.collections[c] = st
			newDAV = true
		}
		st.refs++
		st.released = now
	}
	if len(mbs) > 0 {
		w.startLoop(&w.imapStarted, w.imapLoop)
		if newMail {
			wake(w.wakeIMAP)
		}
	}
	if len(colls) > 0 {
		w.startLoop(&w.davStarted, w.davLoop)
		if newDAV {
			wake(w.wakeDAV)
		}
	}
	w.mu.Unlock()

	stop := context.AfterFunc(ctx, func() { w.unwatch(s) })
	w.mu.Lock()
	if s.closed { // Close came first
		stop()
	} else {
		s.stop = stop
	}
	w.mu.Unlock()
	return s.ch, nil
}

// Quiet reports whether the watcher vouches that mailbox had no change
// since t: it has been connected and receiving real-time notifications
// for the mailbox (NOTIFY with CONDSTORE, or the mailbox IDLE selects)
// since before t, and no event for it came after t. t must be taken
// before the caller last read the mailbox's state. A change is reported
// some time after it happens (Dovecot: ~0.5 s), so a change in that last
// moment is not yet known: it is reported as an event shortly after.
func (h *Hub) Quiet(accountKey, mailbox string, since time.Time) bool {
	h.mu.Lock()
	w := h.watchers[accountKey]
	h.mu.Unlock()
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.mailboxes[normMailbox(mailbox)]
	return st != nil && st.vouch && !st.covered.IsZero() && !st.covered.After(since) && st.lastEvent.Before(since)
}

// watcher watches one account. Its loops (imapLoop, davLoop) start on
// demand and run until stop; they are counted in running and in the hub's
// wait group, and the last to exit after stop closes done.
type watcher struct {
	h        *Hub
	key      string
	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	prevDone <-chan struct{} // the previous watcher of key, still closing; nil if none
	done     chan struct{}

	// wakeIMAP and wakeDAV (capacity 1) say that names were added.
	wakeIMAP, wakeDAV chan struct{}

	mu          sync.Mutex
	acct        Account
	subs        map[*sub]struct{}
	mailboxes   map[string]*mailboxState
	collections map[string]*collectionState
	graceTimer  *time.Timer
	graceGen    int
	stopped     bool
	running     int
	imapStarted bool
	davStarted  bool
	noNotify    bool // the server refused NOTIFY SET: use IDLE from now on
	// For tests and benchmarks.
	mode  string // "notify", "idle", "poll" or "" when not connected
	conns int    // IMAP connections open
	dials int    // IMAP connections opened so far
}

// mailboxState is what a watcher knows of one mailbox.
type mailboxState struct {
	refs     int       // subscriptions watching it
	released time.Time // when refs last changed; pruned Grace after reaching 0
	// covered is when real-time coverage began on the current connection
	// (zero: none); vouch says whether it covers flag changes too.
	covered   time.Time
	vouch     bool
	lastEvent time.Time
	// Last STATUS values (NOTIFY, or polls), to tell real changes from
	// repeated notifications; known is false until the first.
	status statusVals
	known  bool
}

// collectionState is what a watcher knows of one DAV collection.
type collectionState struct {
	refs     int
	released time.Time
	token    string
	known    bool
}

// sub is one subscription. Its fields are guarded by the watcher's mu.
type sub struct {
	mailboxes   map[string]bool
	collections map[string]bool
	ch          chan Event
	// recent are the last cap(ch) events sent. As ch is FIFO, the last
	// len(ch) of them are still queued: an event among those is not sent
	// again (coalescing), so ch never holds a name twice and a send never
	// blocks.
	recent []Event
	closed bool
	stop   func() bool // unregisters the context.AfterFunc
}

func (s *sub) deliver(ev Event) {
	if s.closed {
		return
	}
	if q := len(s.ch); q > 0 && slices.Contains(s.recent[len(s.recent)-min(q, len(s.recent)):], ev) {
		return
	}
	select {
	case s.ch <- ev:
		s.recent = append(s.recent, ev)
		if len(s.recent) > cap(s.ch) {
			s.recent = s.recent[len(s.recent)-cap(s.ch):]
		}
	default: // unreachable: distinct queued events ≤ distinct names = cap
	}
}

func (h *Hub) newWatcher(key string) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &watcher{
		h: h, key: key, log: h.log.With("watch", key),
		ctx: ctx, cancel: cancel, prevDone: h.closing[key], done: make(chan struct{}),
		wakeIMAP: make(chan struct{}, 1), wakeDAV: make(chan struct{}, 1),
		subs: map[*sub]struct{}{}, mailboxes: map[string]*mailboxState{}, collections: map[string]*collectionState{},
	}
}

// startLoop starts one of the watcher's loops once. w.mu is held.
func (w *watcher) startLoop(started *bool, loop func()) {
	if *started || w.stopped {
		return
	}
	*started = true
	w.running++
	w.h.wg.Add(1)
	go loop()
}

// exitLoop is deferred by each loop.
func (w *watcher) exitLoop() {
	w.mu.Lock()
	w.running--
	last := w.running == 0 && w.stopped
	if last {
		close(w.done)
	}
	w.mu.Unlock()
	if last {
		h := w.h
		h.mu.Lock()
		if h.closing[w.key] == w.done {
			delete(h.closing, w.key)
		}
		h.mu.Unlock()
	}
	w.h.wg.Done()
}

// stopLocked stops the loops; w.mu is held.
func (w *watcher) stopLocked() {
	if w.stopped {
		return
	}
	w.stopped = true
	w.cancel()
	if w.running == 0 {
		close(w.done)
	}
}

// unwatch ends a subscription (its context ended).
func (w *watcher) unwatch(s *sub) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.closed {
		return
	}
	w.dropSub(s)
	if len(w.subs) == 0 && !w.stopped {
		w.scheduleStop()
	}
}

// dropSub closes a subscription and releases its names; w.mu is held.
func (w *watcher) dropSub(s *sub) {
	s.closed = true
	close(s.ch)
	delete(w.subs, s)
	now := time.Now()
	for m := range s.mailboxes {
		if st := w.mailboxes[m]; st != nil {
			st.refs--
			st.released = now
		}
	}
	for c := range s.collections {
		if st := w.collections[c]; st != nil {
			st.refs--
			st.released = now
		}
	}
}

// scheduleStop arms the grace timer; w.mu is held.
func (w *watcher) scheduleStop() {
	w.cancelGrace()
	gen := w.graceGen
	w.h.wg.Add(1)
	w.graceTimer = time.AfterFunc(w.h.opts.Grace, func() {
		defer w.h.wg.Done()
		w.h.expire(w, gen)
	})
}

// cancelGrace disarms the grace timer; w.mu is held.
func (w *watcher) cancelGrace() {
	w.graceGen++ // a timer func already running sees it is stale
	if w.graceTimer != nil && w.graceTimer.Stop() {
		w.h.wg.Done()
	}
	w.graceTimer = nil
}

// expire stops a watcher whose grace period ended without a new
// subscription.
func (h *Hub) expire(w *watcher, gen int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.graceGen != gen || len(w.subs) > 0 || w.stopped {
		return
	}
	w.graceTimer = nil
	if h.watchers[w.key] == w {
		delete(h.watchers, w.key)
	}
	w.stopLocked()
	select {
	case <-w.done:
	default:
		h.closing[w.key] = w.done
	}
	w.log.Debug("watch: watcher stopped after its grace period")
}

// emitMailbox records an event for mailbox m and delivers it; w.mu is held.
func (w *watcher) emitMailbox(m string, st *mailboxState) {
	st.lastEvent = time.Now()
	ev := Event{Mailbox: m}
	for s := range w.subs {
		if s.mailboxes[m] {
			s.deliver(ev)
		}
	}
}

// emitCollection delivers an event for collection c; w.mu is held.
func (w *watcher) emitCollection(c string) {
	ev := Event{Collection: c}
	for s := range w.subs {
		if s.collections[c] {
			s.deliver(ev)
		}
	}
}

// wake signals a capacity-1 channel without blocking.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// cleanNames validates, normalises and deduplicates names.
func cleanNames(names []string, norm func(string) string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if !validName(n) {
			return nil, fmt.Errorf("watch: invalid name %q", n)
		}
		n = norm(n)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// sortedMailboxes lists mailbox names INBOX first, then in byte order.
func sortedMailboxes(names []string) []string {
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "INBOX":
			return -1
		case b == "INBOX":
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// watcherStats is a watcher's state, for tests and benchmarks.
type watcherStats struct {
	mode              string
	conns, dials      int
	mailboxes, colls  int
	subs              int
	stopped, attached bool
}

func (h *Hub) stats(key string) watcherStats {
	h.mu.Lock()
	w := h.watchers[key]
	h.mu.Unlock()
	if w == nil {
		return watcherStats{}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return watcherStats{
		mode: w.mode, conns: w.conns, dials: w.dials, mailboxes: len(w.mailboxes), colls: len(w.collections),
		subs: len(w.subs), stopped: w.stopped, attached: true,
	}
}
