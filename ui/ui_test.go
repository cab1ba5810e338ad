package ui

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/app/logbus"
	"easbridge/server/eas"
)

// fakeSource is a settable status over a real log bus; the management
// actions are recorded in calls and change st.Devices.
type fakeSource struct {
	*logbus.Bus
	mu       sync.Mutex
	st       app.Status
	calls    []string
	policy   eas.Policy
	paused   bool
	redact   bool
	accounts []config.Account
	results  []app.CheckResult
}

func newFakeSource(st app.Status) *fakeSource {
	return &fakeSource{Bus: logbus.New(100), st: st, policy: eas.DefaultPolicy(), redact: true,
		accounts: []config.Account{{Name: "home", IMAP: "imaps://mail.example.com", SMTP: "smtps://mail.example.com", DAV: "https://dav.example.com/"}},
		results: []app.CheckResult{
			{Server: "IMAP imaps://mail.example.com", OK: true, Message: "logged in"},
			{Server: "SMTP smtps://mail.example.com", OK: false, Message: "wrong user name or password"},
			{Server: "DAV https://dav.example.com/", OK: false, Message: "connection refused"},
		}}
}

func (f *fakeSource) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeSource) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeSource) device(user, id string, change func(*eas.Device)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.st.Devices {
		if f.st.Devices[i].User == user && f.st.Devices[i].ID == id {
			if change == nil {
				f.st.Devices = append(f.st.Devices[:i:i], f.st.Devices[i+1:]...)
			} else {
				change(&f.st.Devices[i])
			}
			return nil
		}
	}
	return fmt.Errorf("device %s/%s: not found", user, id)
}

func (f *fakeSource) SetAccess(_ context.Context, user, id string, a eas.Access) error {
	f.record("access " + id + " " + a.String())
	return f.device(user, id, func(d *eas.Device) { d.Access = a })
}

func (f *fakeSource) RequestWipe(_ context.Context, user, id string, accountOnly bool) error {
	f.record(fmt.Sprintf("wipe %s accountOnly=%v", id, accountOnly))
	return f.device(user, id, func(d *eas.Device) {
		d.Wipe = eas.WipePending
		if accountOnly {
			d.Wipe = eas.WipeAccountPending
		}
	})
}

func (f *fakeSource) ForgetDevice(_ context.Context, user, id string) error {
	f.record("forget " + id)
	return f.device(user, id, nil)
}

func (f *fakeSource) Policy() eas.Policy {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.policy
}

func (f *fakeSource) SetPolicy(p eas.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	f.record("policy")
	f.mu.Lock()
	f.policy = p
	f.mu.Unlock()
	return nil
}

func (f *fakeSource) Accounts() []config.Account {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.accounts)
}

func (f *fakeSource) TestAccount(_ context.Context, a config.Account, user, password string) []app.CheckResult {
	f.record(fmt.Sprintf("test %s %s %s", a.IMAP, user, password))
	return f.results
}

func (f *fakeSource) Paused() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paused
}

func (f *fakeSource) SetPaused(p bool) {
	f.mu.Lock()
	f.paused = p
	f.mu.Unlock()
}

func (f *fakeSource) Redact() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.redact
}

func (f *fakeSource) SetRedact(r bool) {
	f.mu.Lock()
	f.redact = r
	f.mu.Unlock()
}

func (f *fakeSource) Status(context.Context) app.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeSource) set(st app.Status) {
	f.mu.Lock()
	f.st = st
	f.mu.Unlock()
}

var _ Source = (*fakeSource)(nil)

var seen = time.Date(2026, 3, 14, 9, 26, 53, 0, time.Local)

func demoStatus() app.Status {
	return app.Status{
		Running:     true,
		URLs:        []string{"https://laptop.local:8443", "https://192.168.1.20:8443"},
		Fingerprint: "SHA-256 3A:7F:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:32:54:76:98:BA",
		Demo:        true, DemoUser: "demo@demo.easbridge", DemoPass: "tulip-ocean-42",
		Devices: []eas.Device{{
			User: "demo@demo.easbridge", ID: "ANDROIDC0FFEE01", Type: "Android", Model: "Pixel 8",
			OS: "Android 15", ProtocolVersion: "16.1", Access: eas.AccessAllowed, Wipe: eas.WipeNone,
			LastSeen: seen,
		}},
	}
}

