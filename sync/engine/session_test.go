package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	gosync "sync"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/demo"
	"easbridge/sync/imapsource"
	"easbridge/sync/source"
	"easbridge/sync/state"
)

// fakeSource is an in-memory source.Folders keyed like IMAP ("imap:" +
// path with "/" as delimiter).
type fakeSource struct {
	mu      gosync.Mutex
	prefix  string
	folders map[string]source.Folder
	fail    error
}

func newFakeSource(prefix string, fs ...source.Folder) *fakeSource {
	s := &fakeSource{prefix: prefix, folders: map[string]source.Folder{}}
	for _, f := range fs {
		s.folders[f.Key] = f
	}
	return s
}

func (s *fakeSource) Folders(ctx context.Context) ([]source.Folder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	out := make([]source.Folder, 0, len(s.folders))
	for _, f := range s.folders {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (s *fakeSource) CreateFolder(ctx context.Context, parentKey, name string, typ eas.FolderType) (source.Folder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := name
	if parentKey != "" {
		path = strings.TrimPrefix(parentKey, s.prefix) + "/" + name
	}
	f := source.Folder{Key: s.prefix + path, ParentKey: parentKey, Name: name, Type: typ}
	if _, ok := s.folders[f.Key]; ok {
		return f, eas.ErrExists
	}
	s.folders[f.Key] = f
	return f, nil
}

func (s *fakeSource) RenameFolder(ctx context.Context, key, newParentKey, newName string) (source.Folder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.folders[key]
	if !ok {
		return f, eas.ErrNotFound
	}
	if f.Type == eas.FolderInbox {
		return f, eas.ErrSpecialFolder
	}
	path := newName
	if newParentKey != "" {
		path = strings.TrimPrefix(newParentKey, s.prefix) + "/" + newName
	}
	newKey := s.prefix + path
	for k, g := range s.folders {
		if k == key || strings.HasPrefix(k, key+"/") {
			delete(s.folders, k)
			g.Key = newKey + k[len(key):]
			if k == key {
				g.Name, g.ParentKey = newName, newParentKey
			} else if g.ParentKey == key || strings.HasPrefix(g.ParentKey, key+"/") {
				g.ParentKey = newKey + g.ParentKey[len(key):]
			}
			s.folders[g.Key] = g
		}
	}
	return s.folders[newKey], nil
}

func (s *fakeSource) DeleteFolder(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.folders[key]; !ok {
		return eas.ErrNotFound
	}
	for k := range s.folders {
		if k == key || strings.HasPrefix(k, key+"/") {
			delete(s.folders, k)
		}
	}
	return nil
}

type fixture struct {
	t    *testing.T
	st   state.Store
	mail *fakeSource
	dav  *fakeSource
	s    *session
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := state.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mail := newFakeSource("imap:",
		source.Folder{Key: "imap:INBOX", Name: "Inbox", Type: eas.FolderInbox},
		source.Folder{Key: "imap:Sent", Name: "Sent", Type: eas.FolderSentItems},
		source.Folder{Key: "imap:Projects", Name: "Projects", Type: eas.FolderUserMail},
		source.Folder{Key: "imap:Projects/2026", ParentKey: "imap:Projects", Name: "2026", Type: eas.FolderUserMail},
	)
	dav := newFakeSource("caldav:",
		source.Folder{Key: "caldav:/alice/calendar/", Name: "Calendar", Type: eas.FolderCalendar},
		source.Folder{Key: "caldav:/alice/tasks/", Name: "Tasks", Type: eas.FolderTasks},
	)
	e := &Engine{opts: Options{Store: st}, log: discard()}
	l := &login{account: &Account{Name: "test", Notes: NotesDAV}, user: "alice@example.test", email: "alice@example.test", srcs: []namedSource{
		{prefixes: []string{"imap:"}, src: mail},
		{prefixes: []string{"caldav:", "carddav:"}, src: dav},
	}}
	return &fixture{t: t, st: st, mail: mail, dav: dav, s: &session{e: e, l: l}}
}

func (f *fixture) folderSync(dev, key string) eas.FolderChanges {
	f.t.Helper()
	ch, err := f.s.FolderSync(context.Background(), dev, key)
	if err != nil {
		f.t.Fatalf("FolderSync(%s): %v", key, err)
	}
	return ch
}

func names(fs []eas.Folder) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.DisplayName)
	}
	return out
}

