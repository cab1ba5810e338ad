package engine

import (
	"reflect"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

func TestDistinctNames(t *testing.T) {
	f := func(key, parent, name string) source.Folder {
		return source.Folder{Key: key, ParentKey: parent, Name: name, Type: eas.FolderUserMail}
	}
	names := func(fs []source.Folder) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return out
	}
	tests := []struct {
		name string
		in   []source.Folder
		want []string
	}{
		{"no clash", []source.Folder{f("imap:INBOX", "", "Inbox"), f("caldav:/a/cal/", "", "Calendar")}, []string{"Inbox", "Calendar"}},
		{"mailbox beside a journal", []source.Folder{f("imap:Notes", "", "Notes"), f("caldav:/a/notes/", "", "Notes")}, []string{"Notes (mail)", "Notes"}},
		{"case-insensitive", []source.Folder{f("imap:calendar", "", "calendar"), f("caldav:/a/c/", "", "Calendar")}, []string{"calendar (mail)", "Calendar"}},
		{"same name, other parent", []source.Folder{f("imap:Work/Notes", "imap:Work", "Notes"), f("caldav:/a/notes/", "", "Notes")}, []string{"Notes", "Notes"}},
		{"two collections", []source.Folder{f("caldav:/a/x/", "", "Tasks"), f("caldav:/b/y/", "", "Tasks")}, []string{"Tasks", "Tasks (2)"}},
		{"mail suffix taken too", []source.Folder{f("imap:Notes", "", "Notes"), f("imap:Notes (mail)", "", "Notes (mail)"), f("caldav:/a/n/", "", "Notes")}, []string{"Notes (mail) (2)", "Notes (mail)", "Notes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]source.Folder(nil), tt.in...)
			got := names(distinctNames(tt.in))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(in, tt.in) {
				t.Error("input changed")
			}
		})
	}
}
