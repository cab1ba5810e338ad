package calconv

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// rrule is a parsed RRULE (RFC 5545 3.3.10), restricted to the parts EAS
// can express; anything else sets lossy.
type rrule struct {
	freq       string
	interval   int
	count      int
	until      string // raw UNTIL value
	byDay      []weekdayNum
	byMonthDay []int
	byMonth    []int
	bySetPos   []int
	wkst       int  // 0 = Sunday … 6 = Saturday; -1 unset
	lossy      bool // parts EAS cannot express (BYHOUR, BYWEEKNO, …)
}

type weekdayNum struct {
	n  int // 0 = every; 1…53, -1…-53
	wd int // 0 = Sunday
}

func parseByDay(v string) (n, wd int, ok bool) {
	v = strings.TrimSpace(strings.ToUpper(v))
	if len(v) < 2 {
		return 0, 0, false
	}
	code := v[len(v)-2:]
	wd = -1
	for i, c := range weekdayCodes {
		if c == code {
			wd = i
		}
	}
	if wd < 0 {
		return 0, 0, false
	}
	if num := v[:len(v)-2]; num != "" {
		x, err := strconv.Atoi(num)
		if err != nil || x == 0 || x > 53 || x < -53 {
			return 0, 0, false
		}
		n = x
	}
	return n, wd, true
}

func parseIntList(v string, lo, hi int) ([]int, bool) {
	var out []int
	for _, s := range strings.Split(v, ",") {
		x, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || x < lo || x > hi || x == 0 {
			return nil, false
		}
		out = append(out, x)
	}
	return out, true
}

func parseRRule(v string) (*rrule, error) {
	r := &rrule{interval: 1, wkst: -1}
	for _, part := range strings.Split(strings.TrimSpace(v), ";") {
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("calconv: RRULE part %q", part)
		}
		k = strings.ToUpper(k)
		switch k {
		case "FREQ":
			r.freq = strings.ToUpper(val)
		case "INTERVAL":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("calconv: RRULE INTERVAL %q", val)
			}
			r.interval = n
		case "COUNT":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("calconv: RRULE COUNT %q", val)
			}
			r.count = n
		case "UNTIL":
			r.until = val
		case "BYDAY":
			for _, d := range strings.Split(val, ",") {
				n, wd, ok := parseByDay(d)
				if !ok {
					return nil, fmt.Errorf("calconv: RRULE BYDAY %q", val)
				}
				r.byDay = append(r.byDay, weekdayNum{n, wd})
			}
		case "BYMONTHDAY":
			l, ok := parseIntList(val, -31, 31)
			if !ok {
				return nil, fmt.Errorf("calconv: RRULE BYMONTHDAY %q", val)
			}
			r.byMonthDay = l
		case "BYMONTH":
			l, ok := parseIntList(val, 1, 12)
			if !ok {
				return nil, fmt.Errorf("calconv: RRULE BYMONTH %q", val)
			}
			r.byMonth = l
		case "BYSETPOS":
			l, ok := parseIntList(val, -366, 366)
			if !ok {
				return nil, fmt.Errorf("calconv: RRULE BYSETPOS %q", val)
			}
			r.bySetPos = l
		case "WKST":
			_, wd, ok := parseByDay(val)
			if !ok {
				return nil, fmt.Errorf("calconv: RRULE WKST %q", val)
			}
			r.wkst = wd
		default:
			r.lossy = true // BYHOUR, BYMINUTE, BYSECOND, BYWEEKNO, BYYEARDAY, RSCALE, SKIP…
		}
	}
	switch r.freq {
	case "DAILY", "WEEKLY", "MONTHLY", "YEARLY":
	case "":
		return nil, fmt.Errorf("calconv: RRULE without FREQ")
	default:
		r.lossy = true
	}
	return r, nil
}

// recurrence is the EAS Recurrence (MS-ASCAL 2.2.2.37, MS-ASTASK
// 2.2.2.20).
type recurrence struct {
	Type           int // 0 daily, 1 weekly, 2 monthly, 3 monthly nth, 5 yearly, 6 yearly nth
	Interval       int
	Occurrences    int
	Until          time.Time // zero: none
	DayOfWeek      int       // bitmask, Sunday = 1 … Saturday = 64
	DayOfMonth     int
	WeekOfMonth    int // 1–4, 5 = last
	MonthOfYear    int
	FirstDayOfWeek int // -1 unset
	// Tasks only.
	Start      time.Time
	Regenerate bool
	DeadOccur  bool
}

