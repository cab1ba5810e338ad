package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"easbridge/server/eas"
)

const exampleFile = "../../docs/easbridge.example.toml"

func writeTOML(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "easbridge.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.Listen != ":8443" || c.TLS != TLSAuto || c.AllowPlainHTTP || !c.RedactLogs || c.LogWBXML != "" {
		t.Errorf("top-level defaults: %+v", c)
	}
	if c.Policy != eas.DefaultPolicy() {
		t.Error("policy is not eas.DefaultPolicy")
	}
	if c.Ping != (Ping{60, 3540, 300, 30}) || c.Limits != (Limits{MaxRequestBytes: 32 << 20, MaxConnections: 4096, MaxConnectionsPerAddress: 256, PoisonTries: 3, MemoryLimitMiB: 120}) || c.Throttle != (Throttle{3, 10, 15}) {
		t.Errorf("defaults: %+v %+v %+v", c.Ping, c.Limits, c.Throttle)
	}
	if dir, err := os.UserConfigDir(); err == nil && c.DataDir != filepath.Join(dir, "easbridge") {
		t.Errorf("DataDir = %q", c.DataDir)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default invalid: %v", err)
	}
}

func TestLoadExample(t *testing.T) {
	c, err := Load(exampleFile)
	if err != nil {
		t.Fatalf("Load example: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate example: %v", err)
	}
	if len(c.Accounts) != 2 {
		t.Fatalf("accounts: %+v", c.Accounts)
	}
	home, office := c.Accounts[0], c.Accounts[1]
	if home.Login != LoginPassthrough || office.Login != LoginStored || len(office.Users) != 2 {
		t.Errorf("accounts: %+v", c.Accounts)
	}
	if u := office.Users[1]; u.EASUser != "bob" || u.Remote() != "bob" || office.Users[0].Remote() != "alice.smith" {
		t.Errorf("users: %+v", office.Users)
	}
	if home.EffectiveDomain(c.Domain) != "example.org" || office.EffectiveDomain(c.Domain) != "office.example" {
		t.Error("EffectiveDomain")
	}
	if !c.Policy.DevicePasswordEnabled || c.Policy.MinDevicePasswordLength != 6 || c.Policy.AllowSimpleDevicePassword {
		t.Errorf("policy keys not applied: %+v", c.Policy)
	}
	if !c.Policy.AllowCamera || c.Policy.MaxEmailBodyTruncationSize != -1 {
		t.Error("unset policy keys lost their defaults")
	}
	if home, err := os.UserHomeDir(); err == nil && c.DataDir != filepath.Join(home, ".config/easbridge") {
		t.Errorf("~ not expanded: %q", c.DataDir)
	}
	e, err := ParseEndpoint(office.SMTP)
	if err != nil || e.Addr() != "mail.office.example:465" || !e.ImplicitTLS {
		t.Errorf("ParseEndpoint(%q) = %+v, %v", office.SMTP, e, err)
	}
}

// TestDocs keeps docs/CONFIG.md in step with the code: it embeds the
// example file verbatim and documents every key, policy keys with their
// real defaults.
func TestDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```toml\n"+string(example)+"```") {
		t.Error("CONFIG.md does not contain docs/easbridge.example.toml verbatim")
	}
	for _, key := range tomlKeys(reflect.TypeOf(Config{})) {
		if !strings.Contains(string(doc), "| `"+key+"` |") {
			t.Errorf("CONFIG.md: key %q not documented", key)
		}
	}
	def := reflect.ValueOf(eas.DefaultPolicy())
	for i := range def.NumField() {
		key := def.Type().Field(i).Tag.Get("toml")
		row := "| `" + key + "` | "
		at := strings.Index(string(doc), row)
		if at < 0 {
			continue // reported above
		}
		line, _, _ := strings.Cut(string(doc[at:]), "\n")
		cols := strings.Split(line, "|")
		if want := "`" + fmt.Sprint(def.Field(i).Interface()) + "`"; len(cols) < 4 || strings.TrimSpace(cols[3]) != want {
			t.Errorf("CONFIG.md: policy %s default: %q, want %s", key, line, want)
		}
	}
}

