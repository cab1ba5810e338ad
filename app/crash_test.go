//go:build unix

package app_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/state"
	"easbridge/sync/testenv"
)

// buildBinary builds the headless easbridge binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "easbridge")
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		goCmd = "go"
	}
	cmd := exec.Command(goCmd, "build", "-tags", "nogui", "-o", bin, "easbridge")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestKill9MidSync kills the server process with SIGKILL while a device is
// creating folders as fast as it can, restarts it, and checks that the state
// is intact: the device's last key still works, and the device's view after
// catching up equals what Dovecot and Radicale hold — nothing lost, nothing
// duplicated.
func TestKill9MidSync(t *testing.T) {
	bin := buildBinary(t)
	dc := testenv.StartDovecot(t, testenv.DovecotOptions{})
	rad := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	rad.SeedDefault(t, "alice")
	data := t.TempDir()
	addr := freePort(t)

	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--headless", "--tls", "off", "--listen", addr,
			"--imap", "imap://"+dc.IMAPAddr, "--dav", rad.URL, "--domain", testenv.Domain, "--data", data)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("server did not come up: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	cmd := start()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	ctx := context.Background()
	c := easclient.New("http://"+addr, "alice", "alicepw", "crashphone1")
	c.HTTP = &http.Client{Timeout: 10 * time.Second}
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	key, folders, _, err := c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	// view is the device's folder list: ServerId -> name.
	view := map[string]string{}
	apply := func(fs []easclient.Folder) {
		for _, f := range fs {
			switch f.Change {
			case "Add", "Update":
				view[f.ServerID] = f.DisplayName
			case "Delete":
				delete(view, f.ServerID)
			}
		}
	}
	apply(folders)

	ns := wbxml.NSFolderHierarchy
	n := 0
	for round := range 3 {
		// Create folders in a loop; kill the server while it runs.
		killAfter := time.Duration(150+round*170) * time.Millisecond
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				n++
				name := "Crash" + strconv.Itoa(n)
				r, err := c.Do(ctx, "FolderCreate", wbxml.New(ns, "FolderCreate", wbxml.Text(ns, "SyncKey", key),
					wbxml.Text(ns, "ParentId", "0"), wbxml.Text(ns, "DisplayName", name), wbxml.Int(ns, "Type", 12)))
				if err != nil || r.Root == nil {
					return // the server died mid-request: the answer is lost
				}
				if r.Status() != 1 {
					t.Errorf("FolderCreate %s: status %d", name, r.Status())
					return
				}
				key = r.Root.ChildText(ns, "SyncKey")
				view[r.Root.ChildText(ns, "ServerId")] = name
			}
		}()
		time.Sleep(killAfter)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		<-done

		// The database is intact.
		st, err := state.OpenSQLite(ctx, filepath.Join(data, "state.db"))
		if err != nil {
			t.Fatalf("round %d: reopen state: %v", round, err)
		}
		st.Close()

		cmd = start()
		// The device's last key still works (it is the current or the
		// previous one), and catching up makes its view equal the truth.
		newKey, ch, r, err := c.FolderSync(ctx, key)
		if err != nil || r.Status() != 1 {
			t.Fatalf("round %d: FolderSync %s after kill: %v status %d", round, key, err, r.Status())
		}
		apply(ch)
		key = newKey
		if _, ch, _, _ := c.FolderSync(ctx, key); len(ch) != 0 {
			t.Errorf("round %d: changes after catching up: %+v", round, ch)
		}
		assertViewMatches(t, round, dc, view)
	}
	t.Logf("%d folder creations attempted over 3 kills", n)
}

// assertViewMatches compares the device's mail folder names with Dovecot's.
func assertViewMatches(t *testing.T, round int, dc *testenv.Dovecot, view map[string]string) {
	t.Helper()
	cl := dc.Dial(t, "alice")
	defer cl.Close()
	list, err := cl.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]int{}
	for _, m := range list {
		if len(m.Mailbox) > 5 && m.Mailbox[:5] == "Crash" {
			truth[m.Mailbox]++
		}
	}
	seen := map[string]int{}
	for _, name := range view {
		if len(name) > 5 && name[:5] == "Crash" {
			seen[name]++
		}
	}
	if fmt.Sprint(sorted(truth)) != fmt.Sprint(sorted(seen)) {
		t.Errorf("round %d: device view differs from Dovecot:\n device %v\n dovecot %v", round, sorted(seen), sorted(truth))
	}
}

func sorted(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(out)
	return out
}
