package watch

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// imapLoop keeps one IMAP connection for the watcher: connect, watch until
// the connection breaks, wait (exponential backoff), reconnect. Every
// (re)connection makes each watched mailbox newly covered, which yields an
// event (a change may have been missed while disconnected).
func (w *watcher) imapLoop() {
	defer w.exitLoop()
	if w.prevDone != nil {
		select {
		case <-w.prevDone:
		case <-w.ctx.Done():
			return
		}
	}
	opts := &w.h.opts
	var backoff time.Duration
	for {
		covered, err := w.imapSession()
		w.lostCoverage()
		if w.ctx.Err() != nil {
			return
		}
		if covered {
			backoff = 0 // it worked for a while: start over at BackoffMin
		}
		backoff = min(max(2*backoff, opts.BackoffMin), opts.BackoffMax)
		// ±20 % so that the accounts of a restarted server do not all
		// come back in the same instant.
		d := time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
		level := slog.LevelInfo
		if !covered {
			level = slog.LevelWarn // failing to connect, not a dropped connection
		}
		w.log.Log(context.Background(), level, "watch: IMAP connection lost; reconnecting", "err", err, "in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
			return
		}
	}
}

// imapSession runs one connection until it breaks or the watcher stops.
// covered reports whether it got as far as watching.
func (w *watcher) imapSession() (covered bool, err error) {
	w.mu.Lock()
	cfg := w.acct.IMAP
	noNotify := w.noNotify || w.h.opts.NoNotify
	w.mu.Unlock()
	c, err := dialIMAP(w.ctx, cfg, w.h.opts.CommandTimeout)
	if err != nil {
		return false, err
	}
	w.mu.Lock()
	w.conns++
	w.dials++
	w.mu.Unlock()
	defer func() {
		c.close(w.ctx.Err() != nil)
		w.mu.Lock()
		w.conns--
		w.mu.Unlock()
	}()
	s := &session{w: w, c: c}
	if c.caps["NOTIFY"] && !noNotify {
		err = s.runNotify()
	} else {
		err = s.runIdle()
	}
	if w.ctx.Err() != nil {
		err = nil
	}
	return s.covered, err
}

// session is the state of one connection.
type session struct {
	w       *watcher
	c       *conn
	covered bool
	// IDLE mode: the selected mailbox and its message count.
	selected string
	exists   uint32
}

// lostCoverage forgets what the connection knew: nothing is covered.
func (w *watcher) lostCoverage() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.mailboxes {
		st.covered, st.vouch, st.known = time.Time{}, false, false
	}
	w.mode = ""
}

// mailboxList returns the mailboxes to watch, INBOX first, after pruning
// those without subscription for longer than Grace (but never all of
// them: an idle connection keeps its set until the watcher stops).
func (w *watcher) mailboxList() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	var keep, stale []string
	for m, st := range w.mailboxes {
		if st.refs == 0 && now.Sub(st.released) > w.h.opts.Grace {
			stale = append(stale, m)
		} else {
			keep = append(keep, m)
		}
	}
	if len(keep) == 0 {
		return sortedMailboxes(stale)
	}
	for _, m := range stale {
		delete(w.mailboxes, m)
	}
	return sortedMailboxes(keep)
}

func (w *watcher) setMode(m string) {
	w.mu.Lock()
	w.mode = m
	w.mu.Unlock()
}

// ---- NOTIFY (RFC 5465) ----

