package app_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// Ping scale: run with
//
//	go test -run '^$' -bench PingScale -benchtime 1x -timeout 20m ./app/
const (
	psAccounts       = 200
	psDevicesPerUser = 5
	psHold           = 60 * time.Second // lower while developing; 60 s for the figures
	psHeartbeat      = 300              // s, what the held Pings ask for
	psSetupWorkers   = 20
	psSettleTimeout  = 120 * time.Second // watchers outlive their last Ping by watch.Grace (60 s)
)

// psDevice is one phone: provisioned, folders synced, Inbox synced to the
// current key, ready to Ping.
type psDevice struct {
	user  string
	c     *easclient.Client
	inbox string
	key   string // the Inbox's current SyncKey after psSetup
}

// BenchmarkPingScale holds 1,000 concurrent Pings (200 accounts × 5
// devices, heartbeat 300 s, each on its Inbox) through the real EAS endpoint
// against one Dovecot for psHold, and reports the process's RSS, Go heap,
// goroutines and CPU time during the hold and the IMAP connections per
// account (Dovecot imap processes per user), split into the push watcher's
// and imapsource's pooled ones. Then every Ping is cancelled and the
// goroutine count must settle back to where it was before the Pings.
// Targets: ≤ 150 MB RSS, ≤ 1 push IMAP connection per account.
func BenchmarkPingScale(b *testing.B) {
	users := make([]testenv.User, psAccounts)
	for i := range users {
		users[i] = testenv.User{Name: fmt.Sprintf("p%03d", i), Password: "pw" + strconv.Itoa(i)}
	}
	d := testenv.StartDovecot(b, testenv.DovecotOptions{Users: users, ExtraConfig: `
service imap {
  process_limit = 1024
}
service imap-login {
  process_limit = 1024
}
`})
	// One message per Inbox (the first login also creates the mailboxes).
	{
		var wg sync.WaitGroup
		sem := make(chan struct{}, psSetupWorkers)
		for i, u := range users {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				d.Append(b, u.Name, "INBOX", []byte(fmt.Sprintf(
					"From: bob@example.test\r\nTo: %s\r\nSubject: Hello %d\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nHi.\r\n", u.Email(), i)))
			}()
		}
		wg.Wait()
	}

	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = b.TempDir()
	cfg.Domain = testenv.Domain
	cfg.Ping.MinHeartbeat = 60
	// All 1,000 phones (and their setup connections) come from 127.0.0.1:
	// lift the per-address cap (default 256); max_connections (4096)
	// stays above the 1,000 held Pings plus the setup workers' connections.
	cfg.Limits.MaxConnectionsPerAddress = 0
	cfg.Accounts = []config.Account{{
		Name: "scale", IMAP: "imap://" + d.IMAPAddr, SMTP: "smtp://" + d.SubmissionAddr,
		Login: config.LoginPassthrough,
	}}
	rt, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })

	// The phones run in a child process (this test binary again, see
	// TestMain), so that everything measured below (RSS, heap, goroutines,
	// CPU) is the server's alone.
	ph := psStartPhones(b, "http://"+rt.Addr())
	for range b.N {
		psHoldOnce(b, d, ph)
	}
	ph.finish(b)
}

// psPhones is the child process that plays the 1,000 phones.
type psPhones struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

// psStartPhones starts the phones and waits until every device is set up
// (Provision, FolderSync, Inbox synced to the current key).
func psStartPhones(b *testing.B, url string) *psPhones {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), psPhonesEnv+"="+url)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ph := &psPhones{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		defer close(ph.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ph.lines <- sc.Text()
		}
	}()
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := ph.expect(b, "READY", 30*time.Minute)
	b.Logf("phones: %s", ready)
	return ph
}

// expect waits for the child's next line starting with word.
func (ph *psPhones) expect(b *testing.B, word string, timeout time.Duration) string {
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case l, ok := <-ph.lines:
			if !ok {
				b.Fatalf("phones process ended while waiting for %s", word)
			}
			if rest, ok := strings.CutPrefix(l, word); ok {
				return strings.TrimSpace(rest)
			}
			if rest, ok := strings.CutPrefix(l, "FAIL"); ok {
				b.Fatalf("phones: %s", rest)
			}
		case <-tm.C:
			b.Fatalf("phones: no %s within %v", word, timeout)
		}
	}
}

