package source

import "context"

// ArrivalSearcher is implemented by mail sources that can search the
// newest messages of a mailbox cheaply. The engine uses it to recognise a
// message a MoveItems cut short already put in the destination; sources
// without it are searched with List.
type ArrivalSearcher interface {
	// Arrived returns the UIDs at or above minUID in mailbox, ascending,
	// whose Message-ID header contains messageID; every UID at or above
	// minUID when messageID is "". The view is fresh: messages another
	// session added count.
	Arrived(ctx context.Context, mailbox string, minUID uint32, messageID string) ([]uint32, error)
}