// runNotify watches with NOTIFY: one NOTIFY SET (personal (MessageNew
// MessageExpunge FlagChange)) per connection, nothing selected; the server
// then sends an unsolicited STATUS for every change in any personal
// mailbox (RFC 5465 §5.2; with CONDSTORE enabled also for FlagChange, as
// HIGHESTMODSEQ moves: without it Dovecot sends nothing for a flag change
// that leaves UNSEEN alone), and those of unwatched mailboxes are dropped
// here. Why not "mailboxes (<watched>)", re-issued as the set changes:
// Dovecot 2.3.19 loses notifications (INBOX's, in our tests) after a
// second NOTIFY SET on a connection, and it takes the names of a
// "mailboxes" filter as UTF-8 instead of modified UTF-7, so that it never
// reports a mailbox with a non-ASCII name. "personal" names nothing and is
// set once.
//
// A watched mailbox is covered once its baseline STATUS (asked after the
// NOTIFY SET, so that nothing falls between) has come; that is an event,
// as a change may have come before. A mailbox outside the personal
// namespace (RFC 2342), or one whose STATUS fails (it does not exist yet),
// is polled every PollInterval instead and not vouched for. NOOP every
// IdleRefresh keeps the server's autologout timer (RFC 3501 §5.4, ≥ 30
// min) at bay.
func (s *session) runNotify() error {
	w, c := s.w, s.c
	condstore := false
	if c.caps["CONDSTORE"] && c.caps["ENABLE"] {
		// RFC 7162 §3.1, RFC 5161.
		if _, err := c.command(w.ctx, "ENABLE CONDSTORE", nil); err != nil {
			return err
		}
		condstore = true
	}
	var spaces []namespace
	if c.caps["NAMESPACE"] {
		if _, err := c.command(w.ctx, "NAMESPACE", func(r *response) {
			if r.tag == "*" && r.kind() == "NAMESPACE" {
				spaces = parseNamespace(r)
			}
		}); err != nil {
			return err
		}
	}
	_, err := c.command(w.ctx, "NOTIFY SET (personal (MessageNew MessageExpunge FlagChange))", s.notifyDataIgnore)
	var ne *noError
	if errors.As(err, &ne) {
		// Advertised but refused: IDLE from the next connection on.
		w.mu.Lock()
		w.noNotify = true
		w.mu.Unlock()
		w.log.Warn("watch: NOTIFY refused; falling back to IDLE", "err", err)
	}
	if err != nil {
		return err
	}
	w.setMode("notify")
	items := "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"
	if condstore {
		items = "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)"
	}
	// cover baselines the watched mailboxes not covered yet (one whose
	// STATUS fails is tried again at the next call); all: poll the
	// uncoverable ones too.
	cover := func(all bool) error {
		for _, m := range w.mailboxList() {
			covered, known := w.coverage(m)
			personal := isPersonal(m, spaces)
			if covered || (!personal && !all && known) {
				continue
			}
			err := s.pollStatus(m, items, func(name string, v statusVals) {
				if personal {
					w.baseline(name, v, condstore)
				} else {
					w.statusPolled(name, v)
				}
			})
			if err != nil {
				return err
			}
		}
		s.covered = true
		return nil
	}
	if err := cover(false); err != nil {
		return err
	}
	refresh := time.NewTimer(w.h.opts.IdleRefresh)
	defer refresh.Stop()
	tick := time.NewTicker(w.h.opts.PollInterval)
	defer tick.Stop()
	// The fast checks run only while the hub is small enough; that is
	// decided again at every slow tick, so a large hub's watchers do not
	// even wake up for them.
	fast := time.NewTicker(w.h.opts.FastPoll)
	defer fast.Stop()
	fastOn := true
	setFast := func() {
		if on := w.h.fastPoll(); on != fastOn {
			fastOn = on
			if on {
				fast.Reset(w.h.opts.FastPoll)
			} else {
				fast.Stop()
			}
		}
	}
	setFast()
	for {
		select {
		case r, ok := <-c.resp:
			if !ok {
				_, err := c.next(w.ctx, nil)
				return err
			}
			if err := s.notifyData(r); err != nil {
				return err
			}
		case <-fast.C:
			// STATUS reads the mailbox's current index, so a change shows
			// here before the server's delayed notification.
			for _, m := range w.mailboxList() {
				if covered, _ := w.coverage(m); !covered {
					continue
				}
				if err := s.pollStatus(m, items, w.statusNotified); err != nil {
					return err
				}
			}
		case <-w.wakeIMAP:
			if err := cover(false); err != nil {
				return err
			}
		case <-tick.C:
			setFast()
			if err := cover(true); err != nil {
				return err
			}
		case <-refresh.C:
			if _, err := c.command(w.ctx, "NOOP", s.notifyDataIgnore); err != nil {
				return err
			}
			refresh.Reset(w.h.opts.IdleRefresh)
		case <-w.ctx.Done():
			return nil
		}
	}
}