// harness runs the real bridge; its UI updates queue up and run on the
// test goroutine in pump, as fyne.Do runs them on the UI goroutine.
type harness struct {
	t   *testing.T
	a   fyne.App
	src *fakeSource
	w   *Window
	q   chan func()
}

func newHarness(t *testing.T, st app.Status, before ...logbus.Exchange) *harness {
	t.Helper()
	h := &harness{t: t, a: test.NewTempApp(t), src: newFakeSource(st), q: make(chan func(), 4096)}
	for _, e := range before {
		h.src.Publish(e)
	}
	h.w = newWindow(h.a, h.src, syncRunner)
	b := newBridge(h.src, h.w, nil)
	b.do = func(f func()) { h.q <- f }
	b.interval, b.logDelay, b.refDelay = 20*time.Millisecond, 5*time.Millisecond, 10*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for {
			select {
			case <-done:
				return
			case <-h.q:
			}
		}
	})
	return h
}

// pump runs queued UI updates until cond holds.
func (h *harness) pump(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case f := <-h.q:
			f()
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// settle runs the updates queued within d.
func (h *harness) settle(d time.Duration) {
	end := time.After(d)
	for {
		select {
		case f := <-h.q:
			f()
		case <-end:
			return
		}
	}
}

func exchange(dev, cmd string, http, easStatus int) logbus.Exchange {
	return logbus.Exchange{
		Time: time.Date(2026, 3, 14, 15, 4, 5, 0, time.Local), Duration: 12 * time.Millisecond,
		Remote: "192.168.1.30:50123", User: "demo@demo.easbridge", DeviceID: dev, DeviceType: "Android",
		Command: cmd, Version: "16.1", HTTPStatus: http, EASStatus: easStatus,
		RequestXML:  "<Sync xmlns=\"AirSync\">\n  <Collections/>\n</Sync>",
		ResponseXML: "<Sync xmlns=\"AirSync\">\n  <Status>1</Status>\n</Sync>",
	}
}

// labelTexts are the texts of the visible labels under root, as rendered
// (walking the cached renderers, unlike test.LaidOutObjects).
func labelTexts(root fyne.CanvasObject) []string {
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch c := o.(type) {
		case *widget.Label:
			out = append(out, c.Text)
		case fyne.Widget:
			for _, ch := range test.WidgetRenderer(c).Objects() {
				walk(ch)
			}
		case *fyne.Container:
			for _, ch := range c.Objects {
				walk(ch)
			}
		}
	}
	walk(root)
	return out
}

func hasLabel(root fyne.CanvasObject, text string) bool {
	for _, s := range labelTexts(root) {
		if s == text {
			return true
		}
	}
	return false
}

func TestOverviewShowsURLAndDemoAccount(t *testing.T) {
	h := newHarness(t, demoStatus())
	o := h.w.Overview
	h.pump("status", func() bool { return o.URL() != "" })

	if o.URL() != "https://laptop.local:8443" {
		t.Errorf("URL = %q", o.URL())
	}
	if len(o.URLs.Objects) != 2 || o.URLs.Objects[1].(*widget.Label).Text != "https://192.168.1.20:8443" {
		t.Errorf("URL labels = %v", o.URLs.Objects)
	}
	if !o.URLs.Objects[0].(*widget.Label).Selectable {
		t.Error("URL label not selectable")
	}
	if o.QRText != "https://laptop.local:8443/setup" || !o.QR.Visible() || o.QR.Resource == nil {
		t.Errorf("QR = %q visible=%v", o.QRText, o.QR.Visible())
	}
	if !strings.HasPrefix(o.Fingerprint.Text, "SHA-256 3A:7F") {
		t.Errorf("fingerprint = %q", o.Fingerprint.Text)
	}
	if !o.Demo.Visible() || o.DemoUser.Text != "demo@demo.easbridge" || o.DemoPass.Text != "tulip-ocean-42" {
		t.Errorf("demo: visible=%v user=%q pass=%q", o.Demo.Visible(), o.DemoUser.Text, o.DemoPass.Text)
	}
	if o.DeviceCount.Text != "1 device" || o.LastError.Text != "none" || o.State.Text != "Running" {
		t.Errorf("devices=%q lastError=%q state=%q", o.DeviceCount.Text, o.LastError.Text, o.State.Text)
	}
	for _, want := range []string{"https://laptop.local:8443", "demo@demo.easbridge", "tulip-ocean-42", "No account configured: demo account"} {
		if !hasLabel(h.w.Window.Content(), want) {
			t.Errorf("no label %q rendered; have %q", want, labelTexts(h.w.Window.Content()))
		}
	}

	test.Tap(o.CopyURL)
	if got := h.a.Clipboard().Content(); got != "https://laptop.local:8443" {
		t.Errorf("clipboard = %q", got)
	}

	// A real account and an error: the demo box goes, the error shows.
	st := demoStatus()
	st.Demo, st.DemoUser, st.DemoPass = false, "", ""
	st.LastError = "09:26:53 Sync from X: HTTP 500 boom"
	h.src.set(st)
	h.pump("error", func() bool { return o.LastError.Text == st.LastError })
	if o.Demo.Visible() {
		t.Error("demo box still visible")
	}
	if o.LastError.Importance != widget.DangerImportance {
		t.Error("last error not shown as danger")
	}
}

