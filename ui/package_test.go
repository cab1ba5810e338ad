package ui

import (
	"os"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestPackageMetadata checks FyneApp.toml (read by `make package`) and the
// desktop file of `make install` against the app.
func TestPackageMetadata(t *testing.T) {
	var meta struct {
		Details struct {
			Icon, Name, ID, Version string
			Build                   int
		}
		Migrations map[string]bool
	}
	if _, err := toml.DecodeFile("../FyneApp.toml", &meta); err != nil {
		t.Fatal(err)
	}
	d := meta.Details
	if d.ID != AppID || d.Name != "easbridge" || d.Version == "" || d.Build < 1 || !meta.Migrations["fyneDo"] {
		t.Errorf("FyneApp.toml: %+v migrations %v", d, meta.Migrations)
	}
	if _, err := os.Stat("../" + d.Icon); err != nil {
		t.Errorf("icon: %v", err)
	}
	desktop, err := os.ReadFile("../assets/easbridge.desktop")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"[Desktop Entry]", "Type=Application", "Name=easbridge", "Exec=easbridge", "Icon=easbridge", "Terminal=false"} {
		if !strings.Contains(string(desktop), line+"\n") {
			t.Errorf("desktop file lacks %q", line)
		}
	}
}
