// Package config reads the TOML configuration of "easbridge serve": the
// listen address and TLS mode, the upstream IMAP/SMTP/DAV accounts, the EAS
// device policy and the server's limits. docs/CONFIG.md describes every
// key.
//
// Passwords never appear in the configuration: with login = "passthrough"
// the phone's credentials are passed to the upstream servers, with
// login = "stored" they live in the OS keychain or its encrypted fallback
// (see app/secrets), named by sync/engine.SecretName.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"easbridge/server/eas"
)

// TLS modes.
const (
	TLSAuto = "auto" // serve HTTPS with the local CA's certificate (app/tlscert)
	TLSOff  = "off"  // serve plain HTTP
)

// Login models of an account.
const (
	// LoginPassthrough passes the phone's user name and password to the
	// upstream servers.
	LoginPassthrough = "passthrough"
	// LoginStored checks the phone's login against the configured users and
	// uses the remote credentials stored in the keychain.
	LoginStored = "stored"
)

// Config is the whole configuration file.
type Config struct {
	// Listen is the server's TCP address, host:port. Default ":8443".
	Listen string `toml:"listen"`
	// TLS is TLSAuto (default) or TLSOff.
	TLS string `toml:"tls"`
	// AllowPlainHTTP permits TLSOff on a non-loopback address.
	AllowPlainHTTP bool `toml:"allow_plain_http"`
	// DataDir holds the certificates, state database and fallback secrets.
	// Default: os.UserConfigDir()/easbridge.
	DataDir string `toml:"data_dir"`
	// Domain completes logins without a domain: "bob" logs in as
	// "bob@Domain".
	Domain string `toml:"domain"`
	// LogWBXML is a file to which every decoded exchange is appended; ""
	// disables it.
	LogWBXML string `toml:"log_wbxml"`
	// RedactLogs removes credentials and cuts message bodies in logged
	// exchanges. Default true.
	RedactLogs bool `toml:"redact_logs"`
	// MDNS announces the server on the LAN with DNS-SD (_easbridge._tcp)
	// when it listens on a non-loopback address. Default true.
	MDNS bool `toml:"mdns"`

	// DefaultAccess is what a new device gets when no access rule
	// matches: AccessAllow (default), AccessQuarantine or AccessBlock.
	DefaultAccess string `toml:"default_access"`
	// AccessRules are tried in order for new devices; see AccessRule.
	AccessRules []AccessRule `toml:"access_rule"`

	Accounts []Account  `toml:"account"`
	Policy   eas.Policy `toml:"policy"`
	Ping     Ping       `toml:"ping"`
	Limits   Limits     `toml:"limits"`
	Throttle Throttle   `toml:"throttle"`
}

// Ping bounds the Ping command (MS-ASCMD 2.2.1.13).
type Ping struct {
	// MinHeartbeat and MaxHeartbeat bound the heartbeat interval a phone
	// may ask for, in seconds. Defaults 60 and 3540.
	MinHeartbeat int `toml:"min_heartbeat"`
	MaxHeartbeat int `toml:"max_heartbeat"`
	// MaxFolders is how many folders one Ping may watch. Default 300.
	MaxFolders int `toml:"max_folders"`
	// DAVInterval is how often, in seconds, a CalDAV/CardDAV collection
	// watched by a Ping is checked for changes (one cheap PROPFIND).
	// Default 30.
	DAVInterval int `toml:"dav_interval"`
}