func TestDevicesTabListsDevice(t *testing.T) {
	h := newHarness(t, demoStatus())
	d := h.w.Devices
	h.pump("devices", func() bool { return len(d.Rows()) == 1 })

	want := []string{"demo@demo.easbridge", "ANDROIDC0FFEE01", "Android", "Pixel 8", "Android 15", "16.1",
		seen.Format("2006-01-02 15:04"), "allowed", "none", "-"}
	if got := d.Rows()[0]; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("row = %q, want %q", got, want)
	}
	if r, c := d.Table.Length(); r != 1 || c != len(DeviceColumns) {
		t.Errorf("table length = %d×%d", r, c)
	}
	h.w.Tabs.SelectIndex(1)
	for _, s := range []string{"ANDROIDC0FFEE01", "Pixel 8", "Device ID", "allowed"} {
		if !hasLabel(h.w.Window.Content(), s) {
			t.Errorf("table does not render %q", s)
		}
	}
	if !strings.HasPrefix(d.Summary.Text, "1 device known") {
		t.Errorf("summary = %q", d.Summary.Text)
	}

	// A second device appears on the next poll.
	st := demoStatus()
	st.Devices = append(st.Devices, eas.Device{User: "u", ID: "IPHONE2", Type: "iPhone", Access: eas.AccessBlocked, Wipe: eas.WipePending})
	h.src.set(st)
	h.pump("second device", func() bool { return len(d.Rows()) == 2 })
	if got := d.Rows()[1]; got[1] != "IPHONE2" || got[7] != "blocked" || got[8] != "wipe-pending" || got[3] != "-" {
		t.Errorf("row 2 = %q", got)
	}
}

