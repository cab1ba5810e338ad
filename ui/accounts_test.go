package ui

import (
	"context"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/eas"
	"easbridge/server/easclient"
)

// startRuntime starts a real easbridge serving the demo account on
// loopback, with its data (and configuration file) in a temporary
// directory.
func startRuntime(t *testing.T) *app.Runtime {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	cfg.MDNS = false
	rt, err := app.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// runtimeWindow is a window over a real runtime whose background work
// runs at once on the calling goroutine.
func runtimeWindow(t *testing.T, rt *app.Runtime) *Window {
	t.Helper()
	w := newWindow(test.NewTempApp(t), RuntimeSource(rt), syncRunner)
	return w
}

// onCanvas reports whether the pop-up p is shown over w.
func onCanvas(w *Window, p *widget.PopUp) bool {
	return p.Visible() && w.Window.Canvas().Overlays().Top() != nil
}

func TestAccountsAddEditRemove(t *testing.T) {
	rt := startRuntime(t)
	w := runtimeWindow(t, rt)
	w.Tabs.SelectIndex(TabAccounts)
	a := w.Accounts
	if a.Add == nil || !hasLabel(w.Window.Content(), "No account configured: the demo account is served (see Overview). Add your own with “Add account”.") {
		t.Fatal("no Add button, or the demo note missing")
	}

	// Invalid: the configuration's errors under their fields, nothing saved.
	test.Tap(a.Add)
	f := a.Form
	if f == nil || !onCanvas(w, f.PopUp) {
		t.Fatal("no account form shown")
	}
	test.Tap(f.Save) // empty
	if !strings.Contains(f.FieldError("name"), "missing") || !strings.Contains(f.Error.Text, "needs imap or dav") || !f.Error.Visible() {
		t.Errorf("empty form: name %q, form %q", f.FieldError("name"), f.Error.Text)
	}
	test.Type(f.Name, "home")
	test.Type(f.IMAP, "http://mail.example.com")
	test.Type(f.SMTP, "smtp://mail.example.com:587")
	test.Type(f.Domain, "not a domain")
	test.Tap(f.Save)
	if got := f.FieldError("imap"); !strings.Contains(got, `unknown scheme "http"`) || !f.Errors["imap"].Visible() {
		t.Errorf("imap error %q", got)
	}
	if got := f.FieldError("domain"); !strings.Contains(got, "not a domain name") {
		t.Errorf("domain error %q", got)
	}
	if f.FieldError("name") != "" || f.FieldError("smtp") != "" {
		t.Errorf("errors on valid fields: %q %q", f.FieldError("name"), f.FieldError("smtp"))
	}
	if !onCanvas(w, f.PopUp) {
		t.Fatal("form closed on an error")
	}
	if _, err := os.Stat(rt.ConfigFile()); err == nil {
		t.Fatal("invalid account saved")
	}

	// Stored login without passwords: asked for, per login.
	f.IMAP.SetText("imaps://mail.example.com")
	f.Domain.SetText("")
	f.Login.SetSelected(config.LoginStored)
	if len(f.Users) != 1 {
		t.Fatalf("%d login rows", len(f.Users))
	}
	test.Type(f.Users[0].EASUser, "phone")
	test.Tap(f.Save)
	if got := f.FieldError("user[0].local_password"); !strings.Contains(got, "required") {
		t.Errorf("local password error %q", got)
	}
	test.Type(f.Users[0].Local, "local-secret")
	test.Type(f.Users[0].Remote, "remote-secret")
	test.Tap(f.Save)
	if onCanvas(w, f.PopUp) {
		t.Fatalf("form still open: %q", f.Error.Text)
	}

	// Saved: in the list, in the file (no password there), served.
	if _, ok := a.Edit["home"]; !ok || !hasLabel(w.Window.Content(), "imaps://mail.example.com") {
		t.Fatal("saved account not listed")
	}
	data, err := os.ReadFile(rt.ConfigFile())
	if err != nil || !strings.Contains(string(data), `name = "home"`) || strings.Contains(string(data), "secret") {
		t.Fatalf("config file: %v\n%s", err, data)
	}
	if accs := rt.ConfiguredAccounts(); len(accs) != 1 || accs[0].Users[0].EASUser != "phone" {
		t.Errorf("runtime accounts %+v", accs)
	}

	// Edit: the form shows the account; passwords are kept unless typed,
	// and so are the keys the form does not show.
	test.Tap(a.Edit["home"])
	a.Form.orig.Sieve = config.SieveOff // as if the file said so
	f = a.Form
	if f.Name.Text != "home" || f.Login.Selected != config.LoginStored || len(f.Users) != 1 || f.Users[0].Local.PlaceHolder != "(unchanged)" {
		t.Fatalf("edit form: %q %q %d", f.Name.Text, f.Login.Selected, len(f.Users))
	}
	f.Name.SetText("house")
	test.Tap(f.Save)
	if _, ok := a.Edit["house"]; !ok || onCanvas(w, f.PopUp) {
		t.Fatalf("renamed account not listed (form error %q)", f.Error.Text)
	}
	if accs := rt.ConfiguredAccounts(); len(accs) != 1 || accs[0].Sieve != config.SieveOff || accs[0].Name != "house" {
		t.Errorf("after the edit: %+v", accs)
	}

	// Remove asks first; Cancel keeps the account.
	test.Tap(a.Remove["house"])
	m := w.run.lastModal
	if m == nil || !strings.Contains(m.Message.Text, "house") {
		t.Fatalf("no confirmation: %+v", m)
	}
	test.Tap(m.Cancel)
	if len(rt.ConfiguredAccounts()) != 1 {
		t.Fatal("removed without confirmation")
	}
	test.Tap(a.Remove["house"])
	test.Tap(w.run.lastModal.OK)
	if len(rt.ConfiguredAccounts()) != 0 || len(a.Edit) != 0 || !strings.Contains(a.Result.Text, "Removed house") {
		t.Errorf("after remove: %+v %q", rt.ConfiguredAccounts(), a.Result.Text)
	}
	if !rt.Status(context.Background()).Demo {
		t.Error("demo not served again")
	}
}

// TestAccountsWrongPassword: the test button says a wrong password is
// one, against the demo account's real servers.
func TestAccountsWrongPassword(t *testing.T) {
	rt := startRuntime(t)
	w := runtimeWindow(t, rt)
	a := w.Accounts
	a.Fill(rt.Accounts()[0])
	a.User.SetText(rt.Demo.User)
	a.Password.SetText("not-the-password")
	test.Tap(a.Test)
	lines := a.Lines()
	if len(lines) != 3 {
		t.Fatalf("lines %q", lines)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, ": wrong user name or password") {
			t.Errorf("line %q", l)
		}
	}
}

