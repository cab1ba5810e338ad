package calconv

import (
	"strings"
	"testing"
	"time"
)

func filterCal(lines ...string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCALENDAR\r\n")
}

func TestEventEndsAfter(t *testing.T) {
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ev := func(extra ...string) []byte {
		l := append([]string{"BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z"}, extra...)
		return filterCal(append(l, "END:VEVENT")...)
	}
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"single before", ev("DTSTART:20261001T100000Z", "DTEND:20261001T110000Z"), false},
		{"single after", ev("DTSTART:20261101T100000Z", "DTEND:20261101T110000Z"), true},
		{"single across the start", ev("DTSTART:20261031T230000Z", "DTEND:20261101T010000Z"), true},
		{"all-day the day before", ev("DTSTART;VALUE=DATE:20261031", "DTEND;VALUE=DATE:20261101"), false},
		{"all-day the first day", ev("DTSTART;VALUE=DATE:20261101"), true},
		{"duration into the window", ev("DTSTART:20261031T200000Z", "DURATION:PT6H"), true},
		{"rule without end", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=WEEKLY"), true},
		{"rule ended before", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=DAILY;UNTIL=20261020T100000Z"), false},
		{"rule ends after", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=DAILY;UNTIL=20261120T100000Z"), true},
		{"count ended long ago", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=DAILY;COUNT=10"), false},
		{"count reaching the window", ev("DTSTART:20261025T100000Z", "DTEND:20261025T110000Z", "RRULE:FREQ=DAILY;COUNT=10"), true},
		{"rdate in the window", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RDATE:20261115T100000Z"), true},
		{"weekly count ended", ev("DTSTART:20250101T100000Z", "DTEND:20250101T110000Z", "RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=MO,WE"), false},
	}
	override := filterCal("BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z", "DTSTART:20200101T100000Z", "DTEND:20200101T110000Z",
		"RRULE:FREQ=DAILY;COUNT=2", "END:VEVENT",
		"BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z", "RECURRENCE-ID:20200102T100000Z", "DTSTART:20261110T100000Z", "DTEND:20261110T110000Z", "END:VEVENT")
	tests = append(tests, struct {
		name string
		data []byte
		want bool
	}{"override moved into the window", override, true})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EventEndsAfter(tc.data, since)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("EventEndsAfter = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := EventEndsAfter([]byte("BEGIN:VCALENDAR\r\nBROKEN"), since); err == nil {
		t.Error("broken object: no error")
	}
}

func TestTaskIncomplete(t *testing.T) {
	todo := func(extra ...string) []byte {
		l := append([]string{"BEGIN:VTODO", "UID:t", "DTSTAMP:20260101T000000Z", "SUMMARY:s"}, extra...)
		return filterCal(append(l, "END:VTODO")...)
	}
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"open", todo(), true},
		{"in process", todo("STATUS:IN-PROCESS", "PERCENT-COMPLETE:50"), true},
		{"completed status", todo("STATUS:COMPLETED"), false},
		{"completed date", todo("COMPLETED:20260102T000000Z"), false},
		{"percent", todo("PERCENT-COMPLETE:100"), false},
	}
	for _, tc := range tests {
		if got, err := TaskIncomplete(tc.data); err != nil || got != tc.want {
			t.Errorf("%s: TaskIncomplete = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
