package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

func testMessage(subject string) []byte {
	return []byte("From: Alice <alice@example.test>\r\n" +
		"To: Bob <bob@example.test>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@example.test>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Hello from the test rig.\r\n")
}

func TestDovecot(t *testing.T) {
	start := time.Now()
	d := StartDovecot(t, DovecotOptions{})
	t.Logf("dovecot up in %v: imap %s submission %s sieve %s sink %s", time.Since(start).Round(time.Millisecond),
		d.IMAPAddr, d.SubmissionAddr, d.SieveAddr, d.Sink.Addr)

	t.Run("capabilities", func(t *testing.T) {
		caps := d.Capabilities(t)
		t.Logf("capabilities: %s", strings.Join(caps, " "))
		for _, want := range []string{"CONDSTORE", "QRESYNC", "IDLE", "MOVE", "SPECIAL-USE", "LIST-STATUS", "UIDPLUS", "ENABLE"} {
			if !slices.Contains(caps, want) {
				t.Errorf("capability %s missing", want)
			}
		}
		t.Logf("NOTIFY advertised: %v", slices.Contains(caps, "NOTIFY"))
		if !slices.Contains(caps, "NOTIFY") {
			t.Errorf("NOTIFY missing (needs mailbox_list_index = yes)")
		}
	})

	t.Run("special-use", func(t *testing.T) {
		c := d.Dial(t, "alice")
		list, err := c.List("", "*", &imap.ListOptions{
			ReturnSpecialUse: true,
			ReturnStatus:     &imap.StatusOptions{NumMessages: true, UIDValidity: true},
		}).Collect()
		if err != nil {
			t.Fatalf("LIST: %v", err)
		}
		attrs := make(map[string][]imap.MailboxAttr)
		for _, m := range list {
			attrs[m.Mailbox] = m.Attrs
			if m.Status == nil || m.Status.NumMessages == nil {
				t.Errorf("LIST-STATUS: no status for %s", m.Mailbox)
			}
			t.Logf("mailbox %q delim %q attrs %v", m.Mailbox, m.Delim, m.Attrs)
		}
		for name, attr := range map[string]imap.MailboxAttr{
			"Drafts": imap.MailboxAttrDrafts, "Sent": imap.MailboxAttrSent, "Trash": imap.MailboxAttrTrash,
			"Junk": imap.MailboxAttrJunk, "Archive": imap.MailboxAttrArchive,
		} {
			if !slices.Contains(attrs[name], attr) {
				t.Errorf("mailbox %s: attrs %v, want %s", name, attrs[name], attr)
			}
		}
		if _, ok := attrs["INBOX"]; !ok {
			t.Errorf("no INBOX in %v", attrs)
		}
		subscribed, err := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
		if err != nil {
			t.Fatalf("LIST (SUBSCRIBED): %v", err)
		}
		if len(subscribed) < 5 {
			t.Errorf("only %d subscribed mailboxes", len(subscribed))
		}
	})

	t.Run("append-fetch", func(t *testing.T) {
		msg := testMessage("append fetch")
		uid := d.Append(t, "alice", "INBOX", msg, imap.FlagSeen)
		c := d.Dial(t, "alice@example.test") // the address logs in as the same user
		if _, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait(); err != nil {
			t.Fatalf("SELECT: %v", err)
		}
		section := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
			UID: true, Flags: true, ModSeq: true, BodySection: []*imap.FetchItemBodySection{section},
		}).Collect()
		if err != nil {
			t.Fatalf("UID FETCH: %v", err)
		}
		if len(msgs) != 1 {
			t.Fatalf("fetched %d messages, want 1", len(msgs))
		}
		if got := msgs[0].FindBodySection(section); !bytes.Equal(got, msg) {
			t.Errorf("body = %q, want %q", got, msg)
		}
		if !slices.Contains(msgs[0].Flags, imap.FlagSeen) || msgs[0].ModSeq == 0 {
			t.Errorf("flags %v modseq %d", msgs[0].Flags, msgs[0].ModSeq)
		}

		d.CreateMailbox(t, "alice", "Projects/2026.Q1")
		list, err := c.List("", "Projects/*", nil).Collect()
		if err != nil || len(list) != 1 || list[0].Mailbox != "Projects/2026.Q1" {
			t.Errorf("LIST Projects/*: %v %v", list, err)
		}
	})

	t.Run("bad-password", func(t *testing.T) {
		c, err := imapclient.DialInsecure(d.IMAPAddr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("alice", "wrong").Wait(); err == nil {
			t.Error("login with a wrong password succeeded")
		}
	})

	t.Run("idle", func(t *testing.T) {
		exists := make(chan uint32, 16)
		c := d.DialWithOptions(t, "bob", &imapclient.Options{
			UnilateralDataHandler: &imapclient.UnilateralDataHandler{
				Mailbox: func(m *imapclient.UnilateralDataMailbox) {
					if m.NumMessages != nil {
						exists <- *m.NumMessages
					}
				},
			},
		})
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatalf("SELECT: %v", err)
		}
		idle, err := c.Idle()
		if err != nil {
			t.Fatalf("IDLE: %v", err)
		}
		start := time.Now()
		d.Append(t, "bob", "INBOX", testMessage("idle"))
		select {
		case n := <-exists:
			t.Logf("EXISTS %d pushed %v after APPEND", n, time.Since(start).Round(time.Millisecond))
		case <-time.After(10 * time.Second):
			t.Error("no EXISTS during IDLE")
		}
		if err := idle.Close(); err != nil {
			t.Fatalf("close IDLE: %v", err)
		}
		if err := idle.Wait(); err != nil {
			t.Fatalf("IDLE: %v", err)
		}
	})

	t.Run("submission", func(t *testing.T) {
		c, err := smtp.Dial(d.SubmissionAddr)
		if err != nil {
			t.Fatalf("dial submission: %v", err)
		}
		defer c.Close()
		if err := c.Hello("client.example.test"); err != nil {
			t.Fatalf("EHLO: %v", err)
		}
		if err := c.Auth(sasl.NewPlainClient("", "alice", "alicepw")); err != nil {
			t.Fatalf("AUTH PLAIN: %v", err)
		}
		msg := testMessage("submission")
		if err := c.SendMail("alice@example.test", []string{"bob@example.test", "carol@elsewhere.test"}, bytes.NewReader(msg)); err != nil {
			t.Fatalf("send: %v", err)
		}
		if err := c.Quit(); err != nil {
			t.Errorf("QUIT: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got, err := d.Sink.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		m := got[0]
		if m.From != "alice@example.test" || !slices.Equal(m.To, []string{"bob@example.test", "carol@elsewhere.test"}) {
			t.Errorf("envelope from %q to %q", m.From, m.To)
		}
		if !bytes.Contains(m.Data, []byte("Subject: submission\r\n")) || !bytes.Contains(m.Data, []byte("Hello from the test rig.")) {
			t.Errorf("relayed data:\n%s", m.Data)
		}
	})

	t.Run("managesieve", func(t *testing.T) {
		s := dialSieve(t, d.SieveAddr)
		caps := s.response(t)
		if !slices.ContainsFunc(caps, func(l string) bool { return strings.HasPrefix(l, `"SASL" `) && strings.Contains(l, "PLAIN") }) {
			t.Errorf("no SASL PLAIN in %q", caps)
		}
		auth := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00alicepw"))
		s.command(t, `AUTHENTICATE "PLAIN" "`+auth+`"`)
		script := "require \"fileinto\";\r\nif header :contains \"subject\" \"x\" { fileinto \"Junk\"; }\r\n"
		s.command(t, fmt.Sprintf("PUTSCRIPT \"rig\" {%d+}\r\n%s", len(script), script))
		s.command(t, `SETACTIVE "rig"`)
		if list := s.command(t, "LISTSCRIPTS"); !slices.Contains(list, `"rig" ACTIVE`) {
			t.Errorf("LISTSCRIPTS = %q", list)
		}
		s.command(t, "LOGOUT")
	})

	t.Run("loopback-only", func(t *testing.T) {
		procs, err := d.Processes()
		if err != nil {
			t.Fatal(err)
		}
		assertLoopbackOnly(t, procs)
	})

	t.Run("stop", func(t *testing.T) {
		running, err := d.Processes()
		if err != nil {
			t.Fatal(err)
		}
		if len(running) < 3 {
			t.Errorf("only %d dovecot processes found while running: %v", len(running), running)
		}
		start := time.Now()
		d.Stop()
		t.Logf("stopped %d processes in %v", len(running), time.Since(start).Round(time.Millisecond))
		d.Stop() // idempotent
		assertNoProcesses(t, d.Dir, d.instance)
		if c, err := net.DialTimeout("tcp", d.IMAPAddr, time.Second); err == nil {
			c.Close()
			t.Errorf("IMAP port still open after Stop")
		}
	})
}

// assertNoProcesses fails unless no process mentions any of markers.
func assertNoProcesses(t *testing.T, markers ...string) {
	t.Helper()
	for _, m := range markers {
		left, err := FindProcesses(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Errorf("processes mentioning %s left: %v", m, left)
		}
	}
}

func TestDovecotRestart(t *testing.T) {
	d := StartDovecot(t, DovecotOptions{Users: []User{{Name: "carol", Password: "s3cret"}}})
	msg := testMessage("restart")
	uid := d.Append(t, "carol", "Archive", msg)
	old := d.Dial(t, "carol")
	addrs := []string{d.IMAPAddr, d.SubmissionAddr, d.SieveAddr}

	start := time.Now()
	d.Restart(t)
	t.Logf("restart took %v", time.Since(start).Round(time.Millisecond))
	if got := []string{d.IMAPAddr, d.SubmissionAddr, d.SieveAddr}; !slices.Equal(got, addrs) {
		t.Errorf("addresses after restart %v, want %v", got, addrs)
	}
	if err := old.Noop().Wait(); err == nil {
		t.Errorf("connection from before the restart still works")
	}

	c := d.Dial(t, "carol")
	if _, err := c.Select("Archive", nil).Wait(); err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0].FindBodySection(section), msg) {
		t.Fatalf("message after restart: %v %v", msgs, err)
	}
	d.Submit(t, "carol", "carol@example.test", []string{"dave@example.test"}, testMessage("after restart"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.Sink.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	d.Stop()
	assertNoProcesses(t, d.Dir, d.instance)
}

// TestDovecotRestartPortBusy restarts while another socket holds the IMAP
// port for a moment: the rig retries instead of failing.
func TestDovecotRestartPortBusy(t *testing.T) {
	d := StartDovecot(t, DovecotOptions{})
	d.Stop()
	l, err := net.Listen("tcp", d.IMAPAddr)
	if err != nil {
		t.Fatalf("hold IMAP port: %v", err)
	}
	release := time.AfterFunc(700*time.Millisecond, func() { l.Close() })
	defer release.Stop()
	start := time.Now()
	d.Restart(t)
	if took := time.Since(start); took < 700*time.Millisecond {
		t.Errorf("restart took %v while the port was held for 700ms", took)
	}
	if !strings.Contains(tailFile(d.LogPath, 200)+tailFile(filepath.Join(d.Dir, "master.log"), 50), "Address already in use") {
		t.Errorf("no bind failure logged; the retry path was not exercised")
	}
	d.Dial(t, "alice")
}

// assertLoopbackOnly fails when any of procs has a listening TCP socket or
// a UDP socket on an address other than 127.0.0.1 / ::1.
func assertLoopbackOnly(t *testing.T, procs []Proc) {
	t.Helper()
	inodes := make(map[string]int) // socket inode -> pid
	for _, p := range append(procs, Proc{PID: os.Getpid()}) {
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.PID))
		if err != nil {
			continue // exited meanwhile
		}
		for _, fd := range fds {
			link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", p.PID, fd.Name()))
			if err == nil && strings.HasPrefix(link, "socket:[") {
				inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = p.PID
			}
		}
	}
	const (
		v4Loopback     = "0100007F"
		v6Loopback     = "00000000000000000000000001000000"
		v4MappedLoopbk = "0000000000000000FFFF00000100007F"
	)
	listening := 0
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile("/proc/net/" + table)
		if err != nil {
			continue // no IPv6
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 {
				continue
			}
			pid, ours := inodes[f[9]]
			if !ours || (strings.HasPrefix(table, "tcp") && f[3] != "0A") { // 0A: LISTEN
				continue
			}
			listening++
			host := f[1][:strings.IndexByte(f[1], ':')]
			if host != v4Loopback && host != v6Loopback && host != v4MappedLoopbk {
				t.Errorf("pid %d: %s socket bound to %s", pid, table, f[1])
			}
		}
	}
	if listening == 0 {
		t.Errorf("no listening sockets found for %v", procs)
	}
	t.Logf("%d bound sockets, all on loopback", listening)
}

