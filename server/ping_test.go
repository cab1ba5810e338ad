package server

import (
	"context"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// newPingHarness is the harness with a push-capable fake backend and small
// bounds: heartbeats of 1–120 s (the test hook lifts the 30 s floor) and
// at most 3 folders per Ping. cache makes the sessions implement PingCache.
func newPingHarness(t *testing.T, cache bool) (*harness, *pingBackend) {
	t.Helper()
	b := newPingBackend(cache)
	h := &harness{t: t, backend: b.fakeBackend}
	h.srv = New(Options{
		Backend: b, MaxRequestBytes: 1 << 20, Throttle: ThrottleOptions{MaxDelay: time.Millisecond},
		PingMinHeartbeat: 1, PingMaxHeartbeat: 120, PingMaxFolders: 3, testShortHeartbeat: true,
	})
	h.http = httptest.NewServer(h.srv)
	t.Cleanup(func() {
		h.http.Close()
		if n := h.srv.panics.Load(); n != 0 {
			t.Errorf("%d handler panics were recovered", n)
		}
		if n := h.srv.hangingCount(); n != 0 {
			t.Errorf("%d hanging requests left", n)
		}
		if n := b.push.waiters(); n != 0 {
			t.Errorf("%d WaitForChanges calls left", n)
		}
	})
	return h, b
}

type pingOutcome struct {
	res     *easclient.PingResult
	err     error
	elapsed time.Duration
}

// pingAsync sends a Ping in the background; the answer arrives on the
// channel.
func pingAsync(ctx context.Context, c *easclient.Client, hb int, folders []easclient.PingFolder) <-chan pingOutcome {
	ch := make(chan pingOutcome, 1)
	start := time.Now()
	go func() {
		res, _, err := c.Ping(ctx, hb, folders)
		ch <- pingOutcome{res, err, time.Since(start)}
	}()
	return ch
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func recvPing(t *testing.T, ch <-chan pingOutcome, within time.Duration) pingOutcome {
	t.Helper()
	select {
	case o := <-ch:
		if o.err != nil {
			t.Fatalf("Ping: %v", o.err)
		}
		return o
	case <-time.After(within):
		t.Fatalf("no Ping answer within %v", within)
	}
	return pingOutcome{}
}

var inbox = []easclient.PingFolder{{ID: "1", Class: "Email"}}

func TestPingHeartbeatExpires(t *testing.T) {
	h, b := newPingHarness(t, false)
	c := h.itemsClient("14.1", "ping1")
	start := time.Now()
	res, r, err := c.Ping(context.Background(), 1, []easclient.PingFolder{{ID: "1", Class: "Email"}, {ID: "3", Class: "Email"}})
	if err != nil {
		t.Fatal(err)
	}
	// pingWait(1 s) = 0.9 s.
	if d := time.Since(start); res.Status != 1 || d < 800*time.Millisecond || d > 3*time.Second {
		t.Fatalf("status %d after %v: %s", res.Status, d, wbxml.XMLString(r.Root))
	}
	if got := b.push.lastFolders(); len(got) != 2 || got[1] != (PingFolder{ID: "3", Class: "Email"}) {
		t.Errorf("watched %v", got)
	}
}

func TestPingChanges(t *testing.T) {
	h, b := newPingHarness(t, false)
	c := h.itemsClient("16.1", "ping2")
	folders := []easclient.PingFolder{{ID: "1", Class: "Email"}, {ID: "2", Class: "Email"}, {ID: "3", Class: "Email"}}
	ch := pingAsync(context.Background(), c, 60, folders)
	waitFor(t, "the Ping to wait", func() bool { return b.push.waiters() == 1 })
	b.push.signal("3", "2")
	o := recvPing(t, ch, 5*time.Second)
	// In request order, each once.
	if o.res.Status != 2 || !slices.Equal(o.res.Folders, []string{"2", "3"}) {
		t.Fatalf("answer %+v", o.res)
	}
	// A change that happened before the Ping: at once.
	b.push.signal("1")
	o = recvPing(t, pingAsync(context.Background(), c, 60, folders), 5*time.Second)
	if o.res.Status != 2 || !slices.Equal(o.res.Folders, []string{"1"}) || o.elapsed > 2*time.Second {
		t.Fatalf("answer %+v after %v", o.res, o.elapsed)
	}
}

func TestPingStatuses(t *testing.T) {
	h, _ := newPingHarness(t, false)
	c := h.itemsClient("14.1", "ping3")
	ns := wbxml.NSPing
	folder := func(id, class string) *wbxml.Element {
		f := wbxml.New(ns, "Folder")
		if id != "" {
			f.Add(wbxml.Text(ns, "Id", id))
		}
		return f.Add(wbxml.Text(ns, "Class", class))
	}
	ping := func(hb string, folders ...*wbxml.Element) *wbxml.Element {
		p := wbxml.New(ns, "Ping")
		if hb != "" {
			p.Add(wbxml.Text(ns, "HeartbeatInterval", hb))
		}
		if folders != nil {
			p.Add(wbxml.New(ns, "Folders", folders...))
		}
		return p
	}
	email := folder("1", "Email")
	for _, tc := range []struct {
		name   string
		body   *wbxml.Element
		status int
		hb     string // expected HeartbeatInterval of the answer
		max    string // expected MaxFolders
	}{
		{"no body, nothing cached", nil, 3, "", ""},
		{"heartbeat only, nothing cached", ping("5"), 3, "", ""},
		{"folders only, nothing cached", ping("", email), 3, "", ""},
		{"heartbeat too short", ping("0", email), 5, "1", ""},
		{"heartbeat too long", ping("121", email), 5, "120", ""},
		{"too many folders", ping("5", folder("1", "Email"), folder("2", "Email"), folder("3", "Email"), folder("4", "Calendar")), 6, "", "3"},
		{"heartbeat not a number", ping("soon", email), 4, "", ""},
		{"folder without id", ping("5", folder("", "Email")), 4, "", ""},
		{"unknown class", ping("5", folder("1", "Mail")), 4, "", ""},
		{"empty folders", ping("5", []*wbxml.Element{}...), 4, "", ""},
		{"unknown folder", ping("5", folder("99", "Email")), 7, "", ""},
		{"server error", ping("5", folder("broken", "Email")), 8, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(c, "Ping", tc.body)
			res, err := easclient.ParsePing(r)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || r.Root.ChildText(ns, "HeartbeatInterval") != tc.hb || r.Root.ChildText(ns, "MaxFolders") != tc.max {
				t.Errorf("answer %s", wbxml.XMLString(r.Root))
			}
		})
	}
	// The four folders of "too many" are fine after deduplication.
	r := h.do(c, "Ping", ping("1", email, email, folder("1", "Email")))
	if res, _ := easclient.ParsePing(r); res == nil || res.Status != 1 {
		t.Errorf("duplicates: %s", wbxml.XMLString(r.Root))
	}
}

func TestPingCachedParameters(t *testing.T) {
	for _, cache := range []bool{false, true} {
		t.Run("session cache "+strconv.FormatBool(cache), func(t *testing.T) {
			h, b := newPingHarness(t, cache)
			c := h.itemsClient("14.1", "ping4")
			ctx := context.Background()
			if res, _, err := c.Ping(ctx, 1, inbox); err != nil || res.Status != 1 {
				t.Fatalf("full Ping: %v %+v", err, res)
			}
			// Empty Ping: both cached.
			start := time.Now()
			res, _, err := c.Ping(ctx, 0, nil)
			if err != nil || res.Status != 1 || time.Since(start) < 800*time.Millisecond {
				t.Fatalf("empty Ping: %v %+v after %v", err, res, time.Since(start))
			}
			if got := b.push.lastFolders(); !slices.Equal(got, []PingFolder{{ID: "1", Class: "Email"}}) {
				t.Errorf("empty Ping watched %v", got)
			}
			// New folders, cached heartbeat; then they are the cache.
			if res, _, err := c.Ping(ctx, 0, []easclient.PingFolder{{ID: "3", Class: "Email"}}); err != nil || res.Status != 1 {
				t.Fatalf("folders-only Ping: %v %+v", err, res)
			}
			ch := pingAsync(ctx, c, 0, nil)
			waitFor(t, "the Ping to wait", func() bool { return b.push.waiters() == 1 })
			b.push.signal("3")
			if o := recvPing(t, ch, 5*time.Second); o.res.Status != 2 || !slices.Equal(o.res.Folders, []string{"3"}) {
				t.Fatalf("empty Ping after folders-only: %+v", o.res)
			}
			// The cache is per device.
			if res, _, err := h.itemsClient("14.1", "ping5").Ping(ctx, 0, nil); err != nil || res.Status != 3 {
				t.Fatalf("other device: %v %+v", err, res)
			}
			// Where it lives: the session's PingCache, else the Server.
			b.push.mu.Lock()
			inSession := len(b.push.params)
			b.push.mu.Unlock()
			h.srv.push.mu.Lock()
			inServer := len(h.srv.push.params)
			h.srv.push.mu.Unlock()
			if (cache && (inSession != 1 || inServer != 0)) || (!cache && (inSession != 0 || inServer != 1)) {
				t.Errorf("cached in the session %d times, in the server %d times", inSession, inServer)
			}
		})
	}
}

func TestPingSecondEndsFirst(t *testing.T) {
	h, b := newPingHarness(t, false)
	c := h.itemsClient("16.1", "ping6")
	first := pingAsync(context.Background(), c, 100, inbox)
	waitFor(t, "the first Ping to wait", func() bool { return b.push.waiters() == 1 })
	second := pingAsync(context.Background(), c, 100, inbox)
	o := recvPing(t, first, 2*time.Second)
	if o.res.Status != 1 {
		t.Fatalf("first Ping: %+v", o.res)
	}
	waitFor(t, "the second Ping to wait alone", func() bool { return b.push.waiters() == 1 && h.srv.hangingCount() == 1 })
	// Another device is not affected.
	other := h.itemsClient("16.1", "ping7")
	third := pingAsync(context.Background(), other, 100, inbox)
	waitFor(t, "the other device's Ping", func() bool { return b.push.waiters() == 2 })
	b.push.signal("1")
	for _, ch := range []<-chan pingOutcome{second, third} {
		if o := recvPing(t, ch, 5*time.Second); o.res.Status != 2 {
			t.Errorf("after the change: %+v", o.res)
		}
	}
}

// settleGoroutines waits until the goroutine count is back at or below
// base.
func settleGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
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

func TestPingClientDisconnect(t *testing.T) {
	h, b := newPingHarness(t, false)
	c := h.itemsClient("14.1", "ping8")
	// One request first, so that the keep-alive connection's goroutines
	// are part of the base.
	if res, _, err := c.Ping(context.Background(), 1, inbox); err != nil || res.Status != 1 {
		t.Fatalf("Ping: %v %+v", err, res)
	}
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	ch := pingAsync(ctx, c, 100, inbox)
	waitFor(t, "the Ping to wait", func() bool { return b.push.waiters() == 1 })
	start := time.Now()
	cancel()
	if o := <-ch; o.err == nil {
		t.Fatalf("cancelled Ping answered %+v", o.res)
	}
	waitFor(t, "the server to let go", func() bool { return b.push.waiters() == 0 && h.srv.hangingCount() == 0 })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the server took %v to notice", d)
	}
	settleGoroutines(t, base)
}