func TestFolderSyncLifecycle(t *testing.T) {
	f := newFixture(t)
	ch := f.folderSync("d1", "0")
	if ch.SyncKey != "1" || len(ch.Adds) != 6 {
		t.Fatalf("initial: key %s adds %v", ch.SyncKey, names(ch.Adds))
	}
	byName := map[string]eas.Folder{}
	for _, x := range ch.Adds {
		byName[x.DisplayName] = x
	}
	if byName["2026"].ParentID != byName["Projects"].ServerID {
		t.Errorf("child parent %q, want %q", byName["2026"].ParentID, byName["Projects"].ServerID)
	}
	// Parents come before children.
	pos := map[string]int{}
	for i, x := range ch.Adds {
		pos[x.ServerID] = i
	}
	if pos[byName["2026"].ServerID] < pos[byName["Projects"].ServerID] {
		t.Error("child sent before its parent")
	}
	// No change: same key, nothing.
	if ch := f.folderSync("d1", "1"); ch.SyncKey != "1" || ch.Count() != 0 {
		t.Fatalf("no change: %+v", ch)
	}
	// A folder created on the server shows as an Add; a rename keeps its id.
	f.mail.CreateFolder(context.Background(), "", "Receipts", eas.FolderUserMail)
	f.mail.RenameFolder(context.Background(), "imap:Sent", "", "Sent Items")
	f.st.RenameFolderKey(context.Background(), "alice@example.test", "imap:Sent", "imap:Sent Items")
	ch = f.folderSync("d1", "1")
	if ch.SyncKey != "2" || !reflect.DeepEqual(names(ch.Adds), []string{"Receipts"}) || !reflect.DeepEqual(names(ch.Updates), []string{"Sent Items"}) {
		t.Fatalf("changes: %+v", ch)
	}
	if ch.Updates[0].ServerID != byName["Sent"].ServerID {
		t.Error("rename changed the ServerId")
	}
	// The previous key again (our answer was lost): the same changes again.
	again := f.folderSync("d1", "1")
	if !reflect.DeepEqual(again, ch) {
		t.Fatalf("repeat of key 1:\n got %+v\nwant %+v", again, ch)
	}
	// A deletion.
	f.mail.DeleteFolder(context.Background(), "imap:Projects")
	ch = f.folderSync("d1", "2")
	sort.Strings(ch.Deletes)
	want := []string{byName["Projects"].ServerID, byName["2026"].ServerID}
	sort.Strings(want)
	if !reflect.DeepEqual(ch.Deletes, want) {
		t.Fatalf("deletes %v, want %v", ch.Deletes, want)
	}
	// Unknown keys.
	for _, k := range []string{"1", "9", "x", "-1"} {
		if _, err := f.s.FolderSync(context.Background(), "d1", k); !errors.Is(err, eas.ErrInvalidSyncKey) {
			t.Errorf("key %q: err %v", k, err)
		}
	}
	// Another device starts from scratch with the same ServerIds.
	ch2 := f.folderSync("d2", "0")
	for _, x := range ch2.Adds {
		if x.DisplayName == "Inbox" && x.ServerID != byName["Inbox"].ServerID {
			t.Error("ServerIds differ between devices")
		}
	}
}

func TestFolderSyncSourceOutageIsNotADeletion(t *testing.T) {
	f := newFixture(t)
	f.folderSync("d1", "0")
	f.dav.fail = fmt.Errorf("dav down: %w", eas.ErrBackendUnavailable)
	if ch := f.folderSync("d1", "1"); ch.Count() != 0 {
		t.Fatalf("DAV outage produced changes: %+v", ch)
	}
	f.mail.fail = errors.New("imap down")
	if _, err := f.s.FolderSync(context.Background(), "d1", "1"); !errors.Is(err, eas.ErrBackendUnavailable) {
		t.Fatalf("all sources down: %v", err)
	}
	f.mail.fail, f.dav.fail = nil, nil
	if ch := f.folderSync("d1", "1"); ch.Count() != 0 {
		t.Fatalf("after recovery: %+v", ch)
	}
}

