package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"easbridge/app/atomicfile"
	"easbridge/app/config"
	"easbridge/server/eas"
	"easbridge/sync/davsource"
	"easbridge/sync/imapsource"
)

// This file holds the actions the desktop UI calls on a running easbridge,
// so that the UI holds no SQL and no protocol code.

// PolicyFile is the name, in the data directory, of the policy saved from
// the UI. When present it replaces the configuration's [policy] at Start.
const PolicyFile = "policy.toml"

// PausedRetryAfter is the Retry-After (seconds) of the 503 answers sent
// while sync is paused.
const PausedRetryAfter = 300

// manageState is the part of the Runtime the UI changes at run time.
type manageState struct {
	mu     gosync.Mutex
	policy eas.Policy
	paused bool
	redact bool
}

// initManage sets the run-time settings from cfg and the saved policy file.
func (r *Runtime) initManage() error {
	p := r.cfg.Policy
	path := filepath.Join(r.cfg.DataDir, PolicyFile)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("app: policy: %w", err)
	default:
		if err := toml.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("app: policy: %s: %w", path, err)
		}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("app: policy: %s: %w", path, err)
		}
	}
	r.manage.mu.Lock()
	r.manage.policy = p
	r.manage.redact = r.cfg.RedactLogs
	r.manage.mu.Unlock()
	return nil
}

// Admin is the device actions over this runtime's store (access.go).
func (r *Runtime) Admin() DeviceAdmin {
	return DeviceAdmin{Store: r.Store, Global: r.Policy, Log: r.log}
}

// Devices lists the devices the server knows, most recently seen first.
func (r *Runtime) Devices(ctx context.Context) ([]eas.Device, error) {
	return r.Admin().Devices(ctx)
}

// SetAccess allows, blocks or quarantines a device (DeviceAdmin.SetAccess).
func (r *Runtime) SetAccess(ctx context.Context, user, id string, a eas.Access) error {
	return r.Admin().SetAccess(ctx, user, id, a)
}

// RequestWipe asks the device to wipe itself, or with accountOnly to
// remove the account (DeviceAdmin.RequestWipe).
func (r *Runtime) RequestWipe(ctx context.Context, user, id string, accountOnly bool) error {
	return r.Admin().RequestWipe(ctx, user, id, accountOnly)
}

// ForgetDevice deletes a device and its sync state (DeviceAdmin.Forget).
func (r *Runtime) ForgetDevice(ctx context.Context, user, id string) error {
	return r.Admin().Forget(ctx, user, id)
}

// Resync makes a device sync one folder, or with folder "" everything,
// from scratch (DeviceAdmin.Resync).
func (r *Runtime) Resync(ctx context.Context, user, id, folder string) error {
	return r.Admin().Resync(ctx, user, id, folder)
}

// Policy is the device policy currently sent to provisioning devices.
func (r *Runtime) Policy() eas.Policy {
	r.manage.mu.Lock()
	defer r.manage.mu.Unlock()
	return r.manage.policy
}

