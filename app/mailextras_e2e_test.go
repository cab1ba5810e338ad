package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// relatedMessage is an HTML message with an inline image named by
// Content-ID and Content-Location (RFC 2392, RFC 2557).
const relatedMessage = "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: Newsletter\r\n" +
	"Date: Mon, 30 Nov 2026 15:00:00 +0000\r\nMessage-ID: <news@example.test>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/related; boundary=RR\r\n\r\n" +
	"--RR\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi <img src=\"cid:logo@example.test\"></p>\r\n" +
	"--RR\r\nContent-Type: image/png; name=logo.png\r\nContent-ID: <logo@example.test>\r\n" +
	"Content-Location: http://example.test/img/logo.png\r\nContent-Disposition: inline; filename=logo.png\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--RR--\r\n"

// TestMailExtrasAgainstDovecot: through the EAS endpoint against Dovecot,
// an inline image carries ContentId, ContentLocation and IsInline
// (MS-ASAIRS 2.2.2.7); MIMETruncation 0 gives a MIME body without data
// (MS-ASCMD 2.2.3.111); and a 16.1 SmartForward's Forwardees get the
// message and become its To (MS-ASCMD 2.2.3.79).
func TestMailExtrasAgainstDovecot(t *testing.T) {
	w := newWorld(t)
	w.dovecot.Append(t, "alice", "INBOX", []byte(relatedMessage))
	ctx := context.Background()
	c := w.client("16.1", "extras1")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	inbox, _, _ := inboxID(t, c)
	a := syncOnce(t, c, inbox, "0", 100)
	a = syncOnce(t, c, inbox, a.key, 100)
	var id string
	var data *wbxml.Element
	for sid, d := range a.adds {
		if subjectOf(d) == "Newsletter" {
			id, data = sid, d
		}
	}
	if data == nil {
		t.Fatalf("Newsletter not synced: %s", wbxml.XMLString(a.root))
	}

	// The inline image.
	ab := wbxml.NSAirSyncBase
	att := data.Child(ab, "Attachments").Child(ab, "Attachment")
	got := att.ChildText(ab, "DisplayName") + "|" + att.ChildText(ab, "ContentId") + "|" +
		att.ChildText(ab, "ContentLocation") + "|" + att.ChildText(ab, "IsInline")
	if want := "logo.png|logo@example.test|http://example.test/img/logo.png|1"; got != want {
		t.Errorf("inline attachment %q, want %q: %s", got, want, wbxml.XMLString(data))
	}

	// MIMETruncation 0 through ItemOperations Fetch: Type 4, Truncated, the
	// message size, no Data.
	io := wbxml.NSItemOperations
	as := wbxml.NSAirSync
	r, err := c.Do(ctx, "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
		wbxml.Text(io, "Store", "Mailbox"), wbxml.Text(as, "CollectionId", inbox), wbxml.Text(as, "ServerId", id),
		wbxml.New(io, "Options", wbxml.Int(as, "MIMESupport", 2), wbxml.Int(as, "MIMETruncation", 0),
			wbxml.New(ab, "BodyPreference", wbxml.Int(ab, "Type", 4))))))
	if err != nil {
		t.Fatal(err)
	}
	body := r.Root.Child(io, "Response").Child(io, "Fetch").Child(io, "Properties").Child(ab, "Body")
	est, _ := body.ChildInt(ab, "EstimatedDataSize")
	if body.ChildText(ab, "Type") != "4" || body.ChildText(ab, "Truncated") != "1" || body.Has(ab, "Data") ||
		est < len(relatedMessage)-4 || est > len(relatedMessage)+4 {
		t.Errorf("MIMETruncation 0: %s (message %d octets)", wbxml.XMLString(r.Root), len(relatedMessage))
	}
	// Code 1 (4096 octets) is more than this message: all of it.
	r, _ = c.Do(ctx, "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
		wbxml.Text(io, "Store", "Mailbox"), wbxml.Text(as, "CollectionId", inbox), wbxml.Text(as, "ServerId", id),
		wbxml.New(io, "Options", wbxml.Int(as, "MIMESupport", 2), wbxml.Int(as, "MIMETruncation", 1),
			wbxml.New(ab, "BodyPreference", wbxml.Int(ab, "Type", 4))))))
	body = r.Root.Child(io, "Response").Child(io, "Fetch").Child(io, "Properties").Child(ab, "Body")
	if d := body.ChildText(ab, "Data") + string(body.Child(ab, "Data").Opaque); !strings.Contains(d, "Content-Location: http://example.test/img/logo.png") || body.Has(ab, "Truncated") {
		t.Errorf("MIMETruncation 1: %s", wbxml.XMLString(r.Root))
	}

	// SmartForward with Forwardees and no To in the MIME.
	cm := wbxml.NSComposeMail
	fwd := func(name, email string) *wbxml.Element {
		return wbxml.New(cm, "Forwardee", wbxml.Text(cm, "ForwardeeName", name), wbxml.Text(cm, "ForwardeeEmail", email))
	}
	mime := []byte("From: alice@example.test\r\nSubject: Fwd: Newsletter\r\n\r\nHave a look.\r\n")
	req := easclient.Compose("SmartForward", "fwd-1", mime, false, false, wbxml.Text(cm, "FolderId", inbox), wbxml.Text(cm, "ItemId", id))
	req.Add(wbxml.New(cm, "Forwardees", fwd("Carol", "carol@example.test"), fwd("Dave", "dave@example.test")))
	r, err = c.Do(ctx, "SmartForward", req)
	if err != nil || r.HTTPStatus != 200 || r.Root != nil {
		t.Fatalf("SmartForward: %v HTTP %d %s", err, r.HTTPStatus, wbxml.XMLString(r.Root))
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgs, err := w.dovecot.Sink.Wait(wctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	rcpts := slices.Sorted(slices.Values(m.To))
	if !slices.Equal(rcpts, []string{"carol@example.test", "dave@example.test"}) {
		t.Errorf("RCPT TO %q", m.To)
	}
	sent := string(m.Data)
	if !strings.Contains(sent, `To: "Carol" <carol@example.test>, "Dave" <dave@example.test>`) ||
		!strings.Contains(sent, "Have a look.") || !strings.Contains(sent, "logo@example.test") {
		t.Errorf("forwarded message:\n%s", sent)
	}
	if !hasFlag(t, w.dovecot, "INBOX", "Newsletter", "$Forwarded") {
		t.Error("original not marked $Forwarded")
	}
	// A forwardee that is no address: 116, nothing sent.
	req = easclient.Compose("SmartForward", "fwd-2", mime, false, false, wbxml.Text(cm, "FolderId", inbox), wbxml.Text(cm, "ItemId", id))
	req.Add(wbxml.New(cm, "Forwardees", fwd("Broken", "not an address")))
	r, err = c.Do(ctx, "SmartForward", req)
	if err != nil || r.Status() != 116 {
		t.Errorf("bad forwardee: %v status %d %s", err, r.Status(), wbxml.XMLString(r.Root))
	}
	if n := len(w.dovecot.Sink.Messages()); n != 1 {
		t.Errorf("%d messages relayed, want 1", n)
	}
}