func TestFolderOperations(t *testing.T) {
	f := newFixture(t)
	ch := f.folderSync("d1", "0")
	ids := map[string]string{}
	for _, x := range ch.Adds {
		ids[x.DisplayName] = x.ServerID
	}
	ctx := context.Background()
	key, id, err := f.s.FolderCreate(ctx, "d1", "1", ids["Projects"], "Garden", eas.FolderUserMail)
	if err != nil || key != "2" {
		t.Fatalf("create: %v key %s", err, key)
	}
	if _, ok := f.mail.folders["imap:Projects/Garden"]; !ok {
		t.Fatal("folder not created in the source")
	}
	// Not reported back as an Add.
	if ch := f.folderSync("d1", "2"); ch.Count() != 0 {
		t.Fatalf("created folder echoed: %+v", ch)
	}
	// Calendar folders go to the DAV source.
	key, calID, err := f.s.FolderCreate(ctx, "d1", "2", "0", "Holidays", eas.FolderUserCalendar)
	if err != nil || key != "3" || len(f.dav.folders) != 3 {
		t.Fatalf("create calendar: %v", err)
	}
	// Errors.
	for _, tc := range []struct {
		name   string
		key    string
		parent string
		folder string
		typ    eas.FolderType
		want   error
		status eas.Status
	}{
		{"stale key", "2", "0", "X", eas.FolderUserMail, eas.ErrInvalidSyncKey, 0},
		{"missing parent", "3", "999", "X", eas.FolderUserMail, nil, eas.FolderStatusParentNotFound},
		{"exists", "3", "0", "Inbox", eas.FolderUserMail, eas.ErrExists, 0},
		{"mail under calendar", "3", calID, "X", eas.FolderUserMail, eas.ErrNotSupported, 0},
	} {
		_, _, err := f.s.FolderCreate(ctx, "d1", tc.key, tc.parent, tc.folder, tc.typ)
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if st, _ := eas.StatusOf(err); tc.status != 0 && st != tc.status {
			t.Errorf("%s: status %d want %d (%v)", tc.name, st, tc.status, err)
		}
	}
	// Rename Projects → Work keeps ids of it and its children.
	key, err = f.s.FolderUpdate(ctx, "d1", "3", ids["Projects"], "0", "Work")
	if err != nil || key != "4" {
		t.Fatalf("rename: %v", err)
	}
	if k, _ := f.st.FolderKey(ctx, "alice@example.test", id); k != "imap:Work/Garden" {
		t.Errorf("child key after rename: %q", k)
	}
	if ch := f.folderSync("d1", "4"); ch.Count() != 0 {
		t.Fatalf("rename echoed: %+v", ch)
	}
	if _, err := f.s.FolderUpdate(ctx, "d1", "4", ids["Inbox"], "0", "Mail"); !errors.Is(err, eas.ErrSpecialFolder) {
		t.Errorf("rename inbox: %v", err)
	}
	if _, err := f.s.FolderUpdate(ctx, "d1", "4", ids["Projects"], id, "Loop"); err == nil {
		t.Error("moving a folder below its own child was accepted")
	}
	// Delete Work removes it and its child.
	key, err = f.s.FolderDelete(ctx, "d1", "4", ids["Projects"])
	if err != nil || key != "5" {
		t.Fatalf("delete: %v", err)
	}
	if ch := f.folderSync("d1", "5"); ch.Count() != 0 {
		t.Fatalf("delete echoed: %+v", ch)
	}
	if _, err := f.s.FolderDelete(ctx, "d1", "5", ids["Projects"]); err == nil {
		t.Error("deleting a deleted folder succeeded")
	}
}

func TestDiffFolders(t *testing.T) {
	a := eas.Folder{ServerID: "1", ParentID: "0", DisplayName: "A", Type: 12}
	b := eas.Folder{ServerID: "2", ParentID: "1", DisplayName: "B", Type: 12}
	c := eas.Folder{ServerID: "3", ParentID: "2", DisplayName: "C", Type: 12}
	a2 := a
	a2.DisplayName = "A2"
	for _, tc := range []struct {
		name            string
		old, new        []eas.Folder
		adds, upd, dels []string
	}{
		{"empty", nil, nil, nil, nil, nil},
		{"all new, parents first", nil, []eas.Folder{c, b, a}, []string{"1", "2", "3"}, nil, nil},
		{"rename", []eas.Folder{a}, []eas.Folder{a2}, nil, []string{"1"}, nil},
		{"delete", []eas.Folder{a, b}, []eas.Folder{a}, nil, nil, []string{"2"}},
	} {
		adds, upd, dels := diffFolders(tc.old, tc.new)
		ids := func(fs []eas.Folder) []string {
			var o []string
			for _, f := range fs {
				o = append(o, f.ServerID)
			}
			return o
		}
		if !reflect.DeepEqual(ids(adds), tc.adds) || !reflect.DeepEqual(ids(upd), tc.upd) || !reflect.DeepEqual(dels, tc.dels) {
			t.Errorf("%s: adds %v upd %v dels %v", tc.name, ids(adds), ids(upd), dels)
		}
	}
}

// TestConcurrentFirstLogins: devices of one user logging in at the same
// moment share one login; none closes the connections another is using.
func TestConcurrentFirstLogins(t *testing.T) {
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := state.OpenSQLite(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ic, _ := imapsource.ParseURL(d.IMAPURL)
	e, err := New(Options{Store: st, Accounts: []Account{{Name: "demo", IMAP: ic, Domain: "demo.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var wg gosync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess, err := e.Login(ctx, d.User, "pw")
			if err != nil {
				errs <- err
				return
			}
			if _, err := sess.FolderSync(ctx, fmt.Sprintf("dev%d", i), "0"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent first login: %v", err)
	}
	if n := len(e.logins); n != 1 {
		t.Errorf("%d cached logins, want 1", n)
	}
}
