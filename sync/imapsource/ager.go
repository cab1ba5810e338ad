package imapsource

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"

	"easbridge/sync/source"
)

var _ source.MailAger = (*Account)(nil)

// OlderThan implements source.MailAger after a NOOP (so that expunges by
// other sessions are seen): UID SEARCH UID lo:hi BEFORE d-1 for the
// messages surely older than t, and UID SEARCH UID lo:hi SINCE d-1
// BEFORE d+2 for the days around t, whose exact INTERNALDATE one UID
// FETCH checks (IMAP compares dates in the server's time zone, RFC 3501
// §6.4.4).
func (a *Account) OlderThan(ctx context.Context, mailbox string, lo, hi uint32, t time.Time) ([]uint32, error) {
	const op = "search older"
	if err := checkMailbox(op, mailbox); err != nil {
		return nil, err
	}
	lo = max(lo, 1)
	if hi < lo {
		return nil, nil
	}
	day := t.UTC().Truncate(24 * time.Hour)
	rng := []imap.UIDSet{{imap.UIDRange{Start: imap.UID(lo), Stop: imap.UID(hi)}}}
	sure := &imap.SearchCriteria{UID: rng, Before: day.AddDate(0, 0, -1)}
	border := &imap.SearchCriteria{UID: rng, Since: day.AddDate(0, 0, -1), Before: day.AddDate(0, 0, 2)}
	var uids []uint32
	err := a.withPC(ctx, func(pc *poolConn) error {
		if err := a.ensureSelected(pc, mailbox, false, nil); err != nil {
			return err
		}
		if err := pc.c.Noop().Wait(); err != nil {
			return err
		}
		// One after the other: an untagged SEARCH answer does not say
		// which of two pipelined searches it belongs to.
		sd, err := pc.c.UIDSearch(sure, nil).Wait()
		if err != nil {
			return err
		}
		bd, err := pc.c.UIDSearch(border, nil).Wait()
		if err != nil {
			return err
		}
		uids = uidsOf(sd.AllUIDs())
		near := uidsOf(bd.AllUIDs())
		if len(near) == 0 {
			return nil
		}
		states, err := fetchStates(pc.c, uidChunks(sortUnique(near)), &imap.FetchOptions{UID: true, InternalDate: true})
		if err != nil {
			return err
		}
		for _, s := range states {
			if s.InternalDate.Before(t) {
				uids = append(uids, s.UID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(ctx, fmt.Sprintf("%s %q", op, mailbox), err)
	}
	out := slices.DeleteFunc(sortUnique(uids), func(u uint32) bool { return u < lo || u > hi })
	return out, nil
}
