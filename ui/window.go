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
)

// Window is the main window: Overview, Devices, Policies, Accounts,
// Folders and Logs tabs. Its methods must be called on the UI goroutine (from
// callbacks or through fyne.Do).
type Window struct {
	Window   fyne.Window
	Tabs     *container.AppTabs
	Overview *Overview
	Devices  *Devices
	Policies *Policies
	Accounts *Accounts
	Folders  *Folders
	Logs     *Logs
	Problems *Problems    // problems.go
	Oof      *OutOfOffice // in the Accounts tab (problems.go)

	src   Source
	run   *runner
	prefs fyne.Preferences // size and last tab (prefs.go)
}

// Tab indexes.
const (
	TabOverview = iota
	TabDevices
	TabPolicies
	TabAccounts
	TabFolders
	TabLogs
)

// NewWindow builds the window over src without showing it and without
// reading anything: Start loads the selected tab, and each tab loads again
// when it is selected. The caller feeds it with SetStatus and Logs.Add (the
// bridge does that in Run).
func NewWindow(a fyne.App, src Source) *Window { return newWindow(a, src, newRunner) }

// newWindow is NewWindow with the runner made by newRun: tests pass one
// that runs the work at once on the calling goroutine.
func newWindow(a fyne.App, src Source, newRun func(fyne.Window) *runner) *Window {
	w := &Window{Window: a.NewWindow("easbridge"), src: src, prefs: a.Preferences()}
	w.run = newRun(w.Window)
	w.Window.SetIcon(assets.Icon)
	w.Overview = newOverview(a)
	w.Devices = newDevices()
	w.Devices.bind(src, w.run, w.Refresh)
	w.Policies = newPolicies(src, w.run)
	w.Accounts = newAccounts(src, w.run)
	fsrc, _ := src.(FolderSource)
	w.Folders = newFolders(fsrc, w.run)
	w.Logs = newLogs(a, src)
	w.Logs.run = w.run
	w.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Overview", theme.HomeIcon(), w.Overview.Content),
		container.NewTabItemWithIcon("Devices", theme.ComputerIcon(), w.Devices.Content),
		container.NewTabItemWithIcon("Policies", theme.SettingsIcon(), w.Policies.Content),
		container.NewTabItemWithIcon("Accounts", theme.AccountIcon(), w.Accounts.Content),
		container.NewTabItemWithIcon("Folders", theme.FolderIcon(), w.Folders.Content),
		container.NewTabItemWithIcon("Logs", theme.ListIcon(), w.Logs.Content),
	)
	w.addProblems() // Problems tab, out of office (problems.go)
	w.remember()    // size and last tab (prefs.go), before OnSelected: nothing loads yet
	w.Tabs.OnSelected = func(t *container.TabItem) {
		w.saveTab() // prefs.go
		w.load(t)
	}
	return w
}

// Start loads what the selected tab shows; Run calls it before showing the
// window.
func (w *Window) Start() {
	if t := w.Tabs.Selected(); t != nil {
		w.load(t)
	}
}

// load reads, through the runner, what tab t shows beyond the status the
// bridge brings.
func (w *Window) load(t *container.TabItem) {
	switch t.Content {
	case w.Folders.Content:
		w.Folders.Load()
	case w.Problems.Content:
		w.Problems.Load()
	case w.Tabs.Items[TabAccounts].Content:
		w.Oof.Load()
	}
}

// SetStatus shows a status snapshot.
func (w *Window) SetStatus(s app.Status) {
	w.Overview.SetStatus(s)
	w.Devices.SetDevices(s.Devices)
	w.Policies.SetDevices(s.Devices) // accounts and devices as policy scopes
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
