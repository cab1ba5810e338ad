package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSaveAccounts(t *testing.T) {
	off := false
	example, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	newAcc := []Account{
		{Name: "work", IMAP: "imaps://mail.work.example", SMTP: "smtps://mail.work.example", Login: LoginPassthrough},
		{Name: "family", IMAP: "imap://10.0.0.2:143", DAV: "https://10.0.0.2/dav/", Login: LoginStored, InsecureSkipVerify: true,
			Users: []StoredUser{{EASUser: "kid"}, {EASUser: "mum", RemoteUser: "mum@family.example"}},
			Sieve: SieveOff, Notes: NotesIMAP, Classes: AccountClasses{Email: &off}},
	}
	tests := []struct {
		name     string
		file     string // "" = no file
		accs     []Account
		comments bool // the file's comments survive
	}{
		{"example file", string(example), newAcc, true},
		{"no file", "", newAcc, false},
		{"remove all", string(example), nil, true},
		{"inline array", "listen = \"127.0.0.1:0\"\ntls = \"off\"\naccount = [{name = \"a\", imap = \"imap://h\"}]\n# a comment\n[ping]\nmax_folders = 12\n", newAcc, false},
		{"account between tables", "# top\nlisten = \"127.0.0.1:0\"\n[ping]\nmax_folders = 12\n\n# old one\n[[account]]\nname = \"old\"\nimap = \"imap://h\"\n[[account.user]]\neas_user = \"x\"\n\n# keep me\n[throttle]\nblock_minutes = 3\n", newAcc, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			before := Default()
			if tt.file != "" {
				if err := os.WriteFile(path, []byte(tt.file), 0o640); err != nil {
					t.Fatal(err)
				}
				var err error
				if before, err = Load(path); err != nil && !strings.Contains(tt.name, "inline") && !strings.Contains(tt.name, "between") {
					t.Fatal(err)
				}
			}
			if err := SaveAccounts(path, tt.accs); err != nil {
				t.Fatal(err)
			}
			after, err := Load(path)
			if err != nil {
				t.Fatalf("saved file does not load: %v", err)
			}
			for i := range tt.accs {
				if !reflect.DeepEqual(normal(after.Accounts[i]), normal(tt.accs[i])) {
					t.Errorf("account %d: %+v, want %+v", i, after.Accounts[i], tt.accs[i])
				}
			}
			if len(after.Accounts) != len(tt.accs) {
				t.Errorf("%d accounts, want %d", len(after.Accounts), len(tt.accs))
			}
			data, _ := os.ReadFile(path)
			if tt.accs != nil && (strings.Contains(string(data), `smtp = ""`) || !strings.Contains(string(data), "[account.classes]\nemail = false")) {
				t.Errorf("empty keys written, or the classes lost:\n%s", data)
			}
			if tt.file != "" && strings.Contains(tt.name, "example") {
				before.Accounts, after.Accounts = nil, nil
				if !reflect.DeepEqual(before, after) {
					t.Errorf("other settings changed:\n%+v\n%+v", before, after)
				}
			}
			if tt.comments && !strings.Contains(string(data), "# easbridge example configuration") && !strings.Contains(string(data), "# keep me") {
				t.Errorf("comments lost:\n%s", data)
			}
			if strings.Contains(tt.name, "between") {
				if strings.Contains(string(data), "# old one") || after.Throttle.BlockMinutes != 3 || after.Ping.MaxFolders != 12 {
					t.Errorf("file:\n%s", data)
				}
			}
			if strings.Contains(tt.name, "inline") && (after.Ping.MaxFolders != 12 || after.Listen != "127.0.0.1:0") {
				t.Errorf("settings lost in the rewrite:\n%s", data)
			}
			st, _ := os.Stat(path)
			want := os.FileMode(0o640)
			if tt.file == "" {
				want = 0o600
			}
			if st.Mode().Perm() != want {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), want)
			}
			if strings.Contains(string(data), "password") && !tt.comments {
				t.Errorf("a password key in the file:\n%s", data)
			}
		})
	}
}
