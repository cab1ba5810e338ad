package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	imap "github.com/emersion/go-imap/v2"

	"easbridge/server/easclient"
)

// TestPingAgainstDovecotAndRadicale: a held Ping answers Status 2 with the
// right folder after an APPEND, a flag-only STORE and an expunge from
// another IMAP client, after a CalDAV PUT, and after Dovecot restarted;
// Status 1 after a heartbeat without change.
func TestPingAgainstDovecotAndRadicale(t *testing.T) {
	w := mailWorld(t)
	w.cfg.Ping.DAVInterval = 1
	w.cfg.Ping.MinHeartbeat = 30
	w.restart()
	ctx := context.Background()
	c := w.client("16.1", "pushphone1")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	fs := folderIDs(t, c)
	inbox := fs["Inbox"].ServerID
	var calID string
	for _, f := range fs {
		if f.Type == 8 {
			calID = f.ServerID
		}
	}
	inboxKey, _ := syncAll(t, c, inbox)
	calKey, _ := syncAll(t, c, calID)
	folders := []easclient.PingFolder{{ID: inbox, Class: "Email"}, {ID: calID, Class: "Calendar"}}

	// ping holds a Ping while change() runs and returns the answer and its latency.
	ping := func(hb int, change func()) (*easclient.PingResult, time.Duration) {
		t.Helper()
		type answer struct {
			res *easclient.PingResult
			err error
			at  time.Time
		}
		done := make(chan answer, 1)
		go func() {
			res, _, err := c.Ping(ctx, hb, folders)
			done <- answer{res, err, time.Now()}
		}()
		time.Sleep(300 * time.Millisecond) // the Ping is held
		start := time.Now()
		if change != nil {
			change()
		}
		select {
		case a := <-done:
			if a.err != nil {
				t.Fatalf("Ping: %v", a.err)
			}
			return a.res, a.at.Sub(start)
		case <-time.After(time.Duration(hb+10) * time.Second):
			t.Fatal("Ping did not answer")
		}
		return nil, 0
	}
	expect := func(what string, res *easclient.PingResult, lat time.Duration, id string) {
		t.Helper()
		if res.Status != 2 || len(res.Folders) != 1 || res.Folders[0] != id {
			t.Fatalf("%s: Ping answered %+v", what, res)
		}
		t.Logf("%s: Status 2 after %v", what, lat.Round(time.Millisecond))
	}

	res, lat := ping(60, func() {
		w.dovecot.Append(t, "alice", "INBOX", []byte("From: x@example.test\r\nSubject: Pushed\r\n\r\nhi\r\n"))
	})
	expect("APPEND", res, lat, inbox)
	if lat > 3*time.Second {
		t.Errorf("APPEND push took %v", lat)
	}
	inboxKey, _ = syncAll2(t, c, inbox, inboxKey)

	res, lat = ping(60, func() { setFlag(t, w.dovecot, "INBOX", "Pushed", imap.FlagFlagged) })
	expect("flag-only STORE", res, lat, inbox)
	inboxKey, _ = syncAll2(t, c, inbox, inboxKey)

	res, lat = ping(60, func() { moveOut(t, w.dovecot, "INBOX", "Pushed", "Archive") })
	expect("expunge (move away)", res, lat, inbox)
	inboxKey, _ = syncAll2(t, c, inbox, inboxKey)

	first := w.seed.In(w.seed.Calendar)[0]
	res, lat = ping(60, func() {
		w.dav.Put(t, "alice", first.Path, "text/calendar", []byte(strings.Replace(string(first.Body), "SUMMARY:", "SUMMARY:Pushed ", 1)))
	})
	expect("CalDAV PUT", res, lat, calID)
	calKey, _ = syncAll2(t, c, calID, calKey)
	_ = calKey

	// Dovecot restarts while a Ping is held: the watcher reconnects and
	// the next change still arrives.
	res, lat = ping(60, func() {
		w.dovecot.Restart(t)
		time.Sleep(2 * time.Second)
		w.dovecot.Append(t, "alice", "INBOX", []byte("From: x@example.test\r\nSubject: After restart\r\n\r\nhi\r\n"))
	})
	expect("APPEND after a Dovecot restart", res, lat, inbox)
	inboxKey, _ = syncAll2(t, c, inbox, inboxKey)
	_ = inboxKey

	// No change: Status 1 at the heartbeat (30 s, the configured minimum).
	res, lat = ping(30, nil)
	if res.Status != 1 {
		t.Fatalf("heartbeat without change: %+v", res)
	}
	t.Logf("heartbeat: Status 1 after %v", lat.Round(time.Second))
}

// syncAll2 pulls every window from key on.
func syncAll2(t *testing.T, c *easclient.Client, coll, key string) (string, int) {
	t.Helper()
	n := 0
	for i := 0; i < 20; i++ {
		a := syncOnce(t, c, coll, key, 100)
		if a.status != 1 {
			t.Fatalf("sync: status %d", a.status)
		}
		n += len(a.adds) + len(a.changes) + len(a.deletes)
		key = a.key
		if !a.more {
			break
		}
	}
	return key, n
}
