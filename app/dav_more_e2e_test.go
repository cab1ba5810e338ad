package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/emersion/go-ical"

	"easbridge/app"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// More DAV checks against Radicale: 16.x occurrence changes, time zones on
// DST edges, concurrent edits, items that cannot be read and writes the
// server refuses. What Radicale stores is parsed (go-ical) and checked.

// radicaleEvents parses a stored calendar object.
func radicaleEvents(t *testing.T, body []byte) []ical.Event {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("Radicale stores what go-ical cannot read: %v\n%s", err, body)
	}
	return cal.Events()
}

func propTime(t *testing.T, e ical.Event, name string) time.Time {
	t.Helper()
	p := e.Props.Get(name)
	if p == nil {
		t.Fatalf("no %s in %v", name, e.Props)
	}
	v, err := p.DateTime(time.UTC)
	if err != nil {
		t.Fatalf("%s %q: %v", name, p.Value, err)
	}
	return v
}

// calendarFolder creates a calendar in Radicale and returns its path and
// the phone's ServerId for it.
func calendarFolder(t *testing.T, w *world, c *easclient.Client, name string) (string, string) {
	t.Helper()
	path := w.dav.MakeCalendar(t, "alice", name, name)
	f, ok := folderIDs(t, c)[name]
	if !ok {
		t.Fatalf("no folder %q", name)
	}
	return path, f.ServerID
}

func davPhone(t *testing.T, w *world, version, device string) *easclient.Client {
	t.Helper()
	c := w.client(version, device)
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

const icalUTC = "20060102T150405Z"

// TestDAVInstanceChange: a 16.x Change with an InstanceId becomes a
// RECURRENCE-ID override of that occurrence in Radicale; the series and
// its other occurrences stay as they were.
func TestDAVInstanceChange(t *testing.T) {
	w := newWorld(t)
	c := davPhone(t, w, "16.1", "instancephone")
	path, coll := calendarFolder(t, w, c, "series")
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 3).Add(8 * time.Hour)
	w.dav.Put(t, "alice", path+"weekly.ics", "text/calendar", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\n"+
		"BEGIN:VEVENT\r\nUID:weekly-review@example.test\r\nDTSTAMP:"+start.Format(icalUTC)+"\r\nDTSTART:"+start.Format(icalUTC)+
		"\r\nDURATION:PT30M\r\nRRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Weekly review\r\nLOCATION:Room 4\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	key, got := syncAll(t, c, coll)
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	var id string
	for id = range got {
	}
	third := start.AddDate(0, 0, 14)
	moved := third.Add(90 * time.Minute)
	ns, cal := wbxml.NSAirSync, wbxml.NSCalendar
	a := syncOnce(t, c, coll, key, 100, wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", id),
		wbxml.Text(wbxml.NSAirSyncBase, "InstanceId", third.Format("2006-01-02T15:04:05.000Z")),
		wbxml.New(ns, "ApplicationData",
			wbxml.Text(cal, "StartTime", moved.Format(icalUTC)),
			wbxml.Text(cal, "EndTime", moved.Add(45*time.Minute).Format(icalUTC)),
			wbxml.Text(cal, "Subject", "Weekly review (moved)"))))
	if a.status != 1 || len(a.resp) != 0 {
		t.Fatalf("instance change: %s", wbxml.XMLString(a.root))
	}
	body, _ := w.dav.Get(t, "alice", path+"weekly.ics")
	events := radicaleEvents(t, body)
	if len(events) != 2 {
		t.Fatalf("%d VEVENTs, want the series and one override:\n%s", len(events), body)
	}
	var master, override *ical.Event
	for i := range events {
		if events[i].Props.Get("RECURRENCE-ID") != nil {
			override = &events[i]
		} else {
			master = &events[i]
		}
	}
	if master == nil || override == nil {
		t.Fatalf("no master/override pair:\n%s", body)
	}
	if s, _ := master.Props.Text("SUMMARY"); s != "Weekly review" || master.Props.Get("RRULE") == nil ||
		!propTime(t, *master, "DTSTART").Equal(start) || master.Props.Get("EXDATE") != nil {
		t.Errorf("series changed:\n%s", body)
	}
	if !propTime(t, *override, "RECURRENCE-ID").Equal(third) || !propTime(t, *override, "DTSTART").Equal(moved) ||
		!propTime(t, *override, "DTEND").Equal(moved.Add(45*time.Minute)) {
		t.Errorf("override times:\n%s", body)
	}
	if s, _ := override.Props.Text("SUMMARY"); s != "Weekly review (moved)" {
		t.Errorf("override summary %q", s)
	}
	if uid, _ := override.Props.Text("UID"); uid != "weekly-review@example.test" {
		t.Errorf("override UID %q", uid)
	}
	// A second device sees the exception.
	other := davPhone(t, w, "16.1", "instancephone2")
	folderIDs(t, other)
	_, got = syncAll(t, other, coll)
	for _, d := range got {
		ex := d.Child(cal, "Exceptions")
		if ex == nil || len(ex.All(cal, "Exception")) != 1 {
			t.Fatalf("no exception on the other device: %s", wbxml.XMLString(d))
		}
		e := ex.Child(cal, "Exception")
		if e.ChildText(cal, "Subject") != "Weekly review (moved)" || e.ChildText(cal, "StartTime") != moved.Format(icalUTC) {
			t.Errorf("exception: %s", wbxml.XMLString(e))
		}
	}
}

