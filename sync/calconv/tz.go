package calconv

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	_ "time/tzdata" // zones must resolve on hosts without /usr/share/zoneinfo
)

// zone is the time zone of a date-time value: an Olson zone (loc), a zone
// given only by yearly rules (rule: a VTIMEZONE we could not map, or an
// EAS TimeZone blob that matches no Olson zone), or UTC (both nil).
type zone struct {
	id   string         // TZID to write; "" for UTC
	loc  *time.Location // Olson zone
	rule *tzRule        // rule-based zone
	vtz  *component     // the VTIMEZONE it came from, kept for writing back
}

var utcZone = &zone{}

func (z *zone) isUTC() bool { return z == nil || (z.loc == nil && z.rule == nil) }

// offsetAt returns the UTC offset in seconds in force at instant u.
func (z *zone) offsetAt(u time.Time) int {
	switch {
	case z.isUTC():
		return 0
	case z.loc != nil:
		_, off := u.In(z.loc).Zone()
		return off
	default:
		return z.rule.offsetAt(u)
	}
}

// wall returns the wall-clock time of instant u in z, as a time.Time in
// UTC whose fields are the wall-clock fields.
func (z *zone) wall(u time.Time) time.Time {
	return u.UTC().Add(time.Duration(z.offsetAt(u)) * time.Second)
}

// instant returns the instant of wall-clock time w (fields read as UTC).
// RFC 5545 3.3.5: a time in a gap is read with the offset in force before
// the gap (02:30 on a spring-forward day in Berlin is 03:30 CEST), a time
// that occurs twice is the first occurrence (02:30 on the fall-back day
// in Berlin is 02:30 CEST). Go's time.Date agrees on the gap but picks
// the second occurrence for zones east of UTC, so the choice is made here.
func (z *zone) instant(w time.Time) time.Time {
	w = w.UTC()
	if z.isUTC() {
		return w
	}
	before := z.offsetAt(w.Add(-36 * time.Hour))
	after := z.offsetAt(w.Add(36 * time.Hour))
	var best time.Time
	found := false
	for _, off := range []int{before, after} {
		u := w.Add(-time.Duration(off) * time.Second)
		if z.offsetAt(u) == off && (!found || u.Before(best)) {
			best, found = u, true
		}
	}
	if found {
		return best
	}
	if z.loc != nil && before == after {
		// Several changes within three days (rare): let Go decide.
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, z.loc).UTC()
	}
	return w.Add(-time.Duration(before) * time.Second)
}

// tzRule is a zone as a TIME_ZONE_INFORMATION describes it: a standard
// offset and, optionally, a daylight offset with two yearly transitions.
type tzRule struct {
	std, dst     int // seconds east of UTC; dst == std without DST
	toDST, toStd transition
}

// transition is a yearly change: the week-th weekday of month (week 5 =
// the last), at hour:min:sec local time of the offset in force before it.
type transition struct {
	month, week, weekday, hour, min, sec int
}

func (r *tzRule) hasDST() bool { return r.dst != r.std && r.toDST.month != 0 && r.toStd.month != 0 }

