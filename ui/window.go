package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"easbridge/app"
	"easbridge/assets"
	"easbridge/server/eas"
)

// Window is the main window: Overview, Devices, Policies, Accounts and
// Logs tabs. Its methods must be called on the UI goroutine (from
// callbacks or through fyne.Do).
type Window struct {
	Window   fyne.Window
	Tabs     *container.AppTabs
	Overview *Overview
	Devices  *Devices
	Policies *Policies
	Accounts *Accounts
	Logs     *Logs

	src Source
	run *runner
}

// Tab indexes.
const (
	TabOverview = iota
	TabDevices
	TabPolicies
	TabAccounts
	TabLogs
)

// NewWindow builds the window over src without showing it. The caller
// feeds it with SetStatus and Logs.Add (the bridge does that in Run).
func NewWindow(a fyne.App, src Source) *Window {
	w := &Window{Window: a.NewWindow("easbridge"), src: src}
	w.run = newRunner(w.Window)
	w.Window.SetIcon(assets.Icon)
	w.Overview = newOverview(a)
	w.Devices = newDevices()
	w.Devices.bind(src, w.run, w.Refresh)
	w.Policies = newPolicies(src, w.run)
	w.Accounts = newAccounts(src, w.run)
	w.Logs = newLogs(a, src)
	w.Logs.run = w.run
	w.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Overview", theme.HomeIcon(), w.Overview.Content),
		container.NewTabItemWithIcon("Devices", theme.ComputerIcon(), w.Devices.Content),
		container.NewTabItemWithIcon("Policies", theme.SettingsIcon(), w.Policies.Content),
		container.NewTabItemWithIcon("Accounts", theme.AccountIcon(), w.Accounts.Content),
		container.NewTabItemWithIcon("Logs", theme.ListIcon(), w.Logs.Content),
	)
	w.Window.SetContent(w.Tabs)
	w.Window.Resize(fyne.NewSize(1040, 680))
	return w
}

// SetStatus shows a status snapshot.
func (w *Window) SetStatus(s app.Status) {
	w.Overview.SetStatus(s)
	w.Devices.SetDevices(s.Devices)
}

// Refresh reads the status off the UI goroutine and shows it (after a
// device action, without waiting for the next poll).
func (w *Window) Refresh() {
	w.run.Go(func(ctx context.Context) func() {
		s := w.src.Status(ctx)
		return func() { w.SetStatus(s) }
	})
}

// URL is the first server URL, "" before the first status.
func (w *Window) URL() string { return w.Overview.URL() }

// Overview is the first tab: how to reach the server.
type Overview struct {
	Content fyne.CanvasObject

	State       *widget.Label
	URLs        *fyne.Container // one selectable label per URL
	Fingerprint *widget.Label
	DeviceCount *widget.Label
	LastError   *widget.Label
	CopyURL     *widget.Button

	// Demo is shown only while the demo account is served.
	Demo     *fyne.Container
	DemoUser *widget.Label
	DemoPass *widget.Label

	// QR encodes QRText, the pairing page (first URL + "/setup").
	QR     *canvas.Image
	QRText string

	urls    []string
	lastErr string
}

