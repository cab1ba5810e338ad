package app_test

import (
	"strings"
	"testing"

	"easbridge/app"
	"easbridge/server/wbxml"
)

// TestMergedAddressBooksAgainstRealServers: Office merged into Contacts;
// the phone sees both books' cards in one folder, and a card added on the
// phone goes to the default book (the merge target), not to Office.
func TestMergedAddressBooksAgainstRealServers(t *testing.T) {
	w, seed := davWorld(t)
	p := newModePhone(t, w, "mergephone2")
	const userContactsType = 14
	contactsID, officeID := p.named("Contacts", contactsType), p.named("Office", userContactsType)
	key, own := syncAll(t, p.c, contactsID)

	setMode(t, w, "mergephone2", app.FolderSetting{Key: "carddav:" + seed.Office, Mode: app.ModeMerged, MergeInto: "carddav:" + seed.Contacts})
	if adds, dels := p.folderSync(); len(adds) != 0 || len(dels) != 1 || dels[0].ServerID != officeID {
		t.Fatalf("merge: adds %v deletes %v", names(adds), names(dels))
	}
	office := seed.In(seed.Office)
	a := syncOnce(t, p.c, contactsID, key, 100)
	if a.status != 1 || len(a.adds) != len(office) {
		t.Fatalf("merged sync: status %d, %d adds, want Office's %d: %s", a.status, len(a.adds), len(office), wbxml.XMLString(a.root))
	}
	for id := range a.adds {
		if _, dup := own[id]; dup {
			t.Errorf("ServerId %s used twice across merged books", id)
		}
	}
	beforeContacts, beforeOffice := len(w.dav.List(t, "alice", seed.Contacts)), len(w.dav.List(t, "alice", seed.Office))
	ns, c := wbxml.NSAirSync, wbxml.NSContacts
	add := wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "mc-1"), wbxml.New(ns, "ApplicationData",
		wbxml.Text(c, "FirstName", "Merged"), wbxml.Text(c, "LastName", "Newcomer"),
		wbxml.Text(c, "Email1Address", "newcomer@example.test")))
	a = syncOnce(t, p.c, contactsID, a.key, 100, add)
	if a.status != 1 || len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("add: %s", wbxml.XMLString(a.root))
	}
	afterContacts, afterOffice := w.dav.List(t, "alice", seed.Contacts), w.dav.List(t, "alice", seed.Office)
	if len(afterContacts) != beforeContacts+1 || len(afterOffice) != beforeOffice {
		t.Fatalf("after the add: Contacts %d (was %d), Office %d (was %d)", len(afterContacts), beforeContacts, len(afterOffice), beforeOffice)
	}
	found := false
	for _, path := range afterContacts {
		if body, _ := w.dav.Get(t, "alice", path); strings.Contains(string(body), "newcomer@example.test") {
			found = true
		}
	}
	if !found {
		t.Error("the phone's card is not in Contacts")
	}
}
