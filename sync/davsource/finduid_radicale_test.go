package davsource

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/testenv"
)

// TestRadicaleFindUID: one REPORT finds a meeting by UID whatever its
// member is named, UIDs with XML special characters included; a UID
// that is only part of another is returned for the caller to check
// (text-match is a substring match); address books are refused.
func TestRadicaleFindUID(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	ctx := context.Background()
	cal := r.MakeCalendar(t, "alice", "meetings", "Meetings", "VEVENT")
	put := func(name, uid string) {
		body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
			"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260309T090000Z\r\nSUMMARY:" + name + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		r.Put(t, "alice", cal+name+".ics", "text/calendar", []byte(body))
	}
	put("review", "040000008200E00074C5B7101A82E008-review")
	put("odd", "a<b>&c@example.test")
	put("long", "x-review-2@example.test")
	put("short", "review-2@example.test")

	a, c := newCountingAccount(t, r.URL)
	for _, tt := range []struct{ uid, want string }{
		{"040000008200E00074C5B7101A82E008-review", "review"},
		{"a<b>&c@example.test", "odd"},
		{"review-2@example.test", "long,short"},
		{"nobody@example.test", ""},
	} {
		m := c.mark()
		objs, err := a.FindUID(ctx, CalDAVPrefix+cal, tt.uid)
		if err != nil {
			t.Fatalf("%s: %v", tt.uid, err)
		}
		if reqs := c.since(m); len(reqs) != 1 || !strings.HasPrefix(reqs[0], "REPORT ") {
			t.Errorf("%s: requests %v, want one REPORT", tt.uid, reqs)
		}
		var got []string
		for _, o := range objs {
			if o.ETag == "" || !strings.Contains(string(o.Data), "UID:") {
				t.Errorf("%s: object %s etag %q", tt.uid, o.Path, o.ETag)
			}
			got = append(got, strings.TrimSuffix(o.Path[strings.LastIndexByte(o.Path, '/')+1:], ".ics"))
		}
		slices.Sort(got)
		if strings.Join(got, ",") != tt.want {
			t.Errorf("%s: found %v, want %s", tt.uid, got, tt.want)
		}
	}
	if _, err := a.FindUID(ctx, CardDAVPrefix+"/alice/contacts/", "x"); !errors.Is(err, eas.ErrNotSupported) {
		t.Errorf("address book: %v", err)
	}
}
