package watch

import (
	"context"
	"runtime"
	"testing"
	"time"

	"easbridge/sync/davsource"
	"easbridge/sync/testenv"
)

// TestRadicaleToken: the DAV side against a real Radicale, through
// davsource's Token (a depth-0 PROPFIND for the sync-token).
func TestRadicaleToken(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	cal := r.MakeCalendar(t, "alice", "push", "Push")
	base := runtime.NumGoroutine()
	dav := davsource.NewAccount(davsource.Config{URL: r.URL}, "alice", "alicepw", nil)
	defer dav.Close()
	h := NewHub(HubOptions{DAVInterval: 100 * time.Millisecond})
	defer h.Close()
	key := "caldav:" + cal
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := h.Watch(ctx, Account{Key: r.URL + "/alice", DAVToken: dav.Token}, nil, []string{key})
	if err != nil {
		t.Fatal(err)
	}
	expectEvent(t, ch, Event{Collection: key}, 5*time.Second) // the first token
	expectNone(t, ch, 300*time.Millisecond)
	start := time.Now()
	r.Put(t, "alice", cal+"e1.ics", "text/calendar; charset=utf-8", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//watch test//EN\r\n"+
		"BEGIN:VEVENT\r\nUID:e1@example.test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T090000Z\r\nSUMMARY:Pushed\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	expectEvent(t, ch, Event{Collection: key}, 5*time.Second)
	t.Logf("PUT → event in %v (DAVInterval 100 ms)", time.Since(start).Round(time.Millisecond))
	cancel()
	for range ch {
	}
	h.Close()
	dav.Close()
	settle(t, base)
}