// at returns the wall date of t in year y.
func (t transition) at(y int) time.Time {
	first := time.Date(y, time.Month(t.month), 1, t.hour, t.min, t.sec, 0, time.UTC)
	d := (t.weekday - int(first.Weekday()) + 7) % 7
	day := 1 + d + 7*(t.week-1)
	last := daysIn(y, time.Month(t.month))
	for day > last {
		day -= 7
	}
	return first.AddDate(0, 0, day-1)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// transitions returns the instants of the change to DST and back in year y.
func (r *tzRule) transitions(y int) (toDST, toStd time.Time) {
	toDST = r.toDST.at(y).Add(-time.Duration(r.std) * time.Second)
	toStd = r.toStd.at(y).Add(-time.Duration(r.dst) * time.Second)
	return
}

func (r *tzRule) offsetAt(u time.Time) int {
	if !r.hasDST() {
		return r.std
	}
	y := u.Add(time.Duration(r.std) * time.Second).Year()
	a, b := r.transitions(y)
	inDST := false
	if a.Before(b) { // northern hemisphere
		inDST = !u.Before(a) && u.Before(b)
	} else { // southern: DST across the new year
		inDST = !u.Before(a) || u.Before(b)
	}
	if inDST {
		return r.dst
	}
	return r.std
}

// sameRules reports whether two rules give the same offsets and the same
// transition instants in years y and y+1.
func sameRules(a, b *tzRule, y int) bool {
	if a.std != b.std {
		return false
	}
	if a.hasDST() != b.hasDST() {
		return false
	}
	if !a.hasDST() {
		return true
	}
	if a.dst != b.dst {
		return false
	}
	for _, yy := range []int{y, y + 1} {
		a1, a2 := a.transitions(yy)
		b1, b2 := b.transitions(yy)
		if !a1.Equal(b1) || !a2.Equal(b2) {
			return false
		}
	}
	return true
}

// --- rules of an Olson zone ---

type ruleKey struct {
	name string
	year int
}

var ruleCache sync.Map // ruleKey → *tzRule

// rulesOf derives the yearly rule of loc in year y from its transitions.
// With two changes in the year the larger offset is daylight time (this
// also normalises Europe/Dublin's negative DST). With none, or only one
// (a zone changing its base offset), there is no DST and the standard
// offset is the one in force at ref. Zones with more changes (Morocco's
// Ramadan suspension) keep the first change to the larger offset and the
// last change back.
func rulesOf(loc *time.Location, y int, ref time.Time) *tzRule {
	key := ruleKey{loc.String(), y}
	if r, ok := ruleCache.Load(key); ok {
		return r.(*tzRule)
	}
	r := computeRules(loc, y, ref)
	ruleCache.Store(key, r)
	return r
}

type change struct {
	at       time.Time
	from, to int
}

func offsetIn(loc *time.Location, u time.Time) int {
	_, off := u.In(loc).Zone()
	return off
}

// scanChanges lists the offset changes of loc during year y (UTC, with
// 14 hours of slack so that every zone's new year is covered).
func scanChanges(loc *time.Location, y int) []change {
	start := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Add(-14 * time.Hour)
	end := time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC).Add(-14 * time.Hour)
	var changes []change
	prev := offsetIn(loc, start)
	step := 7 * 24 * time.Hour // a week holds at most one change in practice
	for t := start; t.Before(end) && len(changes) <= 8; t = t.Add(step) {
		next := t.Add(step)
		if next.After(end) {
			next = end
		}
		if offsetIn(loc, next) == prev {
			continue
		}
		lo, hi := t.Unix(), next.Unix()
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if offsetIn(loc, time.Unix(mid, 0)) == prev {
				lo = mid
			} else {
				hi = mid
			}
		}
		now := offsetIn(loc, time.Unix(hi, 0))
		changes = append(changes, change{time.Unix(hi, 0).UTC(), prev, now})
		prev = now
	}
	return changes
}

// dstChanges picks the change to the larger offset (the first) and back
// (the last) from a year's changes.
func dstChanges(changes []change) (lo, hi int, toDST, toStd *change) {
	if len(changes) < 2 {
		return 0, 0, nil, nil
	}
	lo, hi = changes[0].from, changes[0].from
	for _, c := range changes {
		lo, hi = min(lo, c.from, c.to), max(hi, c.from, c.to)
	}
	for i := range changes {
		c := &changes[i]
		if c.to == hi && c.from != hi && toDST == nil {
			toDST = c
		}
		if c.to == lo && c.from != lo {
			toStd = c
		}
	}
	return lo, hi, toDST, toStd
}

