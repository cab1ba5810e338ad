package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// DovecotOptions configures StartDovecot.
type DovecotOptions struct {
	// Users are the accounts to create; empty means DefaultUsers().
	Users []User
	// ExtraConfig is appended verbatim to the generated dovecot.conf, for
	// tests that need more settings (a later setting overrides an earlier
	// one).
	ExtraConfig string
}

// Dovecot is a running Dovecot instance serving IMAP, SMTP submission
// (relaying to Sink) and ManageSieve on 127.0.0.1, without TLS and with
// plaintext authentication allowed.
//
// Mailboxes: INBOX plus Drafts, Sent, Trash, Junk and Archive, which carry
// the matching SPECIAL-USE attributes and are created and subscribed on first
// login. The hierarchy separator is "/". Users may log in as "alice" or as
// "alice@example.test".
type Dovecot struct {
	IMAPAddr       string    // "127.0.0.1:port", plain IMAP
	SubmissionAddr string    // "127.0.0.1:port", SMTP submission, AUTH PLAIN/LOGIN
	SieveAddr      string    // "127.0.0.1:port", ManageSieve
	Sink           *SMTPSink // receives everything submission relays
	Dir            string    // everything of this instance lives here
	ConfigPath     string    // Dir/dovecot.conf
	LogPath        string    // Dir/dovecot.log
	Users          []User

	bin      string
	instance string // instance_name: every process title contains it
	mailID   identity
	extra    string

	mu      sync.Mutex
	proc    *process // nil while stopped
	stopErr error    // what went wrong in any stop, reported at cleanup
}

// dovecotBinary finds the dovecot master binary and checks that the packages
// for the protocols the rig serves are installed.
func dovecotBinary() (string, error) {
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		// /usr/sbin is often missing from non-root PATHs.
		if _, statErr := os.Stat("/usr/sbin/dovecot"); statErr != nil {
			return "", fmt.Errorf("dovecot not found (%w); run `make test`, it installs dovecot", err)
		}
		bin = "/usr/sbin/dovecot"
	}
	for pkg, file := range map[string]string{
		"dovecot-imapd":        "/usr/lib/dovecot/imap",
		"dovecot-submissiond":  "/usr/lib/dovecot/submission",
		"dovecot-managesieved": "/usr/lib/dovecot/managesieve",
		"dovecot-sieve":        "/usr/lib/dovecot/modules/lib90_sieve_plugin.so",
	} {
		if _, err := os.Stat(file); err != nil {
			return "", fmt.Errorf("%s missing (package %s): %w; run `make test`, it installs dovecot", file, pkg, err)
		}
	}
	return bin, nil
}

// StartDovecot starts a Dovecot instance with its own configuration, data
// and runtime directories and an SMTPSink for submission to relay to. It
// fails the test (it never skips) when Dovecot is not installed. t.Cleanup
// stops it, checks that no process is left and removes its directory.
func StartDovecot(t testing.TB, opts DovecotOptions) *Dovecot {
	t.Helper()
	bin, err := dovecotBinary()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	users, err := checkUsers(opts.Users)
	if err != nil {
		t.Fatalf("testenv: dovecot users: %v", err)
	}
	mailID, err := mailIdentity()
	if err != nil {
		t.Fatalf("testenv: dovecot mail user: %v", err)
	}
	dir, err := makeRigDir("easbridge-dovecot-*-rig")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("testenv: remove dovecot directory: %v", err)
		}
	})
	sink, err := NewSMTPSink(nil)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := sink.Close(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	d := &Dovecot{
		Sink:       sink,
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "dovecot.conf"),
		LogPath:    filepath.Join(dir, "dovecot.log"),
		Users:      users,
		bin:        bin,
		instance:   filepath.Base(dir),
		mailID:     mailID,
		extra:      opts.ExtraConfig,
	}
	t.Cleanup(func() {
		d.stop()
		if err := d.stopErrors(); err != nil {
			t.Errorf("testenv: stop dovecot: %v", err)
		}
		if t.Failed() {
			t.Logf("testenv: dovecot log tail (%s):\n%s", d.LogPath, d.logTail())
		}
	})
	if err := d.prepare(); err != nil {
		t.Fatalf("testenv: prepare dovecot: %v", err)
	}
	if err := d.start(true); err != nil {
		t.Fatalf("testenv: start dovecot: %v (log tail follows at cleanup)", err)
	}
	return d
}