// sieveConn is a minimal ManageSieve (RFC 5804) client.
type sieveConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialSieve(t *testing.T, addr string) *sieveConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial ManageSieve: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	return &sieveConn{conn: conn, r: bufio.NewReader(conn)}
}

// command sends line and returns the response lines before its OK.
func (s *sieveConn) command(t *testing.T, line string) []string {
	t.Helper()
	if _, err := io.WriteString(s.conn, line+"\r\n"); err != nil {
		t.Fatalf("ManageSieve write: %v", err)
	}
	return s.response(t)
}

// response reads lines up to the final OK, failing on NO or BYE. Literals
// ({n} or {n+}) in responses are read as lines, which suffices here.
func (s *sieveConn) response(t *testing.T) []string {
	t.Helper()
	var lines []string
	for {
		l, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("ManageSieve read: %v (so far %q)", err, lines)
		}
		l = strings.TrimRight(l, "\r\n")
		switch {
		case l == "OK" || strings.HasPrefix(l, "OK "):
			return lines
		case strings.HasPrefix(l, "NO") || strings.HasPrefix(l, "BYE"):
			t.Fatalf("ManageSieve: %s (after %q)", l, lines)
		}
		lines = append(lines, l)
	}
}

func TestRadicale(t *testing.T) {
	start := time.Now()
	r := StartRadicale(t, RadicaleOptions{})
	t.Logf("radicale up in %v at %s", time.Since(start).Round(time.Millisecond), r.URL)
	seed := r.SeedDefault(t, "alice")
	t.Log(seed)
	if len(seed.Objects) != 12 {
		t.Errorf("seeded %d objects, want 12", len(seed.Objects))
	}
	ctx := context.Background()

	cal, err := caldav.NewClient(r.HTTPClient("alice"), r.URL)
	if err != nil {
		t.Fatal(err)
	}
	principal, err := cal.FindCurrentUserPrincipal(ctx)
	if err != nil || principal != seed.Principal {
		t.Fatalf("principal %q %v, want %q", principal, err, seed.Principal)
	}
	calHome, err := cal.FindCalendarHomeSet(ctx, principal)
	if err != nil || calHome != seed.Home {
		t.Fatalf("calendar home %q %v", calHome, err)
	}
	cals, err := cal.FindCalendars(ctx, calHome)
	if err != nil {
		t.Fatal(err)
	}
	comps := make(map[string][]string)
	for _, c := range cals {
		comps[c.Path] = c.SupportedComponentSet
		t.Logf("calendar %s %q components %v", c.Path, c.Name, c.SupportedComponentSet)
	}
	for path, want := range map[string]string{seed.Calendar: "VEVENT", seed.Work: "VEVENT", seed.Tasks: "VTODO", seed.Notes: "VJOURNAL"} {
		if !slices.Equal(comps[path], []string{want}) {
			t.Errorf("calendar %s: components %v, want [%s]", path, comps[path], want)
		}
	}
	if len(cals) != 4 {
		t.Errorf("found %d calendars, want 4", len(cals))
	}
	for _, coll := range seed.Calendars() {
		objs, err := cal.QueryCalendar(ctx, coll, &caldav.CalendarQuery{
			CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR"},
			CompFilter:  caldav.CompFilter{Name: "VCALENDAR"},
		})
		if err != nil || len(objs) != 2 {
			t.Errorf("query %s: %d objects, %v", coll, len(objs), err)
		}
	}

	card, err := carddav.NewClient(r.HTTPClient("alice@example.test"), r.URL)
	if err != nil {
		t.Fatal(err)
	}
	abHome, err := card.FindAddressBookHomeSet(ctx, principal)
	if err != nil || abHome != seed.Home {
		t.Fatalf("address book home %q %v", abHome, err)
	}
	books, err := card.FindAddressBooks(ctx, abHome)
	if err != nil {
		t.Fatal(err)
	}
	var bookPaths []string
	for _, b := range books {
		bookPaths = append(bookPaths, b.Path)
	}
	slices.Sort(bookPaths)
	if want := []string{seed.Contacts, seed.Office}; !slices.Equal(bookPaths, want) {
		t.Errorf("address books %v, want %v", bookPaths, want)
	}
	vcard, err := card.GetAddressObject(ctx, seed.In(seed.Contacts)[0].Path)
	if err != nil || vcard.Card.PreferredValue("FN") != "Carol Example" {
		t.Errorf("vCard: %v %v", vcard, err)
	}

	// Raw PROPFIND of the DAV home.
	req, err := http.NewRequest("PROPFIND", r.URL+"alice/", strings.NewReader(
		`<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/><displayname/></prop></propfind>`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Depth", "1")
	req.Header.Set("Content-Type", "application/xml")
	resp, err := r.HTTPClient("alice").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("PROPFIND home: %s", resp.Status)
	}
	for _, p := range append(seed.Calendars(), seed.AddressBooks()...) {
		if !bytes.Contains(body, []byte("<href>"+p+"</href>")) {
			t.Errorf("PROPFIND home lacks %s:\n%s", p, body)
		}
	}

	// Put and Get round trip; owner_only keeps bob out.
	obj := seed.In(seed.Tasks)[0]
	etag := r.Put(t, "alice", obj.Path, obj.ContentType, bytes.Replace(obj.Body, []byte("Buy milk"), []byte("Buy oat milk"), 1))
	if etag == "" || etag == obj.ETag {
		t.Errorf("ETag after update %q (before %q)", etag, obj.ETag)
	}
	if got, getTag := r.Get(t, "alice", obj.Path); !bytes.Contains(got, []byte("Buy oat milk")) || getTag != etag {
		t.Errorf("GET after PUT: etag %q, body:\n%s", getTag, got)
	}
	if resp, _, err := r.do("bob", http.MethodGet, obj.Path, nil, nil); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob reading alice's task: %v %v", resp.Status, err)
	}

	running, err := r.Processes()
	if err != nil || len(running) != 1 {
		t.Errorf("radicale processes while running: %v %v", running, err)
	}
	assertLoopbackOnly(t, running)
	start = time.Now()
	r.Stop()
	t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
	r.Stop()
	assertNoProcesses(t, r.Dir)
}

