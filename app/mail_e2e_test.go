package app_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/testenv"

	imap "github.com/emersion/go-imap/v2"
)

// mailMessages are real-world-shaped messages for the Inbox.
func mailMessages() map[string]string {
	return map[string]string{
		"plain":       "From: Bob <bob@example.test>\r\nTo: Alice <alice@example.test>\r\nSubject: Lunch?\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <lunch@example.test>\r\n\r\nShall we have lunch at noon?\r\n",
		"alternative": "From: Carol <carol@example.test>\r\nTo: alice@example.test\r\nSubject: Report\r\nDate: Mon, 30 Nov 2026 11:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe report is ready.\r\n--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>The <b>report</b> is ready.</p>\r\n--XX--\r\n",
		"attachment":  "From: Dave <dave@example.test>\r\nTo: alice@example.test\r\nSubject: Invoice\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=YY\r\n\r\n--YY\r\nContent-Type: text/plain\r\n\r\nInvoice attached.\r\n--YY\r\nContent-Type: application/pdf; name=invoice.pdf\r\nContent-Disposition: attachment; filename=invoice.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCg==\r\n--YY--\r\n",
		"latin1":      "From: =?ISO-8859-1?Q?J=FCrgen?= <juergen@example.test>\r\nTo: alice@example.test\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?= aus\r\n =?ISO-8859-1?Q?K=F6ln?=\r\nDate: Mon, 30 Nov 2026 13:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSch=F6ne Gr=FC=DFe\r\n",
		"empty":       "From: eve@example.test\r\nTo: alice@example.test\r\nSubject: (empty)\r\nDate: Mon, 30 Nov 2026 14:00:00 +0000\r\n\r\n",
	}
}

// mailWorld seeds alice's Inbox and starts easbridge with IMAP and SMTP.
func mailWorld(t *testing.T) *world {
	w := newWorld(t)
	for _, raw := range mailMessages() {
		w.dovecot.Append(t, "alice", "INBOX", []byte(raw))
	}
	return w
}

type syncAnswer struct {
	key     string
	status  int
	adds    map[string]*wbxml.Element // ServerId -> ApplicationData
	changes map[string]*wbxml.Element
	deletes []string
	more    bool
	resp    []*wbxml.Element
	root    *wbxml.Element
}

func syncOnce(t *testing.T, c *easclient.Client, coll, key string, window int, commands ...*wbxml.Element) syncAnswer {
	t.Helper()
	return syncFiltered(t, c, coll, key, window, 0, commands...)
}

// syncFiltered is syncOnce with a FilterType.
func syncFiltered(t *testing.T, c *easclient.Client, coll, key string, window, filter int, commands ...*wbxml.Element) syncAnswer {
	t.Helper()
	ns := wbxml.NSAirSync
	col := wbxml.New(ns, "Collection", wbxml.Text(ns, "SyncKey", key), wbxml.Text(ns, "CollectionId", coll))
	if key != "0" {
		col.Add(wbxml.Text(ns, "DeletesAsMoves", "1"), wbxml.Text(ns, "GetChanges", "1"))
	}
	col.Add(wbxml.Int(ns, "WindowSize", window))
	if key != "0" {
		opts := wbxml.New(ns, "Options", wbxml.Int(ns, "FilterType", filter))
		if c.Version != "12.1" {
			opts.Add(wbxml.New(wbxml.NSAirSyncBase, "BodyPreference",
				wbxml.Text(wbxml.NSAirSyncBase, "Type", "1"), wbxml.Text(wbxml.NSAirSyncBase, "TruncationSize", "5120")))
		}
		col.Add(opts)
	}
	if len(commands) > 0 {
		col.Add(wbxml.New(ns, "Commands", commands...))
	}
	r, err := c.Do(context.Background(), "Sync", wbxml.New(ns, "Sync", wbxml.New(ns, "Collections", col)))
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	a := syncAnswer{adds: map[string]*wbxml.Element{}, changes: map[string]*wbxml.Element{}, root: r.Root}
	if r.HTTPStatus != 200 {
		t.Fatalf("Sync: HTTP %d %s", r.HTTPStatus, r.Body)
	}
	if r.Root == nil { // empty answer: no changes
		a.key, a.status = key, 1
		return a
	}
	cr := r.Root.Child(ns, "Collections").Child(ns, "Collection")
	if cr == nil {
		t.Fatalf("Sync answer without a collection: %s", wbxml.XMLString(r.Root))
	}
	a.key = cr.ChildText(ns, "SyncKey")
	a.status, _ = cr.ChildInt(ns, "Status")
	a.more = cr.Has(ns, "MoreAvailable")
	for _, cmd := range cr.Child(ns, "Commands").All(ns, "Add") {
		a.adds[cmd.ChildText(ns, "ServerId")] = cmd.Child(ns, "ApplicationData")
	}
	for _, cmd := range cr.Child(ns, "Commands").All(ns, "Change") {
		a.changes[cmd.ChildText(ns, "ServerId")] = cmd.Child(ns, "ApplicationData")
	}
	for _, name := range []string{"Delete", "SoftDelete"} {
		for _, cmd := range cr.Child(ns, "Commands").All(ns, name) {
			a.deletes = append(a.deletes, cmd.ChildText(ns, "ServerId"))
		}
	}
	if resp := cr.Child(ns, "Responses"); resp != nil {
		a.resp = resp.Children
	}
	return a
}