// prepare writes the files that stay the same across restarts.
func (d *Dovecot) prepare() error {
	var passwd strings.Builder
	for _, u := range d.Users {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s::::::\n", u.Name, u.Password)
	}
	if err := os.WriteFile(filepath.Join(d.Dir, "passwd"), []byte(passwd.String()), 0o644); err != nil {
		return fmt.Errorf("write passwd-file: %w", err)
	}
	home := filepath.Join(d.Dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		return fmt.Errorf("create home root: %w", err)
	}
	if err := os.Chown(home, d.mailID.UID, d.mailID.GID); err != nil {
		return fmt.Errorf("hand home root to %s: %w", d.mailID.User, err)
	}
	return nil
}

// start writes the configuration and starts the master, picking new ports
// when newPorts is set and retrying when a port turns out to be taken.
func (d *Dovecot) start(newPorts bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil {
		return errors.New("already running")
	}
	var err error
	for attempt := range startAttempts {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		if newPorts || d.IMAPAddr == "" {
			ports, perr := freePorts(3)
			if perr != nil {
				return perr
			}
			d.IMAPAddr, d.SubmissionAddr, d.SieveAddr = loopback(ports[0]), loopback(ports[1]), loopback(ports[2])
		}
		var p *process
		p, err = d.startOnce()
		if err == nil {
			d.proc = p
			return nil
		}
		if !errors.Is(err, errAddrInUse) {
			return err
		}
	}
	return fmt.Errorf("after %d attempts: %w", startAttempts, err)
}

func (d *Dovecot) startOnce() (*process, error) {
	conf, err := d.config()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(d.ConfigPath, conf, 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	stderrPath := filepath.Join(d.Dir, "master.log")
	logOff, stderrOff := fileSize(d.LogPath), fileSize(stderrPath)
	p, err := startProcess([]string{d.bin, "-F", "-c", d.ConfigPath},
		[]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}, d.Dir, stderrPath)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	err = waitReady(ctx, p, []probe{
		{"IMAP", d.IMAPAddr, imapGreeting},
		{"submission", d.SubmissionAddr, smtpGreeting},
		{"ManageSieve", d.SieveAddr, sieveGreeting},
	})
	if err == nil {
		return p, nil
	}
	if stopErr := p.stop(stopGrace); stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	const inUse = "Address already in use"
	if strings.Contains(readFrom(d.LogPath, logOff), inUse) || strings.Contains(readFrom(stderrPath, stderrOff), inUse) {
		return nil, fmt.Errorf("%w: %w", errAddrInUse, err)
	}
	return nil, err
}

// Stop stops Dovecot and waits until all of its processes have exited. It is
// idempotent; Restart starts it again.
func (d *Dovecot) Stop() {
	_ = d.stop()
}

func (d *Dovecot) stop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		return nil
	}
	err := d.proc.stop(stopGrace)
	d.proc = nil
	if left, ferr := d.Processes(); ferr != nil {
		err = errors.Join(err, ferr)
	} else if len(left) > 0 {
		err = errors.Join(err, fmt.Errorf("processes left after stop: %v", left))
	}
	if err != nil {
		d.stopErr = errors.Join(d.stopErr, err)
	}
	return err
}

// stopErrors returns the errors of all stops so far.
func (d *Dovecot) stopErrors() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopErr
}

// Restart stops Dovecot (if running) and starts it again on the same ports
// with the same data. Connections open before are cut; the Sink keeps its
// messages.
func (d *Dovecot) Restart(t testing.TB) {
	t.Helper()
	if err := d.stop(); err != nil {
		t.Fatalf("testenv: restart dovecot: stop: %v", err)
	}
	if err := d.start(false); err != nil {
		t.Fatalf("testenv: restart dovecot: %v (log tail follows at cleanup)", err)
	}
}

// Processes returns the live processes of this instance (they all carry the
// instance name, the base name of Dir, in their titles).
func (d *Dovecot) Processes() ([]Proc, error) {
	return FindProcesses(d.instance)
}

