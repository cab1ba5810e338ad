package app_test

import (
	"context"
	"testing"
	"time"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// newWorldWith is newWorld with the configuration changed before start.
func newWorldWith(t *testing.T, change func(*config.Config)) *world {
	t.Helper()
	w := newWorld(t)
	if err := w.rt.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	change(&w.cfg)
	w.start()
	return w
}

func inboxOf(t *testing.T, folders []easclient.Folder) string {
	t.Helper()
	for _, f := range folders {
		if f.Type == int(eas.FolderInbox) {
			return f.ServerID
		}
	}
	t.Fatalf("no Inbox in %+v", folders)
	return ""
}

// Default quarantine and a block rule, through the EAS endpoint in front of
// Dovecot and Radicale: a new phone provisions and gets its folders, Sync
// is refused until it is approved (and the approval is announced as a
// device event first); a phone of a blocked type gets 129 on everything.
func TestQuarantineApproveAndBlockRule(t *testing.T) {
	w := newWorldWith(t, func(c *config.Config) {
		c.DefaultAccess = config.AccessQuarantine
		c.AccessRules = []config.AccessRule{{Name: "no test rigs", DeviceType: "RigPhone*", Action: config.AccessBlock}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := w.rt.DeviceEvents(ctx, 8)

	c := w.client("16.1", "quarphone1")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatalf("quarantined device cannot provision: %v", err)
	}
	select {
	case e := <-events:
		if e.Kind != app.DeviceWaiting || e.Device.ID != "quarphone1" || e.Device.Access != eas.AccessQuarantined {
			t.Fatalf("event %+v", e)
		}
	case <-ctx.Done():
		t.Fatal("no device event for the quarantined phone")
	}
	_, folders, r, err := c.FolderSync(ctx, "0")
	if err != nil || r.Status() != 1 || len(folders) == 0 {
		t.Fatalf("quarantined FolderSync: %v status %d, %d folders", err, r.Status(), len(folders))
	}
	inbox := inboxOf(t, folders)
	r, err = c.Sync(ctx, []*wbxml.Element{easclient.SyncCollection("0", inbox)})
	if err != nil || r.Status() != int(eas.StatusDeviceQuarantined) {
		t.Fatalf("quarantined Sync: %v status %d, want %d", err, r.Status(), eas.StatusDeviceQuarantined)
	}
	d, err := w.rt.Admin().Find(ctx, "", "quarphone1")
	if err != nil || d.Access != eas.AccessQuarantined || d.AccessBy != eas.AccessByDefault {
		t.Fatalf("stored: %+v, %v", d, err)
	}

	// One click in the window: approve.
	if err := w.rt.SetAccess(ctx, d.User, d.ID, eas.AccessAllowed); err != nil {
		t.Fatal(err)
	}
	r, err = c.Sync(ctx, []*wbxml.Element{easclient.SyncCollection("0", inbox)})
	if err != nil || r.Status() != 0 {
		t.Fatalf("approved Sync: %v root status %d", err, r.Status())
	}
	if res := easclient.SyncResults(r.Root); len(res) != 1 || res[0].Status != "1" || res[0].SyncKey == "" {
		t.Fatalf("approved Sync: %+v", res)
	}
	if d, _ := w.rt.Admin().Find(ctx, "", "quarphone1"); d.Access != eas.AccessAllowed || d.AccessBy != eas.AccessByAdmin {
		t.Errorf("after approval and a request: %v by %q", d.Access, d.AccessBy)
	}

	// A rig phone: blocked by the rule, on every command.
	rig := w.client("16.1", "rigphone1")
	rig.DeviceType = "RigPhone7"
	for _, cmd := range []string{"Provision", "FolderSync", "Sync"} {
		var body *wbxml.Element
		switch cmd {
		case "Provision":
			ns := wbxml.NSProvision
			body = wbxml.New(ns, "Provision", wbxml.New(ns, "Policies", wbxml.New(ns, "Policy", wbxml.Text(ns, "PolicyType", "MS-EAS-Provisioning-WBXML"))))
		case "FolderSync":
			body = wbxml.New(wbxml.NSFolderHierarchy, "FolderSync", wbxml.Text(wbxml.NSFolderHierarchy, "SyncKey", "0"))
		}
		r, err := rig.Do(ctx, cmd, body)
		if err != nil || r.Status() != int(eas.StatusDeviceIsBlockedForThisUser) {
			t.Errorf("blocked %s: %v status %d, want 129", cmd, err, r.Status())
		}
	}
	if d, _ := w.rt.Admin().Find(ctx, "", "rigphone1"); d.Access != eas.AccessBlocked || d.AccessBy != "rule no test rigs" {
		t.Errorf("rig phone stored %v by %q", d.Access, d.AccessBy)
	}
}

// Remote wipe from the window's action through the endpoint, then a
// policy set for one device and one account: the phone is told 143 and
// provisions again with the new values.
func TestWipeAndPolicyLevelsAgainstRealServers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ns := wbxml.NSProvision
	policyReq := wbxml.New(ns, "Provision", wbxml.New(ns, "Policies", wbxml.New(ns, "Policy", wbxml.Text(ns, "PolicyType", "MS-EAS-Provisioning-WBXML"))))

	// Wipe: pending → 140 → RemoteWipe → acknowledged → no more sync.
	c := w.client("16.1", "lostphone1")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.rt.RequestWipe(ctx, "alice@example.test", "lostphone1", false); err != nil {
		t.Fatal(err)
	}
	if d, _ := w.rt.Admin().Find(ctx, "", "lostphone1"); d.Wipe != eas.WipePending || d.WipeRequested.IsZero() {
		t.Fatalf("after the request: %v at %v", d.Wipe, d.WipeRequested)
	}
	if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != int(eas.StatusRemoteWipeRequested) {
		t.Fatalf("pending wipe: FolderSync status %d", r.Status())
	}
	if r, err := c.Do(ctx, "Provision", policyReq); err != nil || !r.Root.Has(ns, "RemoteWipe") {
		t.Fatalf("Provision without RemoteWipe: %v", err)
	}
	if _, err := c.Do(ctx, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, "RemoteWipe", wbxml.Text(ns, "Status", "1")))); err != nil {
		t.Fatal(err)
	}
	d, _ := w.rt.Admin().Find(ctx, "", "lostphone1")
	if d.Wipe != eas.WipeAcknowledged || d.WipeAcknowledged.Before(d.WipeRequested) {
		t.Fatalf("after the ack: %v requested %v acknowledged %v", d.Wipe, d.WipeRequested, d.WipeAcknowledged)
	}
	if r, _ := c.Sync(ctx, []*wbxml.Element{easclient.SyncCollection("0", "1")}); r.Status() != int(eas.StatusAccessDenied) {
		t.Errorf("wiped device Sync: status %d", r.Status())
	}
	if r, err := c.Do(ctx, "Provision", policyReq); err != nil || !r.Root.Has(ns, "RemoteWipe") {
		t.Errorf("wiped device provisioning again is not told to wipe: %v", err)
	}
	// Forgotten, it is a new device.
	if err := w.rt.ForgetDevice(ctx, d.User, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Provision(ctx); err != nil {
		t.Fatalf("forgotten device cannot provision: %v", err)
	}
	if _, _, r, err := c.FolderSync(ctx, "0"); err != nil || r.Status() != 1 {
		t.Fatalf("forgotten device FolderSync: %v status %d", err, r.Status())
	}

	// Policy levels: device, then account.
	p := w.client("16.1", "policyphone1")
	if _, err := p.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, r, _ := p.FolderSync(ctx, "0"); r.Status() != 1 {
		t.Fatalf("FolderSync: status %d", r.Status())
	}
	if err := w.rt.SetDevicePolicy(ctx, "alice@example.test", "policyphone1", eas.PolicyOverride{
		"device_password_enabled": true, "min_password_length": 8,
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, r, _ := p.FolderSync(ctx, "0"); r.Status() != int(eas.StatusPolicyRefresh) {
		t.Fatalf("after a device policy change: FolderSync status %d, want 143", r.Status())
	}
	doc, err := p.Provision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if doc.ChildText(ns, "DevicePasswordEnabled") != "1" || doc.ChildText(ns, "MinDevicePasswordLength") != "8" || doc.ChildText(ns, "AllowCamera") != "1" {
		t.Errorf("device policy not sent: %s", wbxml.XMLString(doc))
	}
	if _, _, r, _ := p.FolderSync(ctx, "0"); r.Status() != 1 {
		t.Fatalf("after provisioning again: status %d", r.Status())
	}
	// Another device of the account is untouched by the device level.
	if _, _, r, _ := c.FolderSync(ctx, "0"); r.Status() != 1 {
		t.Errorf("other device: status %d", r.Status())
	}
	if err := w.rt.SetAccountPolicy(ctx, "alice@example.test", eas.PolicyOverride{"allow_camera": false}); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*easclient.Client{p, c} {
		if _, _, r, _ := cl.FolderSync(ctx, "0"); r.Status() != int(eas.StatusPolicyRefresh) {
			t.Errorf("%s after an account policy change: status %d, want 143", cl.DeviceID, r.Status())
		}
		doc, err := cl.Provision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if doc.ChildText(ns, "AllowCamera") != "0" {
			t.Errorf("%s: account policy not sent: %s", cl.DeviceID, wbxml.XMLString(doc))
		}
		wantLen := map[string]string{"policyphone1": "8", "lostphone1": ""}[cl.DeviceID]
		if got := doc.ChildText(ns, "MinDevicePasswordLength"); got != wantLen {
			t.Errorf("%s: MinDevicePasswordLength %q, want %q", cl.DeviceID, got, wantLen)
		}
	}
	l, err := w.rt.PolicyLayers(ctx, "alice@example.test", "policyphone1")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"min_password_length": "device", "allow_camera": "account", "allow_wifi": "global"} {
		if got := l.Source(name); got != want {
			t.Errorf("source of %s: %s, want %s", name, got, want)
		}
	}
	// An invalid override is refused whole.
	if err := w.rt.SetDevicePolicy(ctx, "alice@example.test", "policyphone1", eas.PolicyOverride{"min_password_length": 40}); err == nil {
		t.Error("min_password_length 40 accepted")
	}
}
