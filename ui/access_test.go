package ui

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/server/eas"
)

// levelSource is fakeSource with policy levels, device events and resync,
// as app.Runtime has them.
type levelSource struct {
	*fakeSource
	account map[string]eas.PolicyOverride // by user
	device  map[string]eas.PolicyOverride // by user/id
	events  chan app.DeviceEvent
}

func newLevelSource(st app.Status) *levelSource {
	return &levelSource{fakeSource: newFakeSource(st), account: map[string]eas.PolicyOverride{},
		device: map[string]eas.PolicyOverride{}, events: make(chan app.DeviceEvent, 4)}
}

func (s *levelSource) PolicyLayers(_ context.Context, user, id string) (app.PolicyLayers, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := app.PolicyLayers{Global: s.policy, User: s.account[user]}
	if id != "" {
		l.Device = s.device[user+"/"+id]
	}
	return l, nil
}

func (s *levelSource) SetAccountPolicy(_ context.Context, user string, o eas.PolicyOverride) error {
	s.record("account policy " + user + " " + strings.Join(o.Names(), ","))
	s.mu.Lock()
	s.account[user] = o
	s.mu.Unlock()
	return nil
}

func (s *levelSource) SetDevicePolicy(_ context.Context, user, id string, o eas.PolicyOverride) error {
	s.record("device policy " + id + " " + strings.Join(o.Names(), ","))
	s.mu.Lock()
	s.device[user+"/"+id] = o
	s.mu.Unlock()
	return nil
}

func (s *levelSource) Resync(_ context.Context, user, id, folder string) error {
	s.record("resync " + id)
	return nil
}

func (s *levelSource) DeviceEvents(ctx context.Context, buf int) <-chan app.DeviceEvent {
	return s.events
}

var (
	_ PolicyLevels      = (*levelSource)(nil)
	_ Resyncer          = (*levelSource)(nil)
	_ DeviceEventSource = (*levelSource)(nil)
	// The runtime has them all.
	_ PolicyLevels      = runtimeSource{}
	_ Resyncer          = runtimeSource{}
	_ DeviceEventSource = runtimeSource{}
)

func waitingStatus() app.Status {
	st := demoStatus()
	st.Devices = append(st.Devices,
		eas.Device{User: "alice@example.com", ID: "IPHONE2", Type: "iPhone", Model: "iPhone 15", OS: "iOS 18.3",
			ProtocolVersion: "16.1", Access: eas.AccessQuarantined, AccessBy: eas.AccessByDefault, LastSeen: seen.Add(-2 * 60e9)},
		eas.Device{User: "alice@example.com", ID: "TABLET7", Type: "Android", Model: "Tab S9", OS: "Android 14",
			ProtocolVersion: "16.1", Access: eas.AccessBlocked, AccessBy: "rule no tablets", LastSeen: seen.Add(-30 * 60e9)},
	)
	return st
}