// Limits bounds resource use.
type Limits struct {
	// MaxRequestBytes is the largest request body accepted. Default 32 MiB.
	MaxRequestBytes int64 `toml:"max_request_bytes"`
	// MaxConnections caps concurrent connections: when reached, new ones
	// wait in the kernel's backlog until one closes. Default 4096; 0
	// means no cap.
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerAddress caps the concurrent connections from one
	// source IP address (port ignored): one more is closed at once,
	// before TLS, so that one slow or hostile client cannot take every
	// slot of MaxConnections. Default 256; 0 means no cap.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// PoisonTries is how many times one item may fail to sync (a
	// conversion error, a window the phone keeps rejecting, a phone's
	// change that keeps failing) before it is set aside and listed under
	// Problems. Default 3 (also when 0).
	PoisonTries int `toml:"poison_tries"`
	// MemoryLimitMiB is the process's soft memory limit for the Go
	// runtime (runtime/debug.SetMemoryLimit): near it, the garbage
	// collector works harder and returns freed memory to the system
	// sooner, instead of keeping it for the next burst. Default 120; 0
	// leaves the runtime's default (no limit). The GOMEMLIMIT environment
	// variable, when set, wins.
	MemoryLimitMiB int `toml:"memory_limit_mib"`
}

// Throttle slows and then blocks addresses that fail to log in.
type Throttle struct {
	// FailuresBeforeDelay failed logins are answered at once; later ones
	// are delayed. Default 3.
	FailuresBeforeDelay int `toml:"failures_before_delay"`
	// FailuresBeforeBlock failed logins block the address. Default 10.
	FailuresBeforeBlock int `toml:"failures_before_block"`
	// BlockMinutes is how long an address stays blocked. Default 15.
	BlockMinutes int `toml:"block_minutes"`
}

// Account is one set of upstream servers.
type Account struct {
	// Name labels the account in the UI and logs and prefixes its secrets'
	// names; it is required, unique (case-insensitively) and contains no
	// '/' or '\'.
	Name string `toml:"name"`
	// IMAP is imap://host[:port] (STARTTLS, default port 143) or
	// imaps://host[:port] (implicit TLS, default 993).
	IMAP string `toml:"imap"`
	// SMTP is smtp:// or submission://host[:port] (STARTTLS, default port
	// 587) or smtps:// or submissions://host[:port] (implicit TLS, default
	// 465).
	SMTP string `toml:"smtp"`
	// DAV is the http:// or https:// base URL of the CalDAV/CardDAV server.
	DAV string `toml:"dav"`
	// GALAddressBook is the URL of a shared CardDAV address book (the
	// office directory) that Search GAL and ResolveRecipients read besides
	// the user's own address books, with the user's upstream credentials.
	// "" means none.
	GALAddressBook string `toml:"gal_addressbook"`
	// Domain overrides Config.Domain for this account.
	Domain string `toml:"domain"`
	// Login is LoginPassthrough (default) or LoginStored.
	Login string `toml:"login"`
	// Users maps local EAS logins to remote ones (login = "stored" only).
	Users []StoredUser `toml:"user"`
	// InsecureSkipVerify accepts any certificate from the upstream servers.
	InsecureSkipVerify bool `toml:"insecure_skip_verify"`
	// Notes is where notes live: NotesAuto (default, also ""), NotesDAV
	// or NotesIMAP.
	Notes string `toml:"notes"`
	// Sieve is the ManageSieve server for out-of-office replies:
	// sieve://host[:port] (STARTTLS, default port 4190); "" means the IMAP
	// host on port 4190; SieveOff disables out of office.
	Sieve string `toml:"sieve"`
	// Classes turns item classes off for the account's devices
	// ([account.classes]); every class is on by default.
	Classes AccountClasses `toml:"classes"`
}

// AccountClasses are an account's class switches: a class set to false
// disappears from FolderSync for the account's devices. nil means on.
type AccountClasses struct {
	Email    *bool `toml:"email"`
	Contacts *bool `toml:"contacts"`
	Calendar *bool `toml:"calendar"` // calendars and task lists
	Notes    *bool `toml:"notes"`
}

// Off reports the classes turned off.
func (c AccountClasses) Off() (email, contacts, calendar, notes bool) {
	off := func(b *bool) bool { return b != nil && !*b }
	return off(c.Email), off(c.Contacts), off(c.Calendar), off(c.Notes)
}

// SieveOff as Account.Sieve: the account has no out-of-office replies.
const SieveOff = "off"