// pollStatus asks for a mailbox's STATUS and hands the answer to got (nil:
// statusPolled). A NO (no such mailbox, yet) is no error. Other untagged
// data goes where it belongs (NOTIFY STATUS, the selected mailbox).
func (s *session) pollStatus(m, items string, got func(string, statusVals)) error {
	if got == nil {
		got = s.w.statusPolled
	}
	var v statusVals
	seen := false
	_, err := s.c.command(s.w.ctx, "STATUS "+quoteMailbox(m)+" "+items, func(r *response) {
		if r.tag == "*" && r.kind() == "STATUS" {
			// The answer, and maybe a notification of the same mailbox
			// (partial): merged, the newest values win.
			name, sv, err := parseStatus(r)
			if err == nil && name == m {
				v, seen = v.merge(sv), true
				return
			}
		}
		if s.selected != "" {
			s.selectedData(r)
		} else {
			s.notifyDataIgnore(r)
		}
	})
	var ne *noError
	switch {
	case errors.As(err, &ne):
		return nil
	case err != nil:
		return err
	case seen:
		got(m, v)
	}
	return nil
}

// notifyData handles an unsolicited response of a NOTIFY connection.
func (s *session) notifyData(r *response) error {
	if r.tag != "*" {
		return nil
	}
	switch r.kind() {
	case "STATUS":
		m, v, err := parseStatus(r)
		if err != nil {
			s.w.log.Debug("watch: unparsable STATUS", "err", err)
			return nil
		}
		s.w.statusNotified(m, v)
	case "OK", "NO":
		// RFC 5465 §5.8: the server dropped notifications; only a new
		// connection (with its events for everything) is sure again.
		if _, code := r.cond(); strings.EqualFold(code, "NOTIFICATIONOVERFLOW") {
			return errors.New("watch: NOTIFICATIONOVERFLOW")
		}
	}
	return nil
}

func (s *session) notifyDataIgnore(r *response) { _ = s.notifyData(r) }

// baseline records a mailbox's first STATUS on a NOTIFY connection: from
// now on it is covered (vouched for when flag changes are reported too),
// and that is an event.
func (w *watcher) baseline(m string, v statusVals, vouch bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.mailboxes[m]
	if st == nil {
		return
	}
	st.covered, st.vouch = time.Now(), vouch
	st.status, st.known = v, true
	w.emitMailbox(m, st)
}

// coverage reports whether a mailbox is covered in real time and whether
// it has a STATUS baseline.
func (w *watcher) coverage(m string) (covered, known bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.mailboxes[m]
	return st != nil && !st.covered.IsZero(), st != nil && st.known
}

// statusNotified handles a STATUS notification: an event when a value
// moved (Dovecot repeats unchanged STATUS responses).
func (w *watcher) statusNotified(m string, v statusVals) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.mailboxes[m]
	if st == nil || !st.known {
		return // no baseline yet: the coming STATUS brings it
	}
	merged := st.status.merge(v)
	if st.known && merged == st.status {
		return
	}
	st.status, st.known = merged, true
	w.emitMailbox(m, st)
}

// ---- IDLE (RFC 2177) with STATUS polling ----

// runIdle watches without NOTIFY: the most important mailbox (INBOX when
// watched) is EXAMINEd and IDLEd on, so that EXISTS, EXPUNGE and FETCH
// (flags) arrive as they happen; the other watched mailboxes are polled
// with STATUS every PollInterval (and at once when they join). IDLE is
// ended and re-issued every IdleRefresh (RFC 2177: the server may drop an
// IDLE after 30 min), and for each poll. A server without IDLE gets NOOP at
// every poll instead.
func (s *session) runIdle() error {
	w, c := s.w, s.c
	items := "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"
	if c.caps["CONDSTORE"] {
		items = "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)" // RFC 7162 §3.1.6
	}
	idle := c.caps["IDLE"]
	if idle {
		w.setMode("idle")
	} else {
		w.setMode("poll")
	}
	bad := map[string]bool{} // EXAMINE refused on this connection
	tick := time.NewTicker(w.h.opts.PollInterval)
	defer tick.Stop()
	due := false
	for {
		all := w.mailboxList()
		if err := s.selectTarget(all, bad); err != nil {
			return err
		}
		for _, m := range all {
			if _, known := w.coverage(m); m == s.selected || (!due && known) {
				continue
			}
			if err := s.pollStatus(m, items, nil); err != nil {
				return err
			}
		}
		s.covered = true
		due = false
		others := len(all) > 1 || (len(all) == 1 && s.selected == "")
		if !idle || s.selected == "" {
			select {
			case <-tick.C:
				due = true
			case <-w.wakeIMAP:
			case <-w.ctx.Done():
				return nil
			}
			if s.selected != "" {
				if _, err := c.command(w.ctx, "NOOP", s.selectedData); err != nil {
					return err
				}
			}
			continue
		}
		var err error
		if due, err = s.idle(others, tick.C); err != nil || w.ctx.Err() != nil {
			return err
		}
	}
}