func computeRules(loc *time.Location, y int, ref time.Time) *tzRule {
	lo, hi, toDST, toStd := dstChanges(scanChanges(loc, y))
	if toDST == nil || toStd == nil {
		off := offsetIn(loc, ref)
		if ref.Year() != y {
			off = offsetIn(loc, time.Date(y, 7, 1, 0, 0, 0, 0, time.UTC))
		}
		return &tzRule{std: off, dst: off}
	}
	_, _, nDST, nStd := dstChanges(scanChanges(loc, y+1))
	return &tzRule{std: lo, dst: hi,
		toDST: transitionOf(toDST.wall(), nDST),
		toStd: transitionOf(toStd.wall(), nStd)}
}

func (c *change) wall() time.Time { return c.at.Add(time.Duration(c.from) * time.Second) }

// transitionOf expresses wall time w as "nth weekday of month". When the
// day is also the last such weekday of the month, "last" (5) is chosen
// unless next year's change (next) falls on the same ordinal weekday but
// not on the last one (rules like "Sunday on or after the 22nd").
func transitionOf(w time.Time, next *change) transition {
	t := transition{month: int(w.Month()), weekday: int(w.Weekday()), hour: w.Hour(), min: w.Minute(), sec: w.Second()}
	t.week = (w.Day()-1)/7 + 1
	if w.Day()+7 <= daysIn(w.Year(), w.Month()) {
		return t
	}
	if next != nil {
		nw := next.wall()
		if nw.Month() == w.Month() && nw.Weekday() == w.Weekday() &&
			(nw.Day()-1)/7+1 == t.week && nw.Day()+7 <= daysIn(nw.Year(), nw.Month()) {
			return t
		}
	}
	t.week = 5
	return t
}

// rulesFor returns the rule of z in year y (ref: an instant in that year).
func (z *zone) rulesFor(y int, ref time.Time) *tzRule {
	switch {
	case z.isUTC():
		return &tzRule{}
	case z.loc != nil:
		return rulesOf(z.loc, y, ref)
	default:
		return z.rule
	}
}

// --- MS-ASDTYPE 2.7.6 TimeZone ---

// tzBlobSize is the size of the TimeZone structure: Bias (4),
// StandardName (64), StandardDate (16), StandardBias (4), DaylightName
// (64), DaylightDate (16), DaylightBias (4).
const tzBlobSize = 172

// systemTime is a SYSTEMTIME ([MS-DTYP] 2.3.13). With Year 0 it is the
// "day-in-month" form: Day 1–5 is the week (5 = last) of DayOfWeek
// (0 = Sunday) in Month.
type systemTime struct {
	Year, Month, DayOfWeek, Day, Hour, Minute, Second, Milliseconds uint16
}

// tzInfo is the decoded TimeZone structure.
type tzInfo struct {
	Bias         int32 // minutes; UTC = local + Bias
	StandardName string
	StandardDate systemTime
	StandardBias int32
	DaylightName string
	DaylightDate systemTime
	DaylightBias int32
}

func (t *tzInfo) marshal() []byte {
	b := make([]byte, tzBlobSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(t.Bias))
	putName(b[4:68], t.StandardName)
	putSystemTime(b[68:84], t.StandardDate)
	le.PutUint32(b[84:], uint32(t.StandardBias))
	putName(b[88:152], t.DaylightName)
	putSystemTime(b[152:168], t.DaylightDate)
	le.PutUint32(b[168:], uint32(t.DaylightBias))
	return b
}

func putName(b []byte, s string) {
	u := utf16.Encode([]rune(s))
	if len(u) > 32 {
		u = u[:32]
	}
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
}

func putSystemTime(b []byte, s systemTime) {
	le := binary.LittleEndian
	for i, v := range []uint16{s.Year, s.Month, s.DayOfWeek, s.Day, s.Hour, s.Minute, s.Second, s.Milliseconds} {
		le.PutUint16(b[2*i:], v)
	}
}

