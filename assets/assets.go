// Package assets holds the files embedded in the easbridge binary.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:generate go run gen/main.go icon.png

//go:embed icon.png
var iconPNG []byte

// Icon is the application icon (256×256 PNG): the window icon, the tray
// icon and the icon of packaged builds (FyneApp.toml).
var Icon fyne.Resource = fyne.NewStaticResource("icon.png", iconPNG)
