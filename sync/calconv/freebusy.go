package calconv

import (
	"fmt"
	"sort"
	"strings"
	"time"

	rrulego "github.com/teambition/rrule-go"
)

// Free/busy for ResolveRecipients Availability (MS-ASCMD 2.2.3.16,
// 2.2.3.107 MergedFreeBusy).
//
// Implementation notes:
//   - An event's status is its BusyStatus as the Calendar conversion reads
//     it (X-MICROSOFT-CDO-BUSYSTATUS, else TRANSP); STATUS:TENTATIVE and
//     the user's own PARTSTAT TENTATIVE or NEEDS-ACTION lower busy and
//     out-of-office to tentative; STATUS:CANCELLED and the user's DECLINED
//     drop the event. "Working elsewhere" counts as free: MergedFreeBusy
//     has no digit for it (4 means "no data").
//   - Recurrences are expanded in wall-clock time of DTSTART's zone (so a
//     09:00 meeting stays at 09:00 across DST changes) by rrule-go, then
//     each occurrence is turned into an instant; UNTIL is read as the
//     Calendar conversion reads it. EXDATEs and RECURRENCE-ID overrides
//     remove occurrences, overrides add their own times; RDATEs add
//     occurrences. Expansion stops at the end of the window or after
//     maxExpansion occurrences.
//   - All-day and floating events have no zone of their own; they are read
//     in UTC (the user's zone is not known here).

// Free/busy digits of MergedFreeBusy (MS-ASCMD 2.2.3.107).
const (
	FreeBusyFree      = 0
	FreeBusyTentative = 1
	FreeBusyBusy      = 2
	FreeBusyOOF       = 3
	FreeBusyNoData    = 4
)

// FreeBusySlot is the length of one MergedFreeBusy digit.
const FreeBusySlot = 30 * time.Minute

// MaxFreeBusyDigits is the longest MergedFreeBusy string (32 KB,
// MS-ASCMD 2.2.3.107): a longer window is cut, the client asks again.
const MaxFreeBusyDigits = 32 << 10

// maxExpansion bounds the occurrences one recurring event is expanded to.
const maxExpansion = 100000

// BusyPeriod is a time the user is not free.
type BusyPeriod struct {
	Start, End time.Time
	Status     int // FreeBusyTentative, FreeBusyBusy or FreeBusyOOF
}

