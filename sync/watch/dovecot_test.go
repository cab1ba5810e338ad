package watch

// Integration tests against a real Dovecot (easbridge/sync/testenv).

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"easbridge/sync/testenv"
)

// dovecotAccount is the Account of user on d, dialling plain TCP.
func dovecotAccount(d *testenv.Dovecot, user, password string) Account {
	addr := d.IMAPAddr
	return Account{Key: addr + "/" + user, IMAP: &IMAPConfig{
		Dial: func(ctx context.Context) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "tcp", addr)
		},
		User: user, Password: password,
	}}
}

func testMessage(subject string) []byte {
	return []byte("From: bob@example.test\r\nTo: alice@example.test\r\nSubject: " + subject +
		"\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") +
		"@example.test>\r\n\r\nHello.\r\n")
}

// expectEvents waits for one event per name (any order, others ignored).
func expectEvents(t *testing.T, ch <-chan Event, within time.Duration, mailboxes ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, m := range mailboxes {
		want[m] = true
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	for len(want) > 0 {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed; still expecting %v", want)
			}
			delete(want, ev.Mailbox)
		case <-timer.C:
			t.Fatalf("no event for %v within %v", want, within)
		}
	}
}

// imapProcesses counts the Dovecot imap processes serving user.
func imapProcesses(t *testing.T, d *testenv.Dovecot, user string) int {
	t.Helper()
	ps, err := d.Processes()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range ps {
		if strings.Contains(p.Cmdline, "imap ["+user+" ") {
			n++
		}
	}
	return n
}

func storeFlags(t *testing.T, c *imapclient.Client, uid imap.UID, op imap.StoreFlagsOp, flags ...imap.Flag) {
	t.Helper()
	if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: op, Flags: flags, Silent: true}, nil).Close(); err != nil {
		t.Fatalf("STORE: %v", err)
	}
}

func TestDovecotNotify(t *testing.T) { testDovecotEvents(t, false) }
func TestDovecotIdle(t *testing.T)   { testDovecotEvents(t, true) }

