package app_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	imap "github.com/emersion/go-imap/v2"

	"easbridge/app"
	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// appendAt stores a message in mailbox with the INTERNALDATE date.
func appendAt(t *testing.T, d *testenv.Dovecot, mailbox, subject string, date time.Time) {
	t.Helper()
	raw := []byte("From: bob@example.test\r\nTo: alice@example.test\r\nSubject: " + subject + "\r\nDate: " +
		date.Format(time.RFC1123Z) + "\r\n\r\nhello\r\n")
	cl := d.Dial(t, "alice")
	defer cl.Close()
	cmd := cl.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Time: date})
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("append %s: %v", subject, err)
	}
}

// removals are the Delete and SoftDelete commands of a Sync answer, as
// op → subjects (by the ServerIds in subjects), sorted.
func removals(a syncAnswer, subjects map[string]string) map[string][]string {
	out := map[string][]string{}
	if a.root == nil {
		return out
	}
	ns := wbxml.NSAirSync
	for _, cmd := range a.root.Child(ns, "Collections").Child(ns, "Collection").Child(ns, "Commands").Children {
		if cmd.Name == "Delete" || cmd.Name == "SoftDelete" {
			out[cmd.Name] = append(out[cmd.Name], subjects[cmd.ChildText(ns, "ServerId")])
		}
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}

// TestMailFilterSoftDeleteEndToEnd: through the endpoint against Dovecot,
// narrowing the FilterType from all to one week removes the older
// messages from the phone with SoftDelete and one moved away on the server
// meanwhile with Delete; with the filter unchanged, a message that becomes
// older than the window leaves with SoftDelete at the first Sync after the
// hourly check (the engine's clock is moved), not before.
func TestMailFilterSoftDeleteEndToEnd(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	t.Cleanup(app.SetEngineClock(func() time.Time { return time.Unix(0, clock.Load()).UTC() }))
	w := newWorld(t)
	for _, m := range []struct {
		subject string
		date    time.Time
	}{
		{"Old", start.AddDate(0, 0, -30)}, {"Gone", start.AddDate(0, 0, -30)},
		{"Recent", start.AddDate(0, 0, -1)}, {"Edge", start.AddDate(0, 0, -7).Add(2 * time.Hour)},
	} {
		appendAt(t, w.dovecot, "INBOX", m.subject, m.date)
	}
	c := w.client("16.1", "agephone")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	inbox, _, _ := inboxID(t, c)
	a := syncOnce(t, c, inbox, "0", 100)
	a = syncFiltered(t, c, inbox, a.key, 100, 0)
	subjects := map[string]string{}
	for id, d := range a.adds {
		subjects[id] = subjectOf(d)
	}
	if len(subjects) != 4 || a.status != 1 {
		t.Fatalf("all messages: status %d, %v", a.status, subjects)
	}
	moveOut(t, w.dovecot, "INBOX", "Gone", "Archive")

	steps := []struct {
		name  string
		after time.Duration // engine clock, from start
		want  map[string][]string
	}{
		{"one week filter", 0, map[string][]string{"SoftDelete": {"Old"}, "Delete": {"Gone"}}},
		{"half an hour later", 30 * time.Minute, map[string][]string{}},
		{"three hours later", 3 * time.Hour, map[string][]string{"SoftDelete": {"Edge"}}},
		{"again", 3*time.Hour + time.Minute, map[string][]string{}},
	}
	key := a.key
	for _, s := range steps {
		clock.Store(start.Add(s.after).UnixNano())
		a = syncFiltered(t, c, inbox, key, 100, 3)
		got := removals(a, subjects)
		if a.status != 1 || len(a.adds)+len(a.changes) != 0 || len(got) != len(s.want) {
			t.Fatalf("%s: status %d, adds %d, changes %d, removals %v, want %v", s.name, a.status, len(a.adds), len(a.changes), got, s.want)
		}
		for op, l := range s.want {
			if !slices.Equal(got[op], l) {
				t.Fatalf("%s: removals %v, want %v", s.name, got, s.want)
			}
		}
		key = a.key
	}
	// What left by SoftDelete is still on the server: all of it comes back.
	a = syncFiltered(t, c, inbox, key, 100, 0)
	var back []string
	for _, d := range a.adds {
		back = append(back, subjectOf(d))
	}
	slices.Sort(back)
	if !slices.Equal(back, []string{"Edge", "Old"}) || len(removals(a, subjects)) != 0 {
		t.Fatalf("filter back to all: adds %v, removals %v", back, removals(a, subjects))
	}
}
