package state

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"easbridge/server/eas"
)

// openTest opens a store in a fresh directory (two levels that do not exist
// yet, so OpenSQLite must create them) and closes it at the end of the test.
func openTest(t testing.TB) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a", "b", "state.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

func reopen(t *testing.T, s *SQLite, path string) *SQLite {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestOpenPragmas(t *testing.T) {
	s, path := openTest(t)
	for _, tc := range []struct {
		db   *sql.DB
		name string
		want string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "1"}, // NORMAL
		{s.w, "foreign_keys", "1"},
		{s.w, "busy_timeout", "5000"},
		{s.w, "query_only", "0"},
		{s.w, "user_version", strconv.Itoa(len(migrations()))},
		{s.w, "application_id", strconv.Itoa(applicationID)},
		{s.r, "journal_mode", "wal"},
		{s.r, "busy_timeout", "5000"},
		{s.r, "query_only", "1"},
	} {
		if got := pragma(t, tc.db, tc.name); got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.name, got, tc.want)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("database file mode %v, want 0600", m)
	}
	if _, err := s.r.Exec(`DELETE FROM settings`); err == nil {
		t.Error("a reader connection could write")
	}
}

// TestTxLockImmediate checks that _txlock=immediate works with this driver
// version: a write transaction holds the write lock from BEGIN, before it
// has run any statement, so another connection cannot take it.
func TestTxLockImmediate(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()

	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err == nil {
		t.Fatal("BEGIN IMMEDIATE succeeded while the store's writer had an empty transaction open: the writer's BEGIN is deferred")
	} else if !strings.Contains(err.Error(), "SQLITE_BUSY") && !strings.Contains(err.Error(), "locked") {
		t.Fatalf("BEGIN IMMEDIATE: %v, want SQLITE_BUSY", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("BEGIN IMMEDIATE after the writer's rollback: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSpecialPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%41&e=f")
	path := filepath.Join(dir, "state.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(context.Background(), "u", "n", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "state.db" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("files in %q: %q, want only state.db", dir, names)
	}
}

func TestOpenBadDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenSQLite(context.Background(), filepath.Join(file, "state.db"))
	if err == nil || !strings.HasPrefix(err.Error(), "state: open ") {
		t.Fatalf("OpenSQLite under a regular file: %v, want a state: open error", err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	if err := s.PutSetting(ctx, "u", "n", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	schema := func(db *sql.DB) string {
		rows, err := db.Query(`SELECT type, name, sql FROM sqlite_schema ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var typ, name string
			var q sql.NullString
			if err := rows.Scan(&typ, &name, &q); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s %s\n", typ, name, q.String)
		}
		return b.String()
	}
	before := schema(s.w)

	// Reopening applies nothing again.
	for range 2 {
		s = reopen(t, s, path)
	}
	if after := schema(s.w); after != before {
		t.Errorf("schema changed on reopen:\n%s\nwas\n%s", after, before)
	}
	if v := pragma(t, s.w, "user_version"); v != strconv.Itoa(len(migrations())) {
		t.Errorf("user_version %s after reopen", v)
	}
	if v, err := s.Setting(ctx, "u", "n"); err != nil || string(v) != "kept" {
		t.Errorf("setting after reopen: %q, %v", v, err)
	}

	// A later step applies once, in order, and is skipped on the next run.
	steps := append(migrations(), migration{version: len(migrations()) + 1, stmts: []string{
		`CREATE TABLE extra (x INTEGER)`,
		`INSERT INTO extra VALUES (1)`,
	}})
	for range 2 {
		if err := migrateSteps(ctx, s.w, steps); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.w.QueryRow(`SELECT count(*) FROM extra`).Scan(&n); err != nil || n != 1 {
		t.Errorf("extra rows %d, %v; want 1 (step applied once)", n, err)
	}

	// A failing step is rolled back whole: no half-created table, version
	// unchanged.
	bad := append(steps, migration{version: len(steps) + 1, stmts: []string{
		`CREATE TABLE half (x INTEGER)`,
		`THIS IS NOT SQL`,
	}})
	if err := migrateSteps(ctx, s.w, bad); err == nil {
		t.Fatal("failing step: no error")
	}
	if v := pragma(t, s.w, "user_version"); v != strconv.Itoa(len(steps)) {
		t.Errorf("user_version %s after a failed step, want %d", v, len(steps))
	}
	if err := s.w.QueryRow(`SELECT count(*) FROM half`).Scan(&n); err == nil {
		t.Error("table of the failed step exists")
	}

	// Out-of-order steps are a programming error.
	if err := migrateSteps(ctx, s.w, []migration{{version: 2}}); err == nil {
		t.Error("step list starting at version 2: no error")
	}

	// The database is now at a version this build's migrations() does not
	// know: opening it must fail clearly.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := OpenSQLite(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("opening a newer database: %v, want a newer-version error", err)
	}
}

func TestOpenForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA application_id = 1234; CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = OpenSQLite(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "not an easbridge state database") {
		t.Fatalf("opening another application's database: %v", err)
	}
}

func testDevice(user, id string) eas.Device {
	return eas.Device{
		User: user, ID: id, Type: "iPhone", UserAgent: "Apple-iPhone/1",
		Model: "iPhone 15", IMEI: "356938035643809", FriendlyName: "Phone of " + user,
		OS: "iOS 18", OSLanguage: "fr", PhoneNumber: "+33 6 00", MobileOperator: "Op",
		ProtocolVersion: eas.V161, PolicyHash: "abc",
		PolicyKey: 4294967295, PendingPolicyKey: 7,
		Access: eas.AccessQuarantined, Wipe: eas.WipeAccountPending,
		FirstSeen:   time.Date(2025, 3, 1, 10, 0, 0, 123_000_000, time.UTC),
		LastSeen:    time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC),
		LastCommand: "Sync",
	}
}

func TestDevices(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	if _, err := s.Device(ctx, "u", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v, want ErrNotFound", err)
	}
	if ds, err := s.Devices(ctx); err != nil || len(ds) != 0 {
		t.Fatalf("Devices on an empty store: %v, %v", ds, err)
	}

	local := testDevice("bob", "d1")
	local.LastSeen = time.Date(2026, 1, 2, 3, 4, 5, 678_999_999, time.FixedZone("X", 3600))

	for _, tc := range []struct {
		name string
		in   eas.Device
		want eas.Device
	}{
		{"full", testDevice("alice", "d1"), testDevice("alice", "d1")},
		{"zero", eas.Device{User: "alice", ID: "d0"}, eas.Device{User: "alice", ID: "d0"}},
		{"time truncated to ms, in UTC", local, func() eas.Device {
			d := testDevice("bob", "d1")
			d.LastSeen = time.Date(2026, 1, 2, 2, 4, 5, 678_000_000, time.UTC)
			return d
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutDevice(ctx, tc.in); err != nil {
				t.Fatal(err)
			}
			got, err := s.Device(ctx, tc.in.User, tc.in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}

	// Replace.
	d := testDevice("alice", "d1")
	d.Access, d.Wipe, d.LastCommand = eas.AccessAllowed, eas.WipeAcknowledged, "Provision"
	if err := s.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Device(ctx, "alice", "d1"); !reflect.DeepEqual(got, d) {
		t.Errorf("after replace: %+v", got)
	}

	for _, bad := range []eas.Device{{User: "u"}, {ID: "d"}} {
		if err := s.PutDevice(ctx, bad); err == nil {
			t.Errorf("PutDevice(%q/%q): no error", bad.User, bad.ID)
		}
	}

	// Ordered by user, then id, byte order.
	if err := s.PutDevice(ctx, eas.Device{User: "alice", ID: "D9"}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.User+"/"+d.ID)
	}
	if want := []string{"alice/D9", "alice/d0", "alice/d1", "bob/d1"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("Devices order %q, want %q", ids, want)
	}
}

func TestDeleteDevice(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for _, id := range []string{"d1", "d2"} {
		if err := s.PutDevice(ctx, testDevice("u", id)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutHierarchy(ctx, "u", id, 0, 1, []eas.Folder{{ServerID: "1", ParentID: "0"}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"1", "2"} {
			if err := s.PutCollection(ctx, "u", id, c, 0, 1, []byte(id+c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.DeleteDevice(ctx, "u", "d1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Device(ctx, "u", "d1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted device: %v", err)
	}
	if h, err := s.Hierarchy(ctx, "u", "d1"); err != nil || h.Key != 0 {
		t.Errorf("hierarchy of a deleted device: %+v, %v", h, err)
	}
	for _, c := range []string{"1", "2"} {
		if st, err := s.Collection(ctx, "u", "d1", c); err != nil || st.Key != 0 {
			t.Errorf("collection %s of a deleted device: %+v, %v", c, st, err)
		}
		// The other device keeps everything.
		if st, err := s.Collection(ctx, "u", "d2", c); err != nil || st.Key != 1 || string(st.Data) != "d2"+c {
			t.Errorf("collection %s of d2: %+v, %v", c, st, err)
		}
	}
	if _, err := s.Device(ctx, "u", "d2"); err != nil {
		t.Error(err)
	}
	if h, _ := s.Hierarchy(ctx, "u", "d2"); h.Key != 1 {
		t.Errorf("hierarchy of d2: %+v", h)
	}
	// Unknown: not an error.
	if err := s.DeleteDevice(ctx, "u", "nope"); err != nil {
		t.Error(err)
	}
}

func TestFolderIDs(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)

	if ids, err := s.FolderIDs(ctx, "u", nil); err != nil || len(ids) != 0 {
		t.Fatalf("no keys: %v, %v", ids, err)
	}
	steps := []struct {
		user string
		keys []string
		want map[string]string
	}{
		{"u", []string{"imap:INBOX", "imap:Sent"}, map[string]string{"imap:INBOX": "1", "imap:Sent": "2"}},
		// Known ones keep theirs, new ones get the next, duplicates once.
		{"u", []string{"imap:Sent", "caldav:/c/", "imap:INBOX", "caldav:/c/"}, map[string]string{"imap:Sent": "2", "caldav:/c/": "3", "imap:INBOX": "1"}},
		// Per-user counters.
		{"v", []string{"imap:INBOX"}, map[string]string{"imap:INBOX": "1"}},
		{"u", []string{"imap:INBOX"}, map[string]string{"imap:INBOX": "1"}},
	}
	for i, st := range steps {
		ids, err := s.FolderIDs(ctx, st.user, st.keys)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !reflect.DeepEqual(ids, st.want) {
			t.Fatalf("step %d: %v, want %v", i, ids, st.want)
		}
	}

	for _, tc := range []struct {
		user, id, want string
		err            error
	}{
		{"u", "1", "imap:INBOX", nil},
		{"u", "3", "caldav:/c/", nil},
		{"v", "1", "imap:INBOX", nil},
		{"v", "2", "", ErrNotFound},
		{"w", "1", "", ErrNotFound},
	} {
		got, err := s.FolderKey(ctx, tc.user, tc.id)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("FolderKey(%s, %s) = %q, %v; want %q, %v", tc.user, tc.id, got, err, tc.want, tc.err)
		}
	}

	// Rename keeps the id; the old key then gets a fresh one.
	if err := s.RenameFolderKey(ctx, "u", "imap:Sent", "imap:Sent Items"); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.FolderKey(ctx, "u", "2"); k != "imap:Sent Items" {
		t.Errorf("after rename, id 2 is %q", k)
	}
	ids, err := s.FolderIDs(ctx, "u", []string{"imap:Sent Items", "imap:Sent"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"imap:Sent Items": "2", "imap:Sent": "4"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("after rename: %v, want %v", ids, want)
	}
	// Rename onto a key that has an id: it takes the moved id, its own (4)
	// is dropped and never handed out again.
	if err := s.RenameFolderKey(ctx, "u", "imap:INBOX", "imap:Sent"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"1": "imap:Sent", "4": ""} {
		k, err := s.FolderKey(ctx, "u", id)
		if k != want || (want == "" && !errors.Is(err, ErrNotFound)) {
			t.Errorf("FolderKey(%s) = %q, %v; want %q", id, k, err, want)
		}
	}
	if err := s.RenameFolderKey(ctx, "u", "imap:Sent", "imap:Sent"); err != nil {
		t.Errorf("rename to itself: %v", err)
	}
	if err := s.RenameFolderKey(ctx, "u", "imap:INBOX", "imap:X"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rename of a key without id: %v, want ErrNotFound", err)
	}

	// Stable across close and reopen; the counter survives too.
	s = reopen(t, s, path)
	ids, err = s.FolderIDs(ctx, "u", []string{"imap:Sent", "imap:Sent Items", "caldav:/c/", "imap:INBOX", "new"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"imap:Sent": "1", "imap:Sent Items": "2", "caldav:/c/": "3", "imap:INBOX": "5", "new": "6"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("after reopen: %v, want %v", ids, want)
	}
}

// TestFolderIDsConcurrent assigns overlapping key sets from many goroutines:
// each key must get one id, the same for everyone, and no id two keys.
func TestFolderIDsConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const workers, keys = 8, 40
	results := make([]map[string]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var ks []string
			for k := range keys {
				if (k+w)%3 != 0 { // overlapping subsets
					ks = append(ks, "k"+strconv.Itoa(k))
				}
			}
			ids, err := s.FolderIDs(ctx, "u", ks)
			if err != nil {
				t.Error(err)
				return
			}
			results[w] = ids
		})
	}
	wg.Wait()
	all := map[string]string{}
	for _, r := range results {
		for k, id := range r {
			if prev, ok := all[k]; ok && prev != id {
				t.Errorf("key %s got ids %s and %s", k, prev, id)
			}
			all[k] = id
		}
	}
	seen := map[string]string{}
	for k, id := range all {
		if other, ok := seen[id]; ok {
			t.Errorf("id %s given to %s and %s", id, k, other)
		}
		seen[id] = k
	}
	if len(all) != keys {
		t.Errorf("%d keys assigned, want %d", len(all), keys)
	}
}

func folders(names ...string) []eas.Folder {
	var fs []eas.Folder
	for i, n := range names {
		fs = append(fs, eas.Folder{ServerID: strconv.Itoa(i + 1), ParentID: "0", DisplayName: n, Type: eas.FolderUserMail})
	}
	return fs
}

func TestHierarchy(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const u, d = "u", "dev"
	putColl := func() {
		t.Helper()
		if err := s.DeleteCollection(ctx, u, d, "c"); err != nil {
			t.Fatal(err)
		}
		if err := s.PutCollection(ctx, u, d, "c", 0, 3, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name             string
		before           func()
		prev, next       int
		folders          []eas.Folder
		stale            bool
		want             Hierarchy
		collectionsAfter int // key of collection "c" after the step
	}{
		{name: "stale on empty", prev: 3, next: 4, stale: true},
		{name: "first", before: putColl, prev: 0, next: 1, folders: folders("a"),
			want: Hierarchy{Key: 1, Folders: folders("a")}},
		{name: "advance", before: putColl, prev: 1, next: 2, folders: folders("a", "b"),
			want: Hierarchy{Key: 2, Folders: folders("a", "b"), PrevKey: 1, PrevFolders: folders("a")}, collectionsAfter: 3},
		{name: "advance again", prev: 2, next: 3, folders: nil,
			want: Hierarchy{Key: 3, PrevKey: 2, PrevFolders: folders("a", "b")}, collectionsAfter: 3},
		{name: "stale: previous key", prev: 2, next: 4, folders: folders("z"), stale: true,
			want: Hierarchy{Key: 3, PrevKey: 2, PrevFolders: folders("a", "b")}, collectionsAfter: 3},
		{name: "stale: future key", prev: 4, next: 5, stale: true,
			want: Hierarchy{Key: 3, PrevKey: 2, PrevFolders: folders("a", "b")}, collectionsAfter: 3},
		{name: "empty list", prev: 3, next: 4, folders: []eas.Folder{},
			want: Hierarchy{Key: 4, Folders: []eas.Folder{}, PrevKey: 3}, collectionsAfter: 3},
		{name: "prevKey 0 newKey 5 restarts the chain, keeps collections", prev: 0, next: 5, folders: folders("r"),
			want: Hierarchy{Key: 5, Folders: folders("r")}, collectionsAfter: 3},
		{name: "reset drops collections", prev: 0, next: 1, folders: folders("n"),
			want: Hierarchy{Key: 1, Folders: folders("n")}},
		{name: "reset repeated", before: putColl, prev: 0, next: 1, folders: folders("m"),
			want: Hierarchy{Key: 1, Folders: folders("m")}},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		err := s.PutHierarchy(ctx, u, d, st.prev, st.next, st.folders)
		if st.stale != errors.Is(err, ErrStaleKey) || (!st.stale && err != nil) {
			t.Fatalf("%s: PutHierarchy(%d, %d): %v, stale wanted: %v", st.name, st.prev, st.next, err, st.stale)
		}
		got, err := s.Hierarchy(ctx, u, d)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", st.name, got, st.want)
		}
		c, err := s.Collection(ctx, u, d, "c")
		if err != nil {
			t.Fatal(err)
		}
		if c.Key != st.collectionsAfter {
			t.Errorf("%s: collection key %d, want %d", st.name, c.Key, st.collectionsAfter)
		}
	}
	if err := s.PutHierarchy(ctx, u, d, 1, 0, nil); err == nil {
		t.Error("newKey 0: no error")
	}
	if h, err := s.Hierarchy(ctx, u, "other"); err != nil || !reflect.DeepEqual(h, Hierarchy{}) {
		t.Errorf("other device: %+v, %v", h, err)
	}
}

func TestCollection(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const u, d, c = "u", "dev", "col"
	steps := []struct {
		name       string
		del        bool
		prev, next int
		data       []byte
		stale      bool
		want       Collection
	}{
		{name: "stale on empty", prev: 1, next: 2, stale: true},
		{name: "first", prev: 0, next: 1, data: []byte("one"), want: Collection{Key: 1, Data: []byte("one")}},
		{name: "advance", prev: 1, next: 2, data: []byte("two"),
			want: Collection{Key: 2, Data: []byte("two"), PrevKey: 1, PrevData: []byte("one")}},
		{name: "stale: repeat of the previous key", prev: 1, next: 2, data: []byte("two'"), stale: true,
			want: Collection{Key: 2, Data: []byte("two"), PrevKey: 1, PrevData: []byte("one")}},
		{name: "stale: 0 over a stored state", prev: 0, next: 1, data: []byte("x"), stale: true,
			want: Collection{Key: 2, Data: []byte("two"), PrevKey: 1, PrevData: []byte("one")}},
		{name: "empty data, keys need not be consecutive", prev: 2, next: 10, data: nil,
			want: Collection{Key: 10, Data: []byte{}, PrevKey: 2, PrevData: []byte("two")}},
		{name: "binary", prev: 10, next: 11, data: []byte{0, 1, 0xff, 0},
			want: Collection{Key: 11, Data: []byte{0, 1, 0xff, 0}, PrevKey: 10, PrevData: []byte{}}},
		{name: "delete", del: true, want: Collection{}},
		{name: "after delete", prev: 0, next: 1, data: []byte("again"), want: Collection{Key: 1, Data: []byte("again")}},
	}
	for _, st := range steps {
		var err error
		if st.del {
			err = s.DeleteCollection(ctx, u, d, c)
		} else {
			err = s.PutCollection(ctx, u, d, c, st.prev, st.next, st.data)
		}
		if st.stale != errors.Is(err, ErrStaleKey) || (!st.stale && err != nil) {
			t.Fatalf("%s: %v, stale wanted: %v", st.name, err, st.stale)
		}
		got, err := s.Collection(ctx, u, d, c)
		if err != nil {
			t.Fatal(err)
		}
		if got.Key != st.want.Key || got.PrevKey != st.want.PrevKey ||
			!bytes.Equal(got.Data, st.want.Data) || !bytes.Equal(got.PrevData, st.want.PrevData) ||
			(got.Data == nil) != (st.want.Data == nil) || (got.PrevData == nil) != (st.want.PrevData == nil) {
			t.Errorf("%s:\n got  %+v\n want %+v", st.name, got, st.want)
		}
	}
	if err := s.PutCollection(ctx, u, d, c, 1, -1, nil); err == nil {
		t.Error("newKey -1: no error")
	}
	// Other collections, devices and users are separate.
	for _, k := range [][3]string{{u, d, "other"}, {u, "dev2", c}, {"v", d, c}} {
		if got, err := s.Collection(ctx, k[0], k[1], k[2]); err != nil || got.Key != 0 {
			t.Errorf("%v: %+v, %v", k, got, err)
		}
	}
	if err := s.DeleteCollection(ctx, u, d, "none"); err != nil {
		t.Errorf("deleting a collection without state: %v", err)
	}
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, err := s.Setting(ctx, "u", "oof"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unset: %v, want ErrNotFound", err)
	}
	for _, tc := range []struct {
		user, name string
		value      []byte
		want       []byte
	}{
		{"u", "oof", []byte(`{"state":1}`), []byte(`{"state":1}`)},
		{"u", "oof", []byte(`{"state":0}`), []byte(`{"state":0}`)}, // replace
		{"u", "empty", nil, []byte{}},
		{"v", "oof", []byte{0, 0xff}, []byte{0, 0xff}},
	} {
		if err := s.PutSetting(ctx, tc.user, tc.name, tc.value); err != nil {
			t.Fatal(err)
		}
		got, err := s.Setting(ctx, tc.user, tc.name)
		if err != nil || !bytes.Equal(got, tc.want) || got == nil {
			t.Errorf("Setting(%s, %s) = %q, %v; want %q", tc.user, tc.name, got, err, tc.want)
		}
	}
	if got, _ := s.Setting(ctx, "u", "oof"); string(got) != `{"state":0}` {
		t.Errorf("user u's setting changed by user v's: %q", got)
	}
}

// TestStaleKeyConcurrentWriters starts two writers at once from the same
// read key, many times: exactly one wins, the other gets ErrStaleKey, and
// the stored state is the winner's.
func TestStaleKeyConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const u, d, c = "u", "dev", "col"
	// PutHierarchy with prevKey 0 is a reset, always accepted: start the
	// hierarchy at 1 so that every round compares keys. The collection
	// starts empty: two first writes with prevKey 0 race too.
	if err := s.PutHierarchy(ctx, u, d, 0, 1, nil); err != nil {
		t.Fatal(err)
	}
	for round := range 100 {
		key := round // both read this key
		var (
			start = make(chan struct{})
			wg    sync.WaitGroup
			errs  [2]error
			herrs [2]error
		)
		for w := range 2 {
			wg.Go(func() {
				<-start
				errs[w] = s.PutCollection(ctx, u, d, c, key, key+1, []byte{byte(w)})
				if key > 0 {
					herrs[w] = s.PutHierarchy(ctx, u, d, key, key+1, folders(strconv.Itoa(w)))
				}
			})
		}
		close(start)
		wg.Wait()
		check := func(what string, errs [2]error) int {
			winner := -1
			for w, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("round %d %s: both writers won", round, what)
					}
					winner = w
				case !errors.Is(err, ErrStaleKey):
					t.Fatalf("round %d %s: %v", round, what, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d %s: nobody won: %v", round, what, errs)
			}
			return winner
		}
		cw := check("collection", errs)
		st, err := s.Collection(ctx, u, d, c)
		if err != nil || st.Key != key+1 || !bytes.Equal(st.Data, []byte{byte(cw)}) {
			t.Fatalf("round %d: collection %+v, %v; winner %d", round, st, err, cw)
		}
		if key == 0 {
			continue
		}
		hw := check("hierarchy", herrs)
		h, err := s.Hierarchy(ctx, u, d)
		if err != nil || h.Key != key+1 || !reflect.DeepEqual(h.Folders, folders(strconv.Itoa(hw))) {
			t.Fatalf("round %d: hierarchy %+v, %v; winner %d", round, h, err, hw)
		}
	}
}

// stamp is collection data that names its key, for checking that a key and
// its data were stored together.
func stamp(key int) []byte { return []byte("key=" + strconv.Itoa(key)) }

// TestConcurrentReadWrite runs read-modify-write loops on shared collections
// from several goroutines, with readers checking every state they see and
// devices, folder ids and settings written alongside. Run with -race.
func TestConcurrentReadWrite(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const (
		writers     = 6
		advances    = 40 // per writer
		collections = 2
		readers     = 4
	)
	var (
		wg      sync.WaitGroup
		done    = make(chan struct{})
		staleMu sync.Mutex
		stale   int
	)
	consistent := func(st Collection) error {
		if st.Key == 0 {
			return nil
		}
		if !bytes.Equal(st.Data, stamp(st.Key)) {
			return fmt.Errorf("key %d with data %q", st.Key, st.Data)
		}
		if st.PrevKey != st.Key-1 || (st.PrevKey > 0 && !bytes.Equal(st.PrevData, stamp(st.PrevKey))) {
			return fmt.Errorf("key %d with previous %d %q", st.Key, st.PrevKey, st.PrevData)
		}
		return nil
	}
	for w := range writers {
		wg.Go(func() {
			col := strconv.Itoa(w % collections)
			for n := 0; n < advances; {
				st, err := s.Collection(ctx, "u", "dev", col)
				if err != nil {
					t.Error(err)
					return
				}
				err = s.PutCollection(ctx, "u", "dev", col, st.Key, st.Key+1, stamp(st.Key+1))
				if errors.Is(err, ErrStaleKey) {
					staleMu.Lock()
					stale++
					staleMu.Unlock()
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				n++
				d := testDevice("u", "w"+strconv.Itoa(w))
				d.LastSeen = time.Now()
				if err := s.PutDevice(ctx, d); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.FolderIDs(ctx, "u", []string{"k" + strconv.Itoa(n%7), "w" + strconv.Itoa(w)}); err != nil {
					t.Error(err)
					return
				}
				if err := s.PutSetting(ctx, "u", "w"+strconv.Itoa(w), []byte(strconv.Itoa(n))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var rg sync.WaitGroup
	for r := range readers {
		rg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				st, err := s.Collection(ctx, "u", "dev", strconv.Itoa((i+r)%collections))
				if err != nil {
					t.Error(err)
					return
				}
				if err := consistent(st); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Devices(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()

	for c := range collections {
		st, err := s.Collection(ctx, "u", "dev", strconv.Itoa(c))
		if err != nil {
			t.Fatal(err)
		}
		// No advance lost: the key counts every successful PutCollection.
		if want := writers / collections * advances; st.Key != want {
			t.Errorf("collection %d at key %d, want %d", c, st.Key, want)
		}
		if err := consistent(st); err != nil {
			t.Error(err)
		}
	}
	ds, err := s.Devices(ctx)
	if err != nil || len(ds) != writers {
		t.Errorf("%d devices, %v; want %d", len(ds), err, writers)
	}
	t.Logf("%d stale writes retried", stale)
}

func TestCanceledContext(t *testing.T) {
	s, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutCollection(ctx, "u", "d", "c", 0, 1, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("PutCollection with a canceled context: %v", err)
	}
	if _, err := s.Device(ctx, "u", "d"); !errors.Is(err, context.Canceled) {
		t.Errorf("Device with a canceled context: %v", err)
	}
	// The store still works.
	if err := s.PutCollection(context.Background(), "u", "d", "c", 0, 1, nil); err != nil {
		t.Error(err)
	}
}

func TestReplaceCollection(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutCollection(ctx, "u", "d", "5", 0, 1, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCollection(ctx, "u", "d", "5", 1, 2, []byte("two")); err != nil {
		t.Fatal(err)
	}
	// The client repeated key 1: its lost answer (2) is replaced by 3; 1 stays the previous.
	if err := st.ReplaceCollection(ctx, "u", "d", "5", 2, 3, []byte("three")); err != nil {
		t.Fatal(err)
	}
	c, _ := st.Collection(ctx, "u", "d", "5")
	if c.Key != 3 || string(c.Data) != "three" || c.PrevKey != 1 || string(c.PrevData) != "one" {
		t.Fatalf("after replace: %+v", c)
	}
	if err := st.ReplaceCollection(ctx, "u", "d", "5", 2, 4, nil); !errors.Is(err, ErrStaleKey) {
		t.Fatalf("stale replace: %v", err)
	}
	if err := st.ReplaceCollection(ctx, "u", "d", "9", 0, 1, nil); !errors.Is(err, ErrStaleKey) {
		t.Fatalf("replace of a missing collection: %v", err)
	}
}
