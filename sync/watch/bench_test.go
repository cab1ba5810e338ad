package watch

// Benchmarks against a real Dovecot; figures in docs/BENCHMARKS.md ("Push").
//
//	go test -run '^$' -bench PushLatency -benchtime=60x ./sync/watch/
//	go test -run '^$' -bench PushScale -benchtime=1x -timeout 10m ./sync/watch/

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"easbridge/sync/testenv"
)

// BenchmarkPushLatency measures the time from an APPEND (or a flag-only
// STORE) by another client to the watcher's event: "notify" is the default
// (NOTIFY plus the small-installation STATUS checks every FastPoll, the hub
// having one watcher), "notify-only" is NOTIFY alone (what an installation
// with more than FastPollLimit accounts gets), "idle" the IDLE fallback
// (INBOX selected; default PollInterval, so no poll helps). b.N pushes;
// reports p50, p99 and max.
func BenchmarkPushLatency(b *testing.B) {
	d := testenv.StartDovecot(b, testenv.DovecotOptions{})
	for _, mode := range []string{"notify", "notify-only", "idle"} {
		for _, op := range []string{"append", "store"} {
			b.Run(mode+"/"+op, func(b *testing.B) {
				opts := HubOptions{NoNotify: mode == "idle"}
				if mode == "notify-only" {
					opts.FastPollLimit = -1
				}
				benchLatency(b, d, opts, op)
			})
		}
	}
}

