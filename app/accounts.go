package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"easbridge/app/config"
	"easbridge/app/secrets"
	"easbridge/sync/davsource"
	"easbridge/sync/demo"
	"easbridge/sync/engine"
	"easbridge/sync/imapsource"
)

// This file holds the accounts the window adds, changes and removes while
// the server runs. Each change is checked with the configuration's rules,
// saved to the configuration file (only its [[account]] tables change;
// config.SaveAccounts), its stored-login passwords go to the keychain
// (app/secrets, never the file), and the engine gets the new account list
// (engine.SetAccounts): no restart.

// accountState is the account list as configured, changed at run time.
type accountState struct {
	mu     gosync.Mutex
	list   []config.Account // empty: the demo account is served
	file   string           // the configuration file edits are saved to
	sec    *secrets.Store   // opened on first need
	demoOn bool             // the demo account is served
}

// StoredPasswords are the two passwords of a stored login: Local is the
// one the phone logs in with (kept as a bcrypt hash), Remote the upstream
// one. "" keeps the password already stored.
type StoredPasswords struct {
	Local, Remote string
}

// AccountEdit is an account as edited in the window.
type AccountEdit struct {
	// Previous is the account's name before the edit; "" adds an account.
	Previous string
	Account  config.Account
	// Passwords of stored logins, by EAS user name (case-insensitive).
	Passwords map[string]StoredPasswords
}

func (e AccountEdit) passwords(easUser string) StoredPasswords {
	for k, p := range e.Passwords {
		if strings.EqualFold(k, easUser) {
			return p
		}
	}
	return StoredPasswords{}
}

// SetConfigFile names the configuration file the window saves accounts
// to; by default DataDir/config.FileName (which `easbridge` reads when
// started without --config).
func (r *Runtime) SetConfigFile(path string) {
	r.accts.mu.Lock()
	r.accts.file = path
	r.accts.mu.Unlock()
}

// ConfigFile is the file accounts are saved to.
func (r *Runtime) ConfigFile() string {
	r.accts.mu.Lock()
	defer r.accts.mu.Unlock()
	if r.accts.file == "" {
		return filepath.Join(r.cfg.DataDir, config.FileName)
	}
	return r.accts.file
}

// ConfiguredAccounts are the accounts of the configuration as changed
// from the window; empty while the demo account is served.
func (r *Runtime) ConfiguredAccounts() []config.Account {
	r.accts.mu.Lock()
	defer r.accts.mu.Unlock()
	return slices.Clone(r.accts.list)
}

// servedDemo is the demo while it is the account served, else nil.
func (r *Runtime) servedDemo() *demo.Demo {
	r.accts.mu.Lock()
	defer r.accts.mu.Unlock()
	if !r.accts.demoOn {
		return nil
	}
	return r.Demo
}

// demoAccount starts the demo servers if needed and returns the demo
// account. r.accts.mu is held, or Start is running.
func (r *Runtime) demoAccount(ctx context.Context) (engine.Account, error) {
	if r.Demo == nil {
		d, err := demo.Start(ctx, demo.Options{Log: r.log.With("part", "demo")})
		if err != nil {
			return engine.Account{}, fmt.Errorf("app: demo account: %w", err)
		}
		r.Demo = d
	}
	d := r.Demo
	ic, err := imapsource.ParseURL(d.IMAPURL)
	if err != nil {
		return engine.Account{}, err
	}
	r.accts.demoOn = true
	r.log.Info("easbridge: no account configured: serving the demo account", "user", d.User, "password", "(shown in the window and printed by `easbridge serve`)")
	return engine.Account{
		Name: "demo", IMAP: ic, DAV: &davsource.Config{URL: d.DAVURL, HTTPClient: &http.Client{Timeout: 30 * time.Second}},
		SMTP: d.SMTPURL, Domain: "demo.easbridge", Login: engine.Passthrough,
	}, nil
}

