package app_test

import (
	"context"
	"strings"
	"testing"

	"easbridge/app"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// brokenEvent is an event Radicale stores but easbridge cannot convert:
// components nested deeper than the converter accepts (a guard against
// hostile input), as a buggy client could write them.
var brokenEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//poison//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:poison-1@example.test\r\nDTSTAMP:20261201T090000Z\r\nDTSTART:20261224T180000Z\r\nSUMMARY:Broken party\r\n" +
	strings.Repeat("BEGIN:X-NEST\r\n", 16) + "X-N:1\r\n" + strings.Repeat("END:X-NEST\r\n", 16) +
	"END:VEVENT\r\nEND:VCALENDAR\r\n"

const fixedEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//poison//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:poison-1@example.test\r\nDTSTAMP:20261201T090000Z\r\nDTSTART:20261224T180000Z\r\n" +
	"DTEND:20261224T230000Z\r\nSUMMARY:Fixed party\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func subjects(adds map[string]*wbxml.Element) []string {
	var out []string
	for _, d := range adds {
		out = append(out, d.ChildText(wbxml.NSCalendar, "Subject"))
	}
	return out
}

// pullAll syncs collection from key until nothing more is available and
// returns the last key, the adds and the number of requests.
func pullAll(t *testing.T, c *easclient.Client, coll, key string, window int) (string, map[string]*wbxml.Element, int) {
	t.Helper()
	adds := map[string]*wbxml.Element{}
	for n := 1; n <= 20; n++ {
		a := syncOnce(t, c, coll, key, window)
		if a.status != 1 {
			t.Fatalf("sync: status %d\n%s", a.status, wbxml.XMLString(a.root))
		}
		for id, d := range a.adds {
			adds[id] = d
		}
		key = a.key
		if !a.more {
			return key, adds, n
		}
	}
	t.Fatal("the folder never stopped sending MoreAvailable")
	return "", nil, 0
}