func TestRadicaleRestart(t *testing.T) {
	r := StartRadicale(t, RadicaleOptions{Users: []User{{Name: "erin", Password: "pw-erin"}}})
	seed := r.SeedDefault(t, "erin")
	url := r.URL
	start := time.Now()
	r.Restart(t)
	t.Logf("restart took %v", time.Since(start).Round(time.Millisecond))
	if r.URL != url {
		t.Errorf("URL after restart %s, want %s", r.URL, url)
	}
	for _, o := range seed.Objects {
		body, etag := r.Get(t, "erin", o.Path)
		if etag != o.ETag || !bytes.Equal(body, o.Body) && !bytes.Contains(body, []byte(o.UID)) {
			t.Errorf("%s after restart: etag %q want %q", o.Path, etag, o.ETag)
		}
	}
	r.Stop()
	assertNoProcesses(t, r.Dir)
}

// TestRadicaleRestartPortBusy is TestDovecotRestartPortBusy for Radicale.
func TestRadicaleRestartPortBusy(t *testing.T) {
	r := StartRadicale(t, RadicaleOptions{})
	r.Stop()
	l, err := net.Listen("tcp", r.Addr)
	if err != nil {
		t.Fatalf("hold port: %v", err)
	}
	release := time.AfterFunc(700*time.Millisecond, func() { l.Close() })
	defer release.Stop()
	start := time.Now()
	r.Restart(t)
	if took := time.Since(start); took < 700*time.Millisecond {
		t.Errorf("restart took %v while the port was held for 700ms", took)
	}
	if !strings.Contains(tailFile(r.LogPath, 200), "Address already in use") {
		t.Errorf("no bind failure logged; the retry path was not exercised")
	}
	r.SeedDefault(t, "alice")
}