const allDays = 127

func dayMask(days []weekdayNum) int {
	m := 0
	for _, d := range days {
		m |= 1 << d.wd
	}
	return m
}

func maskDays(m int) []int {
	var out []int
	for i := 0; i < 7; i++ {
		if m&(1<<i) != 0 {
			out = append(out, i)
		}
	}
	return out
}

// toEAS maps r to the EAS recurrence for an event starting at wall time
// start. exact is false when the EAS form is only an approximation (the
// stored RRULE is then kept as long as the client does not change the
// recurrence). ok is false for rules EAS cannot approximate (HOURLY…).
func (r *rrule) toEAS(start time.Time) (rec recurrence, exact, ok bool) {
	rec = recurrence{Interval: r.interval, Occurrences: r.count, FirstDayOfWeek: r.wkst}
	exact = !r.lossy
	nthDays := func() (mask, week int, good bool) {
		// Type 3/6: one "nth weekday" (BYDAY=2TU), or a set of weekdays
		// with one BYSETPOS (BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1).
		switch {
		case len(r.byDay) == 1 && r.byDay[0].n != 0 && len(r.bySetPos) == 0:
			mask, week = 1<<r.byDay[0].wd, r.byDay[0].n
		case len(r.byDay) > 0 && allPlain(r.byDay) && len(r.bySetPos) == 1:
			mask, week = dayMask(r.byDay), r.bySetPos[0]
		default:
			mask, week = dayMask(r.byDay), 1
			for _, d := range r.byDay {
				if d.n != 0 {
					week = d.n
					break
				}
			}
			return mask, clampWeek(week), false
		}
		// WeekOfMonth has 1–4 and 5 (= last): a fifth or a
		// second-to-last weekday is approximated by "last".
		return mask, clampWeek(week), week >= -1 && week <= 4
	}
	switch r.freq {
	case "DAILY":
		rec.Type = 0
		if len(r.byDay) > 0 {
			// Every weekday: weekly with a day mask, exact for INTERVAL=1.
			rec.Type, rec.DayOfWeek = 1, dayMask(r.byDay)
			if r.interval != 1 || !allPlain(r.byDay) {
				exact = false
			}
		}
		if len(r.byMonthDay) > 0 || len(r.byMonth) > 0 || len(r.bySetPos) > 0 {
			exact = false
		}
	case "WEEKLY":
		rec.Type = 1
		rec.DayOfWeek = dayMask(r.byDay)
		if len(r.byDay) == 0 {
			rec.DayOfWeek = 1 << int(start.Weekday())
		}
		if !allPlain(r.byDay) || len(r.byMonthDay) > 0 || len(r.byMonth) > 0 || len(r.bySetPos) > 0 {
			exact = false
		}
	case "MONTHLY":
		if len(r.byMonth) > 0 {
			exact = false
		}
		switch {
		case len(r.byDay) > 0:
			rec.Type = 3
			var good bool
			rec.DayOfWeek, rec.WeekOfMonth, good = nthDays()
			if !good || len(r.byMonthDay) > 0 {
				exact = false
			}
		case len(r.byMonthDay) == 1 && r.byMonthDay[0] == -1 && len(r.bySetPos) == 0:
			rec.Type, rec.DayOfWeek, rec.WeekOfMonth = 3, allDays, 5 // last day of the month
		case len(r.byMonthDay) > 0:
			rec.Type, rec.DayOfMonth = 2, firstPositive(r.byMonthDay, start.Day())
			if len(r.byMonthDay) != 1 || r.byMonthDay[0] < 0 || len(r.bySetPos) > 0 {
				exact = false
			}
		default:
			rec.Type, rec.DayOfMonth = 2, start.Day()
			if len(r.bySetPos) > 0 {
				exact = false
			}
		}
	case "YEARLY":
		rec.MonthOfYear = int(start.Month())
		if len(r.byMonth) > 0 {
			rec.MonthOfYear = r.byMonth[0]
			if len(r.byMonth) > 1 {
				exact = false
			}
		}
		switch {
		case len(r.byDay) > 0:
			rec.Type = 6
			var good bool
			rec.DayOfWeek, rec.WeekOfMonth, good = nthDays()
			if !good || len(r.byMonthDay) > 0 || len(r.byMonth) == 0 {
				exact = false
			}
		case len(r.byMonthDay) == 1 && r.byMonthDay[0] == -1 && len(r.bySetPos) == 0:
			rec.Type, rec.DayOfWeek, rec.WeekOfMonth = 6, allDays, 5
		case len(r.byMonthDay) > 0:
			rec.Type, rec.DayOfMonth = 5, firstPositive(r.byMonthDay, start.Day())
			if len(r.byMonthDay) != 1 || r.byMonthDay[0] < 0 || len(r.bySetPos) > 0 {
				exact = false
			}
		default:
			rec.Type, rec.DayOfMonth = 5, start.Day()
			if len(r.bySetPos) > 0 {
				exact = false
			}
		}
	default:
		return rec, false, false
	}
	return rec, exact, true
}

