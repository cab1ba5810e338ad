package imapsource

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"easbridge/sync/source"
	"easbridge/sync/testenv"
)

// TestDovecotFetchITIP: the iTIP part of a meeting message comes with the
// text leaves, whole up to source.CalendarLimit even when it is longer
// than TextLimit, also as the body of a single-part message (which the
// first round fetches speculatively at TextLimit); text/calendar without
// a method parameter and ordinary messages bring nothing more.
func TestDovecotFetchITIP(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)
	var cc cmdCounter
	a := countingAccount(t, d, &cc)
	const limit = 1 << 10
	var ics strings.Builder
	ics.WriteString("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:fetch-1\r\nDTSTART:20260309T090000Z\r\n")
	for ics.Len() < 8*limit {
		ics.WriteString("COMMENT:" + strings.Repeat("y", 70) + "\r\n")
	}
	ics.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	big := ics.String()
	msgs := map[string][]byte{
		"alternative": rfc822(append(header("invite", `Content-Type: multipart/alternative; boundary="b"`), "",
			"--b", "Content-Type: text/plain", "", "You are invited",
			"--b", "Content-Type: text/calendar; charset=utf-8; method=REQUEST", "", big,
			"--b", `Content-Type: application/ics; name="invite.ics"`, `Content-Disposition: attachment; filename="invite.ics"`, "", big,
			"--b--", "")...),
		"single": rfc822(append(header("cancel", "Content-Type: text/calendar; method=CANCEL"), "", big)...),
		"no method": rfc822(append(header("published", `Content-Type: multipart/mixed; boundary="c"`), "",
			"--c", "Content-Type: text/plain", "", "An event",
			"--c", "Content-Type: text/calendar", "", big,
			"--c--", "")...),
	}
	uids := map[string]uint32{}
	var all []uint32
	for name, raw := range msgs {
		uids[name] = uint32(d.Append(t, "alice", "INBOX", raw, imap.FlagSeen))
		all = append(all, uids[name])
	}
	got, err := a.Fetch(ctx, "INBOX", all, source.FetchSpec{TextLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	byUID := map[uint32]*source.Message{}
	for _, m := range got {
		byUID[m.UID] = m
	}
	itip := func(m *source.Message) *source.Part {
		var found *source.Part
		var walk func(p *source.Part)
		walk = func(p *source.Part) {
			if p == nil || found != nil {
				return
			}
			if p.Type == "text" && p.Subtype == "calendar" {
				found = p
			}
			for _, c := range p.Children {
				walk(c)
			}
		}
		walk(m.Root)
		return found
	}
	for _, name := range []string{"alternative", "single"} {
		p := itip(byUID[uids[name]])
		if p == nil {
			t.Fatalf("%s: no calendar part", name)
		}
		if string(p.Body) != big {
			t.Errorf("%s: calendar part of %d octets, want the whole %d (truncated %v)", name, len(p.Body), len(big), p.BodyTruncated)
		}
		if p.BodyTruncated {
			t.Errorf("%s: marked truncated", name)
		}
	}
	if p := itip(byUID[uids["no method"]]); p == nil || p.Body != nil {
		t.Errorf("text/calendar without method was fetched: %v", p)
	}
	// The text leaves keep the text limit.
	for _, m := range got {
		var walk func(p *source.Part)
		walk = func(p *source.Part) {
			if p.Type == "text" && p.Subtype == "plain" && int64(len(p.Body)) > limit {
				t.Errorf("UID %d: text part of %d octets, limit %d", m.UID, len(p.Body), limit)
			}
			for _, c := range p.Children {
				walk(c)
			}
		}
		walk(m.Root)
	}
}
