package davsource

import (
	"context"
	"fmt"
	"strings"

	"easbridge/server/eas"
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
	const op = "find UID"
	if err := a.check(); err != nil {
		return nil, err
	}
	c, err := parseCollection(collection)
	if err != nil {
		return nil, err
	}
	if c.card {
		return nil, fmt.Errorf("davsource: %s: %s is an address book: %w", op, c.key, eas.ErrNotSupported)
	}
	if uid == "" {
		return nil, nil
	}
	ms, err := a.multistatus(ctx, "REPORT", c.path, "1", uidQueryBody(uid))
	if err != nil {
		return nil, mapErr(ctx, op, err, eas.ErrNotFound)
	}
	var objs []source.DAVObject
	for _, r := range ms.Responses {
		if len(r.Hrefs) != 1 {
			continue
		}
		href := a.hrefOf(c, r.Hrefs[0])
		if _, err := c.member(href); err != nil {
			continue // the collection itself, or something outside it
		}
		var data *string
		etag := ""
		for _, p := range r.okProps() {
			if p.GetETag != nil {
				etag = strings.TrimSpace(*p.GetETag)
			}
			if p.CalendarData != nil {
				data = p.CalendarData
			}
		}
		if data != nil {
			objs = append(objs, source.DAVObject{DAVRef: source.DAVRef{Path: href, ETag: etag}, Data: crlf(*data)})
		}
	}
	return objs, nil
}

// uidQueryBody is a calendar-query for the VEVENTs whose UID contains uid.
func uidQueryBody(uid string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">` +
		`<C:prop-filter name="UID"><C:text-match collation="i;octet">` + escape(uid) + `</C:text-match></C:prop-filter>` +
		`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
}
