package engine

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	imap "github.com/emersion/go-imap/v2"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/imapsource"
	"easbridge/sync/state"
	"easbridge/sync/testenv"
)

// Benchmarks of mail Sync against a real Dovecot (issue: mail over IMAP):
//
//	go test -run '^$' -bench 'Mail' -benchtime 3x -timeout 30m ./sync/engine/
//
// The folders are seeded once per process (10,000 APPENDs take about a
// minute on 2 cores).

// benchMessage is a ~6 KB plain-text message.
func benchMessage(i int) []byte {
	body := strings.Repeat(fmt.Sprintf("Line %d of a fairly ordinary message body, with some words in it.\r\n", i), 90)
	return []byte(fmt.Sprintf("From: Sender %d <sender%d@example.test>\r\nTo: Alice <alice@example.test>\r\nSubject: Message number %d\r\nDate: %s\r\nMessage-ID: <bench%d@example.test>\r\n\r\n%s",
		i%50, i%50, i, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z), i, body))
}

// benchDovecot starts one Dovecot with Bench1k and Bench10k mailboxes.
func benchDovecot(b *testing.B) *testenv.Dovecot {
	dc := testenv.StartDovecot(b, testenv.DovecotOptions{ExtraConfig: "mail_fsync = never\n"})
	cl := dc.Dial(b, "alice")
	for _, box := range []struct {
		name string
		n    int
	}{{"Bench1k", 1000}, {"Bench10k", 10000}} {
		if err := cl.Create(box.name, nil).Wait(); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < box.n; i++ {
			msg := benchMessage(i)
			cmd := cl.Append(box.name, int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}})
			cmd.Write(msg)
			cmd.Close()
			if _, err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}
	cl.Close()
	return dc
}

// BenchmarkMail seeds Dovecot once and runs every mail benchmark on it.
func BenchmarkMail(b *testing.B) {
	dc := benchDovecot(b)
	b.Run("InitialSync", func(b *testing.B) { benchInitialSync(b, dc) })
	b.Run("RawFetch", func(b *testing.B) { benchRawFetch(b, dc) })
	b.Run("NoChangeSync", func(b *testing.B) { benchNoChange(b, dc) })
	b.Run("Attachment50MB", func(b *testing.B) { benchAttachment(b, dc) })
	b.Run("Breakdown", func(b *testing.B) { benchBreakdown(b, newBenchEnv(b, dc)) })
}

type benchEnv struct {
	s        *session
	commands atomic.Int64
	ids      map[string]string
}

func newBenchEnv(b *testing.B, dc *testenv.Dovecot) *benchEnv {
	env := &benchEnv{}
	cfg, _ := imapsource.ParseURL("imap://" + dc.IMAPAddr)
	cfg.OnCommand = func(string) { env.commands.Add(1) }
	env.s, env.ids = newBenchSession(b, Account{Name: "b", IMAP: cfg, Domain: "example.test"})
	return env
}

func (env *benchEnv) syncAll(b *testing.B, dev, coll string) (key string, n int) {
	return benchSyncAll(b, env.s, dev, coll, true)
}

// BenchmarkMailInitialSync: a new device syncs the whole folder in
// windows of 100 with 5 KB plain-text truncation.
func benchInitialSync(b *testing.B, dc *testenv.Dovecot) {
	env := newBenchEnv(b, dc)
	for _, box := range []string{"Bench1k", "Bench10k"} {
		b.Run(box, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				env.commands.Store(0)
				_, n := env.syncAll(b, fmt.Sprintf("init%d%s", i, box), env.ids[box])
				if n != map[string]int{"Bench1k": 1000, "Bench10k": 10000}[box] {
					b.Fatalf("synced %d", n)
				}
				b.ReportMetric(float64(env.commands.Load()), "imapcmds/op")
			}
		})
	}
}

// BenchmarkMailRawFetch is the baseline: the same data fetched with go-imap
// directly (envelope, flags, date, structure, first 5 KB of the text), in
// the same batches of 100.
func benchRawFetch(b *testing.B, dc *testenv.Dovecot) {
	for _, box := range []string{"Bench1k", "Bench10k"} {
		b.Run(box, func(b *testing.B) {
			cl := dc.Dial(b, "alice")
			defer cl.Close()
			for i := 0; i < b.N; i++ {
				sel, err := cl.Select(box, nil).Wait()
				if err != nil {
					b.Fatal(err)
				}
				n := int(sel.NumMessages)
				for lo := 1; lo <= n; lo += 100 {
					hi := min(lo+99, n)
					msgs, err := cl.Fetch(imap.SeqSetNum(seqRange(lo, hi)...), &imap.FetchOptions{
						UID: true, Flags: true, Envelope: true, InternalDate: true, RFC822Size: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
						BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierHeader, Peek: true}, {Part: []int{1}, Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: 5120}}},
					}).Collect()
					if err != nil || len(msgs) != hi-lo+1 {
						b.Fatalf("fetch: %v %d", err, len(msgs))
					}
				}
			}
		})
	}
}

func seqRange(lo, hi int) []uint32 {
	out := make([]uint32, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		out = append(out, uint32(i))
	}
	return out
}

// BenchmarkMailNoChangeSync: a device that has everything asks again;
// the figure is the server-side time of SyncCollection, and the IMAP
// commands it caused.
func benchNoChange(b *testing.B, dc *testenv.Dovecot) {
	env := newBenchEnv(b, dc)
	for _, box := range []string{"Bench1k", "Bench10k"} {
		b.Run(box, func(b *testing.B) {
			key, _ := env.syncAll(b, "nochange"+box, env.ids[box])
			ctx := context.Background()
			req := &server.SyncCollection{Version: eas.V161, CollectionID: env.ids[box], SyncKey: key, GetChanges: true, WindowSize: 100,
				Options: server.ItemOptions{BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 5120}}, Conflict: 1}}
			env.commands.Store(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := env.s.SyncCollection(ctx, "nochange"+box, req)
				if err != nil || len(res.Changes) != 0 || res.SyncKey != key {
					b.Fatalf("no-change sync: %v %+v", err, res)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(env.commands.Load())/float64(b.N), "imapcmds/op")
		})
	}
}

// BenchmarkMailAttachment50MB streams a 50 MB attachment through
// OpenAttachment and reports the heap growth.
func benchAttachment(b *testing.B, dc *testenv.Dovecot) {
	payload := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpamtsbW5vcHFyc3R1\r\n", 50<<20/76*4/3)
	msg := "From: x@example.test\r\nTo: alice@example.test\r\nSubject: Big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\nbig one\r\n--BB\r\nContent-Type: application/octet-stream; name=big.bin\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n" + payload + "--BB--\r\n"
	dc.CreateMailbox(b, "alice", "Big")
	uid := dc.Append(b, "alice", "Big", []byte(msg))
	env := newBenchEnv(b, dc)
	ref := fileReference(env.ids["Big"], uint32(uid), []int{2})
	b.SetBytes(50 << 20)
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		att, err := env.s.OpenAttachment(context.Background(), ref)
		if err != nil {
			b.Fatal(err)
		}
		var peak uint64
		buf := make([]byte, 64<<10)
		total := 0
		for {
			n, err := att.Body.Read(buf)
			total += n
			if total%(4<<20) < n {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
			if err != nil {
				break
			}
		}
		att.Body.Close()
		runtime.ReadMemStats(&after)
		if total < 40<<20 {
			b.Fatalf("read %d bytes", total)
		}
		b.ReportMetric(float64(peak-min(peak, before.HeapInuse))/(1<<20), "MB-heap-growth")
	}
}

var _ = state.ErrNotFound
