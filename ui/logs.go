package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app/logbus"
)

// MaxLogLines bounds the Logs list; older exchanges are dropped from it.
const MaxLogLines = 1000

// maxXML bounds the text put in an XML pane (TextGrid keeps a cell per rune).
const maxXML = 512 << 10

// Logs is the third tab: the live exchange log, newest last, and the
// request and response XML of the selected exchange.
type Logs struct {
	Content fyne.CanvasObject

	List     *widget.List
	Filter   *widget.Entry
	Pause    *widget.Button
	Clear    *widget.Button
	Export   *widget.Button // writes the visible exchanges to a file
	Redact   *widget.Check  // the runtime's redaction of logged bodies
	Summary  *widget.Label
	Detail   *widget.Label    // header line of the selected exchange
	Request  *widget.TextGrid // request XML of the selected exchange
	Response *widget.TextGrid // response XML of the selected exchange

	src      Source
	run      *runner    // set by NewWindow; Export needs its window
	entries  []logEntry // oldest first, at most MaxLogLines
	visible  []int      // indices into entries matching the filter
	terms    []string   // lowercased filter terms, all must match
	lastID   uint64     // highest bus ID added, to skip duplicates
	paused   bool
	skipped  int    // exchanges not added while paused
	selID    uint64 // bus ID of the selected exchange, 0 for none
	selIndex int    // list index of the selection, -1 for none
}

type logEntry struct {
	ex   logbus.Exchange
	line string
	hay  string // lowercased text the filter matches
}

func newLogs(a fyne.App, src Source) *Logs {
	l := &Logs{
		src:      src,
		selIndex: -1,
		Summary:  widget.NewLabel(""),
		Detail:   selectable("Select an exchange to see its request and response."),
		Request:  widget.NewTextGrid(),
		Response: widget.NewTextGrid(),
	}
	l.Detail.Wrapping = fyne.TextWrapWord
	l.List = widget.NewList(
		func() int { return len(l.visible) },
		func() fyne.CanvasObject {
			t := widget.NewLabel("00:00:00  device  Command  HTTP 200 EAS 1  10ms")
			t.TextStyle.Monospace = true
			t.Truncation = fyne.TextTruncateEllipsis
			return t
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			t := o.(*widget.Label)
			if id < 0 || id >= len(l.visible) {
				t.SetText("")
				return
			}
			e := &l.entries[l.visible[id]]
			imp := widget.MediumImportance
			if e.ex.HTTPStatus >= 400 || e.ex.Error != "" {
				imp = widget.DangerImportance
			}
			if t.Importance != imp {
				t.Importance = imp
				t.Refresh()
			}
			t.SetText(e.line)
		},
	)
	l.List.OnSelected = l.selected
	l.List.OnUnselected = func(id widget.ListItemID) {
		if id == l.selIndex {
			l.selIndex = -1
		}
	}

	l.Filter = widget.NewEntry()
	l.Filter.SetPlaceHolder("Filter: device, user, command or status (e.g. Sync 500)")
	l.Filter.OnChanged = l.SetFilter
	l.Pause = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), func() { l.SetPaused(!l.paused) })
	l.Clear = widget.NewButtonWithIcon("Clear", theme.DeleteIcon(), l.ClearAll)
	l.Export = widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), l.exportDialog)
	l.Redact = widget.NewCheck("Redact", nil)
	if src != nil {
		l.Redact.SetChecked(src.Redact())
		l.Redact.OnChanged = src.SetRedact
	}

	pane := func(title string, g *widget.TextGrid) fyne.CanvasObject {
		g.ShowLineNumbers = false
		copyBtn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
			a.Clipboard().SetContent(g.Text())
		})
		copyBtn.Importance = widget.LowImportance
		head := container.NewBorder(nil, nil, nil, copyBtn, widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		return container.NewBorder(head, nil, nil, nil, g)
	}
	xml := container.NewHSplit(pane("Request", l.Request), pane("Response", l.Response))
	detail := container.NewBorder(l.Detail, nil, nil, nil, xml)
	split := container.NewVSplit(l.List, detail)
	split.Offset = 0.4

	bar := container.NewBorder(nil, nil, nil, container.NewHBox(l.Redact, l.Pause, l.Clear, l.Export), l.Filter)
	l.Content = container.NewBorder(bar, l.Summary, nil, nil, split)
	l.updateSummary()
	return l
}