// tzBlob is the EAS TimeZone element (MS-ASDTYPE 2.2.2.2.1; MS-ASCAL
// 2.2.2.42): biases in minutes, transition rules as SYSTEMTIMEs with
// wDay = week of the month (5 = last).
func tzBlob(bias int32, std, dst [4]uint16, dstBias int32) string {
	b := make([]byte, 0, 172)
	name := func(s string) {
		u := utf16.Encode([]rune(s))
		for i := 0; i < 32; i++ {
			var c uint16
			if i < len(u) {
				c = u[i]
			}
			b = binary.LittleEndian.AppendUint16(b, c)
		}
	}
	systime := func(r [4]uint16) { // month, day of week, week, hour
		for _, v := range []uint16{0, r[0], r[1], r[2], r[3], 0, 0, 0} {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(bias))
	name("Standard")
	systime(std)
	b = binary.LittleEndian.AppendUint32(b, 0)
	name("Daylight")
	systime(dst)
	b = binary.LittleEndian.AppendUint32(b, uint32(dstBias))
	return base64.StdEncoding.EncodeToString(b)
}

// TestDAVTimeZonesOnDSTEdges: events at 02:30 on spring-forward days
// (a local time that does not exist) in Europe/Berlin, America/New_York
// and Australia/Sydney, and an all-day event across a change, both ways.
func TestDAVTimeZonesOnDSTEdges(t *testing.T) {
	w := newWorld(t)
	c := davPhone(t, w, "16.1", "dstphone")
	path, coll := calendarFolder(t, w, c, "dst")
	zones := []struct {
		tzid                 string
		day                  string    // the spring-forward day
		wantStart, wantEnd   time.Time // 02:30 read with the offset before the gap (RFC 5545 3.3.5), 04:00 after
		blob                 string
		phoneStart, phoneEnd time.Time // what the phone sends: 03:30–04:30 local, just after the gap
		wantLocal            string    // DTSTART as wall time in Radicale
	}{
		{"Europe/Berlin", "20260329", time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 2, 0, 0, 0, time.UTC),
			tzBlob(-60, [4]uint16{10, 0, 5, 3}, [4]uint16{3, 0, 5, 2}, -60),
			time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC), "20260329T033000"},
		{"America/New_York", "20260308", time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC),
			tzBlob(300, [4]uint16{11, 0, 1, 2}, [4]uint16{3, 0, 2, 2}, -60),
			time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), time.Date(2026, 3, 8, 8, 30, 0, 0, time.UTC), "20260308T033000"},
		{"Australia/Sydney", "20261004", time.Date(2026, 10, 3, 16, 30, 0, 0, time.UTC), time.Date(2026, 10, 3, 17, 0, 0, 0, time.UTC),
			tzBlob(-600, [4]uint16{4, 0, 1, 3}, [4]uint16{10, 0, 1, 2}, -60),
			time.Date(2026, 10, 3, 16, 30, 0, 0, time.UTC), time.Date(2026, 10, 3, 17, 30, 0, 0, time.UTC), "20261004T033000"},
	}
	for i, z := range zones {
		w.dav.Put(t, "alice", fmt.Sprintf("%sgap-%d.ics", path, i), "text/calendar", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\n"+
			"BEGIN:VEVENT\r\nUID:gap-"+z.tzid+"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID="+z.tzid+":"+z.day+"T023000\r\n"+
			"DTEND;TZID="+z.tzid+":"+z.day+"T040000\r\nSUMMARY:Gap "+z.tzid+"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	}
	w.dav.Put(t, "alice", path+"allday.ics", "text/calendar", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\n"+
		"BEGIN:VEVENT\r\nUID:allday-dst\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260328\r\nDTEND;VALUE=DATE:20260331\r\n"+
		"SUMMARY:Weekend trip\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))

	cal, ns := wbxml.NSCalendar, wbxml.NSAirSync
	key, got := syncAll(t, c, coll)
	bySubject := map[string]*wbxml.Element{}
	for _, d := range got {
		bySubject[d.ChildText(cal, "Subject")] = d
	}
	for _, z := range zones {
		d := bySubject["Gap "+z.tzid]
		if d == nil {
			t.Fatalf("no event for %s", z.tzid)
		}
		if s, e := d.ChildText(cal, "StartTime"), d.ChildText(cal, "EndTime"); s != z.wantStart.Format(icalUTC) || e != z.wantEnd.Format(icalUTC) {
			t.Errorf("%s: phone got %s–%s, want %s–%s", z.tzid, s, e, z.wantStart.Format(icalUTC), z.wantEnd.Format(icalUTC))
		}
		if d.ChildText(cal, "Timezone") == "" {
			t.Errorf("%s: no Timezone", z.tzid)
		}
	}
	if d := bySubject["Weekend trip"]; d == nil || d.ChildText(cal, "AllDayEvent") != "1" ||
		d.ChildText(cal, "StartTime") != "20260328T000000Z" || d.ChildText(cal, "EndTime") != "20260331T000000Z" {
		t.Errorf("all-day across DST: %v", bySubject["Weekend trip"])
	}

	// Phone to Radicale: the time after the gap, in the phone's zone.
	var adds []*wbxml.Element
	for i, z := range zones {
		adds = append(adds, wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", fmt.Sprintf("dst-%d", i)), wbxml.New(ns, "ApplicationData",
			wbxml.Text(cal, "Timezone", z.blob),
			wbxml.Text(cal, "StartTime", z.phoneStart.Format(icalUTC)),
			wbxml.Text(cal, "EndTime", z.phoneEnd.Format(icalUTC)),
			wbxml.Text(cal, "Subject", "From phone "+z.tzid),
			wbxml.Text(cal, "AllDayEvent", "0"))))
	}
	a := syncOnce(t, c, coll, key, 100, adds...)
	if a.status != 1 || len(a.resp) != len(zones) {
		t.Fatalf("adds: %s", wbxml.XMLString(a.root))
	}
	for _, r := range a.resp {
		if r.ChildText(ns, "Status") != "1" {
			t.Fatalf("add refused: %s", wbxml.XMLString(r))
		}
	}
	stored := storedEvents(t, w, path)
	for _, z := range zones {
		e, ok := stored["From phone "+z.tzid]
		if !ok {
			t.Fatalf("no stored event for %s", z.tzid)
		}
		p := e.Props.Get("DTSTART")
		if !propTime(t, e, "DTSTART").Equal(z.phoneStart) || !propTime(t, e, "DTEND").Equal(z.phoneEnd) {
			t.Errorf("%s: stored %s", z.tzid, p.Value)
		}
		if p.Params.Get("TZID") == "" || p.Value != z.wantLocal {
			t.Errorf("%s: DTSTART %s;TZID=%s, want local %s with a TZID", z.tzid, p.Value, p.Params.Get("TZID"), z.wantLocal)
		}
	}

	// A 14.1 phone sends an all-day event as local midnights in its zone;
	// Radicale gets dates, across the change.
	old := davPhone(t, w, "14.1", "dstphone14")
	folderIDs(t, old)
	k14 := syncOnce(t, old, coll, "0", 100).key
	a = syncOnce(t, old, coll, k14, 100, wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "allday-14"), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "Timezone", zones[0].blob),
		wbxml.Text(cal, "StartTime", "20260327T230000Z"), wbxml.Text(cal, "EndTime", "20260330T220000Z"),
		wbxml.Text(cal, "Subject", "Long weekend"), wbxml.Text(cal, "AllDayEvent", "1"))))
	if len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("all-day add: %s", wbxml.XMLString(a.root))
	}
	e := storedEvents(t, w, path)["Long weekend"]
	if s, en := e.Props.Get("DTSTART"), e.Props.Get("DTEND"); s == nil || en == nil || s.Value != "20260328" || en.Value != "20260331" ||
		s.ValueType() != ical.ValueDate {
		t.Errorf("stored all-day event: %v", e.Props)
	}
}

