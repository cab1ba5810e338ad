package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
)

// runner runs slow work (store, files, network) off the UI goroutine and
// hands its result back to the UI goroutine. Tests make both synchronous.
type runner struct {
	bg      func(func())                       // default: go f()
	ui      func(func())                       // default: fyne.Do
	confirm func(title, msg string, ok func()) // default: a confirmation dialog
	win     fyne.Window                        // parent of dialogs
	timeout time.Duration                      // bound of one action

	lastModal *Modal // the last dialog shown, for tests
}

func newRunner(win fyne.Window) *runner {
	r := &runner{
		bg:      func(f func()) { go f() },
		ui:      fyne.Do,
		win:     win,
		timeout: time.Minute,
	}
	r.confirm = func(title, msg string, ok func()) {
		r.lastModal = showModal(r.win, title+"?", msg, title, true, nil, ok)
	}
	return r
}

// Go runs work in the background and then, on the UI goroutine, the
// function it returns (if not nil).
func (r *runner) Go(work func(ctx context.Context) func()) {
	r.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		defer cancel()
		if done := work(ctx); done != nil {
			r.ui(done)
		}
	})
}
