package cli

import (
	"context"
	"testing"

	"easbridge/app"
	"easbridge/app/config"
)

// startDemo starts a Runtime with the demo account, serving plain HTTP on
// a loopback port, on a fresh data directory; the Runtime is closed when
// the test ends. It returns the Runtime and its data directory, for the
// CLI's --data.
func startDemo(t *testing.T) (*app.Runtime, string) {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	rt, err := app.Start(context.Background(), cfg, nil) // the demo account
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt, cfg.DataDir
}
