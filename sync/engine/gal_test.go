package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/source"
)

func TestGALWordsAndMatch(t *testing.T) {
	words := galWords("Mary-Ann O'Brien", "", "Contoso Ltd.", "m.obrien@contoso.com")
	tests := []struct {
		query string
		want  bool
	}{
		{"mary", true},
		{"MARY-ANN", true},
		{"ann", true},
		{"brien", true},
		{"o'b", true},
		{"obr", true}, // the address's local part, split at the dot
		{"m.obrien@", true},
		{"contoso.com", true},
		{"cont ltd", true},
		{"mary smith", false},
		{"rien", false}, // not a prefix
		{"", false},
		{"  ,; ", false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := galMatch(words, galTerms(tt.query)); got != tt.want {
				t.Errorf("galMatch(%v, %q) = %v", words, tt.query, got)
			}
		})
	}
	if got := galTerms("Deb, Poe;x  y"); strings.Join(got, "|") != "deb|poe|x|y" {
		t.Errorf("terms %q", got)
	}
}

// fakeDAV is an in-memory CalDAV/CardDAV account for the address list: a
// change log per collection gives sync tokens "v<n>"; it counts calls.
type fakeDAV struct {
	mu      gosync.Mutex
	objs    map[string]map[string]fakeObj // collection → path → object
	log     map[string][]fakeChange
	folders []source.Folder
	calls   map[string]int
	failing map[string]bool // collections whose Changes fail
}

type fakeObj struct {
	etag string
	data []byte
}

type fakeChange struct {
	path    string
	deleted bool
}

func newFakeDAV() *fakeDAV {
	return &fakeDAV{objs: map[string]map[string]fakeObj{}, log: map[string][]fakeChange{}, calls: map[string]int{}, failing: map[string]bool{}}
}

func (f *fakeDAV) put(coll, path, data string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.objs[coll] == nil {
		f.objs[coll] = map[string]fakeObj{}
	}
	f.log[coll] = append(f.log[coll], fakeChange{path: path})
	f.objs[coll][path] = fakeObj{etag: fmt.Sprintf(`"%d"`, len(f.log[coll])), data: []byte(data)}
}

func (f *fakeDAV) del(coll, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objs[coll], path)
	f.log[coll] = append(f.log[coll], fakeChange{path: path, deleted: true})
}

func (f *fakeDAV) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeDAV) resetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
}

func (f *fakeDAV) Folders(ctx context.Context) ([]source.Folder, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["Folders"]++
	if f.failing["folders"] {
		return nil, fmt.Errorf("fake: folders: %w", eas.ErrBackendUnavailable)
	}
	return f.folders, nil
}

func (f *fakeDAV) CreateFolder(ctx context.Context, parentKey, name string, typ eas.FolderType) (source.Folder, error) {
	return source.Folder{}, eas.ErrNotSupported
}

func (f *fakeDAV) RenameFolder(ctx context.Context, key, newParentKey, newName string) (source.Folder, error) {
	return source.Folder{}, eas.ErrNotSupported
}

func (f *fakeDAV) DeleteFolder(ctx context.Context, key string) error { return eas.ErrNotSupported }

func (f *fakeDAV) Changes(ctx context.Context, coll, token string) (source.DAVChanges, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["Changes"]++
	if f.failing[coll] {
		return source.DAVChanges{}, fmt.Errorf("fake: %s: %w", coll, eas.ErrBackendUnavailable)
	}
	cur := len(f.log[coll])
	ch := source.DAVChanges{Token: "v" + strconv.Itoa(cur)}
	n, err := strconv.Atoi(strings.TrimPrefix(token, "v"))
	switch {
	case token == "":
		ch.Full = true
		for p, o := range f.objs[coll] {
			ch.Changed = append(ch.Changed, source.DAVRef{Path: p, ETag: o.etag})
		}
		return ch, nil
	case !strings.HasPrefix(token, "v") || err != nil || n > cur:
		return ch, source.ErrTokenInvalid
	}
	seen := map[string]bool{}
	for i := cur - 1; i >= n; i-- {
		c := f.log[coll][i]
		if seen[c.path] {
			continue
		}
		seen[c.path] = true
		if o, ok := f.objs[coll][c.path]; ok {
			ch.Changed = append(ch.Changed, source.DAVRef{Path: c.path, ETag: o.etag})
		} else {
			ch.Deleted = append(ch.Deleted, c.path)
		}
	}
	return ch, nil
}

func (f *fakeDAV) Token(ctx context.Context, coll string) (string, error) {
	return "v" + strconv.Itoa(len(f.log[coll])), nil
}

