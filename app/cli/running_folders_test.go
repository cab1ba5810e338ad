package cli

import (
	"context"
	"strings"
	"testing"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// `easbridge folders mode` and `easbridge devices resync --folder` on the
// data directory of a serving Runtime: a folder hidden from the CLI leaves
// the phone at its next FolderSync; a folder resynced from the CLI answers
// the phone's old sync key with status 3 while the other folders keep
// theirs.
func TestFoldersModeAndFolderResyncWithRunningServer(t *testing.T) {
	rt, dataDir := startDemo(t)
	ctx := context.Background()
	st := rt.Status(ctx)
	phone := easclient.New("http://"+rt.Addr(), st.DemoUser, st.DemoPass, "foldphone1")
	if _, err := phone.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	fkey, folders, r, err := phone.FolderSync(ctx, "0")
	if err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync: %v", err)
	}
	byType := map[int]easclient.Folder{}
	for _, f := range folders {
		if _, ok := byType[f.Type]; !ok {
			byType[f.Type] = f
		}
	}
	inbox, okInbox := byType[2]
	cal, okCal := byType[8]
	if !okInbox || !okCal {
		t.Fatalf("demo folders without an inbox or calendar: %+v", folders)
	}
	data := "--data=" + dataDir
	dev, err := rt.Admin().Find(ctx, "", "foldphone1")
	if err != nil {
		t.Fatal(err)
	}

	// folders list shows the calendar's source key; hide it for the phone.
	code, out, errOut := runCLI("folders", "list", "--user", dev.User, "--device", "foldphone1", data)
	if code != 0 {
		t.Fatalf("folders list: %d %q", code, errOut)
	}
	var calKey string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], "caldav:") && strings.Contains(line, cal.DisplayName) {
			calKey = f[0]
		}
	}
	if calKey == "" {
		t.Fatalf("no calendar %q in folders list:\n%s", cal.DisplayName, out)
	}
	code, out, errOut = runCLI("folders", "mode", "--user", dev.User, "--device", "foldphone1", "--folder", calKey, "--hidden", data)
	if code != 0 || !strings.Contains(out, calKey) {
		t.Fatalf("folders mode --hidden: %d %q %q", code, out, errOut)
	}
	fkey2, changes, r, err := phone.FolderSync(ctx, fkey)
	if err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync after hiding: %v status %d", err, r.Status())
	}
	if len(changes) != 1 || changes[0].Change != "Delete" || changes[0].ServerID != cal.ServerID {
		t.Errorf("FolderSync after hiding %s: %+v, want the delete of %s", calKey, changes, cal.ServerID)
	}
	code, _, errOut = runCLI("folders", "mode", "--user", dev.User, "--device", "foldphone1", "--folder", calKey, "--inherit", data)
	if code != 0 {
		t.Fatalf("folders mode --inherit: %d %q", code, errOut)
	}
	if _, changes, _, _ := phone.FolderSync(ctx, fkey2); len(changes) != 1 || changes[0].Change != "Add" || changes[0].ServerID != cal.ServerID {
		t.Errorf("FolderSync after --inherit: %+v, want the calendar back as %s", changes, cal.ServerID)
	}

	// Prime the inbox and the calendar, resync the inbox alone.
	sync := func(id, key string) (newKey, status string) {
		t.Helper()
		r, err := phone.Sync(ctx, []*wbxml.Element{easclient.SyncCollection(key, id)})
		if err != nil {
			t.Fatalf("Sync %s key %s: %v", id, key, err)
		}
		if r.HTTPStatus != 200 {
			t.Fatalf("Sync %s key %s: HTTP %d", id, key, r.HTTPStatus)
		}
		if r.Root == nil { // an empty answer: nothing changed, the key stays
			return key, "1"
		}
		res := easclient.SyncResults(r.Root)
		if len(res) != 1 {
			t.Fatalf("Sync %s: %s", id, wbxml.XMLString(r.Root))
		}
		return res[0].SyncKey, res[0].Status
	}
	keys := map[string]string{}
	for _, id := range []string{inbox.ServerID, cal.ServerID} {
		k, status := sync(id, "0")
		if k, status = sync(id, k); status != "1" {
			t.Fatalf("Sync %s: status %s", id, status)
		}
		keys[id] = k
	}
	// A mistyped folder id is refused, naming the device's folders.
	code, _, errOut = runCLI("devices", "resync", "foldphone1", "--folder", "no-such-folder", data)
	if code != 1 || !strings.Contains(errOut, "unknown folder no-such-folder") || !strings.Contains(errOut, inbox.ServerID) {
		t.Errorf("resync of an unknown folder: %d %q", code, errOut)
	}
	code, out, errOut = runCLI("devices", "resync", "foldphone1", "--folder", inbox.ServerID, data)
	if code != 0 || !strings.Contains(out, "folder "+inbox.ServerID+" starts over") {
		t.Fatalf("resync --folder: %d %q %q", code, out, errOut)
	}
	if _, status := sync(inbox.ServerID, keys[inbox.ServerID]); status != "3" {
		t.Errorf("inbox after resync --folder: status %s, want 3 (invalid sync key)", status)
	}
	if _, status := sync(cal.ServerID, keys[cal.ServerID]); status != "1" {
		t.Errorf("calendar after the inbox's resync: status %s, want 1", status)
	}
}