// Add appends exchanges (oldest first) unless paused. Exchanges with a bus
// ID not above the last one added are skipped, so Recent and Subscribe can
// overlap.
func (l *Logs) Add(exs ...logbus.Exchange) {
	if l.paused {
		for _, e := range exs {
			if e.ID == 0 || e.ID > l.lastID {
				l.skipped++
			}
		}
		l.updateSummary()
		return
	}
	added := 0
	for _, e := range exs {
		if e.ID != 0 {
			if e.ID <= l.lastID {
				continue
			}
			l.lastID = e.ID
		}
		l.entries = append(l.entries, newLogEntry(e))
		added++
	}
	if added == 0 {
		return
	}
	if n := len(l.entries) - MaxLogLines; n > 0 {
		l.entries = append(l.entries[:0:0], l.entries[n:]...)
	}
	l.rebuild()
	if l.selID == 0 {
		l.List.ScrollToBottom()
	}
}

// ExportTo writes the visible exchanges, oldest first, as logbus.WriteTo
// does.
func (l *Logs) ExportTo(w io.Writer) error {
	for _, j := range l.visible {
		if err := logbus.WriteTo(w, l.entries[j].ex); err != nil {
			return err
		}
	}
	return nil
}

// exportDialog asks for a file name and writes the visible exchanges to
// it (created 0600: exchanges may hold mail content).
func (l *Logs) exportDialog() {
	if l.run == nil || len(l.visible) == 0 {
		return
	}
	var b strings.Builder
	if err := l.ExportTo(&b); err != nil { // snapshot on the UI goroutine
		l.run.lastModal = showInfo(l.run.win, "Export failed", err.Error())
		return
	}
	text, n := b.String(), len(l.visible)
	name := widget.NewEntry()
	name.SetText(defaultExportPath(time.Now()))
	l.run.lastModal = showModal(l.run.win, "Export exchanges",
		fmt.Sprintf("Write the %s shown to this file:", countText(n, "exchange", "exchanges")), "Save", false, name, func() {
			path := name.Text
			l.run.Go(func(context.Context) func() {
				err := os.WriteFile(path, []byte(text), 0o600)
				return func() {
					if err != nil {
						l.run.lastModal = showInfo(l.run.win, "Export failed", err.Error())
						return
					}
					l.Summary.SetText(fmt.Sprintf("Exported %s to %s.", countText(n, "exchange", "exchanges"), path))
				}
			})
		})
}

func defaultExportPath(now time.Time) string {
	dir, err := os.UserHomeDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "easbridge-exchanges-"+now.Format("20060102-150405")+".txt")
}

// Lines are the visible lines, oldest first.
func (l *Logs) Lines() []string {
	out := make([]string, len(l.visible))
	for i, j := range l.visible {
		out[i] = l.entries[j].line
	}
	return out
}

// Paused reports whether new exchanges are being left out.
func (l *Logs) Paused() bool { return l.paused }

// SetPaused stops (or resumes) adding exchanges. Exchanges published
// while paused are not added later.
func (l *Logs) SetPaused(p bool) {
	l.paused = p
	if p {
		l.Pause.SetText("Resume")
		l.Pause.SetIcon(theme.MediaPlayIcon())
		l.Pause.Importance = widget.HighImportance
	} else {
		l.skipped = 0
		l.Pause.SetText("Pause")
		l.Pause.SetIcon(theme.MediaPauseIcon())
		l.Pause.Importance = widget.MediumImportance
	}
	l.Pause.Refresh()
	l.updateSummary()
}

// ClearAll empties the list, the panes and the bus's history.
func (l *Logs) ClearAll() {
	l.entries, l.visible = nil, nil
	l.skipped = 0
	l.selID, l.selIndex = 0, -1
	l.List.UnselectAll()
	l.List.Refresh()
	l.showExchange(nil)
	if l.src != nil {
		l.src.Clear()
	}
	l.updateSummary()
}

// SetFilter shows only the exchanges whose device, user, command or status
// contain every space-separated term of f (case-insensitive).
func (l *Logs) SetFilter(f string) {
	l.terms = strings.Fields(strings.ToLower(f))
	if l.Filter.Text != f {
		l.Filter.SetText(f) // calls back with the same text
	}
	l.rebuild()
}

