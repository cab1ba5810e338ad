package app_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// Isolation between users: bob, logged in as himself, uses every
// identifier alice's phone was given (CollectionIds, ServerIds,
// FileReferences, LongIds, SyncKeys, Ping folders, her device id and
// policy key). None of it reaches her data: each request gets a failure
// status (or bob's own, different, data), and nothing of alice's appears in
// an answer, in the exchange log or in mail bob sends.

// aliceSecret is in everything of alice's that bob's requests aim at.
const aliceSecret = "Quokka-7731-alice-only"

func TestIsolationBetweenUsers(t *testing.T) {
	w := newWorld(t) // alice has more folders (Projects, calendars, address books) than bob
	w.rt.SetRedact(false)
	ctx := context.Background()

	msg := func(subject, body string) []byte {
		return []byte("From: Carol <carol@example.test>\r\nTo: someone@example.test\r\nSubject: " + subject +
			"\r\nDate: Tue, 1 Dec 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=ZZ\r\n\r\n" +
			"--ZZ\r\nContent-Type: text/plain\r\n\r\n" + body + "\r\n--ZZ\r\nContent-Type: text/plain; name=notes.txt\r\n" +
			"Content-Disposition: attachment; filename=notes.txt\r\n\r\nattachment: " + body + "\r\n--ZZ--\r\n")
	}
	// Alice's secrets live in a folder bob does not have, after messages
	// bob's Inbox does not have, so that her ids name nothing of his.
	for i := range 3 {
		w.dovecot.Append(t, "alice", "INBOX", msg(fmt.Sprintf("Inbox %d %s", i, aliceSecret), "inbox text "+aliceSecret))
	}
	w.dovecot.CreateMailbox(t, "alice", "Zeta")
	w.dovecot.Append(t, "alice", "Zeta", msg("Plan "+aliceSecret, "the plan: "+aliceSecret))
	w.dovecot.Append(t, "bob", "INBOX", msg("Bob's own", "nothing to see"))
	w.dav.Put(t, "alice", w.seed.Calendar+"secret.ics", "text/calendar",
		[]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:secret-1\r\nDTSTAMP:20261201T000000Z\r\n"+
			"DTSTART:20261210T090000Z\r\nDTEND:20261210T100000Z\r\nSUMMARY:"+aliceSecret+"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))

	// Alice's phone learns her identifiers.
	a := w.client("14.1", "alicephone")
	if _, err := a.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	fs := folderIDs(t, a)
	inbox, project := fs["Inbox"].ServerID, fs["Zeta"].ServerID
	var calendar string
	for _, f := range fs {
		if f.Type == 8 {
			calendar = f.ServerID
		}
	}
	projKey, projItems := syncAll(t, a, project)
	inboxKey, inboxItems := syncAll(t, a, inbox)
	calKey, calItems := syncAll(t, a, calendar)
	var planID, fileRef, lastInboxID, eventID string
	for id, d := range projItems {
		planID = id
		fileRef = d.Child(wbxml.NSAirSyncBase, "Attachments").Child(wbxml.NSAirSyncBase, "Attachment").ChildText(wbxml.NSAirSyncBase, "FileReference")
	}
	for id := range inboxItems {
		if id > lastInboxID {
			lastInboxID = id
		}
	}
	for id, d := range calItems {
		if d.ChildText(wbxml.NSCalendar, "Subject") == aliceSecret {
			eventID = id
		}
	}
	if planID == "" || fileRef == "" || eventID == "" {
		t.Fatalf("alice's items: plan %q ref %q event %q", planID, fileRef, eventID)
	}
	s := wbxml.NSSearch
	r, err := a.Do(ctx, "Search", wbxml.New(s, "Search", wbxml.New(s, "Store", wbxml.Text(s, "Name", "Mailbox"),
		wbxml.New(s, "Query", wbxml.New(s, "And", wbxml.Text(wbxml.NSAirSync, "Class", "Email"),
			wbxml.Text(wbxml.NSAirSync, "CollectionId", project), wbxml.Text(s, "FreeText", "plan"))),
		wbxml.New(s, "Options", wbxml.Text(s, "Range", "0-9")))))
	if err != nil {
		t.Fatal(err)
	}
	longID := r.Root.Child(s, "Response").Child(s, "Store").Child(s, "Result").ChildText(s, "LongId")
	if longID == "" {
		t.Fatalf("alice's search found no LongId: %s", wbxml.XMLString(r.Root))
	}

	// Bob, on his own phone.
	b := easclient.New("http://"+w.rt.Addr(), "bob", "bobpw", "bobphone")
	b.Version = "14.1"
	if _, err := b.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	bfs := folderIDs(t, b)
	// Folder ids are counted per user, so some of hers are also his: a
	// request naming one reaches his own folder, which is right; only
	// leaks are checked then.
	collides := func(id string) bool {
		for _, f := range bfs {
			if f.ServerID == id {
				return true
			}
		}
		return false
	}
	if collides(project) {
		t.Fatalf("setup: bob has a folder with the id %s of alice's Zeta; the test needs one he does not have", project)
	}
	bobInbox := bfs["Inbox"].ServerID
	bobKey, _ := syncAll(t, b, bobInbox)

	as, io, cm, mv, pg := wbxml.NSAirSync, wbxml.NSItemOperations, wbxml.NSComposeMail, wbxml.NSMove, wbxml.NSPing
	fetch := func(children ...*wbxml.Element) *wbxml.Element {
		return wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch", append([]*wbxml.Element{wbxml.Text(io, "Store", "Mailbox")}, children...)...))
	}
	ioStatus := func(r *easclient.Response) string {
		return r.Root.Child(io, "Response").Child(io, "Fetch").ChildText(io, "Status")
	}
	syncStatus := func(r *easclient.Response) string {
		if st := r.Root.ChildText(as, "Status"); st != "" {
			return st
		}
		return r.Root.Child(as, "Collections").Child(as, "Collection").ChildText(as, "Status")
	}
	for _, tc := range []struct {
		name string
		cmd  string
		body *wbxml.Element
		q    url.Values
		ok   func(r *easclient.Response) bool // the proper refusal
	}{
		{"Sync of her folder with her key", "Sync", wbxml.New(as, "Sync", wbxml.New(as, "Collections",
			easclient.SyncCollection(projKey, project, wbxml.Text(as, "GetChanges", "1")))),
			nil, func(r *easclient.Response) bool { return r.Root != nil && syncStatus(r) != "1" }},
		{"Sync of her folder from key 0", "Sync", wbxml.New(as, "Sync", wbxml.New(as, "Collections", easclient.SyncCollection("0", project))),
			nil, func(r *easclient.Response) bool { return r.Root != nil && syncStatus(r) != "1" }},
		{"Sync of her calendar", "Sync", wbxml.New(as, "Sync", wbxml.New(as, "Collections", easclient.SyncCollection(calKey, calendar))),
			nil, func(r *easclient.Response) bool { return collides(calendar) || r.Root != nil && syncStatus(r) != "1" }},
		{"Sync Fetch of her ServerId in his Inbox", "Sync", wbxml.New(as, "Sync", wbxml.New(as, "Collections",
			easclient.SyncCollection(bobKey, bobInbox, wbxml.New(as, "Commands", wbxml.New(as, "Fetch", wbxml.Text(as, "ServerId", lastInboxID)))))),
			nil, func(r *easclient.Response) bool {
				resp := r.Root.Child(as, "Collections").Child(as, "Collection").Child(as, "Responses")
				return resp != nil && resp.Child(as, "Fetch").ChildText(as, "Status") != "1"
			}},
		{"Sync Change of her message", "Sync", wbxml.New(as, "Sync", wbxml.New(as, "Collections",
			easclient.SyncCollection(bobKey, bobInbox, wbxml.New(as, "Commands", wbxml.New(as, "Change", wbxml.Text(as, "ServerId", planID),
				wbxml.New(as, "ApplicationData", wbxml.Text(wbxml.NSEmail, "Read", "1"))))))),
			nil, func(r *easclient.Response) bool { return r.Root == nil || syncStatus(r) == "1" }},
		{"ItemOperations by her FileReference", "ItemOperations", fetch(wbxml.Text(wbxml.NSAirSyncBase, "FileReference", fileRef)),
			nil, func(r *easclient.Response) bool { return ioStatus(r) != "1" }},
		{"ItemOperations by her LongId", "ItemOperations", fetch(wbxml.Text(s, "LongId", longID)),
			nil, func(r *easclient.Response) bool { return ioStatus(r) != "1" }},
		{"ItemOperations by her CollectionId and ServerId", "ItemOperations", fetch(wbxml.Text(as, "CollectionId", project), wbxml.Text(as, "ServerId", planID)),
			nil, func(r *easclient.Response) bool { return ioStatus(r) != "1" }},
		{"ItemOperations of her event", "ItemOperations", fetch(wbxml.Text(as, "CollectionId", calendar), wbxml.Text(as, "ServerId", eventID)),
			nil, func(r *easclient.Response) bool { return collides(calendar) || ioStatus(r) != "1" }},
		{"GetAttachment of her FileReference", "GetAttachment", nil, url.Values{"AttachmentName": {fileRef}},
			func(r *easclient.Response) bool { return r.HTTPStatus != 200 }},
		{"MoveItems of her message", "MoveItems", wbxml.New(mv, "MoveItems", wbxml.New(mv, "Move", wbxml.Text(mv, "SrcMsgId", planID),
			wbxml.Text(mv, "SrcFldId", project), wbxml.Text(mv, "DstFldId", bobInbox))),
			nil, func(r *easclient.Response) bool { return r.Root.Child(mv, "Response").ChildText(mv, "Status") != "3" }},
		{"SmartReply to her LongId", "SmartReply", easclient.Compose("SmartReply", "iso-1", []byte("Subject: Re\r\n\r\nhi\r\n"), false, false,
			wbxml.Text(cm, "LongId", longID)), nil, func(r *easclient.Response) bool { return r.Root != nil && r.Status() != 1 }},
		{"SmartForward of her message", "SmartForward", easclient.Compose("SmartForward", "iso-2", []byte("Subject: Fw\r\n\r\nhi\r\n"), false, false,
			wbxml.Text(cm, "FolderId", project), wbxml.Text(cm, "ItemId", planID)), nil, func(r *easclient.Response) bool { return r.Root != nil && r.Status() != 1 }},
		{"Ping of her folders", "Ping", wbxml.New(pg, "Ping", wbxml.Int(pg, "HeartbeatInterval", 60), wbxml.New(pg, "Folders",
			wbxml.New(pg, "Folder", wbxml.Text(pg, "Id", project), wbxml.Text(pg, "Class", "Email")),
			wbxml.New(pg, "Folder", wbxml.Text(pg, "Id", calendar), wbxml.Text(pg, "Class", "Calendar")))),
			nil, func(r *easclient.Response) bool {
				return r.Root != nil && (collides(calendar) || r.Status() != 1 && r.Status() != 2)
			}},
		{"Search for her words", "Search", wbxml.New(s, "Search", wbxml.New(s, "Store", wbxml.Text(s, "Name", "Mailbox"),
			wbxml.New(s, "Query", wbxml.New(s, "And", wbxml.Text(as, "Class", "Email"), wbxml.Text(s, "FreeText", aliceSecret))),
			wbxml.New(s, "Options", wbxml.Text(s, "Range", "0-9"), wbxml.Empty(s, "DeepTraversal")))),
			nil, func(r *easclient.Response) bool {
				return r.Root.Child(s, "Response").Child(s, "Store").Child(s, "Result") == nil || noResults(r.Root)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw []byte
			if tc.body != nil {
				if raw, err = wbxml.Encode(tc.body); err != nil {
					t.Fatal(err)
				}
			}
			r, err := b.DoWith(ctx, tc.cmd, raw, tc.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			if leaks(r) {
				t.Errorf("alice's data in bob's answer: HTTP %d %s %q", r.HTTPStatus, wbxml.XMLString(r.Root), r.Body)
			}
			if r.HTTPStatus == 200 && r.Root == nil && tc.cmd != "GetAttachment" && tc.cmd != "Sync" && !strings.HasPrefix(tc.cmd, "Smart") {
				t.Fatalf("empty answer")
			}
			if !tc.ok(r) {
				t.Errorf("not refused: HTTP %d %s", r.HTTPStatus, wbxml.XMLString(r.Root))
			}
		})
	}

	// Her device id and policy key do not make bob's requests hers.
	steal := easclient.New("http://"+w.rt.Addr(), "bob", "bobpw", "alicephone")
	steal.Version, steal.PolicyKey = "14.1", a.PolicyKey
	if _, _, r, err := steal.FolderSync(ctx, "0"); err != nil || r.Status() != 142 && r.Status() != 144 {
		t.Errorf("bob with alice's device id and policy key: %v status %d, want 142 or 144", err, r.Status())
	}
	if _, err := steal.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if _, bf, r, err := steal.FolderSync(ctx, "0"); err != nil || r.Status() != 1 {
		t.Fatalf("bob's own record for that device id: %v", err)
	} else {
		for _, f := range bf {
			if f.DisplayName == "Zeta" {
				t.Error("bob's FolderSync under alice's device id lists her folder Zeta")
			}
		}
	}
	// Alice's phone is undisturbed: same policy key, same sync keys.
	if st := syncOnce(t, a, inbox, inboxKey, 100); st.status != 1 {
		t.Errorf("alice's Inbox after bob's attempts: status %d", st.status)
	}
	if st := syncOnce(t, a, project, projKey, 100); st.status != 1 || len(st.changes) > 0 || len(st.deletes) > 0 {
		t.Errorf("alice's folder after bob's attempts: status %d, %d changes, %d deletes", st.status, len(st.changes), len(st.deletes))
	}
	if hasFlag(t, w.dovecot, "Zeta", "Plan "+aliceSecret, "\\Seen") {
		t.Error("bob's Change marked alice's message read")
	}

	// Nothing of hers in the log of his exchanges, nor in mail he sent.
	time.Sleep(100 * time.Millisecond)
	for _, e := range w.rt.Bus.Recent(0) {
		if !strings.HasPrefix(e.User, "bob") {
			continue
		}
		// (His requests may hold her words: he searched for them.)
		if strings.Contains(e.ResponseXML+e.Error, aliceSecret) {
			t.Errorf("log of bob's %s holds alice's data:\n%s", e.Command, e.ResponseXML)
		}
	}
	for _, m := range w.dovecot.Sink.Messages() {
		if strings.Contains(string(m.Data), aliceSecret) {
			t.Errorf("mail sent by bob holds alice's data:\n%s", m.Data)
		}
	}
}

// leaks reports whether an answer holds aliceSecret, also inside base64
// (attachment data in ItemOperations).
func leaks(r *easclient.Response) bool {
	if strings.Contains(string(r.Body), aliceSecret) {
		return true
	}
	var walk func(e *wbxml.Element) bool
	walk = func(e *wbxml.Element) bool {
		if e == nil {
			return false
		}
		for _, s := range []string{e.Text, string(e.Opaque)} {
			if strings.Contains(s, aliceSecret) {
				return true
			}
			if b, err := base64.StdEncoding.DecodeString(s); err == nil && strings.Contains(string(b), aliceSecret) {
				return true
			}
		}
		for _, c := range e.Children {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(r.Root)
}

// noResults: a Search Store whose only Result is empty (MS-ASCMD
// 2.2.3.143: an empty Result when nothing matched).
func noResults(root *wbxml.Element) bool {
	for _, res := range root.Child(wbxml.NSSearch, "Response").Child(wbxml.NSSearch, "Store").All(wbxml.NSSearch, "Result") {
		if len(res.Children) > 0 {
			return false
		}
	}
	return true
}
