//go:build !nogui

package main

import (
	"easbridge/app/cli"
	"easbridge/ui"
)

// gui opens the Fyne window and tray.
var gui cli.GUI = ui.Run
