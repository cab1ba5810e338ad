package imapsource

// source.Mail against go-imap's in-memory server, which has no CONDSTORE,
// and, as configured here, no MOVE and (by default) no UIDPLUS: the
// fallback paths.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

func memAccount(t *testing.T, srv *memServer) *Account {
	return newTestAccount(t, mustParse(t, "imap://"+srv.Addr), "alice", "alicepw")
}

// appendAll stores msgs in mailbox and returns their UIDs from List.
func appendAll(t *testing.T, a *Account, mailbox string, dates []time.Time, flags [][]string, msgs ...[]byte) []uint32 {
	t.Helper()
	ctx := ctxT(t)
	for i, m := range msgs {
		var d time.Time
		if i < len(dates) {
			d = dates[i]
		}
		var f []string
		if i < len(flags) {
			f = flags[i]
		}
		if _, err := a.Append(ctx, mailbox, f, d, bytes.NewReader(m), int64(len(m))); err != nil {
			t.Fatal(err)
		}
	}
	_, list, err := a.List(ctx, mailbox, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	uids := make([]uint32, len(list))
	for i, m := range list {
		uids[i] = m.UID
	}
	return uids
}

func TestMailMem(t *testing.T) {
	srv := startMem(t, memOptions{}, "Sent", "Trash", "Archive")
	ctx := ctxT(t)
	a := memAccount(t, srv)
	seeds := seedMessages()
	now := time.Now().Truncate(time.Second)
	old := now.AddDate(-1, 0, 0)
	uids := appendAll(t, a, "INBOX", []time.Time{old, now}, [][]string{{`\Seen`}}, seeds[0].raw, seeds[3].raw, seeds[1].raw)
	if len(uids) != 3 {
		t.Fatalf("uids %v", uids)
	}

	st, err := a.Status(ctx, "INBOX")
	if err != nil || st.Messages != 3 || st.HighestModSeq != 0 || st.UIDNext != uids[2]+1 || st.UIDValidity == 0 {
		t.Errorf("Status %+v, %v", st, err)
	}
	lst, list, err := a.List(ctx, "INBOX", now.Add(-time.Hour))
	if err != nil || lst.UIDValidity != st.UIDValidity || len(list) != 2 || list[0].UID != uids[1] || list[0].ModSeq != 0 || !list[0].InternalDate.Equal(now) {
		t.Errorf("List since: %+v %+v, %v", lst, list, err)
	}

	for _, err := range []error{
		func() error { _, err := a.ChangesSince(ctx, "INBOX", st.UIDValidity, 1, time.Time{}); return err }(),
		func() error {
			_, err := a.ChangesSinceKnown(ctx, "INBOX", st.UIDValidity, 1, time.Time{}, uids)
			return err
		}(),
		func() error { _, err := a.ChangesSince(ctx, "INBOX", st.UIDValidity, 0, time.Time{}); return err }(),
	} {
		if !errors.Is(err, source.ErrNoCondstore) || errors.Is(err, eas.ErrBackendUnavailable) {
			t.Errorf("without CONDSTORE: %v", err)
		}
	}

	msgs, err := a.Fetch(ctx, "INBOX", []uint32{uids[2], 999, uids[0]}, source.FetchSpec{TextLimit: 5, RawLimit: 10})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Fetch: %v, %d", err, len(msgs))
	}
	if m := msgs[1]; m.UID != uids[0] || describe(m.Root) != "[] multipart/alternative ([1] text/plain [2] text/html)" ||
		string(m.Root.Children[0].Body) != "Hello" || !m.Root.Children[0].BodyTruncated || len(m.Raw) != 10 || !m.RawTruncated ||
		!slices.Equal(m.Flags, []string{`\Seen`}) || !bytes.HasPrefix(m.Header, []byte("From:")) {
		t.Errorf("Fetch alternative: %+v root %s", m, describe(m.Root))
	}
	if m := msgs[0]; len(m.Root.Children) != 4 || string(m.Root.Children[0].Children[0].Body) != "See a" {
		t.Errorf("Fetch mixed: %s %q", describe(m.Root), bodies(m.Root, nil))
	}
	rc, size, err := a.OpenPart(ctx, "INBOX", uids[2], []int{3})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != pdfB64 || size != int64(len(pdfB64)) {
		t.Errorf("OpenPart = %q (%d)", b, size)
	}

	if err := a.SetFlags(ctx, "INBOX", uids[1], []string{"$Forwarded", `\Flagged`}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.SetFlags(ctx, "INBOX", uids[0], nil, []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	_, list, _ = a.List(ctx, "INBOX", time.Time{})
	if f := list[1].Flags; !slices.Contains(f, "$Forwarded") || !slices.Contains(f, `\Flagged`) || len(list[0].Flags) != 0 {
		t.Errorf("after SetFlags: %+v", list)
	}
	if got, err := a.Search(ctx, "INBOX", source.SearchCriteria{Text: "attached"}); err != nil || !slices.Equal(got, []uint32{uids[2]}) {
		t.Errorf("Search: %v, %v", got, err)
	}
	if got, err := a.Search(ctx, "INBOX", source.SearchCriteria{Until: now}); err != nil || !slices.Equal(got, []uint32{uids[0]}) {
		t.Errorf("Search until: %v, %v", got, err)
	}

	// No MOVE, no UIDPLUS: refused, nothing touched.
	if _, err := a.Move(ctx, "INBOX", uids[1], "Archive"); !errors.Is(err, eas.ErrNotSupported) {
		t.Errorf("Move: %v", err)
	}
	if err := a.Delete(ctx, "INBOX", uids[1]); !errors.Is(err, eas.ErrNotSupported) {
		t.Errorf("Delete: %v", err)
	}
	_, list, _ = a.List(ctx, "INBOX", time.Time{})
	if len(list) != 3 || slices.Contains(list[1].Flags, `\Deleted`) {
		t.Errorf("after refused Move/Delete: %+v", list)
	}
	for use, want := range map[string]string{`\Sent`: "Sent", `\Trash`: "Trash", `\Drafts`: "", `\Archive`: ""} {
		if got, err := a.SpecialUse(ctx, use); err != nil || got != want {
			t.Errorf("SpecialUse(%s) = %q, %v; want %q", use, got, err, want)
		}
	}
	if _, err := a.Fetch(ctx, "Nope", []uint32{1}, source.FetchSpec{}); !errors.Is(err, eas.ErrNotFound) {
		t.Errorf("Fetch from a missing mailbox: %v", err)
	}
	if n := a.numConns(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestMailMemUIDPlus(t *testing.T) {
	srv := startMem(t, memOptions{caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapListExtended: {}, imap.CapUIDPlus: {}}}, "Archive")
	ctx := ctxT(t)
	a := memAccount(t, srv)
	mk := func(s string) []byte { return rfc822(append(header(s, "Content-Type: text/plain"), "", s)...) }
	uids := appendAll(t, a, "INBOX", nil, [][]string{nil, {`\Deleted`}, nil}, mk("one"), mk("marked"), mk("three"))
	n, err := a.Move(ctx, "INBOX", uids[0], "Archive")
	if err != nil || n == 0 {
		t.Fatalf("Move via COPY: %d, %v", n, err)
	}
	if err := a.Delete(ctx, "INBOX", uids[2]); err != nil {
		t.Fatal(err)
	}
	_, list, err := a.List(ctx, "INBOX", time.Time{})
	if err != nil || len(list) != 1 || list[0].UID != uids[1] {
		t.Errorf("INBOX after Move and Delete: %+v, %v (the \\Deleted message must stay)", list, err)
	}
	msgs, err := a.Fetch(ctx, "Archive", []uint32{n}, source.FetchSpec{TextLimit: 100})
	if err != nil || len(msgs) != 1 || string(msgs[0].Root.Body) != "one" {
		t.Errorf("moved message: %+v, %v", msgs, err)
	}
}

// A body stream ends when its ctx does, and the pool recovers.
func TestOpenMessageCancel(t *testing.T) {
	srv := startMem(t, memOptions{})
	a := memAccount(t, srv)
	big := rfc822(append(header("big", "Content-Type: text/plain"), "", strings.Repeat("y", 1<<20))...)
	uids := appendAll(t, a, "INBOX", nil, nil, big)
	ctx, cancel := context.WithCancel(ctxT(t))
	rc, size, err := a.OpenMessage(ctx, "INBOX", uids[0])
	if err != nil || size != int64(len(big)) {
		t.Fatalf("OpenMessage: %d, %v", size, err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.Copy(io.Discard, rc); err == nil {
		t.Error("read after cancel: no error")
	}
	if err := rc.Close(); err != nil {
		t.Error(err)
	}
	if _, err := rc.Read(make([]byte, 1)); err == nil {
		t.Error("read after Close: no error")
	}
	if n := a.numConns(); n != 0 {
		t.Errorf("%d connections after a cancelled stream, want 0", n)
	}
	rc, _, err = a.OpenMessage(ctxT(t), "INBOX", uids[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(b, big) {
		t.Errorf("after cancel: %d octets, %v", len(b), err)
	}
	if n := a.numConns(); n != 1 {
		t.Errorf("%d connections after a full read, want 1", n)
	}
}

// Closing the Account with a body stream open does not wait for the
// stream's reader; the stream fails and its Close cleans up.
func TestCloseWithOpenStream(t *testing.T) {
	srv := startMem(t, memOptions{})
	a := NewAccount(mustParse(t, "imap://"+srv.Addr), "alice", "alicepw", testLogger(t))
	big := rfc822(append(header("big", "Content-Type: text/plain"), "", strings.Repeat("z", 1<<20))...)
	uids := appendAll(t, a, "INBOX", nil, nil, big)
	rc, _, err := a.OpenMessage(ctxT(t), "INBOX", uids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on an open stream")
	}
	if _, err := io.Copy(io.Discard, rc); err == nil {
		t.Error("stream survived Close")
	}
	rc.Close()
	// The server may keep its side busy for a while; the client's reader
	// goroutine must be gone.
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "imapclient.(*Client).read") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("imapclient reader left running:\n%s", stacks)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, _, err := a.OpenMessage(ctxT(t), "INBOX", uids[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
