package watch

import (
	"bufio"
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMUTF7(t *testing.T) {
	for _, tc := range []struct{ dec, enc string }{
		{"INBOX", "INBOX"},
		{"a&b", "a&-b"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"日本語", "&ZeVnLIqe-"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"😀 x", "&2D3eAA- x"},
	} {
		if got := encodeMUTF7(tc.dec); got != tc.enc {
			t.Errorf("encode %q = %q, want %q", tc.dec, got, tc.enc)
		}
		if got, err := decodeMUTF7(tc.enc); err != nil || got != tc.dec {
			t.Errorf("decode %q = %q, %v, want %q", tc.enc, got, err, tc.dec)
		}
	}
	for _, bad := range []string{"&", "&AB", "&A-", "&2D0-"} {
		if got, err := decodeMUTF7(bad); err == nil {
			t.Errorf("decode %q = %q, want an error", bad, got)
		}
	}
}

func readAll(t *testing.T, wire string) []*response {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(wire))
	var out []*response
	for {
		r, err := readResponse(br)
		if err != nil {
			return out
		}
		out = append(out, r)
	}
}

func TestParseStatus(t *testing.T) {
	rs := readAll(t, "* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 17 UNSEEN 1 HIGHESTMODSEQ 5)\r\n"+
		"* STATUS \"My \\\"Box\\\"\" (HIGHESTMODSEQ 9)\r\n"+
		"* STATUS {12}\r\nEntw&APw-rfe (MESSAGES 3 X-FUTURE 4)\r\n"+
		"* STATUS inbox (UNSEEN 0)\r\n"+
		"* 3 EXISTS\r\n"+
		"W7 OK [CAPABILITY IMAP4rev1 NOTIFY] done\r\n")
	if len(rs) != 6 {
		t.Fatalf("%d responses", len(rs))
	}
	want := []struct {
		name string
		v    statusVals
	}{
		{"INBOX", statusVals{has: hasMessages | hasUIDNext | hasUIDValidity | hasUnseen | hasModSeq, messages: 1, uidNext: 2, uidValidity: 17, seen: 1, highestModSeq: 5}},
		{`My "Box"`, statusVals{has: hasModSeq, highestModSeq: 9}},
		{"Entwürfe", statusVals{has: hasMessages, messages: 3}},
		{"INBOX", statusVals{has: hasUnseen}},
	}
	for i, w := range want {
		name, v, err := parseStatus(rs[i])
		if err != nil || name != w.name || v != w.v {
			t.Errorf("%d: %q %+v %v, want %q %+v", i, name, v, err, w.name, w.v)
		}
	}
	if n, ok := rs[4].number(); !ok || n != 3 || rs[4].kind() != "EXISTS" {
		t.Errorf("EXISTS: %d %v %s", n, ok, rs[4].kind())
	}
	if cond, code := rs[5].cond(); rs[5].tag != "W7" || cond != "OK" || !parseCaps(code)["NOTIFY"] {
		t.Errorf("tagged: %q %q %q", rs[5].tag, cond, code)
	}
	merged := want[0].v.merge(want[3].v)
	if merged.seen != 0 || merged.messages != 1 || merged == want[0].v {
		t.Errorf("merge: %+v", merged)
	}
	if _, _, err := parseStatus(rs[4]); err == nil {
		t.Error("EXISTS parsed as STATUS")
	}
}

func TestCoalescing(t *testing.T) {
	s := &sub{ch: make(chan Event, 2)}
	a, b := Event{Mailbox: "INBOX"}, Event{Collection: "/cal/"}
	for range 5 {
		s.deliver(a)
	}
	s.deliver(b)
	s.deliver(a)
	s.deliver(b)
	if len(s.ch) != 2 || <-s.ch != a {
		t.Fatalf("queued %d", len(s.ch))
	}
	// a was received: it is queued again behind b.
	s.deliver(a)
	s.deliver(b)
	if got := []Event{<-s.ch, <-s.ch}; got[0] != b || got[1] != a || len(s.ch) != 0 {
		t.Fatalf("got %v, %d left", got, len(s.ch))
	}
}

func TestWatchValidation(t *testing.T) {
	h := NewHub(HubOptions{})
	defer h.Close()
	ctx := context.Background()
	dav := func(context.Context, string) (string, error) { return "t", nil }
	for _, tc := range []struct {
		name string
		a    Account
		mb   []string
		cols []string
	}{
		{"no key", Account{DAVToken: dav}, nil, []string{"/c/"}},
		{"nothing", Account{Key: "k", DAVToken: dav}, nil, nil},
		{"mail without IMAP", Account{Key: "k", DAVToken: dav}, []string{"INBOX"}, nil},
		{"DAV without token func", Account{Key: "k", IMAP: &IMAPConfig{}}, nil, []string{"/c/"}},
		{"bad name", Account{Key: "k", DAVToken: dav}, nil, []string{"a\r\nb"}},
	} {
		if _, err := h.Watch(ctx, tc.a, tc.mb, tc.cols); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	h.Close()
	if _, err := h.Watch(ctx, Account{Key: "k", DAVToken: dav}, nil, []string{"/c/"}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// fakeDAV is a DAVToken function over a map, counting calls.
type fakeDAV struct {
	mu     sync.Mutex
	tokens map[string]string
	calls  map[string]int
	fail   bool
}

func (f *fakeDAV) token(ctx context.Context, c string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[c]++
	if f.fail {
		return "", errors.New("fake: DAV down")
	}
	return f.tokens[c], nil
}

func (f *fakeDAV) set(c, tok string) {
	f.mu.Lock()
	f.tokens[c] = tok
	f.mu.Unlock()
}

func (f *fakeDAV) count(c string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[c]
}

func expectEvent(t *testing.T, ch <-chan Event, want Event, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed waiting for %+v", want)
			}
			if ev == want {
				return time.Since(start)
			}
			t.Logf("(other event %+v)", ev)
		case <-timer.C:
			t.Fatalf("no %+v within %v", want, within)
		}
	}
}