func poisonList(t *testing.T, rt *app.Runtime) []app.PoisonItem {
	t.Helper()
	items, err := rt.PoisonItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func TestPoisonEventAgainstRadicale(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := w.seed.Work + "poison-1.ics"
	w.dav.Put(t, "alice", path, "text/calendar", []byte(brokenEvent))
	c := w.client("16.1", "poisonphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	work := folderIDs(t, c)["Work"].ServerID
	prime := syncOnce(t, c, work, "0", 50)

	// The rest of the calendar syncs; the broken event is tried three
	// times (one per request: MoreAvailable brings the phone back) and then
	// set aside, so the folder settles.
	key, adds, requests := pullAll(t, c, work, prime.key, 50)
	want := len(w.seed.In(w.seed.Work))
	if len(adds) != want {
		t.Fatalf("got %d events %v, want the %d good ones", len(adds), subjects(adds), want)
	}
	for _, s := range subjects(adds) {
		if strings.Contains(s, "Broken") {
			t.Fatalf("the broken event was sent: %v", subjects(adds))
		}
	}
	if requests != 3 {
		t.Errorf("%d requests to settle, want 3 (one per try)", requests)
	}
	items := poisonList(t, w.rt)
	if len(items) != 1 {
		t.Fatalf("poison items %+v, want the broken event", items)
	}
	it := items[0]
	if it.Item != path || it.Kind != "convert" || it.State != app.PoisonSetAside || it.Tries != 3 ||
		!strings.Contains(it.Reason, "nested too deeply") || it.User != "alice@example.test" || it.DeviceID != "poisonphone" || it.Folder != w.seed.Work {
		t.Errorf("poison item %+v", it)
	}
	// Set aside: further syncs neither send nor count it.
	if a := syncOnce(t, c, work, key, 50); a.status != 1 || len(a.adds) != 0 || a.more {
		t.Fatalf("sync after setting aside: %+v", a)
	}
	if items := poisonList(t, w.rt); len(items) != 1 || items[0].Tries != 3 {
		t.Errorf("tries went on: %+v", items)
	}

	// Fixed on the server and retried from the window: the phone gets it.
	w.dav.Put(t, "alice", path, "text/calendar", []byte(fixedEvent))
	if err := w.rt.RetryPoisonItem(ctx, it.User, it.ID); err != nil {
		t.Fatal(err)
	}
	if items := poisonList(t, w.rt); len(items) != 1 || items[0].State != app.PoisonRetrying {
		t.Errorf("after Retry: %+v", items)
	}
	_, adds, _ = pullAll(t, c, work, key, 50)
	if got := subjects(adds); len(got) != 1 || got[0] != "Fixed party" {
		t.Fatalf("after the fix: %v", got)
	}
	if items := poisonList(t, w.rt); len(items) != 0 {
		t.Errorf("the sent item is still listed: %+v", items)
	}
}

func TestPoisonRepeatedWindowAndClientChange(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.client("16.1", "repeatphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	cal := folderIDs(t, c)["Calendar"].ServerID
	prime := syncOnce(t, c, cal, "0", 1)

	// The phone keeps failing to take the first one-item window: it sends
	// the same key again and again.
	first := syncOnce(t, c, cal, prime.key, 1)
	if len(first.adds) != 1 {
		t.Fatalf("first window: %+v", first)
	}
	var firstID, firstSubject string
	for id, d := range first.adds {
		firstID, firstSubject = id, d.ChildText(wbxml.NSCalendar, "Subject")
	}
	for try := 1; try <= 2; try++ {
		again := syncOnce(t, c, cal, prime.key, 1)
		if _, ok := again.adds[firstID]; !ok || again.status != 1 {
			t.Fatalf("repeat %d: the same window is sent again, got %+v", try, again)
		}
	}
	third := syncOnce(t, c, cal, prime.key, 1)
	if _, ok := third.adds[firstID]; ok || third.status != 1 || !third.more {
		t.Fatalf("third repeat: the window's item must be set aside and the folder go on: %+v", third)
	}
	key, adds, _ := pullAll(t, c, cal, third.key, 1)
	for _, s := range subjects(adds) {
		if s == firstSubject {
			t.Fatalf("the set-aside item %q was sent", s)
		}
	}
	if len(adds) != len(w.seed.In(w.seed.Calendar))-1 {
		t.Errorf("got %d of the others, want %d", len(adds), len(w.seed.In(w.seed.Calendar))-1)
	}
	items := poisonList(t, w.rt)
	if len(items) != 1 || items[0].Kind != "window" || items[0].State != app.PoisonSetAside || !strings.Contains(items[0].Reason, "SyncKey") {
		t.Fatalf("poison items %+v", items)
	}

	// Retry: sent again although nothing changed on the server.
	if err := w.rt.RetryPoisonItem(ctx, items[0].User, items[0].ID); err != nil {
		t.Fatal(err)
	}
	key, adds, _ = pullAll(t, c, cal, key, 1)
	if got := subjects(adds); len(got) != 1 || got[0] != firstSubject {
		t.Fatalf("after Retry: %v, want %q", got, firstSubject)
	}

	// A change the phone keeps sending for an item that fails: Status 8
	// twice, then 6 (stop resending) with the item listed.
	bad := cal + ":9999"
	change := func() int {
		a := syncOnce(t, c, cal, key, 10, wbxml.New(wbxml.NSAirSync, "Change",
			wbxml.Text(wbxml.NSAirSync, "ServerId", bad),
			wbxml.New(wbxml.NSAirSync, "ApplicationData", wbxml.Text(wbxml.NSCalendar, "Subject", "x"))))
		key = a.key
		for _, r := range a.resp {
			if r.ChildText(wbxml.NSAirSync, "ServerId") == bad {
				st, _ := r.ChildInt(wbxml.NSAirSync, "Status")
				return st
			}
		}
		t.Fatalf("no response for %s: %s", bad, wbxml.XMLString(a.root))
		return 0
	}
	for i, want := range []int{8, 8, 6} {
		if got := change(); got != want {
			t.Errorf("change try %d: status %d, want %d", i+1, got, want)
		}
	}
	var client *app.PoisonItem
	for _, it := range poisonList(t, w.rt) {
		if it.Kind == "client" {
			client = &it
		}
	}
	if client == nil || client.Item != "change:"+bad || client.State != app.PoisonSetAside {
		t.Fatalf("client change not listed: %+v", poisonList(t, w.rt))
	}
	// Skip for good: still listed, as skipped.
	if err := w.rt.SkipPoisonItem(ctx, client.User, client.ID); err != nil {
		t.Fatal(err)
	}
	if items := poisonList(t, w.rt); len(items) != 1 || items[0].State != app.PoisonSkipped {
		t.Errorf("after skip: %+v", items)
	}
	if err := w.rt.SkipPoisonItem(ctx, "alice@example.test", "nope"); err == nil {
		t.Error("skipping an unknown item succeeded")
	}
}

func TestPoisonRepeatedMailWindowAgainstDovecot(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, s := range []string{"one", "two", "three"} {
		w.dovecot.Append(t, "alice", "INBOX", []byte("From: bob@example.test\r\nTo: alice@example.test\r\nSubject: "+s+
			"\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n"))
	}
	c := w.client("16.1", "mailrepeat")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	inbox, _, _ := inboxID(t, c)
	prime := syncOnce(t, c, inbox, "0", 1)
	first := syncOnce(t, c, inbox, prime.key, 1)
	if len(first.adds) != 1 {
		t.Fatalf("first window: %+v", first)
	}
	var subject string
	for _, d := range first.adds {
		subject = subjectOf(d)
	}
	for try := 1; try <= 3; try++ {
		a := syncOnce(t, c, inbox, prime.key, 1)
		sent := false
		for _, d := range a.adds {
			sent = sent || subjectOf(d) == subject
		}
		if sent != (try < 3) {
			t.Fatalf("repeat %d: %q sent %v", try, subject, sent)
		}
		first = a
	}
	key := first.key
	got := map[string]bool{}
	for i := 0; i < 10; i++ {
		a := syncOnce(t, c, inbox, key, 1)
		for _, d := range a.adds {
			got[subjectOf(d)] = true
		}
		key = a.key
		if !a.more {
			break
		}
	}
	if len(got) != 2 || got[subject] {
		t.Fatalf("after setting aside %q: %v", subject, got)
	}
	items := poisonList(t, w.rt)
	if len(items) != 1 || !strings.HasPrefix(items[0].Item, "uid:") || items[0].Folder != "INBOX" || items[0].Kind != "window" {
		t.Fatalf("poison items %+v", items)
	}
	// Retry: the next Sync sends it though nothing changed in the mailbox.
	if err := w.rt.RetryPoisonItem(ctx, items[0].User, items[0].ID); err != nil {
		t.Fatal(err)
	}
	a := syncOnce(t, c, inbox, key, 5)
	if len(a.adds) != 1 {
		t.Fatalf("after Retry: %+v", a)
	}
	for _, d := range a.adds {
		if subjectOf(d) != subject {
			t.Errorf("after Retry got %q, want %q", subjectOf(d), subject)
		}
	}
	if items := poisonList(t, w.rt); len(items) != 0 {
		t.Errorf("still listed: %+v", items)
	}
}
