package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	gosync "sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/davsource"
	"easbridge/sync/imapsource"
	"easbridge/sync/smtpsend"
	"easbridge/sync/source"
	"easbridge/sync/state"
	"easbridge/sync/watch"
)

// LoginModel says where the remote credentials of a login come from.
type LoginModel string

// Login models.
const (
	// Passthrough: the phone's user name and password are the account's.
	Passthrough LoginModel = "passthrough"
	// Stored: a local EAS login mapped to stored remote credentials.
	Stored LoginModel = "stored"
)

// StoredUser maps a local EAS login to the remote account's login. Its
// local password hash and remote password are read from Secrets under
// SecretName(account, easUser, "eas") and SecretName(account, easUser, "remote").
type StoredUser struct {
	EASUser    string
	RemoteUser string
}

// Account is one configured account: where its servers are and how users
// log in to it.
type Account struct {
	Name   string
	IMAP   imapsource.Config
	DAV    *davsource.Config // nil: no calendars or contacts
	SMTP   string
	Domain string
	Login  LoginModel
	Users  []StoredUser
	// GAL is the shared office address book (URL: a CardDAV collection),
	// read with the user's remote credentials; nil: none (gal.go).
	GAL *davsource.Config
	// Notes says where notes live: NotesAuto ("" too), NotesDAV or
	// NotesIMAP (notesfolders.go).
	Notes string
	// Classes turns item classes off for the account's devices (view.go).
	Classes Classes
	// Sieve is the account's ManageSieve server for out-of-office
	// replies (oof.go); a zero URL: Oof answers that it is not available.
	Sieve SieveConfig
}

// Secrets reads stored secrets (app/secrets implements it).
type Secrets interface {
	Get(name string) (string, error)
}

// SecretName is the key under which a stored login's secret is kept; kind
// is "eas" (bcrypt hash of the local password) or "remote" (the remote
// password).
func SecretName(account, easUser, kind string) string {
	return account + "/" + strings.ToLower(easUser) + "/" + kind
}

// HashLocalPassword returns the bcrypt hash stored for a local EAS password.
func HashLocalPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// Options configures an Engine.
type Options struct {
	Store    state.Store
	Accounts []Account
	Secrets  Secrets
	// Policy returns the global policy. Default: eas.DefaultPolicy.
	Policy func() eas.Policy
	Log    *slog.Logger
	Now    func() time.Time
	// DAVPollInterval is how often a watched CalDAV/CardDAV collection's
	// token is checked while a Ping watches it. Default 30 s.
	DAVPollInterval time.Duration
	// LoginCacheTTL is how long a successful login is remembered and its
	// connections kept. Default 5 minutes (long enough to span a phone's
	// Ping cycle, short enough that a changed password is noticed soon).
	LoginCacheTTL time.Duration
	// PoisonTries is how many times an item may fail (conversion, a
	// window the phone keeps rejecting, a client change) before it is set
	// aside (poison.go). Default DefaultPoisonTries.
	PoisonTries int
}

// Engine implements server.Backend.
type Engine struct {
	opts Options
	log  *slog.Logger
	salt [16]byte

	ctx    context.Context
	cancel context.CancelFunc
	wg     gosync.WaitGroup

	mu     gosync.Mutex
	logins map[string]*login

	// hub holds one push watcher per remote account.
	hub *watch.Hub

	// poisonMu serialises the read-modify-write of poison records.
	poisonMu gosync.Mutex

	// moveLocks serialises MoveItems of one message (moveintent.go).
	moveLocks moveLocks

	// folders wakes held Pings when folder settings change and caches
	// the devices' folder views (modes.go).
	folders folderState
}

// login is a cached successful login and its open sources.
type login struct {
	account *Account
	user    string // canonical
	email   string
	remote  string // remote login
	// password is the remote password, kept in memory only, for SMTP AUTH.
	password string
	// mail is the IMAP message source; smtp submits mail (nil when the
	// account has no SMTP server).
	mail source.Mail
	dav  source.DAVItems
	smtp *smtpsend.Sender
	// srcs are the folder sources, mail first; closers release them.
	srcs    []namedSource
	closers []func() error
	expires time.Time
	// gal is the address list of Search GAL and ResolveRecipients (gal.go).
	gal *galBooks
}

