package imapsource

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw      string
		addr     string
		implicit bool
		loopback bool
		bad      bool
	}{
		{raw: "imap://127.0.0.1:1143", addr: "127.0.0.1:1143", loopback: true},
		{raw: "imap://localhost", addr: "localhost:143", loopback: true},
		{raw: "imaps://mail.example.com", addr: "mail.example.com:993", implicit: true},
		{raw: "IMAPS://mail.example.com:10993/", addr: "mail.example.com:10993", implicit: true},
		{raw: "imap://[::1]:143", addr: "[::1]:143", loopback: true},
		{raw: "imap://mail.example.com", addr: "mail.example.com:143"},
		{raw: "http://mail.example.com", bad: true},
		{raw: "imap://", bad: true},
		{raw: "imap://alice@mail.example.com", bad: true},
		{raw: "imap://mail.example.com/INBOX", bad: true},
		{raw: "imap://mail.example.com:0", bad: true},
		{raw: "imap://mail.example.com:x", bad: true},
	} {
		cfg, err := ParseURL(tc.raw)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseURL(%q): no error", tc.raw)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if cfg.Addr() != tc.addr || cfg.ImplicitTLS() != tc.implicit || cfg.loopback != tc.loopback {
			t.Errorf("ParseURL(%q) = addr %q implicit %v loopback %v, want %q %v %v",
				tc.raw, cfg.Addr(), cfg.ImplicitTLS(), cfg.loopback, tc.addr, tc.implicit, tc.loopback)
		}
		if cfg.DialTimeout != DefaultDialTimeout || cfg.MaxConns != DefaultMaxConns || cfg.IdleTimeout != DefaultIdleTimeout {
			t.Errorf("ParseURL(%q): defaults not set: %+v", tc.raw, cfg)
		}
	}
}

func ld(name string, delim rune, attrs ...imap.MailboxAttr) *imap.ListData {
	return &imap.ListData{Mailbox: name, Delim: delim, Attrs: attrs}
}

func byKey(fs []source.Folder) map[string]source.Folder {
	m := make(map[string]source.Folder)
	for _, f := range fs {
		m[f.Key] = f
	}
	return m
}