func TestLogsLiveSelectPauseFilterClear(t *testing.T) {
	old := exchange("OLDDEVICE", "FolderSync", 200, 1)
	h := newHarness(t, demoStatus(), old)
	l := h.w.Logs

	// Exchanges published before the window opened come from Recent, once.
	h.pump("recent", func() bool { return len(l.Lines()) == 1 })

	h.src.Publish(exchange("ANDROIDC0FFEE01", "Sync", 200, 1))
	h.pump("live line", func() bool { return len(l.Lines()) == 2 })
	h.settle(50 * time.Millisecond)
	lines := l.Lines()
	if len(lines) != 2 || !strings.Contains(lines[0], "OLDDEVICE") {
		t.Fatalf("lines = %q", lines)
	}
	for _, want := range []string{"15:04:05", "ANDROIDC0FFEE01", "Sync", "HTTP 200 EAS 1", "12ms"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("line %q lacks %q", lines[1], want)
		}
	}

	// Selecting the line fills both XML panes.
	l.List.Select(1)
	if got := l.Request.Text(); !strings.Contains(got, "<Collections/>") {
		t.Errorf("request pane = %q", got)
	}
	if got := l.Response.Text(); !strings.Contains(got, "<Status>1</Status>") {
		t.Errorf("response pane = %q", got)
	}
	if !strings.Contains(l.Detail.Text, "ANDROIDC0FFEE01") || !strings.Contains(l.Detail.Text, "from 192.168.1.30:50123") {
		t.Errorf("detail = %q", l.Detail.Text)
	}

	// Paused: nothing is added.
	test.Tap(l.Pause)
	if !l.Paused() || l.Pause.Text != "Resume" {
		t.Fatalf("paused=%v button=%q", l.Paused(), l.Pause.Text)
	}
	h.src.Publish(exchange("ANDROIDC0FFEE01", "Ping", 200, 1))
	h.src.Publish(exchange("ANDROIDC0FFEE01", "Ping", 200, 2))
	h.pump("skipped count", func() bool { return strings.Contains(l.Summary.Text, "2 new exchanges not shown") })
	if n := len(l.Lines()); n != 2 {
		t.Errorf("paused list grew to %d", n)
	}
	test.Tap(l.Pause)
	h.src.Publish(exchange("IPHONE2", "SendMail", 500, 0))
	h.pump("line after resume", func() bool { return len(l.Lines()) == 3 })
	if last := l.Lines()[2]; !strings.Contains(last, "IPHONE2") || !strings.Contains(last, "HTTP 500") {
		t.Errorf("last line = %q", last)
	}
	// The selection stayed on its exchange.
	if !strings.Contains(l.Request.Text(), "<Collections/>") || l.selIndex != 1 {
		t.Errorf("selection moved: index %d", l.selIndex)
	}

	// Filter by device, command or status.
	test.Type(l.Filter, "iphone")
	if got := l.Lines(); len(got) != 1 || !strings.Contains(got[0], "SendMail") {
		t.Errorf("filter iphone = %q", got)
	}
	l.SetFilter("sync c0ffee")
	if got := l.Lines(); len(got) != 1 || !strings.Contains(got[0], "ANDROIDC0FFEE01") {
		t.Errorf("filter 'sync c0ffee' = %q", got)
	}
	l.SetFilter("500")
	if got := l.Lines(); len(got) != 1 || !strings.Contains(got[0], "IPHONE2") {
		t.Errorf("filter 500 = %q", got)
	}
	if !strings.HasPrefix(l.Summary.Text, "1 of 3 exchanges shown") {
		t.Errorf("summary = %q", l.Summary.Text)
	}
	l.SetFilter("")
	if n := len(l.Lines()); n != 3 {
		t.Errorf("unfiltered = %d lines", n)
	}

	// Clear empties the list, the panes and the bus.
	test.Tap(l.Clear)
	if n := len(l.Lines()); n != 0 {
		t.Errorf("after clear: %d lines", n)
	}
	if n := len(h.src.Recent(0)); n != 0 {
		t.Errorf("bus holds %d after clear", n)
	}
	if l.Request.Text() != "" || l.Response.Text() != "" {
		t.Error("panes not cleared")
	}
	h.src.Publish(exchange("ANDROIDC0FFEE01", "Sync", 200, 1))
	h.pump("line after clear", func() bool { return len(l.Lines()) == 1 })
}

func TestLogsBounded(t *testing.T) {
	a := test.NewTempApp(t)
	w := NewWindow(a, newFakeSource(app.Status{}))
	var exs []logbus.Exchange
	for i := 1; i <= MaxLogLines+5; i++ {
		e := exchange(fmt.Sprintf("DEV%04d", i), "Ping", 200, 1)
		e.ID = uint64(i)
		exs = append(exs, e)
	}
	w.Logs.Add(exs[:10]...)
	w.Logs.Add(exs...) // overlapping IDs are skipped
	lines := w.Logs.Lines()
	if len(lines) != MaxLogLines {
		t.Fatalf("%d lines", len(lines))
	}
	if !strings.Contains(lines[0], "DEV0006") || !strings.Contains(lines[len(lines)-1], fmt.Sprintf("DEV%04d", MaxLogLines+5)) {
		t.Errorf("first %q last %q", lines[0], lines[len(lines)-1])
	}
}

// fakeDesktop is a test app with a system tray.
type fakeDesktop struct {
	fyne.App
	menu   *fyne.Menu
	sets   int
	icon   fyne.Resource
	window fyne.Window
}

func (f *fakeDesktop) SetSystemTrayMenu(m *fyne.Menu)    { f.menu = m; f.sets++ }
func (f *fakeDesktop) SetSystemTrayIcon(r fyne.Resource) { f.icon = r }
func (f *fakeDesktop) SetSystemTrayWindow(w fyne.Window) { f.window = w }

var _ desktop.App = (*fakeDesktop)(nil)

func menuLabels(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if it.IsSeparator {
			out = append(out, "---")
		} else {
			out = append(out, it.Label)
		}
	}
	return out
}