func TestPingEndPush(t *testing.T) {
	h, b := newPingHarness(t, false)
	c := h.itemsClient("14.1", "ping11")
	ch := pingAsync(context.Background(), c, 100, inbox)
	waitFor(t, "the Ping to wait", func() bool { return b.push.waiters() == 1 })
	h.srv.EndPush()
	if o := recvPing(t, ch, 2*time.Second); o.res.Status != 1 {
		t.Fatalf("ended Ping: %+v", o.res)
	}
	// Later ones do not wait.
	if o := recvPing(t, pingAsync(context.Background(), c, 100, inbox), 2*time.Second); o.res.Status != 1 {
		t.Fatalf("Ping after EndPush: %+v", o.res)
	}
}

func TestPingNotSupported(t *testing.T) {
	h := newHarness(t) // sessions without Pinger
	r := h.do(h.itemsClient("14.1", "ping9"), "Ping", easclient.PingRequest(60, inbox))
	if r.Status() != int(eas.StatusCommandNotSupported) {
		t.Errorf("14.1: %s", wbxml.XMLString(r.Root))
	}
	if r := h.do(h.itemsClient("12.1", "ping10"), "Ping", easclient.PingRequest(60, inbox)); r.HTTPStatus != 501 {
		t.Errorf("12.1: HTTP %d", r.HTTPStatus)
	}
}

