package app_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// filterRound syncs until nothing more is available and returns the
// subjects added and deleted (changes are counted apart). Every removal
// in these tests is the filter's, so it must come as a SoftDelete
// (MS-ASCMD 2.2.3.172), never as a Delete.
func filterRound(t *testing.T, c *easclient.Client, coll, key string, filter int, ids map[string]string) (string, []string, []string, int) {
	t.Helper()
	var adds, dels []string
	changes := 0
	for i := 0; i < 20; i++ {
		a := syncFiltered(t, c, coll, key, 100, filter)
		if a.status != 1 {
			t.Fatalf("sync filter %d: status %d\n%s", filter, a.status, wbxml.XMLString(a.root))
		}
		for id, d := range a.adds {
			s := d.ChildText(wbxml.NSCalendar, "Subject") + d.ChildText(wbxml.NSTasks, "Subject")
			ids[id] = s
			adds = append(adds, s)
		}
		for _, id := range a.deletes {
			dels = append(dels, ids[id])
		}
		if cmds := a.root.Child(wbxml.NSAirSync, "Collections").Child(wbxml.NSAirSync, "Collection").Child(wbxml.NSAirSync, "Commands"); cmds != nil {
			if hard := cmds.All(wbxml.NSAirSync, "Delete"); len(hard) > 0 {
				t.Errorf("filter %d: %d items removed with Delete, want SoftDelete\n%s", filter, len(hard), wbxml.XMLString(a.root))
			}
		}
		changes += len(a.changes)
		key = a.key
		if !a.more {
			break
		}
	}
	sort.Strings(adds)
	sort.Strings(dels)
	return key, adds, dels, changes
}

// estimateFiltered is a 14.0+ GetItemEstimate with a FilterType.
func estimateFiltered(t *testing.T, c *easclient.Client, coll, key string, filter int) string {
	t.Helper()
	ie, as := wbxml.NSItemEstimate, wbxml.NSAirSync
	r, err := c.Do(context.Background(), "GetItemEstimate", wbxml.New(ie, "GetItemEstimate", wbxml.New(ie, "Collections",
		wbxml.New(ie, "Collection", wbxml.Text(as, "SyncKey", key), wbxml.Text(ie, "CollectionId", coll),
			wbxml.New(as, "Options", wbxml.Int(as, "FilterType", filter))))))
	if err != nil || r.Root == nil {
		t.Fatalf("GetItemEstimate: %v", err)
	}
	return r.Root.Child(ie, "Response").Child(ie, "Collection").ChildText(ie, "Estimate")
}

