package engine

import (
	"context"
	"fmt"
	"time"

	"easbridge/sync/source"
)

// Messages outside an Email Sync's FilterType window: MS-ASCMD 2.2.3.68.2
// ("the server sends SoftDelete operations for objects on the client when
// they become older than the window") and 2.2.3.160 SoftDelete.
//
// Implementation notes:
//   - A message the device has that is to leave it because of the window
//     is queued as a soft deletion (pending.Soft) and sent as SoftDelete;
//     a message that no longer exists stays a Delete.
//   - After a FilterType change the full comparison lists the new window
//     only; the view's UIDs missing from it are looked up with one
//     source.MailAger search (UIDs of the range older than the window):
//     found ones are soft deletions, the others were expunged.
//   - Ageing with an unchanged filter: at most once per ageCheckEvery per
//     collection (mailState.AgedAt, by the engine's clock), one search of
//     the view's UID range queues the messages that became older than the
//     window. The CONDSTORE no-change shortcut is skipped when it is due.
//   - Without MailAger (fakes, other sources) missing messages are Deletes
//     and nothing ages out until the filter changes.

// ageCheckEvery is how often a filtered view is checked for messages that
// aged out of the window.
const ageCheckEvery = time.Hour

// ageDue reports whether this Sync should look for messages that aged out.
func (m *mailSync) ageDue() bool {
	st := m.st
	if !st.Primed || st.Filter != m.req.Options.FilterType || filterSince(st.Filter, m.now).IsZero() {
		return false
	}
	if _, ok := m.s.l.mail.(source.MailAger); !ok {
		return false
	}
	return m.now.Sub(time.Unix(0, st.AgedAt)) >= ageCheckEvery
}

// ageOut queues the messages of the view that became older than the window
// as soft deletions.
func (m *mailSync) ageOut(ctx context.Context) error {
	if !m.ageDue() {
		return nil
	}
	st := m.st
	since := filterSince(st.Filter, m.now)
	var lo, hi uint32
	st.View.Each(func(uid, _ uint32) {
		if lo == 0 {
			lo = uid
		}
		hi = uid
	})
	st.AgedAt, m.dirty = m.now.UnixNano(), true
	if hi == 0 {
		return nil
	}
	old, err := m.s.l.mail.(source.MailAger).OlderThan(ctx, m.mailbox, lo, hi, since)
	if err != nil {
		return fmt.Errorf("engine: messages of %s older than %s: %w", m.mailbox, since.Format(time.DateOnly), err)
	}
	for _, uid := range old {
		if p, ok := st.Pending[uid]; st.View.Has(uid) && (!ok || !p.Deleted) {
			st.Pending[uid] = pending{Deleted: true, Soft: true}
		}
	}
	return nil
}

// outsideWindow returns which of missing (view UIDs absent from the
// window's list, ascending) still exist: older than since, to be soft
// deleted. Without MailAger or a window, none.
func (m *mailSync) outsideWindow(ctx context.Context, missing []uint32, since time.Time) (map[uint32]bool, error) {
	ager, ok := m.s.l.mail.(source.MailAger)
	if !ok || since.IsZero() || len(missing) == 0 {
		return nil, nil
	}
	old, err := ager.OlderThan(ctx, m.mailbox, missing[0], missing[len(missing)-1], since)
	if err != nil {
		return nil, fmt.Errorf("engine: messages of %s older than %s: %w", m.mailbox, since.Format(time.DateOnly), err)
	}
	set := make(map[uint32]bool, len(old))
	for _, u := range old {
		set[u] = true
	}
	return set, nil
}

// keepSoft restores a queued soft deletion of uid after a client change
// of the message replaced it: the message still leaves the device.
func (m *mailSync) keepSoft(uid uint32) func() {
	p, ok := m.st.Pending[uid]
	if !ok || !p.Soft {
		return func() {}
	}
	return func() { m.st.Pending[uid] = p }
}