func allPlain(days []weekdayNum) bool {
	for _, d := range days {
		if d.n != 0 {
			return false
		}
	}
	return true
}

func firstPositive(l []int, def int) int {
	for _, x := range l {
		if x > 0 {
			return x
		}
	}
	return def
}

// clampWeek maps an RRULE ordinal to WeekOfMonth: -1 (last) and 5 (the
// fifth, which EAS cannot say) become 5, other negative ordinals 5 too.
func clampWeek(n int) int {
	switch {
	case n >= 1 && n <= 4:
		return n
	default:
		return 5
	}
}

// rruleValue writes the RRULE for rec; start is the event's wall start
// (for defaults), until the already formatted UNTIL value ("" = none).
func (rec *recurrence) rruleValue(start time.Time, until string) (string, error) {
	var parts []string
	nth := func() []string {
		days := maskDays(rec.DayOfWeek)
		w := rec.WeekOfMonth
		if w == 5 {
			w = -1
		}
		if w == 0 {
			w = 1
		}
		if rec.DayOfWeek&allDays == allDays {
			return []string{"BYMONTHDAY=" + strconv.Itoa(w)}
		}
		if len(days) == 1 {
			return []string{"BYDAY=" + strconv.Itoa(w) + weekdayCodes[days[0]]}
		}
		return []string{"BYDAY=" + dayList(days), "BYSETPOS=" + strconv.Itoa(w)}
	}
	dom := rec.DayOfMonth
	if dom < 1 || dom > 31 {
		dom = start.Day()
	}
	moy := rec.MonthOfYear
	if moy < 1 || moy > 12 {
		moy = int(start.Month())
	}
	switch rec.Type {
	case 0:
		parts = append(parts, "FREQ=DAILY")
		if rec.DayOfWeek&allDays != 0 && rec.DayOfWeek&allDays != allDays {
			parts = append(parts, "BYDAY="+dayList(maskDays(rec.DayOfWeek)))
		}
	case 1:
		parts = append(parts, "FREQ=WEEKLY")
		days := maskDays(rec.DayOfWeek & allDays)
		if len(days) == 0 {
			days = []int{int(start.Weekday())}
		}
		parts = append(parts, "BYDAY="+dayList(days))
	case 2:
		parts = append(parts, "FREQ=MONTHLY", "BYMONTHDAY="+strconv.Itoa(dom))
	case 3:
		if rec.DayOfWeek&allDays == 0 {
			return "", fmt.Errorf("calconv: Recurrence Type 3 without DayOfWeek")
		}
		parts = append(parts, "FREQ=MONTHLY")
		parts = append(parts, nth()...)
	case 5:
		parts = append(parts, "FREQ=YEARLY", "BYMONTH="+strconv.Itoa(moy), "BYMONTHDAY="+strconv.Itoa(dom))
	case 6:
		if rec.DayOfWeek&allDays == 0 {
			return "", fmt.Errorf("calconv: Recurrence Type 6 without DayOfWeek")
		}
		parts = append(parts, "FREQ=YEARLY", "BYMONTH="+strconv.Itoa(moy))
		parts = append(parts, nth()...)
	default:
		return "", fmt.Errorf("calconv: Recurrence Type %d", rec.Type)
	}
	if rec.Interval > 1 {
		parts = append(parts, "INTERVAL="+strconv.Itoa(rec.Interval))
	}
	if rec.Occurrences > 0 {
		parts = append(parts, "COUNT="+strconv.Itoa(rec.Occurrences))
	} else if until != "" {
		parts = append(parts, "UNTIL="+until)
	}
	if rec.FirstDayOfWeek >= 0 && rec.FirstDayOfWeek <= 6 && rec.FirstDayOfWeek != 1 {
		// Monday is RFC 5545's default WKST: not written.
		parts = append(parts, "WKST="+weekdayCodes[rec.FirstDayOfWeek])
	}
	return strings.Join(parts, ";"), nil
}

