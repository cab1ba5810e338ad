package imapsource

// Integration tests of source.Mail against a real Dovecot (CONDSTORE,
// QRESYNC, MOVE, UIDPLUS, SPECIAL-USE).

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"easbridge/server/eas"
	"easbridge/sync/source"
	"easbridge/sync/testenv"
)

// rfc822 joins lines with CRLF.
func rfc822(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n"))
}

func header(subject string, extra ...string) []string {
	h := []string{
		"From: Bob <bob@example.test>",
		"To: Alice <alice@example.test>",
		"Subject: " + subject,
		"Date: Mon, 02 Mar 2026 10:00:00 +0100",
		"Message-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.test>",
		"MIME-Version: 1.0",
	}
	return append(h, extra...)
}

// Shift_JIS for "こんにちは".
var sjisHello = string([]byte{0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd})

// pdfB64 is the transfer-encoded body of the PDF attachment, as stored.
var pdfB64 = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxl\r\ncjw8L1Jvb3QgMSAwIFI+PgolJUVPRgo="

type seedMsg struct {
	name string
	raw  []byte
}

func seedMessages() []seedMsg {
	big := strings.Repeat(strings.Repeat("x", 74)+"\r\n", 2<<20/76)
	return []seedMsg{
		{"alternative", rfc822(append(header("alternative", `Content-Type: multipart/alternative; boundary="b1"`),
			"",
			"--b1", "Content-Type: text/plain; charset=utf-8", "", "Hello plain",
			"--b1", "Content-Type: text/html; charset=utf-8", "", "<p>Hello html</p>",
			"--b1--", "")...)},
		{"mixed", rfc822(append(header("mixed", `Content-Type: multipart/mixed; boundary="b2"`),
			"",
			"--b2", `Content-Type: multipart/alternative; boundary="b3"`, "",
			"--b3", "Content-Type: text/plain; charset=us-ascii", "", "See attached.",
			"--b3", "Content-Type: text/html; charset=us-ascii", "", "<b>See attached.</b>",
			"--b3--",
			"--b2", "Content-Type: text/plain; charset=utf-8", `Content-Disposition: attachment; filename="notes.txt"`, "", "not the body",
			"--b2", `Content-Type: application/pdf; name="report.pdf"`, "Content-Transfer-Encoding: base64",
			`Content-Disposition: attachment; filename="report.pdf"`, "", pdfB64,
			"--b2", "Content-Type: message/rfc822", "",
			"From: c@example.test", "Subject: inner", "", "inner body",
			"--b2--", "")...)},
		{"related", rfc822(append(header("related", `Content-Type: multipart/related; boundary="b4"`),
			"",
			"--b4", "Content-Type: text/html; charset=utf-8", "", `<img src="cid:img1@example.test">`,
			"--b4", "Content-Type: image/png", "Content-Transfer-Encoding: base64", "Content-ID: <img1@example.test>",
			"Content-Location: http://example.test/img/", " logo.png", "Content-Disposition: inline", "", "iVBORw0KGgo=",
			"--b4--", "")...)},
		{"latin1", rfc822(append(header("latin1", "Content-Type: text/plain; charset=ISO-8859-1", "Content-Transfer-Encoding: quoted-printable"),
			"", "Gr=FC=DFe aus M=FCnchen")...)},
		{"sjis", rfc822(append(header("sjis", "Content-Type: text/plain; charset=Shift_JIS", "Content-Transfer-Encoding: 8bit"),
			"", sjisHello)...)},
		{"rfc2047", rfc822(append(header("=?UTF-8?B?w4RyZ2VyIG1pdCBkZXIgQmFobg==?=", "Content-Type: text/plain; charset=utf-8"),
			"", "Body")...)},
		{"empty", rfc822(append(header("empty", "Content-Type: text/plain"), "", "")...)},
		{"big", rfc822(append(header("big", "Content-Type: text/plain"), "", big)...)},
	}
}

// describe renders a part tree compactly: "[1.2] text/html att (…)".
func describe(p *source.Part) string {
	if p == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString("[" + sectionName(p.Path) + "] " + p.Type + "/" + p.Subtype)
	if len(p.Path) == 0 {
		b.Reset()
		b.WriteString("[] " + p.Type + "/" + p.Subtype)
	}
	if isAttachment(p) {
		b.WriteString(" att")
	}
	if len(p.Children) > 0 {
		b.WriteString(" (")
		for i, c := range p.Children {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(describe(c))
		}
		b.WriteString(")")
	}
	return b.String()
}

// bodies collects the fetched bodies by section name.
func bodies(p *source.Part, out map[string]string) map[string]string {
	if out == nil {
		out = make(map[string]string)
	}
	if p == nil {
		return out
	}
	if p.Body != nil {
		name := sectionName(p.Path)
		if p.BodyTruncated {
			name += "…"
		}
		out[name] = string(p.Body)
	}
	for _, c := range p.Children {
		bodies(c, out)
	}
	return out
}

