package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/davsource"
	"easbridge/sync/imapsource"
	"easbridge/sync/testenv"
)

// Benchmarks of calendar and contact Sync against a real Radicale (issue:
// calendar, contacts, tasks and notes over CalDAV/CardDAV):
//
//	go test -run '^$' -bench 'DAV' -benchtime 3x -timeout 30m ./sync/engine/
//
// Each collection (2,000 events, one in ten weekly, with an alarm; 2,000
// vCards) is seeded once per process and read once before the timed runs.
// Every HTTP request the engine sends
// goes through a counting transport that also adds up the time spent in
// it (until its body is read), so the engine's own time is the rest.

const davBenchItems = 2000

// countingTransport counts requests and the time spent in them.
type countingTransport struct {
	rt       http.RoundTripper
	requests atomic.Int64
	reports  atomic.Int64
	nanos    atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	if req.Method == "REPORT" {
		c.reports.Add(1)
	}
	start := time.Now()
	resp, err := c.rt.RoundTrip(req)
	c.nanos.Add(int64(time.Since(start)))
	if resp != nil {
		resp.Body = &timedBody{ReadCloser: resp.Body, nanos: &c.nanos}
	}
	return resp, err
}

func (c *countingTransport) reset() {
	c.requests.Store(0)
	c.reports.Store(0)
	c.nanos.Store(0)
}

type timedBody struct {
	io.ReadCloser
	nanos *atomic.Int64
}

func (t *timedBody) Read(p []byte) (int, error) {
	s := time.Now()
	n, err := t.ReadCloser.Read(p)
	t.nanos.Add(int64(time.Since(s)))
	return n, err
}

// seedDAVBench writes the bench collections' members straight into
// Radicale's storage (uploading 2,000 items over HTTP takes Radicale
// minutes); Radicale reads them at the first request.
func seedDAVBench(b *testing.B, dav *testenv.Radicale) {
	cal := dav.MakeCalendar(b, "alice", "bench-calendar", "bench-calendar")
	book := dav.MakeAddressBook(b, "alice", "bench-contacts", "bench-contacts")
	dir := func(coll string) string {
		return filepath.Join(dav.Dir, "collections", "collection-root", filepath.FromSlash(strings.Trim(coll, "/")))
	}
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	for i := 0; i < davBenchItems; i++ {
		t := start.Add(time.Duration(i) * 5 * time.Hour)
		var ev strings.Builder
		fmt.Fprintf(&ev, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-ev-%d@example.test\r\n"+
			"DTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Meeting %d\r\nLOCATION:Room %d\r\n"+
			"DESCRIPTION:Agenda for meeting %d: status\\, plans\\, questions.\r\n", i, t.Format("20060102T150405Z"),
			t.Add(time.Hour).Format("20060102T150405Z"), i, i%20, i)
		if i%10 == 0 {
			ev.WriteString("RRULE:FREQ=WEEKLY;COUNT=10\r\n")
		}
		ev.WriteString("BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
		card := fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bench-card-%d@example.test\r\nFN:Person %d Example\r\nN:Example;Person %d;;;\r\n"+
			"EMAIL;TYPE=INTERNET,WORK:person%d@example.test\r\nTEL;TYPE=CELL:+49 170 %07d\r\nORG:Company %d\r\nTITLE:Engineer\r\n"+
			"ADR;TYPE=WORK:;;Street %d;Berlin;;10115;Germany\r\nEND:VCARD\r\n", i, i, i, i, i, i%100, i)
		if err := os.WriteFile(filepath.Join(dir(cal), fmt.Sprintf("ev-%d.ics", i)), []byte(ev.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir(book), fmt.Sprintf("card-%d.vcf", i)), []byte(card), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

type davBenchEnv struct {
	s   *session
	ct  *countingTransport
	ids map[string]string
}

// BenchmarkDAV seeds Radicale once and runs every DAV benchmark on it.
func BenchmarkDAV(b *testing.B) {
	dav := testenv.StartRadicale(b, testenv.RadicaleOptions{})
	dc := testenv.StartDovecot(b, testenv.DovecotOptions{})
	seedDAVBench(b, dav)
	env := newDAVBenchEnv(b, dav, dc)
	for _, f := range []string{"bench-calendar", "bench-contacts"} {
		env.syncAll(b, "warmup", env.ids[f]) // Radicale parses and caches the files
	}
	colls := []struct{ name, folder string }{{"Calendar2000", "bench-calendar"}, {"Contacts2000", "bench-contacts"}}
	for _, c := range colls {
		b.Run("InitialSync/"+c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				env.ct.reset()
				_, n := env.syncAll(b, fmt.Sprintf("init%d%s", i, c.name), env.ids[c.folder])
				if n != davBenchItems {
					b.Fatalf("synced %d items, want %d", n, davBenchItems)
				}
				b.ReportMetric(float64(env.ct.requests.Load()), "requests/op")
				b.ReportMetric(float64(env.ct.nanos.Load())/1e6, "http-ms/op")
			}
		})
	}
	for _, c := range colls {
		b.Run("NoChangeSync/"+c.name, func(b *testing.B) {
			dev := "nochange" + c.name
			key, _ := env.syncAll(b, dev, env.ids[c.folder])
			req := &server.SyncCollection{Version: eas.V161, CollectionID: env.ids[c.folder], SyncKey: key, GetChanges: true, WindowSize: 100,
				Options: server.ItemOptions{BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 5120}}, Conflict: 1}}
			ctx := context.Background()
			env.ct.reset()
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s := time.Now()
				res, err := env.s.SyncCollection(ctx, dev, req)
				total += time.Since(s)
				if err != nil || len(res.Changes) != 0 || res.SyncKey != key {
					b.Fatalf("no-change sync: %v %+v", err, res)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(env.ct.requests.Load())/n, "requests/op")
			b.ReportMetric(float64(env.ct.reports.Load())/n, "reports/op")
			b.ReportMetric(float64(env.ct.nanos.Load())/n/1e6, "http-ms/op")
			b.ReportMetric(float64(total.Nanoseconds()-env.ct.nanos.Load())/n/1e6, "engine-ms/op")
		})
	}
}

func newDAVBenchEnv(b *testing.B, dav *testenv.Radicale, dc *testenv.Dovecot) *davBenchEnv {
	env := &davBenchEnv{ct: &countingTransport{rt: http.DefaultTransport.(*http.Transport).Clone()}}
	icfg, _ := imapsource.ParseURL("imap://" + dc.IMAPAddr)
	env.s, env.ids = newBenchSession(b, Account{Name: "b", IMAP: icfg, Domain: "example.test", Notes: NotesDAV,
		DAV: &davsource.Config{URL: dav.URL, HTTPClient: &http.Client{Transport: env.ct, Timeout: 5 * time.Minute}}})
	if env.ids["bench-calendar"] == "" || env.ids["bench-contacts"] == "" {
		b.Fatalf("bench collections not listed: %v", env.ids)
	}
	return env
}

// syncAll primes a collection for dev (FolderSync for it first: the
// engine keeps the hierarchy per device) and pulls every window.
func (env *davBenchEnv) syncAll(b *testing.B, dev, coll string) (key string, n int) {
	ctx := context.Background()
	if _, err := env.s.FolderSync(ctx, dev, "0"); err != nil {
		b.Fatal(err)
	}
	return benchSyncAll(b, env.s, dev, coll, false)
}
