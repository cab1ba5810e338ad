package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

// The window remembers its size and last tab in the app's preferences
// (fyne Preferences, kept per AppID).
const (
	PrefWidth  = "window.width"
	PrefHeight = "window.height"
	PrefTab    = "window.tab"
)

// DefaultSize is the window's size the first time.
var DefaultSize = fyne.NewSize(1040, 680)

// minRemembered is the smallest size restored (a minimised window reports
// a tiny one).
var minRemembered = fyne.NewSize(480, 320)

// remember restores the size and tab saved in the preferences, then keeps
// the size saved whenever the window is resized (saveTab keeps the tab).
func (w *Window) remember() {
	p := w.prefs
	size := DefaultSize
	if wd, ht := float32(p.Float(PrefWidth)), float32(p.Float(PrefHeight)); wd >= minRemembered.Width && ht >= minRemembered.Height {
		size = fyne.NewSize(wd, ht)
	}
	if i := p.Int(PrefTab); i > 0 && i < len(w.Tabs.Items) {
		w.Tabs.SelectIndex(i)
	}
	w.Window.SetContent(container.New(&resizeWatch{onResize: func() {
		s := w.Window.Canvas().Size()
		if s.Width < minRemembered.Width || s.Height < minRemembered.Height {
			return
		}
		if float32(p.Float(PrefWidth)) != s.Width || float32(p.Float(PrefHeight)) != s.Height {
			p.SetFloat(PrefWidth, float64(s.Width))
			p.SetFloat(PrefHeight, float64(s.Height))
		}
	}}, w.Tabs))
	w.Window.Resize(size)
}

// saveTab saves the selected tab (on each selection).
func (w *Window) saveTab() { w.prefs.SetInt(PrefTab, w.Tabs.SelectedIndex()) }

// resizeWatch lays out its one object over the whole space and reports
// each new size: fyne has no resize event, but the window's content is
// laid out again whenever the window changes size.
type resizeWatch struct {
	onResize func()
	last     fyne.Size
}

func (r *resizeWatch) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	if size != r.last {
		r.last = size
		r.onResize()
	}
}

func (r *resizeWatch) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}