func TestBuildTreeSpecialUse(t *testing.T) {
	list := []*imap.ListData{
		ld("Sent Messages", '/', imap.MailboxAttrSent),
		ld("Sent", '/', imap.MailboxAttrSent),
		ld("INBOX", '/'),
		ld("Drafts", '/', imap.MailboxAttrDrafts),
		ld("Bin", '/', imap.MailboxAttrTrash),
		ld("Trash", '/'), // no attribute: an ordinary folder
		ld("Junk", '/', imap.MailboxAttrJunk),
		ld("Archive", '/', imap.MailboxAttrArchive),
		ld("Projects", '/', imap.MailboxAttrHasChildren),
		ld("Projects/2026", '/'),
		ld("Ghost", '/', imap.MailboxAttrNonExistent),
		ld("Ghost/Child", '/'),
		ld("Empty", '/', imap.MailboxAttrNoSelect),
		ld("Holder", '/', imap.MailboxAttrNoSelect),
		ld("Holder/Leaf", '/'),
		ld("INBOX/Sub", '/'),
	}
	tr := buildTree(list, true)
	got := byKey(tr.folders())
	want := map[string]source.Folder{
		"imap:INBOX":         {Key: "imap:INBOX", Name: "Inbox", Type: eas.FolderInbox},
		"imap:INBOX/Sub":     {Key: "imap:INBOX/Sub", Name: "Sub", ParentKey: "imap:INBOX", Type: 12},
		"imap:Sent":          {Key: "imap:Sent", Name: "Sent", Type: eas.FolderSentItems},
		"imap:Sent Messages": {Key: "imap:Sent Messages", Name: "Sent Messages", Type: 12},
		"imap:Drafts":        {Key: "imap:Drafts", Name: "Drafts", Type: eas.FolderDrafts},
		"imap:Bin":           {Key: "imap:Bin", Name: "Bin", Type: eas.FolderDeletedItems},
		"imap:Trash":         {Key: "imap:Trash", Name: "Trash", Type: 12},
		"imap:Junk":          {Key: "imap:Junk", Name: "Junk", Type: 12},
		"imap:Archive":       {Key: "imap:Archive", Name: "Archive", Type: 12},
		"imap:Projects":      {Key: "imap:Projects", Name: "Projects", Type: 12},
		"imap:Projects/2026": {Key: "imap:Projects/2026", Name: "2026", ParentKey: "imap:Projects", Type: 12},
		"imap:Ghost/Child":   {Key: "imap:Ghost/Child", Name: "Child", Type: 12},
		"imap:Holder":        {Key: "imap:Holder", Name: "Holder", Type: 12},
		"imap:Holder/Leaf":   {Key: "imap:Holder/Leaf", Name: "Leaf", ParentKey: "imap:Holder", Type: 12},
		OutboxKey:            {Key: OutboxKey, Name: "Outbox", Type: eas.FolderOutbox},
	}
	if len(got) != len(want) {
		t.Errorf("got %d folders, want %d: %+v", len(got), len(want), tr.folders())
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("folder %q = %+v, want %+v", k, g, w)
		}
	}
	fs := tr.folders()
	if fs[0].Key != "imap:INBOX" || fs[len(fs)-1].Key != OutboxKey {
		t.Errorf("order: first %q last %q, want INBOX first, Outbox last", fs[0].Key, fs[len(fs)-1].Key)
	}
	for name, special := range map[string]bool{
		"INBOX": true, "Sent": true, "Sent Messages": true, "Drafts": true, "Bin": true,
		"Junk": true, "Archive": true, "Trash": false, "Projects": false, "Holder": false,
	} {
		if m := tr.lookup(name); m == nil || m.special != special {
			t.Errorf("%q special = %v, want %v", name, m != nil && m.special, special)
		}
	}
	if tr.lookup("inbox") == nil {
		t.Error("lookup is not case-insensitive for INBOX")
	}
}

func TestBuildTreeHeuristics(t *testing.T) {
	list := []*imap.ListData{
		ld("INBOX", '.'),
		ld("INBOX.Sent", '.'), // not top level: not guessed
		ld("Sent Items", '.'),
		ld("sent", '.'),
		ld("Deleted Messages", '.'),
		ld("SPAM", '.'),
		ld("Drafts", '.'),
		ld("Work", '.'),
		ld("Work.Drafts", '.'),
	}
	// A SPECIAL-USE server that marks nothing: names decide.
	for _, su := range []bool{false, true} {
		tr := buildTree(list, su)
		got := byKey(tr.folders())
		for key, typ := range map[string]eas.FolderType{
			"imap:INBOX": 2, "imap:INBOX.Sent": 12, "imap:Sent Items": 5, "imap:sent": 12,
			"imap:Deleted Messages": 4, "imap:SPAM": 12, "imap:Drafts": 3, "imap:Work": 12, "imap:Work.Drafts": 12,
		} {
			if got[key].Type != typ {
				t.Errorf("specialUse=%v: %q type %v, want %v", su, key, got[key].Type, typ)
			}
		}
		if p := got["imap:Work.Drafts"].ParentKey; p != "imap:Work" {
			t.Errorf("parent of Work.Drafts = %q", p)
		}
		if !tr.lookup("SPAM").special || tr.lookup("sent").special || tr.lookup("Work.Drafts").special {
			t.Error("heuristic special flags wrong")
		}
	}
}

