//go:build !nogui

// Package desktop picks the user interface at build time: the Fyne window
// and tray normally, nothing with -tags nogui (CGO_ENABLED=0 servers).
package desktop

import (
	"easbridge/app/cli"
	"easbridge/ui"
)

// Run opens the window and tray.
var Run cli.GUI = ui.Run