func TestPushOptionDefaults(t *testing.T) {
	s := New(Options{Backend: newFakeBackend()})
	if o := s.opts; o.PingMinHeartbeat != 60 || o.PingMaxHeartbeat != 3540 || o.PingMaxFolders != 300 {
		t.Errorf("defaults %d %d %d", o.PingMinHeartbeat, o.PingMaxHeartbeat, o.PingMaxFolders)
	}
	// Without the test hook, short heartbeats are not allowed.
	s = New(Options{Backend: newFakeBackend(), PingMinHeartbeat: 1, PingMaxHeartbeat: 10})
	if o := s.opts; o.PingMinHeartbeat != 30 || o.PingMaxHeartbeat != 30 {
		t.Errorf("floor: %d %d", o.PingMinHeartbeat, o.PingMaxHeartbeat)
	}
	for hb, want := range map[time.Duration]time.Duration{
		time.Second: 900 * time.Millisecond, 60 * time.Second: 55 * time.Second, 3540 * time.Second: 3535 * time.Second,
	} {
		if got := pingWait(hb); got != want {
			t.Errorf("pingWait(%v) = %v, want %v", hb, got, want)
		}
	}
}

// primeInbox brings collection 1 of a device up to date and returns its
// key.
func primeInbox(h *harness, c *easclient.Client) string {
	h.t.Helper()
	key := one(h.t, h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("0", "1")})).SyncKey
	for {
		r := one(h.t, h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection(key, "1", asText("WindowSize", "100"))}))
		key = r.SyncKey
		if !r.MoreAvailable {
			return key
		}
	}
}

