package calconv

import (
	"testing"
	"time"
)

func TestEventLastEnd(t *testing.T) {
	ev := func(extra ...string) []byte {
		l := append([]string{"BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z"}, extra...)
		return filterCal(append(l, "END:VEVENT")...)
	}
	at := func(s string) time.Time {
		t, err := time.Parse("20060102T150405Z", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name string
		data []byte
		want time.Time // zero: no last end
	}{
		{"single", ev("DTSTART:20261001T100000Z", "DTEND:20261001T110000Z"), at("20261001T110000Z")},
		{"duration", ev("DTSTART:20261031T200000Z", "DURATION:PT6H"), at("20261101T020000Z")},
		{"until", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=DAILY;UNTIL=20261020T100000Z"), at("20261020T110000Z")},
		// COUNT is bounded, not expanded: eleven days after the start.
		{"count", ev("DTSTART:20261001T100000Z", "DTEND:20261001T110000Z", "RRULE:FREQ=DAILY;COUNT=10"), at("20261012T110000Z")},
		{"rdate later", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RDATE:20261115T100000Z"), at("20261115T110000Z")},
		{"no end", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=WEEKLY"), time.Time{}},
		{"unreadable rule", ev("DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=SOMETIMES"), time.Time{}},
		{"override later", filterCal("BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z", "DTSTART:20200101T100000Z", "DTEND:20200101T110000Z",
			"RRULE:FREQ=DAILY;COUNT=2", "END:VEVENT",
			"BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z", "RECURRENCE-ID:20200102T100000Z", "DTSTART:20261110T100000Z", "DTEND:20261110T110000Z", "END:VEVENT"),
			at("20261110T110000Z")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EventLastEnd(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("EventLastEnd = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := EventLastEnd([]byte("BEGIN:VCALENDAR\r\nBROKEN")); err == nil {
		t.Error("broken object: no error")
	}
}