// SetPolicy validates p, saves it to PolicyFile in the data directory and
// makes it current: every device provisioned under another policy gets
// status 143 on its next command and provisions again.
func (r *Runtime) SetPolicy(p eas.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("# Device policy saved by the easbridge window; it replaces [policy] of the configuration.\n")
	if err := toml.NewEncoder(&buf).Encode(p); err != nil {
		return fmt.Errorf("app: policy: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(r.cfg.DataDir, PolicyFile), buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("app: save policy: %w", err)
	}
	r.manage.mu.Lock()
	r.manage.policy = p
	r.manage.mu.Unlock()
	r.log.Info("easbridge: device policy changed", "hash", p.Hash())
	return nil
}

// SetPaused pauses or resumes sync: while paused every EAS request is
// answered 503 with a Retry-After, the pairing pages still work.
func (r *Runtime) SetPaused(p bool) {
	r.manage.mu.Lock()
	changed := r.manage.paused != p
	r.manage.paused = p
	r.manage.mu.Unlock()
	r.log.Info("easbridge: sync paused", "paused", p)
	// A paused bridge is not offered on the LAN (issue: withdrawn on quit
	// or pause).
	if changed && r.mdnsWant {
		if p {
			r.withdraw()
		} else {
			r.advertise(r.log)
		}
	}
}

// Paused reports whether sync is paused.
func (r *Runtime) Paused() bool {
	r.manage.mu.Lock()
	defer r.manage.mu.Unlock()
	return r.manage.paused
}

// SetRedact turns cutting message bodies out of the exchange log on or off
// (credentials are always removed); it applies to exchanges from now on.
func (r *Runtime) SetRedact(on bool) {
	r.manage.mu.Lock()
	r.manage.redact = on
	r.manage.mu.Unlock()
}

// Redact reports whether logged bodies are cut.
func (r *Runtime) Redact() bool {
	r.manage.mu.Lock()
	defer r.manage.mu.Unlock()
	return r.manage.redact
}

// pauseGate answers 503 + Retry-After instead of h while sync is paused.
func (r *Runtime) pauseGate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.Paused() {
			w.Header().Set("Retry-After", strconv.Itoa(PausedRetryAfter))
			http.Error(w, "easbridge: sync is paused", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// Accounts are the configured accounts; while the demo account is served,
// it alone, with its local servers.
func (r *Runtime) Accounts() []config.Account {
	if d := r.servedDemo(); d != nil {
		return []config.Account{{
			Name: "demo", IMAP: d.IMAPURL, SMTP: d.SMTPURL, DAV: d.DAVURL,
			Domain: "demo.easbridge", Login: config.LoginPassthrough,
		}}
	}
	r.accts.mu.Lock()
	defer r.accts.mu.Unlock()
	return slices.Clone(r.accts.list)
}

// CheckResult is the outcome of logging in to one server.
type CheckResult struct {
	Server  string // "IMAP imaps://mail.example.com"
	OK      bool
	Message string // "logged in", "wrong user name or password", …
}

func (c CheckResult) String() string { return c.Server + ": " + c.Message }

// checkTimeout bounds each login of TestAccount.
const checkTimeout = 15 * time.Second

// TestAccount logs in to the IMAP server of a and to its SMTP and DAV
// servers when set, all at once, and says for each what failed. Results
// are in that order.
func (r *Runtime) TestAccount(ctx context.Context, a config.Account, user, password string) []CheckResult {
	return TestAccount(ctx, a, user, password)
}

// TestAccount is Runtime.TestAccount; it needs no running server.
func TestAccount(ctx context.Context, a config.Account, user, password string) []CheckResult {
	type check struct {
		kind, url string
		run       func(context.Context) error
	}
	var checks []check
	if strings.TrimSpace(a.IMAP) == "" {
		checks = append(checks, check{"IMAP", "", func(context.Context) error { return errors.New("no server given (required)") }})
	} else {
		checks = append(checks, check{"IMAP", a.IMAP, func(ctx context.Context) error { return checkIMAP(ctx, a, user, password) }})
	}
	if strings.TrimSpace(a.SMTP) != "" {
		checks = append(checks, check{"SMTP", a.SMTP, func(ctx context.Context) error { return checkSMTP(ctx, a, user, password) }})
	}
	if strings.TrimSpace(a.DAV) != "" {
		checks = append(checks, check{"DAV", a.DAV, func(ctx context.Context) error { return checkDAV(ctx, a, user, password) }})
	}
	out := make([]CheckResult, len(checks))
	var wg gosync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			err := c.run(cctx)
			res := CheckResult{Server: strings.TrimSpace(c.kind + " " + strings.TrimSpace(c.url)), OK: err == nil, Message: "logged in"}
			if err != nil {
				res.Message = describe(err)
			}
			out[i] = res
		})
	}
	wg.Wait()
	return out
}