type syncOutcome struct {
	r       *easclient.Response
	err     error
	elapsed time.Duration
}

func syncAsync(ctx context.Context, c *easclient.Client, colls []*wbxml.Element, extra ...*wbxml.Element) <-chan syncOutcome {
	ch := make(chan syncOutcome, 1)
	start := time.Now()
	go func() {
		r, err := c.Sync(ctx, colls, extra...)
		ch <- syncOutcome{r, err, time.Since(start)}
	}()
	return ch
}

func TestSyncWaitLongPoll(t *testing.T) {
	h, b := newPingHarness(t, false)
	c := h.itemsClient("14.1", "lp1")
	key := primeInbox(h, c)
	colls := []*wbxml.Element{easclient.SyncCollection(key, "1"), easclient.SyncCollection("0", "3")}
	// Collection 3 is new (SyncKey 0): not quiet, so no wait.
	r := h.itemsSync(c, colls, asText("Wait", "1"))
	key3 := easclient.SyncResults(r.Root)[1].SyncKey
	colls = []*wbxml.Element{easclient.SyncCollection(key, "1"), easclient.SyncCollection(key3, "3", asText("GetChanges", "0"))}

	ch := syncAsync(context.Background(), c, colls, asText("Wait", "1"))
	waitFor(t, "the Sync to wait", func() bool { return b.push.waiters() == 1 })
	// Only the collection that gets changes is watched.
	if got := b.push.lastFolders(); !slices.Equal(got, []PingFolder{{ID: "1", Class: ""}}) {
		t.Errorf("watched %v", got)
	}
	b.mu.Lock()
	m := b.items.add("1", "Pushed", "fresh", fakeEpoch.Add(48*time.Hour))
	b.mu.Unlock()
	b.push.signal("1")
	o := <-ch
	if o.err != nil || o.r.HTTPStatus != 200 {
		t.Fatalf("long poll: %v", o.err)
	}
	res := easclient.SyncResults(o.r.Root)
	if len(res) != 1 || res[0].CollectionID != "1" || res[0].Status != "1" || opsOf(res[0].Commands) != "Add "+m.id || res[0].SyncKey == key {
		t.Fatalf("long poll answer %s", wbxml.XMLString(o.r.Root))
	}
	key = res[0].SyncKey

	// HeartbeatInterval (1 s with the test hook) without changes: empty.
	o = <-syncAsync(context.Background(), c, []*wbxml.Element{easclient.SyncCollection(key, "1")}, asText("HeartbeatInterval", "1"))
	if o.err != nil || o.r.HTTPStatus != 200 || len(o.r.Body) != 0 || o.elapsed < 800*time.Millisecond {
		t.Fatalf("heartbeat expiry: %v, %d bytes after %v", o.err, len(o.r.Body), o.elapsed)
	}

	// A Ping of the same device ends a waiting Sync at once (empty).
	ch = syncAsync(context.Background(), c, []*wbxml.Element{easclient.SyncCollection(key, "1")}, asText("Wait", "5"))
	waitFor(t, "the Sync to wait", func() bool { return b.push.waiters() == 1 })
	ping := pingAsync(context.Background(), c, 1, inbox)
	select {
	case o = <-ch:
		if o.err != nil || len(o.r.Body) != 0 {
			t.Fatalf("superseded Sync: %v %q", o.err, o.r.Body)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the Ping did not end the waiting Sync")
	}
	if o := recvPing(t, ping, 5*time.Second); o.res.Status != 1 {
		t.Errorf("Ping: %+v", o.res)
	}
}