// Where notes live (Account.Notes).
const (
	NotesAuto = "auto" // DAV journal collections if any, else the IMAP Notes mailbox
	NotesDAV  = "dav"  // only DAV journal collections
	NotesIMAP = "imap" // the IMAP Notes mailbox
)

// StoredUser is one local EAS login of a "stored" account. Its passwords
// are in the keychain (app/secrets), never in the configuration.
type StoredUser struct {
	// EASUser is the user name the phone logs in with.
	EASUser string `toml:"eas_user"`
	// RemoteUser is the user name on the upstream servers; "" means
	// EASUser.
	RemoteUser string `toml:"remote_user"`
}

// Remote returns the upstream user name.
func (u StoredUser) Remote() string {
	if u.RemoteUser == "" {
		return u.EASUser
	}
	return u.RemoteUser
}

// EffectiveDomain is the account's domain, or def (Config.Domain) when the
// account sets none.
func (a Account) EffectiveDomain(def string) string {
	if a.Domain != "" {
		return a.Domain
	}
	return def
}

// Default returns the configuration used for keys the file does not set.
func Default() Config {
	c := Config{
		Listen:     ":8443",
		TLS:        TLSAuto,
		RedactLogs: true,
		MDNS:       true,
		Policy:     eas.DefaultPolicy(),
		// Devices are allowed unless a rule says otherwise, as before
		// access rules existed.
		DefaultAccess: AccessAllow,
		Ping:          Ping{MinHeartbeat: 60, MaxHeartbeat: 3540, MaxFolders: 300, DAVInterval: 30},
		Limits:        Limits{MaxRequestBytes: 32 << 20, MaxConnections: 4096, MaxConnectionsPerAddress: 256, PoisonTries: 3, MemoryLimitMiB: 120},
		Throttle:      Throttle{FailuresBeforeDelay: 3, FailuresBeforeBlock: 10, BlockMinutes: 15},
	}
	if dir, err := os.UserConfigDir(); err == nil {
		c.DataDir = filepath.Join(dir, "easbridge")
	}
	return c
}

