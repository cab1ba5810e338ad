package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"easbridge/server/eas"
)

// syncWindow is a window whose background work runs at once on the
// calling goroutine.
func syncWindow(t *testing.T, src *fakeSource) *Window {
	t.Helper()
	w := newWindow(test.NewTempApp(t), src, syncRunner)
	return w
}

func twoDevices() *fakeSource {
	st := demoStatus()
	st.Devices = append(st.Devices, eas.Device{User: "u@example.com", ID: "IPHONE2", Type: "iPhone", Model: "iPhone 15"})
	return newFakeSource(st)
}

func TestDeviceActions(t *testing.T) {
	src := twoDevices()
	w := syncWindow(t, src)
	w.Refresh()
	d := w.Devices
	if len(d.Rows()) != 2 {
		t.Fatalf("rows %q", d.Rows())
	}
	if !d.Block.Disabled() || !d.Wipe.Disabled() {
		t.Error("actions enabled without a selection")
	}
	d.Select(1)
	if dv, ok := d.Selection(); !ok || dv.ID != "IPHONE2" {
		t.Fatalf("selection %+v %v", dv, ok)
	}
	if !d.Allow.Disabled() || d.Block.Disabled() {
		t.Error("Allow should be off and Block on for an allowed device")
	}

	// Block needs no confirmation; the table shows the new state.
	test.Tap(d.Block)
	if got := src.Calls(); !slices.Equal(got, []string{"access IPHONE2 blocked"}) {
		t.Fatalf("calls %q", got)
	}
	if d.Rows()[1][7] != "blocked" || !strings.Contains(d.Result.Text, "done") {
		t.Errorf("row %q result %q", d.Rows()[1], d.Result.Text)
	}
	test.Tap(d.Allow)
	if d.Rows()[1][7] != "allowed" {
		t.Errorf("after allow: %q", d.Rows()[1])
	}

	// Remote wipe asks first; Cancel does nothing.
	n := len(src.Calls())
	test.Tap(d.Wipe)
	m := w.run.lastModal
	if m == nil || !m.PopUp.Visible() || !strings.Contains(m.Message.Text, "IPHONE2") {
		t.Fatalf("no confirmation: %+v", m)
	}
	if w.Window.Canvas().Overlays().Top() == nil {
		t.Error("confirmation not on the canvas")
	}
	test.Tap(m.Cancel)
	if len(src.Calls()) != n {
		t.Fatal("wipe ran without confirmation")
	}
	test.Tap(d.AccountWipe)
	test.Tap(w.run.lastModal.OK)
	if got := src.Calls(); got[len(got)-1] != "wipe IPHONE2 accountOnly=true" {
		t.Fatalf("calls %q", got)
	}
	if d.Rows()[1][8] != "account-wipe-pending" || !d.Wipe.Disabled() {
		t.Errorf("row %q wipe enabled=%v", d.Rows()[1], !d.Wipe.Disabled())
	}

	// Forget: confirmed, the device goes, the selection too.
	test.Tap(d.Forget)
	test.Tap(w.run.lastModal.OK)
	if len(d.Rows()) != 1 || d.Rows()[0][1] != "ANDROIDC0FFEE01" {
		t.Errorf("after forget: %q", d.Rows())
	}
	if _, ok := d.Selection(); ok || !d.Forget.Disabled() {
		t.Error("selection survived forgetting the device")
	}

	// A failure is shown.
	d.Select(0)
	src.mu.Lock()
	src.st.Devices = nil // the device vanished meanwhile
	src.mu.Unlock()
	test.Tap(d.Block)
	if d.Result.Importance != widget.DangerImportance || !strings.Contains(d.Result.Text, "failed") {
		t.Errorf("result %q", d.Result.Text)
	}
}

