package engine

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/davsource"
	"easbridge/sync/imapsource"
	"easbridge/sync/state"
	"easbridge/sync/testenv"
)

func TestDAVStateEnd(t *testing.T) {
	d := &davState{Primed: true, Token: "t", NextID: 4, Filter: 4,
		Items:   map[string]davItem{"/a/c/x.ics": {ID: 3, ETag: `"e1"`, End: 1796000000}, "/a/c/y.ics": {ID: 2, ETag: `"e2"`, End: -86400}},
		Pending: map[string]davPending{}, ClientIDs: map[string]string{}}
	got, err := decodeDAVState(d.encode(), true)
	if err != nil || got.Items["/a/c/x.ics"] != d.Items["/a/c/x.ics"] || got.Items["/a/c/y.ics"] != d.Items["/a/c/y.ics"] {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// A version 1 state (before End) is still read: no End.
	v1 := []byte{1, 1}
	v1 = appendString(v1, "t")
	v1 = append(v1, 4, 8, 0, 0, 1) // NextID 4, Filter 4 (zig-zag), no pending, no ClientIds, one item
	v1 = appendString(v1, "/a/c/x.ics")
	v1 = append(v1, 3)
	v1 = appendString(v1, `"e1"`)
	got, err = decodeDAVState(v1, true)
	if err != nil || got.Filter != 4 || got.Items["/a/c/x.ics"] != (davItem{ID: 3, ETag: `"e1"`}) {
		t.Fatalf("version 1: %+v %v", got, err)
	}
}

// TestDAVAgeOutAgainstRadicale: with a two-week filter, an event the
// phone has leaves it by SoftDelete once it ends before the window, with
// no change on the server; the estimate counts it; a series without end
// and a later event stay.
func TestDAVAgeOutAgainstRadicale(t *testing.T) {
	dav := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	dc := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Hour)
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }

	coll := dav.MakeCalendar(t, "alice", "ageing", "Ageing")
	utc := func(t time.Time) string { return t.Format("20060102T150405Z") }
	for i, e := range []struct{ name, lines string }{
		{"Soon over", "DTSTART:" + utc(start.AddDate(0, 0, 2)) + "\r\nDTEND:" + utc(start.AddDate(0, 0, 2).Add(time.Hour))},
		{"Much later", "DTSTART:" + utc(start.AddDate(0, 0, 60)) + "\r\nDTEND:" + utc(start.AddDate(0, 0, 60).Add(time.Hour))},
		{"Weekly forever", "DTSTART:" + utc(start.AddDate(0, 0, -3)) + "\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY"},
		{"Short series", "DTSTART:" + utc(start.AddDate(0, 0, -1)) + "\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=3"},
	} {
		dav.Put(t, "alice", fmt.Sprintf("%sage-%d.ics", coll, i), "text/calendar", []byte(fmt.Sprintf(
			"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\nBEGIN:VEVENT\r\nUID:age-%d@example.test\r\n"+
				"DTSTAMP:%s\r\nSUMMARY:%s\r\n%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", i, utc(start), e.name, e.lines)))
	}

	st, err := state.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	icfg, _ := imapsource.ParseURL("imap://" + dc.IMAPAddr)
	e, err := New(Options{Store: st, Now: now, Accounts: []Account{{Name: "a", IMAP: icfg, Domain: "example.test", Notes: NotesDAV,
		DAV: &davsource.Config{URL: dav.URL, HTTPClient: &http.Client{Timeout: time.Minute}}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	sess, err := e.Login(ctx, "alice", "alicepw")
	if err != nil {
		t.Fatal(err)
	}
	s := sess.(*session)
	ch, err := s.FolderSync(ctx, "agephone", "0")
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, f := range ch.Adds {
		if f.DisplayName == "Ageing" {
			id = f.ServerID
		}
	}
	if id == "" {
		t.Fatalf("no Ageing folder: %+v", ch.Adds)
	}
	opts := server.ItemOptions{FilterType: 4, Conflict: 1}
	sync := func(key string) *server.SyncCollectionResult {
		t.Helper()
		res, err := s.SyncCollection(ctx, "agephone", &server.SyncCollection{Version: eas.V161, CollectionID: id, SyncKey: key,
			GetChanges: key != "0", WindowSize: 100, Options: opts})
		if err != nil || res.Status != eas.SyncStatusSuccess {
			t.Fatalf("sync %s: %v %+v", key, err, res)
		}
		return res
	}
	ops := func(res *server.SyncCollectionResult) map[string]int {
		out := map[string]int{}
		for _, c := range res.Changes {
			out[c.Op]++
		}
		return out
	}
	res := sync(sync("0").SyncKey)
	if got := ops(res); got["Add"] != 4 || len(got) != 1 {
		t.Fatalf("first sync: %v", got)
	}
	byID := map[string]string{}
	for _, c := range res.Changes {
		byID[c.ServerID] = c.Data.ChildText("Calendar", "Subject")
	}
	key := res.SyncKey
	if res = sync(key); len(res.Changes) != 0 || res.SyncKey != key {
		t.Fatalf("no-change sync: %v", ops(res))
	}

	// Three weeks later "Soon over" and "Short series" ended before the
	// window: SoftDelete, nothing else.
	clock.Store(start.AddDate(0, 0, 21).UnixNano())
	if n, err := s.ItemEstimate(ctx, "agephone", id, key, opts); err != nil || n != 2 {
		t.Errorf("estimate three weeks later: %d %v, want 2", n, err)
	}
	res = sync(key)
	var gone []string
	for _, c := range res.Changes {
		if c.Op != "SoftDelete" {
			t.Errorf("three weeks later: %s %s (%s)", c.Op, c.ServerID, byID[c.ServerID])
		}
		gone = append(gone, byID[c.ServerID])
	}
	if len(gone) != 2 || (gone[0] != "Soon over" && gone[1] != "Soon over") || (gone[0] != "Short series" && gone[1] != "Short series") {
		t.Errorf("aged out: %q, want Soon over and Short series", gone)
	}
	key = res.SyncKey
	if res = sync(key); len(res.Changes) != 0 || res.SyncKey != key {
		t.Fatalf("sync after the age-out: %v", ops(res))
	}
}