func TestFoldersMem(t *testing.T) {
	srv := startMem(t, memOptions{}, "Sent Items", "Drafts", "Trash", "Junk", "Projects", "Projects/2026", "Orphan/Child")
	a := newTestAccount(t, mustParse(t, "imap://"+srv.Addr), "alice", "alicepw")
	ctx := ctxT(t)
	fs, err := a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := byKey(fs)
	for key, want := range map[string]source.Folder{
		"imap:INBOX":         {Key: "imap:INBOX", Name: "Inbox", Type: 2},
		"imap:Sent Items":    {Key: "imap:Sent Items", Name: "Sent Items", Type: 5},
		"imap:Drafts":        {Key: "imap:Drafts", Name: "Drafts", Type: 3},
		"imap:Trash":         {Key: "imap:Trash", Name: "Trash", Type: 4},
		"imap:Junk":          {Key: "imap:Junk", Name: "Junk", Type: 12},
		"imap:Projects":      {Key: "imap:Projects", Name: "Projects", Type: 12},
		"imap:Projects/2026": {Key: "imap:Projects/2026", Name: "2026", ParentKey: "imap:Projects", Type: 12},
		"imap:Orphan/Child":  {Key: "imap:Orphan/Child", Name: "Child", Type: 12},
		OutboxKey:            Outbox(),
	} {
		if got[key] != want {
			t.Errorf("%q = %+v, want %+v", key, got[key], want)
		}
	}
	if len(fs) != 9 {
		t.Errorf("%d folders: %+v", len(fs), fs)
	}
	caps, err := a.Capabilities(ctx)
	if err != nil || !caps.Has(imap.CapIMAP4rev1) {
		t.Errorf("Capabilities = %v, %v", caps, err)
	}
}

