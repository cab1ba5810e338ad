package server

import (
	"errors"
	"fmt"
	"testing"

	"easbridge/server/eas"
)

func TestOofStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want eas.Status
	}{
		{eas.Errorf(eas.SettingsStatusOofUnavailable, "no ManageSieve"), eas.SettingsStatusDeniedByPolicy},
		{fmt.Errorf("engine: oof: %w", eas.Errorf(eas.SettingsStatusOofUnavailable, "x")), 7},
		{eas.Errorf(eas.SettingsStatusInvalidArguments, "bad"), eas.SettingsStatusInvalidArguments},
		{errors.New("sieve: connection closed"), eas.SettingsStatusServerUnavailable},
		{eas.Errorf(eas.SyncStatusRetry, "not a Settings status"), eas.SettingsStatusServerUnavailable},
	} {
		if got := oofStatus(tc.err); got != tc.want {
			t.Errorf("oofStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
