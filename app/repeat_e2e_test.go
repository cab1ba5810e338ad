package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	imap "github.com/emersion/go-imap/v2"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// Regression tests for what the soak (app/soak, docs/RELIABILITY.md)
// found: each is one of its rounds, made deterministic.

// mailPhone is a provisioned 16.1 phone with Inbox and Archive synced.
func mailPhone(t *testing.T, w *world, device string) (c *easclient.Client, inbox, archive string, inboxKey, archiveKey string, bySubject map[string]string) {
	t.Helper()
	c = w.client("16.1", device)
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	inbox, _, archive = inboxID(t, c)
	inboxKey, items := syncAll(t, c, inbox)
	archiveKey, _ = syncAll(t, c, archive)
	bySubject = map[string]string{}
	for id, d := range items {
		bySubject[subjectOf(d)] = id
	}
	return
}

func moveItems(t *testing.T, c *easclient.Client, src, srcFolder, dstFolder string) (status, dst string) {
	t.Helper()
	mv := wbxml.NSMove
	r, err := c.Do(context.Background(), "MoveItems", wbxml.New(mv, "MoveItems", wbxml.New(mv, "Move",
		wbxml.Text(mv, "SrcMsgId", src), wbxml.Text(mv, "SrcFldId", srcFolder), wbxml.Text(mv, "DstFldId", dstFolder))))
	if err != nil || r.Root == nil {
		t.Fatalf("MoveItems: %v", err)
	}
	resp := r.Root.Child(mv, "Response")
	return resp.ChildText(mv, "Status"), resp.ChildText(mv, "DstMsgId")
}

// A MoveItems repeated because its answer was lost gets the same answer:
// Status 3 and the same DstMsgId (it was Status 1, and the phone kept the
// message in the Inbox while its Archive never got it).
func TestRepeatedMoveItemsAnsweredAlike(t *testing.T) {
	w := mailWorld(t)
	c, inbox, archive, inboxKey, archiveKey, bySubject := mailPhone(t, w, "movephone1")
	st1, dst1 := moveItems(t, c, bySubject["Lunch?"], inbox, archive)
	st2, dst2 := moveItems(t, c, bySubject["Lunch?"], inbox, archive)
	if st1 != "3" || st2 != "3" || dst1 == "" || dst1 != dst2 {
		t.Fatalf("MoveItems twice: status %s/%s, DstMsgId %q/%q", st1, st2, dst1, dst2)
	}
	// The phone, which moved it itself, gets neither a Delete in the Inbox
	// nor a second copy in the Archive.
	if a := syncOnce(t, c, inbox, inboxKey, 100); len(a.adds)+len(a.changes)+len(a.deletes) != 0 {
		t.Errorf("Inbox after the move: %s", wbxml.XMLString(a.root))
	}
	if a := syncOnce(t, c, archive, archiveKey, 100); len(a.adds)+len(a.deletes) != 0 {
		t.Errorf("Archive after the move: %s", wbxml.XMLString(a.root))
	}
}

// A message moved by the phone after another client flagged it: the phone
// gets the flag in the destination (the destination state used to record
// the server's flags as the phone's).
func TestMoveKeepsOtherClientsFlags(t *testing.T) {
	w := mailWorld(t)
	c, inbox, archive, _, archiveKey, bySubject := mailPhone(t, w, "movephone2")
	setFlag(t, w.dovecot, "INBOX", "Report", imap.FlagFlagged)
	if st, _ := moveItems(t, c, bySubject["Report"], inbox, archive); st != "3" {
		t.Fatalf("MoveItems: status %s", st)
	}
	a := syncOnce(t, c, archive, archiveKey, 100)
	flagged := false
	for _, d := range a.changes {
		flagged = flagged || d.Child(wbxml.NSEmail, "Flag").ChildText(wbxml.NSEmail, "Status") == "2"
	}
	for _, d := range a.adds {
		flagged = flagged || d.Child(wbxml.NSEmail, "Flag").ChildText(wbxml.NSEmail, "Status") == "2"
	}
	if !flagged {
		t.Errorf("the other client's flag did not reach the phone: %s", wbxml.XMLString(a.root))
	}
}

// A phone's flag change on a message another client marked read meanwhile:
// both changes stay upstream and the phone learns the other one (the state
// used to record the merged flags as the phone's, so it never did).
func TestChangeKeepsOtherClientsFlags(t *testing.T) {
	w := mailWorld(t)
	c, inbox, _, inboxKey, _, bySubject := mailPhone(t, w, "flagphone1")
	setFlag(t, w.dovecot, "INBOX", "Invoice", imap.FlagSeen)
	ns := wbxml.NSAirSync
	col := easclient.SyncCollection(inboxKey, inbox, wbxml.New(ns, "Commands", wbxml.New(ns, "Change",
		wbxml.Text(ns, "ServerId", bySubject["Invoice"]), wbxml.New(ns, "ApplicationData",
			wbxml.New(wbxml.NSEmail, "Flag", wbxml.Int(wbxml.NSEmail, "Status", 2), wbxml.Text(wbxml.NSEmail, "FlagType", "for Follow Up"))))))
	r, err := c.Sync(context.Background(), []*wbxml.Element{col})
	if err != nil || r.Root == nil {
		t.Fatalf("Sync with a change: %v", err)
	}
	key := r.Root.Child(ns, "Collections").Child(ns, "Collection").ChildText(ns, "SyncKey")
	if !hasFlag(t, w.dovecot, "INBOX", "Invoice", imap.FlagSeen) || !hasFlag(t, w.dovecot, "INBOX", "Invoice", imap.FlagFlagged) {
		t.Fatal("upstream lost one of the changes")
	}
	// The phone learns it in this answer or the next.
	read := false
	for _, ch := range r.Root.Child(ns, "Collections").Child(ns, "Collection").Child(ns, "Commands").All(ns, "Change") {
		read = read || ch.ChildText(ns, "ServerId") == bySubject["Invoice"] && ch.Child(ns, "ApplicationData").ChildText(wbxml.NSEmail, "Read") == "1"
	}
	a := syncOnce(t, c, inbox, key, 100)
	if d := a.changes[bySubject["Invoice"]]; d != nil {
		read = read || d.ChildText(wbxml.NSEmail, "Read") == "1"
	}
	if !read {
		t.Errorf("the phone did not learn the read flag: %s\n%s", wbxml.XMLString(r.Root), wbxml.XMLString(a.root))
	}
}

