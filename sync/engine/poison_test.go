package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/state"
)

func poisonEngine(t testing.TB) *Engine {
	t.Helper()
	st, err := state.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	return &Engine{opts: Options{Store: st, Now: func() time.Time { return now }}, log: discard()}
}

func poisonSession(e *Engine) *session {
	return &session{e: e, l: &login{user: "alice@example.test"}}
}

func TestPoisonTries(t *testing.T) {
	ctx := context.Background()
	e := poisonEngine(t)
	s := poisonSession(e)
	req := &server.SyncCollection{CollectionID: "7", SyncKey: "4"}
	for _, tc := range []struct {
		item, version string
		wantAside     bool
		wantTries     int
	}{
		{"/a.ics", "e1", false, 1},
		{"/a.ics", "e1", false, 2},
		{"/a.ics", "e1", true, 3},
		{"/a.ics", "e1", true, 4},  // still counted, still aside
		{"/a.ics", "e2", false, 1}, // a new version: new tries
		{"/b.ics", "", false, 1},
	} {
		r := s.poisonFor(ctx, "dev1", req, "caldav:/alice/work/", false)
		if got := r.fail(tc.item, tc.version, PoisonConvert, "bad"); got != tc.wantAside {
			t.Errorf("%s@%s: aside %v, want %v", tc.item, tc.version, got, tc.wantAside)
		}
		if err := r.b.save(ctx); err != nil {
			t.Fatal(err)
		}
		items, err := e.PoisonItems(ctx, "alice@example.test")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range items {
			if it.Item == tc.item {
				found = true
				if it.Tries != tc.wantTries || it.Folder != "caldav:/alice/work/" || it.DeviceID != "dev1" || it.CollectionID != "7" {
					t.Errorf("%s: %+v, want %d tries", tc.item, it, tc.wantTries)
				}
			}
		}
		if !found {
			t.Errorf("%s not listed: %+v", tc.item, items)
		}
	}
	r := s.poisonFor(ctx, "dev1", req, "caldav:/alice/work/", false)
	for _, tc := range []struct {
		item, version string
		want          bool
	}{
		{"/a.ics", "e2", false}, // tried once only
		{"/b.ics", "", false},
		{"/c.ics", "", false},
	} {
		if got := r.aside(tc.item, tc.version); got != tc.want {
			t.Errorf("aside(%s, %s) = %v", tc.item, tc.version, got)
		}
	}
	// Other devices have their own records.
	if other := s.poisonFor(ctx, "dev2", req, "x", false); other.aside("/a.ics", "e1") {
		t.Error("dev2 sees dev1's record")
	}
}

func TestPoisonRetrySkipAndMerge(t *testing.T) {
	ctx := context.Background()
	e := poisonEngine(t)
	s := poisonSession(e)
	req := &server.SyncCollection{CollectionID: "7", SyncKey: "4"}
	r := s.poisonFor(ctx, "dev1", req, "caldav:/alice/work/", false)
	for range 3 {
		r.fail("/a.ics", "e1", PoisonConvert, "bad")
	}
	r.fail("/b.ics", "e1", PoisonConvert, "bad")
	if err := r.b.save(ctx); err != nil {
		t.Fatal(err)
	}
	// A request that loaded the records before the Retry saves after it:
	// both changes survive.
	stale := s.poisonFor(ctx, "dev1", req, "caldav:/alice/work/", false)
	if err := e.RetryPoisonItem(ctx, "alice@example.test", poisonID("dev1", "7", "/a.ics")); err != nil {
		t.Fatal(err)
	}
	stale.ok("/b.ics")
	if err := stale.b.save(ctx); err != nil {
		t.Fatal(err)
	}
	items, _ := e.PoisonItems(ctx, "alice@example.test")
	if len(items) != 1 || items[0].Item != "/a.ics" || !items[0].Retry || items[0].SetAside || items[0].Tries != 0 {
		t.Fatalf("after Retry and ok: %+v", items)
	}
	// The next Sync queues it and forgets the record.
	r = s.poisonFor(ctx, "dev1", req, "caldav:/alice/work/", false)
	if got := r.retries(); len(got) != 1 || got[0] != "/a.ics" {
		t.Fatalf("retries = %v", got)
	}
	if other := s.poisonFor(ctx, "dev1", &server.SyncCollection{CollectionID: "8", SyncKey: "1"}, "x", false); len(other.retries()) != 0 {
		t.Error("another collection took the retry")
	}
	r.fail("/c.ics", "", PoisonClient, "Status 8")
	if err := r.b.save(ctx); err != nil {
		t.Fatal(err)
	}
	id := poisonID("dev1", "7", "/c.ics")
	if err := e.SkipPoisonItem(ctx, "alice@example.test", id); err != nil {
		t.Fatal(err)
	}
	r = s.poisonFor(ctx, "dev1", req, "caldav:/alice/work/", false)
	r.ok("/c.ics") // a skipped item stays listed
	if !r.aside("/c.ics", "any version") {
		t.Error("a skipped item is offered again")
	}
	if err := e.SkipPoisonItem(ctx, "alice@example.test", "nope"); err == nil {
		t.Error("skipping an unknown item succeeded")
	}
}

func TestPoisonRepeatedKey(t *testing.T) {
	ctx := context.Background()
	e := poisonEngine(t)
	s := poisonSession(e)
	run := func(key string, fromPrev bool) bool {
		r := s.poisonFor(ctx, "dev1", &server.SyncCollection{CollectionID: "7", SyncKey: key}, "f", fromPrev)
		if err := r.b.save(ctx); err != nil {
			t.Fatal(err)
		}
		return r.repeated
	}
	for i, tc := range []struct {
		key      string
		fromPrev bool
		want     bool
	}{
		{"4", true, false},
		{"4", true, false},
		{"4", true, true}, // third repeat of the same key
		{"5", false, false},
		{"5", true, false}, // counting starts again
		{"6", true, false}, // another key
	} {
		if got := run(tc.key, tc.fromPrev); got != tc.want {
			t.Errorf("step %d (key %s): repeated %v, want %v", i, tc.key, got, tc.want)
		}
	}
}

func TestPoisonClientResults(t *testing.T) {
	ctx := context.Background()
	e := poisonEngine(t)
	s := poisonSession(e)
	req := &server.SyncCollection{CollectionID: "7", SyncKey: "4", Commands: []server.ClientCommand{
		{Op: "Change", ServerID: "7:1"}, {Op: "Change", ServerID: "7:2"}, {Op: "Add", ClientID: "c1"},
	}}
	var statuses [][]eas.Status
	for range 3 {
		r := s.poisonFor(ctx, "dev1", req, "f", false)
		res := &server.SyncCollectionResult{Responses: []server.ItemResponse{
			{Op: "Change", ServerID: "7:1", Status: eas.SyncStatusObjectNotFound},
			{Op: "Add", ClientID: "c1", Status: eas.SyncStatusSuccess, ServerID: "7:9"},
		}}
		r.clientResults(req, res)
		if err := r.b.save(ctx); err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, []eas.Status{res.Responses[0].Status, res.Responses[1].Status})
	}
	want := [][]eas.Status{{8, 1}, {8, 1}, {6, 1}}
	for i := range want {
		if statuses[i][0] != want[i][0] || statuses[i][1] != want[i][1] {
			t.Errorf("round %d: statuses %v, want %v", i, statuses[i], want[i])
		}
	}
	items, _ := e.PoisonItems(ctx, "alice@example.test")
	if len(items) != 1 || items[0].Item != "change:7:1" || items[0].Kind != PoisonClient || !items[0].SetAside {
		t.Errorf("items %+v", items)
	}
}
