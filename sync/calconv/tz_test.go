package calconv

import (
	"strings"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// specPacific is the TimeZone of the [MS-ASCAL] Sync examples (Pacific
// Time: Bias 480, DST from the second Sunday of March 02:00 to the first
// Sunday of November 02:00, DaylightBias -60).
const specPacific = "4AEAAFAAYQBjAGkAZgBpAGMAIABTAHQAYQBuAGQAYQByAGQAIABUAGkAbQBlAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAsAAAABAAIAAAAAAAAAAAAAAFAAYQBjAGkAZgBpAGMAIABEAGEAeQBsAGkAZwBoAHQAIABUAGkAbQBlAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMAAAACAAIAAAAAAAAAxP///w=="

// specIndia is India Standard Time as Android's Exchange client writes
// it: Bias -330, no DST.
const specIndia = "tv7//0kAbgBkAGkAYQAgAFMAdABhAG4AZABhAHIAZAAgAFQAaQBtAGUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEkAbgBkAGkAYQAgAEQAYQB5AGwAaQBnAGgAdAAgAFQAaQBtAGUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="

func olson(t *testing.T, name string) *zone {
	t.Helper()
	loc := loadLocation(name)
	if loc == nil {
		t.Fatalf("no zone %s", name)
	}
	return &zone{id: name, loc: loc}
}

func st(month, dow, day, hour int) systemTime {
	return systemTime{Month: uint16(month), DayOfWeek: uint16(dow), Day: uint16(day), Hour: uint16(hour)}
}

func TestBlobFromOlson(t *testing.T) {
	ref := func(y int) time.Time { return time.Date(y, 6, 1, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		zone           string
		year           int
		bias, dstBias  int32
		stdDate, dDate systemTime
		name           string
	}{
		// MS-ASDTYPE 2.7.6: Europe/Berlin 2026, last Sunday of October
		// 03:00 back to standard, last Sunday of March 02:00 to DST.
		{"Europe/Berlin", 2026, -60, -60, st(10, 0, 5, 3), st(3, 0, 5, 2), "W. Europe Standard Time"},
		{"America/New_York", 2026, 300, -60, st(11, 0, 1, 2), st(3, 0, 2, 2), "Eastern Standard Time"},
		{"America/Los_Angeles", 2026, 480, -60, st(11, 0, 1, 2), st(3, 0, 2, 2), "Pacific Standard Time"},
		// Southern hemisphere: DST from the first Sunday of October.
		{"Australia/Sydney", 2026, -600, -60, st(4, 0, 1, 3), st(10, 0, 1, 2), "AUS Eastern Standard Time"},
		// Negative DST in the tz data (IST is "standard"): normalised.
		{"Europe/Dublin", 2026, 0, -60, st(10, 0, 5, 2), st(3, 0, 5, 1), "GMT Standard Time"},
		{"Asia/Kolkata", 2026, -330, 0, systemTime{}, systemTime{}, "India Standard Time"},
		{"Asia/Kathmandu", 2026, -345, 0, systemTime{}, systemTime{}, "Nepal Standard Time"},
		{"America/Sao_Paulo", 2026, 180, 0, systemTime{}, systemTime{}, "E. South America Standard Time"},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			b := blobFor(olson(t, tt.zone), ref(tt.year))
			if b.Bias != tt.bias || b.DaylightBias != tt.dstBias || b.StandardBias != 0 {
				t.Errorf("bias %d/%d/%d, want %d/0/%d", b.Bias, b.StandardBias, b.DaylightBias, tt.bias, tt.dstBias)
			}
			if b.StandardDate != tt.stdDate || b.DaylightDate != tt.dDate {
				t.Errorf("dates %+v %+v, want %+v %+v", b.StandardDate, b.DaylightDate, tt.stdDate, tt.dDate)
			}
			if b.StandardName != tt.name {
				t.Errorf("name %q, want %q", b.StandardName, tt.name)
			}
			// The blob survives encoding and resolves to a zone with
			// the same rules (the first of the table for Dublin).
			back, err := parseTZBlob(encodeTZBlob(b))
			if err != nil || *back != *b {
				t.Fatalf("round trip: %v %+v", err, back)
			}
			z := zoneFromBlob(back, ref(tt.year))
			y := tt.year
			if !sameRules(z.rulesFor(y, ref(y)), olson(t, tt.zone).rulesFor(y, ref(y)), y) {
				t.Errorf("resolved to %s with other rules", z.id)
			}
		})
	}
}

