package davsource

// Integration tests against a real Radicale started by sync/testenv. They
// fail (never skip) when Radicale is not installed.

import (
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/source"
	"easbridge/sync/testenv"
)

func TestRadicaleDiscoveryAndFolders(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	seed := r.SeedDefault(t, "alice")
	ctx := ctxT(t)

	a := newTestAccount(t, r.URL, "alice", "alicepw")
	if err := a.Login(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := a.Homes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Principal != seed.Principal || h.CalendarHome != seed.Home || h.ContactsHome != seed.Home {
		t.Errorf("homes %+v, seed %s", h, seed)
	}
	fs, err := a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("folders: %+v", fs)
	want := []source.Folder{
		{Key: "caldav:" + seed.Calendar, Name: "Calendar", Type: eas.FolderCalendar},
		{Key: "caldav:" + seed.Work, Name: "Work", Type: eas.FolderUserCalendar},
		{Key: "caldav:" + seed.Tasks, Name: "Tasks", Type: eas.FolderTasks},
		{Key: "caldav:" + seed.Notes, Name: "Notes", Type: eas.FolderNotes},
		{Key: "carddav:" + seed.Contacts, Name: "Contacts", Type: eas.FolderContacts},
		{Key: "carddav:" + seed.Office, Name: "Office", Type: eas.FolderUserContacts},
	}
	if len(fs) != len(want) {
		t.Fatalf("got %d folders, want %d: %+v", len(fs), len(want), fs)
	}
	for i := range want {
		if fs[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, fs[i], want[i])
		}
	}
	// Stable across calls and accounts.
	b := newTestAccount(t, r.URL, "alice", "alicepw")
	fs2, err := b.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range fs {
		if fs2[i] != fs[i] {
			t.Errorf("second listing [%d] = %+v, first %+v", i, fs2[i], fs[i])
		}
	}

	// A base URL without a principal: discovery via /.well-known/.
	// (Radicale answers 403 there, then 301 on /.well-known/caldav.)
	rec := &recorder{}
	wk := NewAccount(Config{URL: strings.TrimRight(r.URL, "/") + "/no/such/path/", HTTPClient: &http.Client{Transport: rec}},
		"alice", "alicepw", testLogger())
	defer wk.Close()
	if err := wk.Login(ctx); err != nil {
		t.Fatalf("well-known discovery: %v", err)
	}
	if h2, _ := wk.Homes(ctx); h2 != h {
		t.Errorf("well-known homes %+v, want %+v", h2, h)
	}
	t.Logf("well-known requests: %v", rec.log)
	if len(rec.log) < 3 || rec.log[1] != "PROPFIND /.well-known/caldav" {
		t.Errorf("well-known requests: %v", rec.log)
	}
	for _, l := range rec.log {
		if !strings.HasPrefix(l, "PROPFIND ") {
			t.Errorf("redirect changed the method: %v", rec.log)
		}
	}

	// Bob sees none of it.
	bob := newTestAccount(t, r.URL, "bob", "bobpw")
	bfs, err := bob.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range bfs {
		if strings.Contains(f.Key, "/alice/") {
			t.Errorf("bob sees %+v", f)
		}
	}
}