// storedEvents parses every object of a Radicale calendar by SUMMARY.
func storedEvents(t *testing.T, w *world, path string) map[string]ical.Event {
	t.Helper()
	out := map[string]ical.Event{}
	for _, p := range w.dav.List(t, "alice", path) {
		body, _ := w.dav.Get(t, "alice", p)
		for _, e := range radicaleEvents(t, body) {
			s, _ := e.Props.Text("SUMMARY")
			out[s] = e
		}
	}
	return out
}

// TestDAVConcurrentEdits: a phone's change to an event that another
// client changed since does not overwrite it (server wins, the default);
// a delete meets Radicale's 412 and the item comes back; a change of an
// untouched item goes through.
func TestDAVConcurrentEdits(t *testing.T) {
	w := newWorld(t)
	c := davPhone(t, w, "16.1", "conflictphone")
	path, coll := calendarFolder(t, w, c, "shared")
	ev := func(uid, summary string) []byte {
		return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
			"\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\nSUMMARY:" + summary +
			"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	}
	for _, n := range []string{"a", "b", "c"} {
		w.dav.Put(t, "alice", path+n+".ics", "text/calendar", ev(n, "Event "+n))
	}
	key, got := syncAll(t, c, coll)
	ids := map[string]string{}
	for id, d := range got {
		ids[d.ChildText(wbxml.NSCalendar, "Subject")] = id
	}
	// Another client edits a and b.
	w.dav.Put(t, "alice", path+"a.ics", "text/calendar", ev("a", "Event a (server)"))
	w.dav.Put(t, "alice", path+"b.ics", "text/calendar", ev("b", "Event b (server)"))
	ns, cal := wbxml.NSAirSync, wbxml.NSCalendar
	change := func(id, subject string) *wbxml.Element {
		return wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", id), wbxml.New(ns, "ApplicationData",
			wbxml.Text(cal, "StartTime", "20261210T100000Z"), wbxml.Text(cal, "EndTime", "20261210T110000Z"),
			wbxml.Text(cal, "Subject", subject)))
	}
	a := syncOnce(t, c, coll, key, 100,
		change(ids["Event a"], "Event a (phone)"),
		wbxml.New(ns, "Delete", wbxml.Text(ns, "ServerId", ids["Event b"])),
		change(ids["Event c"], "Event c (phone)"))
	if a.status != 1 {
		t.Fatalf("sync: %s", wbxml.XMLString(a.root))
	}
	for _, tc := range []struct{ file, want string }{
		{"a.ics", "Event a (server)"}, {"b.ics", "Event b (server)"}, {"c.ics", "Event c (phone)"},
	} {
		body, _ := w.dav.Get(t, "alice", path+tc.file)
		if s, _ := radicaleEvents(t, body)[0].Props.Text("SUMMARY"); s != tc.want {
			t.Errorf("%s holds %q, want %q", tc.file, s, tc.want)
		}
	}
	// The phone gets the server's versions of a and b (b back after its
	// refused delete), in this answer or the next.
	seen := map[string]string{}
	for i := 0; i < 3; i++ {
		for id, d := range a.changes {
			seen[id] = d.ChildText(cal, "Subject")
		}
		for id, d := range a.adds {
			seen[id] = d.ChildText(cal, "Subject")
		}
		if !a.more && i > 0 {
			break
		}
		a = syncOnce(t, c, coll, a.key, 100)
	}
	if seen[ids["Event a"]] != "Event a (server)" {
		t.Errorf("server version of a not sent: %v", seen)
	}
	back := false
	for _, s := range seen {
		back = back || s == "Event b (server)"
	}
	if !back {
		t.Errorf("b did not come back after the refused delete: %v", seen)
	}
}

