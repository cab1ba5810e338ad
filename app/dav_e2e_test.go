package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// davWorld is newWorld with the seed kept for the checks.
func davWorld(t *testing.T) (*world, testenv.DAVSeed) {
	w := newWorld(t)
	return w, w.seed
}

func folderIDs(t *testing.T, c *easclient.Client) map[string]easclient.Folder {
	_, folders, r, err := c.FolderSync(context.Background(), "0")
	if err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync: %v", err)
	}
	out := map[string]easclient.Folder{}
	for _, f := range folders {
		out[f.DisplayName] = f
	}
	return out
}

// syncAll primes a collection and pulls every window.
func syncAll(t *testing.T, c *easclient.Client, coll string) (string, map[string]*wbxml.Element) {
	t.Helper()
	a := syncOnce(t, c, coll, "0", 100)
	key := a.key
	got := map[string]*wbxml.Element{}
	for i := 0; i < 20; i++ {
		a = syncOnce(t, c, coll, key, 50)
		if a.status != 1 {
			t.Fatalf("sync %s: status %d\n%s", coll, a.status, wbxml.XMLString(a.root))
		}
		for id, d := range a.adds {
			got[id] = d
		}
		key = a.key
		if !a.more {
			break
		}
	}
	return key, got
}

func TestCalendarAndContactsAgainstRadicale(t *testing.T) {
	w, seed := davWorld(t)
	ctx := context.Background()
	c := w.client("16.1", "davphone1")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	fs := folderIDs(t, c)
	var calID, contactsID string
	for _, f := range fs {
		switch f.Type {
		case 8:
			calID = f.ServerID
		case 9:
			contactsID = f.ServerID
		}
	}
	if calID == "" || contactsID == "" {
		t.Fatalf("no default calendar/contacts folder: %+v", fs)
	}

	key, events := syncAll(t, c, calID)
	want := seed.In(seed.Calendar)
	if len(events) != len(want) {
		t.Fatalf("calendar: %d events, want %d", len(events), len(want))
	}
	bySubject := map[string]string{}
	for id, d := range events {
		bySubject[d.ChildText(wbxml.NSCalendar, "Subject")] = id
	}
	for _, o := range want {
		if _, ok := bySubject[o.Summary]; !ok {
			t.Errorf("event %q missing (have %v)", o.Summary, keys(bySubject))
		}
	}

	// A new event from the phone lands in Radicale.
	ns := wbxml.NSAirSync
	cal := wbxml.NSCalendar
	add := wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "client-ev-1"), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "DtStamp", "20261201T090000Z"),
		wbxml.Text(cal, "StartTime", "20261210T090000Z"),
		wbxml.Text(cal, "EndTime", "20261210T100000Z"),
		wbxml.Text(cal, "Subject", "Root canal"),
		wbxml.Text(cal, "AllDayEvent", "0"),
		wbxml.Text(cal, "BusyStatus", "2"),
		wbxml.Text(cal, "Sensitivity", "0"),
		wbxml.Text(cal, "MeetingStatus", "0")))
	a := syncOnce(t, c, calID, key, 100, add)
	if a.status != 1 || len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("add event: %s", wbxml.XMLString(a.root))
	}
	newID := a.resp[0].ChildText(ns, "ServerId")
	key = a.key
	// The same Add again (the answer was lost) is not a duplicate.
	a2 := syncOnce(t, c, calID, key, 100, add)
	if len(a2.resp) != 1 || a2.resp[0].ChildText(ns, "ServerId") != newID {
		t.Fatalf("repeated add: %s", wbxml.XMLString(a2.root))
	}
	key = a2.key
	other := w.client("16.1", "davphone2")
	if _, err := other.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	folderIDs(t, other)
	_, otherEvents := syncAll(t, other, calID)
	found := 0
	for _, d := range otherEvents {
		if d.ChildText(cal, "Subject") == "Root canal" {
			found++
		}
	}
	if found != 1 || len(otherEvents) != len(want)+1 {
		for id, d := range otherEvents {
			t.Logf("%s: %s", id, wbxml.XMLString(d))
		}
		t.Fatalf("second device sees %d events, %d root canals", len(otherEvents), found)
	}

	// A change on the server (another client) shows up; a deletion too.
	first := want[0]
	changed := strings.Replace(string(first.Body), "SUMMARY:"+first.Summary, "SUMMARY:"+first.Summary+" (moved)", 1)
	w.dav.Put(t, "alice", first.Path, "text/calendar", []byte(changed))
	w.dav.Delete(t, "alice", want[1].Path)
	// GetItemEstimate sees the two server changes before the Sync.
	ie := wbxml.NSItemEstimate
	r, err := c.Do(ctx, "GetItemEstimate", wbxml.New(ie, "GetItemEstimate", wbxml.New(ie, "Collections",
		wbxml.New(ie, "Collection", wbxml.Text(wbxml.NSAirSync, "SyncKey", key), wbxml.Text(ie, "CollectionId", calID)))))
	if err != nil || r.Root.Child(ie, "Response").Child(ie, "Collection").ChildText(ie, "Estimate") != "2" {
		t.Errorf("GetItemEstimate: %v %s", err, wbxml.XMLString(r.Root))
	}
	a = syncOnce(t, c, calID, key, 100)
	if a.status != 1 || len(a.changes) != 1 || len(a.deletes) != 1 {
		t.Fatalf("server changes: %s", wbxml.XMLString(a.root))
	}
	for _, d := range a.changes {
		if got := d.ChildText(cal, "Subject"); got != first.Summary+" (moved)" {
			t.Errorf("changed subject %q", got)
		}
	}
	key = a.key

	// A change from the phone reaches Radicale.
	ch := wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", newID), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "DtStamp", "20261201T090000Z"),
		wbxml.Text(cal, "StartTime", "20261210T110000Z"),
		wbxml.Text(cal, "EndTime", "20261210T120000Z"),
		wbxml.Text(cal, "Subject", "Root canal (later)"),
		wbxml.Text(cal, "AllDayEvent", "0")))
	a = syncOnce(t, c, calID, key, 100, ch)
	if a.status != 1 || len(a.resp) != 0 {
		t.Fatalf("client change: %s", wbxml.XMLString(a.root))
	}
	key = a.key
	a = syncOnce(t, other, calID, "0", 100) // fresh view on the other device
	_, otherEvents = syncAll(t, other, calID)
	later := false
	for _, d := range otherEvents {
		later = later || d.ChildText(cal, "Subject") == "Root canal (later)"
	}
	if !later {
		t.Error("the phone's change did not reach Radicale")
	}

	// 16.x: deleting one occurrence of the daily standup adds an EXDATE.
	standupID := bySubject["Daily standup"]
	start, err := time.Parse("20060102T150405Z", events[standupID].ChildText(cal, "StartTime"))
	if err != nil {
		t.Fatalf("standup start: %v", err)
	}
	second := start.Add(24 * time.Hour)
	a = syncOnce(t, c, calID, key, 100, wbxml.New(ns, "Delete", wbxml.Text(ns, "ServerId", standupID),
		wbxml.Text(wbxml.NSAirSyncBase, "InstanceId", second.Format("2006-01-02T15:04:05.000Z"))))
	if a.status != 1 || len(a.resp) != 0 {
		t.Fatalf("delete one occurrence: %s", wbxml.XMLString(a.root))
	}
	var standup testenv.DAVObject
	for _, o := range want {
		if o.Summary == "Daily standup" {
			standup = o
		}
	}
	body, _ := w.dav.Get(t, "alice", standup.Path)
	if !strings.Contains(string(body), "EXDATE") || !strings.Contains(string(body), second.Format("20060102T150405Z")) {
		t.Errorf("no EXDATE for %s in:\n%s", second, body)
	}

	// Contacts.
	_, contacts := syncAll(t, c, contactsID)
	if len(contacts) != len(seed.In(seed.Contacts)) {
		t.Fatalf("contacts: %d, want %d", len(contacts), len(seed.In(seed.Contacts)))
	}
	for _, d := range contacts {
		if d.ChildText(wbxml.NSContacts, "FileAs") == "" && d.ChildText(wbxml.NSContacts, "FirstName") == "" && d.ChildText(wbxml.NSContacts, "LastName") == "" {
			t.Errorf("contact without a name: %s", wbxml.XMLString(d))
		}
	}
}
