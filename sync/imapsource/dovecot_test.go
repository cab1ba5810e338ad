package imapsource

// Integration tests against a real Dovecot started by sync/testenv. They
// fail (never skip) when Dovecot is not installed.

import (
	"context"
	"errors"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"easbridge/server/eas"
	"easbridge/sync/source"
	"easbridge/sync/testenv"
)

func dovecotAccount(t *testing.T, d *testenv.Dovecot, user, password string) *Account {
	t.Helper()
	return newTestAccount(t, mustParse(t, "imap://"+d.IMAPAddr), user, password)
}

// subscribed lists alice's subscriptions with the rig's own client.
func subscribed(t *testing.T, d *testenv.Dovecot) []string {
	t.Helper()
	c := d.Dial(t, "alice")
	defer c.Close()
	list, err := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		if !slices.Contains(l.Attrs, imap.MailboxAttrNonExistent) {
			names = append(names, l.Mailbox)
		}
	}
	return names
}

func TestDovecotFolders(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)
	a := dovecotAccount(t, d, "alice", "alicepw")
	if err := a.Login(ctx); err != nil {
		t.Fatal(err)
	}
	caps, err := a.Capabilities(ctx)
	if err != nil || !caps.Has(imap.CapSpecialUse) {
		t.Fatalf("caps %v, %v", caps, err)
	}
	// Made behind our back, by another client; the parent only implicitly.
	d.CreateMailbox(t, "alice", "Clients/Acme")
	d.CreateMailbox(t, "bob", "BobOnly")

	p, err := a.CreateFolder(ctx, "", "Projects", eas.FolderUserMail)
	if err != nil {
		t.Fatal(err)
	}
	y, err := a.CreateFolder(ctx, p.Key, "2026", eas.FolderUserMail)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.CreateFolder(ctx, "", "Rechnungen – Ä&Ö", eas.FolderUserMail)
	if err != nil {
		t.Fatal(err)
	}

	fs, err := a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("folders: %+v", fs)
	got := byKey(fs)
	want := map[string]source.Folder{
		"imap:INBOX":         {Key: "imap:INBOX", Name: "Inbox", Type: eas.FolderInbox},
		"imap:Drafts":        {Key: "imap:Drafts", Name: "Drafts", Type: eas.FolderDrafts},
		"imap:Sent":          {Key: "imap:Sent", Name: "Sent", Type: eas.FolderSentItems},
		"imap:Trash":         {Key: "imap:Trash", Name: "Trash", Type: eas.FolderDeletedItems},
		"imap:Junk":          {Key: "imap:Junk", Name: "Junk", Type: eas.FolderUserMail},
		"imap:Archive":       {Key: "imap:Archive", Name: "Archive", Type: eas.FolderUserMail},
		"imap:Projects":      p,
		"imap:Projects/2026": y,
		"imap:Clients":       {Key: "imap:Clients", Name: "Clients", Type: eas.FolderUserMail},
		"imap:Clients/Acme":  {Key: "imap:Clients/Acme", Name: "Acme", ParentKey: "imap:Clients", Type: eas.FolderUserMail},
		u.Key:                u,
		OutboxKey:            Outbox(),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%q = %+v, want %+v", k, got[k], w)
		}
	}
	if len(fs) != len(want) {
		t.Errorf("%d folders, want %d", len(fs), len(want))
	}
	if y.ParentKey != p.Key || y.Name != "2026" || u.Key != "imap:Rechnungen – Ä&Ö" {
		t.Errorf("created %+v %+v", y, u)
	}
	subs := subscribed(t, d)
	for _, n := range []string{"Projects", "Projects/2026", "Rechnungen – Ä&Ö"} {
		if !slices.Contains(subs, n) {
			t.Errorf("%q not subscribed: %v", n, subs)
		}
	}

	// Other users' folders stay theirs.
	b := dovecotAccount(t, d, "bob", "bobpw")
	bfs, err := b.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bk := byKey(bfs); bk["imap:BobOnly"].Key == "" || bk["imap:Projects"].Key != "" {
		t.Errorf("bob sees %+v", bfs)
	}
}

