package cli

import (
	"context"
	"strings"
	"testing"

	"easbridge/server/easclient"
)

// TestClientReportsPendingWipe: after `easbridge devices wipe`, the test
// client's next command names the wipe the server asks for instead of a
// bare "no policy key".
func TestClientReportsPendingWipe(t *testing.T) {
	rt, dataDir := startDemo(t)
	ctx := context.Background()
	st := rt.Status(ctx)
	url := "http://" + rt.Addr()
	tests := []struct {
		device string
		wipe   []string
		want   string
	}{
		{"wipecli00000001", nil, "asks for a wipe (RemoteWipe)"},
		{"wipecli00000002", []string{"--account-only"}, "asks for a wipe (AccountOnlyRemoteWipe)"},
	}
	for _, tt := range tests {
		phone := easclient.New(url, st.DemoUser, st.DemoPass, tt.device)
		if _, err := phone.Provision(ctx); err != nil {
			t.Fatalf("%s: provision: %v", tt.device, err)
		}
		args := append([]string{"devices", "wipe", tt.device, "--data", dataDir}, tt.wipe...)
		if code, _, errOut := runCLI(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		code, _, errOut := runCLI("client", "--url", url, "--user", st.DemoUser, "--password", st.DemoPass,
			"--device", tt.device, "foldersync")
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: client after wipe: exit %d, stderr %q; want failure with %q", tt.device, code, errOut, tt.want)
		}
	}
}