func TestBlobSpecExample(t *testing.T) {
	b, err := parseTZBlob(specPacific)
	if err != nil {
		t.Fatal(err)
	}
	want := tzInfo{Bias: 480, StandardName: "Pacific Standard Time", StandardDate: st(11, 0, 1, 2),
		DaylightName: "Pacific Daylight Time", DaylightDate: st(3, 0, 2, 2), DaylightBias: -60}
	if *b != want {
		t.Fatalf("decoded %+v", *b)
	}
	// America/Los_Angeles encodes to the spec's bytes exactly.
	if got := encodeTZBlob(blobFor(olson(t, "America/Los_Angeles"), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))); got != specPacific {
		t.Errorf("encoded %s", got)
	}
	if z := zoneFromBlob(b, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); z.id != "America/Los_Angeles" {
		t.Errorf("zone %q", z.id)
	}
	in, err := parseTZBlob(specIndia)
	if err != nil {
		t.Fatal(err)
	}
	if z := zoneFromBlob(in, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); z.id != "Asia/Kolkata" {
		t.Errorf("India: zone %q", z.id)
	}
}

func TestZoneFromBlob(t *testing.T) {
	ref := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	berlin := blobFor(olson(t, "Europe/Berlin"), ref)
	tests := []struct {
		name string
		blob tzInfo
		want string
	}{
		{"windows name", *berlin, "Europe/Berlin"},
		{"unknown name, rules match", func() tzInfo { b := *berlin; b.StandardName, b.DaylightName = "CET", "CEST"; return b }(), "Europe/Berlin"},
		{"android name", func() tzInfo {
			b := *blobFor(olson(t, "Europe/Paris"), ref)
			b.StandardName = "Central European Standard Time"
			return b
		}(), "Europe/Warsaw"},
		{"olson name", func() tzInfo { b := *berlin; b.StandardName = "Europe/Vienna"; return b }(), "Europe/Vienna"},
		{"name with wrong bias falls back to rules", func() tzInfo {
			b := *blobFor(olson(t, "America/New_York"), ref)
			b.StandardName = "W. Europe Standard Time"
			return b
		}(), "America/New_York"},
		{"utc", tzInfo{}, ""},
		{"+2 without dst", tzInfo{Bias: -120}, "Africa/Johannesburg"},
		{"whole-hour offset no zone of the table has", tzInfo{Bias: 540}, "Etc/GMT+9"},
		{"absolute dates", func() tzInfo {
			b := *berlin
			b.StandardName = ""
			b.StandardDate = systemTime{Year: 2026, Month: 10, Day: 25, Hour: 3}
			b.DaylightDate = systemTime{Year: 2026, Month: 3, Day: 29, Hour: 2}
			return b
		}(), "Europe/Berlin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := zoneFromBlob(&tt.blob, ref)
			if z.id != tt.want {
				t.Errorf("zone %q, want %q", z.id, tt.want)
			}
		})
	}
}

