package davsource

import (
	"context"
	"fmt"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// CalendarQuery returns the members of a calendar collection that have a
// VEVENT overlapping [start, end), with their data: one RFC 4791 7.8
// calendar-query REPORT (Depth 1) with a time-range filter (RFC 4791
// 9.9), which the server applies to every occurrence of a recurring
// event. The caller still checks the times: servers differ in how exactly
// they match. For free/busy (ResolveRecipients Availability).
func (a *Account) CalendarQuery(ctx context.Context, collection string, start, end time.Time) ([]source.DAVObject, error) {
	filter := ""
	if end.After(start) {
		filter = timeRangeFilter(start, end)
	}
	return a.calendarQuery(ctx, "calendar query", collection, filter)
}

// calendarQuery runs one RFC 4791 7.8 calendar-query REPORT (Depth 1) on a
// calendar collection with filter inside its VEVENT comp-filter and
// returns the members that came back with calendar-data. An empty filter
// means nothing can match: after the collection is checked, it returns
// nothing without asking the server.
func (a *Account) calendarQuery(ctx context.Context, op, collection, filter string) ([]source.DAVObject, error) {
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
	if filter == "" {
		return nil, nil
	}
	ms, err := a.multistatus(ctx, "REPORT", c.path, "1", calendarQueryBody(filter))
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
		if data == nil {
			continue
		}
		objs = append(objs, source.DAVObject{DAVRef: source.DAVRef{Path: href, ETag: etag}, Data: crlf(*data)})
	}
	return objs, nil
}

// calendarQueryBody is a calendar-query for the etag and calendar-data of
// the VEVENTs that match filter (the inside of the VEVENT comp-filter).
func calendarQueryBody(filter string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">` + filter +
		`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
}

// timeRangeFilter matches the VEVENTs overlapping [start, end) (RFC 4791
// 9.9: UTC date-times).
func timeRangeFilter(start, end time.Time) string {
	const f = "20060102T150405Z"
	return `<C:time-range start="` + start.UTC().Format(f) + `" end="` + end.UTC().Format(f) + `"/>`
}