// testDovecotEvents: events after APPEND, flag-only STORE and EXPUNGE by
// another client, in INBOX, another mailbox and one with a non-ASCII name;
// one connection; Quiet; and nothing left after the subscription ends.
func testDovecotEvents(t *testing.T, noNotify bool) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	d.CreateMailbox(t, "alice", "Lists")
	d.CreateMailbox(t, "alice", "Projekte/Überblick")
	base := runtime.NumGoroutine()
	h := NewHub(HubOptions{NoNotify: noNotify, PollInterval: 300 * time.Millisecond, Grace: 300 * time.Millisecond})
	defer h.Close()
	acct := dovecotAccount(d, "alice", "alicepw")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := h.Watch(ctx, acct, []string{"inbox", "Lists"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Becoming watched is an event (a change may have come before).
	expectEvents(t, ch, 5*time.Second, "INBOX", "Lists")
	wantMode := "notify"
	if noNotify {
		wantMode = "idle"
	}
	if st := h.stats(acct.Key); st.mode != wantMode || st.conns != 1 || st.dials != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n := imapProcesses(t, d, "alice"); n != 1 {
		t.Errorf("%d imap processes for alice", n)
	}

	// A second subscription with another mailbox: its own coverage event,
	// none for the mailboxes already watched.
	ch2, err := h.Watch(ctx, acct, []string{"Projekte/Überblick", "INBOX"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectEvents(t, ch2, 5*time.Second, "Projekte/Überblick")
	if !noNotify {
		expectNone(t, ch, 700*time.Millisecond)
	}
	for len(ch2) > 0 {
		<-ch2
	}
	if st := h.stats(acct.Key); st.conns != 1 || st.dials != 1 || st.mailboxes != 3 {
		t.Fatalf("stats after the second Watch %+v", st)
	}

	// Quiet: connected since before, no event since.
	time.Sleep(50 * time.Millisecond)
	since := time.Now()
	time.Sleep(50 * time.Millisecond)
	if !h.Quiet(acct.Key, "INBOX", since) {
		t.Error("INBOX not quiet")
	}
	// Under IDLE only the selected mailbox is vouched for.
	if got := h.Quiet(acct.Key, "Lists", since); got == noNotify {
		t.Errorf("Quiet(Lists) = %v", got)
	}
	if h.Quiet(acct.Key, "INBOX", since.Add(-time.Hour)) || h.Quiet("nobody", "INBOX", since) || h.Quiet(acct.Key, "Nope", since) {
		t.Error("Quiet vouches for what it cannot know")
	}

	other := d.Dial(t, "alice")
	lat := func(what string, c <-chan Event, m string, act func()) {
		t.Helper()
		for _, q := range []<-chan Event{ch, ch2} { // what earlier steps left
			for len(q) > 0 {
				<-q
			}
		}
		start := time.Now()
		act()
		expectEvent(t, c, Event{Mailbox: m}, 5*time.Second)
		t.Logf("%s: %s → event in %v", wantMode, what, time.Since(start).Round(time.Millisecond))
	}
	var uid imap.UID
	lat("APPEND INBOX", ch, "INBOX", func() { uid = d.Append(t, "alice", "INBOX", testMessage("one")) })
	if h.Quiet(acct.Key, "INBOX", since) {
		t.Error("INBOX quiet after a change")
	}
	lat("APPEND Lists", ch, "Lists", func() { d.Append(t, "alice", "Lists", testMessage("two")) })
	lat("APPEND Projekte/Überblick", ch2, "Projekte/Überblick", func() { d.Append(t, "alice", "Projekte/Überblick", testMessage("three")) })
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	lat("STORE +\\Flagged INBOX", ch, "INBOX", func() { storeFlags(t, other, uid, imap.StoreFlagsAdd, imap.FlagFlagged) })
	lat("STORE +\\Seen INBOX", ch2, "INBOX", func() { storeFlags(t, other, uid, imap.StoreFlagsAdd, imap.FlagSeen) })
	lat("EXPUNGE INBOX", ch, "INBOX", func() {
		storeFlags(t, other, uid, imap.StoreFlagsAdd, imap.FlagDeleted)
		if err := other.Expunge().Close(); err != nil {
			t.Fatal(err)
		}
	})
	lat("MOVE Lists → INBOX", ch, "Lists", func() {
		if _, err := other.Select("Lists", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Move(imap.SeqSetNum(1), "INBOX").Wait(); err != nil {
			t.Fatal(err)
		}
	})
	expectEvent(t, ch, Event{Mailbox: "INBOX"}, 5*time.Second)
	// A flag change outside INBOX: NOTIFY FlagChange, or a polled STATUS
	// whose HIGHESTMODSEQ moved.
	if _, err := other.Select("Projekte/Überblick", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	lat("STORE +\\Flagged Projekte/Überblick", ch2, "Projekte/Überblick", func() { storeFlags(t, other, 1, imap.StoreFlagsAdd, imap.FlagFlagged) })
	other.Close()

	// The end: channels closed; after Grace the watcher and its connection
	// are gone.
	cancel()
	for range ch {
	}
	for range ch2 {
	}
	waitUntil(t, "the watcher to stop", 5*time.Second, func() bool { return !h.stats(acct.Key).attached })
	waitUntil(t, "Dovecot to drop the connection", 5*time.Second, func() bool { return imapProcesses(t, d, "alice") == 0 })
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	settle(t, base)
}

// TestDovecotRestart: the connection is cut; the watcher reconnects with
// backoff and reports every watched mailbox (a change may have been
// missed), then works as before.
func TestDovecotRestart(t *testing.T) {
	t.Run("notify", func(t *testing.T) { testDovecotRestart(t, false) })
	t.Run("idle", func(t *testing.T) { testDovecotRestart(t, true) })
}

func testDovecotRestart(t *testing.T, noNotify bool) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	d.CreateMailbox(t, "alice", "Lists")
	base := runtime.NumGoroutine()
	h := NewHub(HubOptions{BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second, NoNotify: noNotify, PollInterval: 300 * time.Millisecond})
	acct := dovecotAccount(d, "alice", "alicepw")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := h.Watch(ctx, acct, []string{"INBOX", "Lists"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectEvents(t, ch, 5*time.Second, "INBOX", "Lists")

	// A phone's Ping cycle: the subscription ends and a new one comes
	// within Grace. Same watcher, same connection, no new coverage events.
	cancel()
	for range ch {
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	if ch, err = h.Watch(ctx, acct, []string{"INBOX", "Lists"}, nil); err != nil {
		t.Fatal(err)
	}
	expectNone(t, ch, 700*time.Millisecond)
	if st := h.stats(acct.Key); st.dials != 1 || st.conns != 1 {
		t.Errorf("stats after a resubscription %+v", st)
	}

	time.Sleep(20 * time.Millisecond)
	before := time.Now()
	time.Sleep(20 * time.Millisecond)
	if !h.Quiet(acct.Key, "INBOX", before) {
		t.Fatal("INBOX not quiet before the restart")
	}
	start := time.Now()
	d.Restart(t)
	expectEvents(t, ch, 15*time.Second, "INBOX", "Lists")
	t.Logf("events %v after the restart began", time.Since(start).Round(time.Millisecond))
	wantMode := "notify"
	if noNotify {
		wantMode = "idle"
	}
	if st := h.stats(acct.Key); st.conns != 1 || st.dials < 2 || st.mode != wantMode {
		t.Errorf("stats after reconnect %+v", st)
	}
	if h.Quiet(acct.Key, "INBOX", before) {
		t.Error("INBOX quiet across a reconnect")
	}
	d.Append(t, "alice", "Lists", testMessage("after restart"))
	expectEvent(t, ch, Event{Mailbox: "Lists"}, 5*time.Second)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Error("channel open after Close")
	}
	waitUntil(t, "Dovecot to drop the connection", 5*time.Second, func() bool { return imapProcesses(t, d, "alice") == 0 })
	settle(t, base)
}

// TestDovecotBadLogin: a wrong password is retried with backoff, without
// events, and Close still ends everything.
func TestDovecotBadLogin(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	base := runtime.NumGoroutine()
	h := NewHub(HubOptions{BackoffMin: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	acct := dovecotAccount(d, "alice", "wrong")
	ch, err := h.Watch(context.Background(), acct, []string{"INBOX"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectNone(t, ch, 500*time.Millisecond)
	if st := h.stats(acct.Key); st.dials != 0 || st.mode != "" {
		t.Errorf("stats %+v", st)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	settle(t, base)
}

func ExampleHub() {
	h := NewHub(HubOptions{})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ch, err := h.Watch(ctx, Account{
		Key:      "imap.example.test/alice",
		DAVToken: func(ctx context.Context, c string) (string, error) { return "token-1", nil },
	}, nil, []string{"/alice/calendar/"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-ch) // the first token: the collection is watched from now on
	// Output: { /alice/calendar/}
}
