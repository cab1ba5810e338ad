package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a server started as the leader of its own process group, so
// that it and every process it forks can be found and signalled together.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait has returned
	waitErr error         // set before exited is closed
}

// startProcess starts argv in dir with exactly env, appending its stdout and
// stderr to logPath. The process gets SIGKILL when the test binary dies, so
// a crashed test run leaves no server behind.
func startProcess(argv, env []string, dir, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open process log: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout = logf // an *os.File: exec starts no copying goroutine
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	// Owned by p: ends when the process exits, which stop guarantees.
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// hasExited reports whether the group leader has exited.
func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the group leader, escalates to SIGKILL for the
// whole group after grace, and returns once no process of the group is left.
func (p *process) stop(grace time.Duration) error {
	pgid := p.pid()
	if !p.hasExited() {
		// Only the leader: Dovecot's master shuts its children down itself.
		_ = syscall.Kill(pgid, syscall.SIGTERM)
	}
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
	return waitGroupGone(pgid, grace)
}

// waitGroupGone waits until process group pgid has no live member, sending
// SIGTERM and later SIGKILL to stragglers.
func waitGroupGone(pgid int, grace time.Duration) error {
	start := time.Now()
	termSent, killSent := false, false
	for {
		members, err := groupMembers(pgid)
		if err != nil {
			return err
		}
		if len(members) == 0 {
			return nil
		}
		elapsed := time.Since(start)
		switch {
		case !termSent && elapsed > 300*time.Millisecond:
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			termSent = true
		case !killSent && elapsed > grace:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killSent = true
		case elapsed > grace+5*time.Second:
			return fmt.Errorf("process group %d still has members %v after SIGKILL", pgid, members)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Proc is a live process found by FindProcesses.
type Proc struct {
	PID     int
	PGID    int
	Cmdline string // arguments joined by spaces
}

// FindProcesses returns the live (not zombie) processes, other than the
// calling one, whose command line contains substr. Tests use it to prove that
// a stopped server left nothing behind: every Dovecot process has the rig's
// directory name in its title and Radicale has its config path in argv.
func FindProcesses(substr string) ([]Proc, error) {
	all, err := listProcs()
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, p := range all {
		if strings.Contains(p.Cmdline, substr) {
			out = append(out, p)
		}
	}
	return out, nil
}

func groupMembers(pgid int) ([]Proc, error) {
	all, err := listProcs()
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, p := range all {
		if p.PGID == pgid {
			out = append(out, p)
		}
	}
	return out, nil
}

// listProcs reads /proc, skipping zombies, the caller and processes that
// vanish while being read.
func listProcs() ([]Proc, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("scan processes: %w", err)
	}
	self := os.Getpid()
	var out []Proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// Fields after the parenthesised command: state ppid pgrp ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		pgid, err := strconv.Atoi(fields[2])
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			continue
		}
		out = append(out, Proc{
			PID:     pid,
			PGID:    pgid,
			Cmdline: strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))),
		})
	}
	return out, nil
}

// tailFile returns the last maxLines lines of the file at path, or a note
// saying why it cannot.
func tailFile(path string, maxLines int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	const maxBytes = 64 << 10
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	off := max(st.Size()-maxBytes, 0)
	buf := make([]byte, st.Size()-off)
	n, _ := f.ReadAt(buf, off)
	lines := strings.Split(strings.TrimRight(string(buf[:n]), "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return strings.Join(lines, "\n")
}