func dayList(days []int) string {
	codes := make([]string, len(days))
	for i, d := range days {
		codes[i] = weekdayCodes[d]
	}
	return strings.Join(codes, ",")
}

// sameRecurrence compares what a client sent with what we derived from
// the stored rule. FirstDayOfWeek only counts when the client sent it;
// Until is compared by date for all-day events.
func sameRecurrence(client, stored recurrence, allDay bool) bool {
	if client.Type != stored.Type || max(client.Interval, 1) != max(stored.Interval, 1) ||
		client.Occurrences != stored.Occurrences {
		return false
	}
	if client.Until.IsZero() != stored.Until.IsZero() {
		return false
	}
	if !client.Until.IsZero() {
		if allDay {
			if client.Until.UTC().Format("20060102") != stored.Until.UTC().Format("20060102") {
				return false
			}
		} else if !client.Until.Equal(stored.Until) {
			return false
		}
	}
	switch client.Type {
	case 0:
		if client.DayOfWeek != 0 && client.DayOfWeek != stored.DayOfWeek {
			return false
		}
	case 1:
		if client.DayOfWeek != stored.DayOfWeek {
			return false
		}
	case 2:
		if client.DayOfMonth != stored.DayOfMonth {
			return false
		}
	case 3:
		if client.DayOfWeek != stored.DayOfWeek || client.WeekOfMonth != stored.WeekOfMonth {
			return false
		}
	case 5:
		if client.DayOfMonth != stored.DayOfMonth || client.MonthOfYear != stored.MonthOfYear {
			return false
		}
	case 6:
		if client.DayOfWeek != stored.DayOfWeek || client.WeekOfMonth != stored.WeekOfMonth || client.MonthOfYear != stored.MonthOfYear {
			return false
		}
	}
	if client.FirstDayOfWeek >= 0 && stored.FirstDayOfWeek >= 0 && client.FirstDayOfWeek != stored.FirstDayOfWeek {
		return false
	}
	return true
}