func TestFolderChangesMem(t *testing.T) {
	srv := startMem(t, memOptions{}, "Sent", "Drafts", "Trash")
	a := newTestAccount(t, mustParse(t, "imap://"+srv.Addr), "alice", "alicepw")
	ctx := ctxT(t)

	p, err := a.CreateFolder(ctx, "", "Projects", eas.FolderUserMail)
	if err != nil {
		t.Fatal(err)
	}
	if p != (source.Folder{Key: "imap:Projects", Name: "Projects", Type: 12}) {
		t.Errorf("created %+v", p)
	}
	sub, err := a.CreateFolder(ctx, p.Key, "2026", eas.FolderUserGeneric)
	if err != nil {
		t.Fatal(err)
	}
	if sub != (source.Folder{Key: "imap:Projects/2026", ParentKey: "imap:Projects", Name: "2026", Type: 12}) {
		t.Errorf("created %+v", sub)
	}
	fs, err := a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := byKey(fs)["imap:Projects/2026"]; got != sub {
		t.Errorf("listed %+v, want %+v", got, sub)
	}

	expect := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", what, err, want)
		}
	}
	_, err = a.CreateFolder(ctx, "", "Projects", 12)
	expect("create existing", err, eas.ErrExists)
	_, err = a.CreateFolder(ctx, "", "inbox", 12)
	expect("create inbox", err, eas.ErrExists)
	_, err = a.CreateFolder(ctx, "", "Cal", eas.FolderUserCalendar)
	expect("create calendar", err, eas.ErrNotSupported)
	_, err = a.CreateFolder(ctx, "imap:Nope", "x", 12)
	expect("create under missing parent", err, eas.ErrNotFound)
	_, err = a.CreateFolder(ctx, OutboxKey, "x", 12)
	expect("create under outbox", err, eas.ErrNotSupported)
	for _, bad := range []string{"a/b", "", "  ", "x*", "tab\there"} {
		_, err = a.CreateFolder(ctx, "", bad, 12)
		expect("create "+bad, err, ErrInvalidName)
		if st, ok := eas.StatusOf(err); !ok || st != eas.FolderStatusBadRequest {
			t.Errorf("create %q: status %v %v", bad, st, ok)
		}
	}

	_, err = a.RenameFolder(ctx, "imap:INBOX", "", "Post")
	expect("rename INBOX", err, eas.ErrSpecialFolder)
	_, err = a.RenameFolder(ctx, "imap:Sent", "", "Post")
	expect("rename Sent", err, eas.ErrSpecialFolder)
	_, err = a.RenameFolder(ctx, OutboxKey, "", "Post")
	expect("rename Outbox", err, eas.ErrSpecialFolder)
	_, err = a.RenameFolder(ctx, "imap:Missing", "", "Post")
	expect("rename missing", err, eas.ErrNotFound)
	_, err = a.RenameFolder(ctx, sub.Key, "", "Projects")
	expect("rename onto existing", err, eas.ErrExists)
	_, err = a.RenameFolder(ctx, p.Key, sub.Key, "x")
	expect("move into own child", err, eas.ErrNotSupported)
	_, err = a.RenameFolder(ctx, sub.Key, "", "a/b")
	expect("rename with delimiter", err, ErrInvalidName)

	moved, err := a.RenameFolder(ctx, sub.Key, "", "Year 2026")
	if err != nil {
		t.Fatal(err)
	}
	if moved != (source.Folder{Key: "imap:Year 2026", Name: "Year 2026", Type: 12}) {
		t.Errorf("renamed %+v", moved)
	}
	back, err := a.RenameFolder(ctx, moved.Key, "imap:Projects", "2026")
	if err != nil || back != sub {
		t.Errorf("move back = %+v, %v", back, err)
	}

	expect("delete missing", a.DeleteFolder(ctx, "imap:Missing"), eas.ErrNotFound)
	expect("delete INBOX", a.DeleteFolder(ctx, "imap:INBOX"), eas.ErrSpecialFolder)
	expect("delete Trash", a.DeleteFolder(ctx, "imap:Trash"), eas.ErrSpecialFolder)
	expect("delete Outbox", a.DeleteFolder(ctx, OutboxKey), eas.ErrSpecialFolder)
	expect("delete foreign key", a.DeleteFolder(ctx, "caldav:/alice/calendar/"), eas.ErrNotFound)

	if err := a.DeleteFolder(ctx, p.Key); err != nil {
		t.Fatal(err)
	}
	fs, err = a.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if strings.HasPrefix(f.Key, "imap:Projects") {
			t.Errorf("%q survived the delete", f.Key)
		}
	}
	// Pre-check errors keep the connection: one connection did all of it.
	if n := a.numConns(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestLoginErrors(t *testing.T) {
	srv := startMem(t, memOptions{})
	ctx := ctxT(t)

	good := newTestAccount(t, mustParse(t, "imap://"+srv.Addr), "alice", "alicepw")
	if err := good.Login(ctx); err != nil {
		t.Fatalf("good login: %v", err)
	}

	bad := newTestAccount(t, mustParse(t, "imap://"+srv.Addr), "alice", "wrong")
	start := time.Now()
	err := bad.Login(ctx)
	if !errors.Is(err, eas.ErrAuthFailed) || errors.Is(err, eas.ErrBackendUnavailable) {
		t.Errorf("bad password: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("bad password took %v", d)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error leaks the password: %v", err)
	}
	_, err = bad.Folders(ctx)
	if !errors.Is(err, eas.ErrAuthFailed) {
		t.Errorf("Folders with bad password: %v", err)
	}
	if n := bad.numConns(); n != 0 {
		t.Errorf("failed logins left %d connections", n)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()
	down := newTestAccount(t, mustParse(t, "imap://"+closedAddr), "alice", "alicepw")
	if err := down.Login(ctx); !errors.Is(err, eas.ErrBackendUnavailable) {
		t.Errorf("unreachable: %v", err)
	}

	broken := NewAccount(Config{URL: "pop3://x"}, "alice", "alicepw", nil)
	if err := broken.Login(ctx); err == nil {
		t.Error("bad URL: no error")
	}
	broken.Close()
}

// A server that accepts and never greets: DialTimeout and ctx both bound
// the wait.
func TestSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})

	cfg := mustParse(t, "imap://"+ln.Addr().String())
	cfg.DialTimeout = 300 * time.Millisecond
	a := newTestAccount(t, cfg, "alice", "alicepw")
	start := time.Now()
	err = a.Login(context.Background())
	if !errors.Is(err, eas.ErrBackendUnavailable) {
		t.Errorf("silent server: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("DialTimeout not honoured: %v", d)
	}

	cfg.DialTimeout = time.Minute
	b := newTestAccount(t, cfg, "alice", "alicepw")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = b.Login(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ctx deadline: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("ctx not honoured: %v", d)
	}
}

