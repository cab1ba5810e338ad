package cli

import (
	"os"
	"path/filepath"
	"testing"

	"easbridge/app/config"
)

func TestConfigFile(t *testing.T) {
	withFile, without := t.TempDir(), t.TempDir()
	saved := filepath.Join(withFile, config.FileName)
	if err := os.WriteFile(saved, []byte("listen = \"127.0.0.1:0\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    serveFlags
		want string
	}{
		{"--config wins", serveFlags{config: "/etc/x.toml", data: withFile}, "/etc/x.toml"},
		{"saved file in the data dir", serveFlags{data: withFile}, saved},
		{"none", serveFlags{data: without}, ""},
	}
	for _, tt := range tests {
		if got := configFile(tt.f); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
