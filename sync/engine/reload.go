package engine

import (
	"errors"
	"fmt"
	"slices"
)

// Changing the accounts while serving (the window's Accounts tab).
//
// The account list is replaced as a whole under e.mu, never changed in
// place: a login keeps a pointer to the Account it was made with, which
// stays valid (and unchanged) after a reload. A Login racing with a reload
// checks under e.mu, before caching, that its account is still current.

// accountList returns the current accounts and secret store.
func (e *Engine) accountList() ([]Account, Secrets) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts.Accounts, e.opts.Secrets
}

// secrets returns the current secret store.
func (e *Engine) secrets() Secrets {
	_, s := e.accountList()
	return s
}

// SetAccounts replaces the accounts while the engine serves. Cached logins
// of accounts that are gone or whose settings changed are closed (a
// request still using one fails; the next logs in again under the new
// settings); the others stay. sec, when not nil, replaces the secret store.
func (e *Engine) SetAccounts(accs []Account, sec Secrets) error {
	if len(accs) == 0 {
		return errors.New("engine: no account configured")
	}
	accs = slices.Clone(accs)
	for i := range accs {
		if accs[i].Login == "" {
			accs[i].Login = Passthrough
		}
		accs[i].Users = slices.Clone(accs[i].Users)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if sec == nil {
		sec = e.opts.Secrets
	}
	for _, a := range accs {
		if a.Login == Stored && sec == nil {
			return fmt.Errorf("engine: account %q uses stored logins but no secret store is set", a.Name)
		}
	}
	e.opts.Accounts, e.opts.Secrets = accs, sec
	closed := 0
	for k, l := range e.logins {
		if !e.isCurrentLocked(l.account) {
			l.close()
			delete(e.logins, k)
			closed++
		}
	}
	e.log.Info("engine: accounts changed", "accounts", len(accs), "logins_closed", closed)
	return nil
}

// ForgetLogins closes the cached logins of the named account (after its
// stored passwords changed): the next request logs in again.
func (e *Engine) ForgetLogins(account string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, l := range e.logins {
		if l.account.Name == account {
			l.close()
			delete(e.logins, k)
		}
	}
}

// isCurrentLocked reports whether a is, unchanged, one of the current
// accounts. e.mu is held.
func (e *Engine) isCurrentLocked(a *Account) bool {
	for i := range e.opts.Accounts {
		if c := &e.opts.Accounts[i]; c == a || c.Name == a.Name && sameAccount(c, a) {
			return true
		}
	}
	return false
}

// sameAccount compares the settings a login depends on.
func sameAccount(a, b *Account) bool {
	insecure := func(x *Account) bool { return x.IMAP.TLS != nil && x.IMAP.TLS.InsecureSkipVerify }
	davURL := func(x *Account) string {
		if x.DAV == nil {
			return ""
		}
		return x.DAV.URL
	}
	galURL := func(x *Account) string { // gal.go
		if x.GAL == nil {
			return ""
		}
		return x.GAL.URL
	}
	return a.IMAP.URL == b.IMAP.URL && insecure(a) == insecure(b) && a.SMTP == b.SMTP &&
		davURL(a) == davURL(b) && galURL(a) == galURL(b) && a.Domain == b.Domain && a.Login == b.Login &&
		slices.Equal(a.Users, b.Users) && a.Notes == b.Notes && a.Classes == b.Classes && a.Sieve.URL == b.Sieve.URL
}
