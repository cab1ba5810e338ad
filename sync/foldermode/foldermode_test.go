package foldermode

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/state"
)

const (
	cal   = "caldav:/a/calendar/"
	work  = "caldav:/a/work/"
	tasks = "caldav:/a/tasks/"
	notes = "caldav:/a/notes/"
	book  = "carddav:/a/contacts/"
	inbox = "imap:INBOX"
)

func known() map[string]Known {
	return map[string]Known{
		cal: {cal, "Calendar", eas.FolderCalendar}, work: {work, "Work", eas.FolderUserCalendar},
		tasks: {tasks, "Tasks", eas.FolderTasks}, notes: {notes, "Notes", eas.FolderNotes},
		book: {book, "Contacts", eas.FolderContacts}, inbox: {inbox, "Inbox", eas.FolderInbox},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		s     Setting
		other []Setting // already stored
		err   string    // "" = valid
	}{
		{"plain", Setting{Key: cal}, nil, ""},
		{"hidden calendar", Setting{Key: cal, Hidden: true}, nil, ""},
		{"hidden inbox", Setting{Key: inbox, Hidden: true}, nil, "Inbox cannot be hidden"},
		{"tasks as events", Setting{Key: tasks, Mode: TasksAsEvents, IncompleteOnly: true}, nil, ""},
		{"tasks as events into calendar", Setting{Key: tasks, Mode: TasksAsEvents, MergeInto: cal}, nil, ""},
		{"tasks as events on a calendar", Setting{Key: cal, Mode: TasksAsEvents}, nil, "does not fit calendar"},
		{"notes as tasks into tasks", Setting{Key: notes, Mode: NotesAsTasks, MergeInto: tasks}, nil, ""},
		{"notes as events into contacts", Setting{Key: notes, Mode: NotesAsEvents, MergeInto: book}, nil, "cannot merge calendar items"},
		{"groupware as mail", Setting{Key: book, Mode: GroupwareAsEmail}, nil, ""},
		{"groupware on mail", Setting{Key: inbox, Mode: GroupwareAsEmail}, nil, "does not fit email"},
		{"merged", Setting{Key: work, Mode: Merged, MergeInto: cal}, nil, ""},
		{"merged without target", Setting{Key: work, Mode: Merged}, nil, "needs the folder to merge into"},
		{"merged into itself", Setting{Key: work, Mode: Merged, MergeInto: work}, nil, "into itself"},
		{"merged across classes", Setting{Key: work, Mode: Merged, MergeInto: tasks}, nil, "cannot merge calendar items"},
		{"merged into unknown", Setting{Key: work, Mode: Merged, MergeInto: "caldav:/a/x/"}, nil, "not a known folder"},
		{"merge into a merged folder", Setting{Key: work, Mode: Merged, MergeInto: cal}, []Setting{{Key: cal, Mode: Merged, MergeInto: work}}, "cycle"},
		{"merge into a hidden folder", Setting{Key: work, Mode: Merged, MergeInto: cal}, []Setting{{Key: cal, Hidden: true}}, "visible plain"},
		{"hiding a merge target", Setting{Key: cal, Hidden: true}, []Setting{{Key: work, Mode: Merged, MergeInto: cal}}, "merges into"},
		{"converting a merge target", Setting{Key: cal, Mode: GroupwareAsEmail}, []Setting{{Key: work, Mode: Merged, MergeInto: cal}}, "merges into"},
		{"plain mode with a target", Setting{Key: work, MergeInto: cal}, nil, "cannot merge"},
		{"incomplete only on a calendar", Setting{Key: cal, IncompleteOnly: true}, nil, "tasks-as-events only"},
		{"mail filter", Setting{Key: inbox, Filter: 3}, nil, ""},
		{"calendar filter 3 days", Setting{Key: cal, Filter: 2}, nil, "does not apply"},
		{"calendar filter 2 weeks", Setting{Key: cal, Filter: 4}, nil, ""},
		{"tasks as events filter", Setting{Key: tasks, Mode: TasksAsEvents, Filter: 5}, nil, ""},
		{"unknown mode", Setting{Key: cal, Mode: "sideways"}, nil, "unknown mode"},
		{"unknown folder", Setting{Key: "caldav:/nope/"}, nil, "not known"},
		{"mode on imap", Setting{Key: "imap:Notes", Type: eas.FolderUserNotes, Mode: NotesAsTasks}, nil, "needs a CalDAV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eff := map[string]Setting{}
			for k, kn := range known() {
				eff[k] = Setting{Key: k, Type: kn.Type}
			}
			for _, o := range tt.other {
				o.Type = eff[o.Key].Type
				eff[o.Key] = o
			}
			s := tt.s
			if s.Type == 0 {
				s.Type = eff[s.Key].Type
			}
			eff[s.Key] = s
			err := Validate(s, eff)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one with %q", err, tt.err)
			}
		})
	}
}