func inboxID(t *testing.T, c *easclient.Client) (inbox, trash, archive string) {
	_, folders, r, err := c.FolderSync(context.Background(), "0")
	if err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync: %v", err)
	}
	for _, f := range folders {
		switch f.DisplayName {
		case "Inbox":
			inbox = f.ServerID
		case "Trash":
			trash = f.ServerID
		case "Archive":
			archive = f.ServerID
		}
	}
	return
}

func subjectOf(d *wbxml.Element) string { return d.ChildText(wbxml.NSEmail, "Subject") }

func TestMailSyncAgainstDovecot(t *testing.T) {
	for _, v := range []string{"12.1", "14.1", "16.1"} {
		t.Run(v, func(t *testing.T) {
			w := mailWorld(t)
			c := w.client(v, "mailphone"+strings.ReplaceAll(v, ".", ""))
			if _, err := c.Provision(context.Background()); err != nil {
				t.Fatal(err)
			}
			inbox, _, archive := inboxID(t, c)
			a := syncOnce(t, c, inbox, "0", 100)
			if a.key != "1" || a.status != 1 || len(a.adds) != 0 {
				t.Fatalf("priming: %+v", a)
			}
			// Windows of 2 with MoreAvailable until everything is there.
			got := map[string]*wbxml.Element{}
			key := a.key
			for i := 0; i < 10; i++ {
				a = syncOnce(t, c, inbox, key, 2)
				if a.status != 1 || len(a.adds) > 2 {
					t.Fatalf("window %d: status %d, %d adds", i, a.status, len(a.adds))
				}
				for id, d := range a.adds {
					got[id] = d
				}
				key = a.key
				if !a.more {
					break
				}
			}
			if len(got) != len(mailMessages()) {
				t.Fatalf("synced %d messages, want %d", len(got), len(mailMessages()))
			}
			bySubject := map[string]string{}
			for id, d := range got {
				bySubject[subjectOf(d)] = id
			}
			for _, want := range []string{"Lunch?", "Report", "Invoice", "Grüße aus Köln", "(empty)"} {
				if _, ok := bySubject[want]; !ok {
					t.Errorf("no message with subject %q (have %v)", want, keys(bySubject))
				}
			}
			lunch := got[bySubject["Lunch?"]]
			if !strings.Contains(lunch.ChildText(wbxml.NSEmail, "From"), "bob@example.test") || lunch.ChildText(wbxml.NSEmail, "Read") != "0" {
				t.Errorf("Lunch fields: %s", wbxml.XMLString(lunch))
			}
			if v != "12.1" {
				body := lunch.Child(wbxml.NSAirSyncBase, "Body")
				if !strings.Contains(body.ChildText(wbxml.NSAirSyncBase, "Data"), "lunch at noon") {
					t.Errorf("Lunch body: %s", wbxml.XMLString(lunch))
				}
			}
			// Nothing changed: same key, nothing sent.
			a = syncOnce(t, c, inbox, key, 100)
			if a.key != key || len(a.adds)+len(a.changes)+len(a.deletes) != 0 {
				t.Fatalf("no-change Sync: %+v", a)
			}

			// A client change lands in Dovecot.
			ns := wbxml.NSAirSync
			a = syncOnce(t, c, inbox, key, 100, wbxml.New(ns, "Change",
				wbxml.Text(ns, "ServerId", bySubject["Lunch?"]),
				wbxml.New(ns, "ApplicationData", wbxml.Text(wbxml.NSEmail, "Read", "1"))))
			if a.status != 1 || len(a.changes) != 0 {
				t.Fatalf("client change: %+v %s", a, wbxml.XMLString(a.root))
			}
			key = a.key
			if !hasFlag(t, w.dovecot, "INBOX", "Lunch?", imap.FlagSeen) {
				t.Error("Read=1 did not set \\Seen in Dovecot")
			}

			// Server-side changes: a new message, a flag, an expunge.
			w.dovecot.Append(t, "alice", "INBOX", []byte("From: frank@example.test\r\nTo: alice@example.test\r\nSubject: New one\r\nDate: Tue, 1 Dec 2026 09:00:00 +0000\r\n\r\nhello\r\n"))
			setFlag(t, w.dovecot, "INBOX", "Report", imap.FlagFlagged)
			moveOut(t, w.dovecot, "INBOX", "(empty)", "Archive")
			a = syncOnce(t, c, inbox, key, 100)
			if a.status != 1 || len(a.adds) != 1 || len(a.changes) != 1 || len(a.deletes) != 1 {
				t.Fatalf("server changes: adds %d changes %d deletes %d\n%s", len(a.adds), len(a.changes), len(a.deletes), wbxml.XMLString(a.root))
			}
			for _, d := range a.adds {
				if subjectOf(d) != "New one" {
					t.Errorf("added %q", subjectOf(d))
				}
			}
			if ch, ok := a.changes[bySubject["Report"]]; !ok || ch.Child(wbxml.NSEmail, "Flag").ChildText(wbxml.NSEmail, "Status") != "2" {
				t.Errorf("flag change: %v", a.changes)
			}
			if a.deletes[0] != bySubject["(empty)"] {
				t.Errorf("delete of %v, want %s", a.deletes, bySubject["(empty)"])
			}
			// The answer was lost: the old key gets the same changes again.
			again := syncOnce(t, c, inbox, key, 100)
			if again.status != 1 || len(again.adds) != 1 || len(again.changes) != 1 || len(again.deletes) != 1 {
				t.Fatalf("resend of key %s: %+v", key, again)
			}
			key = again.key

			// A client Delete moves the message to Trash.
			a = syncOnce(t, c, inbox, key, 100, wbxml.New(ns, "Delete", wbxml.Text(ns, "ServerId", bySubject["Invoice"])))
			if a.status != 1 {
				t.Fatalf("client delete: %+v", a)
			}
			key = a.key
			if !mailboxHas(t, w.dovecot, "Trash", "Invoice") || mailboxHas(t, w.dovecot, "INBOX", "Invoice") {
				t.Error("Delete did not move the message to Trash")
			}
			// An id of another folder fails alone with status 8.
			a = syncOnce(t, c, inbox, key, 100, wbxml.New(ns, "Change",
				wbxml.Text(ns, "ServerId", archive+":1"),
				wbxml.New(ns, "ApplicationData", wbxml.Text(wbxml.NSEmail, "Read", "1"))))
			if a.status != 1 || len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "8" {
				t.Fatalf("foreign id: %s", wbxml.XMLString(a.root))
			}
			// Unknown key: status 3.
			if a := syncOnce(t, c, inbox, "999", 100); a.status != 3 {
				t.Errorf("unknown key: status %d", a.status)
			}
			// A new UIDVALIDITY (the folder was recreated): status 3, then a
			// clean resync from key 0.
			ak := syncOnce(t, c, archive, "0", 100)
			ak = syncOnce(t, c, archive, ak.key, 100)
			cl := w.dovecot.Dial(t, "alice")
			if err := cl.Delete("Archive").Wait(); err != nil {
				t.Fatal(err)
			}
			if err := cl.Create("Archive", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			cl.Close()
			w.dovecot.Append(t, "alice", "Archive", []byte("From: z@example.test\r\nSubject: Fresh\r\n\r\nx\r\n"))
			if a := syncOnce(t, c, archive, ak.key, 100); a.status != 3 {
				t.Errorf("after UIDVALIDITY change: status %d", a.status)
			}
			ak = syncOnce(t, c, archive, "0", 100)
			ak = syncOnce(t, c, archive, ak.key, 100)
			if ak.status != 1 || len(ak.adds) != 1 {
				t.Errorf("resync after UIDVALIDITY change: %s", wbxml.XMLString(ak.root))
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// findUID returns the UID of the message with that subject.
func findUID(t *testing.T, d *testenv.Dovecot, mailbox, subject string) (imap.UID, []imap.Flag) {
	t.Helper()
	cl := d.Dial(t, "alice")
	defer cl.Close()
	sel, err := cl.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return 0, nil
	}
	msgs, err := cl.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Envelope != nil && m.Envelope.Subject == subject {
			return m.UID, m.Flags
		}
	}
	return 0, nil
}

func mailboxHas(t *testing.T, d *testenv.Dovecot, mailbox, subject string) bool {
	uid, _ := findUID(t, d, mailbox, subject)
	return uid != 0
}

func hasFlag(t *testing.T, d *testenv.Dovecot, mailbox, subject string, f imap.Flag) bool {
	_, flags := findUID(t, d, mailbox, subject)
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

func setFlag(t *testing.T, d *testenv.Dovecot, mailbox, subject string, f imap.Flag) {
	uid, _ := findUID(t, d, mailbox, subject)
	cl := d.Dial(t, "alice")
	defer cl.Close()
	cl.Select(mailbox, nil).Wait()
	if err := cl.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{f}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
}

func moveOut(t *testing.T, d *testenv.Dovecot, mailbox, subject, dest string) {
	uid, _ := findUID(t, d, mailbox, subject)
	cl := d.Dial(t, "alice")
	defer cl.Close()
	cl.Select(mailbox, nil).Wait()
	if _, err := cl.Move(imap.UIDSetNum(uid), dest).Wait(); err != nil {
		t.Fatal(err)
	}
}

var _ = bytes.MinRead
var _ = fmt.Sprint
var _ = time.Second
