package davsource

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newTestAccount(t *testing.T, url, user, password string) *Account {
	t.Helper()
	a := NewAccount(Config{URL: url}, user, password, testLogger())
	t.Cleanup(func() { a.Close() })
	return a
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func byKey(fs []source.Folder) map[string]source.Folder {
	m := make(map[string]source.Folder)
	for _, f := range fs {
		m[f.Key] = f
	}
	return m
}

func expectErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func TestClassify(t *testing.T) {
	cals := []caldav.Calendar{
		{Path: "/u/zeta/", Name: "Zeta", SupportedComponentSet: []string{"VEVENT"}},
		{Path: "/u/alpha/", Name: "", SupportedComponentSet: []string{"VEVENT", "VTODO"}},
		{Path: "/u/Calendar/", Name: "Main", SupportedComponentSet: []string{"VEVENT"}},
		{Path: "/u/t2/", Name: "T2", SupportedComponentSet: []string{"VTODO"}},
		{Path: "/u/t1/", Name: "T1", SupportedComponentSet: []string{"vtodo"}},
		{Path: "/u/j/", Name: "J", SupportedComponentSet: []string{"VJOURNAL"}},
		{Path: "/u/any/", Name: "Any"},
		{Path: "/u/fb/", Name: "FB", SupportedComponentSet: []string{"VFREEBUSY"}},
		{Path: "/u/caf%C3%A9/", SupportedComponentSet: []string{"VJOURNAL"}},
	}
	books := []carddav.AddressBook{
		{Path: "/u/b/", Name: "B"},
		{Path: "/u/addressbook/", Name: "Address book"},
		{Path: "/u/a/", Name: " A "},
	}
	var got []source.Folder
	for _, c := range classify(cals, books) {
		got = append(got, c.folder())
	}
	want := []source.Folder{
		{Key: "caldav:/u/Calendar/", Name: "Main", Type: eas.FolderCalendar},
		{Key: "caldav:/u/alpha/", Name: "alpha", Type: eas.FolderUserCalendar},
		{Key: "caldav:/u/any/", Name: "Any", Type: eas.FolderUserCalendar},
		{Key: "caldav:/u/zeta/", Name: "Zeta", Type: eas.FolderUserCalendar},
		{Key: "caldav:/u/t1/", Name: "T1", Type: eas.FolderTasks},
		{Key: "caldav:/u/t2/", Name: "T2", Type: eas.FolderUserTasks},
		{Key: "caldav:/u/caf%C3%A9/", Name: "café", Type: eas.FolderNotes},
		{Key: "caldav:/u/j/", Name: "J", Type: eas.FolderUserNotes},
		{Key: "carddav:/u/a/", Name: "A", Type: eas.FolderUserContacts},
		{Key: "carddav:/u/addressbook/", Name: "Address book", Type: eas.FolderContacts},
		{Key: "carddav:/u/b/", Name: "B", Type: eas.FolderUserContacts},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Stable: input order does not matter.
	for i, j := 0, len(cals)-1; i < j; i, j = i+1, j-1 {
		cals[i], cals[j] = cals[j], cals[i]
	}
	for i, c := range classify(cals, books) {
		if c.folder() != want[i] {
			t.Errorf("reversed input: [%d] = %+v", i, c.folder())
		}
	}
}

func TestFakeFolders(t *testing.T) {
	f, srv := newFakeDAV(t)
	a := newTestAccount(t, srv.URL+"/dav/", "alice", "alicepw")
	ctx := ctxT(t)
	if err := a.Login(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := a.Homes(ctx)
	if err != nil || h != (Homes{Principal: "/dav/principals/alice/", CalendarHome: "/dav/cal/alice/", ContactsHome: "/dav/card/alice/"}) {
		t.Fatalf("homes %+v, %v", h, err)
	}
	fs, err := a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := byKey(fs)
	for key, want := range map[string]source.Folder{
		"caldav:/dav/cal/alice/personal/":    {Key: "caldav:/dav/cal/alice/personal/", Name: "Personal", Type: 8},
		"caldav:/dav/cal/alice/b-work/":      {Key: "caldav:/dav/cal/alice/b-work/", Name: "b-work", Type: 13},
		"caldav:/dav/cal/alice/all/":         {Key: "caldav:/dav/cal/alice/all/", Name: "Everything", Type: 13},
		"caldav:/dav/cal/alice/todo/":        {Key: "caldav:/dav/cal/alice/todo/", Name: "To do", Type: 7},
		"carddav:/dav/card/alice/a-friends/": {Key: "carddav:/dav/card/alice/a-friends/", Name: "Friends", Type: 9},
		"carddav:/dav/card/alice/z-work/":    {Key: "carddav:/dav/card/alice/z-work/", Name: "Work", Type: 14},
	} {
		if got[key] != want {
			t.Errorf("%q = %+v, want %+v", key, got[key], want)
		}
	}
	if len(fs) != 6 {
		t.Errorf("%d folders (VFREEBUSY-only must be skipped): %+v", len(fs), fs)
	}
	// Discovery is cached: the second listing asks only for the homes.
	before := len(f.seen())
	if _, err := a.Folders(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.seen()) - before; n != 2 {
		t.Errorf("cached listing sent %d requests, want 2: %v", n, f.seen()[before:])
	}
	for _, h := range f.auths {
		if !strings.HasPrefix(h, "Basic ") {
			t.Errorf("request without Basic auth: %q", h)
		}
	}
}

func TestFakeWellKnown(t *testing.T) {
	f, srv := newFakeDAV(t)
	// The base URL knows no principal: /.well-known/caldav redirects (301)
	// to /dav/, which does; the PROPFIND must stay a PROPFIND.
	a := newTestAccount(t, srv.URL+"/elsewhere/", "alice", "alicepw")
	ctx := ctxT(t)
	if err := a.Login(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"PROPFIND /elsewhere/", "PROPFIND /.well-known/caldav", "PROPFIND /dav/", "PROPFIND /dav/principals/alice/"}
	if got := f.seen(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("requests %v, want %v", got, want)
	}
}

func TestFakeErrors(t *testing.T) {
	f, srv := newFakeDAV(t)
	ctx := ctxT(t)

	bad := newTestAccount(t, srv.URL+"/dav/", "alice", "wrong")
	err := bad.Login(ctx)
	expectErr(t, "bad password", err, eas.ErrAuthFailed)
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error leaks the password: %v", err)
	}
	_, err = bad.Folders(ctx)
	expectErr(t, "Folders with bad password", err, eas.ErrAuthFailed)

	a := newTestAccount(t, srv.URL+"/dav/", "alice", "alicepw")
	for code, want := range map[int]error{
		http.StatusForbidden:           eas.ErrAuthFailed,
		http.StatusInternalServerError: eas.ErrBackendUnavailable,
		http.StatusServiceUnavailable:  eas.ErrBackendUnavailable,
		http.StatusBadGateway:          eas.ErrBackendUnavailable,
	} {
		f.set(func(f *fakeDAV) { f.forceStatus = code })
		expectErr(t, http.StatusText(code), a.Login(ctx), want)
	}
	f.set(func(f *fakeDAV) { f.forceStatus = 0 })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	expectErr(t, "unreachable", newTestAccount(t, "http://"+addr+"/", "alice", "alicepw").Login(ctx), eas.ErrBackendUnavailable)
	if NewAccount(Config{URL: "ftp://x"}, "a", "b", nil).Login(ctx) == nil {
		t.Error("bad URL: no error")
	}

	if err := a.Login(ctx); err != nil {
		t.Fatal(err)
	}
	// Servers that refuse to create collections.
	for _, code := range []int{http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusUnsupportedMediaType} {
		f.set(func(f *fakeDAV) { f.methodStatus = map[string]int{"MKCALENDAR": code, "MKCOL": code} })
		_, err := a.CreateFolder(ctx, "", "New", eas.FolderUserCalendar)
		expectErr(t, "MKCALENDAR "+http.StatusText(code), err, eas.ErrNotSupported)
		_, err = a.CreateFolder(ctx, "", "New", eas.FolderUserContacts)
		expectErr(t, "MKCOL "+http.StatusText(code), err, eas.ErrNotSupported)
	}
	f.set(func(f *fakeDAV) { f.methodStatus = map[string]int{"DELETE": http.StatusForbidden} })
	expectErr(t, "DELETE 403", a.DeleteFolder(ctx, "caldav:/dav/cal/alice/b-work/"), eas.ErrNotSupported)
	f.set(func(f *fakeDAV) { f.methodStatus = map[string]int{"DELETE": http.StatusNotFound} })
	expectErr(t, "DELETE 404", a.DeleteFolder(ctx, "caldav:/dav/cal/alice/b-work/"), eas.ErrNotFound)
	f.set(func(f *fakeDAV) { f.methodStatus = map[string]int{}; f.proppatchProp = http.StatusForbidden })
	_, err = a.RenameFolder(ctx, "caldav:/dav/cal/alice/b-work/", "", "Renamed")
	expectErr(t, "PROPPATCH 207/403", err, eas.ErrNotSupported)
	f.set(func(f *fakeDAV) { f.proppatchProp = 0 })

	_, err = a.CreateFolder(ctx, "", "Mail", eas.FolderUserMail)
	expectErr(t, "create mail", err, eas.ErrNotSupported)
	_, err = a.CreateFolder(ctx, "caldav:/dav/cal/alice/personal/", "Sub", eas.FolderUserCalendar)
	expectErr(t, "create nested", err, eas.ErrNotSupported)
	_, err = a.CreateFolder(ctx, "", "personal", eas.FolderUserCalendar)
	expectErr(t, "create existing name", err, eas.ErrExists)
	_, err = a.CreateFolder(ctx, "", " ", eas.FolderUserCalendar)
	expectErr(t, "create blank", err, ErrInvalidName)
	if st, ok := eas.StatusOf(err); !ok || st != eas.FolderStatusBadRequest {
		t.Errorf("blank name status %v %v", st, ok)
	}
	_, err = a.RenameFolder(ctx, "caldav:/dav/cal/alice/b-work/", "caldav:/dav/cal/alice/personal/", "x")
	expectErr(t, "move", err, eas.ErrNotSupported)
	_, err = a.RenameFolder(ctx, "caldav:/dav/cal/alice/b-work/", "", "Everything")
	expectErr(t, "rename onto existing", err, eas.ErrExists)
	_, err = a.RenameFolder(ctx, "caldav:/dav/cal/alice/nope/", "", "x")
	expectErr(t, "rename missing", err, eas.ErrNotFound)
	expectErr(t, "delete default", a.DeleteFolder(ctx, "caldav:/dav/cal/alice/personal/"), eas.ErrSpecialFolder)
	expectErr(t, "delete default book", a.DeleteFolder(ctx, "carddav:/dav/card/alice/a-friends/"), eas.ErrSpecialFolder)
	expectErr(t, "delete missing", a.DeleteFolder(ctx, "caldav:/dav/cal/alice/nope/"), eas.ErrNotFound)
	expectErr(t, "delete home", a.DeleteFolder(ctx, "caldav:/dav/cal/alice/"), eas.ErrNotFound)
	expectErr(t, "delete foreign key", a.DeleteFolder(ctx, "imap:INBOX"), eas.ErrNotFound)
	for _, r := range f.seen() {
		if strings.HasPrefix(r, "DELETE /dav/cal/alice/personal") || r == "DELETE /dav/cal/alice/" {
			t.Errorf("sent %q", r)
		}
	}

	a.Close()
	_, err = a.Folders(ctx)
	expectErr(t, "after Close", err, ErrClosed)
}

func TestFakeChanges(t *testing.T) {
	f, srv := newFakeDAV(t)
	a := newTestAccount(t, srv.URL+"/dav/", "alice", "alicepw")
	ctx := ctxT(t)
	for typ, want := range map[eas.FolderType]eas.FolderType{
		eas.FolderUserCalendar: eas.FolderUserCalendar,
		eas.FolderTasks:        eas.FolderUserTasks, // a default exists already
		eas.FolderUserNotes:    eas.FolderNotes,     // the first notes collection
		eas.FolderUserContacts: eas.FolderUserContacts,
	} {
		c, err := a.CreateFolder(ctx, "", "New "+typ.String(), typ)
		if err != nil {
			t.Fatalf("create %v: %v", typ, err)
		}
		if c.Type != want || c.Name != "New "+typ.String() || c.ParentKey != "" {
			t.Errorf("create %v = %+v, want type %v", typ, c, want)
		}
		r, err := a.RenameFolder(ctx, c.Key, "", "Renamed "+typ.String())
		if err != nil || r.Key != c.Key || r.Name != "Renamed "+typ.String() || r.Type != want {
			t.Errorf("rename %v = %+v, %v", typ, r, err)
		}
		if c.Type == want && want.IsSpecial() {
			continue // the only one of its kind: the default, not deletable
		}
		if err := a.DeleteFolder(ctx, c.Key); err != nil {
			t.Errorf("delete %v: %v", typ, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cals) != 6 || len(f.books) != 2 {
		t.Errorf("left %d calendars, %d books", len(f.cals), len(f.books))
	}
	for p, c := range f.cals {
		if strings.HasPrefix(c.name, "Renamed") && (!strings.HasPrefix(p, "/dav/cal/alice/") || len(p) < len("/dav/cal/alice/")+37) {
			t.Errorf("new collection path %q", p)
		}
	}
}