func (f *fakeDAV) Get(ctx context.Context, coll string, paths []string) ([]source.DAVObject, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["Get"]++
	f.calls["Get:"+coll] += len(paths)
	var out []source.DAVObject
	for _, p := range paths {
		if o, ok := f.objs[coll][p]; ok {
			out = append(out, source.DAVObject{DAVRef: source.DAVRef{Path: p, ETag: o.etag}, Data: o.data})
		}
	}
	return out, nil
}

func (f *fakeDAV) Put(ctx context.Context, coll, path string, data []byte, ifMatch string) (string, error) {
	return "", eas.ErrNotSupported
}

func (f *fakeDAV) Delete(ctx context.Context, coll, path, ifMatch string) error {
	return eas.ErrNotSupported
}

func (f *fakeDAV) NewPath(coll, uid string) string { return coll + uid }

func (f *fakeDAV) CalendarQuery(ctx context.Context, coll string, start, end time.Time) ([]source.DAVObject, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["CalendarQuery"]++
	var out []source.DAVObject
	for p, o := range f.objs[coll] {
		out = append(out, source.DAVObject{DAVRef: source.DAVRef{Path: p, ETag: o.etag}, Data: o.data})
	}
	return out, nil
}

func fakeFolder(key string) source.Folder {
	return source.Folder{Key: key, Name: key, Type: eas.FolderContacts}
}

func vcard(fn, n string, extra ...string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + strings.ToLower(strings.ReplaceAll(fn, " ", "-")) + "\r\nFN:" + fn +
		"\r\nN:" + n + "\r\n" + strings.Join(extra, "\r\n") + "\r\nEND:VCARD\r\n"
}

const (
	contactsBook = "carddav:/alice/contacts/"
	sharedBook   = "carddav:/shared/gal/"
	calendarColl = "caldav:/alice/calendar/"
)

// galSession is a session over fake user and shared address books.
func galSession(t *testing.T) (*session, *fakeDAV, *fakeDAV) {
	t.Helper()
	user, shared := newFakeDAV(), newFakeDAV()
	user.folders = []source.Folder{
		{Key: contactsBook, Name: "Contacts", Type: eas.FolderContacts},
		{Key: calendarColl, Name: "Calendar", Type: eas.FolderCalendar},
		{Key: "caldav:/alice/tasks/", Name: "Tasks", Type: eas.FolderTasks},
	}
	user.put(contactsBook, "/alice/contacts/carol.vcf", vcard("Carol Example", "Example;Carol;;;", "EMAIL:carol@example.test", "TEL;TYPE=CELL:+49 170 1"))
	user.put(contactsBook, "/alice/contacts/deb.vcf", vcard("Deborah Smith", "Smith;Deborah;;;", "EMAIL:dsmith@example.org"))
	user.put(contactsBook, "/alice/contacts/nomail.vcf", vcard("Dentist Office", "Office;Dentist;;;", "TEL;TYPE=WORK:+49 30 2"))
	user.put(contactsBook, "/alice/contacts/broken.vcf", "BEGIN:VCARD\r\nFN")
	shared.put(sharedBook, "/shared/gal/deborah.vcf", vcard("Deborah Poe", "Poe;Deborah;;;", "EMAIL:deborah@contoso.com",
		"ORG:Contoso", "TITLE:Director", "TEL;TYPE=WORK:+1 425 555 0102", "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ"))
	shared.put(sharedBook, "/shared/gal/jeff.vcf", vcard("Jeff Hay", "Hay;Jeff;;;", "EMAIL:jeff@contoso.com", "EMAIL:jeff.hay@home.example", "ORG:Contoso"))
	shared.put(sharedBook, "/shared/gal/carol.vcf", vcard("Carol Example (Contoso)", "Example;Carol;;;", "EMAIL:CAROL@example.test"))
	g := &galBooks{user: user, folders: user, shared: shared, sharedKey: sharedBook, log: slog.New(slog.DiscardHandler), books: map[string]*galBook{}}
	e := &Engine{log: slog.New(slog.DiscardHandler)}
	return &session{e: e, l: &login{user: "alice@example.test", email: "alice@example.test", gal: g, dav: user}}, user, shared
}

