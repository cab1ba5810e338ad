package imapsource

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"

	"easbridge/sync/source"
)

var _ source.ArrivalSearcher = (*Account)(nil)

// Arrived implements source.ArrivalSearcher: UID SEARCH UID minUID:*
// [HEADER Message-ID …] (RFC 3501 §6.4.4) after a NOOP, so that messages
// another session stored meanwhile are seen. "minUID:*" also matches the
// highest UID when every UID is below minUID (RFC 3501 §6.4.8: "*" is the
// largest UID in use), so the answer is filtered.
func (a *Account) Arrived(ctx context.Context, mailbox string, minUID uint32, messageID string) ([]uint32, error) {
	const op = "search arrivals"
	if err := checkMailbox(op, mailbox); err != nil {
		return nil, err
	}
	minUID = max(minUID, 1)
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(minUID), Stop: 0}}}}
	if messageID != "" {
		crit.Header = []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: messageID}}
	}
	var uids []uint32
	err := a.withPC(ctx, func(pc *poolConn) error {
		if err := a.ensureSelected(pc, mailbox, false, nil); err != nil {
			return err
		}
		if err := pc.c.Noop().Wait(); err != nil {
			return err
		}
		sd, err := pc.c.UIDSearch(crit, nil).Wait()
		if err != nil {
			return err
		}
		for _, u := range uidsOf(sd.AllUIDs()) {
			if u >= minUID {
				uids = append(uids, u)
			}
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(ctx, fmt.Sprintf("%s %q", op, mailbox), err)
	}
	return sortUnique(uids), nil
}
