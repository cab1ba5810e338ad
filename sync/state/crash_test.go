//go:build unix

package state

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"easbridge/server/eas"
)

// The crash test: a child process (this test binary, running only
// TestCrashChild) advances sync states as fast as it can, one transaction
// per advance, and reports each commit on stdout; the parent kills it with
// SIGKILL at some point and checks what it finds on disk.

// crashEnv holds the database path for TestCrashChild; unset, the child test
// skips.
const crashEnv = "EASBRIDGE_STATE_CRASH_DB"

const (
	crashUser   = "crash"
	crashDevice = "dev"
	// crashStates is the number of states the child advances round-robin:
	// state 0 is the device's hierarchy, states 1..crashStates-1 are
	// collections "1", "2", ...
	crashStates = 5
)

// crashData is the collection blob for key: a header naming the key, filler
// derived from the key (0.5 to 4.5 KB, so that a transaction spans one to
// two 4 KB pages, the default page size), and a SHA-256 of both.
func crashData(key int) []byte {
	b := fmt.Appendf(nil, "key=%d;", key)
	n := 512 + (key*997)%4096
	seed := sha256.Sum256(b)
	for len(b) < n {
		seed = sha256.Sum256(seed[:])
		b = append(b, seed[:]...)
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// crashKey checks data's checksum and returns the key it names.
func crashKey(data []byte) (int, error) {
	if len(data) < sha256.Size {
		return 0, fmt.Errorf("%d bytes", len(data))
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return 0, errors.New("checksum mismatch")
	}
	head, _, ok := bytes.Cut(body, []byte(";"))
	k, err := strconv.Atoi(strings.TrimPrefix(string(head), "key="))
	if !ok || err != nil {
		return 0, fmt.Errorf("no key in %q", head)
	}
	return k, nil
}

// crashFolders is the hierarchy for key: 1 to 4 folders whose names carry
// the key and a digest of it.
func crashFolders(key int) []eas.Folder {
	var fs []eas.Folder
	for i := range 1 + key%4 {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:], uint64(key))
		binary.BigEndian.PutUint64(b[8:], uint64(i))
		sum := sha256.Sum256(b[:])
		fs = append(fs, eas.Folder{
			ServerID:    strconv.Itoa(i + 1),
			ParentID:    "0",
			DisplayName: fmt.Sprintf("%d-%d-%s", key, i, hex.EncodeToString(sum[:8])),
			Type:        eas.FolderUserMail,
		})
	}
	return fs
}

// TestCrashChild is the child of TestCrashRecovery; it skips unless run by
// it. It continues from whatever keys are stored, and never returns on its
// own before a two-minute safety limit (in case the parent is gone).
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("child process of TestCrashRecovery")
	}
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "crash child: "+format+"\n", a...)
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		fail("%v", err)
	}
	var keys [crashStates]int
	h, err := s.Hierarchy(ctx, crashUser, crashDevice)
	if err != nil {
		fail("%v", err)
	}
	keys[0] = h.Key
	for st := 1; st < crashStates; st++ {
		c, err := s.Collection(ctx, crashUser, crashDevice, strconv.Itoa(st))
		if err != nil {
			fail("%v", err)
		}
		keys[st] = c.Key
	}
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		st := i % crashStates
		k := keys[st]
		if st == 0 {
			err = s.PutHierarchy(ctx, crashUser, crashDevice, k, k+1, crashFolders(k+1))
		} else {
			err = s.PutCollection(ctx, crashUser, crashDevice, strconv.Itoa(st), k, k+1, crashData(k+1))
		}
		if err != nil {
			fail("%v", err)
		}
		keys[st] = k + 1
		// os.Stdout is unbuffered: once Fprintf returns, the line is in
		// the pipe, and the commit before it is in the -wal file.
		if _, err := fmt.Fprintf(os.Stdout, "commit %d %d\n", st, k+1); err != nil {
			fail("%v", err)
		}
	}
	fail("not killed within two minutes")
}

// TestCrashRecovery kills a writer process with SIGKILL at five different
// points, each time on the same database, and checks after each kill that
// the database is intact and that no commit the child reported is lost.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	// reported[st] is the last key the children reported committed for
	// state st.
	var reported [crashStates]int
	// Commit lines read before the kill, one count per round. Different
	// counts, not multiples of crashStates, put the kill at a different
	// state and phase each time; the child is usually ahead of the reader
	// by a few lines, so where exactly it dies varies from run to run, and
	// the checks must hold wherever it does.
	for round, lines := range []int{150, 263, 377, 491, 604} {
		killChild(t, path, round, lines, &reported)
		checkCrashState(t, path, round, &reported)
	}
}

