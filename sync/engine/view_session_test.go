package engine

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"

	"easbridge/server/eas"
	fm "easbridge/sync/foldermode"
)

// TestFolderSyncAppliesSettings drives FolderSync over fake sources
// through a sequence of setting changes; each step lists the changes the
// device gets.
func TestFolderSyncAppliesSettings(t *testing.T) {
	f := newFixture(t)
	f.s.l.account.Notes = NotesDAV
	ctx := context.Background()
	const dev = "PHONE"
	known := func() map[string]fm.Known {
		seen, err := fm.Store{S: f.st}.Seen(ctx, f.s.l.user)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]fm.Known{}
		for _, k := range seen {
			out[k.Key] = k
		}
		return out
	}
	ch := f.folderSync(dev, "0")
	key := ch.SyncKey
	ids := map[string]string{} // name -> id
	for _, a := range ch.Adds {
		ids[a.DisplayName] = a.ServerID
	}
	steps := []struct {
		name    string
		set     *fm.Setting
		classes Classes
		want    string // "+Name(type)" adds, "-Name" deletes, "~Name^parent" updates, sorted
	}{
		{"hide a parent", &fm.Setting{Key: "imap:Projects", Hidden: true}, Classes{}, "-Projects ~2026^0"},
		{"show it again", &fm.Setting{Key: "imap:Projects"}, Classes{}, "+Projects(12) ~2026^Projects"},
		{"tasks as events", &fm.Setting{Key: "caldav:/alice/tasks/", Mode: fm.TasksAsEvents}, Classes{}, "+Tasks(13) -Tasks"},
		{"into the calendar", &fm.Setting{Key: "caldav:/alice/tasks/", Mode: fm.TasksAsEvents, MergeInto: "caldav:/alice/calendar/"}, Classes{}, "-Tasks"},
		{"calendar class off", nil, Classes{NoCalendar: true}, "-Calendar"},
		{"email class off", nil, Classes{NoCalendar: true, NoEmail: true}, "-2026 -Inbox -Projects -Sent"},
		{"all on, tasks plain", &fm.Setting{Key: "caldav:/alice/tasks/"}, Classes{}, "+2026(12) +Calendar(8) +Inbox(2) +Projects(12) +Sent(5) +Tasks(7)"},
	}
	for _, st := range steps {
		if st.set != nil {
			if err := (fm.Store{S: f.st}).Put(ctx, f.s.l.user, "", *st.set, known()); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		f.s.l.account.Classes = st.classes
		// Before FolderSync, Sync and Ping are told to run one.
		if _, err := f.s.deviceView(ctx, dev); err != nil {
			t.Fatal(err)
		}
		if st.set != nil {
			if _, err := f.s.offeredFolder(ctx, dev, "imap:INBOX"); !errors.Is(err, eas.ErrNotFound) {
				t.Errorf("%s: Sync before FolderSync: %v, want not found (Status 12)", st.name, err)
			}
		}
		ch := f.folderSync(dev, key)
		key = ch.SyncKey
		byID := map[string]string{}
		for n, id := range ids {
			byID[id] = n
		}
		var got []string
		for _, a := range ch.Adds {
			got = append(got, "+"+a.DisplayName+"("+strconv.Itoa(int(a.Type))+")")
			ids[a.DisplayName] = a.ServerID
		}
		for _, d := range ch.Deletes {
			got = append(got, "-"+byID[d])
		}
		for _, u := range ch.Updates {
			p := u.ParentID
			if n, ok := byID[p]; ok {
				p = n
			}
			got = append(got, "~"+u.DisplayName+"^"+p)
		}
		sort.Strings(got)
		if g := strings.Join(got, " "); g != st.want {
			t.Errorf("%s: got %q, want %q", st.name, g, st.want)
		}
		if _, err := f.s.offeredFolder(ctx, dev, "imap:Sent"); st.classes.NoEmail != errors.Is(err, eas.ErrNotFound) {
			t.Errorf("%s: Sent offered: %v", st.name, err)
		}
	}
}
