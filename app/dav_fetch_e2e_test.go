package app_test

import (
	"context"
	"testing"

	"easbridge/app/config"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// itemOpsFetch is an ItemOperations Fetch by CollectionId and ServerId;
// it returns the Fetch answer.
func itemOpsFetch(t *testing.T, c *easclient.Client, coll, serverID string) *wbxml.Element {
	t.Helper()
	io, as := wbxml.NSItemOperations, wbxml.NSAirSync
	r, err := c.Do(context.Background(), "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
		wbxml.Text(io, "Store", "Mailbox"), wbxml.Text(as, "CollectionId", coll), wbxml.Text(as, "ServerId", serverID),
		wbxml.New(io, "Options", wbxml.New(wbxml.NSAirSyncBase, "BodyPreference", wbxml.Text(wbxml.NSAirSyncBase, "Type", "1"))))))
	if err != nil || r.Root == nil {
		t.Fatalf("ItemOperations: %v", err)
	}
	return r.Root.Child(io, "Response").Child(io, "Fetch")
}

// TestItemOperationsFetchGroupware: ItemOperations Fetch (MS-ASCMD
// 2.2.1.10) of a calendar, contact and task item of Radicale and of a note
// of the IMAP Notes mailbox answers the item as Sync sent it; an unknown
// ServerId answers Status 6.
func TestItemOperationsFetchGroupware(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.dovecot.CreateMailbox(t, "alice", "Notes")
	w.dovecot.Append(t, "alice", "Notes", []byte(appleNote))
	w.cfg.Accounts[0].Notes = config.NotesIMAP
	w.restart()
	c := w.client("16.1", "fetchphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	byType := map[int]string{}
	for _, f := range folderIDs(t, c) {
		byType[f.Type] = f.ServerID
	}
	io := wbxml.NSItemOperations
	for _, tc := range []struct {
		name, class string
		folder      int
		space, key  string // a field compared between Sync and Fetch
	}{
		{"calendar", "Calendar", 8, wbxml.NSCalendar, "Subject"},
		{"contacts", "Contacts", 9, wbxml.NSContacts, "FileAs"},
		{"tasks", "Tasks", 7, wbxml.NSTasks, "Subject"},
		{"notes", "Notes", 10, wbxml.NSNotes, "Subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			coll := byType[tc.folder]
			if coll == "" {
				t.Fatalf("no folder of type %d: %v", tc.folder, byType)
			}
			_, got := syncAll(t, c, coll)
			if len(got) == 0 {
				t.Fatalf("%s: nothing synced", tc.name)
			}
			for id, app := range got {
				want := app.ChildText(tc.space, tc.key)
				f := itemOpsFetch(t, c, coll, id)
				if st := f.ChildText(io, "Status"); st != "1" {
					t.Fatalf("fetch %s: status %s\n%s", id, st, wbxml.XMLString(f))
				}
				props := f.Child(io, "Properties")
				if f.ChildText(wbxml.NSAirSync, "Class") != tc.class || want == "" || props.ChildText(tc.space, tc.key) != want {
					t.Errorf("fetch %s: want class %s and %s %q\n%s", id, tc.class, tc.key, want, wbxml.XMLString(f))
				}
				if (props.Child(wbxml.NSAirSyncBase, "Body") == nil) != (app.Child(wbxml.NSAirSyncBase, "Body") == nil) {
					t.Errorf("fetch %s: body differs from Sync's\n%s\n%s", id, wbxml.XMLString(app), wbxml.XMLString(f))
				}
			}
			if st := itemOpsFetch(t, c, coll, coll+":9999").ChildText(io, "Status"); st != "6" {
				t.Errorf("unknown ServerId: status %s, want 6", st)
			}
		})
	}
}