// Load reads the file at path over Default, fills per-account defaults and
// validates the result. Keys the file sets that Config does not know are an
// error naming them.
func Load(path string) (Config, error) {
	c := Default()
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return Config{}, fmt.Errorf("config: %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("config: %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	if err := c.expandHome(); err != nil {
		return Config{}, fmt.Errorf("config: %s: %w", path, err)
	}
	for i := range c.Accounts {
		if c.Accounts[i].Login == "" {
			c.Accounts[i].Login = LoginPassthrough
		}
	}
	if errs := c.validate(); len(errs) > 0 {
		return Config{}, fmt.Errorf("config: %s: %w", path, errors.Join(errs...))
	}
	return c, nil
}

// expandHome replaces a leading "~/" in path keys by the home directory.
func (c *Config) expandHome() error {
	for _, p := range []*string{&c.DataDir, &c.LogWBXML} {
		rest, ok := strings.CutPrefix(*p, "~/")
		if !ok && *p != "~" {
			continue
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("expand %q: %w", *p, err)
		}
		*p = filepath.Join(home, rest)
	}
	return nil
}

// FieldError is one invalid key. Validate and Load return them joined
// (errors.Join); use errors.As to reach them.
type FieldError struct {
	// Key is the key's path, e.g. "listen", "ping.max_heartbeat",
	// "account[1].imap" or "account[0].user[2].eas_user".
	Key string
	Err error
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Validate checks every key and returns all problems found, joined.
func (c Config) Validate() error {
	if errs := c.validate(); len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

func (c Config) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Err: fmt.Errorf(format, args...)})
	}

	if err := checkListen(c.Listen); err != nil {
		bad("listen", "%q: %v", c.Listen, err)
	}
	switch c.TLS {
	case TLSAuto:
	case TLSOff:
		if !c.AllowPlainHTTP && c.Listen != "" && !IsLoopbackListen(c.Listen) {
			bad("tls", `"off" on the non-loopback address %q would send phones' passwords in clear text over the network; `+
				`listen on 127.0.0.1 (e.g. behind a TLS reverse proxy), use tls = "auto", `+
				`or set allow_plain_http = true (flag --force-plain-http) to do it anyway`, c.Listen)
		}
	default:
		bad("tls", "%q: must be %q or %q", c.TLS, TLSAuto, TLSOff)
	}
	if c.DataDir == "" {
		bad("data_dir", "not set and the user config directory is unknown")
	}
	if c.Domain != "" && !validDomain(c.Domain) {
		bad("domain", "%q: not a domain name", c.Domain)
	}
	if err := c.Policy.Validate(); err != nil {
		bad("policy", "%v", strings.TrimPrefix(err.Error(), "eas: "))
	}
	c.validateAccess(bad)

	p := c.Ping
	switch {
	case p.MinHeartbeat < 1 || p.MinHeartbeat > 3540:
		bad("ping.min_heartbeat", "%d: must be 1..3540 seconds", p.MinHeartbeat)
	case p.MaxHeartbeat < p.MinHeartbeat || p.MaxHeartbeat > 3540:
		bad("ping.max_heartbeat", "%d: must be min_heartbeat (%d)..3540 seconds", p.MaxHeartbeat, p.MinHeartbeat)
	}
	if p.MaxFolders < 1 {
		bad("ping.max_folders", "%d: must be at least 1", p.MaxFolders)
	}

	if c.Limits.MaxRequestBytes < 64<<10 {
		bad("limits.max_request_bytes", "%d: must be at least 65536", c.Limits.MaxRequestBytes)
	}
	if c.Limits.MemoryLimitMiB < 0 || (c.Limits.MemoryLimitMiB > 0 && c.Limits.MemoryLimitMiB < 32) {
		bad("limits.memory_limit_mib", "%d: must be 0 (no limit) or at least 32", c.Limits.MemoryLimitMiB)
	}
	if c.Limits.MaxConnections < 0 {
		bad("limits.max_connections", "%d: must be 0 (no limit) or more", c.Limits.MaxConnections)
	}
	if c.Limits.MaxConnectionsPerAddress < 0 {
		bad("limits.max_connections_per_address", "%d: must be 0 (no limit) or more", c.Limits.MaxConnectionsPerAddress)
	}
	if c.Limits.PoisonTries < 0 || c.Limits.PoisonTries > 100 {
		bad("limits.poison_tries", "%d: must be 1..100 (0: the default, 3)", c.Limits.PoisonTries)
	}

	t := c.Throttle
	if t.FailuresBeforeDelay < 1 {
		bad("throttle.failures_before_delay", "%d: must be at least 1", t.FailuresBeforeDelay)
	}
	if t.FailuresBeforeBlock < 1 || t.FailuresBeforeBlock < t.FailuresBeforeDelay {
		bad("throttle.failures_before_block", "%d: must be at least 1 and at least failures_before_delay (%d)", t.FailuresBeforeBlock, t.FailuresBeforeDelay)
	}
	if t.BlockMinutes < 1 {
		bad("throttle.block_minutes", "%d: must be at least 1", t.BlockMinutes)
	}

	names := map[string]int{}
	logins := map[string]string{} // "user@domain" of stored users → account key
	for i, a := range c.Accounts {
		key := fmt.Sprintf("account[%d]", i)
		switch {
		case a.Name == "":
			bad(key+".name", "missing")
		case strings.ContainsAny(a.Name, "/\\") || strings.TrimSpace(a.Name) != a.Name:
			bad(key+".name", "%q: must not contain '/' or '\\' or surrounding spaces", a.Name)
		default:
			if j, dup := names[strings.ToLower(a.Name)]; dup {
				bad(key+".name", "%q: already used by account[%d]", a.Name, j)
			}
			names[strings.ToLower(a.Name)] = i
		}
		if a.IMAP == "" && a.DAV == "" {
			bad(key, "needs imap or dav (or both)")
		}
		if a.IMAP != "" {
			if _, err := ParseEndpoint(a.IMAP); err != nil {
				bad(key+".imap", "%v", err)
			} else if !IsIMAPScheme(a.IMAP) {
				bad(key+".imap", "%q: scheme must be imap or imaps", a.IMAP)
			}
		}
		if a.SMTP != "" {
			if _, err := ParseEndpoint(a.SMTP); err != nil {
				bad(key+".smtp", "%v", err)
			} else if !IsSMTPScheme(a.SMTP) {
				bad(key+".smtp", "%q: scheme must be smtp, submission, smtps or submissions", a.SMTP)
			}
			if a.IMAP == "" {
				bad(key+".smtp", "set without imap: mail needs imap")
			}
		}
		if a.DAV != "" {
			if err := checkDAV(a.DAV); err != nil {
				bad(key+".dav", "%v", err)
			}
		}
		if a.GALAddressBook != "" {
			if err := checkDAV(a.GALAddressBook); err != nil {
				bad(key+".gal_addressbook", "%v", err)
			} else if u, _ := url.Parse(a.GALAddressBook); strings.Trim(u.Path, "/") == "" || u.RawQuery != "" {
				bad(key+".gal_addressbook", "%q: must be the URL of an address book collection (a path, no query)", safeURL(a.GALAddressBook))
			}
		}
		switch a.Notes {
		case "", NotesAuto, NotesDAV:
		case NotesIMAP:
			if a.IMAP == "" {
				bad(key+".notes", `"imap" needs imap`)
			}
		default:
			bad(key+".notes", "%q: must be %q, %q or %q", a.Notes, NotesAuto, NotesDAV, NotesIMAP)
		}
		if a.Domain != "" && !validDomain(a.Domain) {
			bad(key+".domain", "%q: not a domain name", a.Domain)
		}
		if err := CheckSieve(a.Sieve); err != nil {
			bad(key+".sieve", "%v", err)
		}
		switch a.Login {
		case "", LoginPassthrough:
			if len(a.Users) > 0 {
				bad(key+".user", `only allowed with login = "stored"`)
			}
		case LoginStored:
			if len(a.Users) == 0 {
				bad(key+".user", `login = "stored" needs at least one [[account.user]]`)
			}
		default:
			bad(key+".login", "%q: must be %q or %q", a.Login, LoginPassthrough, LoginStored)
		}
		if a.Login != LoginStored {
			continue
		}
		seen := map[string]int{}
		for j, u := range a.Users {
			ukey := fmt.Sprintf("%s.user[%d]", key, j)
			if u.EASUser == "" || strings.TrimSpace(u.EASUser) != u.EASUser || strings.ContainsAny(u.EASUser, ":\\") {
				bad(ukey+".eas_user", "%q: must be non-empty, without ':', '\\' or surrounding spaces", u.EASUser)
				continue
			}
			lower := strings.ToLower(u.EASUser)
			if k, dup := seen[lower]; dup {
				bad(ukey+".eas_user", "%q: already used by user[%d]", u.EASUser, k)
			}
			seen[lower] = j
			login := lower
			if !strings.Contains(login, "@") {
				login += "@" + strings.ToLower(a.EffectiveDomain(c.Domain))
			}
			if other, dup := logins[login]; dup && other != key {
				bad(ukey+".eas_user", "%q: login %q is also mapped by %s", u.EASUser, login, other)
			}
			logins[login] = key
			if strings.TrimSpace(u.RemoteUser) != u.RemoteUser {
				bad(ukey+".remote_user", "%q: surrounding spaces", u.RemoteUser)
			}
		}
	}
	return errs
}

