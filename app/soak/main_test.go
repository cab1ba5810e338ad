//go:build unix

package soak

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/sync/testenv"
)

// childEnv makes the test binary, run again by serverProc, serve easbridge
// instead of running tests: a process the soak can kill with SIGKILL.
const childEnv = "EASBRIDGE_SOAK_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(serveChild())
	}
	os.Exit(m.Run())
}

// serveChild runs easbridge with passthrough logins against the IMAP and
// DAV servers named in the environment until SIGTERM (or SIGKILL).
func serveChild() int {
	cfg := config.Default()
	cfg.Listen = os.Getenv("SOAK_LISTEN")
	cfg.TLS = config.TLSOff
	cfg.MDNS = false
	cfg.DataDir = os.Getenv("SOAK_DATA")
	cfg.Domain = testenv.Domain
	cfg.Accounts = []config.Account{{
		Name: "soak", IMAP: os.Getenv("SOAK_IMAP"), DAV: os.Getenv("SOAK_DAV"), Login: config.LoginPassthrough,
	}}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, err := app.Start(context.Background(), cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak child:", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "soak child: close:", err)
		return 1
	}
	return 0
}

// serverProc is the easbridge child process, always on the same address
// and data directory.
type serverProc struct {
	t       *testing.T
	env     []string
	addr    string
	logPath string
	cmd     *exec.Cmd
	log     *os.File
}

func startServer(t *testing.T, dc *testenv.Dovecot, rad *testenv.Radicale) *serverProc {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// Kept when the test fails, for the post-mortem.
	dir, err := os.MkdirTemp("", "easbridge-soak-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	s := &serverProc{
		t: t, addr: addr, logPath: filepath.Join(dir, "easbridge.log"),
		env: append(os.Environ(), childEnv+"=1", "SOAK_LISTEN="+addr, "SOAK_DATA="+filepath.Join(dir, "data"),
			"SOAK_IMAP=imap://"+dc.IMAPAddr, "SOAK_DAV="+rad.URL),
	}
	if s.log, err = os.Create(s.logPath); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(func() {
		s.stop()
		s.log.Close()
	})
	return s
}

// start runs the child and waits until it accepts connections.
func (s *serverProc) start() {
	s.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.kill()
			s.t.Fatalf("easbridge did not come up on %s: %v (log %s)", s.addr, err, s.logPath)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the child with SIGKILL: no shutdown, no flush.
func (s *serverProc) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// stop ends the child gracefully.
func (s *serverProc) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}