func TestSyntheticZone(t *testing.T) {
	// UTC+05:45 with 30 minutes of DST from the 2nd Sunday of April to
	// the last Sunday of September: no Olson zone has these rules.
	b := tzInfo{Bias: -345, StandardName: "Nowhere", StandardDate: st(9, 0, 5, 3), DaylightDate: st(4, 0, 2, 2), DaylightBias: -30}
	z := zoneFromBlob(&b, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if z.rule == nil || !strings.HasPrefix(z.id, "EAS/UTC+05:45/DST+30") {
		t.Fatalf("zone %+v", z)
	}
	w := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	u := z.instant(w)
	if want := time.Date(2026, 6, 1, 2, 45, 0, 0, time.UTC); !u.Equal(want) {
		t.Errorf("instant %v, want %v", u, want)
	}
	if !z.wall(u).Equal(w) {
		t.Errorf("wall %v", z.wall(u))
	}
	// The generated VTIMEZONE reads back as the same rules.
	vtz := vtimezoneFor(z, u)
	r := rulesOfVTimezone(vtz, u)
	if r == nil || !sameRules(r, z.rule, 2026) {
		t.Errorf("VTIMEZONE rules %+v, want %+v", r, z.rule)
	}
	// And the blob we would send back is the client's.
	if got := blobFor(z, u); got.Bias != b.Bias || got.DaylightBias != b.DaylightBias || got.StandardDate != b.StandardDate || got.DaylightDate != b.DaylightDate {
		t.Errorf("blob %+v", got)
	}
}

// TestLocalTimeResolution checks RFC 5545 3.3.5 for times in a gap (the
// offset before the gap) and repeated times (the first occurrence), for
// Olson zones and for the same rules as a rule zone.
func TestLocalTimeResolution(t *testing.T) {
	tests := []struct {
		zone string
		wall time.Time
		want time.Time
	}{
		{"Europe/Berlin", time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},   // gap: 03:30 CEST
		{"Europe/Berlin", time.Date(2026, 10, 25, 2, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)}, // first: CEST
		{"Europe/Berlin", time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 3, 8, 2, 30, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)},    // gap
		{"America/New_York", time.Date(2026, 11, 1, 1, 30, 0, 0, time.UTC), time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)},  // first: EDT
		{"Australia/Sydney", time.Date(2026, 4, 5, 2, 30, 0, 0, time.UTC), time.Date(2026, 4, 4, 15, 30, 0, 0, time.UTC)},   // first: AEDT
		{"Australia/Sydney", time.Date(2026, 10, 4, 2, 30, 0, 0, time.UTC), time.Date(2026, 10, 3, 16, 30, 0, 0, time.UTC)}, // gap
	}
	for _, tt := range tests {
		z := olson(t, tt.zone)
		if got := z.instant(tt.wall); !got.Equal(tt.want) {
			t.Errorf("%s %v: %v, want %v", tt.zone, tt.wall, got, tt.want)
		}
		rz := &zone{id: "r", rule: z.rulesFor(2026, tt.want)}
		if got := rz.instant(tt.wall); !got.Equal(tt.want) {
			t.Errorf("rule zone %s %v: %v, want %v", tt.zone, tt.wall, got, tt.want)
		}
	}
}

func TestResolveTZID(t *testing.T) {
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct{ tzid, olson string }{
		{"Europe/Berlin", "Europe/Berlin"},
		{"/mozilla.org/20050126_1/Europe/Berlin", "Europe/Berlin"},
		{"/softwarestudio.org/Olson_20011030_5/America/New_York", "America/New_York"},
		{"W. Europe Standard Time", "Europe/Berlin"},
		{"Local", "UTC"},
		{"../../etc/passwd", "UTC"},
	}
	for _, tt := range tests {
		z := resolveTZID(tt.tzid, nil, ref)
		got := "UTC"
		if z.loc != nil {
			got = z.loc.String()
		}
		if got != tt.olson {
			t.Errorf("%s: %s, want %s", tt.tzid, got, tt.olson)
		}
	}
}

// --- event round trips across DST edges ---

func calXML(t *testing.T, v eas.Version, body string) *wbxml.Element {
	t.Helper()
	doc := `<ApplicationData xmlns="AirSync" xmlns:calendar="Calendar" xmlns:airsyncbase="AirSyncBase" xmlns:tasks="Tasks" xmlns:notes="Notes" xmlns:contacts="Contacts" xmlns:contacts2="Contacts2">` + body + `</ApplicationData>`
	e, err := wbxml.FromXML(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("FromXML: %v\n%s", err, doc)
	}
	return e
}

