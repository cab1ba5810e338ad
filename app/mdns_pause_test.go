package app_test

import (
	"context"
	"testing"

	"easbridge/app"
)

// TestPauseWithdrawsMDNS: the LAN announcement is withdrawn while sync is
// paused, comes back on resume, and is gone after Close.
func TestPauseWithdrawsMDNS(t *testing.T) {
	live, restore := app.FakeMDNS()
	defer restore()
	rt := startDemo(t, t.TempDir())
	steps := []struct {
		what string
		do   func()
		want int
	}{
		{"started", func() {}, 1},
		{"paused", func() { rt.SetPaused(true) }, 0},
		{"paused again", func() { rt.SetPaused(true) }, 0},
		{"resumed", func() { rt.SetPaused(false) }, 1},
		{"closed", func() { rt.Close(context.Background()) }, 0},
	}
	for _, s := range steps {
		s.do()
		if n := live(); n != s.want {
			t.Fatalf("%s: %d live announcements, want %d", s.what, n, s.want)
		}
	}
}