func parseTZBlob(s string) (*tzInfo, error) {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return nil, fmt.Errorf("calconv: TimeZone is not base64: %w", err)
		}
	}
	if len(b) < tzBlobSize {
		return nil, fmt.Errorf("calconv: TimeZone has %d bytes, want %d", len(b), tzBlobSize)
	}
	le := binary.LittleEndian
	t := &tzInfo{
		Bias:         int32(le.Uint32(b[0:])),
		StandardName: getName(b[4:68]),
		StandardDate: getSystemTime(b[68:84]),
		StandardBias: int32(le.Uint32(b[84:])),
		DaylightName: getName(b[88:152]),
		DaylightDate: getSystemTime(b[152:168]),
		DaylightBias: int32(le.Uint32(b[168:])),
	}
	const maxBias = 24 * 60
	for _, v := range []int32{t.Bias, t.StandardBias, t.DaylightBias, t.Bias + t.StandardBias, t.Bias + t.DaylightBias} {
		if v > maxBias || v < -maxBias {
			return nil, fmt.Errorf("calconv: TimeZone bias %d out of range", v)
		}
	}
	return t, nil
}

func getName(b []byte) string {
	u := make([]uint16, 0, 32)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return cleanText(strings.TrimSpace(string(utf16.Decode(u))))
}

func getSystemTime(b []byte) systemTime {
	le := binary.LittleEndian
	return systemTime{le.Uint16(b[0:]), le.Uint16(b[2:]), le.Uint16(b[4:]), le.Uint16(b[6:]),
		le.Uint16(b[8:]), le.Uint16(b[10:]), le.Uint16(b[12:]), le.Uint16(b[14:])}
}

func (t transition) systemTime() systemTime {
	return systemTime{Month: uint16(t.month), DayOfWeek: uint16(t.weekday), Day: uint16(t.week),
		Hour: uint16(t.hour), Minute: uint16(t.min), Second: uint16(t.sec)}
}

// transitionFrom reads a SYSTEMTIME: the day-in-month form directly, an
// absolute date (Year != 0) as the week and weekday of that date.
func transitionFrom(s systemTime) (transition, bool) {
	if s.Month < 1 || s.Month > 12 || s.Hour > 23 || s.Minute > 59 || s.Second > 59 {
		return transition{}, false
	}
	t := transition{month: int(s.Month), hour: int(s.Hour), min: int(s.Minute), sec: int(s.Second)}
	if s.Year != 0 {
		if s.Year < 1601 || s.Year > 30827 || s.Day < 1 || int(s.Day) > daysIn(int(s.Year), time.Month(s.Month)) {
			return transition{}, false
		}
		d := time.Date(int(s.Year), time.Month(s.Month), int(s.Day), 0, 0, 0, 0, time.UTC)
		t.weekday = int(d.Weekday())
		t.week = (d.Day()-1)/7 + 1
		if d.Day()+7 > daysIn(d.Year(), d.Month()) {
			t.week = 5
		}
		return t, true
	}
	if s.DayOfWeek > 6 || s.Day < 1 || s.Day > 5 {
		return transition{}, false
	}
	t.weekday, t.week = int(s.DayOfWeek), int(s.Day)
	return t, true
}

// rule returns the tzRule the blob describes.
func (t *tzInfo) rule() *tzRule {
	std := -int(t.Bias+t.StandardBias) * 60
	r := &tzRule{std: std, dst: std}
	if t.StandardDate.Month == 0 || t.DaylightDate.Month == 0 {
		return r
	}
	a, ok1 := transitionFrom(t.DaylightDate)
	b, ok2 := transitionFrom(t.StandardDate)
	if !ok1 || !ok2 {
		return r
	}
	r.dst = -int(t.Bias+t.DaylightBias) * 60
	r.toDST, r.toStd = a, b
	return r
}