// secretStore opens the keychain once. r.accts.mu is held, or Start is
// running.
func (r *Runtime) secretStore() (*secrets.Store, error) {
	if r.accts.sec == nil {
		s, err := secrets.Open(r.cfg.DataDir, r.log.With("part", "secrets"))
		if err != nil {
			return nil, fmt.Errorf("app: secrets: %w", err)
		}
		r.accts.sec = s
	}
	return r.accts.sec, nil
}

// engineAccounts turns configured accounts into engine accounts; the
// secret store is opened when a stored login needs it.
func (r *Runtime) engineAccounts(list []config.Account) ([]engine.Account, engine.Secrets, error) {
	var out []engine.Account
	needSecrets := false
	for _, a := range list {
		if a.IMAP == "" {
			// Logins are checked against IMAP; a DAV-only account has no
			// login check yet.
			return nil, nil, fmt.Errorf("app: account %s: an imap server is required (DAV-only accounts are not supported yet)", a.Name)
		}
		ic, err := imapsource.ParseURL(a.IMAP)
		if err != nil {
			return nil, nil, fmt.Errorf("app: account %s: %w", a.Name, err)
		}
		if a.InsecureSkipVerify {
			ic.TLS = &tls.Config{InsecureSkipVerify: true}
		}
		ea := engine.Account{
			Name: a.Name, IMAP: ic, SMTP: a.SMTP, Domain: a.EffectiveDomain(r.cfg.Domain),
			Login: engine.LoginModel(a.Login), Notes: a.Notes,
		}
		ea.Sieve = sieveConfig(a) // out of office (oof.go)
		ea.Classes.NoEmail, ea.Classes.NoContacts, ea.Classes.NoCalendar, ea.Classes.NoNotes = a.Classes.Off()
		if ea.Login == "" {
			ea.Login = engine.Passthrough
		}
		if a.DAV != "" {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			if a.InsecureSkipVerify {
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
			}
			ea.DAV = &davsource.Config{URL: a.DAV, HTTPClient: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
		}
		if a.GALAddressBook != "" {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			if a.InsecureSkipVerify {
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
			}
			ea.GAL = &davsource.Config{URL: a.GALAddressBook, HTTPClient: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
		}
		for _, u := range a.Users {
			ea.Users = append(ea.Users, engine.StoredUser{EASUser: u.EASUser, RemoteUser: u.Remote()})
		}
		needSecrets = needSecrets || ea.Login == engine.Stored
		out = append(out, ea)
	}
	if !needSecrets {
		return out, nil, nil
	}
	s, err := r.secretStore()
	if err != nil {
		return nil, nil, err
	}
	return out, s, nil
}

// CheckAccount checks an edit against the configuration's rules and the
// other accounts, as SaveAccount does, without saving. The error joins
// *config.FieldError values whose Key is relative to the account: "name",
// "imap", "user[1].eas_user", "user[0].local_password", "" for the
// account as a whole.
func (r *Runtime) CheckAccount(e AccountEdit) error {
	r.accts.mu.Lock()
	defer r.accts.mu.Unlock()
	_, err := r.checkEdit(e)
	return err
}

// checkEdit returns the account list with the edit applied. r.accts.mu is
// held.
func (r *Runtime) checkEdit(e AccountEdit) ([]config.Account, error) {
	a := e.Account
	if a.Login == "" {
		a.Login = config.LoginPassthrough
	}
	idx := -1
	if e.Previous != "" {
		idx = slices.IndexFunc(r.accts.list, func(x config.Account) bool { return x.Name == e.Previous })
		if idx < 0 {
			return nil, fmt.Errorf("app: no account %q", e.Previous)
		}
	}
	// Checked last in the list so that clashes with the others are
	// reported on it.
	probe := r.cfg
	probe.Accounts = nil
	for i, x := range r.accts.list {
		if i != idx {
			probe.Accounts = append(probe.Accounts, x)
		}
	}
	probe.Accounts = append(probe.Accounts, a)
	prefix := fmt.Sprintf("account[%d]", len(probe.Accounts)-1)
	var errs []error
	if err := probe.Validate(); err != nil {
		for _, fe := range fieldErrors(err) {
			switch {
			case fe.Key == prefix:
				errs = append(errs, &config.FieldError{Key: "", Err: fe.Err})
			case strings.HasPrefix(fe.Key, prefix+"."):
				errs = append(errs, &config.FieldError{Key: strings.TrimPrefix(fe.Key, prefix+"."), Err: fe.Err})
			}
		}
	}
	if strings.TrimSpace(a.IMAP) == "" && a.DAV != "" {
		errs = append(errs, &config.FieldError{Key: "imap", Err: errors.New("required: logins are checked against the IMAP server (DAV-only accounts are not supported yet)")})
	}
	if a.Login == config.LoginStored {
		errs = append(errs, r.checkPasswords(e, a)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	next := slices.Clone(r.accts.list)
	if idx < 0 {
		next = append(next, a)
	} else {
		next[idx] = a
	}
	return next, nil
}

// checkPasswords requires both passwords for every stored user that has
// none in the keychain yet.
func (r *Runtime) checkPasswords(e AccountEdit, a config.Account) []error {
	var errs []error
	old := e.Previous
	if old == "" {
		old = a.Name
	}
	sec, err := r.secretStore()
	if err != nil {
		return []error{&config.FieldError{Key: "", Err: err}}
	}
	for j, u := range a.Users {
		if u.EASUser == "" {
			continue // reported by Validate
		}
		pw := e.passwords(u.EASUser)
		for _, k := range []struct{ kind, key, given string }{
			{"eas", "local_password", pw.Local},
			{"remote", "remote_password", pw.Remote},
		} {
			if k.given != "" {
				continue
			}
			if _, err := sec.Get(engine.SecretName(old, u.EASUser, k.kind)); errors.Is(err, secrets.ErrNotFound) {
				errs = append(errs, &config.FieldError{Key: fmt.Sprintf("user[%d].%s", j, k.key), Err: errors.New("required for a new login")})
			} else if err != nil {
				errs = append(errs, &config.FieldError{Key: fmt.Sprintf("user[%d].%s", j, k.key), Err: err})
			}
		}
	}
	return errs
}

// fieldErrors are the *config.FieldError values joined in err.
func fieldErrors(err error) []*config.FieldError {
	var out []*config.FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*config.FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// FieldErrors are the *config.FieldError values of an error of
// CheckAccount or SaveAccount.
func FieldErrors(err error) []*config.FieldError { return fieldErrors(err) }

// SaveAccount checks an edit (see CheckAccount), stores the passwords it
// carries in the keychain, saves the account list to the configuration
// file and gives it to the running server: phones log in with the new
// settings from their next request.
func (r *Runtime) SaveAccount(ctx context.Context, e AccountEdit) error {
	r.accts.mu.Lock()
	defer r.accts.mu.Unlock()
	next, err := r.checkEdit(e)
	if err != nil {
		return err
	}
	a := e.Account
	var prev *config.Account
	if e.Previous != "" {
		prev = &r.accts.list[slices.IndexFunc(r.accts.list, func(x config.Account) bool { return x.Name == e.Previous })]
	}
	eng, sec, err := r.engineAccounts(next)
	if err != nil {
		return err
	}
	// Passwords first: the account is served as soon as the engine has it.
	changedPasswords := false
	if a.Login == config.LoginStored {
		for _, u := range a.Users {
			pw := e.passwords(u.EASUser)
			if prev != nil && prev.Name != a.Name {
				if err := r.copySecrets(prev.Name, a.Name, u.EASUser); err != nil {
					return err
				}
			}
			if pw.Local != "" {
				hash, err := engine.HashLocalPassword(pw.Local)
				if err != nil {
					return fmt.Errorf("app: hash password: %w", err)
				}
				if err := r.accts.sec.Set(engine.SecretName(a.Name, u.EASUser, "eas"), hash); err != nil {
					return err
				}
				changedPasswords = true
			}
			if pw.Remote != "" {
				if err := r.accts.sec.Set(engine.SecretName(a.Name, u.EASUser, "remote"), pw.Remote); err != nil {
					return err
				}
				changedPasswords = true
			}
		}
	}
	file := r.configFileLocked()
	if err := config.SaveAccounts(file, next); err != nil {
		return err
	}
	if err := r.Engine.SetAccounts(eng, sec); err != nil {
		return err
	}
	if changedPasswords {
		r.Engine.ForgetLogins(a.Name)
	}
	// Secrets no longer used: users removed, or the account renamed.
	if prev != nil {
		for _, u := range prev.Users {
			gone := prev.Name != a.Name || a.Login != config.LoginStored ||
				!slices.ContainsFunc(a.Users, func(n config.StoredUser) bool { return strings.EqualFold(n.EASUser, u.EASUser) })
			if gone {
				r.deleteSecrets(prev.Name, u.EASUser)
			}
		}
	}
	r.accts.list, r.accts.demoOn = next, false
	r.log.Info("easbridge: account saved", "account", a.Name, "previous", e.Previous, "file", file)
	return nil
}

// RemoveAccount removes an account from the configuration file and the
// running server, and deletes its stored passwords. Without accounts left
// the demo account is served again.
func (r *Runtime) RemoveAccount(ctx context.Context, name string) error {
	r.accts.mu.Lock()
	defer r.accts.mu.Unlock()
	idx := slices.IndexFunc(r.accts.list, func(x config.Account) bool { return x.Name == name })
	if idx < 0 {
		return fmt.Errorf("app: no account %q", name)
	}
	gone := r.accts.list[idx]
	next := slices.Delete(slices.Clone(r.accts.list), idx, idx+1)
	var (
		eng []engine.Account
		sec engine.Secrets
		err error
	)
	if len(next) > 0 {
		if eng, sec, err = r.engineAccounts(next); err != nil {
			return err
		}
	}
	file := r.configFileLocked()
	if err := config.SaveAccounts(file, next); err != nil {
		return err
	}
	if len(next) == 0 {
		d, err := r.demoAccount(r.ctx)
		if err != nil {
			return err
		}
		eng = []engine.Account{d}
	}
	if err := r.Engine.SetAccounts(eng, sec); err != nil {
		return err
	}
	for _, u := range gone.Users {
		r.deleteSecrets(gone.Name, u.EASUser)
	}
	r.accts.list = next
	r.log.Info("easbridge: account removed", "account", name, "file", file)
	return nil
}

func (r *Runtime) configFileLocked() string {
	if r.accts.file == "" {
		return filepath.Join(r.cfg.DataDir, config.FileName)
	}
	return r.accts.file
}

// copySecrets copies a stored login's secrets to a renamed account.
func (r *Runtime) copySecrets(from, to, easUser string) error {
	for _, kind := range []string{"eas", "remote"} {
		v, err := r.accts.sec.Get(engine.SecretName(from, easUser, kind))
		if errors.Is(err, secrets.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := r.accts.sec.Set(engine.SecretName(to, easUser, kind), v); err != nil {
			return err
		}
	}
	return nil
}

// deleteSecrets removes a stored login's secrets; failures are logged.
func (r *Runtime) deleteSecrets(account, easUser string) {
	sec, err := r.secretStore()
	if err != nil {
		return
	}
	for _, kind := range []string{"eas", "remote"} {
		if err := sec.Delete(engine.SecretName(account, easUser, kind)); err != nil {
			r.log.Warn("easbridge: delete stored password", "account", account, "user", easUser, "err", err)
		}
	}
}