func (ph *psPhones) send(b *testing.B, cmd string) {
	if _, err := fmt.Fprintln(ph.in, cmd); err != nil {
		b.Fatalf("phones: %v", err)
	}
}

func (ph *psPhones) finish(b *testing.B) {
	ph.in.Close()
	if err := ph.cmd.Wait(); err != nil {
		b.Errorf("phones process: %v", err)
	}
}

// psHoldOnce has every phone hold one Ping for psHold, measures this (the
// server's) process, cancels the Pings and waits for the goroutines to
// settle.
func psHoldOnce(b *testing.B, d *testenv.Dovecot, ph *psPhones) {
	runtime.GC()
	base := runtime.NumGoroutine()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0 := psVmKB("VmRSS:")
	pool := psIMAPProcs(b, d) // before any Ping: only imapsource's pool
	poolPer := map[string]int{}
	for _, p := range pool {
		poolPer[p.user]++
	}
	b.Logf("before the Pings: %d goroutines, heap %.1f MiB, RSS %.1f MiB, %d pooled IMAP connections (max %d per account)",
		base, psMiB(m0.HeapAlloc), float64(rss0)/1024, len(pool), psMax(poolPer))

	pingStart := time.Now()
	ph.send(b, "PING")
	ph.expect(b, "SENT", 5*time.Minute)
	nDevs := psAccounts * psDevicesPerUser

	// Wait until every account has its push connection (an imap process
	// with an inotify fd), or, since Dovecot gets no inotify instance
	// beyond fs.inotify.max_user_instances (128 by default, and all of its
	// imap processes run as one user), until the number of imap processes
	// has not changed for 3 s; at most 60 s.
	var watchUp time.Duration
	lastN, lastChange := -1, time.Now()
	for deadline := time.Now().Add(60 * time.Second); ; {
		per := map[string]int{}
		ps := psIMAPProcs(b, d)
		for _, p := range ps {
			if p.push {
				per[p.user]++
			}
		}
		if len(ps) != lastN {
			lastN, lastChange = len(ps), time.Now()
		}
		if len(per) >= psAccounts || time.Since(lastChange) > 3*time.Second || time.Now().After(deadline) {
			watchUp = lastChange.Sub(pingStart)
			b.Logf("%d Pings sent; %d accounts with an inotify push connection, %d imap processes, stable since %v",
				nDevs, len(per), len(ps), watchUp.Round(time.Millisecond))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Hold: nothing happens, the process should be idle.
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	holdStart := time.Now()
	time.Sleep(psHold)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	held := time.Since(holdStart)
	cpu := psCPU(ru1) - psCPU(ru0)

	runtime.GC()
	hold := runtime.NumGoroutine()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	rss1, hwm := psVmKB("VmRSS:"), psVmKB("VmHWM:")
	procs := psIMAPProcs(b, d)
	pushPer, poolNowPer, allPer := map[string]int{}, map[string]int{}, map[string]int{}
	for _, p := range procs {
		allPer[p.user]++
		if p.push {
			pushPer[p.user]++
		} else {
			poolNowPer[p.user]++
		}
	}
	// Cancel every Ping; the handlers, the watchers (after watch.Grace)
	// and the connections must go away.
	ph.send(b, "STOP")
	if res := ph.expect(b, "STOPPED", 2*time.Minute); res != "answered 0 failed 0" {
		b.Errorf("Pings ended during the hold: %s", res)
	}
	cancelled := time.Now()
	// Settled: no push connection left and no goroutine beyond those
	// before the Pings plus one per pooled IMAP connection opened since
	// (its imapclient reader; the pool keeps idle connections 5 min).
	var settled time.Duration
	after, pushLeft, poolAfter := 0, 0, 0
	for {
		runtime.GC()
		after = runtime.NumGoroutine()
		pushLeft, poolAfter = 0, 0
		for _, p := range psIMAPProcs(b, d) {
			if p.push {
				pushLeft++
			} else {
				poolAfter++
			}
		}
		if pushLeft == 0 && after <= base+max(0, poolAfter-len(pool))+5 {
			settled = time.Since(cancelled)
			break
		}
		if time.Since(cancelled) > psSettleTimeout {
			b.Errorf("goroutines did not settle: %d, %d before the Pings, %d push and %d pooled connections (%d before)",
				after, base, pushLeft, poolAfter, len(pool))
			settled = time.Since(cancelled)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}

	n := float64(nDevs)
	accts := float64(psAccounts)
	b.Logf("hold %v: %d goroutines (%+d, %.2f per Ping), heap %.1f → %.1f MiB, RSS %.1f → %.1f MiB (peak %.1f MiB), CPU %v (%.2f %% of one core)",
		held.Round(time.Millisecond), hold, hold-base, float64(hold-base)/n, psMiB(m0.HeapAlloc), psMiB(m1.HeapAlloc),
		float64(rss0)/1024, float64(rss1)/1024, float64(hwm)/1024, cpu.Round(time.Millisecond), 100*cpu.Seconds()/held.Seconds())
	b.Logf("Go memory during the hold: heap in use %.1f MiB, heap idle not released %.1f MiB, stacks %.1f MiB, other runtime %.1f MiB, total from the OS %.1f MiB",
		psMiB(m1.HeapInuse), psMiB(m1.HeapIdle-m1.HeapReleased), psMiB(m1.StackSys), psMiB(m1.MSpanSys+m1.MCacheSys+m1.BuckHashSys+m1.GCSys+m1.OtherSys), psMiB(m1.Sys-m1.HeapReleased))
	b.Logf("IMAP connections (Dovecot imap processes) per account during the hold: push max %d (%d accounts, %d in all), pool max %d (%d in all, %d before), all max %d",
		psMax(pushPer), len(pushPer), psSum(pushPer), psMax(poolNowPer), psSum(poolNowPer), len(pool), psMax(allPer))
	b.Logf("after cancel: goroutines %d (before the Pings %d; pooled IMAP connections %d, before %d), settled after %v; push connections left %d",
		after, base, poolAfter, len(pool), settled.Round(time.Millisecond), pushLeft)
	// imapsource's pool holds at most 4 connections per login, so more
	// than 5 in all would mean more than one push connection, also for the
	// accounts whose watcher Dovecot could not give an inotify instance.
	if psMax(pushPer) > 1 || psMax(allPer) > 4+1 {
		b.Errorf("an account has %d inotify push IMAP connections and %d in all (target ≤ 1 push + ≤ 4 pooled)", psMax(pushPer), psMax(allPer))
	}
	if len(pushPer) < psAccounts {
		b.Logf("only %d of %d accounts' push connections hold an inotify instance (fs.inotify.max_user_instances); the others are counted as pooled", len(pushPer), psAccounts)
	}
	if rss1 > 150*1024 {
		b.Logf("RSS %.1f MiB is above the 150 MB target", float64(rss1)/1024)
	}

	b.ReportMetric(float64(rss1)/1024, "RSS-MiB")
	b.ReportMetric(float64(hwm)/1024, "peakRSS-MiB")
	b.ReportMetric(psMiB(m1.HeapAlloc), "heap-MiB")
	b.ReportMetric(float64(hold), "goroutines-hold")
	b.ReportMetric(float64(base), "goroutines-before")
	b.ReportMetric(float64(hold-base)/n, "goroutines/ping")
	b.ReportMetric(float64(psMax(pushPer)), "push-imap/account-max")
	b.ReportMetric(float64(psSum(pushPer))/accts, "push-imap/account")
	b.ReportMetric(float64(psMax(poolNowPer)), "pool-imap/account-max")
	b.ReportMetric(float64(psMax(allPer)), "all-imap/account-max")
	b.ReportMetric(float64(psSum(allPer))/accts, "all-imap/account")
	b.ReportMetric(float64(psSum(poolNowPer))/accts, "pool-imap/account")
	b.ReportMetric(cpu.Seconds(), "cpu-s/hold")
	b.ReportMetric(100*cpu.Seconds()/held.Seconds(), "cpu-%")
	b.ReportMetric(watchUp.Seconds(), "s-to-watched")
	b.ReportMetric(settled.Seconds(), "s-to-settle")
}

// psSetup provisions dv, finds its Inbox and syncs it to the current key.
func psSetup(dv *psDevice) error {
	ctx := context.Background()
	c := dv.c
	if _, err := c.Provision(ctx); err != nil {
		return fmt.Errorf("Provision: %w", err)
	}
	_, folders, r, err := c.FolderSync(ctx, "0")
	if err != nil || r.Status() != 1 {
		return fmt.Errorf("FolderSync: %v status %d", err, r.Status())
	}
	for _, f := range folders {
		if f.Type == 2 {
			dv.inbox = f.ServerID
		}
	}
	if dv.inbox == "" {
		return errors.New("no Inbox")
	}
	key := "0"
	for range 20 {
		next, more, err := psSync(ctx, c, dv.inbox, key)
		if err != nil {
			return err
		}
		first := key == "0"
		key = next
		if !first && !more {
			dv.key = key
			return nil
		}
	}
	return errors.New("Sync did not finish")
}

// psSync sends one Sync of coll from key and returns the new key and
// whether more is available.
func psSync(ctx context.Context, c *easclient.Client, coll, key string) (string, bool, error) {
	ns := wbxml.NSAirSync
	col := wbxml.New(ns, "Collection", wbxml.Text(ns, "SyncKey", key), wbxml.Text(ns, "CollectionId", coll))
	if key != "0" {
		col.Add(wbxml.Text(ns, "DeletesAsMoves", "1"), wbxml.Text(ns, "GetChanges", "1"))
	}
	col.Add(wbxml.Int(ns, "WindowSize", 100))
	if key != "0" {
		col.Add(wbxml.New(ns, "Options", wbxml.Text(ns, "FilterType", "0"),
			wbxml.New(wbxml.NSAirSyncBase, "BodyPreference",
				wbxml.Text(wbxml.NSAirSyncBase, "Type", "1"), wbxml.Text(wbxml.NSAirSyncBase, "TruncationSize", "5120"))))
	}
	r, err := c.Do(ctx, "Sync", wbxml.New(ns, "Sync", wbxml.New(ns, "Collections", col)))
	if err != nil {
		return "", false, fmt.Errorf("Sync %s: %w", key, err)
	}
	if r.HTTPStatus != 200 {
		return "", false, fmt.Errorf("Sync %s: HTTP %d", key, r.HTTPStatus)
	}
	if r.Root == nil { // no changes
		return key, false, nil
	}
	cr := r.Root.Child(ns, "Collections").Child(ns, "Collection")
	if cr == nil {
		return "", false, fmt.Errorf("Sync %s: no collection: %s", key, wbxml.XMLString(r.Root))
	}
	if st, _ := cr.ChildInt(ns, "Status"); st != 1 {
		return "", false, fmt.Errorf("Sync %s: status %d", key, st)
	}
	return cr.ChildText(ns, "SyncKey"), cr.Has(ns, "MoreAvailable"), nil
}

type psProc struct {
	pid  int
	user string
	push bool // the process watches mailboxes (an inotify fd): NOTIFY or IDLE
}

// psIMAPProcs lists Dovecot's imap processes (one per IMAP connection;
// verbose_proctitle names the user: "imap [p007 127.0.0.1 ...]").
func psIMAPProcs(b *testing.B, d *testenv.Dovecot) []psProc {
	ps, err := d.Processes()
	if err != nil {
		b.Fatal(err)
	}
	var out []psProc
	for _, p := range ps {
		if _, rest, ok := strings.Cut(p.Cmdline, "imap ["); ok {
			if user, _, ok := strings.Cut(rest, " "); ok {
				out = append(out, psProc{p.PID, user, psHasInotify(p.PID)})
			}
		}
	}
	return out
}

// psHasInotify tells whether process pid has an inotify descriptor open:
// Dovecot's imap process creates one only for mailbox watching (IDLE,
// NOTIFY), so it tells the push watcher's connection from imapsource's
// pooled ones, which Dovecot's process titles do not.
func psHasInotify(pid int) bool {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.Contains(l, "inotify") {
			return true
		}
	}
	return false
}

// psVmKB reads a field of /proc/self/status in kB ("VmRSS:", "VmHWM:").
func psVmKB(field string) int64 {
	buf, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(buf), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func psCPU(ru syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func psMax(m map[string]int) int {
	n := 0
	for _, v := range m {
		n = max(n, v)
	}
	return n
}

func psSum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func psMiB(n uint64) float64 { return float64(n) / (1 << 20) }
