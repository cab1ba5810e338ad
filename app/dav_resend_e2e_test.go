package app_test

import (
	"context"
	"strings"
	"testing"

	"easbridge/server/wbxml"
)

// TestDAVResendPreviousKey: a calendar Sync whose answer was lost is sent
// again with the previous SyncKey (MS-ASCMD 2.2.3.166.4). A client Add is
// not stored twice and keeps its ServerId; server changes come again; the
// key after the resend goes on normally.
func TestDAVResendPreviousKey(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	coll := w.dav.MakeCalendar(t, "alice", "resend", "Resend")
	c := w.client("16.1", "resendphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	calID := folderIDs(t, c)["Resend"].ServerID
	if calID == "" {
		t.Fatal("no Resend folder")
	}
	key, _ := syncAll(t, c, calID)
	ns, cal := wbxml.NSAirSync, wbxml.NSCalendar
	add := wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "resend-1"), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "StartTime", "20261210T090000Z"), wbxml.Text(cal, "EndTime", "20261210T100000Z"),
		wbxml.Text(cal, "Subject", "Resent add"), wbxml.Text(cal, "AllDayEvent", "0"),
		wbxml.Text(cal, "BusyStatus", "2"), wbxml.Text(cal, "Sensitivity", "0"), wbxml.Text(cal, "MeetingStatus", "0")))
	first := syncOnce(t, c, calID, key, 100, add)
	if first.status != 1 || len(first.resp) != 1 || first.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("add: %s", wbxml.XMLString(first.root))
	}
	sid := first.resp[0].ChildText(ns, "ServerId")
	// Lost: the same request again with the same key.
	again := syncOnce(t, c, calID, key, 100, add)
	if again.status != 1 || len(again.resp) != 1 || again.resp[0].ChildText(ns, "ServerId") != sid || again.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("add resent with the previous key: want ServerId %s\n%s", sid, wbxml.XMLString(again.root))
	}
	if got := w.dav.List(t, "alice", coll); len(got) != 1 {
		t.Fatalf("Radicale holds %d objects after the resent add, want 1: %v", len(got), got)
	}
	key = again.key

	// A change on the server; the answer that carries it is lost.
	p := w.dav.List(t, "alice", coll)[0]
	body, _ := w.dav.Get(t, "alice", p)
	w.dav.Put(t, "alice", p, "text/calendar", []byte(strings.Replace(string(body), "SUMMARY:Resent add", "SUMMARY:Moved add", 1)))
	for i, k := range []string{key, key} {
		a := syncOnce(t, c, calID, k, 100)
		d, ok := a.changes[sid]
		if a.status != 1 || !ok || d.ChildText(cal, "Subject") != "Moved add" {
			t.Fatalf("sync %d with key %s: want the server change of %s\n%s", i, k, sid, wbxml.XMLString(a.root))
		}
		if i == 1 {
			key = a.key
		}
	}
	if a := syncOnce(t, c, calID, key, 100); a.status != 1 || len(a.adds)+len(a.changes)+len(a.deletes) != 0 {
		t.Fatalf("after the resend: %s", wbxml.XMLString(a.root))
	}
}
