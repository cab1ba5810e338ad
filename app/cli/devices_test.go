package cli

import (
	"bytes"
	"context"
	"strings"
	gosync "sync"
	"testing"

	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// runCLI runs easbridge with args and returns its exit status and output.
func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

// The CLI and a serving Runtime on the same data directory at once: the
// phone keeps syncing while the CLI lists and changes its device, each
// change shows at the phone's next request, and nothing fails on a locked
// database.
func TestDevicesCLIWithRunningServer(t *testing.T) {
	rt, dataDir := startDemo(t)
	ctx := context.Background()
	st := rt.Status(ctx)
	phone := easclient.New("http://"+rt.Addr(), st.DemoUser, st.DemoPass, "cliphone1")
	if _, err := phone.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, r, err := phone.FolderSync(ctx, "0"); err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync: %v", err)
	}
	data := "--data=" + dataDir

	// A second phone hammers the server meanwhile.
	other := easclient.New("http://"+rt.Addr(), st.DemoUser, st.DemoPass, "cliphone2")
	if _, err := other.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg gosync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, r, err := other.FolderSync(ctx, "0"); err != nil || r.HTTPStatus != 200 || r.Status() != 1 {
				t.Errorf("concurrent FolderSync: %v HTTP %d status %d", err, r.HTTPStatus, r.Status())
				return
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	dev, err := rt.Admin().Find(ctx, "", "cliphone1")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("devices", "list", data)
	if code != 0 || !strings.Contains(out, "cliphone1") || !strings.Contains(out, "ACCESS") || !strings.Contains(out, dev.User) {
		t.Fatalf("list: %d %q %q", code, out, errOut)
	}

	steps := []struct {
		args   []string
		status eas.Status // FolderSync status the phone then gets
	}{
		{[]string{"block", "cliphone1"}, eas.StatusDeviceIsBlockedForThisUser},
		{[]string{"quarantine", "cliphone1", "--user", dev.User}, 1}, // FolderSync is allowed in quarantine
		{[]string{"allow", "cliphone1"}, 1},
	}
	for _, s := range steps {
		code, out, errOut := runCLI(append([]string{"devices"}, append(s.args, data)...)...)
		if code != 0 || !strings.Contains(out, "cliphone1") {
			t.Fatalf("%v: %d %q %q", s.args, code, out, errOut)
		}
		if _, _, r, _ := phone.FolderSync(ctx, "0"); r.Status() != int(s.status) {
			t.Errorf("after %v: FolderSync status %d, want %d", s.args, r.Status(), s.status)
		}
	}
	if d, _ := rt.Admin().Find(ctx, "", "cliphone1"); d.Access != eas.AccessAllowed || d.AccessBy != eas.AccessByAdmin {
		t.Errorf("stored %v by %q", d.Access, d.AccessBy)
	}

	// Resync: the phone's hierarchy key is gone.
	key, _, _, _ := phone.FolderSync(ctx, "0")
	if code, out, errOut := runCLI("devices", "resync", "cliphone1", data); code != 0 || !strings.Contains(out, "starts over") {
		t.Fatalf("resync: %d %q %q", code, out, errOut)
	}
	if _, _, r, _ := phone.FolderSync(ctx, key); r.Status() != int(eas.FolderStatusInvalidSyncKey) {
		t.Errorf("FolderSync with the dropped key: status %d, want 9", r.Status())
	}

	// Account-only wipe, shown as pending, then acknowledged.
	if code, out, errOut := runCLI("devices", "wipe", "--account-only", "cliphone1", data); code != 0 || !strings.Contains(out, "account-only wipe pending") {
		t.Fatalf("wipe: %d %q %q", code, out, errOut)
	}
	if _, out, _ := runCLI("devices", "show", "cliphone1", data); !strings.Contains(out, "account-wipe-pending, requested") {
		t.Errorf("show after wipe: %q", out)
	}
	ns := wbxml.NSProvision
	r, err := phone.Do(ctx, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, "Policies", wbxml.New(ns, "Policy", wbxml.Text(ns, "PolicyType", "MS-EAS-Provisioning-WBXML")))))
	if err != nil || !r.Root.Has(ns, "AccountOnlyRemoteWipe") {
		t.Fatalf("Provision: %v", err)
	}
	if _, err := phone.Do(ctx, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, "AccountOnlyRemoteWipe", wbxml.Text(ns, "Status", "1")))); err != nil {
		t.Fatal(err)
	}
	if _, out, _ := runCLI("devices", "show", "cliphone1", data); !strings.Contains(out, "account-wiped, requested") || !strings.Contains(out, "acknowledged") {
		t.Errorf("show after the ack: %q", out)
	}

	// Forget; then it is unknown: a clear error and a failing status.
	if code, _, errOut := runCLI("devices", "forget", "cliphone1", data); code != 0 {
		t.Fatalf("forget: %d %q", code, errOut)
	}
	code, _, errOut = runCLI("devices", "block", "cliphone1", data)
	if code == 0 || !strings.Contains(errOut, "unknown device cliphone1") {
		t.Errorf("unknown device: %d %q", code, errOut)
	}
	if code, _, _ := runCLI("devices", "frobnicate", "x", data); code != 2 {
		t.Errorf("unknown action: exit %d", code)
	}
	if code, _, _ := runCLI("devices", "block", data); code != 2 {
		t.Errorf("missing id: exit %d", code)
	}
}
