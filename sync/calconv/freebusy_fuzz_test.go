package calconv

import (
	"testing"
	"time"
)

// FuzzBusyPeriods reads random objects as free/busy over a week: no
// panic (recurrence expansion included), periods inside the window and
// statuses that are MergedFreeBusy digits; ParseCard on the same bytes
// must not panic either.
func FuzzBusyPeriods(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add(fbEvent(vevent("DTSTART;TZID=Europe/Berlin:20260328T090000", "DURATION:PT30M", "RRULE:FREQ=DAILY;BYSETPOS=-1;BYDAY=MO,TU", "EXDATE:20260330T070000Z")...))
	f.Add(fbEvent(vevent("DTSTART:20260309T090000Z", "RRULE:FREQ=SECONDLY;COUNT=100000")...))
	from := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 7)
	f.Fuzz(func(t *testing.T, data []byte) {
		recoverPanics = false
		defer func() { recoverPanics = true }()
		defer slow(t, time.Now())
		_, _ = ParseCard(data)
		ps, err := BusyPeriods(data, from, to, fbUser)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.End.After(from) || !p.Start.Before(to) || !p.End.After(p.Start) || p.Status < FreeBusyTentative || p.Status > FreeBusyOOF {
				t.Fatalf("period %+v outside the window or with a bad status", p)
			}
		}
		if s := MergedFreeBusy(ps, from, to); len(s) != 7*48 {
			t.Fatalf("%d digits", len(s))
		}
	})
}
