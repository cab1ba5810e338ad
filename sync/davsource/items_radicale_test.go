package davsource

// Item sync (source.DAVItems) against a real Radicale.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/source"
	"easbridge/sync/testenv"
)

// counter counts the requests of an Account (Config.OnRequest).
type counter struct {
	n   atomic.Int64
	mu  sync.Mutex
	log []string
}

func (c *counter) hook(method, path string) {
	c.n.Add(1)
	c.mu.Lock()
	c.log = append(c.log, method+" "+path)
	c.mu.Unlock()
}

// since returns the requests sent since a mark taken with mark.
func (c *counter) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.log)
}

func (c *counter) since(m int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log[m:]...)
}

func newCountingAccount(t testing.TB, url string) (*Account, *counter) {
	t.Helper()
	c := &counter{}
	a := NewAccount(Config{URL: url, OnRequest: c.hook}, "alice", "alicepw", testLogger())
	t.Cleanup(func() { a.Close() })
	return a, c
}

func event(uid, summary string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//davsource test//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20260301T100000Z\r\nDTEND:20260301T110000Z\r\nSUMMARY:" + summary + "\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n")
}

func vcard(uid, fn string) []byte {
	return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\nEND:VCARD\r\n")
}

// refs renders refs sorted, for comparisons.
func refs(l []source.DAVRef) string {
	s := make([]string, len(l))
	for i, r := range l {
		s[i] = r.Path + " " + r.ETag
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// changes calls Changes and checks how many requests it sent (0: any).
func changes(t *testing.T, a *Account, c *counter, key, token string, wantReqs int) source.DAVChanges {
	t.Helper()
	m := c.mark()
	ch, err := a.Changes(ctxT(t), key, token)
	if err != nil {
		t.Fatalf("Changes(%s, %q): %v", key, token, err)
	}
	if got := c.since(m); wantReqs > 0 && len(got) != wantReqs {
		t.Errorf("Changes(%s, %q) sent %d requests, want %d: %v", key, token, len(got), wantReqs, got)
	}
	return ch
}

func expectNoChange(t *testing.T, ch source.DAVChanges, token string) {
	t.Helper()
	if ch.Token != token || len(ch.Changed) != 0 || len(ch.Deleted) != 0 || ch.Full {
		t.Errorf("no-change Changes = %+v, want token %q and nothing else", ch, token)
	}
}

func TestRadicaleItemsCalendar(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	seed := r.SeedDefault(t, "alice")
	ctx := ctxT(t)
	a, cnt := newCountingAccount(t, r.URL)
	key := "caldav:" + seed.Calendar
	seeded := seed.In(seed.Calendar)
	if len(seeded) != 2 {
		t.Fatalf("seed: %+v", seeded)
	}

	// Initial listing: every member with the ETags of the seeding PUTs.
	ch := changes(t, a, cnt, key, "", 2) // PROPFIND depth 0 + REPORT
	want := make([]source.DAVRef, len(seeded))
	for i, o := range seeded {
		want[i] = source.DAVRef{Path: o.Path, ETag: o.ETag}
	}
	if !ch.Full || refs(ch.Changed) != refs(want) || len(ch.Deleted) != 0 || ch.Token == "" {
		t.Fatalf("initial Changes = %+v, want Full with %s", ch, refs(want))
	}
	t.Logf("Radicale sync-token: %s", ch.Token)
	tok, err := a.Token(ctx, key)
	if err != nil || tok != ch.Token {
		t.Errorf("Token = %q, %v; Changes token %q", tok, err, ch.Token)
	}

	// No change: exactly one request, nothing listed, the same token.
	expectNoChange(t, changes(t, a, cnt, key, ch.Token, 1), ch.Token)
	if tok2, _ := a.Token(ctx, key); tok2 != tok {
		t.Errorf("Token moved without a write: %q → %q", tok, tok2)
	}

	// Create through Put: listed with the ETag Put returned, under the
	// very path string NewPath made.
	uid := "new-1@example.test" // "@": hashed into the path
	p := a.NewPath(key, uid)
	if !strings.HasPrefix(p, seed.Calendar) || !strings.HasSuffix(p, ".ics") || strings.Contains(p, "@") {
		t.Errorf("NewPath = %q", p)
	}
	etag, err := a.Put(ctx, key, p, event(uid, "Created"), "")
	if err != nil || etag == "" {
		t.Fatalf("Put create = %q, %v", etag, err)
	}
	tok3, err := a.Token(ctx, key)
	if err != nil || tok3 == tok {
		t.Errorf("Token after a write = %q, %v (was %q)", tok3, err, tok)
	}
	ch2 := changes(t, a, cnt, key, ch.Token, 1)
	if ch2.Full || refs(ch2.Changed) != refs([]source.DAVRef{{Path: p, ETag: etag}}) || len(ch2.Deleted) != 0 || ch2.Token != tok3 {
		t.Errorf("after Put: %+v, want %s %s token %s", ch2, p, etag, tok3)
	}
	expectNoChange(t, changes(t, a, cnt, key, ch2.Token, 1), ch2.Token)

	// Create on an existing path, update with a stale ETag: 412.
	_, err = a.Put(ctx, key, p, event(uid, "Again"), "")
	expectErr(t, "Put create over an existing member", err, source.ErrPrecondition)
	_, err = a.Put(ctx, key, seeded[0].Path, event(seeded[0].UID, "Stale"), `"stale"`)
	expectErr(t, "Put with a stale ETag", err, source.ErrPrecondition)
	var he *HTTPError
	if !errors.As(err, &he) || he.Code != http.StatusPreconditionFailed {
		t.Errorf("Put 412 does not carry the HTTPError: %v", err)
	}

	// Another client modifies and deletes.
	modified := bytes.Replace(seeded[0].Body, []byte("SUMMARY:"), []byte("SUMMARY:Moved "), 1)
	newTag := r.Put(t, "alice", seeded[0].Path, "text/calendar; charset=utf-8", modified)
	ch3 := changes(t, a, cnt, key, ch2.Token, 1)
	if refs(ch3.Changed) != refs([]source.DAVRef{{Path: seeded[0].Path, ETag: newTag}}) || len(ch3.Deleted) != 0 {
		t.Errorf("after a foreign modify: %+v, want %s %s", ch3, seeded[0].Path, newTag)
	}
	r.Delete(t, "alice", seeded[1].Path)
	ch4 := changes(t, a, cnt, key, ch3.Token, 1)
	if len(ch4.Changed) != 0 || strings.Join(ch4.Deleted, ",") != seeded[1].Path {
		t.Errorf("after a foreign delete: %+v, want Deleted %s", ch4, seeded[1].Path)
	}

	// Update with the right ETag.
	etag2, err := a.Put(ctx, key, seeded[0].Path, event(seeded[0].UID, "Updated"), newTag)
	if err != nil || etag2 == "" || etag2 == newTag {
		t.Errorf("Put update = %q, %v", etag2, err)
	}

	// Get: two present, one missing, one duplicate; in request order.
	missing := seed.Calendar + "no-such-member.ics"
	objs, err := a.Get(ctx, key, []string{p, missing, seeded[0].Path, p})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Path != p || objs[0].ETag != etag || objs[1].Path != seeded[0].Path || objs[1].ETag != etag2 {
		t.Fatalf("Get = %+v", objs)
	}
	for _, o := range objs {
		body, getTag := r.Get(t, "alice", o.Path)
		if !bytes.Equal(o.Data, body) || o.ETag != getTag {
			t.Errorf("Get %s: %q %s, GET gives %q %s", o.Path, o.Data, o.ETag, body, getTag)
		}
	}
	if !bytes.Contains(objs[1].Data, []byte("SUMMARY:Updated\r\n")) {
		t.Errorf("Get data %q", objs[1].Data)
	}

	// Delete: stale ETag, right ETag, gone already.
	expectErr(t, "Delete with a stale ETag", a.Delete(ctx, key, p, `"stale"`), source.ErrPrecondition)
	if err := a.Delete(ctx, key, p, etag); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := a.Delete(ctx, key, p, ""); err != nil {
		t.Errorf("Delete of a missing member: %v", err)
	}
	ch5 := changes(t, a, cnt, key, ch4.Token, 1)
	if refs(ch5.Changed) != refs([]source.DAVRef{{Path: seeded[0].Path, ETag: etag2}}) || strings.Join(ch5.Deleted, ",") != p {
		t.Errorf("after update and delete: %+v", ch5)
	}

	// A member another client named with characters that need escaping:
	// Radicale's hrefs escape "@" and " ", and every operation takes them
	// back as they came.
	odd := seed.Calendar + "odd%20name@x.ics"
	oddTag := r.Put(t, "alice", odd, "text/calendar", event("odd@x", "Odd"))
	ch6 := changes(t, a, cnt, key, ch5.Token, 1)
	if len(ch6.Changed) != 1 || normPath(ch6.Changed[0].Path) != seed.Calendar+"odd name@x.ics" || ch6.Changed[0].ETag != oddTag {
		t.Fatalf("odd member: %+v", ch6)
	}
	oddHref := ch6.Changed[0].Path
	t.Logf("Radicale href for %s: %s", odd, oddHref)
	objs, err = a.Get(ctx, key, []string{oddHref})
	if err != nil || len(objs) != 1 || objs[0].Path != oddHref || objs[0].ETag != oddTag {
		t.Errorf("Get odd = %+v, %v", objs, err)
	}
	oddTag2, err := a.Put(ctx, key, oddHref, event("odd@x", "Odd 2"), oddTag)
	if err != nil {
		t.Errorf("Put odd: %v", err)
	}
	ch7 := changes(t, a, cnt, key, ch6.Token, 1)
	if refs(ch7.Changed) != refs([]source.DAVRef{{Path: oddHref, ETag: oddTag2}}) {
		t.Errorf("odd after Put: %+v", ch7)
	}
	if err := a.Delete(ctx, key, oddHref, oddTag2); err != nil {
		t.Errorf("Delete odd: %v", err)
	}
	ch8 := changes(t, a, cnt, key, ch7.Token, 1)
	if len(ch8.Changed) != 0 || strings.Join(ch8.Deleted, ",") != oddHref {
		t.Errorf("odd after Delete: %+v, want Deleted %s", ch8, oddHref)
	}

	// Bad tokens: Radicale answers 403 with DAV:valid-sync-token.
	for _, bad := range []string{
		"http://radicale.org/ns/sync/bogus",
		"http://radicale.org/ns/sync/" + strings.Repeat("0", 64), // well formed, unknown
		"garbage",
	} {
		_, err := a.Changes(ctx, key, bad)
		expectErr(t, "Changes with token "+bad, err, source.ErrTokenInvalid)
		if errors.As(err, &he) {
			t.Logf("bad token %q: %d %s", bad, he.Code, he.Body)
		}
	}

	// Tokens survive a server restart.
	r.Restart(t)
	expectNoChange(t, changes(t, a, cnt, key, ch8.Token, 1), ch8.Token)

	// Paths outside the collection are refused without a request.
	m := cnt.mark()
	for _, bad := range []string{seed.Work + "x.ics", seed.Calendar, seed.Calendar + "../work/x.ics", seed.Calendar + "a/b.ics", "/x.ics"} {
		_, err := a.Put(ctx, key, bad, event("x", "x"), "")
		expectErr(t, "Put "+bad, err, eas.ErrNotFound)
		expectErr(t, "Delete "+bad, a.Delete(ctx, key, bad, ""), eas.ErrNotFound)
		_, err = a.Get(ctx, key, []string{bad})
		expectErr(t, "Get "+bad, err, eas.ErrNotFound)
	}
	if got := cnt.since(m); len(got) != 0 {
		t.Errorf("bad paths sent %v", got)
	}
	_, err = a.Changes(ctx, "imap:INBOX", "")
	expectErr(t, "Changes of a foreign key", err, eas.ErrNotFound)
	_, err = a.Changes(ctx, "caldav:/alice/gone/", "")
	expectErr(t, "Changes of a missing collection", err, eas.ErrNotFound)
}

func TestRadicaleItemsAddressBook(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	seed := r.SeedDefault(t, "alice")
	ctx := ctxT(t)
	a, cnt := newCountingAccount(t, r.URL)
	key := "carddav:" + seed.Contacts
	seeded := seed.In(seed.Contacts)

	ch := changes(t, a, cnt, key, "", 2)
	if !ch.Full || len(ch.Changed) != len(seeded) || len(seeded) != 2 {
		t.Fatalf("initial = %+v, seeded %d", ch, len(seeded))
	}
	expectNoChange(t, changes(t, a, cnt, key, ch.Token, 1), ch.Token)

	p := a.NewPath(key, "card-1")
	if p != seed.Contacts+"card-1.vcf" {
		t.Errorf("NewPath = %q", p)
	}
	etag, err := a.Put(ctx, key, p, vcard("card-1", "Carla Card"), "")
	if err != nil || etag == "" {
		t.Fatalf("Put = %q, %v", etag, err)
	}
	_, err = a.Put(ctx, key, p, vcard("card-1", "Carla Card"), "")
	expectErr(t, "Put create twice", err, source.ErrPrecondition)
	ch2 := changes(t, a, cnt, key, ch.Token, 1)
	if refs(ch2.Changed) != refs([]source.DAVRef{{Path: p, ETag: etag}}) {
		t.Errorf("after Put: %+v", ch2)
	}
	objs, err := a.Get(ctx, key, []string{seeded[0].Path, p, seed.Contacts + "missing.vcf"})
	if err != nil || len(objs) != 2 || objs[1].Path != p || objs[1].ETag != etag ||
		!bytes.Contains(objs[1].Data, []byte("FN:Carla Card\r\n")) || !bytes.HasPrefix(objs[0].Data, []byte("BEGIN:VCARD\r\n")) {
		t.Fatalf("Get = %+v, %v", objs, err)
	}
	r.Delete(t, "alice", seeded[0].Path)
	ch3 := changes(t, a, cnt, key, ch2.Token, 1)
	if len(ch3.Changed) != 0 || strings.Join(ch3.Deleted, ",") != seeded[0].Path {
		t.Errorf("after delete: %+v", ch3)
	}
	if err := a.Delete(ctx, key, p, etag); err != nil {
		t.Error(err)
	}
	_, err = a.Changes(ctx, key, "http://radicale.org/ns/sync/nope")
	expectErr(t, "bad token", err, source.ErrTokenInvalid)

	// Get in batches: more hrefs than one multiget takes, most of them
	// missing; present ones in both batches.
	var paths []string
	present := map[int]bool{0: true, maxMultiget - 1: true, maxMultiget + 2: true}
	for i := range maxMultiget + 5 {
		uid := fmt.Sprintf("bulk-%03d", i)
		p := a.NewPath(key, uid)
		if present[i] {
			if _, err := a.Put(ctx, key, p, vcard(uid, fmt.Sprintf("Bulk %d", i)), ""); err != nil {
				t.Fatal(err)
			}
		}
		paths = append(paths, p)
	}
	m := cnt.mark()
	objs, err = a.Get(ctx, key, paths)
	if err != nil || len(objs) != len(present) {
		t.Fatalf("bulk Get: %d objects, %v", len(objs), err)
	}
	for k, i := range []int{0, maxMultiget - 1, maxMultiget + 2} {
		if o := objs[k]; o.Path != paths[i] || !bytes.Contains(o.Data, []byte(fmt.Sprintf("FN:Bulk %d\r\n", i))) {
			t.Errorf("bulk [%d] = %s %q", k, o.Path, o.Data)
		}
	}
	if got := cnt.since(m); len(got) != 2 {
		t.Errorf("bulk Get of %d sent %v", len(paths), got)
	}
}

// BenchmarkDAVNoChange measures Changes with a current token on a calendar
// of 2,000 events in Radicale: the engine's poll of an idle collection.
//
// The events are stored by one PUT of a VCALENDAR holding all of them to
// the collection's path (Radicale splits it into one member per UID, named
// UID + ".ics" like NewPath names them): about 30 s on an idle machine,
// where 2,000 PUTs of single events through Put take about 2 min (35–60 ms
// each, growing with the collection; Radicale fsyncs every item).
func BenchmarkDAVNoChange(b *testing.B) {
	const events = 2000
	r := testenv.StartRadicale(b, testenv.RadicaleOptions{})
	var cal bytes.Buffer
	cal.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//davsource bench//EN\r\n")
	for i := range events {
		uid := fmt.Sprintf("bench-%05d", i)
		ev := event(uid, "Event "+uid)
		ev = ev[bytes.Index(ev, []byte("BEGIN:VEVENT")):bytes.Index(ev, []byte("END:VCALENDAR"))]
		cal.Write(ev)
	}
	cal.WriteString("END:VCALENDAR\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := &counter{}
	// Not testenv's Put: its 30 s limit is too tight on a busy machine.
	a := NewAccount(Config{URL: r.URL, OnRequest: c.hook, HTTPClient: &http.Client{}}, "alice", "alicepw", nil)
	defer a.Close()
	start := time.Now()
	col := "/alice/big/"
	resp, err := a.do(ctx, http.MethodPut, col, "", http.Header{"Content-Type": {"text/calendar; charset=utf-8"}}, cal.Bytes())
	if err != nil {
		b.Fatalf("PUT %s: %v", col, err)
	}
	resp.Body.Close()

	key := "caldav:" + col
	ch, err := a.Changes(ctx, key, "")
	if err != nil || len(ch.Changed) != events || !ch.Full {
		b.Fatalf("initial Changes: %d members, %v", len(ch.Changed), err)
	}
	listed := make(map[string]bool, events)
	for _, m := range ch.Changed {
		listed[m.Path] = true
	}
	if p := a.NewPath(key, "bench-00007"); !listed[p] {
		b.Fatalf("NewPath %q is not how Radicale named the member", p)
	}
	b.Logf("setup: %d events and the initial listing in %v", events, time.Since(start).Round(time.Millisecond))

	before, ops := c.n.Load(), 0
	for b.Loop() { // the setup above is not timed
		ops++
		got, err := a.Changes(ctx, key, ch.Token)
		if err != nil || len(got.Changed)+len(got.Deleted) != 0 || got.Token != ch.Token {
			b.Fatalf("Changes = %+v, %v", got, err)
		}
	}
	b.ReportMetric(float64(c.n.Load()-before)/float64(ops), "requests/op")
}
