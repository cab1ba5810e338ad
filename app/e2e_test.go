package app_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/app/secrets"
	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/engine"
	"easbridge/sync/testenv"
)

// world is easbridge in front of a real Dovecot and Radicale, on loopback.
type world struct {
	t       *testing.T
	dovecot *testenv.Dovecot
	dav     *testenv.Radicale
	cfg     config.Config
	rt      *app.Runtime
	seed    testenv.DAVSeed
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t}
	w.dovecot = testenv.StartDovecot(t, testenv.DovecotOptions{})
	w.dav = testenv.StartRadicale(t, testenv.RadicaleOptions{})
	w.seed = w.dav.SeedDefault(t, "alice")
	w.dovecot.CreateMailbox(t, "alice", "Projects")
	w.dovecot.CreateMailbox(t, "alice", "Projects/2026")
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	cfg.Domain = testenv.Domain
	cfg.Accounts = []config.Account{{
		Name: "test", IMAP: "imap://" + w.dovecot.IMAPAddr, SMTP: "smtp://" + w.dovecot.SubmissionAddr,
		DAV: w.dav.URL, Login: config.LoginPassthrough,
	}}
	w.cfg = cfg
	w.start()
	return w
}

func (w *world) start() {
	w.t.Helper()
	rt, err := app.Start(context.Background(), w.cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		w.t.Fatal(err)
	}
	w.rt = rt
	w.t.Cleanup(func() { rt.Close(context.Background()) })
}

func (w *world) restart() {
	w.t.Helper()
	if err := w.rt.Close(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.cfg.Listen = w.rt.Addr() // same port, as a phone expects
	w.start()
}

func (w *world) client(version, device string) *easclient.Client {
	c := easclient.New("http://"+w.rt.Addr(), "alice", "alicepw", device)
	c.Version = version
	return c
}

func TestEndpointAgainstDovecotAndRadicale(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.client("16.1", "e2ephone1")

	r, err := c.Options(ctx)
	if err != nil || r.HTTPStatus != 200 || !strings.Contains(r.Header.Get("MS-ASProtocolCommands"), "FolderSync") {
		t.Fatalf("OPTIONS: %v %+v", err, r)
	}
	// Not provisioned yet.
	_, _, r, err = c.FolderSync(ctx, "0")
	if err != nil || r.Status() != int(eas.StatusDeviceNotProvisioned) {
		t.Fatalf("FolderSync before Provision: %v status %d", err, r.Status())
	}
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	key, folders, r, err := c.FolderSync(ctx, "0")
	if err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync: %v status %d", err, r.Status())
	}
	got := map[string]easclient.Folder{}
	for _, f := range folders {
		got[f.DisplayName] = f
	}
	want := map[string]int{
		"Inbox": 2, "Drafts": 3, "Trash": 4, "Sent": 5, "Outbox": 6, "Junk": 12, "Archive": 12,
		"Projects": 12, "2026": 12,
	}
	for name, typ := range want {
		if f, ok := got[name]; !ok || f.Type != typ {
			t.Errorf("folder %s: %+v (want type %d)", name, f, typ)
		}
	}
	if got["2026"].ParentID != got["Projects"].ServerID {
		t.Errorf("nested folder parent %q, want %q", got["2026"].ParentID, got["Projects"].ServerID)
	}
	types := map[int]int{}
	for _, f := range folders {
		types[f.Type]++
	}
	// Radicale: calendar (8), work (13), tasks (7), notes (10), contacts (9), office (14).
	for typ, n := range map[int]int{8: 1, 13: 1, 7: 1, 10: 1, 9: 1, 14: 1} {
		if types[typ] != n {
			t.Errorf("%d folders of type %d, want %d (folders: %+v)", types[typ], typ, n, folders)
		}
	}

	// No change: nothing, same key.
	key2, ch, r, _ := c.FolderSync(ctx, key)
	if r.Status() != 1 || key2 != key || len(ch) != 0 {
		t.Fatalf("second FolderSync: status %d key %s changes %+v", r.Status(), key2, ch)
	}
	// A mailbox created by another IMAP client shows up as an Add.
	w.dovecot.CreateMailbox(t, "alice", "Receipts")
	key3, ch, r, _ := c.FolderSync(ctx, key)
	if r.Status() != 1 || key3 == key || len(ch) != 1 || ch[0].Change != "Add" || ch[0].DisplayName != "Receipts" {
		t.Fatalf("after IMAP CREATE: status %d key %s changes %+v", r.Status(), key3, ch)
	}
	// Unknown key: status 9.
	if _, _, r, _ := c.FolderSync(ctx, "4711"); r.Status() != int(eas.FolderStatusInvalidSyncKey) {
		t.Errorf("unknown key: status %d", r.Status())
	}

	// FolderCreate reaches Dovecot.
	ns := wbxml.NSFolderHierarchy
	r, err = c.Do(ctx, "FolderCreate", wbxml.New(ns, "FolderCreate", wbxml.Text(ns, "SyncKey", key3),
		wbxml.Text(ns, "ParentId", got["Projects"].ServerID), wbxml.Text(ns, "DisplayName", "Garden"), wbxml.Int(ns, "Type", 12)))
	if err != nil || r.Status() != 1 {
		t.Fatalf("FolderCreate: %v %s", err, wbxml.XMLString(r.Root))
	}
	key4 := r.Root.ChildText(ns, "SyncKey")
	if !imapHas(t, w.dovecot, "Projects/Garden") {
		t.Error("FolderCreate did not create Projects/Garden in Dovecot")
	}
	// A calendar created on the phone becomes a Radicale collection.
	r, err = c.Do(ctx, "FolderCreate", wbxml.New(ns, "FolderCreate", wbxml.Text(ns, "SyncKey", key4),
		wbxml.Text(ns, "ParentId", "0"), wbxml.Text(ns, "DisplayName", "Holidays"), wbxml.Int(ns, "Type", 13)))
	if err != nil || r.Status() != 1 {
		t.Fatalf("FolderCreate calendar: %v %s", err, wbxml.XMLString(r.Root))
	}
	key5 := r.Root.ChildText(ns, "SyncKey")
	// Renaming Inbox is refused with status 3.
	r, _ = c.Do(ctx, "FolderUpdate", wbxml.New(ns, "FolderUpdate", wbxml.Text(ns, "SyncKey", key5),
		wbxml.Text(ns, "ServerId", got["Inbox"].ServerID), wbxml.Text(ns, "ParentId", "0"), wbxml.Text(ns, "DisplayName", "Mail")))
	if r.Status() != int(eas.FolderStatusSpecialFolder) {
		t.Errorf("rename Inbox: status %d", r.Status())
	}
	// Nothing of our own operations comes back as a change.
	if _, ch, r, _ := c.FolderSync(ctx, key5); r.Status() != 1 || len(ch) != 0 {
		t.Errorf("FolderSync after own operations: %+v", ch)
	}

	// Bad credentials: 401; bad WBXML: 400.
	bad := w.client("16.1", "e2ephone1")
	bad.Password = "wrong"
	start := time.Now()
	if r, _ := bad.Options(ctx); r.HTTPStatus != 401 {
		t.Errorf("bad password: HTTP %d", r.HTTPStatus)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a wrong password took %v to answer", d)
	}
	if r, _ := c.DoRaw(ctx, "FolderSync", []byte{3, 1, 106, 0, 0x7f, 0x7f}, nil); r.HTTPStatus != 400 {
		t.Errorf("bad WBXML: HTTP %d", r.HTTPStatus)
	}

	// State survives a restart: same key, same ServerIds.
	w.restart()
	c2 := w.client("16.1", "e2ephone1")
	c2.PolicyKey = c.PolicyKey
	if _, ch, r, err := c2.FolderSync(ctx, key5); err != nil || r.Status() != 1 || len(ch) != 0 {
		t.Fatalf("after restart: %v status %d changes %+v", err, r.Status(), ch)
	}
}

