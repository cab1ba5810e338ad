package engine

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"testing"

	"easbridge/sync/davsource"
	"easbridge/sync/imapsource"
	"easbridge/sync/state"
)

func TestSameAccount(t *testing.T) {
	base := func() Account {
		return Account{Name: "a", IMAP: imapsource.Config{URL: "imap://h"}, SMTP: "smtp://h", Domain: "d",
			Login: Stored, Users: []StoredUser{{EASUser: "u", RemoteUser: "r"}}, DAV: &davsource.Config{URL: "http://h/"}}
	}
	tests := []struct {
		name   string
		change func(*Account)
		same   bool
	}{
		{"unchanged", func(*Account) {}, true},
		{"new DAV client, same URL", func(a *Account) { a.DAV = &davsource.Config{URL: "http://h/"} }, true},
		{"imap", func(a *Account) { a.IMAP.URL = "imaps://h" }, false},
		{"insecure", func(a *Account) { a.IMAP.TLS = &tls.Config{InsecureSkipVerify: true} }, false},
		{"smtp", func(a *Account) { a.SMTP = "" }, false},
		{"dav removed", func(a *Account) { a.DAV = nil }, false},
		{"domain", func(a *Account) { a.Domain = "e" }, false},
		{"login", func(a *Account) { a.Login = Passthrough }, false},
		{"user", func(a *Account) { a.Users = []StoredUser{{EASUser: "u"}} }, false},
		{"gal", func(a *Account) { a.GAL = &davsource.Config{URL: "http://h/gal/"} }, false},
		{"notes", func(a *Account) { a.Notes = "imap" }, false},
		{"classes", func(a *Account) { a.Classes.NoEmail = true }, false},
		{"sieve", func(a *Account) { a.Sieve.URL = "sieve://h" }, false},
	}
	for _, tt := range tests {
		a, b := base(), base()
		tt.change(&b)
		if got := sameAccount(&a, &b); got != tt.same {
			t.Errorf("%s: same=%v", tt.name, got)
		}
	}
}

type mapSecrets map[string]string

func (m mapSecrets) Get(name string) (string, error) { return m[name], nil }

func TestSetAccounts(t *testing.T) {
	st, err := state.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	one := Account{Name: "one", IMAP: imapsource.Config{URL: "imap://one"}, Domain: "one.example"}
	e, err := New(Options{Store: st, Accounts: []Account{one}, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	first := e.accountFor("bob@one.example")

	if err := e.SetAccounts(nil, nil); err == nil {
		t.Error("no accounts accepted")
	}
	stored := Account{Name: "two", IMAP: imapsource.Config{URL: "imap://two"}, Login: Stored, Users: []StoredUser{{EASUser: "phone"}}}
	if err := e.SetAccounts([]Account{one, stored}, nil); err == nil {
		t.Error("stored login accepted without a secret store")
	}
	if err := e.SetAccounts([]Account{one, stored}, mapSecrets{}); err != nil {
		t.Fatal(err)
	}
	if a := e.accountFor("phone"); a.Name != "two" {
		t.Errorf("phone: account %q", a.Name)
	}
	if a := e.accountFor("bob@one.example"); a.Name != "one" {
		t.Errorf("bob: account %q", a.Name)
	}
	// A login made under the old list of an unchanged account stays
	// current; one of a changed or removed account does not.
	e.mu.Lock()
	if !e.isCurrentLocked(first) {
		t.Error("unchanged account not current after a reload")
	}
	e.mu.Unlock()
	changed := one
	changed.IMAP.URL = "imaps://one"
	if err := e.SetAccounts([]Account{changed}, nil); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.isCurrentLocked(first) {
		t.Error("changed account still current")
	}
	if e.opts.Secrets == nil {
		t.Error("secret store dropped by a reload without one")
	}
}