// TestDAVBadItemAndRefusedWrite: an object the converter cannot read is
// skipped with a log entry while the rest of the folder syncs; a write
// Radicale refuses gets an error status for that item only.
func TestDAVBadItemAndRefusedWrite(t *testing.T) {
	w := newWorld(t)
	logs := captureLog(w)
	c := davPhone(t, w, "16.1", "badphone")
	path := w.dav.MakeCalendar(t, "alice", "mixed", "mixed", "VEVENT", "VTODO")
	coll := folderIDs(t, c)["mixed"].ServerID
	good := func(uid string) []byte {
		return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
			"\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\nSUMMARY:Good " + uid +
			"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	}
	w.dav.Put(t, "alice", path+"good1.ics", "text/calendar", good("good1"))
	// Radicale mends or refuses broken iCalendar on PUT, so the item EAS
	// cannot show is a task in this calendar that also allows VTODO.
	w.dav.Put(t, "alice", path+"bad.ics", "text/calendar", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\n"+
		"BEGIN:VTODO\r\nUID:bad\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:A task among events\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"))
	w.dav.Put(t, "alice", path+"good2.ics", "text/calendar", good("good2"))
	key, got := syncAll(t, c, coll)
	var subjects []string
	for _, d := range got {
		subjects = append(subjects, d.ChildText(wbxml.NSCalendar, "Subject"))
	}
	if len(got) != 2 {
		t.Fatalf("synced %q, want the two good events", subjects)
	}
	if !strings.Contains(logs.String(), "conversion failed") || !strings.Contains(logs.String(), "bad.ics") {
		t.Errorf("no log entry for the skipped item:\n%s", logs.String())
	}

	// Two adds: the second reuses the UID of good1 under another name,
	// which Radicale refuses (RFC 4791 5.3.2.1 no-uid-conflict).
	ns, cal := wbxml.NSAirSync, wbxml.NSCalendar
	add := func(cid, subject, uid string) *wbxml.Element {
		app := wbxml.New(ns, "ApplicationData", wbxml.Text(cal, "StartTime", "20261211T100000Z"),
			wbxml.Text(cal, "EndTime", "20261211T110000Z"), wbxml.Text(cal, "Subject", subject))
		if uid != "" {
			app.Add(wbxml.Text(cal, "ClientUid", uid))
		}
		return wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", cid), app)
	}
	a := syncOnce(t, c, coll, key, 100, add("ok", "Fine", ""), add("clash", "Clash", "good1"))
	if a.status != 1 || len(a.resp) != 2 {
		t.Fatalf("adds: %s", wbxml.XMLString(a.root))
	}
	status := map[string]string{}
	for _, r := range a.resp {
		status[r.ChildText(ns, "ClientId")] = r.ChildText(ns, "Status")
	}
	if status["ok"] != "1" || status["clash"] == "1" || status["clash"] == "" {
		t.Errorf("statuses %v: want 1 for the good add and an error for the refused one", status)
	}
	stored := storedEvents(t, w, path)
	if _, ok := stored["Fine"]; !ok {
		t.Error("the good add is not in Radicale")
	}
	if _, ok := stored["Clash"]; ok {
		t.Error("the refused add is in Radicale")
	}
	if s, ok := stored["Good good1"]; !ok || s.Props.Get("UID").Value != "good1" {
		t.Error("the refused add touched the existing event")
	}
}

// logBuffer collects the runtime's log output.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureLog restarts the world's runtime with its warnings also written
// to the returned buffer.
func captureLog(w *world) *logBuffer {
	w.t.Helper()
	buf := &logBuffer{}
	if err := w.rt.Close(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.cfg.Listen = w.rt.Addr()
	rt, err := app.Start(context.Background(), w.cfg, slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, buf), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		w.t.Fatal(err)
	}
	w.rt = rt
	w.t.Cleanup(func() { rt.Close(context.Background()) })
	return buf
}