// New returns an Engine; Close releases it.
func New(o Options) (*Engine, error) {
	if o.Store == nil {
		return nil, errors.New("engine: no state store")
	}
	if len(o.Accounts) == 0 {
		return nil, errors.New("engine: no account configured")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Policy == nil {
		o.Policy = eas.DefaultPolicy
	}
	if o.LoginCacheTTL <= 0 {
		o.LoginCacheTTL = 5 * time.Minute
	}
	for i, a := range o.Accounts {
		if a.Login == "" {
			o.Accounts[i].Login = Passthrough
		}
		if a.Login == Stored && o.Secrets == nil {
			return nil, fmt.Errorf("engine: account %q uses stored logins but no secret store is set", a.Name)
		}
	}
	e := &Engine{opts: o, log: o.Log, logins: map[string]*login{}}
	e.hub = watch.NewHub(watch.HubOptions{Log: o.Log.With("part", "watch"), DAVInterval: o.DAVPollInterval})
	_, _ = rand.Read(e.salt[:])
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.wg.Add(1)
	go e.janitor()
	return e, nil
}

// Close stops the engine and closes every cached connection.
func (e *Engine) Close() error {
	e.cancel()
	e.wg.Wait()
	_ = e.hub.Close()
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, l := range e.logins {
		l.close()
		delete(e.logins, k)
	}
	return nil
}

// janitor closes expired logins; the engine owns it.
func (e *Engine) janitor() {
	defer e.wg.Done()
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
			now := e.opts.Now()
			e.mu.Lock()
			for k, l := range e.logins {
				if now.After(l.expires) {
					l.close()
					delete(e.logins, k)
				}
			}
			e.mu.Unlock()
		}
	}
}

func (l *login) close() {
	for _, c := range l.closers {
		_ = c()
	}
}

// Login implements server.Backend.
func (e *Engine) Login(ctx context.Context, user, password string) (server.Session, error) {
	user = strings.TrimSpace(user)
	if user == "" || password == "" {
		return nil, fmt.Errorf("engine: empty user or password: %w", eas.ErrAuthFailed)
	}
	acct := e.accountFor(user)
	canonical := canonicalUser(user, acct.Domain)
	key := e.cacheKey(acct.Name, canonical, password)
	now := e.opts.Now()
	e.mu.Lock()
	if l, ok := e.logins[key]; ok && now.Before(l.expires) {
		l.expires = now.Add(e.opts.LoginCacheTTL)
		e.mu.Unlock()
		return &session{e: e, l: l}, nil
	}
	e.mu.Unlock()

	remoteUser, remotePassword, err := e.remoteCredentials(acct, user, password)
	if err != nil {
		return nil, err
	}
	l := &login{account: acct, user: canonical, email: canonical, remote: remoteUser}
	if !strings.Contains(l.email, "@") {
		l.email = canonical + "@localhost"
	}
	im := imapsource.NewAccount(acct.IMAP, remoteUser, remotePassword, e.log.With("account", acct.Name))
	if err := im.Login(ctx); err != nil {
		_ = im.Close()
		return nil, fmt.Errorf("engine: login %s: %w", canonical, err)
	}
	l.srcs = append(l.srcs, namedSource{prefixes: []string{"imap:", "imap-outbox:", notesKeyPrefix}, src: im})
	if m, ok := any(im).(source.Mail); ok {
		l.mail = m
	}
	l.password = remotePassword
	if l.smtp, err = newSMTP(acct, e.log); err != nil {
		_ = im.Close()
		return nil, fmt.Errorf("engine: account %s: smtp: %w", acct.Name, err)
	}
	l.closers = append(l.closers, im.Close)
	var davAcct *davsource.Account
	if acct.DAV != nil {
		dav := davsource.NewAccount(*acct.DAV, remoteUser, remotePassword, e.log.With("account", acct.Name))
		l.srcs = append(l.srcs, namedSource{prefixes: []string{"caldav:", "carddav:"}, src: dav})
		if items, ok := any(dav).(source.DAVItems); ok {
			l.dav = items
		}
		l.closers = append(l.closers, dav.Close)
		davAcct = dav
	}
	l.openGAL(acct, davAcct, remoteUser, remotePassword, e.log.With("account", acct.Name)) // gal.go
	l.expires = now.Add(e.opts.LoginCacheTTL)
	e.mu.Lock()
	if !e.isCurrentLocked(acct) {
		// The account was removed or changed while this login ran.
		e.mu.Unlock()
		l.close()
		return nil, fmt.Errorf("engine: login %s: account %s changed meanwhile: %w", canonical, acct.Name, eas.ErrBackendUnavailable)
	}
	if old, ok := e.logins[key]; ok {
		if now.Before(old.expires) {
			// Another request of the same user logged in meanwhile (two
			// devices at once): share its login, which may be in use.
			old.expires = l.expires
			e.mu.Unlock()
			l.close()
			return &session{e: e, l: old}, nil
		}
		old.close() // expired: unused for LoginCacheTTL
	}
	e.logins[key] = l
	e.mu.Unlock()
	return &session{e: e, l: l}, nil
}