// blobFor builds the TimeZone structure of z for the year of ref.
// Following Microsoft's own encoding, Bias is the standard offset,
// StandardBias 0 and DaylightBias the DST saving (−60 for one hour).
func blobFor(z *zone, ref time.Time) *tzInfo {
	t := &tzInfo{StandardName: "Coordinated Universal Time", DaylightName: "Coordinated Universal Time"}
	if z.isUTC() {
		return t
	}
	r := z.rulesFor(z.wall(ref).Year(), ref)
	t.Bias = int32(-r.std / 60)
	t.StandardName, t.DaylightName = zoneNames(z, r)
	if r.hasDST() {
		t.StandardDate = r.toStd.systemTime()
		t.DaylightDate = r.toDST.systemTime()
		t.DaylightBias = int32(-(r.dst - r.std) / 60)
	}
	return t
}

func zoneNames(z *zone, r *tzRule) (std, dst string) {
	name := ""
	if z.loc != nil {
		name = olsonToWindows[z.loc.String()]
	}
	if name == "" && z.loc == nil && z.id != "" {
		name = z.id
	}
	if name == "" {
		name = offsetName(r.std)
	}
	std = name
	dst = name
	if s, ok := strings.CutSuffix(name, " Standard Time"); ok {
		dst = s + " Daylight Time"
	}
	return truncUTF16(std, 32), truncUTF16(dst, 32)
}

func truncUTF16(s string, n int) string {
	if len(utf16.Encode([]rune(s))) <= n {
		return s
	}
	r := []rune(s)
	for len(utf16.Encode(r)) > n {
		r = r[:len(r)-1]
	}
	return string(r)
}

func offsetName(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, sec/3600, sec/60%60)
}

func encodeTZBlob(t *tzInfo) string {
	return base64.StdEncoding.EncodeToString(t.marshal())
}

// zoneFromBlob finds the zone a client's TimeZone describes, for an
// event around ref:
//  1. StandardName is a Windows zone of the table (or an Olson name, as
//     some clients send) whose standard offset agrees with Bias;
//  2. the first zone of the table whose standard and daylight offsets and
//     transition instants in ref's year and the next agree with the blob;
//  3. a zone with the blob's own rules and a synthetic TZID (a VTIMEZONE
//     is written for it).
//
// A blob without DST and with Bias 0 is UTC.
func zoneFromBlob(t *tzInfo, ref time.Time) *zone {
	r := t.rule()
	y := ref.Add(time.Duration(r.std) * time.Second).Year()
	if !r.hasDST() && r.std == 0 {
		return utcZone
	}
	for _, name := range []string{t.StandardName, t.DaylightName} {
		olson := windowsToOlson[name]
		if olson == "" && strings.Contains(name, "/") {
			olson = name
		}
		if olson == "" {
			continue
		}
		if loc := loadLocation(olson); loc != nil {
			if rulesOf(loc, y, ref).std == r.std {
				return &zone{id: loc.String(), loc: loc}
			}
		}
	}
	for _, olson := range candidateZones {
		loc := loadLocation(olson)
		if loc == nil {
			continue
		}
		if sameRules(rulesOf(loc, y, ref), r, y) {
			return &zone{id: loc.String(), loc: loc}
		}
	}
	if !r.hasDST() && r.std%3600 == 0 && r.std != 0 {
		// Etc/GMT zones have inverted signs: Etc/GMT-9 is UTC+9.
		name := "Etc/GMT" + strconv.Itoa(-r.std/3600)
		if r.std < 0 {
			name = "Etc/GMT+" + strconv.Itoa(-r.std/3600)
		}
		if loc := loadLocation(name); loc != nil {
			return &zone{id: name, loc: loc}
		}
	}
	return &zone{id: syntheticTZID(r), rule: r}
}

func syntheticTZID(r *tzRule) string {
	id := "EAS/" + offsetName(r.std)
	if r.hasDST() {
		a, b := r.toDST, r.toStd
		id += fmt.Sprintf("/DST%+d/%d-%d-%d-%02d%02d/%d-%d-%d-%02d%02d", (r.dst-r.std)/60,
			a.month, a.week, a.weekday, a.hour, a.min, b.month, b.week, b.weekday, b.hour, b.min)
	}
	return id
}