// TestParallelRigs runs complete rigs side by side.
func TestParallelRigs(t *testing.T) {
	var (
		mu    sync.Mutex
		addrs []string
		dirs  []string
	)
	t.Run("group", func(t *testing.T) {
		for i := range 3 {
			t.Run(fmt.Sprint("rig", i), func(t *testing.T) {
				t.Parallel()
				d := StartDovecot(t, DovecotOptions{})
				r := StartRadicale(t, RadicaleOptions{})
				mu.Lock()
				addrs = append(addrs, d.IMAPAddr, d.SubmissionAddr, d.SieveAddr, d.Sink.Addr, r.Addr)
				dirs = append(dirs, filepath.Base(d.Dir), filepath.Base(r.Dir))
				mu.Unlock()
				c := d.Dial(t, "bob")
				if _, err := c.Select("INBOX", nil).Wait(); err != nil {
					t.Fatal(err)
				}
				uid := d.Append(t, "bob", "INBOX", testMessage(fmt.Sprint("parallel ", i)))
				if uid != 1 {
					t.Errorf("first UID in a fresh rig = %d", uid)
				}
				r.SeedDefault(t, "bob")
				d.Restart(t)
				r.Restart(t)
				if _, etag := r.Get(t, "bob", "/bob/contacts/bob-carol.vcf"); etag == "" {
					t.Error("no ETag")
				}
			})
		}
	})
	if !t.Failed() {
		slices.Sort(addrs)
		if len(slices.Compact(slices.Clone(addrs))) != len(addrs) {
			t.Errorf("rigs shared addresses: %v", addrs)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(dirs)))) != len(dirs) {
			t.Errorf("rigs shared directories: %v", dirs)
		}
	}
	for _, dir := range dirs {
		assertNoProcesses(t, dir)
	}
}
