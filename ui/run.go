// Package ui is the desktop window and tray of easbridge: a thin view over
// app.Runtime. Widgets are only touched on the Fyne UI goroutine; updates
// from the server arrive through one bridge goroutine using fyne.Do.
package ui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"
)

// AppID is the Fyne application ID (preferences, FyneApp.toml).
const AppID = "org.easbridge.app"

// run is Run over any app and source.
func run(ctx context.Context, a fyne.App, src Source, stop context.CancelFunc) error {
	defer stop()
	w := NewWindow(a, src)
	w.Start()
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