// --- Olson zone lookup ---

var locCache sync.Map // string → *time.Location (only successes; bounded)
var locCacheN int
var locMu sync.Mutex

// loadLocation loads an Olson zone, caching successes. "Local" and ""
// are refused: a stored object must not depend on the server's zone.
func loadLocation(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 64 {
		return nil
	}
	if l, ok := locCache.Load(name); ok {
		return l.(*time.Location)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '/' || c == '_' || c == '-' || c == '+' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return nil
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	locMu.Lock()
	if locCacheN < 1024 {
		locCacheN++
		locCache.Store(name, loc)
	}
	locMu.Unlock()
	return loc
}

// resolveTZID maps a TZID parameter to a zone: an Olson name; an Olson
// name behind a vendor prefix ("/mozilla.org/20050126_1/Europe/Berlin");
// a Windows zone name (Outlook); else the rules of its VTIMEZONE, mapped
// to an Olson zone with the same rules when there is one (the TZID as
// written is kept). Without any of these the value is read as UTC.
func resolveTZID(tzid string, vtz *component, ref time.Time) *zone {
	if strings.EqualFold(tzid, "UTC") || strings.EqualFold(tzid, "GMT") || tzid == "Etc/UTC" || tzid == "Z" {
		return &zone{id: tzid, loc: time.UTC}
	}
	if loc := loadLocation(tzid); loc != nil {
		return &zone{id: tzid, loc: loc, vtz: vtz}
	}
	if i := strings.Index(tzid, "/"); i >= 0 {
		parts := strings.Split(strings.Trim(tzid, "/"), "/")
		for n := 3; n >= 1; n-- {
			if len(parts) >= n {
				if loc := loadLocation(strings.Join(parts[len(parts)-n:], "/")); loc != nil {
					return &zone{id: tzid, loc: loc, vtz: vtz}
				}
			}
		}
	}
	if olson := windowsToOlson[tzid]; olson != "" {
		if loc := loadLocation(olson); loc != nil {
			return &zone{id: tzid, loc: loc, vtz: vtz}
		}
	}
	if vtz != nil {
		if r := rulesOfVTimezone(vtz, ref); r != nil {
			y := ref.Add(time.Duration(r.std) * time.Second).Year()
			for _, olson := range candidateZones {
				if loc := loadLocation(olson); loc != nil && sameRules(rulesOf(loc, y, ref), r, y) {
					return &zone{id: tzid, loc: loc, vtz: vtz}
				}
			}
			return &zone{id: tzid, rule: r, vtz: vtz}
		}
	}
	return &zone{id: tzid, loc: time.UTC}
}

// rulesOfVTimezone reads the STANDARD and DAYLIGHT observances in force
// at ref (the latest DTSTART not after ref, else the earliest) whose
// RRULE is FREQ=YEARLY;BYMONTH=m;BYDAY=nDD. Observances given only as
// dates (RDATE) are read as a fixed offset.
func rulesOfVTimezone(vtz *component, ref time.Time) *tzRule {
	pick := func(name string) (*component, time.Time) {
		var best *component
		var bestStart time.Time
		for _, ob := range vtz.childrenNamed(name) {
			p := ob.get("DTSTART")
			if p == nil {
				continue
			}
			st, err := time.Parse("20060102T150405", strings.TrimSuffix(p.Value, "Z"))
			if err != nil {
				continue
			}
			if best == nil || (st.After(bestStart) && !st.After(ref)) || (bestStart.After(ref) && st.Before(bestStart)) {
				best, bestStart = ob, st
			}
		}
		return best, bestStart
	}
	std, stdStart := pick("STANDARD")
	dst, dstStart := pick("DAYLIGHT")
	if std == nil && dst == nil {
		return nil
	}
	offTo := func(c *component) (int, bool) {
		if c == nil {
			return 0, false
		}
		p := c.get("TZOFFSETTO")
		if p == nil {
			return 0, false
		}
		return parseUTCOffset(p.Value)
	}
	so, ok1 := offTo(std)
	do, ok2 := offTo(dst)
	if !ok1 && !ok2 {
		return nil
	}
	if !ok1 {
		return &tzRule{std: do, dst: do}
	}
	if !ok2 {
		return &tzRule{std: so, dst: so}
	}
	a, okA := yearlyTransition(dst, dstStart)
	b, okB := yearlyTransition(std, stdStart)
	if !okA || !okB {
		return &tzRule{std: so, dst: so}
	}
	return &tzRule{std: so, dst: do, toDST: a, toStd: b}
}

func yearlyTransition(ob *component, start time.Time) (transition, bool) {
	rr := ob.get("RRULE")
	if rr == nil {
		return transition{}, false
	}
	t := transition{hour: start.Hour(), min: start.Minute(), sec: start.Second()}
	for _, part := range strings.Split(strings.ToUpper(rr.Value), ";") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "FREQ":
			if v != "YEARLY" {
				return transition{}, false
			}
		case "BYMONTH":
			m, err := strconv.Atoi(v)
			if err != nil || m < 1 || m > 12 {
				return transition{}, false
			}
			t.month = m
		case "BYDAY":
			n, wd, ok := parseByDay(v)
			if !ok || n == 0 || n < -1 || n > 5 {
				return transition{}, false
			}
			if n == -1 {
				n = 5
			}
			t.week, t.weekday = n, wd
		}
	}
	if t.month == 0 || t.week == 0 {
		return transition{}, false
	}
	return t, true
}