func countingAccount(t testing.TB, d *testenv.Dovecot, cc *cmdCounter) *Account {
	cfg, err := ParseURL("imap://" + d.IMAPAddr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnCommand = cc.add
	a := NewAccount(cfg, "alice", "alicepw", testLogger(t))
	t.Cleanup(func() { a.Close() })
	return a
}

func TestDovecotFetch(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)
	var cc cmdCounter
	a := countingAccount(t, d, &cc)
	seeds := seedMessages()
	uids := make(map[string]uint32)
	var order []uint32
	for _, s := range seeds {
		uids[s.name] = uint32(d.Append(t, "alice", "INBOX", s.raw, imap.FlagSeen))
		order = append([]uint32{uids[s.name]}, order...) // newest first
	}
	cc.take()
	msgs, err := a.Fetch(ctx, "INBOX", append(order, 9999), source.FetchSpec{TextLimit: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	cmds := cc.take()
	t.Logf("Fetch of %d messages: %d commands %q", len(order), len(cmds), cmds)
	if len(msgs) != len(seeds) {
		t.Fatalf("%d messages, want %d", len(msgs), len(seeds))
	}
	for i, m := range msgs {
		if m.UID != order[i] {
			t.Errorf("message %d has UID %d, want %d (order of uids)", i, m.UID, order[i])
		}
	}
	byName := make(map[string]*source.Message)
	for name, uid := range uids {
		for _, m := range msgs {
			if m.UID == uid {
				byName[name] = m
			}
		}
	}
	for _, tc := range []struct {
		name      string
		structure string
		bodies    map[string]string
	}{
		{"alternative", "[] multipart/alternative ([1] text/plain [2] text/html)",
			map[string]string{"1": "Hello plain", "2": "<p>Hello html</p>"}},
		{"mixed", "[] multipart/mixed ([1] multipart/alternative ([1.1] text/plain [1.2] text/html) [2] text/plain att [3] application/pdf att [4] message/rfc822)",
			map[string]string{"1.1": "See attached.", "1.2": "<b>See attached.</b>"}},
		{"related", "[] multipart/related ([1] text/html [2] image/png)",
			map[string]string{"1": `<img src="cid:img1@example.test">`}},
		{"latin1", "[] text/plain", map[string]string{"TEXT": "Gr=FC=DFe aus M=FCnchen"}},
		{"sjis", "[] text/plain", map[string]string{"TEXT": sjisHello}},
		{"rfc2047", "[] text/plain", map[string]string{"TEXT": "Body"}},
		{"empty", "[] text/plain", map[string]string{"TEXT": ""}},
	} {
		m := byName[tc.name]
		if m == nil {
			t.Errorf("%s: not fetched", tc.name)
			continue
		}
		if got := describe(m.Root); got != tc.structure {
			t.Errorf("%s: structure\n got %s\nwant %s", tc.name, got, tc.structure)
		}
		if got := bodies(m.Root, nil); !mapsEqual(got, tc.bodies) {
			t.Errorf("%s: bodies %q, want %q", tc.name, got, tc.bodies)
		}
		if !slices.Equal(m.Flags, []string{`\Seen`}) || m.Size <= 0 || m.InternalDate.IsZero() || m.ModSeq == 0 {
			t.Errorf("%s: flags %v size %d date %v modseq %d", tc.name, m.Flags, m.Size, m.InternalDate, m.ModSeq)
		}
		if !bytes.HasPrefix(m.Header, []byte("From: Bob")) || !bytes.HasSuffix(m.Header, []byte("\r\n\r\n")) {
			t.Errorf("%s: header %q", tc.name, m.Header)
		}
	}
	rel := byName["related"].Root.Children[1]
	if rel.ID != "img1@example.test" || rel.Disposition != "inline" || rel.Encoding != "base64" || rel.Body != nil ||
		strings.ReplaceAll(rel.Location, " ", "") != "http://example.test/img/logo.png" {
		t.Errorf("inline image %+v", rel)
	}
	pdf := byName["mixed"].Root.Children[2]
	if pdf.DispParams["filename"] != "report.pdf" || pdf.Params["name"] != "report.pdf" || pdf.Size != int64(len(pdfB64)) {
		t.Errorf("pdf part %+v", pdf)
	}
	if p := byName["latin1"].Root; p.Params["charset"] != "iso-8859-1" && p.Params["charset"] != "ISO-8859-1" || p.Encoding != "quoted-printable" {
		t.Errorf("latin1 part %+v", p)
	}
	if !bytes.Contains(byName["rfc2047"].Header, []byte("Subject: =?UTF-8?B?w4RyZ2VyIG1pdCBkZXIgQmFobg==?=")) {
		t.Errorf("RFC 2047 header not raw: %q", byName["rfc2047"].Header)
	}
	if big := byName["big"]; len(big.Root.Body) != 64<<10 || !big.Root.BodyTruncated || big.Size < 2<<20-1000 || big.Raw != nil {
		t.Errorf("big: body %d truncated %v size %d raw %d", len(big.Root.Body), big.Root.BodyTruncated, big.Size, len(big.Raw))
	}

	// Raw, limited; no text.
	msgs, err = a.Fetch(ctx, "INBOX", []uint32{uids["big"], uids["alternative"]}, source.FetchSpec{RawLimit: 4096})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("raw fetch: %v, %d", err, len(msgs))
	}
	if m := msgs[0]; len(m.Raw) != 4096 || !m.RawTruncated || m.Root.Body != nil {
		t.Errorf("big raw %d truncated %v", len(m.Raw), m.RawTruncated)
	}
	if m := msgs[1]; !bytes.Equal(m.Raw, seeds[0].raw) || m.RawTruncated {
		t.Errorf("alternative raw %q truncated %v", m.Raw, m.RawTruncated)
	}

	// Streaming.
	read := func(rc io.ReadCloser, size int64, err error) (string, int64) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
		return string(b), size
	}
	if got, size := read(a.OpenPart(ctx, "INBOX", uids["mixed"], []int{3})); got != pdfB64 || size != int64(len(pdfB64)) {
		t.Errorf("OpenPart pdf = %q (%d)", got, size)
	}
	if got, _ := read(a.OpenPart(ctx, "INBOX", uids["latin1"], nil)); got != "Gr=FC=DFe aus M=FCnchen" {
		t.Errorf("OpenPart single-part root = %q", got)
	}
	if got, _ := read(a.OpenPart(ctx, "INBOX", uids["mixed"], []int{1, 2})); got != "<b>See attached.</b>" {
		t.Errorf("OpenPart 1.2 = %q", got)
	}
	if got, size := read(a.OpenMessage(ctx, "INBOX", uids["sjis"])); got != string(seeds[4].raw) || size != int64(len(seeds[4].raw)) {
		t.Errorf("OpenMessage = %q (%d)", got, size)
	}
	if _, _, err := a.OpenPart(ctx, "INBOX", 9999, []int{1}); !errors.Is(err, eas.ErrNotFound) {
		t.Errorf("OpenPart missing UID: %v", err)
	}
	if _, _, err := a.OpenMessage(ctx, "Nope", 1); !errors.Is(err, eas.ErrNotFound) {
		t.Errorf("OpenMessage missing mailbox: %v", err)
	}
	// Closing a big body early drops its connection; the pool carries on.
	rc, size, err := a.OpenMessage(ctx, "INBOX", uids["big"])
	if err != nil || size < 2<<20 {
		t.Fatalf("OpenMessage big: %v, %d", err, size)
	}
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	// …a small remainder is drained and the connection kept.
	rc, _, err = a.OpenPart(ctx, "INBOX", uids["alternative"], []int{2})
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if n := a.numConns(); n != 1 {
		t.Errorf("%d connections after streams, want 1 (the drained one)", n)
	}
	if got, _ := read(a.OpenPart(ctx, "INBOX", uids["alternative"], []int{1})); got != "Hello plain" {
		t.Errorf("after early close: %q", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestDovecotChanges(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)
	var cc cmdCounter
	a := countingAccount(t, d, &cc)
	other := d.Dial(t, "alice") // "another client"
	now := time.Now()
	old := now.AddDate(0, -3, 0)
	mk := func(subject string) []byte {
		return rfc822(append(header(subject, "Content-Type: text/plain"), "", subject)...)
	}
	appendAt := func(subject string, date time.Time, flags ...string) uint32 {
		t.Helper()
		raw := mk(subject)
		uid, err := a.Append(ctx, "INBOX", flags, date, bytes.NewReader(raw), int64(len(raw)))
		if err != nil || uid == 0 {
			t.Fatalf("append %s: %d, %v", subject, uid, err)
		}
		return uid
	}
	oldUID := appendAt("old", old, `\Seen`)
	u1 := appendAt("one", now.Add(-time.Hour))
	u2 := appendAt("two", now.Add(-time.Minute), `\Flagged`)

	st, err := a.Status(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if st.UIDValidity == 0 || st.UIDNext != u2+1 || st.Messages != 3 || st.HighestModSeq == 0 {
		t.Fatalf("status %+v", st)
	}
	lst, all, err := a.List(ctx, "INBOX", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if lst != st || len(all) != 3 || all[0].UID != oldUID || !slices.Equal(all[0].Flags, []string{`\Seen`}) ||
		!all[0].InternalDate.Equal(old.Truncate(time.Second)) || all[2].ModSeq == 0 || all[1].Size != int64(len(mk("one"))) {
		t.Errorf("List all: %+v %+v", lst, all)
	}
	since := now.AddDate(0, 0, -7)
	_, recent, err := a.List(ctx, "INBOX", since)
	if err != nil || len(recent) != 2 || recent[0].UID != u1 || recent[1].UID != u2 || !slices.Equal(recent[1].Flags, []string{`\Flagged`}) {
		t.Errorf("List since: %+v, %v", recent, err)
	}

	modSeq := st.HighestModSeq
	step := func(what string, wantChanged []uint32, wantVanished []uint32) source.MailChanges {
		t.Helper()
		cc.take()
		ch, err := a.ChangesSince(ctx, "INBOX", st.UIDValidity, modSeq, since)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var got []uint32
		for _, m := range ch.Changed {
			got = append(got, m.UID)
		}
		if !slices.Equal(got, wantChanged) || !slices.Equal(ch.Vanished, wantVanished) {
			t.Errorf("%s: changed %v vanished %v, want %v, %v", what, got, ch.Vanished, wantChanged, wantVanished)
		}
		if ch.Status.UIDValidity != st.UIDValidity || ch.Status.HighestModSeq < modSeq {
			t.Errorf("%s: status %+v", what, ch.Status)
		}
		cmds := cc.take()
		t.Logf("%s: %d commands %q", what, len(cmds), cmds)
		modSeq = ch.Status.HighestModSeq
		return ch
	}
	count := func(what string, max int) {
		t.Helper()
		cc.take()
		ch, err := a.ChangesSince(ctx, "INBOX", st.UIDValidity, modSeq, since)
		cmds := cc.take()
		t.Logf("no-change ChangesSince (%s): %d commands %q", what, len(cmds), cmds)
		if err != nil || len(ch.Changed) != 0 || len(ch.Vanished) != 0 || ch.Status.HighestModSeq != modSeq {
			t.Errorf("%s: %+v, %v", what, ch, err)
		}
		if len(cmds) > max {
			t.Errorf("%s: %d commands, want <= %d", what, len(cmds), max)
		}
	}
	count("first on the connection", 2)
	count("steady state", 1)

	// (a) a new message.
	u3 := uint32(d.Append(t, "alice", "INBOX", mk("three")))
	ch := step("append", []uint32{u3}, nil)
	if m := ch.Changed[0]; len(m.Flags) != 0 || m.Size != int64(len(mk("three"))) || m.InternalDate.IsZero() || m.ModSeq == 0 {
		t.Errorf("appended: %+v", m)
	}
	// (b) a flag change and (c) keywords, by another client.
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	store := func(uid uint32, op imap.StoreFlagsOp, flags ...imap.Flag) {
		t.Helper()
		if err := other.Store(imap.UIDSetNum(imap.UID(uid)), &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
			t.Fatal(err)
		}
	}
	store(u1, imap.StoreFlagsAdd, imap.FlagSeen)
	ch = step("flag change", []uint32{u1}, nil)
	if !slices.Equal(ch.Changed[0].Flags, []string{`\Seen`}) {
		t.Errorf("flags %v", ch.Changed[0].Flags)
	}
	store(u2, imap.StoreFlagsAdd, "$Forwarded", "Work")
	ch = step("keywords", []uint32{u2}, nil)
	if f := ch.Changed[0].Flags; !slices.Contains(f, "$Forwarded") || !slices.Contains(f, "Work") || !slices.Contains(f, `\Flagged`) {
		t.Errorf("flags %v", f)
	}
	// Outside the date filter: reported by nobody.
	store(oldUID, imap.StoreFlagsDel, imap.FlagSeen)
	step("old message", nil, nil)
	// (d) expunges by another client, the highest UID among them.
	store(u1, imap.StoreFlagsAdd, imap.FlagDeleted)
	store(u3, imap.StoreFlagsAdd, imap.FlagDeleted)
	if err := other.UIDExpunge(imap.UIDSetNum(imap.UID(u1), imap.UID(u3))).Close(); err != nil {
		t.Fatal(err)
	}
	step("expunge", nil, []uint32{u1, u3})
	// (e) nothing.
	count("after changes", 1)

	// Several changes at once; a message changed then expunged is only vanished.
	u4 := uint32(d.Append(t, "alice", "INBOX", mk("four")))
	u5 := uint32(d.Append(t, "alice", "INBOX", mk("five")))
	if err := other.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	store(u5, imap.StoreFlagsAdd, imap.FlagDeleted)
	store(u2, imap.StoreFlagsDel, "Work")
	if err := other.UIDExpunge(imap.UIDSetNum(imap.UID(u5))).Close(); err != nil {
		t.Fatal(err)
	}
	step("mixed", []uint32{u2, u4}, []uint32{u5})

	// Known UIDs limit Vanished.
	ch2, err := a.ChangesSinceKnown(ctx, "INBOX", st.UIDValidity, st.HighestModSeq, since, []uint32{u1, u2})
	if err != nil || !slices.Equal(ch2.Vanished, []uint32{u1}) {
		t.Errorf("ChangesSinceKnown: %+v, %v", ch2, err)
	}

	// Our own changes show up too, and Fetch sees new messages at once.
	if err := a.SetFlags(ctx, "INBOX", u4, []string{`\Answered`}, nil); err != nil {
		t.Fatal(err)
	}
	ch = step("own flag change", []uint32{u4}, nil)
	u6 := uint32(d.Append(t, "alice", "INBOX", mk("six")))
	msgs, err := a.Fetch(ctx, "INBOX", []uint32{u6}, source.FetchSpec{TextLimit: 100})
	if err != nil || len(msgs) != 1 || string(msgs[0].Root.Body) != "six" {
		t.Errorf("Fetch of a message the selected session has not seen: %+v, %v", msgs, err)
	}

	// UIDVALIDITY changes when the mailbox is recreated.
	d.CreateMailbox(t, "alice", "Box")
	d.Append(t, "alice", "Box", mk("in box"))
	bst, err := a.Status(ctx, "Box")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ChangesSince(ctx, "Box", bst.UIDValidity, bst.HighestModSeq, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete("Box").Wait(); err != nil {
		t.Fatal(err)
	}
	d.CreateMailbox(t, "alice", "Box")
	d.Append(t, "alice", "Box", mk("in new box"))
	if _, err := a.ChangesSince(ctx, "Box", bst.UIDValidity, bst.HighestModSeq, time.Time{}); !errors.Is(err, source.ErrUIDValidity) || errors.Is(err, eas.ErrBackendUnavailable) {
		t.Errorf("recreated mailbox: %v", err)
	}
	if _, err := a.ChangesSince(ctx, "Gone", 1, 1, time.Time{}); !errors.Is(err, eas.ErrNotFound) {
		t.Errorf("missing mailbox: %v", err)
	}
	// The pool survived all of it.
	if _, err := a.ChangesSince(ctx, "INBOX", st.UIDValidity, modSeq, since); err != nil {
		t.Errorf("after errors: %v", err)
	}
}

// A server with CONDSTORE but without QRESYNC: ChangesSince cannot report
// expunges, ChangesSinceKnown can.
func TestDovecotCondstoreOnly(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{ExtraConfig: `
protocol imap {
  imap_capability = IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE CONDSTORE SPECIAL-USE LIST-EXTENDED
}
`})
	ctx := ctxT(t)
	var cc cmdCounter
	a := countingAccount(t, d, &cc)
	caps, err := a.Capabilities(ctx)
	if err != nil || caps.Has(imap.CapQResync) || !caps.Has(imap.CapCondStore) {
		t.Fatalf("caps %v, %v", caps, err)
	}
	mk := func(s string) []byte { return rfc822(append(header(s, "Content-Type: text/plain"), "", s)...) }
	u1 := uint32(d.Append(t, "alice", "INBOX", mk("one")))
	u2 := uint32(d.Append(t, "alice", "INBOX", mk("two")))
	st, err := a.Status(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ChangesSince(ctx, "INBOX", st.UIDValidity, st.HighestModSeq, time.Time{}); !errors.Is(err, source.ErrNoCondstore) {
		t.Errorf("ChangesSince without QRESYNC: %v", err)
	}
	cc.take()
	ch, err := a.ChangesSinceKnown(ctx, "INBOX", st.UIDValidity, st.HighestModSeq, time.Time{}, []uint32{u1, u2})
	cmds := cc.take()
	t.Logf("no-change ChangesSinceKnown without QRESYNC: %d commands %q", len(cmds), cmds)
	if err != nil || len(ch.Changed) != 0 || len(ch.Vanished) != 0 {
		t.Errorf("no change: %+v, %v", ch, err)
	}
	other := d.Dial(t, "alice")
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.UIDSetNum(imap.UID(u1)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	u3 := uint32(d.Append(t, "alice", "INBOX", mk("three")))
	if err := other.Store(imap.UIDSetNum(imap.UID(u2)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{"Work"}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	ch, err = a.ChangesSinceKnown(ctx, "INBOX", st.UIDValidity, st.HighestModSeq, time.Time{}, []uint32{u1, u2})
	var changed []uint32
	for _, m := range ch.Changed {
		changed = append(changed, m.UID)
	}
	if err != nil || !slices.Equal(changed, []uint32{u2, u3}) || !slices.Equal(ch.Vanished, []uint32{u1}) {
		t.Errorf("changes: changed %v vanished %v, %v", changed, ch.Vanished, err)
	}
}

func TestDovecotWrites(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)
	var cc cmdCounter
	a := countingAccount(t, d, &cc)
	box := "Ärger & Co – 2026"
	d.CreateMailbox(t, "alice", box)
	mk := func(s, body string) []byte {
		return rfc822(append(header(s, "Content-Type: text/plain; charset=utf-8"), "", body)...)
	}
	date := time.Date(2026, 1, 15, 8, 30, 0, 0, time.FixedZone("CET", 3600))
	raw := mk("hello", "Grüße vom Zugspitzgipfel")
	u1, err := a.Append(ctx, box, []string{`\Seen`, "$Forwarded", `\Recent`}, date, bytes.NewReader(raw), int64(len(raw)))
	if err != nil || u1 == 0 {
		t.Fatalf("Append: %d, %v", u1, err)
	}
	raw2 := mk("other", "nothing special")
	u2, err := a.Append(ctx, box, nil, time.Time{}, bytes.NewReader(raw2), -1)
	if err != nil || u2 != u1+1 {
		t.Fatalf("Append unsized: %d, %v", u2, err)
	}
	if _, err := a.Append(ctx, box, nil, time.Time{}, bytes.NewReader(raw2), int64(len(raw2))+5); err == nil {
		t.Error("Append with a wrong size: no error")
	}
	_, list, err := a.List(ctx, box, time.Time{})
	if err == nil && len(list) > 0 {
		slices.Sort(list[0].Flags)
	}
	if err != nil || len(list) != 2 || !list[0].InternalDate.Equal(date) || !slices.Equal(list[0].Flags, []string{"$Forwarded", `\Seen`}) {
		t.Fatalf("after Append: %+v, %v", list, err)
	}

	// SetFlags.
	if err := a.SetFlags(ctx, box, u1, []string{`\Flagged`, "Work"}, []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	flagsOf := func(mailbox string, uid uint32) []string {
		t.Helper()
		msgs, err := a.Fetch(ctx, mailbox, []uint32{uid}, source.FetchSpec{})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("Fetch %s/%d: %v (%d)", mailbox, uid, err, len(msgs))
		}
		f := msgs[0].Flags
		slices.Sort(f)
		return f
	}
	if got := flagsOf(box, u1); !slices.Equal(got, []string{"$Forwarded", "Work", `\Flagged`}) {
		t.Errorf("flags after SetFlags: %v", got)
	}

	// Search.
	for _, tc := range []struct {
		c    source.SearchCriteria
		want []uint32
	}{
		{source.SearchCriteria{Text: "Zugspitzgipfel"}, []uint32{u1}},
		{source.SearchCriteria{Text: "grüße"}, []uint32{u1}},
		{source.SearchCriteria{Text: "nothing"}, []uint32{u2}},
		{source.SearchCriteria{Text: "hello"}, []uint32{u1}}, // subject
		{source.SearchCriteria{}, []uint32{u1, u2}},
		{source.SearchCriteria{Since: date.Add(time.Minute)}, []uint32{u2}},
		{source.SearchCriteria{Since: date}, []uint32{u1, u2}},
		{source.SearchCriteria{Until: date.Add(time.Second)}, []uint32{u1}},
		{source.SearchCriteria{Until: date}, nil},
		{source.SearchCriteria{Text: "nowhere"}, nil},
	} {
		got, err := a.Search(ctx, box, tc.c)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Search %+v = %v, %v; want %v", tc.c, got, err, tc.want)
		}
	}

	// Move, with the UID in the destination.
	n, err := a.Move(ctx, box, u1, "Archive")
	if err != nil || n == 0 {
		t.Fatalf("Move: %d, %v", n, err)
	}
	if got := flagsOf("Archive", n); !slices.Contains(got, "Work") {
		t.Errorf("moved message flags %v", got)
	}
	if _, err := a.Move(ctx, box, u1, "Archive"); !errors.Is(err, eas.ErrNotFound) {
		t.Errorf("Move of a moved message: %v", err)
	}
	if _, err := a.Move(ctx, box, u2, "Nowhere"); err == nil {
		t.Error("Move to a missing mailbox: no error")
	}

	// Delete removes exactly one message, not others marked \Deleted.
	u3, err := a.Append(ctx, box, []string{`\Deleted`}, time.Time{}, bytes.NewReader(raw2), int64(len(raw2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, box, u2); err != nil {
		t.Fatal(err)
	}
	_, list, err = a.List(ctx, box, time.Time{})
	if err != nil || len(list) != 1 || list[0].UID != u3 {
		t.Errorf("after Delete: %+v, %v", list, err)
	}

	// SpecialUse, as Folders types them.
	for use, want := range map[string]string{`\Sent`: "Sent", `\Trash`: "Trash", `\Drafts`: "Drafts", `\Junk`: "Junk", "Archive": "Archive", `\Flagged`: ""} {
		if got, err := a.SpecialUse(ctx, use); err != nil || got != want {
			t.Errorf("SpecialUse(%s) = %q, %v; want %q", use, got, err, want)
		}
	}
	if _, err := a.Status(ctx, "Missing"); !errors.Is(err, eas.ErrNotFound) {
		t.Errorf("Status of a missing mailbox: %v", err)
	}
}

// makeBig returns a message with a base64 attachment of at least n
// octets and the attachment's transfer-encoded body as stored (76-column
// lines). A random block of 57·1000 octets (exactly 1000 lines of base64)
// is repeated: generating 50 MB byte by byte is slow under -race.
func makeBig(n int) (msg []byte, part []byte) {
	block := make([]byte, 57*1000)
	rand.NewChaCha8([32]byte{1}).Read(block)
	enc := base64.StdEncoding.EncodeToString(block)
	var lines bytes.Buffer
	for i := 0; i < len(enc); i += 76 {
		lines.WriteString(enc[i : i+76])
		lines.WriteString("\r\n")
	}
	blocks := (n + len(block) - 1) / len(block)
	var m bytes.Buffer
	m.Grow(blocks*lines.Len() + 1024)
	m.Write(rfc822(append(header("big attachment", `Content-Type: multipart/mixed; boundary="bb"`), "",
		"--bb", "Content-Type: text/plain", "", "see attachment",
		"--bb", "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64",
		`Content-Disposition: attachment; filename="big.bin"`, "", "")...))
	start := m.Len()
	for range blocks {
		m.Write(lines.Bytes())
	}
	m.Truncate(m.Len() - 2) // the CRLF before the boundary is not the part's
	end := m.Len()
	m.WriteString("\r\n--bb--\r\n")
	return m.Bytes(), m.Bytes()[start:end]
}

// heapWatch samples HeapInuse while a copy runs.
type heapWatch struct {
	stop chan struct{}
	done chan uint64
}

func watchHeap() *heapWatch {
	h := &heapWatch{stop: make(chan struct{}), done: make(chan uint64)}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	go func() {
		var peak uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base {
				peak = max(peak, ms.HeapInuse-base)
			}
			select {
			case <-h.stop:
				h.done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

func (h *heapWatch) end() uint64 {
	close(h.stop)
	return <-h.done
}

// streamPart copies one part to w, returning the octets, the bytes
// allocated meanwhile and the peak heap growth.
func streamPart(tb testing.TB, a *Account, uid uint32, path []int, w io.Writer) (n int64, alloc, peak uint64) {
	tb.Helper()
	ctx := ctxT(tb)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	hw := watchHeap()
	rc, size, err := a.OpenPart(ctx, "INBOX", uid, path)
	if err != nil {
		tb.Fatal(err)
	}
	n, err = io.Copy(w, rc)
	if err != nil {
		tb.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		tb.Fatal(err)
	}
	peak = hw.end()
	runtime.ReadMemStats(&after)
	if n != size {
		tb.Errorf("streamed %d octets, size said %d", n, size)
	}
	return n, after.TotalAlloc - before.TotalAlloc, peak
}

func TestDovecotOpenPart50MB(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	msg, part := makeBig(50 << 20)
	uid := uint32(d.Append(t, "alice", "INBOX", msg))
	want := sha256.Sum256(part)
	a := newTestAccount(t, mustParse(t, "imap://"+d.IMAPAddr), "alice", "alicepw")
	runtime.GC()
	h := sha256.New()
	start := time.Now()
	n, alloc, peak := streamPart(t, a, uid, []int{2}, h)
	took := time.Since(start)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	t.Logf("streamed %d octets in %v (%.0f MB/s): allocated %.2f MB, peak heap growth %.2f MB",
		n, took, float64(n)/took.Seconds()/1e6, float64(alloc)/1e6, float64(peak)/1e6)
	if sum != want {
		t.Error("streamed part differs from the stored one")
	}
	if alloc > 10<<20 || peak > 10<<20 {
		t.Errorf("streaming 50 MB allocated %d octets, heap grew %d; want <= 10 MB", alloc, peak)
	}
}

func BenchmarkOpenPart50MB(b *testing.B) {
	d := testenv.StartDovecot(b, testenv.DovecotOptions{})
	msg, part := makeBig(50 << 20)
	uid := uint32(d.Append(b, "alice", "INBOX", msg))
	size := int64(len(part))
	a := newTestAccount(b, mustParse(b, "imap://"+d.IMAPAddr), "alice", "alicepw")
	b.SetBytes(size)
	var maxAlloc, maxPeak uint64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		_, alloc, peak := streamPart(b, a, uid, []int{2}, io.Discard)
		maxAlloc, maxPeak = max(maxAlloc, alloc), max(maxPeak, peak)
	}
	b.ReportMetric(float64(maxPeak)/1e6, "max-heap-growth-MB")
	b.ReportMetric(float64(maxAlloc)/1e6, "max-alloc-MB")
}

// List and ChangesSince on a 10,000-message mailbox: one FETCH for all
// (or a few pipelined ones for a sparse UID set), streamed.
func TestDovecotList10k(t *testing.T) {
	const n = 10000
	// No fsync per message: seeding is the slow part of this test.
	d := testenv.StartDovecot(t, testenv.DovecotOptions{ExtraConfig: "mail_fsync = never\n"})
	now := time.Now().Truncate(time.Second)
	old := now.AddDate(0, -6, 0)
	// Every other message is old, so that the recent ones form a sparse
	// UID set.
	start := time.Now()
	appendMany(t, d.IMAPAddr, n, func(i int) ([]byte, time.Time) {
		raw := rfc822(append(header(fmt.Sprintf("m%d", i), "Content-Type: text/plain"), "", "x")...)
		if i%2 == 1 {
			return raw, old
		}
		return raw, now.Add(-time.Duration(i) * time.Second)
	})
	t.Logf("appended %d messages in %v", n, time.Since(start))

	ctx := ctxT(t)
	var cc cmdCounter
	a := countingAccount(t, d, &cc)
	if err := a.Login(ctx); err != nil {
		t.Fatal(err)
	}
	cc.take()
	start = time.Now()
	st, all, err := a.List(ctx, "INBOX", time.Time{})
	took := time.Since(start)
	names := cc.take()
	if err != nil || len(all) != n || st.Messages != n || all[n-1].UID != uint32(n) || all[0].ModSeq == 0 {
		t.Fatalf("List: %d messages, status %+v, %v", len(all), st, err)
	}
	t.Logf("List of %d: %v, commands %q", n, took, names)
	if len(names) != 2 {
		t.Errorf("List: %d commands, want 2 (EXAMINE, UID FETCH)", len(names))
	}

	start = time.Now()
	_, recent, err := a.List(ctx, "INBOX", now.AddDate(0, 0, -1))
	took = time.Since(start)
	names = cc.take()
	if err != nil || len(recent) != n/2 || recent[0].UID != 1 || recent[1].UID != 3 {
		t.Fatalf("List since: %d messages, %v", len(recent), err)
	}
	t.Logf("List since of %d/%d: %v, commands %q", len(recent), n, took, names)

	other := d.Dial(t, "alice")
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.UIDSetNum(5000), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	ch, err := a.ChangesSince(ctx, "INBOX", st.UIDValidity, st.HighestModSeq, time.Time{})
	took = time.Since(start)
	names = cc.take()
	if err != nil || len(ch.Changed) != 1 || ch.Changed[0].UID != 5000 || len(ch.Vanished) != 0 {
		t.Fatalf("ChangesSince: %+v, %v", ch, err)
	}
	t.Logf("ChangesSince with one change among %d: %v, commands %q", n, took, names)
}

// appendMany stores n messages in alice's INBOX with MULTIAPPEND (RFC 3502)
// of batch messages each, pipelined, with LITERAL+ (RFC 7888), on a plain
// connection: one APPEND per message through imapclient (which waits for a
// continuation each time) takes minutes for 10,000.
func appendMany(t *testing.T, addr string, n int, msg func(i int) ([]byte, time.Time)) {
	t.Helper()
	const batch = 500
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	br := bufio.NewReader(conn)
	bw := bufio.NewWriterSize(conn, 64<<10)
	// Log in first: the login process would not buffer megabytes.
	fmt.Fprintf(conn, "A0 LOGIN alice alicepw\r\n")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "A0 ") {
			if !strings.HasPrefix(line, "A0 OK") {
				t.Fatalf("login: %q", line)
			}
			break
		}
	}
	done := make(chan error, 1)
	go func() {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				done <- err
				return
			}
			if tag, rest, _ := strings.Cut(line, " "); tag != "*" && !strings.HasPrefix(rest, "OK") {
				done <- fmt.Errorf("append: %q", line)
				return
			}
			if strings.HasPrefix(line, fmt.Sprintf("A%d ", (n+batch-1)/batch)) {
				done <- nil
				return
			}
		}
	}()
	tags := 0
	for i := range n {
		raw, date := msg(i)
		if i%batch == 0 {
			tags++
			fmt.Fprintf(bw, "A%d APPEND INBOX", tags)
		}
		fmt.Fprintf(bw, " %q {%d+}\r\n", date.Format("_2-Jan-2006 15:04:05 -0700"), len(raw))
		bw.Write(raw)
		if i%batch == batch-1 || i == n-1 {
			bw.WriteString("\r\n")
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Many callers at once share the pool: each connection enables QRESYNC
// and tracks its selection on its own.
func TestDovecotMailConcurrent(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	for _, box := range []string{"A", "B"} {
		d.CreateMailbox(t, "alice", box)
	}
	var uids []uint32
	for i := range 6 {
		raw := seedMessages()[i%3].raw
		for _, box := range []string{"INBOX", "A", "B"} {
			u := uint32(d.Append(t, "alice", box, raw))
			if box == "INBOX" {
				uids = append(uids, u)
			}
		}
	}
	ctx := ctxT(t)
	a := newTestAccount(t, mustParse(t, "imap://"+d.IMAPAddr), "alice", "alicepw")
	st := map[string]source.MailboxStatus{}
	for _, box := range []string{"INBOX", "A", "B"} {
		s, err := a.Status(ctx, box)
		if err != nil {
			t.Fatal(err)
		}
		st[box] = s
	}
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Go(func() {
			for i := range 5 {
				box := []string{"INBOX", "A", "B"}[(g+i)%3]
				ch, err := a.ChangesSince(ctx, box, st[box].UIDValidity, st[box].HighestModSeq-1, time.Time{})
				if err != nil {
					errs <- fmt.Errorf("ChangesSince %s: %w", box, err)
					return
				}
				if len(ch.Changed) == 0 {
					errs <- fmt.Errorf("ChangesSince %s: nothing changed", box)
				}
				msgs, err := a.Fetch(ctx, box, uids, source.FetchSpec{TextLimit: 1000})
				if err != nil || len(msgs) != len(uids) {
					errs <- fmt.Errorf("Fetch %s: %d, %w", box, len(msgs), err)
					return
				}
				rc, _, err := a.OpenPart(ctx, box, uids[1], []int{3})
				if err != nil {
					errs <- fmt.Errorf("OpenPart %s: %w", box, err)
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || string(b) != pdfB64 {
					errs <- fmt.Errorf("OpenPart %s: %q, %w", box, b, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := a.numConns(); n > DefaultMaxConns {
		t.Errorf("%d connections", n)
	}
}