func mustParse(t *testing.T, data []byte) *component {
	t.Helper()
	c, err := parseObject(data)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	return c
}

func firstVEvent(t *testing.T, data []byte) *component {
	t.Helper()
	c, err := mainComponent(mustParse(t, data), "VEVENT")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDSTRoundTrip: ToEAS, then FromEAS as a new item (what a second
// device adding the same event would store) keeps the instants and the
// TZID, and the all-day dates.
func TestDSTRoundTrip(t *testing.T) {
	tests := []struct {
		name, dtstart, dtend string
		wantStart, wantEnd   time.Time
		wantProp             string // DTSTART as written back
	}{
		{"berlin spring-forward gap", "DTSTART;TZID=Europe/Berlin:20260329T023000", "DTEND;TZID=Europe/Berlin:20260329T040000",
			time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 2, 0, 0, 0, time.UTC),
			"DTSTART;TZID=Europe/Berlin:20260329T033000"}, // 02:30 does not exist: normalised forward
		{"berlin fall-back repeat", "DTSTART;TZID=Europe/Berlin:20261025T023000", "DTEND;TZID=Europe/Berlin:20261025T033000",
			time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 2, 30, 0, 0, time.UTC),
			"DTSTART;TZID=Europe/Berlin:20261025T023000"},
		{"new york", "DTSTART;TZID=America/New_York:20260308T013000", "DTEND;TZID=America/New_York:20260308T033000",
			time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC),
			"DTSTART;TZID=America/New_York:20260308T013000"},
		{"sydney", "DTSTART;TZID=Australia/Sydney:20261004T090000", "DTEND;TZID=Australia/Sydney:20261004T100000",
			time.Date(2026, 10, 3, 22, 0, 0, 0, time.UTC), time.Date(2026, 10, 3, 23, 0, 0, 0, time.UTC),
			"DTSTART;TZID=Australia/Sydney:20261004T090000"},
		{"all-day across DST", "DTSTART;VALUE=DATE:20260328", "DTEND;VALUE=DATE:20260331",
			time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC),
			"DTSTART;VALUE=DATE:20260328"},
	}
	for _, tt := range tests {
		for _, v := range []eas.Version{eas.V121, eas.V141, eas.V161} {
			t.Run(tt.name+"/"+string(v), func(t *testing.T) {
				ics := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:dst@x\nDTSTAMP:20260101T000000Z\n" +
					tt.dtstart + "\n" + tt.dtend + "\nSUMMARY:DST\nEND:VEVENT\nEND:VCALENDAR\n"
				opts := testOpts(v)
				app, err := ToEAS(ClassCalendar, []byte(ics), opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := app.ChildText(wbxml.NSCalendar, "StartTime"); got != compact(tt.wantStart) {
					t.Errorf("StartTime %s, want %s", got, compact(tt.wantStart))
				}
				if got := app.ChildText(wbxml.NSCalendar, "EndTime"); got != compact(tt.wantEnd) {
					t.Errorf("EndTime %s, want %s", got, compact(tt.wantEnd))
				}
				app.Add(wbxml.Text(wbxml.NSCalendar, "ClientUid", "dst@x"))
				out, uid, err := FromEAS(ClassCalendar, app, nil, opts)
				if err != nil {
					t.Fatal(err)
				}
				if uid != "dst@x" {
					t.Errorf("uid %q", uid)
				}
				ev := firstVEvent(t, out)
				if got := formatProp(ev.get("DTSTART")); got != tt.wantProp {
					t.Errorf("DTSTART %s, want %s\n%s", got, tt.wantProp, out)
				}
				cal := newCalendar(mustParse(t, out))
				e2, err := readEvent(cal, ev, true)
				if err != nil {
					t.Fatal(err)
				}
				if !e2.start.Equal(tt.wantStart) || !e2.end.Equal(tt.wantEnd) {
					t.Errorf("stored %v–%v, want %v–%v", e2.start, e2.end, tt.wantStart, tt.wantEnd)
				}
				if strings.Contains(tt.dtstart, "TZID") && !strings.Contains(string(out), "BEGIN:VTIMEZONE") {
					t.Errorf("no VTIMEZONE written:\n%s", out)
				}
			})
		}
	}
}