func TestTLSModes(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	ctx := ctxT(t)

	// Loopback server offering STARTTLS: the probe switches to it.
	st := startMem(t, memOptions{tls: serverTLS})
	cfg := mustParse(t, "imap://"+st.Addr)
	cfg.TLS = clientTLS
	a := newTestAccount(t, cfg, "alice", "alicepw")
	if _, err := a.Folders(ctx); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	if a.tlsMode() != tlsStartTLS {
		t.Errorf("mode %v, want STARTTLS", a.tlsMode())
	}
	if err := a.Login(ctx); err != nil { // second dial goes straight to STARTTLS
		t.Fatalf("STARTTLS again: %v", err)
	}
	// An untrusted certificate is an error, not a fallback to plain text.
	u := newTestAccount(t, mustParse(t, "imap://"+st.Addr), "alice", "alicepw")
	if err := u.Login(ctx); !errors.Is(err, eas.ErrBackendUnavailable) {
		t.Errorf("untrusted cert: %v", err)
	}

	// Implicit TLS.
	it := startMem(t, memOptions{tls: serverTLS, implicit: true})
	cfg = mustParse(t, "imaps://"+it.Addr)
	cfg.TLS = clientTLS
	b := newTestAccount(t, cfg, "alice", "alicepw")
	if err := b.Login(ctx); err != nil {
		t.Fatalf("imaps: %v", err)
	}

	// A non-loopback host without STARTTLS: refused, the password never sent.
	plain := startMem(t, memOptions{})
	cfg = mustParse(t, "imap://mail.example.com")
	d := &countingDialer{redirect: plain.Addr}
	cfg.DialContext = d.DialContext
	c := newTestAccount(t, cfg, "alice", "alicepw")
	err := c.Login(ctx)
	if !errors.Is(err, eas.ErrBackendUnavailable) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("plain non-loopback: %v", err)
	}
}