// IsLoopbackListen reports whether the listen address addr (host:port, or
// a bare host) accepts only local connections: "localhost" or a loopback
// IP. An empty host (all interfaces) is not loopback.
func IsLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 { // zone
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	// Port 0 asks the system for a free port (tests, quick trials).
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q: must be 0..65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && !validDomain(host) {
		return fmt.Errorf("host %q: not an IP address or host name", host)
	}
	return nil
}

// Endpoint is a parsed IMAP or SMTP server URL.
type Endpoint struct {
	Scheme string // as written, lowercased
	Host   string
	Port   int // from the URL or the scheme's default
	// ImplicitTLS is true for imaps, smtps and submissions; the others use
	// STARTTLS.
	ImplicitTLS bool
}

// Addr is host:port.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

var defaultPorts = map[string]struct {
	port     int
	implicit bool
}{
	"imap":        {143, false},
	"imaps":       {993, true},
	"smtp":        {587, false},
	"submission":  {587, false},
	"smtps":       {465, true},
	"submissions": {465, true},
}

// IsIMAPScheme reports whether raw is an imap:// or imaps:// URL.
func IsIMAPScheme(raw string) bool {
	s, _, _ := strings.Cut(strings.ToLower(raw), "://")
	return s == "imap" || s == "imaps"
}

