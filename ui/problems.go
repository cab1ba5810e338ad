package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
)

// ProblemSource is what the Problems tab needs (app/poison.go);
// RuntimeSource has it. Every method touches the store: the UI calls them
// off the UI goroutine.
type ProblemSource interface {
	PoisonItems(ctx context.Context) ([]app.PoisonItem, error)
	RetryPoisonItem(ctx context.Context, user, id string) error
	SkipPoisonItem(ctx context.Context, user, id string) error
}

var _ ProblemSource = runtimeSource{}

// Problems is the Problems tab: items that kept failing to sync and were
// set aside while their folders went on, with Retry and Skip for good.
type Problems struct {
	Content fyne.CanvasObject

	Reload  *widget.Button
	Summary *widget.Label
	List    *fyne.Container
	Rows    []*ProblemRow
	Result  *widget.Label // outcome of the last action

	src ProblemSource
	run *runner
}

// ProblemRow is one item's line.
type ProblemRow struct {
	Item   app.PoisonItem
	Title  *widget.Label // folder and item
	Reason *widget.Label
	State  *widget.Label // state, tries, device, when
	Retry  *widget.Button
	Skip   *widget.Button
}

func newProblems(src ProblemSource, run *runner) *Problems {
	p := &Problems{src: src, run: run, List: container.NewVBox(), Summary: widget.NewLabel(""), Result: wrapped("")}
	p.Reload = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), p.Load)
	intro := wrapped("Items that failed to sync several times in a row (a calendar entry, contact or message " +
		"that cannot be converted, a window the phone kept rejecting, a change from the phone that kept failing) " +
		"are set aside here while the rest of their folder goes on syncing. Retry sends them again at the " +
		"next sync; Skip for good keeps them out.")
	top := container.NewVBox(intro, container.NewBorder(nil, nil, nil, p.Reload, p.Summary))
	p.Content = container.NewBorder(top, p.Result, nil, nil, container.NewVScroll(p.List))
	if src == nil {
		p.Summary.SetText("Not available.")
		p.Reload.Disable()
	}
	return p
}

// Load reads the list off the UI goroutine and shows it.
func (p *Problems) Load() {
	if p.src == nil {
		return
	}
	p.run.Go(func(ctx context.Context) func() {
		items, err := p.src.PoisonItems(ctx)
		return func() {
			if err != nil {
				p.Result.SetText("Could not read the list: " + err.Error())
				return
			}
			p.show(items)
		}
	})
}

func (p *Problems) show(items []app.PoisonItem) {
	p.Rows = p.Rows[:0]
	p.List.RemoveAll()
	open := 0
	for _, it := range items {
		if it.State != app.PoisonSkipped {
			open++
		}
		r := p.row(it)
		p.Rows = append(p.Rows, r)
		p.List.Add(container.NewBorder(nil, widget.NewSeparator(), nil,
			container.NewCenter(container.NewHBox(r.Retry, r.Skip)),
			container.NewVBox(r.Title, r.Reason, r.State)))
	}
	switch {
	case len(items) == 0:
		p.Summary.SetText("No problems: every item synced.")
	case open == 0:
		p.Summary.SetText(fmt.Sprintf("%d items skipped for good.", len(items)))
	default:
		p.Summary.SetText(fmt.Sprintf("%d items need attention, %d skipped for good.", open, len(items)-open))
	}
	p.List.Refresh()
}