func TestPoolLimitAndClose(t *testing.T) {
	srv := startMem(t, memOptions{}, "Sent", "Drafts", "Trash", "A", "B", "C")
	settle := runtime.NumGoroutine()
	d := &countingDialer{delay: 5 * time.Millisecond}
	cfg := mustParse(t, "imap://"+srv.Addr)
	cfg.DialContext = d.DialContext
	a := NewAccount(cfg, "alice", "alicepw", testLogger(t))
	ctx := ctxT(t)

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fs, err := a.Folders(ctx)
			if err == nil && len(fs) != 8 {
				err = errors.New("wrong folder count")
			}
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
	t.Logf("dials %d, max open %d", d.dials.Load(), d.maxOpen.Load())
	if m := d.maxOpen.Load(); m != DefaultMaxConns {
		t.Errorf("%d connections open at once, want the max, %d", m, DefaultMaxConns)
	}
	if n := d.dials.Load(); n > DefaultMaxConns {
		t.Errorf("%d dials for 20 calls, want <= %d", n, DefaultMaxConns)
	}
	if n := d.open.Load(); n == 0 {
		t.Error("no idle connection kept")
	}

	// Login with a full pool replaces an idle connection.
	if err := a.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if m := d.maxOpen.Load(); m > DefaultMaxConns {
		t.Errorf("Login pushed the pool to %d connections", m)
	}

	// A WithConn that breaks its connection (BAD command aside, a raw error)
	// gets it discarded.
	before := d.open.Load()
	err := a.WithConn(ctx, func(c *imapclient.Client) error { return errors.New("parse failure") })
	if err == nil || d.open.Load() != before-1 {
		t.Errorf("broken connection kept: err %v, open %d -> %d", err, before, d.open.Load())
	}

	// A panicking WithConn frees its slot.
	func() {
		defer func() { recover() }()
		a.WithConn(ctx, func(*imapclient.Client) error { panic("boom") })
	}()
	// Close with a busy connection: its command fails, nothing hangs.
	busy := make(chan error)
	held := make(chan struct{})
	go func() {
		busy <- a.WithConn(ctx, func(c *imapclient.Client) error {
			close(held)
			<-c.Closed()
			return c.Noop().Wait()
		})
	}()
	<-held
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-busy; err == nil {
		t.Error("busy WithConn survived Close")
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := d.open.Load(); n != 0 {
		t.Errorf("%d connections open after Close", n)
	}
	if _, err := a.Folders(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Folders after Close: %v", err)
	}
	settleGoroutines(t, settle)
}

func TestIdleTimeoutAndCancel(t *testing.T) {
	srv := startMem(t, memOptions{})
	settle := runtime.NumGoroutine()
	d := &countingDialer{}
	cfg := mustParse(t, "imap://"+srv.Addr)
	cfg.DialContext = d.DialContext
	cfg.IdleTimeout = 100 * time.Millisecond
	cfg.MaxConns = 1
	a := NewAccount(cfg, "alice", "alicepw", testLogger(t))
	defer a.Close()
	ctx := ctxT(t)
	if _, err := a.Folders(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for d.open.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle connection not closed")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// With the only slot busy, a second caller waits and honours its ctx.
	hold := make(chan struct{})
	held := make(chan struct{})
	go a.WithConn(ctx, func(*imapclient.Client) error {
		close(held)
		<-hold
		return nil
	})
	<-held
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := a.Folders(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting for slot: %v", err)
	}
	close(hold)

	// Cancelling mid-command closes and discards the connection.
	cctx, ccancel := context.WithCancel(ctx)
	err := a.WithConn(cctx, func(c *imapclient.Client) error {
		ccancel()
		<-c.Closed()
		return c.Noop().Wait()
	})
	if err == nil {
		t.Error("cancelled WithConn: no error")
	}
	if _, err := a.Folders(ctx); err != nil {
		t.Errorf("after cancel: %v", err)
	}
	a.Close()
	settleGoroutines(t, settle)
}

// TestSurplusIdleTimeout: a burst grows the pool to MaxConns; afterwards
// one idle connection stays for IdleTimeout and the surplus ones close
// after SurplusIdleTimeout.
func TestSurplusIdleTimeout(t *testing.T) {
	srv := startMem(t, memOptions{})
	d := &countingDialer{}
	cfg := mustParse(t, "imap://"+srv.Addr)
	cfg.DialContext = d.DialContext
	cfg.IdleTimeout = time.Minute
	cfg.SurplusIdleTimeout = 100 * time.Millisecond
	cfg.MaxConns = 3
	a := NewAccount(cfg, "alice", "alicepw", testLogger(t))
	defer a.Close()
	ctx := ctxT(t)

	// Three callers at once hold three connections.
	var wg sync.WaitGroup
	inside := make(chan struct{}, 3)
	release := make(chan struct{})
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.WithConn(ctx, func(*imapclient.Client) error {
				inside <- struct{}{}
				<-release
				return nil
			})
		}()
	}
	for range 3 {
		<-inside
	}
	close(release)
	wg.Wait()
	if n := d.open.Load(); n != 3 {
		t.Fatalf("after the burst: %d open connections, want 3", n)
	}
	deadline := time.Now().Add(3 * time.Second)
	for d.open.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("surplus idle connections not closed: %d open", d.open.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The one left is reused, not redialled.
	dialled := d.dials.Load()
	if _, err := a.Folders(ctx); err != nil {
		t.Fatal(err)
	}
	if d.dials.Load() != dialled || d.open.Load() != 1 {
		t.Errorf("after the surplus closed: %d dials (was %d), %d open", d.dials.Load(), dialled, d.open.Load())
	}
}
