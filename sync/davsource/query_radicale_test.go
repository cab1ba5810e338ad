package davsource

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/testenv"
)

// TestRadicaleCalendarQuery checks the time-range calendar-query against
// a real Radicale: single events, a recurring one whose later occurrence
// falls into the window, and one request per call.
func TestRadicaleCalendarQuery(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	ctx := context.Background()
	cal := r.MakeCalendar(t, "alice", "fb", "Free busy", "VEVENT")
	put := func(name string, lines ...string) {
		body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\nBEGIN:VEVENT\r\nUID:" + name +
			"\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:" + name + "\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		r.Put(t, "alice", cal+name+".ics", "text/calendar", []byte(body))
	}
	put("morning", "DTSTART:20260309T090000Z", "DTEND:20260309T100000Z")
	put("evening", "DTSTART:20260309T190000Z", "DTEND:20260309T200000Z")
	put("weekly", "DTSTART:20260202T080000Z", "DURATION:PT30M", "RRULE:FREQ=WEEKLY")
	put("past", "DTSTART:20250101T080000Z", "DURATION:PT30M")

	a, c := newCountingAccount(t, r.URL)
	tests := []struct {
		name       string
		start, end time.Time
		want       []string
	}{
		{"morning only", time.Date(2026, 3, 9, 8, 30, 0, 0, time.UTC), time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC), []string{"morning"}},
		{"whole day", time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), []string{"evening", "morning", "weekly"}},
		{"nothing", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := c.mark()
			objs, err := a.CalendarQuery(ctx, CalDAVPrefix+cal, tt.start, tt.end)
			if err != nil {
				t.Fatal(err)
			}
			if reqs := c.since(m); len(reqs) != 1 || !strings.HasPrefix(reqs[0], "REPORT ") {
				t.Errorf("requests %v, want one REPORT", reqs)
			}
			var got []string
			for _, o := range objs {
				if o.ETag == "" || !strings.Contains(string(o.Data), "\r\nEND:VCALENDAR") {
					t.Errorf("object %s: etag %q, data %q", o.Path, o.ETag, o.Data)
				}
				got = append(got, strings.TrimSuffix(o.Path[strings.LastIndexByte(o.Path, '/')+1:], ".ics"))
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := a.CalendarQuery(ctx, CardDAVPrefix+cal, time.Unix(0, 0), time.Now()); !errors.Is(err, eas.ErrNotSupported) {
		t.Errorf("address book key: %v", err)
	}
	if _, err := a.CalendarQuery(ctx, CalDAVPrefix+"/alice/missing/", time.Unix(0, 0), time.Now()); !errors.Is(err, eas.ErrNotFound) {
		t.Errorf("missing calendar: %v", err)
	}
}
