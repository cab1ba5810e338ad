package watch

import (
	"context"
	"slices"
	"time"
)

// davLoop polls the sync-token (RFC 6578) or CTag of every watched
// collection every DAVInterval, and a newly watched one at once: a token
// that moved is an event, and so is the first one (a change may have come
// between the subscription and it). A collection stays polled for Grace
// after its last subscription ends (a phone's Sync between two Pings),
// then it is dropped. Errors are logged and retried at the next tick.
func (w *watcher) davLoop() {
	defer w.exitLoop()
	t := time.NewTicker(w.h.opts.DAVInterval)
	defer t.Stop()
	all := false // the first round only takes the baselines
	for {
		w.pollDAV(all)
		select {
		case <-t.C:
			all = true
		case <-w.wakeDAV:
			all = false
		case <-w.ctx.Done():
			return
		}
	}
}

// pollDAV asks for the tokens of every collection (all) or only of those
// without one yet.
func (w *watcher) pollDAV(all bool) {
	w.mu.Lock()
	fn := w.acct.DAVToken
	now := time.Now()
	var todo []string
	for c, st := range w.collections {
		switch {
		case st.refs == 0 && now.Sub(st.released) > w.h.opts.Grace:
			delete(w.collections, c)
		case all || !st.known:
			todo = append(todo, c)
		}
	}
	w.mu.Unlock()
	slices.Sort(todo)
	for _, c := range todo {
		ctx, cancel := context.WithTimeout(w.ctx, w.h.opts.CommandTimeout)
		tok, err := fn(ctx, c)
		cancel()
		if w.ctx.Err() != nil {
			return
		}
		if err != nil {
			w.log.Debug("watch: DAV token", "collection", c, "err", err)
			continue
		}
		w.mu.Lock()
		if st := w.collections[c]; st != nil && (!st.known || st.token != tok) {
			st.token, st.known = tok, true
			w.emitCollection(c)
		}
		w.mu.Unlock()
	}
}