// User returns the account named name ("alice" or "alice@example.test").
func (d *Dovecot) User(t testing.TB, name string) User {
	t.Helper()
	u, err := findUser(d.Users, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Dial returns a go-imap client logged in as user; it is closed at cleanup.
func (d *Dovecot) Dial(t testing.TB, user string) *imapclient.Client {
	t.Helper()
	return d.DialWithOptions(t, user, nil)
}

// DialWithOptions is Dial with client options, e.g. a UnilateralDataHandler
// for IDLE tests.
func (d *Dovecot) DialWithOptions(t testing.TB, user string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := d.login(user, opts)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (d *Dovecot) login(user string, opts *imapclient.Options) (*imapclient.Client, error) {
	u, err := findUser(d.Users, user)
	if err != nil {
		return nil, err
	}
	c, err := imapclient.DialInsecure(d.IMAPAddr, opts)
	if err != nil {
		return nil, fmt.Errorf("dial IMAP %s: %w", d.IMAPAddr, err)
	}
	if err := c.Login(u.Name, u.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("IMAP login as %s: %w", u.Name, err)
	}
	return c, nil
}

// withClient runs f with a short-lived client logged in as user.
func (d *Dovecot) withClient(user string, f func(*imapclient.Client) error) error {
	c, err := d.login(user, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := f(c); err != nil {
		return err
	}
	if err := c.Logout().Wait(); err != nil {
		return fmt.Errorf("IMAP logout: %w", err)
	}
	return nil
}

// Append stores rfc822 in mailbox of user with the given flags and returns
// its UID.
func (d *Dovecot) Append(t testing.TB, user, mailbox string, rfc822 []byte, flags ...imap.Flag) imap.UID {
	t.Helper()
	var uid imap.UID
	err := d.withClient(user, func(c *imapclient.Client) error {
		cmd := c.Append(mailbox, int64(len(rfc822)), &imap.AppendOptions{Flags: flags})
		if _, err := cmd.Write(rfc822); err != nil {
			cmd.Close()
			return fmt.Errorf("write message: %w", err)
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("finish APPEND: %w", err)
		}
		data, err := cmd.Wait()
		if err != nil {
			return err
		}
		if data.UID == 0 {
			return errors.New("server returned no APPENDUID")
		}
		uid = data.UID
		return nil
	})
	if err != nil {
		t.Fatalf("testenv: append to %s of %s: %v", mailbox, user, err)
	}
	return uid
}

// CreateMailbox creates (and subscribes) mailbox name for user; "/" separates
// hierarchy levels.
func (d *Dovecot) CreateMailbox(t testing.TB, user, name string) {
	t.Helper()
	err := d.withClient(user, func(c *imapclient.Client) error {
		if err := c.Create(name, nil).Wait(); err != nil {
			return err
		}
		return c.Subscribe(name).Wait()
	})
	if err != nil {
		t.Fatalf("testenv: create mailbox %s of %s: %v", name, user, err)
	}
}

// Submit sends msg from the envelope sender from to the recipients to
// through the submission service, authenticated (AUTH PLAIN) as user.
// Dovecot relays it to Sink.
func (d *Dovecot) Submit(t testing.TB, user, from string, to []string, msg []byte) {
	t.Helper()
	if err := d.submit(user, from, to, msg); err != nil {
		t.Fatalf("testenv: submit as %s: %v", user, err)
	}
}

func (d *Dovecot) submit(user, from string, to []string, msg []byte) error {
	u, err := findUser(d.Users, user)
	if err != nil {
		return err
	}
	// smtp.SendMail insists on STARTTLS before AUTH; the rig has no TLS.
	c, err := smtp.Dial(d.SubmissionAddr)
	if err != nil {
		return fmt.Errorf("dial submission %s: %w", d.SubmissionAddr, err)
	}
	defer c.Close()
	if err := c.Hello("client." + Domain); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", u.Name, u.Password)); err != nil {
		return fmt.Errorf("AUTH PLAIN: %w", err)
	}
	if err := c.SendMail(from, to, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("QUIT: %w", err)
	}
	return nil
}

// Capabilities returns the IMAP capabilities advertised after login, sorted
// (e.g. "CONDSTORE", "IDLE", "NOTIFY", "QRESYNC", "SPECIAL-USE").
func (d *Dovecot) Capabilities(t testing.TB) []string {
	t.Helper()
	var caps []string
	err := d.withClient(d.Users[0].Name, func(c *imapclient.Client) error {
		set := c.Caps()
		if set == nil {
			return errors.New("no CAPABILITY response")
		}
		for c := range set {
			caps = append(caps, string(c))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testenv: capabilities: %v", err)
	}
	slices.Sort(caps)
	return caps
}

func (d *Dovecot) logTail() string {
	return tailFile(d.LogPath, 40) + "\n--- master stderr:\n" + tailFile(filepath.Join(d.Dir, "master.log"), 10)
}

// dovecotConf is the whole configuration; nothing is read from /etc/dovecot.
const dovecotConf = `# Generated by easbridge/sync/testenv for one test; see package doc.
instance_name = {{.Instance}}
base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
log_path = {{.Dir}}/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S "
verbose_proctitle = yes

protocols = imap submission sieve
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
login_trusted_networks = 127.0.0.0/8
hostname = mail.{{.Domain}}
postmaster_address = postmaster@{{.Domain}}

default_internal_user = {{.InternalUser}}
default_internal_group = {{.InternalGroup}}
default_login_user = {{.LoginUser}}
default_process_limit = 200
default_client_limit = 2000
first_valid_uid = 1
first_valid_gid = 1
mail_uid = {{.MailUID}}
mail_gid = {{.MailGID}}

auth_mechanisms = plain login
auth_username_format = %Ln
auth_failure_delay = 0
auth_verbose = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {{.Dir}}/passwd
}
userdb {
  driver = static
  args = home={{.Dir}}/home/%n allow_all_users=yes
}

# mailbox_list_index is also what makes Dovecot 2.3 advertise NOTIFY.
mail_location = maildir:~/Maildir:LAYOUT=fs
mailbox_list_index = yes
mailbox_idle_check_interval = 1 secs
mail_max_userip_connections = 200
namespace inbox {
  inbox = yes
  separator = /
  prefix =
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \Archive
    auto = subscribe
  }
}

submission_relay_host = 127.0.0.1
submission_relay_port = {{.SinkPort}}
submission_relay_trusted = yes
submission_relay_ssl = no

plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}

# Failed logins must not slow down later ones from 127.0.0.1 (auth penalty).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = {{.IMAPPort}}
  }
  inet_listener imaps {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    address = 127.0.0.1
    port = {{.SubmissionPort}}
  }
}
service managesieve-login {
  inet_listener sieve {
    address = 127.0.0.1
    port = {{.SievePort}}
  }
}
{{- if .NonRoot}}

# Not root: no chroot and every service runs as the invoking user.
service imap-login {
  chroot =
}
service submission-login {
  chroot =
}
service managesieve-login {
  chroot =
}
service anvil {
  chroot =
}
service auth-worker {
  user = $default_internal_user
}
{{- end}}
{{- if .Extra}}

# DovecotOptions.ExtraConfig
{{.Extra}}
{{- end}}
`

func (d *Dovecot) config() ([]byte, error) {
	tmpl, err := template.New("dovecot.conf").Parse(dovecotConf)
	if err != nil {
		return nil, fmt.Errorf("parse config template: %w", err)
	}
	port := func(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }
	nonRoot := os.Geteuid() != 0
	internalUser, internalGroup, loginUser := "dovecot", "dovecot", "dovenull"
	if nonRoot {
		internalUser, internalGroup, loginUser = d.mailID.User, d.mailID.Group, d.mailID.User
	} else {
		for _, name := range []string{internalUser, loginUser} {
			if _, err := lookupIdentity(name); err != nil {
				return nil, fmt.Errorf("%w; run `make test`, it installs dovecot (whose package creates this user)", err)
			}
		}
	}
	var b strings.Builder
	err = tmpl.Execute(&b, map[string]any{
		"Instance":       d.instance,
		"Dir":            d.Dir,
		"Domain":         Domain,
		"InternalUser":   internalUser,
		"InternalGroup":  internalGroup,
		"LoginUser":      loginUser,
		"MailUID":        d.mailID.UID,
		"MailGID":        d.mailID.GID,
		"IMAPPort":       port(d.IMAPAddr),
		"SubmissionPort": port(d.SubmissionAddr),
		"SievePort":      port(d.SieveAddr),
		"SinkPort":       port(d.Sink.Addr),
		"NonRoot":        nonRoot,
		"Extra":          d.extra,
	})
	if err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return []byte(b.String()), nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// readFrom returns the content of the file at path from offset off on.
func readFrom(path string, off int64) string {
	b, err := os.ReadFile(path)
	if err != nil || off > int64(len(b)) {
		return ""
	}
	return string(b[off:])
}