// TestFoldersOverRuntime: the Folders tab over a real runtime whose demo
// user synced its folder list: hiding a folder for one device is stored
// for that device only.
func TestFoldersOverRuntime(t *testing.T) {
	rt := startRuntime(t)
	ctx := context.Background()
	c := easclient.New("http://"+rt.Addr(), rt.Demo.User, rt.Demo.Password, "FOLDERPHONE")
	c.Version = "16.1"
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, r, err := c.FolderSync(ctx, "0"); err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync: %v", err)
	}
	w := runtimeWindow(t, rt)
	w.Tabs.SelectIndex(TabFolders)
	f := w.Folders
	if !strings.HasPrefix(f.User.Selected, strings.ToLower(rt.Demo.User)) || len(f.Rows) < 3 {
		t.Fatalf("user %q, %d rows", f.User.Selected, len(f.Rows))
	}
	f.Device.SetSelected("FOLDERPHONE")
	var row *FolderRow
	for _, r := range f.Rows {
		if r.Setting.Type == eas.FolderUserMail || r.Setting.Type == eas.FolderSentItems {
			row = r
			break
		}
	}
	if row == nil || row.Inherited.Text != "default" {
		t.Fatalf("no inherited mail folder row: %+v", row)
	}
	name := row.Setting.Name
	test.Tap(row.Synced)
	if !strings.Contains(f.Result.Text, "saved") {
		t.Fatalf("result %q", f.Result.Text)
	}
	dev, err := rt.FolderSettings(ctx, f.User.Selected, "FOLDERPHONE")
	if err != nil {
		t.Fatal(err)
	}
	all, err := rt.FolderSettings(ctx, f.User.Selected, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range dev {
		if s.Name == name && (!s.Hidden || s.Inherited) {
			t.Errorf("device setting %+v", s)
		}
	}
	for _, s := range all {
		if s.Name == name && s.Hidden {
			t.Errorf("the default changed too: %+v", s)
		}
	}
	if r := f.Row(name); r == nil || r.Synced.Checked || r.Inherited.Text != "this device" {
		t.Errorf("row after the change: %+v", r)
	}
}
