package app_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"easbridge/app/config"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// imapMailbox returns the raw messages of a Dovecot mailbox by UID.
func imapMailbox(t *testing.T, d *testenv.Dovecot, mailbox string) map[imap.UID]string {
	t.Helper()
	cl := d.Dial(t, "alice")
	defer cl.Close()
	sel, err := cl.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", mailbox, err)
	}
	out := map[imap.UID]string{}
	if sel.NumMessages == 0 {
		return out
	}
	// One message at a time: an unsolicited FETCH (flags changed by
	// another session) must not be mistaken for the answer.
	for seq := uint32(1); seq <= sel.NumMessages; seq++ {
		msgs, err := cl.Fetch(imap.SeqSetNum(seq), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil {
			t.Fatalf("fetch %s: %v", mailbox, err)
		}
		for _, m := range msgs {
			if m.SeqNum == seq && len(m.BodySection) == 1 {
				out[m.UID] = string(m.BodySection[0].Bytes)
			}
		}
	}
	return out
}

// withSubject returns the messages whose Subject header is subject.
func withSubject(msgs map[imap.UID]string, subject string) []string {
	var out []string
	for _, m := range msgs {
		if strings.Contains(m, "\r\nSubject: "+subject+"\r\n") || strings.HasPrefix(m, "Subject: "+subject+"\r\n") {
			out = append(out, m)
		}
	}
	return out
}

// notesFolders returns the phone's folders of class Notes (types 10, 17)
// and the names of its mail folders.
func notesFolders(t *testing.T, c *easclient.Client) (notes []easclient.Folder, mail map[string]bool) {
	t.Helper()
	mail = map[string]bool{}
	_, folders, r, err := c.FolderSync(context.Background(), "0")
	if err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync: %v", err)
	}
	for _, f := range folders {
		switch f.Type {
		case 10, 17:
			notes = append(notes, f)
		case 1, 2, 3, 4, 5, 6, 12:
			mail[f.DisplayName] = true
		}
	}
	return notes, mail
}

const appleNote = "Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nFrom: alice@example.test\r\n" +
	"X-Uniform-Type-Identifier: com.apple.mail-note\r\nX-Mail-Created-Date: Sun, 29 Nov 2026 09:00:00 +0000\r\n" +
	"X-Universally-Unique-Identifier: 6F9619FF-8B86-D011-B42D-00C04FC964FF\r\nSubject: Packing list\r\n" +
	"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\nMime-Version: 1.0\r\n\r\n" +
	"<div>Packing list</div><div>Passport, charger</div>\r\n"

const plainNoteMessage = "Subject: Door code\r\nDate: Tue, 1 Dec 2026 08:00:00 +0000\r\n\r\n4711\r\n"