func TestRadicaleChanges(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	seed := r.SeedDefault(t, "alice")
	ctx := ctxT(t)
	a := newTestAccount(t, r.URL, "alice", "alicepw")

	created := map[eas.FolderType]source.Folder{}
	for _, typ := range []eas.FolderType{eas.FolderUserCalendar, eas.FolderUserTasks, eas.FolderUserNotes, eas.FolderUserContacts} {
		f, err := a.CreateFolder(ctx, "", "Neu "+typ.String()+" – ü", typ)
		if err != nil {
			t.Fatalf("create %v: %v", typ, err)
		}
		if f.Type != typ || f.ParentKey != "" || f.Name != "Neu "+typ.String()+" – ü" {
			t.Errorf("created %+v", f)
		}
		created[typ] = f
	}
	fs, err := a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := byKey(fs)
	for _, f := range created {
		if got[f.Key] != f {
			t.Errorf("listed %+v, created %+v", got[f.Key], f)
		}
	}
	// The seeded defaults kept their types.
	for key, typ := range map[string]eas.FolderType{
		"caldav:" + seed.Calendar: 8, "caldav:" + seed.Tasks: 7, "caldav:" + seed.Notes: 10, "carddav:" + seed.Contacts: 9,
	} {
		if got[key].Type != typ {
			t.Errorf("%s type %v after creates, want %v", key, got[key].Type, typ)
		}
	}

	_, err = a.CreateFolder(ctx, "", "work", eas.FolderUserCalendar)
	expectErr(t, "create existing name", err, eas.ErrExists)
	_, err = a.CreateFolder(ctx, "", "Inbox", eas.FolderUserMail)
	expectErr(t, "create mail", err, eas.ErrNotSupported)

	// Rename: a user calendar, and a default one.
	cal := created[eas.FolderUserCalendar]
	rn, err := a.RenameFolder(ctx, cal.Key, "", "Umbenannt")
	if err != nil || rn.Key != cal.Key || rn.Name != "Umbenannt" || rn.Type != cal.Type {
		t.Errorf("rename = %+v, %v", rn, err)
	}
	def, err := a.RenameFolder(ctx, "caldav:"+seed.Calendar, "", "Mein Kalender")
	if err != nil || def.Type != eas.FolderCalendar || def.Name != "Mein Kalender" {
		t.Errorf("rename default = %+v, %v", def, err)
	}
	book, err := a.RenameFolder(ctx, created[eas.FolderUserContacts].Key, "", "Kunden")
	if err != nil || book.Name != "Kunden" {
		t.Errorf("rename address book = %+v, %v", book, err)
	}
	_, err = a.RenameFolder(ctx, cal.Key, "caldav:"+seed.Work, "x")
	expectErr(t, "move", err, eas.ErrNotSupported)
	_, err = a.RenameFolder(ctx, cal.Key, "", "Work")
	expectErr(t, "rename onto existing", err, eas.ErrExists)
	_, err = a.RenameFolder(ctx, "caldav:/alice/nope/", "", "x")
	expectErr(t, "rename missing", err, eas.ErrNotFound)
	fs, err = a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got = byKey(fs)
	if got[cal.Key].Name != "Umbenannt" || got["caldav:"+seed.Calendar].Name != "Mein Kalender" || got[book.Key].Name != "Kunden" {
		t.Errorf("renames not listed: %+v", fs)
	}

	// Delete.
	for key, want := range map[string]error{
		"caldav:" + seed.Calendar:  eas.ErrSpecialFolder,
		"caldav:" + seed.Tasks:     eas.ErrSpecialFolder,
		"caldav:" + seed.Notes:     eas.ErrSpecialFolder,
		"carddav:" + seed.Contacts: eas.ErrSpecialFolder,
		"caldav:/alice/nope/":      eas.ErrNotFound,
		"caldav:" + seed.Home:      eas.ErrNotFound,
		"carddav:" + seed.Calendar: eas.ErrNotFound,
	} {
		expectErr(t, "delete "+key, a.DeleteFolder(ctx, key), want)
	}
	for _, f := range created {
		if err := a.DeleteFolder(ctx, f.Key); err != nil {
			t.Errorf("delete %+v: %v", f, err)
		}
	}
	if err := a.DeleteFolder(ctx, "caldav:"+seed.Work); err != nil {
		t.Errorf("delete seeded work: %v", err)
	}
	fs, err = a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 5 {
		t.Errorf("after deletes: %+v", fs)
	}
	if body, _ := r.Get(t, "alice", seed.Calendar); len(body) == 0 {
		t.Log("default calendar GET returned nothing (fine for a collection)")
	}
}

func TestRadicaleLogin(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	r.SeedDefault(t, "alice")
	ctx := ctxT(t)

	bad := newTestAccount(t, r.URL, "alice", "wrong")
	start := time.Now()
	err := bad.Login(ctx)
	took := time.Since(start)
	expectErr(t, "bad password", err, eas.ErrAuthFailed)
	t.Logf("bad password: %v in %v", err, took)
	if took > 2*time.Second {
		t.Errorf("bad password took %v", took)
	}
	expectErr(t, "unknown user", newTestAccount(t, r.URL, "mallory", "x").Login(ctx), eas.ErrAuthFailed)

	// Another user's home is not ours: 403 from owner_only rights.
	alice := newTestAccount(t, r.URL, "alice", "alicepw")
	resp, err := alice.send(ctx, "PROPFIND", "/bob/", "0", propfindPrincipal)
	if err == nil {
		resp.Body.Close()
	}
	var he *HTTPError
	if !errors.As(err, &he) || (he.Code != http.StatusForbidden && he.Code != http.StatusNotFound) {
		t.Errorf("PROPFIND /bob/ as alice: %v", err)
	}

	settle := runtime.NumGoroutine()
	c := NewAccount(Config{URL: r.URL}, "alice", "alicepw", testLogger())
	if _, err := c.Folders(ctx); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	_, err = c.Folders(ctx)
	expectErr(t, "stopped server", err, eas.ErrBackendUnavailable)
	expectErr(t, "stopped server login", c.Login(ctx), eas.ErrBackendUnavailable)
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > settle {
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines after Close, want <= %d", runtime.NumGoroutine(), settle)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recorder is an http.RoundTripper that logs "METHOD path" of each request.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.log = append(r.log, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}
