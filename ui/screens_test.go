package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/eas"
)

// The fake source edits its account list; SaveAccount checks with the
// configuration's rules, as the runtime does.

func (f *fakeSource) ConfiguredAccounts() []config.Account {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.accounts)
}

func (f *fakeSource) ConfigFile() string { return "/home/you/.config/easbridge/easbridge.toml" }

func (f *fakeSource) SaveAccount(_ context.Context, e app.AccountEdit) error {
	c := config.Default()
	c.DataDir = "/data"
	c.Accounts = []config.Account{e.Account}
	if err := c.Validate(); err != nil {
		var errs []error
		for _, fe := range app.FieldErrors(err) {
			key := strings.TrimPrefix(strings.TrimPrefix(fe.Key, "account[0]"), ".")
			errs = append(errs, &config.FieldError{Key: key, Err: fe.Err})
		}
		return errors.Join(errs...)
	}
	f.record("save " + e.Account.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.IndexFunc(f.accounts, func(a config.Account) bool { return a.Name == e.Previous }); i >= 0 {
		f.accounts[i] = e.Account
	} else {
		f.accounts = append(f.accounts, e.Account)
	}
	return nil
}

func (f *fakeSource) RemoveAccount(_ context.Context, name string) error {
	f.record("remove " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts = slices.DeleteFunc(f.accounts, func(a config.Account) bool { return a.Name == name })
	return nil
}

var _ AccountEditor = (*fakeSource)(nil)

// TestScreenshotsAccountsFolders renders the account form (with a field
// error) and the Folders tab of one device, like TestScreenshots.
func TestScreenshotsAccountsFolders(t *testing.T) {
	src := newFolderSource()
	src.folders = append(src.folders,
		app.FolderSetting{Key: "imap:Sent", Name: "Sent", Type: eas.FolderSentItems},
		app.FolderSetting{Key: "carddav:/u/contacts/", Name: "Contacts", Type: eas.FolderContacts},
		app.FolderSetting{Key: "caldav:/u/journal/", Name: "Journal", Type: eas.FolderNotes},
	)
	src.defaults["caldav:/u/tasks/"] = app.FolderSetting{Key: "caldav:/u/tasks/", Mode: app.ModeTasksAsEvents, MergeInto: "caldav:/u/work/", IncompleteOnly: true}
	src.defaults["imap:Archive"] = app.FolderSetting{Key: "imap:Archive", Hidden: true}
	src.devices["IPHONE2"] = map[string]app.FolderSetting{
		"imap:INBOX":         {Key: "imap:INBOX", Mode: app.ModePlain, Filter: 3},
		"caldav:/u/journal/": {Key: "caldav:/u/journal/", Mode: app.ModeNotesAsEvents},
	}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	w := newWindow(a, src, syncRunner)
	w.SetStatus(src.Status(context.Background()))

	w.Tabs.SelectIndex(TabAccounts)
	test.Tap(w.Accounts.Add)
	f := w.Accounts.Form
	f.Name.SetText("office")
	f.IMAP.SetText("imaps://mail.office.example")
	f.SMTP.SetText("smtps://mail.office.example:465")
	f.DAV.SetText("https://mail.office.example/SOGo/dav/")
	f.Login.SetSelected(config.LoginStored)
	f.Users[0].EASUser.SetText("alice")
	f.Users[0].RemoteUser.SetText("alice@office.example")
	f.Users[0].Local.SetText("phone-password")
	f.Users[0].Remote.SetText("office-password")
	f.Domain.SetText("office example")
	test.Tap(f.Save)
	if !strings.Contains(f.FieldError("domain"), "not a domain name") {
		t.Fatalf("no field error to show: %q", f.FieldError("domain"))
	}
	shot(t, w, "accounts-add")
	f.PopUp.Hide()

	w.Tabs.SelectIndex(TabFolders)
	w.Folders.User.SetSelected("u@example.com")
	w.Folders.Device.SetSelected("IPHONE2")
	if got := fmt.Sprint(len(w.Folders.Rows)); got != "8" {
		t.Fatalf("%s rows", got)
	}
	shot(t, w, "folders")
}