// shot writes the window to name.png: with -update into docs/screenshots
// (for the README), else into $EASBRIDGE_UI_SHOTS or a temporary directory.
func shot(t *testing.T, w *Window, name string) {
	t.Helper()
	dir := os.Getenv("EASBRIDGE_UI_SHOTS")
	switch {
	case *update:
		dir = filepath.Join("..", "docs", "screenshots")
	case dir == "":
		dir = t.TempDir()
	}
	img := w.Window.Canvas().Capture()
	if b := img.Bounds(); b.Dx() < 900 || b.Dy() < 600 {
		t.Errorf("%s: %v", name, b)
	}
	path := filepath.Join(dir, name+".png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

func TestDevicesApproveQuarantined(t *testing.T) {
	src := newLevelSource(waitingStatus())
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	w := newWindow(a, src, syncRunner)
	w.Window.Resize(fyne.NewSize(1040, 680))
	w.Refresh()
	w.Tabs.SelectIndex(TabDevices)
	d := w.Devices

	if !d.Waiting.Visible() || len(d.WaitingRows) != 1 || d.WaitingRows[0].Device.ID != "IPHONE2" {
		t.Fatalf("waiting box: visible=%v rows=%d", d.Waiting.Visible(), len(d.WaitingRows))
	}
	if !hasLabel(w.Window.Content(), "1 device waits for your approval (quarantined: they may set up, not sync):") {
		t.Errorf("no waiting title; labels %q", labelTexts(w.Window.Content()))
	}
	if got := d.Rows()[1]; got[7] != "quarantined" || got[9] != "default" || d.Rows()[2][9] != "rule no tablets" {
		t.Errorf("rows %q", d.Rows())
	}
	// The selected quarantined device offers Approve, not Quarantine.
	d.Select(1)
	if d.Allow.Text != "Approve" || d.Allow.Disabled() || !d.Quarantine.Disabled() {
		t.Errorf("Allow %q disabled=%v, Quarantine disabled=%v", d.Allow.Text, d.Allow.Disabled(), d.Quarantine.Disabled())
	}
	shot(t, w, "devices-waiting")

	// One click approves.
	test.Tap(d.WaitingRows[0].Approve)
	if got := src.Calls(); !slices.Equal(got, []string{"access IPHONE2 allowed"}) {
		t.Fatalf("calls %q", got)
	}
	if d.Waiting.Visible() || len(d.WaitingRows) != 0 || d.Rows()[1][7] != "allowed" || !strings.Contains(d.Result.Text, "Approve IPHONE2: done") {
		t.Errorf("after approval: waiting=%v rows %q result %q", d.Waiting.Visible(), d.Rows()[1], d.Result.Text)
	}
	if d.Allow.Text != "Allow" {
		t.Errorf("button %q after approval", d.Allow.Text)
	}

	// Quarantine again, then Block from the waiting box.
	test.Tap(d.Quarantine)
	if len(d.WaitingRows) != 1 {
		t.Fatalf("quarantined device not waiting")
	}
	test.Tap(d.WaitingRows[0].Block)
	if got := src.Calls(); got[len(got)-1] != "access IPHONE2 blocked" || d.Waiting.Visible() {
		t.Errorf("calls %q waiting=%v", got, d.Waiting.Visible())
	}

	// Resync asks first.
	test.Tap(d.Resync)
	test.Tap(w.run.lastModal.OK)
	if got := src.Calls(); got[len(got)-1] != "resync IPHONE2" {
		t.Errorf("calls %q", got)
	}
}

func TestDeviceWaitingNotification(t *testing.T) {
	src := newLevelSource(waitingStatus())
	a := test.NewTempApp(t)
	w := newWindow(a, src, syncRunner)
	dev := waitingStatus().Devices[1]
	test.AssertNotificationSent(t, fyne.NewNotification("A new device waits for approval",
		"IPHONE2 (iPhone 15) of alice@example.com. Approve or block it in the Devices tab."), func() {
		ctx, cancel := context.WithCancel(context.Background())
		src.events <- app.DeviceEvent{Kind: app.DeviceWaiting, Device: dev}
		close(src.events)
		watchDevices(ctx, a, src, w, func(f func()) { f() })
		cancel()
	})
	if len(w.Devices.WaitingRows) != 1 {
		t.Error("the window was not refreshed")
	}
	if n := deviceNotification(app.DeviceEvent{Kind: app.DeviceNew, Device: dev}); n != nil {
		t.Errorf("notification for an allowed new device: %+v", n)
	}
}

func TestPoliciesInheritance(t *testing.T) {
	src := newLevelSource(waitingStatus())
	src.policy.MinDevicePasswordLength = 4 // global
	src.account["alice@example.com"] = eas.PolicyOverride{"allow_camera": false, "min_password_length": 6}
	src.device["alice@example.com/IPHONE2"] = eas.PolicyOverride{"min_password_length": 8}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	w := newWindow(a, src, syncRunner)
	w.Window.Resize(fyne.NewSize(1040, 680))
	w.Refresh()
	w.Tabs.SelectIndex(TabPolicies)
	p := w.Policies

	if !p.Scope.Visible() || len(p.Scope.Options) != 6 { // global, 2 accounts, 3 devices
		t.Fatalf("scopes %q", p.Scope.Options)
	}
	if p.Sources["min_password_length"].Visible() {
		t.Error("sources shown for the global policy")
	}

	// The device: its own, its account's and global values, each labelled.
	p.SelectScope("alice@example.com", "IPHONE2")
	want := map[string]struct{ value, source string }{
		"min_password_length": {"8", "device"},
		"allow_camera":        {"false", "account"},
		"allow_wifi":          {"true", "global"},
	}
	for key, w := range want {
		var v string
		if e, ok := p.Numbers[key]; ok {
			v = e.Text
		} else {
			v = map[bool]string{true: "true", false: "false"}[p.Checks[key].Checked]
		}
		if v != w.value || p.Sources[key].Text != w.source || !p.Sources[key].Visible() {
			t.Errorf("%s = %s from %q, want %s from %s", key, v, p.Sources[key].Text, w.value, w.source)
		}
	}
	shot(t, w, "policies-inheritance")

	// An edit saves the device's settings that differ from its account.
	test.Tap(p.Checks["allow_wifi"])
	test.Tap(p.Save)
	if got := src.Calls(); !slices.Equal(got, []string{"device policy IPHONE2 allow_wifi,min_password_length"}) {
		t.Fatalf("calls %q", got)
	}
	if p.Sources["allow_wifi"].Text != "device" || !strings.Contains(p.Result.Text, "2 own settings") {
		t.Errorf("after save: wifi from %q, result %q", p.Sources["allow_wifi"].Text, p.Result.Text)
	}
	// Back to the inherited values.
	test.Tap(p.Inherit)
	if p.Numbers["min_password_length"].Text != "6" || p.Sources["min_password_length"].Text != "account" || !p.Checks["allow_wifi"].Checked {
		t.Errorf("after inherit: length %s from %s", p.Numbers["min_password_length"].Text, p.Sources["min_password_length"].Text)
	}

	// The account level: the device's settings are not part of it.
	p.SelectScope("alice@example.com", "")
	if p.Numbers["min_password_length"].Text != "6" || p.Sources["min_password_length"].Text != "account" || p.Sources["allow_wifi"].Text != "global" {
		t.Errorf("account: %s from %s", p.Numbers["min_password_length"].Text, p.Sources["min_password_length"].Text)
	}
	p.Numbers["min_password_length"].SetText("4") // the global value: no longer the account's own
	test.Tap(p.Save)
	if got := src.Calls(); got[len(got)-1] != "account policy alice@example.com allow_camera" {
		t.Errorf("calls %q", got)
	}
	if p.Sources["min_password_length"].Importance != widget.LowImportance {
		t.Error("an inherited value is not shown as inherited")
	}

	// Global again: the plain form.
	p.SelectScope("", "")
	if p.Sources["allow_camera"].Visible() || p.Inherit.Visible() || !p.Checks["allow_camera"].Checked {
		t.Error("global scope shows levels")
	}
}
