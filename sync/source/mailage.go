package source

import (
	"context"
	"time"
)

// MailAger is an optional part of Mail, found by type assertion: it finds
// the messages of a UID range older than a date, for the messages a
// Sync's FilterType window no longer includes (MS-ASCMD 2.2.3.68.2).
// Without it the engine treats messages it cannot place as deleted and
// does not age messages out.
type MailAger interface {
	// OlderThan returns the UIDs from lo to hi (inclusive) of messages
	// that exist and whose INTERNALDATE is before t, ascending.
	OlderThan(ctx context.Context, mailbox string, lo, hi uint32, t time.Time) ([]uint32, error)
}