func TestPoliciesForm(t *testing.T) {
	src := newFakeSource(demoStatus())
	w := syncWindow(t, src)
	p := w.Policies
	if p.Numbers["min_complex_characters"].Text != "1" || !p.Checks["allow_camera"].Checked || p.Bluetooth.Selected != "Allowed" {
		t.Fatalf("defaults not shown")
	}
	// Out of range: Validate's error, nothing saved.
	p.Numbers["min_password_length"].SetText("40")
	test.Tap(p.Save)
	if !strings.Contains(p.Result.Text, "min_password_length 40") || p.Result.Importance != widget.DangerImportance {
		t.Errorf("result %q", p.Result.Text)
	}
	p.Numbers["max_failed_attempts"].SetText("x")
	test.Tap(p.Save)
	if !strings.Contains(p.Result.Text, "not a whole number") {
		t.Errorf("result %q", p.Result.Text)
	}
	if len(src.Calls()) != 0 {
		t.Fatal("invalid policy saved")
	}

	p.Numbers["min_password_length"].SetText("6")
	p.Numbers["max_failed_attempts"].SetText("8")
	test.Tap(p.Checks["device_password_enabled"])
	test.Tap(p.Checks["allow_camera"])
	p.Bluetooth.SetSelectedIndex(1)
	test.Tap(p.Save)
	got := src.Policy()
	if !got.DevicePasswordEnabled || got.MinDevicePasswordLength != 6 || got.MaxDevicePasswordFailedAttempts != 8 || got.AllowCamera || got.AllowBluetooth != 1 {
		t.Errorf("saved %+v", got)
	}
	if got.MaxEmailBodyTruncationSize != -1 {
		t.Error("a field the form does not show was lost")
	}
	if !strings.Contains(p.Result.Text, "next Provision") {
		t.Errorf("result %q", p.Result.Text)
	}
	p.Numbers["min_password_length"].SetText("9")
	test.Tap(p.Revert)
	if p.Numbers["min_password_length"].Text != "6" {
		t.Error("revert kept the edit")
	}
}

func TestAccountsTestConnection(t *testing.T) {
	src := newFakeSource(demoStatus())
	w := syncWindow(t, src)
	a := w.Accounts
	w.Tabs.SelectIndex(TabAccounts)
	for _, s := range []string{"imaps://mail.example.com", "https://dav.example.com/", "passthrough"} {
		if !hasLabel(w.Window.Content(), s) {
			t.Errorf("account list lacks %q", s)
		}
	}
	a.Fill(src.Accounts()[0])
	test.Type(a.User, "alice")
	test.Type(a.Password, "secret")
	test.Tap(a.Test)
	if got := src.Calls(); !slices.Equal(got, []string{"test imaps://mail.example.com alice secret"}) {
		t.Fatalf("calls %q", got)
	}
	want := []string{
		"IMAP imaps://mail.example.com: logged in",
		"SMTP smtps://mail.example.com: wrong user name or password",
		"DAV https://dav.example.com/: connection refused",
	}
	if got := a.Lines(); !slices.Equal(got, want) {
		t.Errorf("lines %q", got)
	}
	if a.Test.Disabled() {
		t.Error("Test stays disabled")
	}
}

func TestLogsExportAndRedact(t *testing.T) {
	src := newFakeSource(demoStatus())
	w := syncWindow(t, src)
	l := w.Logs
	a, b := exchange("ANDROIDC0FFEE01", "Sync", 200, 1), exchange("IPHONE2", "SendMail", 500, 0)
	a.ID, b.ID = 1, 2
	l.Add(a, b)
	var buf bytes.Buffer
	if err := l.ExportTo(&buf); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Count(out, "=== #") != 2 || !strings.Contains(out, "<Collections/>") {
		t.Errorf("export:\n%s", out)
	}
	l.SetFilter("iphone")
	buf.Reset()
	l.ExportTo(&buf)
	if out := buf.String(); strings.Count(out, "=== #") != 1 || !strings.Contains(out, "SendMail") {
		t.Errorf("filtered export:\n%s", out)
	}

	// The Export button asks for a file and writes it.
	path := filepath.Join(t.TempDir(), "x.txt")
	test.Tap(l.Export)
	m := w.run.lastModal
	if m == nil || m.Entry == nil {
		t.Fatal("no save dialog")
	}
	m.Entry.SetText(path)
	test.Tap(m.OK)
	if data, err := os.ReadFile(path); err != nil || !strings.Contains(string(data), "SendMail") {
		t.Errorf("exported file: %v %q", err, data)
	}

	if !l.Redact.Checked {
		t.Fatal("Redact not shown on")
	}
	test.Tap(l.Redact)
	if src.Redact() {
		t.Error("Redact switch not bound")
	}
}

func TestTrayPause(t *testing.T) {
	a := test.NewTempApp(t)
	desk := &fakeDesktop{App: a}
	src := newFakeSource(demoStatus())
	w := NewWindow(desk, src)
	tr := NewTray(desk, w)
	tr.SetStatus(demoStatus())
	tr.Pause.Action()
	if !src.Paused() || tr.Pause.Label != "Resume sync" || tr.Status.Label != "Sync paused — 1 device" {
		t.Errorf("paused=%v item=%q status=%q", src.Paused(), tr.Pause.Label, tr.Status.Label)
	}
	tr.Pause.Action()
	if src.Paused() || tr.Pause.Label != "Pause sync" {
		t.Errorf("resumed: paused=%v item=%q", src.Paused(), tr.Pause.Label)
	}
}
