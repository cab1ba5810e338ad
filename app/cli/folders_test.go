package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/foldermode"
	"easbridge/sync/state"
)

func TestFoldersCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := state.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	const u = "alice@example.org"
	err = foldermode.Store{S: st}.PutSeen(ctx, u, []foldermode.Known{
		{Key: "caldav:/alice/calendar/", Name: "Calendar", Type: eas.FolderCalendar},
		{Key: "caldav:/alice/tasks/", Name: "Tasks", Type: eas.FolderTasks},
		{Key: "imap:INBOX", Name: "Inbox", Type: eas.FolderInbox},
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		out    []string // substrings of stdout
		errOut string   // substring of stderr
	}{
		{"list", []string{"list", "--data", dir, "--user", u}, 0, []string{"caldav:/alice/tasks/", "Tasks", "plain"}, ""},
		{"tasks as events into the calendar", []string{"mode", "--data", dir, "--user", u, "--folder", "caldav:/alice/tasks/",
			"--mode", "tasks-as-events", "--merge-into", "caldav:/alice/calendar/", "--incomplete-only"}, 0,
			[]string{"tasks-as-events -> caldav:/alice/calendar/ (incomplete only)"}, ""},
		{"device override", []string{"mode", "--data", dir, "--user", u, "--device", "PHONE1", "--folder", "imap:INBOX", "--filter", "3"}, 0,
			[]string{"imap:INBOX", "3", "own", "default"}, ""},
		{"device inherits", []string{"list", "--data", dir, "--user", u, "--device", "PHONE1"}, 0, []string{"tasks-as-events -> "}, ""},
		{"hiding a merge target", []string{"mode", "--data", dir, "--user", u, "--folder", "caldav:/alice/calendar/", "--hidden"}, 1, nil, "merges into"},
		{"bad mode", []string{"mode", "--data", dir, "--user", u, "--folder", "imap:INBOX", "--mode", "tasks-as-events"}, 1, nil, "does not fit"},
		{"no user", []string{"list", "--data", dir}, 1, nil, "--user is required"},
		{"no state", []string{"list", "--data", t.TempDir(), "--user", u}, 1, nil, "no state"},
		{"user without a domain", []string{"list", "--data", dir, "--user", "alice"}, 1, nil, `no folders known for user "alice"`},
		{"no subcommand", nil, 2, nil, "easbridge folders list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(Env{Args: append([]string{"folders"}, tt.args...), Stdout: &out, Stderr: &errOut})
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errOut.String())
			}
			for _, s := range tt.out {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			if !strings.Contains(errOut.String(), tt.errOut) {
				t.Errorf("stderr lacks %q: %s", tt.errOut, errOut.String())
			}
		})
	}
}
