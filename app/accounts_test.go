package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/app/secrets"
	"easbridge/server/easclient"
	"easbridge/sync/engine"
	"easbridge/sync/testenv"
)

// TestAccountsChangeWhileServing adds, changes and removes an account
// through the Runtime API (what the window's Accounts tab calls) and logs
// in through the endpoint each time, against a real Dovecot, without
// restarting.
func TestAccountsChangeWhileServing(t *testing.T) {
	dc := testenv.StartDovecot(t, testenv.DovecotOptions{})
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	cfg.Throttle.FailuresBeforeDelay, cfg.Throttle.FailuresBeforeBlock = 100, 100
	rt, err := app.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	ctx := context.Background()
	login := func(user, pw string) int {
		t.Helper()
		r, err := easclient.New("http://"+rt.Addr(), user, pw, "accphone").Options(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r.HTTPStatus
	}
	file := filepath.Join(cfg.DataDir, config.FileName)
	if rt.ConfigFile() != file {
		t.Fatalf("config file %q", rt.ConfigFile())
	}
	if !rt.Status(ctx).Demo || login("alice", "alicepw") != 401 {
		t.Fatal("the demo account should be served, and alice unknown to it")
	}

	// Field errors, nothing saved.
	bad := app.AccountEdit{Account: config.Account{Name: "a/b", IMAP: "http://x", SMTP: "smtp://h", Login: config.LoginStored,
		Users: []config.StoredUser{{EASUser: "phone"}}}}
	err = rt.SaveAccount(ctx, bad)
	keys := map[string]bool{}
	for _, fe := range app.FieldErrors(err) {
		keys[fe.Key] = true
	}
	for _, k := range []string{"name", "imap", "user[0].local_password", "user[0].remote_password"} {
		if !keys[k] {
			t.Errorf("no error on %q: %v", k, err)
		}
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("invalid account saved: %v", err)
	}

	// Add: served at once.
	mail := config.Account{Name: "mail", IMAP: "imap://" + dc.IMAPAddr, SMTP: "smtp://" + dc.SubmissionAddr, Domain: testenv.Domain}
	if err := rt.SaveAccount(ctx, app.AccountEdit{Account: mail}); err != nil {
		t.Fatal(err)
	}
	if got := login("alice", "alicepw"); got != 200 {
		t.Fatalf("added account: login HTTP %d", got)
	}
	if login("alice", "wrong") != 401 || rt.Status(ctx).Demo {
		t.Error("wrong password accepted, or the demo still shown")
	}
	c := easclient.New("http://"+rt.Addr(), "alice", "alicepw", "accphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if _, fs, r, err := c.FolderSync(ctx, "0"); err != nil || r.Status() != 1 || len(fs) < 5 {
		t.Fatalf("FolderSync on the added account: %v %d folders", err, len(fs))
	}
	saved, err := config.Load(file)
	if err != nil || len(saved.Accounts) != 1 || saved.Accounts[0].IMAP != mail.IMAP {
		t.Fatalf("saved file: %v %+v", err, saved.Accounts)
	}
	// Same name again: a field error.
	if err := rt.SaveAccount(ctx, app.AccountEdit{Account: config.Account{Name: "MAIL", IMAP: mail.IMAP}}); !hasKey(err, "name") {
		t.Errorf("duplicate name: %v", err)
	}

	// Edit: a stored login, renamed; its passwords go to the keychain.
	stored := mail
	stored.Name, stored.Login = "office", config.LoginStored
	stored.Users = []config.StoredUser{{EASUser: "phone", RemoteUser: "alice"}}
	err = rt.SaveAccount(ctx, app.AccountEdit{Previous: "mail", Account: stored,
		Passwords: map[string]app.StoredPasswords{"Phone": {Local: "local-secret", Remote: "alicepw"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := login("phone", "local-secret"); got != 200 {
		t.Errorf("stored login after the edit: HTTP %d", got)
	}
	if got := login("alice", "alicepw"); got != 401 {
		t.Errorf("passthrough login after the edit: HTTP %d", got)
	}
	data, _ := os.ReadFile(file)
	for _, s := range []string{"local-secret", "alicepw"} {
		if strings.Contains(string(data), s) {
			t.Errorf("%q in the configuration file", s)
		}
	}
	if !strings.Contains(string(data), `name = "office"`) || strings.Contains(string(data), `name = "mail"`) {
		t.Errorf("file:\n%s", data)
	}
	sec, err := secrets.Open(cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := sec.Get(engine.SecretName("office", "phone", "remote")); err != nil || v != "alicepw" {
		t.Errorf("remote password in the keychain: %q %v", v, err)
	}
	// Editing again without passwords keeps them.
	stored.Domain = ""
	if err := rt.SaveAccount(ctx, app.AccountEdit{Previous: "office", Account: stored}); err != nil {
		t.Fatal(err)
	}
	if got := login("phone", "local-secret"); got != 200 {
		t.Errorf("stored login after an edit without passwords: HTTP %d", got)
	}
	if accs := rt.Accounts(); len(accs) != 1 || accs[0].Name != "office" {
		t.Errorf("accounts %+v", accs)
	}

	// Remove: logins fail at once, the demo is back, the secrets are gone.
	if err := rt.RemoveAccount(ctx, "office"); err != nil {
		t.Fatal(err)
	}
	if got := login("phone", "local-secret"); got != 401 {
		t.Errorf("removed account: login HTTP %d", got)
	}
	if !rt.Status(ctx).Demo {
		t.Error("demo not served after removing the last account")
	}
	if _, err := sec.Get(engine.SecretName("office", "phone", "eas")); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("secret kept after removal: %v", err)
	}
	if saved, err := config.Load(file); err != nil || len(saved.Accounts) != 0 {
		t.Errorf("file after removal: %v %+v", err, saved.Accounts)
	}
	if err := rt.RemoveAccount(ctx, "office"); err == nil {
		t.Error("removing a missing account succeeded")
	}
}

func hasKey(err error, key string) bool {
	return slices.ContainsFunc(app.FieldErrors(err), func(fe *config.FieldError) bool { return fe.Key == key })
}
