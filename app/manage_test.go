package app_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// startDemo starts easbridge with the demo account, TLS off, on loopback.
func startDemo(t *testing.T, dataDir string) *app.Runtime {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = dataDir
	rt, err := app.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// provisioned is a demo client that provisioned and synced its folders.
func provisioned(t *testing.T, rt *app.Runtime, device string) *easclient.Client {
	t.Helper()
	c := easclient.New("http://"+rt.Addr(), rt.Demo.User, rt.Demo.Password, device)
	c.Version = "16.1"
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, r, err := c.FolderSync(context.Background(), "0"); err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync: %v status %d", err, r.Status())
	}
	return c
}

func device(t *testing.T, rt *app.Runtime, id string) (eas.Device, bool) {
	t.Helper()
	devs, err := rt.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.ID == id {
			return d, true
		}
	}
	return eas.Device{}, false
}

func TestManageDevices(t *testing.T) {
	ctx := context.Background()
	rt := startDemo(t, t.TempDir())
	c := provisioned(t, rt, "managephone1")
	provisioned(t, rt, "managephone2")
	d, ok := device(t, rt, "managephone1")
	if !ok {
		t.Fatal("device not listed")
	}

	// Block: the next request answers 129; allow again: it syncs.
	if err := rt.SetAccess(ctx, d.User, d.ID, eas.AccessBlocked); err != nil {
		t.Fatal(err)
	}
	if d, _ := device(t, rt, "managephone1"); d.Access != eas.AccessBlocked {
		t.Fatalf("access = %v", d.Access)
	}
	if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != int(eas.StatusDeviceIsBlockedForThisUser) {
		t.Errorf("blocked FolderSync: HTTP %d status %d", r.HTTPStatus, r.Status())
	}
	if err := rt.SetAccess(ctx, d.User, d.ID, eas.AccessAllowed); err != nil {
		t.Fatal(err)
	}
	if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != 1 {
		t.Errorf("allowed FolderSync: HTTP %d status %d", r.HTTPStatus, r.Status())
	}

	// Wipe: the next FolderSync answers 140.
	if err := rt.RequestWipe(ctx, d.User, d.ID, false); err != nil {
		t.Fatal(err)
	}
	if d, _ := device(t, rt, "managephone1"); d.Wipe != eas.WipePending {
		t.Fatalf("wipe = %v", d.Wipe)
	}
	if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != int(eas.StatusRemoteWipeRequested) {
		t.Errorf("FolderSync after wipe: HTTP %d status %d", r.HTTPStatus, r.Status())
	}
	if err := rt.RequestWipe(ctx, d.User, "managephone2", true); err != nil {
		t.Fatal(err)
	}
	if d, _ := device(t, rt, "managephone2"); d.Wipe != eas.WipeAccountPending {
		t.Fatalf("account-only wipe = %v", d.Wipe)
	}

	// Forget: gone from the list; unknown devices are an error for the rest.
	if err := rt.ForgetDevice(ctx, d.User, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := device(t, rt, "managephone1"); ok {
		t.Error("forgotten device still listed")
	}
	if err := rt.SetAccess(ctx, d.User, "nosuchphone", eas.AccessBlocked); err == nil {
		t.Error("SetAccess on an unknown device succeeded")
	}
	if err := rt.SetAccess(ctx, d.User, "managephone2", eas.Access(9)); err == nil {
		t.Error("unknown access state accepted")
	}
}

func TestManagePolicy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rt := startDemo(t, dir)
	c := provisioned(t, rt, "policyphone")

	p := rt.Policy()
	if p != eas.DefaultPolicy() {
		t.Fatalf("initial policy %+v", p)
	}
	bad := p
	bad.MinDevicePasswordLength = 40
	if err := rt.SetPolicy(bad); err == nil || !strings.Contains(err.Error(), "min_password_length") {
		t.Fatalf("invalid policy: %v", err)
	}
	p.DevicePasswordEnabled, p.MinDevicePasswordLength, p.AllowCamera = true, 6, false
	if err := rt.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	// The device provisioned under the old policy must provision again.
	if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != int(eas.StatusPolicyRefresh) {
		t.Fatalf("FolderSync after SetPolicy: HTTP %d status %d", r.HTTPStatus, r.Status())
	}
	doc, err := c.Provision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns := wbxml.NSProvision
	if doc.ChildText(ns, "MinDevicePasswordLength") != "6" || doc.ChildText(ns, "AllowCamera") != "0" {
		t.Errorf("new policy document: %s", wbxml.XMLString(doc))
	}
	if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != 1 {
		t.Errorf("FolderSync after provisioning again: status %d", r.Status())
	}

	// It survives a restart.
	if _, err := os.Stat(filepath.Join(dir, app.PolicyFile)); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rt2 := startDemo(t, dir)
	if got := rt2.Policy(); got != p {
		t.Errorf("after restart: %+v, want %+v", got, p)
	}
	// A broken file stops Start with a clear error.
	os.WriteFile(filepath.Join(dir, app.PolicyFile), []byte("min_password_length = 99\n"), 0o600)
	rt2.Close(ctx)
	cfg := config.Default()
	cfg.Listen, cfg.TLS, cfg.DataDir = "127.0.0.1:0", config.TLSOff, dir
	if rt3, err := app.Start(ctx, cfg, nil); err == nil {
		rt3.Close(ctx)
		t.Error("Start accepted an invalid policy file")
	}
}