func TestNotesInIMAPMailbox(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.dovecot.CreateMailbox(t, "alice", "Notes")
	w.dovecot.Append(t, "alice", "Notes", []byte(appleNote))
	w.dovecot.Append(t, "alice", "Notes", []byte(plainNoteMessage))
	// notes = "imap": the mailbox is the Notes folder even though Radicale
	// has a journal collection, which is hidden.
	w.cfg.Accounts[0].Notes = config.NotesIMAP
	w.restart()

	c := w.client("16.1", "notesphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	notes, mail := notesFolders(t, c)
	if len(notes) != 1 || notes[0].Type != 10 || notes[0].DisplayName != "Notes" {
		t.Fatalf("notes folders %+v, want one default Notes folder", notes)
	}
	if mail["Notes"] {
		t.Fatal("the Notes mailbox is also shown as a mail folder")
	}
	coll := notes[0].ServerID
	N, B, ns := wbxml.NSNotes, wbxml.NSAirSyncBase, wbxml.NSAirSync

	key, got := syncAll(t, c, coll)
	bySubject := map[string]string{}
	for id, d := range got {
		bySubject[d.ChildText(N, "Subject")] = id
		if d.ChildText(N, "MessageClass") != "IPM.StickyNote" || d.ChildText(N, "LastModifiedDate") == "" {
			t.Errorf("note fields: %s", wbxml.XMLString(d))
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d notes, want 2: %v", len(got), bySubject)
	}
	if body := got[bySubject["Packing list"]].Child(B, "Body").ChildText(B, "Data"); body != "Packing list\r\nPassport, charger" {
		t.Errorf("Apple note body (plain preferred) %q", body)
	}
	if body := got[bySubject["Door code"]].Child(B, "Body").ChildText(B, "Data"); strings.TrimSpace(body) != "4711" {
		t.Errorf("plain message body %q", body)
	}
	if got[bySubject["Door code"]].ChildText(N, "LastModifiedDate") != "20261201T080000Z" {
		t.Errorf("LastModifiedDate from Date: %s", wbxml.XMLString(got[bySubject["Door code"]]))
	}

	// Add from the phone: an Apple-format message in the mailbox.
	add := wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "note-1"), wbxml.New(ns, "ApplicationData",
		wbxml.Text(N, "Subject", "Wi-Fi"),
		wbxml.New(B, "Body", wbxml.Text(B, "Type", "1"), wbxml.Text(B, "Data", "guest / sésame")),
		wbxml.New(N, "Categories", wbxml.Text(N, "Category", "Home")),
		wbxml.Text(N, "MessageClass", "IPM.StickyNote")))
	a := syncOnce(t, c, coll, key, 100, add)
	if a.status != 1 || len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("add note: %s", wbxml.XMLString(a.root))
	}
	wifiID := a.resp[0].ChildText(ns, "ServerId")
	prevKey := key
	key = a.key
	stored := withSubject(imapMailbox(t, w.dovecot, "Notes"), "Wi-Fi")
	if len(stored) != 1 || !strings.Contains(stored[0], "X-Uniform-Type-Identifier: com.apple.mail-note") ||
		!strings.Contains(stored[0], "Keywords: Home") || !strings.Contains(stored[0], "guest / s=C3=A9same") {
		t.Fatalf("stored note: %q", stored)
	}
	// The same Add again under the previous key (the answer was lost):
	// the same ServerId, no second message.
	a = syncOnce(t, c, coll, prevKey, 100, add)
	if len(a.resp) != 1 || a.resp[0].ChildText(ns, "ServerId") != wifiID || len(a.adds) != 0 {
		t.Fatalf("repeated add: %s", wbxml.XMLString(a.root))
	}
	key = a.key
	if n := len(withSubject(imapMailbox(t, w.dovecot, "Notes"), "Wi-Fi")); n != 1 {
		t.Fatalf("repeated add stored %d messages", n)
	}

	// Change from the phone: a new message replaces the old one; the
	// ServerId stays and nothing comes back to the phone.
	ch := wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", wifiID), wbxml.New(ns, "ApplicationData",
		wbxml.Text(N, "Subject", "Wi-Fi (new)"),
		wbxml.New(B, "Body", wbxml.Text(B, "Type", "1"), wbxml.Text(B, "Data", "guest / open"))))
	a = syncOnce(t, c, coll, key, 100, ch)
	if a.status != 1 || len(a.resp) != 0 {
		t.Fatalf("change note: %s", wbxml.XMLString(a.root))
	}
	key = a.key
	box := imapMailbox(t, w.dovecot, "Notes")
	if len(withSubject(box, "Wi-Fi")) != 0 || len(withSubject(box, "Wi-Fi (new)")) != 1 || len(box) != 3 {
		t.Fatalf("after change the mailbox holds %d messages: %v", len(box), box)
	}
	if !strings.Contains(withSubject(box, "Wi-Fi (new)")[0], "Keywords: Home") {
		t.Error("the change lost the categories the phone left alone")
	}
	a = syncOnce(t, c, coll, key, 100)
	if len(a.adds)+len(a.changes)+len(a.deletes) != 0 {
		t.Fatalf("the phone's own change came back: %s", wbxml.XMLString(a.root))
	}
	key = a.key

	// Server side: another client adds a note and deletes one.
	w.dovecot.Append(t, "alice", "Notes", []byte(strings.Replace(appleNote, "Packing list", "Recipes", 2)))
	cl := w.dovecot.Dial(t, "alice")
	if _, err := cl.Select("Notes", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var doorUID imap.UID
	for uid, m := range imapMailbox(t, w.dovecot, "Notes") {
		if strings.Contains(m, "Subject: Door code") {
			doorUID = uid
		}
	}
	if err := cl.Store(imap.UIDSetNum(doorUID), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := cl.UIDExpunge(imap.UIDSetNum(doorUID)).Close(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	ie := wbxml.NSItemEstimate
	r, err := c.Do(ctx, "GetItemEstimate", wbxml.New(ie, "GetItemEstimate", wbxml.New(ie, "Collections",
		wbxml.New(ie, "Collection", wbxml.Text(ns, "SyncKey", key), wbxml.Text(ie, "CollectionId", coll)))))
	if err != nil || r.Root.Child(ie, "Response").Child(ie, "Collection").ChildText(ie, "Estimate") != "2" {
		t.Errorf("GetItemEstimate: %v %s", err, wbxml.XMLString(r.Root))
	}
	prevKey = key
	a = syncOnce(t, c, coll, key, 100)
	if len(a.adds) != 1 || len(a.deletes) != 1 || a.deletes[0] != bySubject["Door code"] {
		t.Fatalf("server changes: %s", wbxml.XMLString(a.root))
	}
	// The answer was lost: the previous key brings the same changes.
	again := syncOnce(t, c, coll, prevKey, 100)
	if len(again.adds) != 1 || len(again.deletes) != 1 || again.deletes[0] != a.deletes[0] {
		t.Fatalf("resend of the previous key: %s", wbxml.XMLString(again.root))
	}
	for id, d := range again.adds {
		if _, ok := a.adds[id]; !ok || d.ChildText(N, "Subject") != "Recipes" {
			t.Errorf("resent add %s: %s", id, wbxml.XMLString(d))
		}
	}
	key = again.key

	// Delete from the phone: the message leaves the mailbox.
	a = syncOnce(t, c, coll, key, 100, wbxml.New(ns, "Delete", wbxml.Text(ns, "ServerId", wifiID)))
	if a.status != 1 || len(a.resp) != 0 {
		t.Fatalf("delete note: %s", wbxml.XMLString(a.root))
	}
	box = imapMailbox(t, w.dovecot, "Notes")
	var subjects []string
	for _, m := range box {
		_, rest, _ := strings.Cut(m, "Subject: ")
		s, _, _ := strings.Cut(rest, "\r\n")
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	if strings.Join(subjects, "|") != "Packing list|Recipes" {
		t.Errorf("mailbox after the phone's delete: %q", subjects)
	}
}

// TestNotesMailboxCreatedWithoutDAV: with no DAV server, "auto" keeps
// notes in IMAP and creates the mailbox at the first FolderSync.
func TestNotesMailboxCreatedWithoutDAV(t *testing.T) {
	w := newWorld(t)
	w.cfg.Accounts[0].DAV = ""
	w.restart()
	if imapHas(t, w.dovecot, "Notes") {
		t.Fatal("the test needs a user without a Notes mailbox")
	}
	c := w.client("14.1", "notesphone2")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	notes, mail := notesFolders(t, c)
	if len(notes) != 1 || notes[0].Type != 10 || mail["Notes"] {
		t.Fatalf("notes folders %+v, mail folders %v", notes, mail)
	}
	if !imapHas(t, w.dovecot, "Notes") {
		t.Fatal("the Notes mailbox was not created")
	}
	_, got := syncAll(t, c, notes[0].ServerID)
	if len(got) != 0 {
		t.Fatalf("new mailbox has %d notes", len(got))
	}
	// A second FolderSync neither creates nor changes anything.
	_, folders, _, err := c.FolderSync(context.Background(), "1")
	if err != nil || len(folders) != 0 {
		t.Fatalf("second FolderSync: %v %+v", err, folders)
	}
}

// TestNotesAutoPrefersDAVJournals: with a journal collection on the DAV
// server, "auto" serves notes from it and a Notes mailbox stays mail.
func TestNotesAutoPrefersDAVJournals(t *testing.T) {
	w, seed := davWorld(t)
	w.dovecot.CreateMailbox(t, "alice", "Notes")
	c := w.client("16.1", "notesphone3")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	notes, mail := notesFolders(t, c)
	// The mailbox stays mail; beside a journal also called "Notes" it is
	// shown as "Notes (mail)" so that the two names differ.
	mailName := "Notes"
	if len(notes) == 1 && strings.EqualFold(notes[0].DisplayName, "Notes") {
		mailName = "Notes (mail)"
	}
	if len(notes) != 1 || notes[0].Type != 10 || !mail[mailName] {
		t.Fatalf("notes folders %+v, mail folders %v (want mail folder %q)", notes, mail, mailName)
	}
	_, got := syncAll(t, c, notes[0].ServerID)
	if want := seed.In(seed.Notes); len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d notes from the journal collection, want %d", len(got), len(want))
	}
}

// TestNotesPing: a Ping on the IMAP notes folder right after a Sync is
// held (nothing new) and answers when another client adds a note.
func TestNotesPing(t *testing.T) {
	w := newWorld(t)
	w.dovecot.CreateMailbox(t, "alice", "Notes")
	w.cfg.Accounts[0].Notes = config.NotesIMAP
	w.restart()
	ctx := context.Background()
	c := w.client("16.1", "notesping")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	notes, _ := notesFolders(t, c)
	if len(notes) != 1 {
		t.Fatalf("notes folders %+v", notes)
	}
	id := notes[0].ServerID
	syncAll(t, c, id)
	folders := []easclient.PingFolder{{ID: id, Class: "Notes"}}
	done := make(chan *easclient.PingResult, 1)
	go func() {
		res, _, err := c.Ping(ctx, 60, folders)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	select {
	case res := <-done:
		t.Fatalf("Ping answered with nothing new: %+v", res)
	case <-time.After(1500 * time.Millisecond): // held
	}
	w.dovecot.Append(t, "alice", "Notes", []byte(plainNoteMessage))
	select {
	case res := <-done:
		if res == nil || res.Status != 2 || len(res.Folders) != 1 || res.Folders[0] != id {
			t.Fatalf("Ping after a new note: %+v", res)
		}
	case <-time.After(70 * time.Second):
		t.Fatal("Ping did not answer")
	}
}

// TestNotesWindows: notes come in windows of WindowSize, newest first,
// each once.
func TestNotesWindows(t *testing.T) {
	w := newWorld(t)
	w.dovecot.CreateMailbox(t, "alice", "Notes")
	for i := 0; i < 5; i++ {
		w.dovecot.Append(t, "alice", "Notes", []byte(strings.Replace(plainNoteMessage, "Door code", fmt.Sprintf("Note %d", i), 1)))
	}
	w.cfg.Accounts[0].Notes = config.NotesIMAP
	w.restart()
	c := w.client("14.1", "noteswindows")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	notes, _ := notesFolders(t, c)
	id := notes[0].ServerID
	key := syncOnce(t, c, id, "0", 2).key
	var order []string
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		a := syncOnce(t, c, id, key, 2)
		if len(a.adds) > 2 {
			t.Fatalf("window of 2 carried %d", len(a.adds))
		}
		var batch []string
		for sid, d := range a.adds {
			if seen[sid] {
				t.Errorf("%s sent twice", sid)
			}
			seen[sid] = true
			batch = append(batch, d.ChildText(wbxml.NSNotes, "Subject"))
		}
		sort.Sort(sort.Reverse(sort.StringSlice(batch)))
		order = append(order, batch...)
		key = a.key
		if !a.more {
			break
		}
	}
	if strings.Join(order, "|") != "Note 4|Note 3|Note 2|Note 1|Note 0" {
		t.Errorf("order %q, want newest first", order)
	}
}