func imapHas(t *testing.T, d *testenv.Dovecot, name string) bool {
	cl := d.Dial(t, "alice")
	defer cl.Close()
	list, err := cl.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Mailbox == name {
			return true
		}
	}
	return false
}

func TestWipeFlowsAgainstRealServers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ns := wbxml.NSProvision
	policyReq := wbxml.New(ns, "Provision", wbxml.New(ns, "Policies", wbxml.New(ns, "Policy", wbxml.Text(ns, "PolicyType", "MS-EAS-Provisioning-WBXML"))))
	for _, tc := range []struct {
		device  string
		pending eas.Wipe
		elem    string
		acked   eas.Wipe
	}{
		{"wipephone1", eas.WipePending, "RemoteWipe", eas.WipeAcknowledged},
		{"wipephone2", eas.WipeAccountPending, "AccountOnlyRemoteWipe", eas.WipeAccountAcknowledged},
	} {
		c := w.client("16.1", tc.device)
		if _, err := c.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		d, err := w.rt.Store.Device(ctx, "alice@example.test", tc.device)
		if err != nil {
			t.Fatal(err)
		}
		d.Wipe = tc.pending
		if err := w.rt.Store.PutDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != int(eas.StatusRemoteWipeRequested) {
			t.Errorf("%s: FolderSync status %d, want 140", tc.device, r.Status())
		}
		r, err := c.Do(ctx, "Provision", policyReq)
		if err != nil || !r.Root.Has(ns, tc.elem) {
			t.Fatalf("%s: Provision did not carry %s: %v", tc.device, tc.elem, err)
		}
		if _, err := c.Do(ctx, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, tc.elem, wbxml.Text(ns, "Status", "1")))); err != nil {
			t.Fatal(err)
		}
		d, _ = w.rt.Store.Device(ctx, "alice@example.test", tc.device)
		if d.Wipe != tc.acked {
			t.Errorf("%s: wipe state %v, want %v", tc.device, d.Wipe, tc.acked)
		}
		if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != int(eas.StatusAccessDenied) {
			t.Errorf("%s: wiped device synced: status %d", tc.device, r.Status())
		}
	}
}