func (l *Logs) rebuild() {
	l.visible = l.visible[:0]
	for i := range l.entries {
		if l.matches(&l.entries[i]) {
			l.visible = append(l.visible, i)
		}
	}
	// Keep the selection on the same exchange as lines come and go.
	idx := -1
	if l.selID != 0 {
		for i, j := range l.visible {
			if l.entries[j].ex.ID == l.selID {
				idx = i
				break
			}
		}
	}
	switch {
	case idx >= 0 && idx != l.selIndex:
		l.List.Select(idx)
	case idx < 0 && l.selIndex >= 0:
		l.selIndex = -1
		l.List.UnselectAll()
	}
	if idx < 0 && l.selID != 0 && !l.holds(l.selID) {
		l.selID = 0 // dropped from the list: follow new lines again
	}
	l.List.Refresh()
	l.updateSummary()
}

func (l *Logs) holds(id uint64) bool {
	for i := range l.entries {
		if l.entries[i].ex.ID == id {
			return true
		}
	}
	return false
}

func (l *Logs) matches(e *logEntry) bool {
	for _, t := range l.terms {
		if !strings.Contains(e.hay, t) {
			return false
		}
	}
	return true
}

func (l *Logs) selected(id widget.ListItemID) {
	if id < 0 || id >= len(l.visible) {
		return
	}
	l.selIndex = id
	e := &l.entries[l.visible[id]]
	if e.ex.ID != 0 && e.ex.ID == l.selID {
		return // same exchange at a new index
	}
	l.selID = e.ex.ID
	l.showExchange(&e.ex)
}

func (l *Logs) showExchange(e *logbus.Exchange) {
	if e == nil {
		l.Detail.SetText("Select an exchange to see its request and response.")
		l.Request.SetText("")
		l.Response.SetText("")
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#%d, %s, %s", e.ID, e.Time.Local().Format("2006-01-02 15:04:05.000"), dash(e.Command))
	if e.Version != "" {
		fmt.Fprintf(&b, " (EAS %s)", e.Version)
	}
	fmt.Fprintf(&b, ", user %s, device %s", dash(e.User), dash(e.DeviceID))
	if e.DeviceType != "" {
		fmt.Fprintf(&b, " (%s)", e.DeviceType)
	}
	if e.Remote != "" {
		fmt.Fprintf(&b, " from %s", e.Remote)
	}
	fmt.Fprintf(&b, ": %s in %s", statusText(*e), shortDuration(e.Duration))
	if e.Error != "" {
		fmt.Fprintf(&b, "\nError: %s", e.Error)
	}
	l.Detail.SetText(b.String())
	l.Request.SetText(paneText(e.RequestXML))
	l.Response.SetText(paneText(e.ResponseXML))
	l.Request.ScrollToTop()
	l.Response.ScrollToTop()
}

func paneText(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) > maxXML {
		return s[:maxXML] + fmt.Sprintf("\n… (%d more bytes not shown)", len(s)-maxXML)
	}
	return s
}

func (l *Logs) updateSummary() {
	var s string
	switch {
	case len(l.entries) == 0:
		s = "No exchanges yet."
	case len(l.terms) > 0:
		s = fmt.Sprintf("%d of %s shown.", len(l.visible), countText(len(l.entries), "exchange", "exchanges"))
	default:
		s = countText(len(l.entries), "exchange", "exchanges") + "."
	}
	if l.paused {
		s += fmt.Sprintf(" Paused: %s not shown.", countText(l.skipped, "new exchange", "new exchanges"))
	}
	l.Summary.SetText(s)
}

func newLogEntry(e logbus.Exchange) logEntry {
	dev := e.DeviceID
	if dev == "" {
		dev = e.Remote
	}
	st := statusText(e)
	line := fmt.Sprintf("%s  %-16s  %-16s  %-16s  %s", e.Time.Local().Format("15:04:05"), dash(dev), dash(e.Command), st, shortDuration(e.Duration))
	if e.Error != "" {
		line += "  " + firstLine(e.Error)
	}
	hay := strings.ToLower(strings.Join([]string{e.DeviceID, e.DeviceType, e.User, e.Remote, e.Command, st}, " "))
	return logEntry{ex: e, line: line, hay: hay}
}

func statusText(e logbus.Exchange) string {
	s := fmt.Sprintf("HTTP %d", e.HTTPStatus)
	if e.EASStatus != 0 {
		s += fmt.Sprintf(" EAS %d", e.EASStatus)
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