// killChild runs TestCrashChild on path, reads lines commit lines, kills
// the child with SIGKILL, reads what it had written before dying, and waits
// for it to exit.
func killChild(t *testing.T, path string, round, lines int, reported *[crashStates]int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Safety net: a child that stops printing is killed, the reads below
	// then end with EOF and the test fails instead of hanging.
	guard := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer guard.Stop()

	r := bufio.NewReader(out)
	readLine := func() (st, key int, ok bool, err error) {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, 0, false, err // a partial last line is not a report
		}
		if _, err := fmt.Sscanf(line, "commit %d %d\n", &st, &key); err != nil {
			return 0, 0, false, nil // test framework output
		}
		return st, key, true, nil
	}
	record := func(st, key int) {
		if st < 0 || st >= crashStates {
			t.Fatalf("round %d: child reported state %d", round, st)
		}
		if key != reported[st]+1 {
			t.Fatalf("round %d: child reported key %d for state %d after %d", round, key, st, reported[st])
		}
		reported[st] = key
	}
	for n := 0; n < lines; {
		st, key, ok, err := readLine()
		if err != nil {
			cmd.Wait()
			t.Fatalf("round %d: child output ended after %d commit lines: %v\nstderr:\n%s", round, n, err, stderr.Bytes())
		}
		if ok {
			record(st, key)
			n++
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Lines the child wrote before it died are reports too.
	for {
		st, key, ok, err := readLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			record(st, key)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("round %d: child: %v", round, err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child ended with %v, not by SIGKILL\nstderr:\n%s", round, err, stderr.Bytes())
	}
}

// checkCrashState reopens the database after a kill: it must pass
// integrity_check, and every state must be a consistent (key, data, prev
// key, prev data) whose key is the last one reported or the one after it
// (committed, killed before the report).
// checkCrashState also moves reported up to what is stored: a commit the
// child made but could not report before it died is where the next child
// goes on from.
func checkCrashState(t *testing.T, path string, round int, reported *[crashStates]int) {
	t.Helper()
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()

	rows, err := s.w.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(msgs) != 1 || msgs[0] != "ok" {
		t.Fatalf("round %d: integrity_check: %q", round, msgs)
	}

	ahead := 0 // states committed but not reported: the kill fell in between
	was := *reported
	defer func() {
		t.Logf("round %d: killed after reported keys %v; intact, %d state(s) one commit ahead of the reports", round, was, ahead)
	}()
	inRange := func(st, key int) {
		defer func() {
			if key > reported[st] {
				reported[st] = key
			}
		}()
		if key == reported[st]+1 {
			ahead++
		}
		if key < reported[st] || key > reported[st]+1 {
			t.Errorf("round %d: state %d stored at key %d, child reported %d committed", round, st, key, reported[st])
		}
	}

	h, err := s.Hierarchy(ctx, crashUser, crashDevice)
	if err != nil {
		t.Fatal(err)
	}
	inRange(0, h.Key)
	if !reflect.DeepEqual(h.Folders, crashFolders(h.Key)) {
		t.Errorf("round %d: hierarchy key %d with folders %+v", round, h.Key, h.Folders)
	}
	switch {
	case h.Key == 1:
		if h.PrevKey != 0 || h.PrevFolders != nil {
			t.Errorf("round %d: hierarchy key 1 with previous %d %+v", round, h.PrevKey, h.PrevFolders)
		}
	case h.PrevKey != h.Key-1 || !reflect.DeepEqual(h.PrevFolders, crashFolders(h.PrevKey)):
		t.Errorf("round %d: hierarchy key %d with previous %d %+v", round, h.Key, h.PrevKey, h.PrevFolders)
	}

	for st := 1; st < crashStates; st++ {
		c, err := s.Collection(ctx, crashUser, crashDevice, strconv.Itoa(st))
		if err != nil {
			t.Fatal(err)
		}
		inRange(st, c.Key)
		if k, err := crashKey(c.Data); err != nil || k != c.Key || !bytes.Equal(c.Data, crashData(c.Key)) {
			t.Errorf("round %d: collection %d key %d: data names key %d (%v)", round, st, c.Key, k, err)
		}
		if c.Key == 1 {
			if c.PrevKey != 0 || c.PrevData != nil {
				t.Errorf("round %d: collection %d key 1 with previous %d (%d bytes)", round, st, c.PrevKey, len(c.PrevData))
			}
			continue
		}
		if k, err := crashKey(c.PrevData); c.PrevKey != c.Key-1 || err != nil || k != c.PrevKey ||
			!bytes.Equal(c.PrevData, crashData(c.PrevKey)) {
			t.Errorf("round %d: collection %d key %d with previous key %d, data naming %d (%v)", round, st, c.Key, c.PrevKey, k, err)
		}
	}
}
