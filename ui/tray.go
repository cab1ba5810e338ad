package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"easbridge/app"
	"easbridge/assets"
	"easbridge/server/eas"
)

// Tray is the system tray menu: a status line, the last error if any,
// "Open window", "Copy server URL", "Pause sync"/"Resume sync" and "Quit". Its methods run on the UI
// goroutine.
type Tray struct {
	Menu    *fyne.Menu
	Status  *fyne.MenuItem // disabled: "Running — 2 devices", ", 1 waiting for approval" when one is quarantined
	Error   *fyne.MenuItem // disabled: the last error; in the menu only when there is one
	Open    *fyne.MenuItem
	CopyURL *fyne.MenuItem
	Pause   *fyne.MenuItem // "Pause sync" or "Resume sync"
	Quit    *fyne.MenuItem

	desk desktop.App
	src  Source
	last app.Status
}

// NewTray installs the tray icon and menu when a supports a system tray
// (desktop.App) and returns nil otherwise: then the window is the only
// surface.
func NewTray(a fyne.App, w *Window) *Tray {
	desk, ok := a.(desktop.App)
	if !ok {
		return nil
	}
	return newTray(a, desk, w)
}

func newTray(a fyne.App, desk desktop.App, w *Window) *Tray {
	t := &Tray{desk: desk, src: w.src}
	t.Status = fyne.NewMenuItem("Starting…", nil)
	t.Status.Disabled = true
	t.Error = fyne.NewMenuItem("", nil)
	t.Error.Disabled = true
	t.Open = fyne.NewMenuItem("Open window", func() {
		w.Window.Show()
		w.Window.RequestFocus()
	})
	t.CopyURL = fyne.NewMenuItem("Copy server URL", func() {
		if u := w.URL(); u != "" {
			a.Clipboard().SetContent(u)
		}
	})
	t.Pause = fyne.NewMenuItem("Pause sync", func() { t.SetPaused(!t.src.Paused()) })
	t.Quit = fyne.NewMenuItem("Quit", a.Quit)
	t.Quit.IsQuit = true
	t.Menu = fyne.NewMenu("easbridge")
	t.Menu.Items = t.items()
	desk.SetSystemTrayMenu(t.Menu)
	desk.SetSystemTrayIcon(assets.Icon)
	desk.SetSystemTrayWindow(w.Window)
	return t
}

func (t *Tray) items() []*fyne.MenuItem {
	items := []*fyne.MenuItem{t.Status}
	if t.Error.Label != "" {
		items = append(items, t.Error)
	}
	return append(items, fyne.NewMenuItemSeparator(), t.Open, t.CopyURL, t.Pause, fyne.NewMenuItemSeparator(), t.Quit)
}

// SetStatus updates the status lines; the menu is rebuilt only when they
// change.
func (t *Tray) SetStatus(s app.Status) {
	t.last = s
	status := "Stopped"
	paused := t.src != nil && t.src.Paused()
	switch {
	case s.Running && paused:
		status = "Sync paused — " + countText(len(s.Devices), "device", "devices")
	case s.Running:
		status = "Running — " + countText(len(s.Devices), "device", "devices")
	}
	if n := quarantinedCount(s.Devices); s.Running && n > 0 {
		status += fmt.Sprintf(", %d waiting for approval", n)
	}
	pauseLabel := "Pause sync"
	if paused {
		pauseLabel = "Resume sync"
	}
	errText := ""
	if s.LastError != "" {
		errText = "Error: " + ellipsis(firstLine(s.LastError), 80)
	}
	if status == t.Status.Label && errText == t.Error.Label && pauseLabel == t.Pause.Label {
		return
	}
	t.Status.Label, t.Error.Label, t.Pause.Label = status, errText, pauseLabel
	t.CopyURL.Disabled = len(s.URLs) == 0
	t.Menu.Items = t.items()
	t.desk.SetSystemTrayMenu(t.Menu) // what Menu.Refresh does for the tray
}

// SetPaused pauses or resumes sync (the server answers 503 meanwhile) and
// updates the menu.
func (t *Tray) SetPaused(p bool) {
	t.src.SetPaused(p)
	t.SetStatus(t.last)
}

// closeBehaviour makes closing the window hide it while a tray can bring
// it back (saying so the first time), and quit the app otherwise. It
// returns the close intercept, nil for the latter.
func closeBehaviour(a fyne.App, w *Window, hide bool) (intercept func()) {
	if !hide {
		w.Window.SetMaster()
		return nil
	}
	told := false
	intercept = func() {
		w.Window.Hide()
		if !told {
			told = true
			a.SendNotification(fyne.NewNotification("easbridge is still running",
				"The server keeps serving your devices. Open the window or quit from the tray icon."))
		}
	}
	w.Window.SetCloseIntercept(intercept)
	return intercept
}

// quarantinedCount is the number of devices waiting for an administrator's
// approval.
func quarantinedCount(devs []eas.Device) int {
	n := 0
	for _, d := range devs {
		if d.Access == eas.AccessQuarantined {
			n++
		}
	}
	return n
}

func ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
