package engine

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"easbridge/server/eas"
	fm "easbridge/sync/foldermode"
)

func TestResolveView(t *testing.T) {
	src := []srcFolder{
		{Key: "imap:INBOX", Name: "Inbox", Type: eas.FolderInbox},
		{Key: "imap:Projects", Name: "Projects", Type: eas.FolderUserMail},
		{Key: "imap:Projects/2026", ParentKey: "imap:Projects", Name: "2026", Type: eas.FolderUserMail},
		{Key: "caldav:/a/calendar/", Name: "Calendar", Type: eas.FolderCalendar},
		{Key: "caldav:/a/work/", Name: "Work", Type: eas.FolderUserCalendar},
		{Key: "caldav:/a/tasks/", Name: "Tasks", Type: eas.FolderTasks},
		{Key: "caldav:/a/notes/", Name: "Notes", Type: eas.FolderNotes},
		{Key: "carddav:/a/contacts/", Name: "Contacts", Type: eas.FolderContacts},
	}
	// Each folder as "key type parent [members]".
	tests := []struct {
		name    string
		eff     map[string]fm.Setting
		classes Classes
		want    []string
	}{
		{"nothing set", nil, Classes{}, []string{
			"caldav:/a/calendar/ 8  [caldav:/a/calendar/]", "caldav:/a/notes/ 10  [caldav:/a/notes/]",
			"caldav:/a/tasks/ 7  [caldav:/a/tasks/]", "caldav:/a/work/ 13  [caldav:/a/work/]",
			"carddav:/a/contacts/ 9  [carddav:/a/contacts/]", "imap:INBOX 2  []", "imap:Projects 12  []",
			"imap:Projects/2026 12 imap:Projects []"}},
		{"hidden parent lifts its child", map[string]fm.Setting{"imap:Projects": {Hidden: true}}, Classes{NoCalendar: true, NoContacts: true, NoNotes: true},
			[]string{"imap:INBOX 2  []", "imap:Projects/2026 12  []"}},
		{"class switches", nil, Classes{NoEmail: true, NoCalendar: true}, []string{
			"caldav:/a/notes/ 10  [caldav:/a/notes/]", "carddav:/a/contacts/ 9  [carddav:/a/contacts/]"}},
		{"merged and tasks as events into the calendar", map[string]fm.Setting{
			"caldav:/a/work/":  {Mode: fm.Merged, MergeInto: "caldav:/a/calendar/"},
			"caldav:/a/tasks/": {Mode: fm.TasksAsEvents, MergeInto: "caldav:/a/calendar/", IncompleteOnly: true},
		}, Classes{NoEmail: true, NoContacts: true, NoNotes: true}, []string{
			"caldav:/a/calendar/ 8  [caldav:/a/calendar/ caldav:/a/tasks/:tasks-as-events+io caldav:/a/work/]"}},
		{"own folders in other modes", map[string]fm.Setting{
			"caldav:/a/tasks/":     {Mode: fm.TasksAsEvents},
			"caldav:/a/notes/":     {Mode: fm.NotesAsTasks},
			"carddav:/a/contacts/": {Mode: fm.GroupwareAsEmail, Filter: 3},
		}, Classes{NoEmail: true}, []string{
			"caldav:/a/calendar/ 8  [caldav:/a/calendar/]", "caldav:/a/work/ 13  [caldav:/a/work/]",
			"view:groupware-as-email:carddav:/a/contacts/ 12  [carddav:/a/contacts/:groupware-as-email] filter 3",
			"view:notes-as-tasks:caldav:/a/notes/ 15  [caldav:/a/notes/:notes-as-tasks]",
			"view:tasks-as-events:caldav:/a/tasks/ 13  [caldav:/a/tasks/:tasks-as-events]"}},
		{"merge into a hidden target is ignored", map[string]fm.Setting{
			"caldav:/a/work/":     {Mode: fm.Merged, MergeInto: "caldav:/a/calendar/"},
			"caldav:/a/calendar/": {Hidden: true},
		}, Classes{NoEmail: true, NoContacts: true, NoNotes: true}, []string{
			"caldav:/a/tasks/ 7  [caldav:/a/tasks/]", "caldav:/a/work/ 13  [caldav:/a/work/]"}},
		{"a mode that does not fit is plain", map[string]fm.Setting{"caldav:/a/calendar/": {Mode: fm.NotesAsTasks}},
			Classes{NoEmail: true, NoContacts: true, NoNotes: true}, []string{
				"caldav:/a/calendar/ 8  [caldav:/a/calendar/]", "caldav:/a/tasks/ 7  [caldav:/a/tasks/]", "caldav:/a/work/ 13  [caldav:/a/work/]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := resolveView(src, tt.eff, tt.classes)
			var got []string
			for _, o := range p.folders {
				var ms []string
				for _, m := range o.Members {
					s := m.Key
					if m.Mode != fm.Plain {
						s += ":" + string(m.Mode)
					}
					if m.IncompleteOnly {
						s += "+io"
					}
					ms = append(ms, s)
				}
				line := fmt.Sprintf("%s %d %s [%s]", o.Key, o.Type, o.ParentKey, strings.Join(ms, " "))
				if o.Filter != 0 {
					line += fmt.Sprintf(" filter %d", o.Filter)
				}
				got = append(got, line)
				if back, ok := p.lookup(o.Key); !ok || back.Key != o.Key {
					t.Errorf("lookup %s failed", o.Key)
				}
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestViewKeys(t *testing.T) {
	for _, s := range []fm.Setting{
		{Key: "caldav:/a/tasks/", Mode: fm.TasksAsEvents, IncompleteOnly: true},
		{Key: "carddav:/a/b:c/", Mode: fm.GroupwareAsEmail},
	} {
		k := viewKey(s)
		mode, io, src, ok := parseViewKey(k)
		if !ok || mode != s.Mode || io != s.IncompleteOnly || src != s.Key || sourceKey(k) != s.Key {
			t.Errorf("%s: %v %v %q %v", k, mode, io, src, ok)
		}
	}
	if _, _, _, ok := parseViewKey("caldav:/a/"); ok {
		t.Error("a source key parsed as a view key")
	}
	for _, ref := range []string{groupwareRef("12", "/a/contacts/x:y.vcf")} {
		c, p, ok := parseGroupwareRef(ref)
		if !ok || c != "12" || p != "/a/contacts/x:y.vcf" {
			t.Errorf("ref %q: %q %q %v", ref, c, p, ok)
		}
	}
	if _, _, ok := parseGroupwareRef("12:345:2"); ok {
		t.Error("a mail file reference parsed as a groupware one")
	}
}