func TestManagePauseAndRedact(t *testing.T) {
	ctx := context.Background()
	rt := startDemo(t, t.TempDir())
	c := provisioned(t, rt, "pausephone")

	rt.SetPaused(true)
	if !rt.Paused() {
		t.Fatal("not paused")
	}
	_, _, r, _ := c.FolderSync(ctx, "0")
	if r == nil || r.HTTPStatus != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Fatalf("paused FolderSync: %+v", r)
	}
	if r, _ := c.Options(ctx); r.HTTPStatus != http.StatusServiceUnavailable {
		t.Errorf("paused OPTIONS: HTTP %d", r.HTTPStatus)
	}
	// The setup page still answers.
	res, err := http.Get("http://" + rt.Addr() + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("paused /setup: HTTP %d", res.StatusCode)
	}
	rt.SetPaused(false)
	if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != 1 {
		t.Errorf("resumed FolderSync: HTTP %d status %d", r.HTTPStatus, r.Status())
	}

	if !rt.Redact() {
		t.Fatal("redaction off by default")
	}
	rt.SetRedact(false)
	if rt.Redact() {
		t.Fatal("SetRedact(false) ignored")
	}
}

func TestTestAccount(t *testing.T) {
	ctx := context.Background()
	rt := startDemo(t, t.TempDir())
	accs := rt.Accounts()
	if len(accs) != 1 || accs[0].Name != "demo" || accs[0].IMAP == "" || accs[0].SMTP == "" || accs[0].DAV == "" {
		t.Fatalf("accounts %+v", accs)
	}
	a := accs[0]

	res := rt.TestAccount(ctx, a, rt.Demo.User, rt.Demo.Password)
	if len(res) != 3 {
		t.Fatalf("%d results: %+v", len(res), res)
	}
	for i, kind := range []string{"IMAP ", "SMTP ", "DAV "} {
		if !res[i].OK || !strings.HasPrefix(res[i].Server, kind) || res[i].Message != "logged in" {
			t.Errorf("right password: %s (ok=%v)", res[i], res[i].OK)
		}
	}

	res = rt.TestAccount(ctx, a, rt.Demo.User, "wrong")
	for _, r := range res {
		if r.OK || r.Message != "wrong user name or password" {
			t.Errorf("wrong password: %s (ok=%v)", r, r.OK)
		}
	}
	if want := "IMAP " + a.IMAP + ": wrong user name or password"; res[0].String() != want {
		t.Errorf("line %q, want %q", res[0], want)
	}

	// A closed port: connection refused, for each protocol.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	res = rt.TestAccount(ctx, config.Account{IMAP: "imap://" + closed, SMTP: "smtp://" + closed, DAV: "http://" + closed + "/"}, "u", "p")
	for _, r := range res {
		if r.OK || r.Message != "connection refused" {
			t.Errorf("closed port: %s", r)
		}
	}
	// No IMAP server: said so.
	res = rt.TestAccount(ctx, config.Account{}, "u", "p")
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].Message, "required") {
		t.Errorf("no IMAP: %+v", res)
	}
}