func TestDAVFilterType(t *testing.T) {
	w, seed := davWorld(t)
	ctx := context.Background()
	now := time.Now().UTC()
	day := func(d int) time.Time { return now.Truncate(24*time.Hour).AddDate(0, 0, d).Add(10 * time.Hour) }
	utc := func(t time.Time) string { return t.Format("20060102T150405Z") }
	coll := w.dav.MakeCalendar(t, "alice", "filtered", "Filtered")
	events := []struct{ name, lines string }{
		{"Old meeting", "DTSTART:" + utc(day(-60)) + "\r\nDTEND:" + utc(day(-60).Add(time.Hour))},
		{"Last week", "DTSTART:" + utc(day(-5)) + "\r\nDTEND:" + utc(day(-5).Add(time.Hour))},
		{"Next week", "DTSTART:" + utc(day(7)) + "\r\nDTEND:" + utc(day(7).Add(time.Hour))},
		{"Weekly forever", "DTSTART:" + utc(day(-400)) + "\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY"},
		{"Ended series", "DTSTART:" + utc(day(-300)) + "\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;UNTIL=" + utc(day(-100))},
		{"Count series", "DTSTART:" + utc(day(-20)) + "\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=30"},
		{"Old count series", "DTSTART:" + utc(day(-200)) + "\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=5"},
		{"Yesterday all day", "DTSTART;VALUE=DATE:" + day(-1).Format("20060102") + "\r\nDTEND;VALUE=DATE:" + day(0).Format("20060102")},
	}
	for i, e := range events {
		body := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//test//EN\r\nBEGIN:VEVENT\r\nUID:filter-%d@example.test\r\n"+
			"DTSTAMP:%s\r\nSUMMARY:%s\r\n%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", i, utc(now), e.name, e.lines)
		w.dav.Put(t, "alice", fmt.Sprintf("%sfilter-%d.ics", coll, i), "text/calendar", []byte(body))
	}
	c := w.client("16.1", "filterphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	fs := folderIDs(t, c)
	calID, tasksID := fs["Filtered"].ServerID, ""
	for _, f := range fs {
		if f.Type == 7 {
			tasksID = f.ServerID
		}
	}
	if calID == "" || tasksID == "" {
		t.Fatalf("folders: %+v", fs)
	}
	ids := map[string]string{}
	key := syncFiltered(t, c, calID, "0", 100, 4).key
	// The estimate counts what the filter admits: five of the eight.
	if got := estimateFiltered(t, c, calID, key, 4); got != "5" {
		t.Errorf("GetItemEstimate, two weeks: %q, want 5", got)
	}
	if got := estimateFiltered(t, c, calID, key, 0); got != "8" {
		t.Errorf("GetItemEstimate, all: %q, want 8", got)
	}
	steps := []struct {
		filter      int
		adds, dels  string
		wantChanges bool
	}{
		// Two weeks: a series is in while it may still occur.
		{4, "Count series|Last week|Next week|Weekly forever|Yesterday all day", "", false},
		// Three months: what the wider window adds; the rest is sent again.
		{6, "Old meeting", "", true},
		// All.
		{0, "Ended series|Old count series", "", true},
		// Back to two weeks: what left the window is deleted.
		{4, "", "Ended series|Old count series|Old meeting", true},
	}
	for _, st := range steps {
		var adds, dels []string
		var changes int
		key, adds, dels, changes = filterRound(t, c, calID, key, st.filter, ids)
		if strings.Join(adds, "|") != st.adds || strings.Join(dels, "|") != st.dels {
			t.Errorf("FilterType %d: adds %q, deletes %q; want %q and %q", st.filter, adds, dels, st.adds, st.dels)
		}
		if st.wantChanges != (changes > 0) {
			t.Errorf("FilterType %d: %d changes", st.filter, changes)
		}
	}
	// No change: nothing.
	if k, adds, dels, changes := filterRound(t, c, calID, key, 4, ids); len(adds)+len(dels)+changes != 0 || k != key {
		t.Errorf("no-change sync: %q %q %d, key %s→%s", adds, dels, changes, key, k)
	}

	// Tasks, FilterType 8: incomplete only.
	var path, body string
	for _, o := range seed.In(seed.Tasks) {
		if o.Summary == "Buy milk" {
			path, body = o.Path, string(o.Body)
		}
	}
	key = syncFiltered(t, c, tasksID, "0", 100, 8).key
	if got := estimateFiltered(t, c, tasksID, key, 8); got != "1" {
		t.Errorf("GetItemEstimate, incomplete tasks: %q, want 1", got)
	}
	key, adds, dels, _ := filterRound(t, c, tasksID, key, 8, ids)
	if strings.Join(adds, "|") != "Buy milk" || len(dels) != 0 {
		t.Errorf("incomplete tasks: adds %q deletes %q", adds, dels)
	}
	// Completed on the server: it leaves the phone.
	done := strings.Replace(body, "STATUS:NEEDS-ACTION", "STATUS:COMPLETED\r\nCOMPLETED:"+utc(now), 1)
	if done == body {
		t.Fatalf("seeded task has no STATUS:NEEDS-ACTION:\n%s", body)
	}
	w.dav.Put(t, "alice", path, "text/calendar", []byte(done))
	// The phone has it: its SoftDelete is counted.
	if got := estimateFiltered(t, c, tasksID, key, 8); got != "1" {
		t.Errorf("GetItemEstimate, task completed on the server: %q, want 1", got)
	}
	key, adds, dels, _ = filterRound(t, c, tasksID, key, 8, ids)
	if len(adds) != 0 || strings.Join(dels, "|") != "Buy milk" {
		t.Errorf("completed on the server: adds %q deletes %q", adds, dels)
	}
	// All tasks.
	_, adds, _, _ = filterRound(t, c, tasksID, key, 0, ids)
	if strings.Join(adds, "|") != "Buy milk|File taxes" {
		t.Errorf("all tasks: adds %q", adds)
	}
}