func entrySummary(es []server.GALEntry) string {
	var parts []string
	for _, e := range es {
		s := e.DisplayName + "<" + e.EmailAddress + ">"
		if e.Contact {
			s += "c"
		}
		if e.Picture != nil {
			s += "+pic"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func TestGALSearch(t *testing.T) {
	s, user, shared := galSession(t)
	ctx := context.Background()
	tests := []struct {
		query string
		limit int
		pics  bool
		want  string
		total int
	}{
		{"deb", 10, false, "Deborah Poe<deborah@contoso.com>, Deborah Smith<dsmith@example.org>c", 2},
		{"contoso", 10, false, "Carol Example (Contoso)<CAROL@example.test>, Deborah Poe<deborah@contoso.com>, Jeff Hay<jeff@contoso.com>", 3},
		{"hay", 10, false, "Jeff Hay<jeff@contoso.com>", 1},
		{"home.example", 10, false, "Jeff Hay<jeff@contoso.com>", 1},
		// Carol is in both books with the same address: the directory's.
		{"carol", 10, false, "Carol Example (Contoso)<CAROL@example.test>", 1},
		{"dentist", 10, false, "Dentist Office<>c", 1},
		{"de", 2, false, "Deborah Poe<deborah@contoso.com>, Deborah Smith<dsmith@example.org>c", 3},
		{"deb poe", 10, true, "Deborah Poe<deborah@contoso.com>+pic", 1},
		{"alice", 10, false, "alice<alice@example.test>", 1}, // the user
		{"zebra", 10, false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, total, err := s.SearchGAL(ctx, server.GALQuery{Text: tt.query, Limit: tt.limit, Pictures: tt.pics})
			if err != nil {
				t.Fatal(err)
			}
			if entrySummary(got) != tt.want || total != tt.total {
				t.Errorf("got %s (%d), want %s (%d)", entrySummary(got), total, tt.want, tt.total)
			}
		})
	}
	// The entry of a directory card carries its fields.
	got, _, _ := s.SearchGAL(ctx, server.GALQuery{Text: "poe", Limit: 1})
	if e := got[0]; e.Company != "Contoso" || e.Title != "Director" || e.Phone != "+1 425 555 0102" || e.Alias != "deborah" ||
		e.FirstName != "Deborah" || e.LastName != "Poe" {
		t.Errorf("entry %+v", e)
	}

	// Nothing changed: one Changes per book, no fetch.
	user.resetCalls()
	shared.resetCalls()
	if _, _, err := s.SearchGAL(ctx, server.GALQuery{Text: "deb", Limit: 10}); err != nil {
		t.Fatal(err)
	}
	if user.count("Changes") != 1 || shared.count("Changes") != 1 || user.count("Get")+shared.count("Get") != 0 || user.count("Folders") != 0 {
		t.Errorf("no-change look-up: user %v, shared %v", user.calls, shared.calls)
	}
	// A changed, a new and a deleted card: only what changed is fetched.
	user.put(contactsBook, "/alice/contacts/deb.vcf", vcard("Debbie Smith", "Smith;Debbie;;;", "EMAIL:dsmith@example.org"))
	shared.put(sharedBook, "/shared/gal/debra.vcf", vcard("Debra Winter", "Winter;Debra;;;", "EMAIL:debra@contoso.com"))
	shared.del(sharedBook, "/shared/gal/deborah.vcf")
	user.resetCalls()
	shared.resetCalls()
	got, _, err := s.SearchGAL(ctx, server.GALQuery{Text: "deb", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if entrySummary(got) != "Debra Winter<debra@contoso.com>, Debbie Smith<dsmith@example.org>c" {
		t.Errorf("after changes: %s", entrySummary(got))
	}
	if user.count("Get:"+contactsBook) != 1 || shared.count("Get:"+sharedBook) != 1 {
		t.Errorf("fetched user %v, shared %v", user.calls, shared.calls)
	}
	// A token the server no longer knows: listed again.
	s.l.gal.books["shared|"+sharedBook].token = "garbage"
	got, _, err = s.SearchGAL(ctx, server.GALQuery{Text: "jeff", Limit: 10})
	if err != nil || entrySummary(got) != "Jeff Hay<jeff@contoso.com>" {
		t.Errorf("after a bad token: %s %v", entrySummary(got), err)
	}
	// One book failing leaves the other's entries.
	shared.failing[sharedBook] = true
	got, _, err = s.SearchGAL(ctx, server.GALQuery{Text: "smith", Limit: 10})
	if err != nil || entrySummary(got) != "Debbie Smith<dsmith@example.org>c" {
		t.Errorf("with the shared book down: %s %v", entrySummary(got), err)
	}
}

// TestGALAllDown: with nothing cached and every source failing, a
// look-up fails (Search Status 3) instead of answering with nobody.
func TestGALAllDown(t *testing.T) {
	s, user, shared := galSession(t)
	user.failing["folders"] = true
	shared.failing[sharedBook] = true
	if _, _, err := s.SearchGAL(context.Background(), server.GALQuery{Text: "deb", Limit: 10}); !errors.Is(err, eas.ErrBackendUnavailable) {
		t.Errorf("search with every source down: %v", err)
	}
	// The user's books come back: served, the shared one still down.
	user.failing["folders"] = false
	got, _, err := s.SearchGAL(context.Background(), server.GALQuery{Text: "deb", Limit: 10})
	if err != nil || entrySummary(got) != "Deborah Smith<dsmith@example.org>c" {
		t.Errorf("with the user's books back: %s %v", entrySummary(got), err)
	}
}

func TestGALResolve(t *testing.T) {
	s, _, _ := galSession(t)
	ctx := context.Background()
	tests := []struct {
		to    string
		want  string
		total int
	}{
		{"jeff@contoso.com", "Jeff Hay<jeff@contoso.com>", 1},
		{"JEFF.HAY@home.example", "Jeff Hay<jeff.hay@home.example>", 1}, // the card's second address, as the card spells it
		{"Jeff Hay <jeff@contoso.com>", "Jeff Hay<jeff@contoso.com>", 1},
		{"Jeff Hay <jeff@old-company.example>", "", 0}, // an unknown address is not the name's
		{"<nobody@nowhere.test>", "", 0},
		{"jeff hay", "Jeff Hay<jeff@contoso.com>", 1},
		{"deborah", "Deborah Poe<deborah@contoso.com>", 1}, // alias
		{"deb", "Deborah Poe<deborah@contoso.com>, Deborah Smith<dsmith@example.org>c", 2},
		{"carol@example.test", "Carol Example (Contoso)<CAROL@example.test>", 1},
		{"dentist", "", 0}, // no address
		{"alice@example.test", "alice<alice@example.test>", 1},
		{"nobody@nowhere.test", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			got, total, err := s.ResolveRecipient(ctx, server.GALQuery{Text: tt.to, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if entrySummary(got) != tt.want || total != tt.total {
				t.Errorf("got %s (%d), want %s (%d)", entrySummary(got), total, tt.want, tt.total)
			}
		})
	}
}

func TestGALFreeBusy(t *testing.T) {
	s, user, _ := galSession(t)
	ctx := context.Background()
	user.put(calendarColl, "/alice/calendar/a.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n"+
		"DTSTART:20260309T090000Z\r\nDTEND:20260309T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	user.put(calendarColl, "/alice/calendar/b.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:b\r\n"+
		"DTSTART:20260309T103000Z\r\nDURATION:PT30M\r\nSTATUS:TENTATIVE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	user.put(calendarColl, "/alice/calendar/broken.ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:c\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	start := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	fb, err := s.FreeBusy(ctx, "Alice@Example.test", start, start.Add(4*time.Hour))
	if err != nil || fb != "00220100" { // 09:00–10:00 busy, 10:30 tentative
		t.Errorf("free/busy %q %v", fb, err)
	}
	if n := user.count("CalendarQuery"); n != 1 {
		t.Errorf("%d calendar queries, want 1 (the tasks list is no calendar)", n)
	}
	if _, err := s.FreeBusy(ctx, "jeff@contoso.com", start, start.Add(time.Hour)); !errors.Is(err, eas.ErrNotFound) {
		t.Errorf("someone else: %v", err)
	}
	// A huge window is cut to 32 KB of digits.
	fb, err = s.FreeBusy(ctx, "alice@example.test", start, start.AddDate(3, 0, 0))
	if err != nil || len(fb) != 32<<10 {
		t.Errorf("long window: %d digits, %v", len(fb), err)
	}
}

// TestGALRank checks the order of entries with equal names.
func TestGALRank(t *testing.T) {
	mk := func(name, addr string, contact bool) *galCard {
		c := &galCard{entry: server.GALEntry{DisplayName: name, EmailAddress: addr, Contact: contact}}
		c.setSortKey()
		return c
	}
	cs := []*galCard{mk("bob", "b2@x", true), mk("Bob", "b1@x", false), mk("alice", "a@x", true), mk("Zed", "z@x", false), mk("bob", "B1@x", true)}
	galRank(cs)
	cs = galDedup(cs, true)
	var got []string
	for _, c := range cs {
		got = append(got, c.entry.DisplayName+"/"+c.entry.EmailAddress)
	}
	want := []string{"Bob/b1@x", "Zed/z@x", "alice/a@x", "bob/b2@x"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order %v, want %v", got, want)
	}
}