func newOverview(a fyne.App) *Overview {
	o := &Overview{
		State:       widget.NewLabelWithStyle("Starting…", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		URLs:        container.NewVBox(),
		Fingerprint: selectable(""),
		DeviceCount: widget.NewLabel("0"),
		LastError:   selectable("none"),
		DemoUser:    selectable(""),
		DemoPass:    selectable(""),
	}
	o.Fingerprint.TextStyle.Monospace = true
	o.Fingerprint.Wrapping = fyne.TextWrapBreak
	o.LastError.Wrapping = fyne.TextWrapWord
	o.DemoUser.TextStyle.Monospace = true
	o.DemoPass.TextStyle.Monospace = true
	o.CopyURL = widget.NewButtonWithIcon("Copy URL", theme.ContentCopyIcon(), func() {
		if u := o.URL(); u != "" {
			a.Clipboard().SetContent(u)
		}
	})
	o.CopyURL.Disable()

	o.Demo = container.NewVBox(
		widget.NewLabelWithStyle("No account configured: demo account", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped("easbridge serves a built-in demo mailbox with a calendar and contacts. Sign in on the phone with:"),
		widget.NewForm(widget.NewFormItem("User", o.DemoUser), widget.NewFormItem("Password", o.DemoPass)),
	)
	o.Demo.Hide()

	form := widget.NewForm(
		widget.NewFormItem("Server", o.State),
		widget.NewFormItem("URL", o.URLs),
		widget.NewFormItem("TLS fingerprint", o.Fingerprint),
		widget.NewFormItem("Devices", o.DeviceCount),
		widget.NewFormItem("Last error", o.LastError),
	)
	left := container.NewVBox(
		form,
		container.NewHBox(o.CopyURL),
		widget.NewSeparator(),
		o.Demo,
	)

	o.QR = canvas.NewImageFromResource(nil)
	o.QR.FillMode = canvas.ImageFillContain
	o.QR.ScaleMode = canvas.ImageScalePixels
	o.QR.SetMinSize(fyne.NewSize(220, 220))
	o.QR.Hide()
	right := container.NewVBox(
		o.QR,
		widget.NewLabelWithStyle("Scan with the phone to open\nthe setup page (certificate, profile)", fyne.TextAlignCenter, fyne.TextStyle{Italic: true}),
	)
	o.Content = container.NewBorder(nil, nil, nil, container.NewPadded(right), container.NewVScroll(container.NewPadded(left)))
	return o
}

// SetStatus shows s.
func (o *Overview) SetStatus(s app.Status) {
	// The form is laid out again (Content.Refresh) only when something
	// that changes its shape changed; the glfw driver would notice on its
	// own, the test driver's Capture would not.
	relayout := false
	if s.Running {
		o.State.SetText("Running")
		o.State.Importance = widget.SuccessImportance
	} else {
		o.State.SetText("Stopped")
		o.State.Importance = widget.DangerImportance
	}
	o.State.Refresh()

	if !slices.Equal(o.urls, s.URLs) {
		o.urls = slices.Clone(s.URLs)
		objs := make([]fyne.CanvasObject, 0, len(s.URLs))
		for _, u := range s.URLs {
			l := selectable(u)
			l.TextStyle.Bold = len(objs) == 0
			objs = append(objs, l)
		}
		if len(objs) == 0 {
			objs = append(objs, widget.NewLabel("(not listening)"))
		}
		o.URLs.Objects = objs
		o.setQR()
		relayout = true
	}
	if o.URL() == "" {
		o.CopyURL.Disable()
	} else {
		o.CopyURL.Enable()
	}

	fp := s.Fingerprint
	if fp == "" {
		fp = "(TLS off: plain HTTP)"
	}
	relayout = relayout || fp != o.Fingerprint.Text || s.LastError != o.lastErr || s.Demo != o.Demo.Visible()
	o.lastErr = s.LastError
	o.Fingerprint.SetText(fp)
	o.DeviceCount.SetText(countText(len(s.Devices), "device", "devices"))
	if s.LastError == "" {
		o.LastError.SetText("none")
		o.LastError.Importance = widget.MediumImportance
	} else {
		o.LastError.SetText(s.LastError)
		o.LastError.Importance = widget.DangerImportance
	}
	o.LastError.Refresh()

	if s.Demo {
		o.DemoUser.SetText(s.DemoUser)
		o.DemoPass.SetText(s.DemoPass)
		o.Demo.Show()
	} else {
		o.Demo.Hide()
	}
	if relayout {
		o.Content.Refresh()
	}
}

// URL is the first server URL, "" if none.
func (o *Overview) URL() string {
	if len(o.urls) == 0 {
		return ""
	}
	return o.urls[0]
}

func (o *Overview) setQR() {
	u := o.URL()
	if u == "" {
		o.QRText = ""
		o.QR.Hide()
		return
	}
	text := strings.TrimSuffix(u, "/") + "/setup"
	if text == o.QRText {
		return
	}
	png, err := qrcode.Encode(text, qrcode.Medium, 256)
	if err != nil {
		fyne.LogError("easbridge: QR code", err)
		o.QR.Hide()
		return
	}
	o.QRText = text
	o.QR.Resource = fyne.NewStaticResource("setup-qr.png", png)
	o.QR.Refresh()
	o.QR.Show()
}

// Devices is the second tab: every device the server knows, and what can
// be done to the selected one.
type Devices struct {
	Content fyne.CanvasObject
	Summary *widget.Label
	Table   *widget.Table

	Selected    *widget.Label // "user / device" of the selection
	Allow       *widget.Button
	Block       *widget.Button
	Wipe        *widget.Button // remote wipe (asks first)
	AccountWipe *widget.Button // account-only wipe (asks first)
	Forget      *widget.Button // forget the device (asks first)
	Result      *widget.Label  // outcome of the last action

	rows [][]string
	devs []eas.Device
	sel  deviceKey // zero: none
}

// DeviceColumns are the Devices table's column titles.
var DeviceColumns = []string{"User", "Device ID", "Type", "Model", "OS", "Protocol", "Last seen", "Access", "Wipe"}

var deviceColumnWidths = []float32{150, 170, 80, 100, 100, 70, 130, 75, 110}

func newDevices() *Devices {
	d := &Devices{Summary: wrapped(noDevices), Selected: widget.NewLabel(noSelection), Result: wrapped("")}
	d.Table = widget.NewTableWithHeaders(
		func() (int, int) { return len(d.rows), len(DeviceColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			text := ""
			if id.Row >= 0 && id.Row < len(d.rows) && id.Col >= 0 && id.Col < len(DeviceColumns) {
				text = d.rows[id.Row][id.Col]
			}
			o.(*widget.Label).SetText(text)
		},
	)
	d.Table.ShowHeaderColumn = false
	d.Table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	d.Table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 && id.Col < len(DeviceColumns) {
			o.(*widget.Label).SetText(DeviceColumns[id.Col])
		}
	}
	for i, w := range deviceColumnWidths {
		d.Table.SetColumnWidth(i, w)
	}
	d.Table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(d.devs) {
			d.sel = keyOf(d.devs[id.Row])
		}
		d.updateActions()
	}
	d.Allow = widget.NewButtonWithIcon("Allow", theme.ConfirmIcon(), nil)
	d.Block = widget.NewButtonWithIcon("Block", theme.CancelIcon(), nil)
	d.Wipe = widget.NewButtonWithIcon("Remote wipe", theme.WarningIcon(), nil)
	d.Wipe.Importance = widget.DangerImportance
	d.AccountWipe = widget.NewButtonWithIcon("Account-only wipe", theme.AccountIcon(), nil)
	d.AccountWipe.Importance = widget.WarningImportance
	d.Forget = widget.NewButtonWithIcon("Forget", theme.DeleteIcon(), nil)
	d.Selected.TextStyle.Bold = true
	d.Selected.Truncation = fyne.TextTruncateEllipsis
	actions := container.NewBorder(nil, nil, nil,
		container.NewHBox(d.Allow, d.Block, widget.NewSeparator(), d.AccountWipe, d.Wipe, d.Forget), d.Selected)
	d.Content = container.NewBorder(container.NewPadded(d.Summary), container.NewVBox(widget.NewSeparator(), actions, d.Result), nil, nil, d.Table)
	d.updateActions()
	return d
}

const noSelection = "Select a device to allow, block, wipe or forget it."

// deviceKey identifies a device.
type deviceKey struct{ user, id string }

func keyOf(d eas.Device) deviceKey { return deviceKey{d.User, d.ID} }

// Selection is the selected device; ok is false without one.
func (d *Devices) Selection() (eas.Device, bool) {
	for _, dv := range d.devs {
		if d.sel != (deviceKey{}) && keyOf(dv) == d.sel {
			return dv, true
		}
	}
	return eas.Device{}, false
}

// Select selects the device of the given row.
func (d *Devices) Select(row int) { d.Table.Select(widget.TableCellID{Row: row, Col: 0}) }

func (d *Devices) updateActions() {
	dv, ok := d.Selection()
	btns := []*widget.Button{d.Allow, d.Block, d.Wipe, d.AccountWipe, d.Forget}
	if !ok {
		d.sel = deviceKey{}
		d.Selected.SetText(noSelection)
		for _, b := range btns {
			b.Disable()
		}
		return
	}
	d.Selected.SetText(fmt.Sprintf("%s — %s (%s, %s, wipe: %s)", dv.ID, dv.User, dash(dv.Type), dv.Access, dv.Wipe))
	for _, b := range btns {
		b.Enable()
	}
	if dv.Access == eas.AccessAllowed {
		d.Allow.Disable()
	}
	if dv.Access == eas.AccessBlocked {
		d.Block.Disable()
	}
	if dv.Wipe != eas.WipeNone {
		d.Wipe.Disable()
		d.AccountWipe.Disable()
	}
}

// bind connects the action buttons to src: each runs off the UI goroutine,
// shows its outcome in Result and then calls refresh.
func (d *Devices) bind(src Source, run *runner, refresh func()) {
	act := func(verb string, ask string, f func(ctx context.Context, dv eas.Device) error) func() {
		return func() {
			dv, ok := d.Selection()
			if !ok {
				return
			}
			do := func() {
				d.Result.SetText(verb + " " + dv.ID + "…")
				d.Result.Importance = widget.MediumImportance
				run.Go(func(ctx context.Context) func() {
					err := f(ctx, dv)
					return func() {
						if err != nil {
							d.Result.Importance = widget.DangerImportance
							d.Result.SetText(verb + " " + dv.ID + " failed: " + err.Error())
						} else {
							d.Result.Importance = widget.SuccessImportance
							d.Result.SetText(verb + " " + dv.ID + ": done.")
						}
						refresh()
					}
				})
			}
			if ask == "" {
				do()
				return
			}
			run.confirm(verb, fmt.Sprintf(ask, dv.ID, dv.User), do)
		}
	}
	d.Allow.OnTapped = act("Allow", "", func(ctx context.Context, dv eas.Device) error {
		return src.SetAccess(ctx, dv.User, dv.ID, eas.AccessAllowed)
	})
	d.Block.OnTapped = act("Block", "", func(ctx context.Context, dv eas.Device) error {
		return src.SetAccess(ctx, dv.User, dv.ID, eas.AccessBlocked)
	})
	d.Wipe.OnTapped = act("Remote wipe", "Erase ALL data on %s (%s)?\n\nThe phone is reset to factory settings the next time it connects. This cannot be undone.",
		func(ctx context.Context, dv eas.Device) error { return src.RequestWipe(ctx, dv.User, dv.ID, false) })
	d.AccountWipe.OnTapped = act("Account-only wipe", "Remove this account and its data from %s (%s)?\n\nThe phone deletes the account the next time it connects (EAS 16.1; older phones are shut out instead).",
		func(ctx context.Context, dv eas.Device) error { return src.RequestWipe(ctx, dv.User, dv.ID, true) })
	d.Forget.OnTapped = act("Forget", "Forget %s (%s) and its sync state?\n\nIf it connects again it must set up and sync from scratch.",
		func(ctx context.Context, dv eas.Device) error { return src.ForgetDevice(ctx, dv.User, dv.ID) })
}

const noDevices = "No device has connected yet. On the phone, add an Exchange (ActiveSync) account with the server URL from the Overview tab."

// SetDevices shows devs (in the order given: most recently seen first).
func (d *Devices) SetDevices(devs []eas.Device) {
	rows := make([][]string, len(devs))
	for i, dv := range devs {
		rows[i] = deviceRow(dv)
	}
	d.devs = slices.Clone(devs)
	if slices.EqualFunc(rows, d.rows, slices.Equal) {
		d.updateActions()
		return
	}
	d.rows = rows
	defer func() {
		// Keep the table's selection on the selected device.
		for i, dv := range d.devs {
			if d.sel != (deviceKey{}) && keyOf(dv) == d.sel {
				d.Table.Select(widget.TableCellID{Row: i, Col: 0})
				d.updateActions()
				return
			}
		}
		d.Table.UnselectAll()
		d.updateActions()
	}()
	if len(rows) == 0 {
		d.Summary.SetText(noDevices)
	} else {
		d.Summary.SetText(countText(len(rows), "device", "devices") + " known, most recently seen first.")
	}
	d.Table.Refresh()
}

// Rows is the table content, one []string per device in DeviceColumns order.
func (d *Devices) Rows() [][]string { return d.rows }

func deviceRow(d eas.Device) []string {
	model := d.Model
	if model == "" {
		model = d.FriendlyName
	}
	seen := "-"
	if !d.LastSeen.IsZero() {
		seen = d.LastSeen.Local().Format("2006-01-02 15:04")
	}
	return []string{
		dash(d.User), dash(d.ID), dash(d.Type), dash(model), dash(d.OS),
		dash(string(d.ProtocolVersion)), seen, d.Access.String(), d.Wipe.String(),
	}
}

func selectable(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Selectable = true
	return l
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func countText(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}