func benchLatency(b *testing.B, d *testenv.Dovecot, opts HubOptions, op string) {
	h := NewHub(opts)
	defer h.Close()
	acct := dovecotAccount(d, "alice", "alicepw")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := h.Watch(ctx, acct, []string{"INBOX"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	select {
	case <-ch: // coverage
	case <-time.After(10 * time.Second):
		b.Fatal("no coverage event")
	}
	other := d.Dial(b, "alice")
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	msg := testMessage("latency")
	var uid imap.UID
	if op == "store" {
		uid = appendWith(b, other, msg)
		<-ch
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range b.N {
		// Changes come at random times, not in step with the watcher's
		// checks: wait 0–500 ms (not counted) before each.
		time.Sleep(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
		start := time.Now()
		switch op {
		case "append":
			appendWith(b, other, msg)
		case "store":
			flagOp := imap.StoreFlagsAdd
			if i%2 == 1 {
				flagOp = imap.StoreFlagsDel
			}
			if err := other.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: flagOp, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close(); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			b.Fatalf("push %d: no event", i)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[max(0, (len(lat)*99+99)/100-1)]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(0, "ns/op")
}

func appendWith(b *testing.B, c *imapclient.Client, msg []byte) imap.UID {
	cmd := c.Append("INBOX", int64(len(msg)), nil)
	if _, err := cmd.Write(msg); err != nil {
		b.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		b.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil {
		b.Fatal(err)
	}
	return data.UID
}

// BenchmarkPushScale holds 200 accounts × 5 subscriptions (each INBOX plus
// one of Sent, Drafts, Trash, Junk, Archive) against one Dovecot for 20 s
// and reports goroutines, heap and RSS, and checks one IMAP connection per
// account; 20 of the accounts get a message during the hold, which must
// arrive as events.
func BenchmarkPushScale(b *testing.B) {
	const accounts, hold = 200, 20 * time.Second
	users := make([]testenv.User, accounts)
	for i := range users {
		users[i] = testenv.User{Name: fmt.Sprintf("u%03d", i), Password: "pw" + strconv.Itoa(i)}
	}
	d := testenv.StartDovecot(b, testenv.DovecotOptions{Users: users, ExtraConfig: `
service imap {
  process_limit = 1024
}
service imap-login {
  process_limit = 1024
}
`})
	// Log in once per user: Dovecot creates the mailboxes on first login.
	for _, u := range users {
		d.Dial(b, u.Name).Close()
	}
	extra := []string{"Sent", "Drafts", "Trash", "Junk", "Archive"}
	for range b.N {
		runtime.GC()
		base := runtime.NumGoroutine()
		var m0 runtime.MemStats
		runtime.ReadMemStats(&m0)
		rss0 := vmRSS()

		h := NewHub(HubOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		chans := make([][]<-chan Event, accounts)
		start := time.Now()
		for i, u := range users {
			acct := dovecotAccount(d, u.Name, u.Password)
			for _, m := range extra {
				ch, err := h.Watch(ctx, acct, []string{"INBOX", m}, nil)
				if err != nil {
					b.Fatal(err)
				}
				chans[i] = append(chans[i], ch)
			}
		}
		for _, u := range users {
			key := dovecotAccount(d, u.Name, u.Password).Key
			waitUntil(b, "all accounts watched", time.Minute, func() bool { return h.stats(key).mode == "notify" })
		}
		connected := time.Since(start)
		// Every subscription got its coverage events; drain them.
		for _, cs := range chans {
			for _, ch := range cs {
				for len(ch) > 0 {
					<-ch
				}
			}
		}
		time.Sleep(hold / 2)
		for i := 0; i < accounts; i += accounts / 20 {
			d.Append(b, users[i].Name, "INBOX", testMessage("scale "+users[i].Name))
		}
		for i := 0; i < accounts; i += accounts / 20 {
			for _, ch := range chans[i] {
				select {
				case ev := <-ch:
					if ev.Mailbox != "INBOX" {
						b.Errorf("%s: event %+v", users[i].Name, ev)
					}
				case <-time.After(10 * time.Second):
					b.Fatalf("%s: no event", users[i].Name)
				}
			}
		}
		time.Sleep(hold / 2)

		runtime.GC()
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		goroutines := runtime.NumGoroutine() - base
		rss1 := vmRSS()
		conns, dials := 0, 0
		for _, u := range users {
			st := h.stats(dovecotAccount(d, u.Name, u.Password).Key)
			if st.conns != 1 || st.dials != 1 || st.subs != len(extra) {
				b.Errorf("%s: %+v", u.Name, st)
			}
			conns += st.conns
			dials += st.dials
		}
		procs := dovecotIMAPPerUser(b, d)
		for _, u := range users {
			if procs[u.Name] != 1 {
				b.Errorf("%s: %d imap processes", u.Name, procs[u.Name])
			}
		}
		b.ReportMetric(float64(goroutines)/accounts, "goroutines/account")
		b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/accounts/1024, "heap-KiB/account")
		b.ReportMetric(float64(rss1-rss0)/accounts, "rss-KiB/account")
		b.ReportMetric(float64(conns)/accounts, "conns/account")
		b.ReportMetric(connected.Seconds(), "connect-all-s")
		b.ReportMetric(0, "ns/op")
		b.Logf("%d accounts × %d subscriptions: %d goroutines (+%d), heap %.1f → %.1f MiB, RSS %d → %d MiB, %d connections (%d dials), all watched after %v",
			accounts, len(extra), runtime.NumGoroutine(), goroutines, float64(m0.HeapAlloc)/(1<<20), float64(m1.HeapAlloc)/(1<<20),
			rss0>>10, rss1>>10, conns, dials, connected.Round(time.Millisecond))

		cancel()
		if err := h.Close(); err != nil {
			b.Fatal(err)
		}
		settle(b, base)
		waitUntil(b, "Dovecot to drop the connections", 30*time.Second, func() bool { return len(dovecotIMAPPerUser(b, d)) == 0 })
	}
}

// vmRSS is this process's resident set in KiB (/proc/self/status VmRSS).
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// dovecotIMAPPerUser counts Dovecot's imap processes per user.
func dovecotIMAPPerUser(b *testing.B, d *testenv.Dovecot) map[string]int {
	ps, err := d.Processes()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range ps {
		if _, rest, ok := strings.Cut(p.Cmdline, "imap ["); ok {
			if user, _, ok := strings.Cut(rest, " "); ok {
				out[user]++
			}
		}
	}
	return out
}