func TestTray(t *testing.T) {
	a := test.NewTempApp(t)
	if NewTray(a, NewWindow(a, newFakeSource(app.Status{}))) != nil {
		t.Fatal("tray on an app without one")
	}
	desk := &fakeDesktop{App: a}
	w := NewWindow(desk, newFakeSource(app.Status{}))
	tr := NewTray(desk, w)
	if tr == nil || desk.menu == nil || desk.icon == nil || desk.window != w.Window {
		t.Fatalf("tray not installed: %+v", desk)
	}
	if !tr.Status.Disabled || !tr.Quit.IsQuit {
		t.Error("status item enabled or quit not marked")
	}

	st := demoStatus()
	w.SetStatus(st)
	tr.SetStatus(st)
	if got := strings.Join(menuLabels(desk.menu), "|"); got != "Running — 1 device|---|Open window|Copy server URL|Pause sync|---|Quit" {
		t.Errorf("menu = %s", got)
	}
	sets := desk.sets
	tr.SetStatus(st)
	if desk.sets != sets {
		t.Error("menu rebuilt without a change")
	}
	st.LastError = "09:26:53 listen: address in use"
	tr.SetStatus(st)
	if got := menuLabels(desk.menu); len(got) < 2 || got[1] != "Error: 09:26:53 listen: address in use" {
		t.Errorf("menu = %q", got)
	}

	tr.CopyURL.Action()
	if got := a.Clipboard().Content(); got != "https://laptop.local:8443" {
		t.Errorf("clipboard = %q", got)
	}
	w.Window.Hide()
	tr.Open.Action()

	if closeBehaviour(a, w, false) != nil {
		t.Error("intercept without a tray")
	}
	intercept := closeBehaviour(a, w, true)
	if intercept == nil {
		t.Fatal("no intercept with a tray")
	}
	test.AssertNotificationSent(t, fyne.NewNotification("easbridge is still running",
		"The server keeps serving your devices. Open the window or quit from the tray icon."), intercept)
	test.AssertNotificationSent(t, nil, intercept) // only the first time
}

func TestRunStopsWhenAppQuits(t *testing.T) {
	a := test.NewTempApp(t)
	src := newFakeSource(demoStatus())
	stopped := make(chan struct{})
	// The test app's Run returns at once, as if the user quit.
	if err := run(context.Background(), a, src, func() { close(stopped) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("stop not called")
	}
}

var update = flag.Bool("update", false, "TestScreenshots: write the PNGs to docs/screenshots")

// TestScreenshots renders each tab with the default theme to PNG files:
// with -update into docs/screenshots (for the README), else into
// $EASBRIDGE_UI_SHOTS or a temporary directory.
func TestScreenshots(t *testing.T) {
	st := demoStatus()
	st.Devices = append(st.Devices, eas.Device{
		User: "alice@example.com", ID: "IPHONE2", Type: "iPhone", Model: "iPhone 15", OS: "iOS 18.3",
		ProtocolVersion: "16.1", Access: eas.AccessBlocked, Wipe: eas.WipeNone, LastSeen: seen.Add(-26 * time.Hour),
	})
	h := newHarness(t, st, exchange("ANDROIDC0FFEE01", "FolderSync", 200, 1))
	h.a.Settings().SetTheme(theme.DefaultTheme())
	h.src.Publish(exchange("ANDROIDC0FFEE01", "Sync", 200, 1))
	e := exchange("IPHONE2", "SendMail", 500, 0)
	e.Error = "smtp: 554 relay denied"
	h.src.Publish(e)
	h.pump("lines", func() bool { return len(h.w.Logs.Lines()) == 3 })
	h.pump("status", func() bool { return len(h.w.Devices.Rows()) == 2 })
	h.w.Logs.List.Select(1)
	h.w.Tabs.SelectIndex(TabDevices)
	h.w.Devices.Select(0)
	a := h.w.Accounts
	a.Fill(h.src.Accounts()[0])
	a.User.SetText("alice")
	a.Password.SetText("secret")
	test.Tap(a.Test)

	for _, tab := range []struct {
		i    int
		name string
	}{{TabOverview, "overview"}, {TabDevices, "devices"}, {TabPolicies, "policies"}, {TabAccounts, "accounts"}, {TabLogs, "logs"}} {
		h.w.Tabs.SelectIndex(tab.i)
		shot(t, h.w, tab.name)
	}
}