// selectTarget EXAMINEs the mailbox to IDLE on: INBOX, else the one
// selected, else the first; a mailbox the server refuses is skipped.
func (s *session) selectTarget(all []string, bad map[string]bool) error {
	w, c := s.w, s.c
	for {
		target := ""
		for _, m := range all {
			if !bad[m] && (target == "" || m == "INBOX" || (m == s.selected && target != "INBOX")) {
				target = m
			}
		}
		if target == s.selected {
			return nil
		}
		if s.selected != "" {
			w.uncover(s.selected) // polled from now on
			s.selected = ""
		}
		if target == "" {
			return nil
		}
		var exists uint32
		_, err := c.command(w.ctx, "EXAMINE "+quoteMailbox(target), func(r *response) {
			if r.tag == "*" && r.kind() == "EXISTS" {
				exists, _ = r.number()
			}
		})
		var ne *noError
		if errors.As(err, &ne) {
			bad[target] = true
			continue
		}
		if err != nil {
			return err
		}
		s.selected, s.exists = target, exists
		w.coverSelected(target)
	}
}

// idle runs one IDLE until a new mailbox is watched, a poll is due (when
// there are others to poll), IdleRefresh passes or the watcher stops.
func (s *session) idle(others bool, tick <-chan time.Time) (due bool, err error) {
	w, c := s.w, s.c
	tag := c.nextTag()
	if err := c.write(tag + " IDLE"); err != nil {
		return false, err
	}
	// Wait for the continuation request ("+ idling").
	t := time.NewTimer(c.timeout)
	for started := false; !started; {
		r, err := c.next(w.ctx, t.C)
		if err != nil {
			t.Stop()
			return false, err
		}
		switch {
		case r.tag == "+":
			started = true
		case r.tag == tag:
			t.Stop()
			if err := tagged(r); err != nil {
				return false, err
			}
			return false, errors.New("watch: IDLE ended before it began")
		default:
			s.selectedData(r)
		}
	}
	t.Stop()
	refresh := time.NewTimer(w.h.opts.IdleRefresh)
	defer refresh.Stop()
wait:
	for {
		select {
		case r, ok := <-c.resp:
			if !ok {
				_, err := c.next(w.ctx, nil)
				return false, err
			}
			if r.tag == tag { // the server ended the IDLE
				return false, tagged(r)
			}
			s.selectedData(r)
		case <-tick:
			if others {
				due = true
				break wait
			}
		case <-w.wakeIMAP:
			break wait
		case <-refresh.C:
			break wait
		case <-w.ctx.Done():
			return false, nil
		}
	}
	if err := c.write("DONE"); err != nil {
		return false, err
	}
	_, err = c.await(w.ctx, tag, s.selectedData)
	return due, err
}

// selectedData handles untagged data about the selected mailbox: a new
// message count, an expunge, a flag change (RFC 3501 §7.3.1, §7.4.1,
// §7.4.2) or a VANISHED (RFC 7162 §3.2.10).
func (s *session) selectedData(r *response) {
	if r.tag != "*" || s.selected == "" {
		return
	}
	switch r.kind() {
	case "EXISTS":
		n, _ := r.number()
		if n == s.exists {
			return
		}
		s.exists = n
	case "EXPUNGE":
		s.exists--
	case "FETCH", "VANISHED":
	default:
		return
	}
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if st := s.w.mailboxes[s.selected]; st != nil {
		s.w.emitMailbox(s.selected, st)
	}
}

// coverSelected marks the IDLE mailbox covered (with flag changes: FETCH
// comes for them) and announces it.
func (w *watcher) coverSelected(m string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if st := w.mailboxes[m]; st != nil {
		st.covered, st.vouch, st.known = time.Now(), true, false
		w.emitMailbox(m, st)
	}
}

// uncover ends the real-time coverage of a mailbox no longer selected.
func (w *watcher) uncover(m string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if st := w.mailboxes[m]; st != nil {
		st.covered, st.vouch, st.known = time.Time{}, false, false
	}
}

// statusPolled handles a polled STATUS: the first one is the baseline (and
// an event: a change may have come before it), later ones an event when a
// value moved.
func (w *watcher) statusPolled(m string, v statusVals) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.mailboxes[m]
	if st == nil {
		return
	}
	if st.known && st.status == v {
		return
	}
	st.status, st.known = v, true
	w.emitMailbox(m, st)
}