// BusyPeriods returns the periods of one stored calendar object (a
// VCALENDAR with a VEVENT, its overrides) that overlap [from, to) and are
// not free. userAddress is the user's address, to find the user's own
// answer to a meeting.
func BusyPeriods(data []byte, from, to time.Time, userAddress string) (out []BusyPeriod, err error) {
	defer guard(&err, "free/busy")
	root, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("calconv: free/busy: %w", err)
	}
	master, overrides, err := splitEvents(root)
	if err != nil {
		return nil, fmt.Errorf("calconv: free/busy: %w", err)
	}
	cal := newCalendar(root)
	m, err := readEvent(cal, master, true)
	if err != nil {
		return nil, fmt.Errorf("calconv: free/busy: %w", err)
	}
	add := func(ev *eventData, start, end time.Time) {
		st := eventFreeBusy(ev, userAddress)
		if st == FreeBusyFree || !end.After(from) || !start.Before(to) {
			return
		}
		if !end.After(start) {
			return // zero length: blocks nothing
		}
		out = append(out, BusyPeriod{Start: start, End: end, Status: st})
	}
	if master.get("RRULE") == nil && master.get("RDATE") == nil {
		add(m, m.start, m.end)
	} else {
		skip := map[int64]bool{}
		for _, o := range occurrences(cal, m, overrides) {
			skip[o.orig.Unix()] = true
		}
		starts, err := expand(cal, m, to)
		if err != nil {
			return nil, fmt.Errorf("calconv: free/busy: %w", err)
		}
		dur := m.end.Sub(m.start)
		for _, s := range starts {
			if skip[s.Unix()] {
				continue
			}
			end := s.Add(dur)
			if m.allDay {
				end = s.AddDate(0, 0, int(dur/(24*time.Hour)))
			}
			add(m, s, end)
		}
	}
	for _, c := range overrides {
		ov, err := readEvent(cal, c, false)
		if err != nil {
			continue
		}
		add(ov, ov.start, ov.end)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// eventFreeBusy is the MergedFreeBusy digit of one event or occurrence
// for the user.
func eventFreeBusy(ev *eventData, userAddress string) int {
	if ev.cancelled {
		return FreeBusyFree
	}
	st := ev.busy
	if st > FreeBusyOOF {
		st = FreeBusyFree // working elsewhere
	}
	tentative := strings.EqualFold(ev.comp.text("STATUS"), "TENTATIVE")
	if userAddress != "" {
		for _, a := range ev.attendees {
			if !sameAddr(a.email, userAddress) {
				continue
			}
			switch a.status {
			case 4: // declined
				return FreeBusyFree
			case 2, 5: // tentative, not responded
				tentative = true
			}
			break
		}
	}
	if tentative && st > FreeBusyTentative {
		st = FreeBusyTentative
	}
	return st
}

// expand returns the starts (instants) of a recurring master's
// occurrences before to: RRULE and RDATE, in DTSTART's zone.
func expand(cal *calendar, m *eventData, to time.Time) ([]time.Time, error) {
	var out []time.Time
	if m.start.Before(to) {
		// DTSTART is the first instance (RFC 5545 3.8.5.3), also when the
		// rule would not produce it.
		out = append(out, m.start)
	}
	if p := m.comp.get("RRULE"); p != nil {
		r, err := parseRRule(p.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		opt, err := rrulego.StrToROptionInLocation(strings.TrimSpace(p.Value), time.UTC)
		if err != nil {
			return nil, fmt.Errorf("%w: RRULE %q: %v", ErrInvalid, p.Value, err)
		}
		opt.Dtstart = m.zone.wall(m.start)
		// Nothing after the window is needed: ending the rule there (with
		// a margin for the zone's offset) also ends rules that never
		// match (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31) instead of scanning
		// to the year 9999. COUNT still counts from DTSTART.
		opt.Until = m.zone.wall(to).Add(48 * time.Hour)
		if r.until != "" {
			if u := untilOf(cal, r.until, m); !u.IsZero() && m.zone.wall(u).Before(opt.Until) {
				opt.Until = m.zone.wall(u)
			}
		}
		rr, err := rrulego.NewRRule(*opt)
		if err != nil {
			return nil, fmt.Errorf("%w: RRULE %q: %v", ErrInvalid, p.Value, err)
		}
		next := rr.Iterator()
		for i := 0; i < maxExpansion; i++ {
			w, ok := next()
			if !ok {
				break
			}
			s := m.zone.instant(w)
			if m.allDay {
				s = w
			}
			if !s.Before(to) {
				break
			}
			if !s.Equal(m.start) {
				out = append(out, s)
			}
		}
	}
	for _, it := range cal.timeList(m.comp, "RDATE") {
		s := origOf(it, m)
		if s.Before(to) {
			out = append(out, s)
		}
	}
	return out, nil
}

// MergedFreeBusy renders periods as the MergedFreeBusy string of the
// window [start, end): one digit per FreeBusySlot, the highest digit of
// the periods touching a slot (MS-ASCMD 2.2.3.107), at most
// MaxFreeBusyDigits. A window that is not a whole number of slots gets a
// digit for its last partial slot.
func MergedFreeBusy(periods []BusyPeriod, start, end time.Time) string {
	if !end.After(start) {
		return ""
	}
	n := int((end.Sub(start) + FreeBusySlot - 1) / FreeBusySlot)
	n = min(n, MaxFreeBusyDigits)
	digits := make([]byte, n)
	for i := range digits {
		digits[i] = '0'
	}
	for _, p := range periods {
		if !p.End.After(start) || !p.Start.Before(end) {
			continue
		}
		first := int(max(p.Start.Sub(start), 0) / FreeBusySlot)
		last := int((p.End.Sub(start) - 1) / FreeBusySlot) // slot holding the last instant
		d := byte('0' + p.Status)
		for i := max(first, 0); i <= last && i < n; i++ {
			if d > digits[i] {
				digits[i] = d
			}
		}
	}
	return string(digits)
}
