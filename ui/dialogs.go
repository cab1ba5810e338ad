package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Small modal dialogs built from widgets. (fyne's dialog package needs a
// module the build does not carry: its file dialogs import fancyfs.)

// Modal is a shown modal dialog; tests tap its buttons.
type Modal struct {
	PopUp   *widget.PopUp
	Message *widget.Label
	Entry   *widget.Entry // the file name of a save dialog, else nil
	OK      *widget.Button
	Cancel  *widget.Button
}

// showModal shows title, msg and the buttons over win's canvas.
func showModal(win fyne.Window, title, msg, okText string, danger bool, entry *widget.Entry, ok func()) *Modal {
	m := &Modal{Message: wrapped(msg), Entry: entry}
	m.OK = widget.NewButtonWithIcon(okText, theme.ConfirmIcon(), func() {
		m.PopUp.Hide()
		if ok != nil {
			ok()
		}
	})
	m.OK.Importance = widget.HighImportance
	if danger {
		m.OK.Importance = widget.DangerImportance
	}
	m.Cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { m.PopUp.Hide() })
	body := container.NewVBox(widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), m.Message)
	if entry != nil {
		body.Add(entry)
	}
	body.Add(container.NewHBox(layout.NewSpacer(), m.Cancel, m.OK))
	m.PopUp = widget.NewModalPopUp(container.NewPadded(body), win.Canvas())
	m.PopUp.Resize(fyne.NewSize(460, m.PopUp.MinSize().Height))
	m.PopUp.Show()
	return m
}

// showInfo shows a message with a single Close button.
func showInfo(win fyne.Window, title, msg string) *Modal {
	m := showModal(win, title, msg, "Close", false, nil, nil)
	m.Cancel.Hide()
	return m
}