func TestDovecotFolderChanges(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)
	a := dovecotAccount(t, d, "alice", "alicepw")

	p, err := a.CreateFolder(ctx, "", "Projects", eas.FolderUserMail)
	if err != nil {
		t.Fatal(err)
	}
	y, err := a.CreateFolder(ctx, p.Key, "2026", eas.FolderUserMail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateFolder(ctx, "", "Other", eas.FolderUserMail); err != nil {
		t.Fatal(err)
	}

	expect := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", what, err, want)
		}
	}
	_, err = a.CreateFolder(ctx, "", "Projects", eas.FolderUserMail)
	expect("create existing", err, eas.ErrExists)
	_, err = a.CreateFolder(ctx, p.Key, "2026", eas.FolderUserMail)
	expect("create existing nested", err, eas.ErrExists)
	_, err = a.CreateFolder(ctx, "", "a/b", eas.FolderUserMail)
	expect("create with delimiter", err, ErrInvalidName)
	_, err = a.CreateFolder(ctx, "", "Tasks", eas.FolderUserTasks)
	expect("create tasks", err, eas.ErrNotSupported)
	for _, key := range []string{"imap:INBOX", "imap:Sent", "imap:Drafts", "imap:Trash", "imap:Junk", "imap:Archive", OutboxKey} {
		_, err = a.RenameFolder(ctx, key, "", "Renamed")
		expect("rename "+key, err, eas.ErrSpecialFolder)
		expect("delete "+key, a.DeleteFolder(ctx, key), eas.ErrSpecialFolder)
	}
	_, err = a.RenameFolder(ctx, "imap:Missing", "", "X")
	expect("rename missing", err, eas.ErrNotFound)
	_, err = a.RenameFolder(ctx, "imap:Other", "", "Projects")
	expect("rename onto existing", err, eas.ErrExists)
	_, err = a.RenameFolder(ctx, p.Key, y.Key, "Loop")
	expect("move into own child", err, eas.ErrNotSupported)
	expect("delete missing", a.DeleteFolder(ctx, "imap:Missing"), eas.ErrNotFound)

	// The server's own answers, past our pre-checks.
	err = a.WithConn(ctx, func(c *imapclient.Client) error { return c.Create("Projects", nil).Wait() })
	expect("raw CREATE existing", mapErr(ctx, "create", err), eas.ErrExists)
	err = a.WithConn(ctx, func(c *imapclient.Client) error { return c.Delete("Missing").Wait() })
	expect("raw DELETE missing", mapErr(ctx, "delete", err), eas.ErrNotFound)
	err = a.WithConn(ctx, func(c *imapclient.Client) error { return c.Rename("Missing", "X", nil).Wait() })
	expect("raw RENAME missing", mapErr(ctx, "rename", err), eas.ErrNotFound)
	err = a.WithConn(ctx, func(c *imapclient.Client) error { return c.Rename("Other", "Projects", nil).Wait() })
	expect("raw RENAME onto existing", mapErr(ctx, "rename", err), eas.ErrExists)

	// Rename a subtree: the child follows, and so do subscriptions.
	r, err := a.RenameFolder(ctx, p.Key, "imap:Other", "Projekte")
	if err != nil {
		t.Fatal(err)
	}
	if r != (source.Folder{Key: "imap:Other/Projekte", ParentKey: "imap:Other", Name: "Projekte", Type: 12}) {
		t.Errorf("renamed %+v", r)
	}
	fs, err := a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := byKey(fs)
	if got["imap:Other/Projekte/2026"].ParentKey != r.Key || got[p.Key].Key != "" || got[y.Key].Key != "" {
		t.Errorf("after rename: %+v", fs)
	}
	subs := subscribed(t, d)
	if !slices.Contains(subs, "Other/Projekte") || !slices.Contains(subs, "Other/Projekte/2026") ||
		slices.Contains(subs, "Projects") || slices.Contains(subs, "Projects/2026") {
		t.Errorf("subscriptions after rename: %v", subs)
	}

	// Delete the subtree.
	if err := a.DeleteFolder(ctx, "imap:Other"); err != nil {
		t.Fatal(err)
	}
	fs, err = a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Key == "imap:Other" || f.ParentKey != "" {
			t.Errorf("left after delete: %+v", f)
		}
	}
	for _, s := range subscribed(t, d) {
		if s == "Other" || s == "Other/Projekte" || s == "Other/Projekte/2026" {
			t.Errorf("subscription %q left after delete", s)
		}
	}
}

func TestDovecotLogin(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)

	if err := dovecotAccount(t, d, "alice", "alicepw").Login(ctx); err != nil {
		t.Fatalf("good login: %v", err)
	}
	bad := dovecotAccount(t, d, "alice", "nope")
	start := time.Now()
	err := bad.Login(ctx)
	took := time.Since(start)
	if !errors.Is(err, eas.ErrAuthFailed) {
		t.Errorf("bad password: %v", err)
	}
	if took > time.Second {
		t.Errorf("bad password took %v, want < 1s", took)
	}
	t.Logf("bad password: %v in %v", err, took)
	if err := dovecotAccount(t, d, "nobody", "x").Login(ctx); !errors.Is(err, eas.ErrAuthFailed) {
		t.Errorf("unknown user: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	down := newTestAccount(t, mustParse(t, "imap://"+addr), "alice", "alicepw")
	start = time.Now()
	if err := down.Login(ctx); !errors.Is(err, eas.ErrBackendUnavailable) {
		t.Errorf("unreachable: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("unreachable took %v", took)
	}

	// A server restart cuts pooled connections; the next call recovers.
	a := dovecotAccount(t, d, "alice", "alicepw")
	if _, err := a.Folders(ctx); err != nil {
		t.Fatal(err)
	}
	d.Restart(t)
	if _, err := a.Folders(ctx); err != nil {
		t.Errorf("after restart: %v", err)
	}
	d.Stop()
	if _, err := a.Folders(ctx); !errors.Is(err, eas.ErrBackendUnavailable) {
		t.Errorf("stopped server: %v", err)
	}
}

func TestDovecotPool(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	for _, n := range []string{"A", "B", "B/C"} {
		d.CreateMailbox(t, "alice", n)
	}
	settle := runtime.NumGoroutine()
	cd := &countingDialer{}
	cfg := mustParse(t, "imap://"+d.IMAPAddr)
	cfg.DialContext = cd.DialContext
	a := NewAccount(cfg, "alice", "alicepw", testLogger(t))
	ctx := ctxT(t)

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Folders(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("dials %d, max open %d", cd.dials.Load(), cd.maxOpen.Load())
	if m := cd.maxOpen.Load(); m > DefaultMaxConns {
		t.Errorf("%d connections open at once, max %d", m, DefaultMaxConns)
	}
	if n := cd.dials.Load(); n > DefaultMaxConns {
		t.Errorf("%d dials, want <= %d", n, DefaultMaxConns)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := cd.open.Load(); n != 0 {
		t.Errorf("%d connections open after Close", n)
	}
	settleGoroutines(t, settle)
	if _, err := a.Folders(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
