// Package ui is the desktop window and tray of easbridge: a thin view over
// app.Runtime. Widgets are only touched on the Fyne UI goroutine; updates
// from the server arrive through one bridge goroutine using fyne.Do.
package ui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"easbridge/app"
	"easbridge/assets"
)

// AppID is the Fyne application ID (preferences, FyneApp.toml).
const AppID = "org.easbridge.app"

// Run shows the window and tray over a running runtime until the user quits
// (or ctx ends); quitting calls stop() so the caller shuts the server down.
// It must be called on the main goroutine.
func Run(ctx context.Context, rt *app.Runtime, stop context.CancelFunc) error {
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(assets.Icon)
	return run(ctx, a, RuntimeSource(rt), stop)
}

// run is Run over any app and source.
func run(ctx context.Context, a fyne.App, src Source, stop context.CancelFunc) error {
	defer stop()
	w := NewWindow(a, src)
	tray := NewTray(a, w)
	closeBehaviour(a, w, tray != nil && trayHostAvailable())

	inner, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { newBridge(src, w, tray).run(inner) })
	wg.Go(func() { watchDevices(inner, a, src, w, fyne.Do) }) // notify.go
	wg.Go(func() {
		select {
		case <-ctx.Done(): // SIGINT or the server stopped
			fyne.Do(a.Quit)
		case <-inner.Done(): // the user quit
		}
	})

	w.Window.Show()
	a.Run()
	cancel()
	wg.Wait()
	return nil
}
