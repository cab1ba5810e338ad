//go:build nogui

// Package desktop picks the user interface at build time: the Fyne window
// and tray normally, nothing with -tags nogui (CGO_ENABLED=0 servers).
package desktop

import "easbridge/app/cli"

// Run is nil: this build has no window.
var Run cli.GUI