// IsSMTPScheme reports whether raw is an smtp://, smtps://, submission://
// or submissions:// URL.
func IsSMTPScheme(raw string) bool {
	s, _, _ := strings.Cut(strings.ToLower(raw), "://")
	return s == "smtp" || s == "smtps" || s == "submission" || s == "submissions"
}

// ParseEndpoint parses an IMAP or SMTP URL: scheme://host[:port], with no
// user, path, query or fragment.
func ParseEndpoint(raw string) (Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("%q: %w", safeURL(raw), stripURLErr(err))
	}
	scheme := strings.ToLower(u.Scheme)
	def, ok := defaultPorts[scheme]
	if !ok {
		return Endpoint{}, fmt.Errorf("%q: unknown scheme %q (want imap, imaps, smtp, submission, smtps or submissions)", safeURL(raw), u.Scheme)
	}
	if u.User != nil {
		return Endpoint{}, fmt.Errorf("%q: must not contain a user name or password (credentials belong in the keychain)", safeURL(raw))
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return Endpoint{}, fmt.Errorf("%q: only scheme://host[:port] is allowed", safeURL(raw))
	}
	e := Endpoint{Scheme: scheme, Host: u.Hostname(), Port: def.port, ImplicitTLS: def.implicit}
	if e.Host == "" {
		return Endpoint{}, fmt.Errorf("%q: missing host", safeURL(raw))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Endpoint{}, fmt.Errorf("%q: port %q: must be 1..65535", safeURL(raw), p)
		}
		e.Port = n
	}
	return e, nil
}

func checkDAV(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q: %w", safeURL(raw), stripURLErr(err))
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return fmt.Errorf("%q: scheme must be http or https", safeURL(raw))
	}
	if u.User != nil {
		return fmt.Errorf("%q: must not contain a user name or password (credentials belong in the keychain)", safeURL(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("%q: missing host", safeURL(raw))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %q: must be 1..65535", safeURL(raw), p)
		}
	}
	return nil
}

// safeURL shows raw without the password it may (wrongly) carry, for
// error messages.
func safeURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if i, j := strings.Index(raw, "://"), strings.LastIndexByte(raw, '@'); i >= 0 && j > i {
		return raw[:i+3] + "[redacted]" + raw[j:]
	}
	return raw
}

// stripURLErr drops url.Error's repetition of the URL, which may carry a
// password.
func stripURLErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// validDomain accepts DNS names: dot-separated labels of letters, digits,
// '-' and '_'.
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// CheckSieve checks an account's sieve key: "", SieveOff or
// sieve://host[:port].
func CheckSieve(raw string) error {
	if raw == "" || raw == SieveOff {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q: %v", raw, err)
	}
	if !strings.EqualFold(u.Scheme, "sieve") || u.Hostname() == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: must be sieve://host[:port] or %q", u.Redacted(), SieveOff)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: bad port %q", raw, p)
		}
	}
	return nil
}
