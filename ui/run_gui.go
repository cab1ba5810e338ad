//go:build !nogui

package ui

import (
	"context"

	fyneapp "fyne.io/fyne/v2/app"

	"easbridge/app"
	"easbridge/assets"
)

// Only Run needs a real Fyne driver (glfw, cgo): without it (-tags nogui,
// CGO_ENABLED=0) the package still builds, so `go build -tags nogui ./...`
// and `go vet -tags nogui ./...` cover it.

// Run shows the window and tray over a running runtime until the user quits
// (or ctx ends); quitting calls stop() so the caller shuts the server down.
// It must be called on the main goroutine.
func Run(ctx context.Context, rt *app.Runtime, stop context.CancelFunc) error {
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(assets.Icon)
	return run(ctx, a, RuntimeSource(rt), stop)
}
