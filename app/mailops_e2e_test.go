package app_test

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// TestMailOperationsAgainstDovecot: sending (with the copy in Sent and the
// original marked), attachments by FileReference, Search, MoveItems and
// GetItemEstimate, through the EAS endpoint against Dovecot and its
// submission server.
func TestMailOperationsAgainstDovecot(t *testing.T) {
	w := mailWorld(t)
	ctx := context.Background()
	c := w.client("16.1", "opsphone1")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	var inbox, archive, drafts string
	_, folders, _, _ := c.FolderSync(ctx, "0")
	for _, f := range folders {
		switch f.DisplayName {
		case "Inbox":
			inbox = f.ServerID
		case "Archive":
			archive = f.ServerID
		case "Drafts":
			drafts = f.ServerID
		}
	}
	a := syncOnce(t, c, inbox, "0", 100)
	a = syncOnce(t, c, inbox, a.key, 100)
	key := a.key
	bySubject := map[string]string{}
	for id, d := range a.adds {
		bySubject[subjectOf(d)] = id
	}

	// GetItemEstimate: nothing pending.
	ns := wbxml.NSItemEstimate
	r, err := c.Do(ctx, "GetItemEstimate", wbxml.New(ns, "GetItemEstimate", wbxml.New(ns, "Collections",
		wbxml.New(ns, "Collection", wbxml.Text(wbxml.NSAirSync, "SyncKey", key), wbxml.Text(ns, "CollectionId", inbox),
			wbxml.New(wbxml.NSAirSync, "Options", wbxml.Text(wbxml.NSAirSync, "FilterType", "0"))))))
	if err != nil || r.Root.Child(ns, "Response").Child(ns, "Collection").ChildText(ns, "Estimate") != "0" {
		t.Errorf("GetItemEstimate: %v %s", err, wbxml.XMLString(r.Root))
	}

	// The attachment, by its FileReference.
	inv := a.adds[bySubject["Invoice"]]
	att := inv.Child(wbxml.NSAirSyncBase, "Attachments").Child(wbxml.NSAirSyncBase, "Attachment")
	ref := att.ChildText(wbxml.NSAirSyncBase, "FileReference")
	if ref == "" || att.ChildText(wbxml.NSAirSyncBase, "DisplayName") != "invoice.pdf" {
		t.Fatalf("attachment: %s", wbxml.XMLString(inv))
	}
	io := wbxml.NSItemOperations
	r, err = c.Do(ctx, "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
		wbxml.Text(io, "Store", "Mailbox"), wbxml.Text(wbxml.NSAirSyncBase, "FileReference", ref))))
	if err != nil {
		t.Fatal(err)
	}
	fetch := r.Root.Child(io, "Response").Child(io, "Fetch")
	data := fetch.Child(io, "Properties").ChildText(wbxml.NSAirSyncBase, "Data")
	if data == "" {
		data = fetch.Child(io, "Properties").ChildText(io, "Data")
	}
	pdf, _ := base64.StdEncoding.DecodeString(data)
	if !strings.HasPrefix(string(pdf), "%PDF-1.4") {
		t.Fatalf("attachment bytes: %q (%s)", pdf, wbxml.XMLString(r.Root))
	}
	// Another user's reference shape reaches nothing of alice's: a made-up one fails.
	r, _ = c.Do(ctx, "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
		wbxml.Text(io, "Store", "Mailbox"), wbxml.Text(wbxml.NSAirSyncBase, "FileReference", "999:1:2"))))
	if st := r.Root.Child(io, "Response").Child(io, "Fetch").ChildText(io, "Status"); st == "1" {
		t.Error("an unknown FileReference was served")
	}

	// SendMail (14.x form) with a copy in Sent.
	mime := []byte("From: alice@example.test\r\nTo: bob@example.test\r\nBcc: carol@example.test\r\nSubject: Hello from the phone\r\n\r\nSent through easbridge.\r\n")
	r, err = c.Do(ctx, "SendMail", easclient.Compose("SendMail", "send-1", mime, true, false))
	if err != nil || r.HTTPStatus != 200 || r.Root != nil {
		t.Fatalf("SendMail: %v HTTP %d %s", err, r.HTTPStatus, wbxml.XMLString(r.Root))
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgs, err := w.dovecot.Sink.Wait(wctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(msgs[0].Data), "Bcc:") || len(msgs[0].To) != 2 {
		t.Errorf("relayed: to %v\n%s", msgs[0].To, msgs[0].Data)
	}
	if !mailboxHas(t, w.dovecot, "Sent", "Hello from the phone") {
		t.Error("no copy in Sent")
	}
	// The same ClientId again is not sent twice.
	r, _ = c.Do(ctx, "SendMail", easclient.Compose("SendMail", "send-1", mime, true, false))
	if r.Status() != 118 {
		t.Errorf("repeated ClientId: status %d", r.Status())
	}

	// SmartReply quotes the original and marks it answered.
	reply := []byte("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: Re: Lunch?\r\n\r\nYes!\r\n")
	cm := wbxml.NSComposeMail
	r, err = c.Do(ctx, "SmartReply", easclient.Compose("SmartReply", "reply-1", reply, false, false,
		wbxml.Text(cm, "FolderId", inbox), wbxml.Text(cm, "ItemId", bySubject["Lunch?"])))
	if err != nil || r.HTTPStatus != 200 || r.Root != nil {
		t.Fatalf("SmartReply: %v %d %s", err, r.HTTPStatus, wbxml.XMLString(r.Root))
	}
	msgs, err = w.dovecot.Sink.Wait(wctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if body := string(msgs[1].Data); !strings.Contains(body, "Yes!") || !strings.Contains(body, "lunch at noon") {
		t.Errorf("reply without the quote:\n%s", body)
	}
	if !hasFlag(t, w.dovecot, "INBOX", "Lunch?", "\\Answered") {
		t.Error("original not marked \\Answered")
	}

	// Search.
	s := wbxml.NSSearch
	r, err = c.Do(ctx, "Search", wbxml.New(s, "Search", wbxml.New(s, "Store",
		wbxml.Text(s, "Name", "Mailbox"),
		wbxml.New(s, "Query", wbxml.New(s, "And",
			wbxml.Text(wbxml.NSAirSync, "Class", "Email"),
			wbxml.Text(wbxml.NSAirSync, "CollectionId", inbox),
			wbxml.Text(s, "FreeText", "report"))),
		wbxml.New(s, "Options", wbxml.Text(s, "Range", "0-9")))))
	if err != nil {
		t.Fatal(err)
	}
	store := r.Root.Child(s, "Response").Child(s, "Store")
	results := store.All(s, "Result")
	if store.ChildText(s, "Status") != "1" || len(results) != 1 || results[0].Child(s, "Properties").ChildText(wbxml.NSEmail, "Subject") != "Report" {
		t.Fatalf("Search: %s", wbxml.XMLString(r.Root))
	}
	// The search result is fetchable by LongId.
	longID := results[0].ChildText(s, "LongId")
	r, _ = c.Do(ctx, "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
		wbxml.Text(io, "Store", "Mailbox"), wbxml.Text(s, "LongId", longID))))
	if r.Root.Child(io, "Response").Child(io, "Fetch").ChildText(io, "Status") != "1" {
		t.Errorf("fetch by LongId: %s", wbxml.XMLString(r.Root))
	}

	// MoveItems to Archive, and the move is not echoed back.
	mv := wbxml.NSMove
	r, err = c.Do(ctx, "MoveItems", wbxml.New(mv, "MoveItems", wbxml.New(mv, "Move",
		wbxml.Text(mv, "SrcMsgId", bySubject["Report"]), wbxml.Text(mv, "SrcFldId", inbox), wbxml.Text(mv, "DstFldId", archive))))
	if err != nil {
		t.Fatal(err)
	}
	resp := r.Root.Child(mv, "Response")
	if resp.ChildText(mv, "Status") != "3" || !strings.HasPrefix(resp.ChildText(mv, "DstMsgId"), archive+":") {
		t.Fatalf("MoveItems: %s", wbxml.XMLString(r.Root))
	}
	if !mailboxHas(t, w.dovecot, "Archive", "Report") {
		t.Error("not moved in Dovecot")
	}
	a = syncOnce(t, c, inbox, key, 100)
	for _, id := range a.deletes {
		if id == bySubject["Report"] {
			t.Error("the moved message came back as a Delete")
		}
	}

	// A draft written on a 16.1 phone lands in Drafts, once.
	d := syncOnce(t, c, drafts, "0", 100)
	d = syncOnce(t, c, drafts, d.key, 100)
	as := wbxml.NSAirSync
	draft := wbxml.New(as, "Add", wbxml.Text(as, "ClientId", "draft-1"), wbxml.New(as, "ApplicationData",
		wbxml.Text(wbxml.NSEmail, "To", "bob@example.test"),
		wbxml.Text(wbxml.NSEmail, "Subject", "Unfinished thoughts"),
		wbxml.New(wbxml.NSAirSyncBase, "Body", wbxml.Int(wbxml.NSAirSyncBase, "Type", 1), wbxml.Text(wbxml.NSAirSyncBase, "Data", "To be continued"))))
	d = syncOnce(t, c, drafts, d.key, 100, draft)
	if len(d.resp) != 1 || d.resp[0].ChildText(as, "Status") != "1" {
		t.Fatalf("draft add: %s", wbxml.XMLString(d.root))
	}
	d2 := syncOnce(t, c, drafts, d.key, 100, draft) // the answer was lost: no second draft
	if len(d2.resp) != 1 || d2.resp[0].ChildText(as, "ServerId") != d.resp[0].ChildText(as, "ServerId") || len(d2.adds) != 0 {
		t.Fatalf("repeated draft add: %s", wbxml.XMLString(d2.root))
	}
	if !mailboxHas(t, w.dovecot, "Drafts", "Unfinished thoughts") {
		t.Error("the draft is not in Drafts")
	}
	// Outside Drafts an Add is refused for that item only.
	x := syncOnce(t, c, inbox, a.key, 100, draft)
	if x.status != 1 || len(x.resp) != 1 || x.resp[0].ChildText(as, "Status") == "1" {
		t.Errorf("add in Inbox: %s", wbxml.XMLString(x.root))
	}

	// The 12.1 raw-MIME SendMail.
	old := w.client("12.1", "opsphone2")
	if _, err := old.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	r, err = old.SendMIME(ctx, "SendMail", []byte("From: alice@example.test\r\nTo: dave@example.test\r\nSubject: Old phone\r\n\r\nhi\r\n"), url.Values{"SaveInSent": {"T"}})
	if err != nil || r.HTTPStatus != 200 {
		t.Fatalf("12.1 SendMail: %v %d %s", err, r.HTTPStatus, r.Body)
	}
	if _, err := w.dovecot.Sink.Wait(wctx, 3); err != nil {
		t.Fatal(err)
	}
	if !mailboxHas(t, w.dovecot, "Sent", "Old phone") {
		t.Error("12.1 SendMail: no copy in Sent")
	}
}