func TestDemoAccount(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	rt, err := app.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	st := rt.Status(context.Background())
	if !st.Demo || st.DemoUser == "" || st.DemoPass == "" {
		t.Fatalf("status %+v", st)
	}
	c := easclient.New("http://"+rt.Addr(), st.DemoUser, st.DemoPass, "demophone1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, folders, r, err := c.FolderSync(context.Background(), "0")
	if err != nil || r.Status() != 1 {
		t.Fatalf("demo FolderSync: %v", err)
	}
	var names []string
	types := map[int]bool{}
	for _, f := range folders {
		names = append(names, f.DisplayName)
		types[f.Type] = true
	}
	sort.Strings(names)
	for _, typ := range []int{2, 3, 4, 5, 6, 7, 8, 9, 10} {
		if !types[typ] {
			t.Errorf("demo account lacks a folder of type %d: %v", typ, names)
		}
	}
	// The exchanges are on the log bus, redacted.
	recent := rt.Bus.Recent(10)
	if len(recent) < 3 {
		t.Fatalf("%d exchanges on the bus", len(recent))
	}
	for _, e := range recent {
		if strings.Contains(e.RequestHeaders.Get("Authorization"), "Basic ") && e.RequestHeaders.Get("Authorization") != "Basic [redacted]" {
			t.Errorf("Authorization not redacted: %q", e.RequestHeaders.Get("Authorization"))
		}
		if strings.Contains(e.RequestXML+e.ResponseXML, st.DemoPass) {
			t.Error("demo password in the exchange log")
		}
	}
}

func TestTLSAutoAndPlainHTTPRefused(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	rt, err := app.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	if rt.Scheme() != "https" || rt.Cert == nil || rt.Status(context.Background()).Fingerprint == "" {
		t.Fatal("TLS is not on by default")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "tls")); err != nil {
		t.Errorf("no certificate directory: %v", err)
	}
	c := easclient.New("https://"+rt.Addr(), "x", "y", "tlsphone").Insecure()
	if r, err := c.Options(context.Background()); err != nil || r.HTTPStatus != http.StatusUnauthorized {
		t.Errorf("HTTPS OPTIONS without valid login: %v", err)
	}

	plain := config.Default()
	plain.Listen = "0.0.0.0:0"
	plain.TLS = config.TLSOff
	plain.DataDir = t.TempDir()
	if _, err := app.Start(context.Background(), plain, nil); err == nil {
		t.Fatal("plain HTTP on all interfaces was accepted without allow_plain_http")
	} else if !strings.Contains(err.Error(), "plain") {
		t.Errorf("unclear error: %v", err)
	}
	var fe interface{ Unwrap() error }
	_ = errors.As(err, &fe)
}

func TestStoredLogin(t *testing.T) {
	dc := testenv.StartDovecot(t, testenv.DovecotOptions{})
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	cfg.Accounts = []config.Account{{
		Name: "home", IMAP: "imap://" + dc.IMAPAddr, Domain: testenv.Domain, Login: config.LoginStored,
		Users: []config.StoredUser{{EASUser: "phone", RemoteUser: "alice"}},
	}}
	// What `easbridge user set-password` does.
	sec, err := secrets.Open(cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := engine.HashLocalPassword("local-secret")
	if err := sec.Set(engine.SecretName("home", "phone", "eas"), hash); err != nil {
		t.Fatal(err)
	}
	if err := sec.Set(engine.SecretName("home", "phone", "remote"), "alicepw"); err != nil {
		t.Fatal(err)
	}
	rt, err := app.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	ctx := context.Background()
	for _, tc := range []struct {
		user, pw string
		want     int
	}{
		{"phone", "local-secret", 200},
		{`HOME\phone`, "local-secret", 200},
		{"phone", "alicepw", 401}, // the remote password is not the local one
		{"alice", "alicepw", 401}, // only mapped logins exist
		{"phone", "", 401},
	} {
		c := easclient.New("http://"+rt.Addr(), tc.user, tc.pw, "storedphone")
		if r, err := c.Options(ctx); err != nil || r.HTTPStatus != tc.want {
			t.Errorf("%s/%q: HTTP %d, want %d (%v)", tc.user, tc.pw, r.HTTPStatus, tc.want, err)
		}
	}
	c := easclient.New("http://"+rt.Addr(), "phone", "local-secret", "storedphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if _, fs, r, err := c.FolderSync(ctx, "0"); err != nil || r.Status() != 1 || len(fs) < 5 {
		t.Fatalf("stored login FolderSync: %v %d folders", err, len(fs))
	}
	// Nothing secret in the state database.
	db, err := os.ReadFile(filepath.Join(cfg.DataDir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(filepath.Join(cfg.DataDir, "state.db-wal")); err == nil {
		db = append(db, wal...)
	}
	for _, s := range []string{"alicepw", "local-secret"} {
		if strings.Contains(string(db), s) {
			t.Errorf("%q found in state.db", s)
		}
	}
}