// TestAllDayFromClient: 12.1–14.1 clients send local midnight with their
// zone, 16.x clients midnight UTC; both become the same dates.
func TestAllDayFromClient(t *testing.T) {
	berlin := encodeTZBlob(blobFor(olson(t, "Europe/Berlin"), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
	sydney := encodeTZBlob(blobFor(olson(t, "Australia/Sydney"), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
	tests := []struct{ name, tz, start, end string }{
		{"berlin local midnight across DST", berlin, "20260327T230000Z", "20260330T220000Z"},
		{"sydney local midnight", sydney, "20260327T130000Z", "20260330T130000Z"},
		{"16.x floating", "", "20260328T000000Z", "20260331T000000Z"},
		{"16.x floating with a zone", berlin, "20260328T000000Z", "20260331T000000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tz := ""
			if tt.tz != "" {
				tz = "<calendar:Timezone>" + tt.tz + "</calendar:Timezone>"
			}
			app := calXML(t, eas.V141, tz+`<calendar:AllDayEvent>1</calendar:AllDayEvent><calendar:StartTime>`+tt.start+
				`</calendar:StartTime><calendar:EndTime>`+tt.end+`</calendar:EndTime><calendar:Subject>Trip</calendar:Subject>`)
			out, _, err := FromEAS(ClassCalendar, app, nil, testOpts(eas.V141))
			if err != nil {
				t.Fatal(err)
			}
			ev := firstVEvent(t, out)
			if got := formatProp(ev.get("DTSTART")) + " " + formatProp(ev.get("DTEND")); got != "DTSTART;VALUE=DATE:20260328 DTEND;VALUE=DATE:20260331" {
				t.Errorf("got %s", got)
			}
			if strings.Contains(string(out), "VTIMEZONE") {
				t.Errorf("all-day event with a VTIMEZONE:\n%s", out)
			}
		})
	}
}

// TestKeepStoredZone: a client whose blob has the stored zone's rules
// keeps the stored TZID (here Outlook's Windows name) when it moves the
// event.
func TestKeepStoredZone(t *testing.T) {
	data := readTestdata(t, "event-monthly-last-friday.ics")
	opts := testOpts(eas.V141)
	app, err := ToEAS(ClassCalendar, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	setChild(app, wbxml.NSCalendar, "StartTime", "20260130T160000Z")
	setChild(app, wbxml.NSCalendar, "EndTime", "20260130T170000Z")
	out, _, err := FromEAS(ClassCalendar, app, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	ev := firstVEvent(t, out)
	if got := formatProp(ev.get("DTSTART")); got != `DTSTART;TZID=W. Europe Standard Time:20260130T170000` {
		t.Errorf("DTSTART %s", got)
	}
	if n := strings.Count(string(out), "BEGIN:VTIMEZONE"); n != 1 || !strings.Contains(string(out), "DTSTART:16011028T030000") {
		t.Errorf("VTIMEZONE not kept:\n%s", out)
	}
}

func setChild(e *wbxml.Element, space, name, text string) {
	if c := e.Child(space, name); c != nil {
		c.Text = text
		return
	}
	e.Add(wbxml.Text(space, name, text))
}

func removeChild(e *wbxml.Element, space, name string) {
	kept := e.Children[:0]
	for _, c := range e.Children {
		if !c.Is(space, name) {
			kept = append(kept, c)
		}
	}
	e.Children = kept
}
