package davsource

import (
	"context"

	"easbridge/sync/source"
)

var _ source.DAVFinder = (*Account)(nil)

// FindUID returns the members of a calendar collection whose VEVENT has
// the UID uid: one RFC 4791 7.8 calendar-query REPORT (Depth 1) with a
// prop-filter on UID (RFC 4791 9.7.2, 9.7.5 text-match with the
// i;octet collation). text-match is a substring match: the caller checks
// the UID of what comes back. For MeetingResponse, which finds the
// meeting of an invitation by its UID whatever the member is named.
func (a *Account) FindUID(ctx context.Context, collection, uid string) ([]source.DAVObject, error) {
	filter := ""
	if uid != "" {
		filter = uidFilter(uid)
	}
	return a.calendarQuery(ctx, "find UID", collection, filter)
}

// uidFilter matches the VEVENTs whose UID contains uid.
func uidFilter(uid string) string {
	return `<C:prop-filter name="UID"><C:text-match collation="i;octet">` + escape(uid) + `</C:text-match></C:prop-filter>`
}