// A phone's change of an event another client deleted: the phone gets the
// Delete (it used to get Status 8 and keep the event for ever).
func TestChangeOfDeletedEventSendsDelete(t *testing.T) {
	w, seed := davWorld(t)
	c := w.client("16.1", "davphone9")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	var calID string
	for _, f := range folderIDs(t, c) {
		if f.Type == 8 {
			calID = f.ServerID
		}
	}
	key, events := syncAll(t, c, calID)
	var victim, summary string
	for id, d := range events {
		victim, summary = id, d.ChildText(wbxml.NSCalendar, "Subject")
		break
	}
	for _, o := range seed.In(seed.Calendar) {
		if o.Summary == summary {
			w.dav.Delete(t, "alice", o.Path)
		}
	}
	ns, cal := wbxml.NSAirSync, wbxml.NSCalendar
	a := syncOnce(t, c, calID, key, 100, wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", victim), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "Subject", "changed on the phone"), wbxml.Text(cal, "StartTime", "20261210T090000Z"), wbxml.Text(cal, "EndTime", "20261210T100000Z"))))
	deleted := false
	for _, id := range a.deletes {
		deleted = deleted || id == victim
	}
	if !deleted {
		a = syncOnce(t, c, calID, a.key, 100)
		for _, id := range a.deletes {
			deleted = deleted || id == victim
		}
	}
	if !deleted {
		t.Errorf("no Delete for the event deleted upstream: %s", wbxml.XMLString(a.root))
	}
}

// An event Radicale stored but whose PUT answer was lost (the connection
// died): the Add fails, the phone sends it again, and there is one event,
// upstream and on the phone (the repeat used to create a second one, and
// the phone got the first as a server Add besides its own).
func TestAddStoredButUnansweredIsNotDuplicated(t *testing.T) {
	w := newWorld(t)
	target, err := url.Parse(w.dav.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var dropped atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, w.seed.Calendar) && dropped.CompareAndSwap(false, true) {
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r) // Radicale stores it…
			if rec.Code/100 != 2 {
				t.Errorf("PUT through the proxy: HTTP %d", rec.Code)
			}
			panic(http.ErrAbortHandler) // …and its answer never arrives
		}
		rp.ServeHTTP(rw, r)
	}))
	defer proxy.Close()
	w.cfg.Accounts[0].DAV = proxy.URL
	w.restart()

	c := w.client("16.1", "lostput1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	var calID string
	for _, f := range folderIDs(t, c) {
		if f.Type == 8 {
			calID = f.ServerID
		}
	}
	key, _ := syncAll(t, c, calID)
	const subject = "Dentist, answer lost"
	ns, cal := wbxml.NSAirSync, wbxml.NSCalendar
	add := wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "lost-1"), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "DtStamp", "20261201T090000Z"), wbxml.Text(cal, "StartTime", "20261211T090000Z"),
		wbxml.Text(cal, "EndTime", "20261211T100000Z"), wbxml.Text(cal, "Subject", subject)))
	onPhone := map[string]bool{} // ServerIds of the event the phone was given
	take := func(a syncAnswer) {
		for id, d := range a.adds {
			if d.ChildText(cal, "Subject") == subject {
				onPhone[id] = true
			}
		}
	}
	a := syncOnce(t, c, calID, key, 100, add)
	if !dropped.Load() {
		t.Fatal("the PUT was not intercepted")
	}
	if a.status == 1 {
		take(a)
		key = a.key
		if len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") == "1" {
			t.Fatalf("an Add whose PUT failed was answered as done: %s", wbxml.XMLString(a.root))
		}
	}
	t.Logf("first try: Sync status %d, the event sent back to the phone as a server Add: %v", a.status, len(onPhone) > 0)
	// The phone sends its Add again.
	a = syncOnce(t, c, calID, key, 100, add)
	take(a)
	if a.status != 1 || len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("repeated Add: %s", wbxml.XMLString(a.root))
	}
	onPhone[a.resp[0].ChildText(ns, "ServerId")] = true
	for i := 0; i < 3; i++ {
		a = syncOnce(t, c, calID, a.key, 100)
		take(a)
	}
	if len(onPhone) != 1 {
		t.Errorf("the phone has the event under %d ServerIds: %v", len(onPhone), onPhone)
	}
	body, _ := w.dav.Get(t, "alice", w.seed.Calendar)
	if n := strings.Count(string(body), "SUMMARY:"+strings.ReplaceAll(subject, ",", `\,`)); n != 1 {
		t.Errorf("Radicale holds the event %d times", n)
	}
}
