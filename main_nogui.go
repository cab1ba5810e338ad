//go:build nogui

package main

import "easbridge/app/cli"

// gui is nil: this build has no window (-tags nogui, CGO_ENABLED=0 servers).
var gui cli.GUI
