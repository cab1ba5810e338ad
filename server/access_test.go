package server

import (
	"context"
	"net/http/httptest"
	gosync "sync"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// accessHarness is newHarness with access rules and a record of device
// events.
func accessHarness(t *testing.T, rules func(eas.Device) (eas.Access, eas.AccessBy)) (*harness, func() []DeviceEvent) {
	t.Helper()
	h := &harness{t: t, backend: newFakeBackend()}
	var (
		mu     gosync.Mutex
		events []DeviceEvent
	)
	h.srv = New(Options{Backend: h.backend, MaxRequestBytes: 1 << 20, Throttle: ThrottleOptions{MaxDelay: time.Millisecond},
		AccessRules: rules,
		DeviceChanged: func(e DeviceEvent) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		},
	})
	h.http = httptest.NewServer(h.srv)
	t.Cleanup(func() {
		h.http.Close()
		if n := h.srv.panics.Load(); n != 0 {
			t.Errorf("%d handler panics were recovered", n)
		}
	})
	return h, func() []DeviceEvent {
		mu.Lock()
		defer mu.Unlock()
		return append([]DeviceEvent(nil), events...)
	}
}

// commandBodies are minimal requests of each command the access check sees;
// refused commands never look past the root.
var commandBodies = map[string]*wbxml.Element{
	"Provision": wbxml.New(wbxml.NSProvision, "Provision", wbxml.New(wbxml.NSProvision, "Policies",
		wbxml.New(wbxml.NSProvision, "Policy", wbxml.Text(wbxml.NSProvision, "PolicyType", policyType)))),
	"Settings":        wbxml.New(wbxml.NSSettings, "Settings", wbxml.New(wbxml.NSSettings, "UserInformation", wbxml.Empty(wbxml.NSSettings, "Get"))),
	"FolderSync":      folderSyncReq("0"),
	"FolderCreate":    wbxml.New(wbxml.NSFolderHierarchy, "FolderCreate", wbxml.Text(wbxml.NSFolderHierarchy, "SyncKey", "1")),
	"Sync":            nil,
	"Ping":            nil,
	"GetItemEstimate": wbxml.New(wbxml.NSItemEstimate, "GetItemEstimate"),
	"ItemOperations":  wbxml.New(wbxml.NSItemOperations, "ItemOperations"),
	"MoveItems":       wbxml.New(wbxml.NSMove, "MoveItems"),
	"Search":          wbxml.New(wbxml.NSSearch, "Search"),
}