// parseUTCOffset reads "+0100", "-0530", "+013000".
func parseUTCOffset(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 5 && len(s) != 7 {
		return 0, false
	}
	sign := 1
	switch s[0] {
	case '-':
		sign = -1
	case '+':
	default:
		return 0, false
	}
	h, err1 := strconv.Atoi(s[1:3])
	m, err2 := strconv.Atoi(s[3:5])
	sec := 0
	var err3 error
	if len(s) == 7 {
		sec, err3 = strconv.Atoi(s[5:7])
	}
	if err1 != nil || err2 != nil || err3 != nil || h > 23 || m > 59 || sec > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60 + sec), true
}

func formatUTCOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	if sec%60 != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec/60%60)
}

var weekdayCodes = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// vtimezoneFor builds a VTIMEZONE for z from its rule in the year of ref,
// with observances starting the year before (so that every time of the
// event falls after the first onset). Times before that use the
// earliest observance, which is what clients do as well.
func vtimezoneFor(z *zone, ref time.Time) *component {
	c := &component{Name: "VTIMEZONE"}
	c.add(&prop{Name: "TZID", Value: z.id})
	y := z.wall(ref).Year()
	r := z.rulesFor(y, ref)
	if !r.hasDST() {
		st := &component{Name: "STANDARD"}
		st.add(&prop{Name: "DTSTART", Value: "19700101T000000"})
		st.add(&prop{Name: "TZOFFSETFROM", Value: formatUTCOffset(r.std)})
		st.add(&prop{Name: "TZOFFSETTO", Value: formatUTCOffset(r.std)})
		c.Children = append(c.Children, st)
		return c
	}
	obs := func(name string, t transition, from, to int) *component {
		o := &component{Name: name}
		o.add(&prop{Name: "DTSTART", Value: t.at(y - 1).Format("20060102T150405")})
		n := t.week
		if n == 5 {
			n = -1
		}
		o.add(&prop{Name: "RRULE", Value: fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", t.month, n, weekdayCodes[t.weekday])})
		o.add(&prop{Name: "TZOFFSETFROM", Value: formatUTCOffset(from)})
		o.add(&prop{Name: "TZOFFSETTO", Value: formatUTCOffset(to)})
		return o
	}
	c.Children = append(c.Children,
		obs("DAYLIGHT", r.toDST, r.std, r.dst),
		obs("STANDARD", r.toStd, r.dst, r.std))
	return c
}
