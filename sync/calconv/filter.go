package calconv

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sync filters (MS-ASCMD 2.2.3.70.1 FilterType): the engine asks these
// before sending a stored object to a device whose Sync is filtered.

// EventEndsAfter reports whether any occurrence of the stored event (a
// VCALENDAR with a VEVENT and its overrides) can end after since: a
// single event that ends after it, a recurring one whose rule has no end
// or ends after it (COUNT is bounded generously rather than expanded),
// an RDATE or an override after it.
func EventEndsAfter(data []byte, since time.Time) (ok bool, err error) {
	last, err := EventLastEnd(data)
	if err != nil {
		return false, err
	}
	return last.IsZero() || last.After(since), nil
}

// EventLastEnd is a time no occurrence of the stored event ends after
// (see EventEndsAfter); zero when there is none (a rule without end, or
// one it cannot read).
func EventLastEnd(data []byte) (last time.Time, err error) {
	defer guard(&err, "event filter")
	root, err := parseObject(data)
	if err != nil {
		return time.Time{}, fmt.Errorf("calconv: Calendar: %w", err)
	}
	master, overrides, err := splitEvents(root)
	if err != nil {
		return time.Time{}, fmt.Errorf("calconv: Calendar: %w", err)
	}
	cal := newCalendar(root)
	ev, err := readEvent(cal, master, true)
	if err != nil {
		return time.Time{}, fmt.Errorf("calconv: Calendar: %w", err)
	}
	later := func(t time.Time) {
		if t.After(last) {
			last = t
		}
	}
	later(ev.end)
	for _, o := range overrides {
		if x, err := readEvent(cal, o, false); err == nil {
			later(x.end)
		}
	}
	dur := ev.end.Sub(ev.start)
	for _, t := range cal.timeList(master, "RDATE") {
		later(t.t.Add(dur))
	}
	p := master.get("RRULE")
	if p == nil {
		return last, nil
	}
	r, err := parseRRule(p.Value)
	if err != nil {
		return time.Time{}, nil // an unreadable rule: rather too much than too little
	}
	switch {
	case r.until != "":
		u := untilOf(cal, r.until, ev)
		if u.IsZero() {
			return time.Time{}, nil
		}
		later(u.Add(dur))
		return last, nil
	case r.count > 0:
		later(lastBound(ev.start, r).Add(dur))
		return last, nil
	}
	return time.Time{}, nil // no end
}

// lastBound is a time no occurrence of a COUNT-limited rule starting at
// start comes after: count periods of the rule's frequency and interval
// (each period holds at least one occurrence, except monthly and yearly
// rules on days some periods lack, which get a year more).
func lastBound(start time.Time, r *rrule) time.Time {
	n := r.count * r.interval
	switch r.freq {
	case "SECONDLY", "MINUTELY", "HOURLY", "DAILY":
		return start.AddDate(0, 0, n+1)
	case "WEEKLY":
		return start.AddDate(0, 0, 7*(n+1))
	case "MONTHLY":
		return start.AddDate(1, n+1, 0)
	}
	return start.AddDate(n+2, 0, 0)
}

// TaskIncomplete reports whether the stored VTODO is not complete
// (FilterType 8, incomplete tasks only).
func TaskIncomplete(data []byte) (ok bool, err error) {
	defer guard(&err, "task filter")
	root, err := parseObject(data)
	if err != nil {
		return false, fmt.Errorf("calconv: Tasks: %w", err)
	}
	c, err := mainComponent(root, "VTODO")
	if err != nil {
		return false, fmt.Errorf("calconv: Tasks: %w", err)
	}
	pc, _ := strconv.Atoi(strings.TrimSpace(c.text("PERCENT-COMPLETE")))
	done := strings.EqualFold(c.text("STATUS"), "COMPLETED") || c.get("COMPLETED") != nil || pc == 100
	return !done, nil
}
