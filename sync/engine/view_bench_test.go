package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"easbridge/server/eas"
	fm "easbridge/sync/foldermode"
	"easbridge/sync/state"
)

// viewFixture is a user with 60 source folders and a few settings.
func viewFixture(b *testing.B) (*session, []srcFolder, map[string]fm.Setting) {
	ctx := context.Background()
	st, err := state.OpenSQLite(ctx, filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	const u = "alice@example.org"
	var known []fm.Known
	var src []srcFolder
	for i := range 50 {
		k := fm.Known{Key: fmt.Sprintf("imap:Folder%02d", i), Name: fmt.Sprint("Folder", i), Type: eas.FolderUserMail}
		known = append(known, k)
		src = append(src, srcFolder{Key: k.Key, Name: k.Name, Type: k.Type})
	}
	for i := range 10 {
		k := fm.Known{Key: fmt.Sprintf("caldav:/alice/cal%d/", i), Name: fmt.Sprint("Cal", i), Type: eas.FolderUserCalendar}
		known = append(known, k)
		src = append(src, srcFolder{Key: k.Key, Name: k.Name, Type: k.Type})
	}
	fst := fm.Store{S: st}
	if err := fst.PutSeen(ctx, u, known); err != nil {
		b.Fatal(err)
	}
	kn := map[string]fm.Known{}
	for _, k := range known {
		kn[k.Key] = k
	}
	for _, s := range []fm.Setting{
		{Key: "caldav:/alice/cal1/", Mode: fm.Merged, MergeInto: "caldav:/alice/cal0/"},
		{Key: "caldav:/alice/cal2/", Mode: fm.GroupwareAsEmail},
		{Key: "imap:Folder07", Hidden: true},
		{Key: "imap:Folder08", Filter: 3},
	} {
		if err := fst.Put(ctx, u, "", s, kn); err != nil {
			b.Fatal(err)
		}
	}
	gen, _ := fst.Generation(ctx, u)
	if err := fst.PutSyncedGeneration(ctx, u, "PHONE", gen); err != nil {
		b.Fatal(err)
	}
	eff, _ := fst.Effective(ctx, u, "PHONE")
	return &session{e: &Engine{opts: Options{Store: st}}, l: &login{user: u}}, src, eff
}

// BenchmarkDeviceView is what every Sync, Ping and ItemOperations now
// pays before touching a source: the settings, the folder list and the
// generations read from SQLite, and the view computed.
// "none" is a user who never changed a setting (one read), "settings"
// one with four (one read, the view cached), "settings-uncached" the same
// after a FolderSync dropped the cached view (five reads and the view
// computed).
func BenchmarkDeviceView(b *testing.B) {
	s, _, _ := viewFixture(b)
	ctx := context.Background()
	for _, user := range []string{"none", "settings", "settings-uncached"} {
		b.Run(user, func(b *testing.B) {
			l := *s.l
			if user == "none" {
				l.user = "bob@example.org"
			}
			ss := &session{e: s.e, l: &l}
			b.ReportAllocs()
			for b.Loop() {
				if user == "settings-uncached" {
					s.e.folders.forget(l.user, "")
				}
				v, err := ss.deviceView(ctx, "PHONE")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.offered("caldav:/alice/cal0/"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResolveView is the view computation alone (FolderSync).
func BenchmarkResolveView(b *testing.B) {
	_, src, eff := viewFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if p := resolveView(src, eff, Classes{}); len(p.folders) != 58 {
			b.Fatalf("%d folders", len(p.folders))
		}
	}
}
