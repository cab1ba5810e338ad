package logbus

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func ids(es []Exchange) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func TestRing(t *testing.T) {
	tests := []struct {
		name      string
		capacity  int
		published int
		n         int
		want      []uint64
	}{
		{"empty", 3, 0, 0, []uint64{}},
		{"partial all", 3, 2, 0, []uint64{1, 2}},
		{"partial last 1", 3, 2, 1, []uint64{2}},
		{"full", 3, 3, 0, []uint64{1, 2, 3}},
		{"wrapped all", 3, 5, 0, []uint64{3, 4, 5}},
		{"wrapped last 2", 3, 5, 2, []uint64{4, 5}},
		{"n beyond held", 3, 5, 10, []uint64{3, 4, 5}},
		{"wrapped twice", 3, 7, -1, []uint64{5, 6, 7}},
		{"default capacity", 0, DefaultCapacity + 5, 1, []uint64{DefaultCapacity + 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.capacity)
			for i := range tt.published {
				b.Publish(Exchange{Command: "Sync", HTTPStatus: 200 + i})
			}
			got := b.Recent(tt.n)
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("Recent(%d) IDs = %v, want %v", tt.n, ids(got), tt.want)
			}
			for _, e := range got {
				if e.HTTPStatus != 200+int(e.ID)-1 || e.Time.IsZero() {
					t.Errorf("exchange %d mixed up: %+v", e.ID, e)
				}
			}
		})
	}
}

func TestClear(t *testing.T) {
	b := New(4)
	for range 3 {
		b.Publish(Exchange{})
	}
	b.Clear()
	if got := b.Recent(0); len(got) != 0 {
		t.Fatalf("after Clear: %v", ids(got))
	}
	b.Publish(Exchange{})
	if got := ids(b.Recent(0)); !slices.Equal(got, []uint64{4}) {
		t.Errorf("after Clear and Publish: %v, want [4]", got)
	}
}

func TestSubscribe(t *testing.T) {
	b := New(10)
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Subscribe(ctx, 10)
	for range 3 {
		b.Publish(Exchange{Command: "Ping"})
	}
	for want := uint64(1); want <= 3; want++ {
		if e := <-ch; e.ID != want {
			t.Fatalf("got %d, want %d", e.ID, want)
		}
	}
	b.Publish(Exchange{})
	cancel()
	// The buffered exchange still arrives, then the channel closes.
	timeout := time.After(5 * time.Second)
	var got []uint64
	for done := false; !done; {
		select {
		case e, ok := <-ch:
			if !ok {
				done = true
				break
			}
			got = append(got, e.ID)
		case <-timeout:
			t.Fatal("channel not closed after cancel")
		}
	}
	if !slices.Equal(got, []uint64{4}) {
		t.Errorf("after cancel got %v, want [4]", got)
	}
	if n := b.subscribers(); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
	b.Publish(Exchange{}) // no panic on the closed channel
}

func TestSubscribeCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ch := New(1).Subscribe(ctx, 1)
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("received from a canceled subscription")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not closed")
	}
}

func TestStuckSubscriberDoesNotBlock(t *testing.T) {
	b := New(100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = b.Subscribe(ctx, 1) // never read
	live := b.Subscribe(ctx, 20000)

	const n = 10000
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		for range n {
			b.Publish(Exchange{Command: "Sync"})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a stuck subscriber")
	}
	t.Logf("%d publishes in %v", n, time.Since(start))
	if got := b.Dropped(); got != n-1 {
		t.Errorf("Dropped = %d, want %d", got, n-1)
	}
	if len(live) != n {
		t.Errorf("live subscriber got %d, want %d", len(live), n)
	}
}

func TestWriteTo(t *testing.T) {
	e := Exchange{
		ID: 7, Time: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Duration: 1234 * time.Millisecond,
		Remote: "192.0.2.1:5000", User: "bob", DeviceID: "DEV1", DeviceType: "iPhone", Command: "Sync", Version: "14.1",
		HTTPStatus: 200, EASStatus: 3,
		RequestHeaders:  http.Header{"Ms-Asprotocolversion": {"14.1"}},
		RequestXML:      "<Sync/>\n",
		ResponseXML:     "(empty)",
		Error:           "sync: bad key",
		ResponseHeaders: http.Header{},
	}
	var buf bytes.Buffer
	if err := WriteTo(&buf, e); err != nil {
		t.Fatal(err)
	}
	want := `=== #7 2025-03-01 12:00:00.000 +0000 192.0.2.1:5000 user=bob device=DEV1 (iPhone) Sync v14.1 → HTTP 200 EAS 3 in 1.234s
error: sync: bad key
--- request
Ms-Asprotocolversion: 14.1

<Sync/>
--- response
(empty)

`
	if buf.String() != want {
		t.Errorf("WriteTo:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := WriteTo(&buf, Exchange{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(buf.String(), "\n"); !strings.Contains(first, "user=- device=- -") || strings.Contains(first, "EAS") {
		t.Errorf("empty exchange header: %q", first)
	}
}

func TestFileSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exchanges.log")
	if err := os.WriteFile(path, []byte("earlier\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := New(10)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- FileSink(ctx, b, path) }()
	waitFor(t, func() bool { return b.subscribers() == 1 })

	for _, cmd := range []string{"FolderSync", "Sync", "Ping"} {
		b.Publish(Exchange{Command: cmd, HTTPStatus: 200})
	}
	waitFor(t, func() bool {
		data, _ := os.ReadFile(path)
		return strings.Contains(string(data), " Ping ")
	})
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("FileSink: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("FileSink did not return after cancel")
	}
	if n := b.subscribers(); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
	b.Publish(Exchange{Command: "After"})

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.HasPrefix(s, "earlier\n") {
		t.Error("file not appended to")
	}
	for _, w := range []string{"=== #1 ", " FolderSync ", "=== #2 ", "=== #3 ", " Ping "} {
		if !strings.Contains(s, w) {
			t.Errorf("log lacks %q:\n%s", w, s)
		}
	}
	if strings.Contains(s, "After") {
		t.Error("written after cancel")
	}
}

func TestFileSinkErrors(t *testing.T) {
	err := FileSink(context.Background(), New(1), filepath.Join(t.TempDir(), "missing", "x.log"))
	if err == nil || !strings.Contains(err.Error(), "logbus: open") {
		t.Errorf("err = %v", err)
	}
}

func TestFileSinkNewFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.log")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := FileSink(ctx, New(1), path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