func TestAccessStatusPerCommand(t *testing.T) {
	const (
		allowed = 0 // the command runs: any status but a refusal
	)
	tests := []struct {
		access eas.Access
		want   map[string]eas.Status
	}{
		{eas.AccessBlocked, map[string]eas.Status{
			"Provision": eas.StatusDeviceIsBlockedForThisUser, "Settings": eas.StatusDeviceIsBlockedForThisUser,
			"FolderSync": eas.StatusDeviceIsBlockedForThisUser, "FolderCreate": eas.StatusDeviceIsBlockedForThisUser,
			"Sync": eas.StatusDeviceIsBlockedForThisUser, "Ping": eas.StatusDeviceIsBlockedForThisUser,
			"GetItemEstimate": eas.StatusDeviceIsBlockedForThisUser, "ItemOperations": eas.StatusDeviceIsBlockedForThisUser,
			"MoveItems": eas.StatusDeviceIsBlockedForThisUser, "Search": eas.StatusDeviceIsBlockedForThisUser,
		}},
		{eas.AccessQuarantined, map[string]eas.Status{
			"Provision": allowed, "Settings": allowed, "FolderSync": allowed,
			"FolderCreate": eas.StatusDeviceQuarantined, "Sync": eas.StatusDeviceQuarantined,
			"Ping": eas.StatusDeviceQuarantined, "GetItemEstimate": eas.StatusDeviceQuarantined,
			"ItemOperations": eas.StatusDeviceQuarantined, "MoveItems": eas.StatusDeviceQuarantined,
			"Search": eas.StatusDeviceQuarantined,
		}},
		{eas.AccessAllowed, map[string]eas.Status{
			"Provision": allowed, "Settings": allowed, "FolderSync": allowed, "Sync": allowed,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.access.String(), func(t *testing.T) {
			h := newHarness(t)
			c := h.client("16.1", "acc"+tc.access.String())
			if _, err := c.Provision(context.Background()); err != nil {
				t.Fatal(err)
			}
			h.backend.setDevice(c.DeviceID, func(d *eas.Device) { d.Access, d.AccessBy = tc.access, eas.AccessByAdmin })
			for cmd, want := range tc.want {
				got := h.do(c, cmd, commandBodies[cmd]).Status()
				refused := got == int(eas.StatusDeviceIsBlockedForThisUser) || got == int(eas.StatusDeviceQuarantined)
				switch {
				case want == allowed && refused:
					t.Errorf("%s: refused with %d", cmd, got)
				case want != allowed && got != int(want):
					t.Errorf("%s: status %d, want %d", cmd, got, want)
				}
			}
		})
	}
}

// 12.1 has no status in the command's root for these: HTTP 403.
func TestAccess121Forbidden(t *testing.T) {
	h := newHarness(t)
	c := h.client("12.1", "acc121")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, a := range []eas.Access{eas.AccessBlocked, eas.AccessQuarantined} {
		h.backend.setDevice("acc121", func(d *eas.Device) { d.Access = a })
		r, err := c.Do(context.Background(), "Sync", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.HTTPStatus != 403 {
			t.Errorf("%v: HTTP %d, want 403", a, r.HTTPStatus)
		}
	}
}

// A rule quarantines a new device: it provisions and gets its folders, is
// refused Sync, and is told about once; an approval lets it sync, and the
// rule does not decide for it again.
func TestAccessRuleQuarantinesNewDevice(t *testing.T) {
	rules := func(d eas.Device) (eas.Access, eas.AccessBy) {
		if d.Type == "easbridgeTest" {
			return eas.AccessQuarantined, eas.AccessByRule + " 1"
		}
		return eas.AccessAllowed, eas.AccessByDefault
	}
	h, events := accessHarness(t, rules)
	c := h.client("16.1", "newphone")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, folders, r, err := c.FolderSync(context.Background(), "0"); err != nil || r.Status() != 1 || len(folders) != 3 {
		t.Fatalf("quarantined FolderSync: %v status %d folders %d", err, r.Status(), len(folders))
	}
	if r := h.do(c, "Sync", nil); r.Status() != int(eas.StatusDeviceQuarantined) {
		t.Fatalf("quarantined Sync: status %d", r.Status())
	}
	d := h.backend.device("newphone")
	if d.Access != eas.AccessQuarantined || d.AccessBy != "rule 1" {
		t.Fatalf("stored %v by %q", d.Access, d.AccessBy)
	}
	ev := events()
	if len(ev) != 1 || !ev[0].New || ev[0].After.Access != eas.AccessQuarantined {
		t.Fatalf("events %+v", ev)
	}

	// The administrator approves.
	if _, err := h.backend.UpdateDevice(context.Background(), d.User, d.ID, func(d *eas.Device, _ bool) error {
		d.Access, d.AccessBy = eas.AccessAllowed, eas.AccessByAdmin
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := h.do(c, "Sync", nil); r.Status() == int(eas.StatusDeviceQuarantined) {
		t.Fatal("approved device still quarantined")
	}
	if d := h.backend.device("newphone"); d.Access != eas.AccessAllowed || d.AccessBy != eas.AccessByAdmin {
		t.Fatalf("after approval: %v by %q", d.Access, d.AccessBy)
	}
	if n := len(events()); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
}

// A pending wipe goes before a block; a wiped device is told to wipe again
// and may not sync.
func TestWipeBeforeBlockAndAfterAck(t *testing.T) {
	h := newHarness(t)
	c := h.client("16.1", "lostphone")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.backend.setDevice("lostphone", func(d *eas.Device) { d.Access, d.Wipe = eas.AccessBlocked, eas.WipePending })
	ns := wbxml.NSProvision
	ask := wbxml.New(ns, "Provision", wbxml.New(ns, "Policies", wbxml.New(ns, "Policy", wbxml.Text(ns, "PolicyType", policyType))))
	if r := h.do(c, "Provision", ask); !r.Root.Has(ns, "RemoteWipe") {
		t.Fatalf("blocked device with a pending wipe: %s", wbxml.XMLString(r.Root))
	}
	h.do(c, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, "RemoteWipe", wbxml.Text(ns, "Status", "1"))))
	d := h.backend.device("lostphone")
	if d.Wipe != eas.WipeAcknowledged || d.WipeAcknowledged.IsZero() {
		t.Fatalf("after ack: %v at %v", d.Wipe, d.WipeAcknowledged)
	}
	if r := h.do(c, "Provision", ask); !r.Root.Has(ns, "RemoteWipe") {
		t.Errorf("wiped device provisioning again: %s", wbxml.XMLString(r.Root))
	}
	if r := h.do(c, "Sync", nil); r.Status() != int(eas.StatusAccessDenied) {
		t.Errorf("wiped device Sync: status %d", r.Status())
	}
}

func TestMergeRequest(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	base := eas.Device{User: "u", ID: "d", Type: "Phone", PolicyKey: 7, LastSeen: t0, FirstSeen: t0}
	with := func(f func(*eas.Device)) eas.Device { d := base; f(&d); return d }
	tests := []struct {
		name             string
		found            bool
		loaded, req, cur eas.Device
		want             eas.Device
	}{
		{"new device is stored whole", false, eas.Device{},
			with(func(d *eas.Device) { d.Access, d.AccessBy = eas.AccessQuarantined, "default" }), eas.Device{User: "u", ID: "d"},
			with(func(d *eas.Device) { d.Access, d.AccessBy = eas.AccessQuarantined, "default" })},
		{"a block made meanwhile survives a request", true, base,
			with(func(d *eas.Device) { d.LastCommand = "Sync" }),
			with(func(d *eas.Device) { d.Access, d.AccessBy = eas.AccessBlocked, eas.AccessByAdmin }),
			with(func(d *eas.Device) {
				d.Access, d.AccessBy, d.LastCommand = eas.AccessBlocked, eas.AccessByAdmin, "Sync"
			})},
		{"a wipe asked meanwhile survives a provisioning", true, base,
			with(func(d *eas.Device) { d.PolicyKey = 9 }),
			with(func(d *eas.Device) { d.Wipe, d.WipeRequested = eas.WipePending, t0 }),
			with(func(d *eas.Device) { d.PolicyKey, d.Wipe, d.WipeRequested = 9, eas.WipePending, t0 })},
		{"a wipe acknowledgement is stored", true, with(func(d *eas.Device) { d.Wipe = eas.WipePending }),
			with(func(d *eas.Device) { d.Wipe, d.WipeAcknowledged = eas.WipeAcknowledged, t0 }),
			with(func(d *eas.Device) { d.Wipe = eas.WipePending }),
			with(func(d *eas.Device) { d.Wipe, d.WipeAcknowledged = eas.WipeAcknowledged, t0 })},
		{"an acknowledgement of a wipe cancelled meanwhile is dropped", true, with(func(d *eas.Device) { d.Wipe = eas.WipePending }),
			with(func(d *eas.Device) { d.Wipe, d.WipeAcknowledged = eas.WipeAcknowledged, t0 }),
			base, base},
		{"a rule's decision does not undo an approval made meanwhile", true, base,
			with(func(d *eas.Device) { d.Access, d.AccessBy = eas.AccessQuarantined, "default" }),
			with(func(d *eas.Device) { d.AccessBy = eas.AccessByAdmin }),
			with(func(d *eas.Device) { d.AccessBy = eas.AccessByAdmin })},
		{"device information from Settings is stored", true, base,
			with(func(d *eas.Device) { d.Model, d.OS = "Pixel 8", "Android 15" }), base,
			with(func(d *eas.Device) { d.Model, d.OS = "Pixel 8", "Android 15" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur := tc.cur
			mergeRequest(&cur, tc.found, tc.loaded, tc.req)
			if cur != tc.want {
				t.Errorf("got  %+v\nwant %+v", cur, tc.want)
			}
		})
	}
}