func TestStoreInheritance(t *testing.T) {
	ctx := context.Background()
	db, err := state.OpenSQLite(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := Store{S: db}
	const u = "alice@example.org"
	gen0, _ := st.Generation(ctx, u)
	if err := st.Put(ctx, u, "", Setting{Key: cal, Hidden: true}, known()); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, u, "PHONE1", Setting{Key: tasks, Mode: TasksAsEvents}, known()); err != nil {
		t.Fatal(err)
	}
	eff, err := st.Effective(ctx, u, "PHONE1")
	if err != nil {
		t.Fatal(err)
	}
	if s := eff[cal]; !s.Hidden || !s.Inherited {
		t.Errorf("calendar on the phone: %+v, want hidden, inherited", s)
	}
	if s := eff[tasks]; s.Mode != TasksAsEvents || s.Inherited || s.Type != eas.FolderTasks {
		t.Errorf("tasks on the phone: %+v", s)
	}
	// The device overrides the default, then drops its override.
	if err := st.Put(ctx, u, "PHONE1", Setting{Key: cal}, known()); err != nil {
		t.Fatal(err)
	}
	if eff, _ = st.Effective(ctx, u, "PHONE1"); eff[cal].Hidden || eff[cal].Inherited {
		t.Errorf("override: %+v", eff[cal])
	}
	if err := st.Put(ctx, u, "PHONE1", Setting{Key: cal, Inherited: true}, known()); err != nil {
		t.Fatal(err)
	}
	if eff, _ = st.Effective(ctx, u, "PHONE1"); !eff[cal].Hidden || !eff[cal].Inherited {
		t.Errorf("after dropping the override: %+v", eff[cal])
	}
	// Invalid settings are not stored and do not bump the generation.
	gen1, _ := st.Generation(ctx, u)
	if err := st.Put(ctx, u, "", Setting{Key: work, Mode: Merged, MergeInto: cal}, known()); err == nil {
		t.Error("merge into a hidden folder accepted")
	}
	if gen2, _ := st.Generation(ctx, u); gen2 != gen1 || gen1 != gen0+4 {
		t.Errorf("generations %d %d %d", gen0, gen1, gen2)
	}
	// Another user is untouched.
	if eff, _ := st.Effective(ctx, "bob@example.org", ""); len(eff) != 0 {
		t.Errorf("bob has %v", eff)
	}
}

func TestModesFor(t *testing.T) {
	tests := []struct {
		key  string
		typ  eas.FolderType
		want string
	}{
		{inbox, eas.FolderInbox, "plain"},
		{cal, eas.FolderCalendar, "plain merged groupware-as-email"},
		{tasks, eas.FolderTasks, "plain merged tasks-as-events groupware-as-email"},
		{notes, eas.FolderNotes, "plain merged notes-as-tasks notes-as-events groupware-as-email"},
		{"imap-notes:Notes", eas.FolderNotes, "plain"},
	}
	for _, tt := range tests {
		var got []string
		for _, m := range ModesFor(tt.key, tt.typ) {
			got = append(got, string(m))
			// Every mode offered is accepted on its own (merges need a target).
			if m != Merged {
				s := Setting{Key: tt.key, Type: tt.typ, Mode: m}
				if err := Validate(s, map[string]Setting{tt.key: s}); err != nil {
					t.Errorf("%s %s: %v", tt.key, m, err)
				}
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%s: %q, want %q", tt.key, g, tt.want)
		}
	}
}
