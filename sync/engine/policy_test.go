package engine

import (
	"context"
	"path/filepath"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/state"
)

func TestPolicyLevels(t *testing.T) {
	ctx := context.Background()
	st, err := state.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	global := eas.DefaultPolicy()
	global.MinDevicePasswordLength = 4

	if err := SetUserPolicy(ctx, st, global, "bob", eas.PolicyOverride{"min_password_length": 6, "allow_camera": false}); err != nil {
		t.Fatal(err)
	}
	if err := SetDevicePolicy(ctx, st, global, "bob", "p1", eas.PolicyOverride{"min_password_length": 8}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, device string
		length       int
		camera       bool
		sources      map[string]string
	}{
		{"bob", "p1", 8, false, map[string]string{"min_password_length": "device", "allow_camera": "account", "allow_wifi": "global"}},
		{"bob", "p2", 6, false, map[string]string{"min_password_length": "account"}},
		{"bob", "", 6, false, map[string]string{"min_password_length": "account"}},
		{"eve", "p1", 4, true, map[string]string{"min_password_length": "global"}},
	}
	for _, tc := range tests {
		l, err := ReadPolicyLayers(ctx, st, global, tc.user, tc.device)
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.Effective()
		if err != nil || p.MinDevicePasswordLength != tc.length || p.AllowCamera != tc.camera {
			t.Errorf("%s/%s: length %d camera %v, %v", tc.user, tc.device, p.MinDevicePasswordLength, p.AllowCamera, err)
		}
		for k, want := range tc.sources {
			if got := l.Source(k); got != want {
				t.Errorf("%s/%s: source of %s = %s, want %s", tc.user, tc.device, k, got, want)
			}
		}
	}
	// Invalid results are refused; nil removes.
	if err := SetDevicePolicy(ctx, st, global, "bob", "p1", eas.PolicyOverride{"max_failed_attempts": 2}); err == nil {
		t.Error("max_failed_attempts 2 accepted")
	}
	if err := SetDevicePolicy(ctx, st, global, "bob", "p1", eas.PolicyOverride{"allow_teleport": true}); err == nil {
		t.Error("unknown setting accepted")
	}
	if err := SetDevicePolicy(ctx, st, global, "bob", "p1", nil); err != nil {
		t.Fatal(err)
	}
	if l, _ := ReadPolicyLayers(ctx, st, global, "bob", "p1"); len(l.Device) != 0 || l.Source("min_password_length") != "account" {
		t.Errorf("removed override: %+v", l.Device)
	}
	// The hash a device acknowledged changes with any level.
	e := &Engine{opts: Options{Store: st, Policy: func() eas.Policy { return global }}}
	before, _ := e.Policy(ctx, "bob", "p1")
	if err := SetUserPolicy(ctx, st, global, "bob", eas.PolicyOverride{"min_password_length": 7}); err != nil {
		t.Fatal(err)
	}
	after, _ := e.Policy(ctx, "bob", "p1")
	if before.Hash() == after.Hash() || after.MinDevicePasswordLength != 7 {
		t.Errorf("hash %s -> %s, length %d", before.Hash(), after.Hash(), after.MinDevicePasswordLength)
	}
}
