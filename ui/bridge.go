package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"easbridge/app"
	"easbridge/app/logbus"
)

// bridge is the only code that touches widgets from outside the UI
// goroutine: it polls the status and drains the exchange log on its own
// goroutine and hands every update to the UI through do (fyne.Do).
type bridge struct {
	src  Source
	win  *Window
	tray *Tray // nil without a tray
	do   func(func())

	interval time.Duration // status poll
	logDelay time.Duration // batching of log lines
	refDelay time.Duration // status refresh after log activity
}

func newBridge(src Source, win *Window, tray *Tray) *bridge {
	return &bridge{
		src: src, win: win, tray: tray, do: fyne.Do,
		interval: 2 * time.Second, logDelay: 100 * time.Millisecond, refDelay: 300 * time.Millisecond,
	}
}

// run feeds the window until ctx ends.
func (b *bridge) run(ctx context.Context) {
	ch := b.src.Subscribe(ctx, 512)
	// Recent after Subscribe: the overlap is skipped by ID in Logs.Add.
	if recent := b.src.Recent(MaxLogLines); len(recent) > 0 {
		b.do(func() { b.win.Logs.Add(recent...) })
	}
	b.refresh(ctx)

	tick := time.NewTicker(b.interval)
	defer tick.Stop()
	var (
		pending   []logbus.Exchange
		flush     <-chan time.Time // pending lines go to the UI
		refreshAt <-chan time.Time // coalesced status refresh after log activity
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			b.refresh(ctx)
		case <-refreshAt:
			refreshAt = nil
			b.refresh(ctx)
		case e, ok := <-ch:
			if !ok {
				return // ctx ended
			}
			pending = append(pending, e)
			if flush == nil {
				flush = time.After(b.logDelay)
			}
			if refreshAt == nil {
				refreshAt = time.After(b.refDelay)
			}
		case <-flush:
			flush = nil
			batch := pending
			pending = nil
			b.do(func() { b.win.Logs.Add(batch...) })
		}
	}
}

func (b *bridge) refresh(ctx context.Context) {
	s := b.src.Status(ctx)
	if ctx.Err() != nil {
		return
	}
	b.do(func() { b.apply(s) })
}

func (b *bridge) apply(s app.Status) {
	b.win.SetStatus(s)
	if b.tray != nil {
		b.tray.SetStatus(s)
	}
}