func (p *Problems) row(it app.PoisonItem) *ProblemRow {
	r := &ProblemRow{
		Item:   it,
		Title:  widget.NewLabelWithStyle(it.Folder+"  "+it.Item, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		Reason: wrapped(it.Reason),
		State:  widget.NewLabel(problemState(it)),
	}
	r.Title.Truncation = fyne.TextTruncateEllipsis
	r.Retry = widget.NewButtonWithIcon("Retry", theme.MediaReplayIcon(), func() { p.act("Retry", it, p.src.RetryPoisonItem) })
	r.Skip = widget.NewButtonWithIcon("Skip for good", theme.CancelIcon(), func() { p.act("Skip", it, p.src.SkipPoisonItem) })
	switch it.State {
	case app.PoisonSkipped:
		r.Skip.Disable()
	case app.PoisonRetrying:
		r.Retry.Disable()
	}
	return r
}

func problemState(it app.PoisonItem) string {
	var what string
	switch it.Kind {
	case "convert":
		what = "could not be converted"
	case "window":
		what = "the phone kept rejecting it"
	case "client":
		what = "the phone's change kept failing"
	default:
		what = it.Kind
	}
	return fmt.Sprintf("%s · %s after %d tries · %s on %s · last %s", strings.ToUpper(it.State[:1])+it.State[1:],
		what, it.Tries, it.User, it.DeviceID, it.LastSeen.Local().Format("2006-01-02 15:04"))
}

func (p *Problems) act(name string, it app.PoisonItem, f func(ctx context.Context, user, id string) error) {
	p.run.Go(func(ctx context.Context) func() {
		err := f(ctx, it.User, it.ID)
		return func() {
			if err != nil {
				p.Result.SetText(name + " failed: " + err.Error())
				return
			}
			p.Result.SetText(name + ": " + it.Item)
			p.Load()
		}
	})
}

// OofSource is what the out-of-office section needs (app/oof.go).
type OofSource interface {
	OofStates(ctx context.Context) ([]app.OofState, error)
}

var _ OofSource = runtimeSource{}

// OutOfOffice shows, per user, the out-of-office reply last set from a
// phone (or read by one): on, scheduled until, off, or not available.
type OutOfOffice struct {
	Content fyne.CanvasObject
	Lines   *fyne.Container // one label per user

	src      OofSource
	run      *runner
	relayout func() // lays out the tab again when the lines change (set by addProblems)
}

func newOutOfOffice(src OofSource, run *runner) *OutOfOffice {
	o := &OutOfOffice{src: src, run: run, Lines: container.NewVBox()}
	o.Content = widget.NewCard("Out of office", "as last set or read by a phone (Sieve vacation on the mail server)", o.Lines)
	return o
}

// Load reads the states off the UI goroutine and shows them.
func (o *OutOfOffice) Load() {
	if o.src == nil {
		return
	}
	o.run.Go(func(ctx context.Context) func() {
		states, err := o.src.OofStates(ctx)
		return func() { o.show(states, err) }
	})
}

func (o *OutOfOffice) show(states []app.OofState, err error) {
	o.Lines.RemoveAll()
	if err != nil {
		o.Lines.Add(wrapped("Could not read: " + err.Error()))
	}
	if err == nil && len(states) == 0 {
		o.Lines.Add(widget.NewLabel("No phone has connected yet."))
	}
	for _, s := range states {
		o.Lines.Add(wrapped(s.User + ": " + OofText(s)))
	}
	o.Lines.Refresh()
	if o.relayout != nil {
		o.relayout() // the card grew or shrank: its tab gives it the new height
	}
}

// OofText describes one user's out-of-office state.
func OofText(s app.OofState) string {
	var t string
	switch s.State {
	case "":
		t = "never set from a phone"
	case "on":
		t = "on"
	case "scheduled":
		t = "scheduled until " + s.Until.Local().Format("2006-01-02 15:04")
	default:
		t = "off"
	}
	if s.Err != "" {
		if strings.HasPrefix(s.Err, "not available") {
			return s.Err
		}
		t += " (last change failed: " + s.Err + ")"
	}
	return t
}

// ProblemsTab is the Problems tab's item (appended after the others).
func (w *Window) ProblemsTab() *container.TabItem {
	for _, t := range w.Tabs.Items {
		if t.Content == w.Problems.Content {
			return t
		}
	}
	return nil
}

// addProblems adds the Problems tab and the out-of-office section of the
// Accounts tab (when the source has them); Window.load loads them when
// their tab is selected.
func (w *Window) addProblems() {
	psrc, _ := w.src.(ProblemSource)
	w.Problems = newProblems(psrc, w.run)
	w.Tabs.Append(container.NewTabItemWithIcon("Problems", theme.WarningIcon(), w.Problems.Content))
	osrc, _ := w.src.(OofSource)
	w.Oof = newOutOfOffice(osrc, w.run)
	if osrc != nil {
		acc := w.Tabs.Items[TabAccounts]
		inner := acc.Content
		wrapper := container.NewBorder(nil, w.Oof.Content, nil, nil, inner)
		acc.Content = wrapper
		w.Oof.relayout = wrapper.Refresh
		inner.Show() // the tabs hid it as an unselected tab's content; they show or hide the wrapper now
		w.Tabs.Refresh()
	}
}