// recurrenceElement writes the Recurrence element of namespace space
// (NSCalendar or NSTasks) with the elements protocol v supports:
// CalendarType and IsLeapMonth from 14.0, FirstDayOfWeek from 14.1
// (MS-ASCAL 2.2.2.37, MS-ASTASK 2.2.2.20). untilFmt formats Until.
func recurrenceElement(space string, rec recurrence, v eas.Version, untilFmt func(time.Time) string) *wbxml.Element {
	e := wbxml.New(space, "Recurrence", wbxml.Int(space, "Type", rec.Type))
	if space == wbxml.NSTasks && !rec.Start.IsZero() {
		e.Add(wbxml.Text(space, "Start", untilFmt(rec.Start)))
	}
	if rec.Occurrences > 0 {
		e.Add(wbxml.Int(space, "Occurrences", rec.Occurrences))
	} else if !rec.Until.IsZero() {
		e.Add(wbxml.Text(space, "Until", untilFmt(rec.Until)))
	}
	e.Add(wbxml.Int(space, "Interval", max(rec.Interval, 1)))
	switch rec.Type {
	case 0:
		if rec.DayOfWeek != 0 {
			e.Add(wbxml.Int(space, "DayOfWeek", rec.DayOfWeek))
		}
	case 1:
		e.Add(wbxml.Int(space, "DayOfWeek", rec.DayOfWeek))
	case 2:
		e.Add(wbxml.Int(space, "DayOfMonth", rec.DayOfMonth))
	case 3:
		e.Add(wbxml.Int(space, "DayOfWeek", rec.DayOfWeek), wbxml.Int(space, "WeekOfMonth", rec.WeekOfMonth))
	case 5:
		e.Add(wbxml.Int(space, "DayOfMonth", rec.DayOfMonth), wbxml.Int(space, "MonthOfYear", rec.MonthOfYear))
	case 6:
		e.Add(wbxml.Int(space, "DayOfWeek", rec.DayOfWeek), wbxml.Int(space, "WeekOfMonth", rec.WeekOfMonth),
			wbxml.Int(space, "MonthOfYear", rec.MonthOfYear))
	}
	if space == wbxml.NSTasks {
		e.Add(wbxml.Int(space, "Regenerate", boolInt(rec.Regenerate)), wbxml.Int(space, "DeadOccur", boolInt(rec.DeadOccur)))
	}
	if v.AtLeast(eas.V140) && rec.Type != 0 {
		// "optional in daily and yearly recurrences" (MS-ASCAL
		// 2.2.2.10): sent for all but daily ones.
		e.Add(wbxml.Int(space, "CalendarType", 0)) // default (Gregorian)
	}
	fdow := rec.FirstDayOfWeek
	if fdow < 0 && rec.Type == 1 {
		// MS-ASTASK 2.2.2.20: required in responses for weekly
		// recurrences; RFC 5545's default WKST is Monday.
		fdow = 1
	}
	if v.AtLeast(eas.V141) && fdow >= 0 && fdow <= 6 {
		e.Add(wbxml.Int(space, "FirstDayOfWeek", fdow))
	}
	return e
}

// parseRecurrenceElement reads a client's Recurrence; parseTime reads
// Until and Start.
func parseRecurrenceElement(space string, e *wbxml.Element) (recurrence, error) {
	rec := recurrence{FirstDayOfWeek: -1}
	t, ok := e.ChildInt(space, "Type")
	if !ok {
		return rec, fmt.Errorf("calconv: Recurrence without Type")
	}
	rec.Type = t
	geti := func(name string, lo, hi int) (int, error) {
		if !e.Has(space, name) {
			return 0, nil
		}
		v, ok := e.ChildInt(space, name)
		if !ok || v < lo || v > hi {
			return 0, fmt.Errorf("calconv: Recurrence %s %q", name, e.ChildText(space, name))
		}
		return v, nil
	}
	var err error
	if rec.Interval, err = geti("Interval", 0, 999); err != nil {
		return rec, err
	}
	if rec.Occurrences, err = geti("Occurrences", 0, 999); err != nil {
		return rec, err
	}
	if rec.DayOfWeek, err = geti("DayOfWeek", 0, 127); err != nil {
		return rec, err
	}
	if rec.DayOfMonth, err = geti("DayOfMonth", 0, 31); err != nil {
		return rec, err
	}
	if rec.WeekOfMonth, err = geti("WeekOfMonth", 0, 5); err != nil {
		return rec, err
	}
	if rec.MonthOfYear, err = geti("MonthOfYear", 0, 12); err != nil {
		return rec, err
	}
	if e.Has(space, "FirstDayOfWeek") {
		if rec.FirstDayOfWeek, err = geti("FirstDayOfWeek", 0, 6); err != nil {
			return rec, err
		}
	}
	if s := e.ChildText(space, "Until"); s != "" {
		if rec.Until, err = parseEASTime(s); err != nil {
			return rec, fmt.Errorf("calconv: Recurrence Until: %w", err)
		}
	}
	if s := e.ChildText(space, "Start"); s != "" {
		if rec.Start, err = parseEASTime(s); err != nil {
			return rec, fmt.Errorf("calconv: Recurrence Start: %w", err)
		}
	}
	if v, ok := e.ChildInt(space, "Regenerate"); ok {
		rec.Regenerate = v != 0
	}
	if v, ok := e.ChildInt(space, "DeadOccur"); ok {
		rec.DeadOccur = v != 0
	}
	switch rec.Type {
	case 0, 1, 2, 3, 5, 6:
	default:
		return rec, fmt.Errorf("calconv: Recurrence Type %d", rec.Type)
	}
	return rec, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
