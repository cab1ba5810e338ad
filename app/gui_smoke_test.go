//go:build unix

package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"easbridge/server/easclient"
)

// TestGUISmokeUnderXvfb starts the real binary with its window on a
// private Xvfb display and the demo account, waits for the window, checks
// that the endpoint answers OPTIONS with the demo login, and quits it with
// SIGTERM: the process must exit cleanly.
func TestGUISmokeUnderXvfb(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xwininfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run `make test`, it installs xvfb and x11-utils", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "easbridge")
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(goCmd, "build", "-o", bin, "easbridge").CombinedOutput(); err != nil {
		t.Fatalf("build with GUI: %v\n%s", err, out)
	}

	// A free display number: the first whose socket does not exist.
	display := ""
	for n := 91; n < 150; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); os.IsNotExist(err) {
			display = fmt.Sprintf(":%d", n)
			break
		}
	}
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { xvfb.Process.Kill(); xvfb.Wait() })
	waitFor(t, 10*time.Second, "Xvfb", func() bool {
		return exec.Command("xwininfo", "-display", display, "-root").Run() == nil
	})

	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--tls", "off", "--listen", addr, "--data", t.TempDir())
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "WAYLAND_DISPLAY=", "HOME="+t.TempDir())
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	// The banner names the demo login.
	creds := make(chan [2]string, 1)
	go func() {
		re := regexp.MustCompile(`demo account user "([^"]+)" password "([^"]+)"`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				creds <- [2]string{m[1], m[2]}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var login [2]string
	select {
	case login = <-creds:
	case <-time.After(60 * time.Second):
		t.Fatal("no demo login printed")
	}
	waitFor(t, 30*time.Second, "the window", func() bool {
		out, _ := exec.Command("xwininfo", "-display", display, "-root", "-tree").Output()
		return strings.Contains(string(out), `"easbridge"`)
	})
	waitFor(t, 10*time.Second, "the endpoint", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	r, err := easclient.New("http://"+addr, login[0], login[1], "smokephone").Options(context.Background())
	if err != nil || r.HTTPStatus != 200 {
		t.Fatalf("OPTIONS: %v %+v", err, r)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the app did not quit within 20 s of SIGTERM")
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
