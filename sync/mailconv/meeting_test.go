package mailconv

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

// TestMeetingNeedsITIPPart: the meeting fields come only from a fetched,
// whole iTIP part; without it the message keeps the class its structure
// gives and has no MeetingRequest.
func TestMeetingNeedsITIPPart(t *testing.T) {
	opts := Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 1}}, UserAddress: "deborah@example.com"}
	full := loadEML(t, "meeting-recurring.eml")
	tests := []struct {
		name      string
		msg       *source.Message
		wantClass string
		wantMR    bool
	}{
		{"fetched with the text", ApplyFetchSpec(full, Spec(opts)), "IPM.Schedule.Meeting.Request", true},
		{"no text fetched", ApplyFetchSpec(full, source.FetchSpec{}), "IPM.Schedule.Meeting.Request", false},
		{"cut short", cutITIP(t, ApplyFetchSpec(full, Spec(opts))), "IPM.Schedule.Meeting.Request", false},
		{"cancel without body", ApplyFetchSpec(loadEML(t, "meeting-cancel.eml"), source.FetchSpec{}), "IPM.Note", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := convert(t, tt.msg, opts)
			if got := e.ChildText(wbxml.NSEmail, "MessageClass"); got != tt.wantClass {
				t.Errorf("class %q, want %q", got, tt.wantClass)
			}
			if got := e.Has(wbxml.NSEmail, "MeetingRequest"); got != tt.wantMR {
				t.Errorf("MeetingRequest %v, want %v", got, tt.wantMR)
			}
		})
	}
}

// cutITIP marks the iTIP part as cut by the fetch limit.
func cutITIP(t *testing.T, m *source.Message) *source.Message {
	p := findITIP(m.Root, 0)
	if p == nil || p.Body == nil {
		t.Fatal("no fetched iTIP part")
	}
	p.Body, p.BodyTruncated = p.Body[:len(p.Body)/2], true
	return m
}

// TestITIPFetchLimit: Spec's TextLimit brings an iTIP part up to
// source.CalendarLimit, more than the text limit.
func TestITIPFetchLimit(t *testing.T) {
	desc := strings.Repeat("x", 70)
	var ics strings.Builder
	ics.WriteString("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:big-1\r\nDTSTART:20260309T090000Z\r\nDTEND:20260309T100000Z\r\n")
	for ics.Len() < 2*MinTextLimit {
		ics.WriteString("COMMENT:" + desc + "\r\n")
	}
	ics.WriteString("ORGANIZER:mailto:jeff@example.com\r\nATTENDEE;RSVP=TRUE:mailto:deborah@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	raw := "From: jeff@example.com\r\nTo: deborah@example.com\r\nSubject: Big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
		"--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n" + ics.String() + "--b--\r\n"
	m, err := MessageFromRaw([]byte(raw), 7, nil, testDate)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 100}}, UserAddress: "deborah@example.com"}
	spec := Spec(opts)
	if spec.TextLimit >= int64(ics.Len()) {
		t.Fatalf("text limit %d already covers the part", spec.TextLimit)
	}
	e := convert(t, ApplyFetchSpec(m, spec), opts)
	mr := e.Child(wbxml.NSEmail, "MeetingRequest")
	if mr == nil {
		t.Fatal("no MeetingRequest")
	}
	if got := mr.ChildText(wbxml.NSEmail, "ResponseRequested"); got != "1" {
		t.Errorf("ResponseRequested %q", got)
	}
}

func TestGlobalObjID(t *testing.T) {
	// MS-ASEMAIL 4.3 examples, read backwards: the UIDs of both kinds
	// give the GlobalObjIds (bytes 17-20, the instance date, are zero).
	tests := []struct{ uid, want string }{
		{"040000008200E00074C5B7101A82E00800000000E040C9C12685C4010000000000000000100000000BF0ED4B6E4EE94E9E39E3867B378EF3",
			"BAAAAIIA4AB0xbcQGoLgCAAAAADgQMnBJoXEAQAAAAAAAAAAEAAAAAvw7UtuTulOnjnjhns3jvM="},
		{"{81412D3C-2A24-4E9D-B20E-11F7BBE92799}",
			"BAAAAIIA4AB0xbcQGoLgCAAAAAAAAAAAAAAAAAAAAAAAAAAAMwAAAHZDYWwtVWlkAQAAAHs4MTQxMkQzQy0yQTI0LTRFOUQtQjIwRS0xMUY3QkJFOTI3OTl9AA=="},
		{"0400ZZ", ""}, // not hex: a vCal-Uid
	}
	for _, tt := range tests {
		got := GlobalObjID(tt.uid)
		if tt.want == "" {
			if !bytes.Contains(got, []byte("vCal-Uid\x01\x00\x00\x00"+tt.uid+"\x00")) {
				t.Errorf("%q: %x", tt.uid, got)
			}
			continue
		}
		if s := base64.StdEncoding.EncodeToString(got); s != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.uid, s, tt.want)
		}
	}
}

// BenchmarkMeetingRequest converts the recurring Outlook-style invitation
// (base64 iTIP part with VTIMEZONE, RRULE, VALARM) for a 14.1 client: the
// cost a meeting message adds over an ordinary one is the iCalendar
// parse, the time zone blob and the recurrence.
func BenchmarkMeetingRequest(b *testing.B) {
	m := loadEML(b, "meeting-recurring.eml")
	opts := Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 5120}}, UserAddress: "deborah@example.com"}
	m = ApplyFetchSpec(m, Spec(opts))
	b.ReportAllocs()
	for b.Loop() {
		e, err := ApplicationData(m, opts)
		if err != nil || !e.Has(wbxml.NSEmail, "MeetingRequest") {
			b.Fatal(err)
		}
	}
}