func checkIMAP(ctx context.Context, a config.Account, user, password string) error {
	cfg, err := imapsource.ParseURL(a.IMAP)
	if err != nil {
		return err
	}
	if a.InsecureSkipVerify {
		cfg.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	cfg.DialTimeout, cfg.MaxConns = checkTimeout, 1
	acc := imapsource.NewAccount(cfg, user, password, nil)
	defer acc.Close()
	return acc.Login(ctx)
}

func checkDAV(ctx context.Context, a config.Account, user, password string) error {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if a.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	defer tr.CloseIdleConnections()
	acc := davsource.NewAccount(davsource.Config{URL: a.DAV, HTTPClient: &http.Client{Transport: tr, Timeout: checkTimeout}}, user, password, nil)
	defer acc.Close()
	return acc.Login(ctx)
}

var errNoSTARTTLS = errors.New("server offers no STARTTLS (refusing to send the password in clear text)")

// checkSMTP connects as smtpsend does (implicit TLS, or STARTTLS required
// except on loopback) and authenticates, sending no mail.
func checkSMTP(ctx context.Context, a config.Account, user, password string) error {
	u, err := url.Parse(strings.TrimSpace(a.SMTP))
	if err != nil {
		return err
	}
	implicit := false
	port := "587"
	switch strings.ToLower(u.Scheme) {
	case "smtp", "submission":
	case "smtps", "submissions":
		implicit, port = true, "465"
	default:
		return fmt.Errorf("scheme must be smtp, submission or smtps")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("no host in the URL")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	addr := net.JoinHostPort(host, port)
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: a.InsecureSkipVerify}
	ip := net.ParseIP(host)
	loopback := strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())

	dial := func() (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			conn.SetDeadline(dl)
		}
		context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	conn, err := dial()
	if err != nil {
		return err
	}
	var c *smtp.Client
	switch {
	case implicit:
		c = smtp.NewClient(tls.Client(conn, tc))
	default:
		c, err = smtp.NewClientStartTLS(conn, tc)
		if err != nil && strings.Contains(err.Error(), "support STARTTLS") {
			if !loopback {
				return errNoSTARTTLS
			}
			if conn, err = dial(); err != nil {
				return err
			}
			c = smtp.NewClient(conn)
		} else if err != nil {
			return err
		}
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if user == "" {
		return c.Quit()
	}
	if ok, _ := c.Extension("AUTH"); !ok {
		return errors.New("server offers no AUTH: cannot check the password")
	}
	var cl sasl.Client
	switch {
	case c.SupportsAuth(sasl.Plain):
		cl = sasl.NewPlainClient("", user, password)
	case c.SupportsAuth(sasl.Login):
		cl = sasl.NewLoginClient(user, password)
	default:
		_, mechs := c.Extension("AUTH")
		return fmt.Errorf("server offers neither AUTH PLAIN nor LOGIN (offers %s)", mechs)
	}
	if err := c.Auth(cl); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && (se.Code == 535 || se.EnhancedCode == smtp.EnhancedCode{5, 7, 8}) {
			return fmt.Errorf("%w: %w", eas.ErrAuthFailed, err)
		}
		return err
	}
	return c.Quit()
}

// describe says in a few words why a login failed.
func describe(err error) string {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		recErr  tls.RecordHeaderError
		netErr  net.Error
	)
	switch {
	case errors.Is(err, eas.ErrAuthFailed):
		return "wrong user name or password"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dnsErr):
		return "host not found (" + dnsErr.Name + ")"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "no answer (timed out)"
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &certErr):
		return "TLS certificate not trusted: " + err.Error()
	case errors.As(err, &recErr):
		return "the server does not speak TLS on this port (try the other scheme or port)"
	case errors.Is(err, errNoSTARTTLS):
		return errNoSTARTTLS.Error()
	}
	return err.Error()
}