func expectNone(t *testing.T, ch <-chan Event, d time.Duration) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

// settle waits until the goroutine count is back at or below base.
func settle(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDAVPolling(t *testing.T) {
	base := runtime.NumGoroutine()
	f := &fakeDAV{tokens: map[string]string{"/cal/": "1", "/book/": "a"}, calls: map[string]int{}}
	h := NewHub(HubOptions{DAVInterval: 50 * time.Millisecond, Grace: 300 * time.Millisecond})
	acct := Account{Key: "dav", DAVToken: f.token}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := h.Watch(ctx, acct, nil, []string{"/cal/", "/book/"})
	if err != nil {
		t.Fatal(err)
	}
	// The first tokens are events (a change may precede them), then quiet.
	expectEvent(t, ch, Event{Collection: "/book/"}, time.Second)
	expectEvent(t, ch, Event{Collection: "/cal/"}, time.Second)
	expectNone(t, ch, 200*time.Millisecond)
	f.set("/cal/", "2")
	expectEvent(t, ch, Event{Collection: "/cal/"}, time.Second)
	// Errors are no events; the change after them is.
	f.mu.Lock()
	f.fail = true
	f.mu.Unlock()
	expectNone(t, ch, 200*time.Millisecond)
	f.mu.Lock()
	f.fail = false
	f.tokens["/book/"] = "b"
	f.mu.Unlock()
	expectEvent(t, ch, Event{Collection: "/book/"}, time.Second)

	// A second subscription to the same account shares the watcher.
	ctx2, cancel2 := context.WithCancel(context.Background())
	ch2, err := h.Watch(ctx2, acct, nil, []string{"/cal/"})
	if err != nil {
		t.Fatal(err)
	}
	if st := h.stats("dav"); st.subs != 2 || st.colls != 2 {
		t.Errorf("stats %+v", st)
	}
	f.set("/cal/", "3")
	expectEvent(t, ch, Event{Collection: "/cal/"}, time.Second)
	expectEvent(t, ch2, Event{Collection: "/cal/"}, time.Second)
	cancel2()
	if _, ok := <-ch2; ok {
		t.Error("cancelled subscription still open")
	}

	// Unsubscribed: polled for Grace, then no more; the watcher stops.
	cancel()
	if _, ok := <-ch; ok {
		t.Error("cancelled subscription still open")
	}
	waitUntil(t, "the watcher to stop", 3*time.Second, func() bool { return !h.stats("dav").attached })
	n := f.count("/cal/")
	time.Sleep(200 * time.Millisecond)
	if f.count("/cal/") != n {
		t.Error("still polling after the watcher stopped")
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	settle(t, base)
}

func waitUntil(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseClosesSubscriptions(t *testing.T) {
	base := runtime.NumGoroutine()
	f := &fakeDAV{tokens: map[string]string{"/c/": "1"}, calls: map[string]int{}}
	h := NewHub(HubOptions{})
	ch, err := h.Watch(context.Background(), Account{Key: "k", DAVToken: f.token}, nil, []string{"/c/"})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	for range ch { // drains, then ends: the channel is closed
	}
	settle(t, base)
}

func TestNamespace(t *testing.T) {
	rs := readAll(t, "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Shared/\" \"/\") (\"Gemeinsam/&ANw-/\" \"/\"))\r\n"+
		"* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n")
	spaces := parseNamespace(rs[0])
	if len(spaces) != 4 || spaces[3].prefix != "Gemeinsam/Ü/" || !spaces[0].personal || spaces[1].personal {
		t.Fatalf("namespaces %+v", spaces)
	}
	for m, want := range map[string]bool{
		"INBOX": true, "Lists": true, "Shared/team": false, "Other Users/bob/INBOX": false, "Gemeinsam/Ü/x": false, "Sharedness": true,
	} {
		if got := isPersonal(m, spaces); got != want {
			t.Errorf("isPersonal(%q) = %v", m, got)
		}
	}
	spaces = parseNamespace(rs[1])
	if len(spaces) != 1 || !isPersonal("INBOX.Lists", spaces) || isPersonal("Public", spaces) || !isPersonal("INBOX", spaces) {
		t.Errorf("INBOX. namespace: %+v", spaces)
	}
	if !isPersonal("anything", nil) {
		t.Error("no NAMESPACE: not personal")
	}
}
