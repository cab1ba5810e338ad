package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	imap "github.com/emersion/go-imap/v2"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/easclient"
	"easbridge/sync/testenv"
)

// BenchmarkPingLatency measures push through the whole endpoint: a phone
// holds a Ping on its Inbox, another IMAP client APPENDs a message (or
// flags one, STORE +FLAGS.SILENT), and the time until the Ping answers
// Status 2 is taken; the phone then Syncs the change and Pings again. The
// changes come at random moments (0–500 ms after the Ping is held), as
// real mail does. b.N pushes per operation; reports p50, p99 and max.
//
//	go test -run '^$' -bench PingLatency -benchtime 60x ./app/
func BenchmarkPingLatency(b *testing.B) {
	d := testenv.StartDovecot(b, testenv.DovecotOptions{})
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = b.TempDir()
	cfg.Domain = testenv.Domain
	cfg.Accounts = []config.Account{{
		Name: "latency", IMAP: "imap://" + d.IMAPAddr, SMTP: "smtp://" + d.SubmissionAddr,
		Login: config.LoginPassthrough,
	}}
	rt, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })
	other := d.Dial(b, "alice")
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	uid := d.Append(b, "alice", "INBOX", []byte("From: bob@example.test\r\nSubject: flag me\r\n\r\nhi\r\n"))
	// The flagging connection must have seen the message (Dovecot ignores
	// a UID STORE of a message its session does not know yet).
	if err := other.Noop().Wait(); err != nil {
		b.Fatal(err)
	}
	flagged := false
	for i, op := range []string{"append", "store"} {
		b.Run(op, func(b *testing.B) {
			dv := &psDevice{user: "alice", c: easclient.New("http://"+rt.Addr(), "alice", "alicepw", fmt.Sprintf("latphone%d", i))}
			if err := psSetup(dv); err != nil {
				b.Fatal(err)
			}
			key := dv.key
			var err error
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for n := range b.N {
				type answer struct {
					res *easclient.PingResult
					err error
					at  time.Time
				}
				done := make(chan answer, 1)
				go func() {
					res, _, err := dv.c.Ping(context.Background(), 300, []easclient.PingFolder{{ID: dv.inbox, Class: "Email"}})
					done <- answer{res, err, time.Now()}
				}()
				time.Sleep(300*time.Millisecond + time.Duration(rng.Int64N(int64(500*time.Millisecond))))
				start := time.Now()
				switch op {
				case "append":
					d.Append(b, "alice", "INBOX", []byte(fmt.Sprintf("From: bob@example.test\r\nSubject: push %d\r\n\r\nhi\r\n", n)))
				case "store":
					// Toggle: the benchmark body runs more than once (b.N
					// 1, then the real count), so n's parity is no guide.
					flagOp := imap.StoreFlagsAdd
					if flagged {
						flagOp = imap.StoreFlagsDel
					}
					flagged = !flagged
					if err := other.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: flagOp, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close(); err != nil {
						b.Fatal(err)
					}
				}
				var a answer
				select {
				case a = <-done:
				case <-time.After(30 * time.Second):
					b.Fatalf("push %d: Ping did not answer", n)
				}
				if a.err != nil || a.res.Status != 2 || len(a.res.Folders) != 1 || a.res.Folders[0] != dv.inbox {
					b.Fatalf("push %d: Ping answered %+v, %v", n, a.res, a.err)
				}
				lat = append(lat, a.at.Sub(start))
				// The phone fetches the change, as it would.
				if key, _, err = psSync(context.Background(), dv.c, dv.inbox, key); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[max(0, (len(lat)*99+99)/100-1)]), "p99-ms")
			b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