// cacheKey identifies a login without keeping the password.
func (e *Engine) cacheKey(account, user, password string) string {
	h := sha256.New()
	h.Write(e.salt[:])
	fmt.Fprintf(h, "%s\x00%s\x00%s", account, user, password)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// accountFor picks the account a login belongs to: a stored user's
// account, else the account whose domain matches user@domain, else the
// first passthrough account.
func (e *Engine) accountFor(user string) *Account {
	accs, _ := e.accountList() // SetAccounts may replace the list (reload.go)
	lower := strings.ToLower(user)
	for i := range accs {
		a := &accs[i]
		if a.Login == Stored {
			for _, u := range a.Users {
				if strings.ToLower(u.EASUser) == lower {
					return a
				}
			}
		}
	}
	if _, dom, ok := strings.Cut(lower, "@"); ok {
		for i := range accs {
			if a := &accs[i]; a.Login == Passthrough && strings.EqualFold(a.Domain, dom) {
				return a
			}
		}
	}
	for i := range accs {
		if a := &accs[i]; a.Login == Passthrough {
			return a
		}
	}
	return &accs[0]
}

// remoteCredentials returns the IMAP/DAV login for a phone login.
func (e *Engine) remoteCredentials(a *Account, user, password string) (string, string, error) {
	if a.Login != Stored {
		return user, password, nil
	}
	for _, u := range a.Users {
		if !strings.EqualFold(u.EASUser, user) {
			continue
		}
		hash, err := e.secrets().Get(SecretName(a.Name, u.EASUser, "eas"))
		if err != nil {
			return "", "", fmt.Errorf("engine: stored login %s: local password: %w", user, eas.ErrAuthFailed)
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
			return "", "", fmt.Errorf("engine: stored login %s: %w", user, eas.ErrAuthFailed)
		}
		remote, err := e.secrets().Get(SecretName(a.Name, u.EASUser, "remote"))
		if err != nil {
			return "", "", fmt.Errorf("engine: stored login %s: remote password missing: %w", user, eas.ErrBackendUnavailable)
		}
		ru := u.RemoteUser
		if ru == "" {
			ru = u.EASUser
		}
		return ru, remote, nil
	}
	return "", "", fmt.Errorf("engine: no stored login %q: %w", user, eas.ErrAuthFailed)
}

// canonicalUser is the login under which devices and state are kept: the
// address user@domain, lower case.
func canonicalUser(user, domain string) string {
	u := strings.ToLower(strings.TrimSpace(user))
	if !strings.Contains(u, "@") && domain != "" {
		u += "@" + strings.ToLower(domain)
	}
	return u
}

// Devices implements server.Backend.
func (e *Engine) Devices() server.DeviceStore { return deviceStore{e.opts.Store} }

// Store gives the app access to the state store (device lists, wipes).
func (e *Engine) Store() state.Store { return e.opts.Store }

type deviceStore struct{ st state.Store }

func (d deviceStore) Device(ctx context.Context, user, id string) (eas.Device, error) {
	dev, err := d.st.Device(ctx, user, id)
	if errors.Is(err, state.ErrNotFound) {
		return dev, fmt.Errorf("engine: device %s: %w", id, eas.ErrNotFound)
	}
	return dev, err
}

func (d deviceStore) UpdateDevice(ctx context.Context, user, id string, fn func(*eas.Device, bool) error) (eas.Device, error) {
	return d.st.UpdateDevice(ctx, user, id, fn)
}

// sources returns the folder sources of a login with their key prefixes,
// mail first.
func (l *login) sources() []namedSource { return l.srcs }

type namedSource struct {
	prefixes []string
	src      source.Folders
}

func (n namedSource) owns(key string) bool {
	for _, p := range n.prefixes {
		if source.Owns(p, key) {
			return true
		}
	}
	return false
}

// keepAlive keeps a login cached (and its connections open) for at least d,
// for a Ping that holds the session longer than LoginCacheTTL.
func (e *Engine) keepAlive(l *login, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.opts.Now().Add(d); t.After(l.expires) {
		l.expires = t
	}
}
