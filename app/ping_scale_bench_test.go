package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	cfg.Accounts = []config.Account{{
		Name: "scale", IMAP: "imap://" + d.IMAPAddr, SMTP: "smtp://" + d.SubmissionAddr,
		Login: config.LoginPassthrough,
	}}
	rt, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })

	// The phones' own HTTP client (not http.DefaultClient), closed at the end.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: psSetupWorkers}}
	b.Cleanup(hc.CloseIdleConnections)

	// Setup: Provision, FolderSync 0, Sync Inbox 0 → 1 → current, with
	// psSetupWorkers devices at a time.
	setupStart := time.Now()
	devs := make([]*psDevice, 0, psAccounts*psDevicesPerUser)
	for _, u := range users {
		for j := range psDevicesPerUser {
			c := easclient.New("http://"+rt.Addr(), u.Name, u.Password, fmt.Sprintf("scale%s%d", u.Name, j))
			c.HTTP = hc
			devs = append(devs, &psDevice{user: u.Name, c: c})
		}
	}
	// Two phases: first one device per account, then the other four. The
	// engine caches a login per (user, password), but two concurrent first
	// logins of one user both miss the cache and the second closes the
	// first one's IMAP account while its request still uses it (Sync
	// status 16, "imapsource: account closed"), so the first login of
	// every account is not raced here.
	for phase := range 2 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		work := make(chan *psDevice)
		for range psSetupWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for dv := range work {
					if err := psSetup(dv); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("%s: %w", dv.c.DeviceID, err)
						}
						mu.Unlock()
					}
				}
			}()
		}
		for i, dv := range devs {
			if (i%psDevicesPerUser == 0) == (phase == 0) {
				work <- dv
			}
		}
		close(work)
		wg.Wait()
		if firstErr != nil {
			b.Fatal(firstErr)
		}
	}
	setup := time.Since(setupStart)
	b.Logf("setup of %d devices (%d workers): %v", len(devs), psSetupWorkers, setup.Round(time.Millisecond))

	for range b.N {
		psHoldOnce(b, d, devs, hc)
	}
}

// psHoldOnce holds one Ping per device for psHold, measures, cancels them
// and waits for the goroutines to settle.
func psHoldOnce(b *testing.B, d *testenv.Dovecot, devs []*psDevice, hc *http.Client) {
	hc.CloseIdleConnections()
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

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var answered, failed atomic.Int64
	var firstAnswer atomic.Value // string
	var wg sync.WaitGroup
	pingStart := time.Now()
	for _, dv := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _, err := dv.c.Ping(ctx, psHeartbeat, []easclient.PingFolder{{ID: dv.inbox, Class: "Email"}})
			if ctx.Err() != nil {
				return // cancelled: expected
			}
			if err != nil {
				failed.Add(1)
				firstAnswer.CompareAndSwap(nil, fmt.Sprintf("%s: %v", dv.c.DeviceID, err))
				return
			}
			answered.Add(1)
			firstAnswer.CompareAndSwap(nil, fmt.Sprintf("%s: status %d %v", dv.c.DeviceID, res.Status, res.Folders))
		}()
	}

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
				len(devs), len(per), len(ps), watchUp.Round(time.Millisecond))
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
	clientG := psClientGoroutines()
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
	if n := answered.Load() + failed.Load(); n > 0 {
		b.Errorf("%d Pings ended during the hold (%d errors), e.g. %v", n, failed.Load(), firstAnswer.Load())
	}

	// Cancel every Ping; the handlers, the watchers (after watch.Grace)
	// and the connections must go away.
	cancel()
	wg.Wait()
	hc.CloseIdleConnections()
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

	n := float64(len(devs))
	accts := float64(psAccounts)
	b.Logf("hold: %d goroutines of the phones' side (Ping callers, HTTP client loops), %d of the server's (%.2f per Ping above the %d before)",
		clientG, hold-clientG, float64(hold-clientG-base)/n, base)
	b.Logf("hold %v: %d goroutines (%+d, %.2f per Ping), heap %.1f → %.1f MiB, RSS %.1f → %.1f MiB (peak %.1f MiB), CPU %v (%.2f %% of one core)",
		held.Round(time.Millisecond), hold, hold-base, float64(hold-base)/n, psMiB(m0.HeapAlloc), psMiB(m1.HeapAlloc),
		float64(rss0)/1024, float64(rss1)/1024, float64(hwm)/1024, cpu.Round(time.Millisecond), 100*cpu.Seconds()/held.Seconds())
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
	b.ReportMetric(float64(hold-clientG-base)/n, "server-goroutines/ping")
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

// psClientGoroutines counts the goroutines that belong to the phones'
// side living in this process (the Ping callers and net/http's client
// connection loops), so that the server's share can be given.
func psClientGoroutines() int {
	buf := make([]byte, 64<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "net/http.(*persistConn)") || strings.Contains(g, "app_test.psHoldOnce.func") {
			n++
		}
	}
	return n
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