// tomlKeys lists the leaf keys of a struct type by their toml tags.
func tomlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			keys = append(keys, tomlKeys(ft)...)
			continue
		}
		keys = append(keys, tag)
	}
	return keys
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		want       []string // substrings of the error
	}{
		{"unknown top-level key", `listne = ":1"`, []string{"unknown keys", "listne"}},
		{"unknown nested keys", "[ping]\nmax_heartbeet = 5\n[[account]]\nname = \"a\"\nimap = \"imap://h\"\npassword = \"x\"", []string{"ping.max_heartbeet", "account.password"}},
		{"unknown policy key", "[policy]\nallow_teleport = true", []string{"policy.allow_teleport"}},
		{"syntax", `listen = `, []string{"easbridge.toml"}},
		{"wrong type", `listen = 8443`, []string{"listen"}},
		{"invalid value", `tls = "on"`, []string{"tls", `"on"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeTOML(t, tt.toml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestLoadDefaultsLogin(t *testing.T) {
	c, err := Load(writeTOML(t, "[[account]]\nname = \"a\"\nimap = \"imaps://h\""))
	if err != nil {
		t.Fatal(err)
	}
	if c.Accounts[0].Login != LoginPassthrough {
		t.Errorf("Login = %q", c.Accounts[0].Login)
	}
}

func valid() Config {
	c := Default()
	c.DataDir = "/tmp/easbridge"
	c.Domain = "example.org"
	c.Accounts = []Account{
		{Name: "home", IMAP: "imaps://imap.example.org", SMTP: "smtp://smtp.example.org", DAV: "https://dav.example.org/"},
		{Name: "office", DAV: "http://dav.office:5232/", Login: LoginStored, Users: []StoredUser{{EASUser: "alice"}, {EASUser: "bob", RemoteUser: "b"}}},
	}
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(c *Config)
		wantKey string // "" = valid
		wantMsg string
	}{
		{"valid", func(c *Config) {}, "", ""},
		{"listen no port", func(c *Config) { c.Listen = "localhost" }, "listen", "missing port"},
		{"listen bad port", func(c *Config) { c.Listen = ":99999" }, "listen", "0..65535"},
		{"listen bad host", func(c *Config) { c.Listen = "bad host!:8443" }, "listen", "host"},
		{"listen ipv6", func(c *Config) { c.Listen = "[::1]:8443" }, "", ""},
		{"tls unknown", func(c *Config) { c.TLS = "yes" }, "tls", `must be "auto" or "off"`},
		{"notes imap", func(c *Config) { c.Accounts[0].Notes = NotesIMAP }, "", ""},
		{"notes dav", func(c *Config) { c.Accounts[1].Notes = NotesDAV }, "", ""},
		{"notes unknown", func(c *Config) { c.Accounts[0].Notes = "sticky" }, "account[0].notes", `must be "auto", "dav" or "imap"`},
		{"notes imap without imap", func(c *Config) { c.Accounts[1].Notes = NotesIMAP }, "account[1].notes", "needs imap"},
		{"tls off non-loopback", func(c *Config) { c.TLS = TLSOff }, "tls", "allow_plain_http"},
		{"tls off names the flag", func(c *Config) { c.TLS = TLSOff; c.Listen = "192.0.2.1:80" }, "tls", "--force-plain-http"},
		{"tls off loopback", func(c *Config) { c.TLS = TLSOff; c.Listen = "127.0.0.1:8080" }, "", ""},
		{"tls off localhost", func(c *Config) { c.TLS = TLSOff; c.Listen = "localhost:8080" }, "", ""},
		{"tls off forced", func(c *Config) { c.TLS = TLSOff; c.AllowPlainHTTP = true }, "", ""},
		{"data_dir empty", func(c *Config) { c.DataDir = "" }, "data_dir", "not set"},
		{"domain bad", func(c *Config) { c.Domain = "bob@example.org" }, "domain", "not a domain"},
		{"policy", func(c *Config) { c.Policy.MinDevicePasswordLength = 17 }, "policy", "min_password_length"},
		{"policy zero", func(c *Config) { c.Policy = eas.Policy{} }, "policy", "min_complex_characters"},
		{"ping min", func(c *Config) { c.Ping.MinHeartbeat = 0 }, "ping.min_heartbeat", "1..3540"},
		{"ping max below min", func(c *Config) { c.Ping.MaxHeartbeat = 30 }, "ping.max_heartbeat", "min_heartbeat"},
		{"ping max above 3540", func(c *Config) { c.Ping.MaxHeartbeat = 3600 }, "ping.max_heartbeat", "3540"},
		{"ping folders", func(c *Config) { c.Ping.MaxFolders = 0 }, "ping.max_folders", "at least 1"},
		{"limits request", func(c *Config) { c.Limits.MaxRequestBytes = 100 }, "limits.max_request_bytes", "65536"},
		{"limits connections", func(c *Config) { c.Limits.MaxConnections = -1 }, "limits.max_connections", "0 (no limit)"},
		{"limits connections per address", func(c *Config) { c.Limits.MaxConnectionsPerAddress = -1 }, "limits.max_connections_per_address", "0 (no limit)"},
		{"limits memory", func(c *Config) { c.Limits.MemoryLimitMiB = 10 }, "limits.memory_limit_mib", "at least 32"},
		{"limits poison tries", func(c *Config) { c.Limits.PoisonTries = -1 }, "limits.poison_tries", "1..100"},
		{"throttle delay", func(c *Config) { c.Throttle.FailuresBeforeDelay = 0 }, "throttle.failures_before_delay", "at least 1"},
		{"throttle block below delay", func(c *Config) { c.Throttle.FailuresBeforeBlock = 2 }, "throttle.failures_before_block", "failures_before_delay"},
		{"throttle minutes", func(c *Config) { c.Throttle.BlockMinutes = 0 }, "throttle.block_minutes", "at least 1"},
		{"account name missing", func(c *Config) { c.Accounts[0].Name = "" }, "account[0].name", "missing"},
		{"account name slash", func(c *Config) { c.Accounts[0].Name = "a/b" }, "account[0].name", "'/'"},
		{"account name duplicate", func(c *Config) { c.Accounts[1].Name = "HOME" }, "account[1].name", "already used by account[0]"},
		{"account no servers", func(c *Config) { c.Accounts[1].DAV = "" }, "account[1]", "needs imap or dav"},
		{"imap scheme", func(c *Config) { c.Accounts[0].IMAP = "pop3://h" }, "account[0].imap", "unknown scheme"},
		{"imap given smtp", func(c *Config) { c.Accounts[0].IMAP = "smtps://h" }, "account[0].imap", "imap or imaps"},
		{"imap no host", func(c *Config) { c.Accounts[0].IMAP = "imaps://" }, "account[0].imap", "missing host"},
		{"imap bad port", func(c *Config) { c.Accounts[0].IMAP = "imaps://h:0" }, "account[0].imap", "1..65535"},
		{"imap path", func(c *Config) { c.Accounts[0].IMAP = "imaps://h/INBOX" }, "account[0].imap", "scheme://host[:port]"},
		{"imap not a url", func(c *Config) { c.Accounts[0].IMAP = "imap.example.org" }, "account[0].imap", "unknown scheme"},
		{"imap credentials", func(c *Config) { c.Accounts[0].IMAP = "imaps://bob:hunter2@h" }, "account[0].imap", "keychain"},
		{"smtp scheme", func(c *Config) { c.Accounts[0].SMTP = "imap://h" }, "account[0].smtp", "smtp, submission"},
		{"smtp submission", func(c *Config) { c.Accounts[0].SMTP = "submissions://h:465" }, "", ""},
		{"sieve url", func(c *Config) { c.Accounts[0].Sieve = "sieve://h:4190" }, "", ""},
		{"sieve off", func(c *Config) { c.Accounts[0].Sieve = SieveOff }, "", ""},
		{"sieve scheme", func(c *Config) { c.Accounts[0].Sieve = "imap://h" }, "account[0].sieve", "sieve://host[:port]"},
		{"sieve credentials", func(c *Config) { c.Accounts[0].Sieve = "sieve://bob:hunter2@h" }, "account[0].sieve", "sieve://host[:port]"},
		{"sieve bad port", func(c *Config) { c.Accounts[0].Sieve = "sieve://h:99999" }, "account[0].sieve", "bad port"},
		{"smtp without imap", func(c *Config) { c.Accounts[0].IMAP = "" }, "account[0].smtp", "needs imap"},
		{"dav scheme", func(c *Config) { c.Accounts[0].DAV = "webdav://h/" }, "account[0].dav", "http or https"},
		{"dav no host", func(c *Config) { c.Accounts[0].DAV = "https:///dav" }, "account[0].dav", "missing host"},
		{"dav credentials", func(c *Config) { c.Accounts[0].DAV = "https://bob:hunter2@h/" }, "account[0].dav", "keychain"},
		{"gal scheme", func(c *Config) { c.Accounts[0].GALAddressBook = "ftp://h/dir/" }, "account[0].gal_addressbook", "http or https"},
		{"gal without a path", func(c *Config) { c.Accounts[0].GALAddressBook = "https://h/" }, "account[0].gal_addressbook", "address book collection"},
		{"account domain", func(c *Config) { c.Accounts[0].Domain = "a b" }, "account[0].domain", "not a domain"},
		{"login unknown", func(c *Config) { c.Accounts[0].Login = "oauth" }, "account[0].login", `"passthrough" or "stored"`},
		{"users with passthrough", func(c *Config) { c.Accounts[0].Users = []StoredUser{{EASUser: "x"}} }, "account[0].user", `login = "stored"`},
		{"stored without users", func(c *Config) { c.Accounts[1].Users = nil }, "account[1].user", "at least one"},
		{"eas_user empty", func(c *Config) { c.Accounts[1].Users[0].EASUser = "" }, "account[1].user[0].eas_user", "non-empty"},
		{"eas_user colon", func(c *Config) { c.Accounts[1].Users[0].EASUser = "a:b" }, "account[1].user[0].eas_user", "':'"},
		{"eas_user duplicate", func(c *Config) { c.Accounts[1].Users[1].EASUser = "Alice" }, "account[1].user[1].eas_user", "already used by user[0]"},
		{"remote_user spaces", func(c *Config) { c.Accounts[1].Users[0].RemoteUser = " a" }, "account[1].user[0].remote_user", "spaces"},
		{"same login in two accounts", func(c *Config) {
			c.Accounts = append(c.Accounts, Account{Name: "x", DAV: "https://x/", Login: LoginStored, Users: []StoredUser{{EASUser: "alice@example.org"}}})
		}, "account[2].user[0].eas_user", "also mapped by account[1]"},
		{"same user other domain", func(c *Config) {
			c.Accounts = append(c.Accounts, Account{Name: "x", DAV: "https://x/", Domain: "other.org", Login: LoginStored, Users: []StoredUser{{EASUser: "alice"}}})
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(&c)
			err := c.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %s", tt.wantKey)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("%v: not a FieldError", err)
			}
			if fe.Key != tt.wantKey || !strings.Contains(fe.Error(), tt.wantMsg) {
				t.Errorf("got %q, want key %q containing %q", fe, tt.wantKey, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password: %v", err)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := valid()
	c.TLS = "x"
	c.Ping.MaxFolders = 0
	c.Accounts[0].IMAP = "ftp://h"
	err := c.Validate()
	for _, k := range []string{"tls:", "ping.max_folders:", "account[0].imap:"} {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("error %v lacks %s", err, k)
		}
	}
}

func TestIsLoopbackListen(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8443", true},
		{"127.1.2.3:80", true},
		{"[::1]:8443", true},
		{"localhost:8443", true},
		{"LOCALHOST:1", true},
		{"localhost", true},
		{"::1", true},
		{":8443", false},
		{"0.0.0.0:8443", false},
		{"[::]:8443", false},
		{"192.168.1.5:8443", false},
		{"example.org:443", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsLoopbackListen(tt.addr); got != tt.want {
			t.Errorf("IsLoopbackListen(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		raw      string
		addr     string
		implicit bool
	}{
		{"imap://h", "h:143", false},
		{"imaps://h", "h:993", true},
		{"IMAPS://H:1993", "H:1993", true},
		{"smtp://h", "h:587", false},
		{"submission://h", "h:587", false},
		{"smtps://h", "h:465", true},
		{"submissions://h:4650", "h:4650", true},
		{"imaps://[2001:db8::1]/", "[2001:db8::1]:993", true},
	}
	for _, tt := range tests {
		e, err := ParseEndpoint(tt.raw)
		if err != nil || e.Addr() != tt.addr || e.ImplicitTLS != tt.implicit {
			t.Errorf("ParseEndpoint(%q) = %+v, %v; want %s implicit=%v", tt.raw, e, err, tt.addr, tt.implicit)
		}
	}
}
