package calconv

import (
	"errors"
	"strings"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// invite is an Outlook-style REQUEST for a weekly meeting in Berlin with
// one moved occurrence.
const invite = "BEGIN:VCALENDAR\r\n" +
	"PRODID:-//Test//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n" +
	"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
	"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
	"END:VTIMEZONE\r\n" +
	"BEGIN:VEVENT\r\nUID:weekly-1@example.com\r\nSEQUENCE:2\r\nDTSTAMP:20260301T080000Z\r\n" +
	"DTSTART;TZID=Europe/Berlin:20260309T100000\r\nDTEND;TZID=Europe/Berlin:20260309T103000\r\n" +
	"RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260601T080000Z\r\n" +
	"SUMMARY:Weekly sync\r\nLOCATION:Room 42\r\nCLASS:PUBLIC\r\n" +
	"X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY\r\n" +
	"ORGANIZER;CN=Jeff Hay:mailto:jeff@example.com\r\n" +
	"ATTENDEE;CN=Jeff Hay;PARTSTAT=ACCEPTED:mailto:jeff@example.com\r\n" +
	"ATTENDEE;CN=Alice;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.com\r\n" +
	"ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.com\r\n" +
	"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\n" +
	"END:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:weekly-1@example.com\r\nSEQUENCE:2\r\nDTSTAMP:20260301T080000Z\r\n" +
	"RECURRENCE-ID;TZID=Europe/Berlin:20260316T100000\r\n" +
	"DTSTART;TZID=Europe/Berlin:20260316T110000\r\nDTEND;TZID=Europe/Berlin:20260316T113000\r\n" +
	"SUMMARY:Weekly sync (moved)\r\n" +
	"ORGANIZER;CN=Jeff Hay:mailto:jeff@example.com\r\n" +
	"ATTENDEE;CN=Alice;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.com\r\n" +
	"END:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

const singleInvite = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:REQUEST\r\n" +
	"BEGIN:VEVENT\r\nUID:single-1@example.com\r\nDTSTAMP:20260301T080000Z\r\n" +
	"DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nSUMMARY:Review\r\n" +
	"ORGANIZER:mailto:jeff@example.com\r\n" +
	"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.com\r\n" +
	"END:VEVENT\r\nEND:VCALENDAR\r\n"

func TestParseInvitation(t *testing.T) {
	inv, err := ParseInvitation([]byte(invite), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := Invitation{
		Method: "REQUEST", UID: "weekly-1@example.com", Sequence: 2,
		Start:   time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC),
		End:     time.Date(2026, 3, 9, 9, 30, 0, 0, time.UTC),
		DtStamp: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
		Subject: "Weekly sync", Location: "Room 42", Organizer: "jeff@example.com", OrganizerCN: "Jeff Hay",
		Reminder: 15, ResponseRequested: true, BusyStatus: 2, AttendeeStatus: "ACCEPTED",
	}
	got := *inv
	got.rec, got.TimeZone = nil, ""
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if !inv.Recurring() {
		t.Error("not recurring")
	}
	blob, err := parseTZBlob(inv.TimeZone)
	if err != nil || blob.Bias != -60 {
		t.Errorf("time zone %+v %v", blob, err)
	}
	r := inv.RecurrenceElement(eas.V141).Child(wbxml.NSEmail, "Recurrence")
	for _, c := range []struct{ space, name, want string }{
		{wbxml.NSEmail, "Type", "1"}, {wbxml.NSEmail, "Interval", "1"}, {wbxml.NSEmail, "Until", "20260601T080000Z"},
		{wbxml.NSEmail, "DayOfWeek", "2"}, {wbxml.NSEmail2, "FirstDayOfWeek", "1"}, {wbxml.NSEmail2, "CalendarType", "1"},
	} {
		if got := r.ChildText(c.space, c.name); got != c.want {
			t.Errorf("Recurrence %s %q, want %q", c.name, got, c.want)
		}
	}
	if r := inv.RecurrenceElement(eas.V121); strings.Contains(wbxml.XMLString(r), "email2") {
		t.Errorf("12.1 recurrence has Email2: %s", wbxml.XMLString(r))
	}

	// Another user is not asked: ResponseRequested from any attendee.
	single, err := ParseInvitation([]byte(singleInvite), "carol@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if single.Recurring() || single.RecurrenceElement(eas.V161) != nil || !single.ResponseRequested || single.Reminder != -1 {
		t.Errorf("single: %+v", single)
	}
	if _, err := ParseInvitation([]byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"), ""); err == nil {
		t.Error("no VEVENT: no error")
	}
}

// props returns the lines of the VEVENT with the given RECURRENCE-ID
// prefix ("" for the master) whose names are listed.
func veventLines(t *testing.T, ics []byte, rid string) map[string]string {
	t.Helper()
	root, err := parseObject(ics)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range root.Children {
		if c.Name != "VEVENT" {
			continue
		}
		r := ""
		if p := c.get("RECURRENCE-ID"); p != nil {
			r = p.Value
		}
		if r != rid {
			continue
		}
		out := map[string]string{}
		for _, p := range c.Props {
			if p.Name == "ATTENDEE" {
				out["ATTENDEE "+attendeeOf(p).email] = p.param("PARTSTAT") + "/" + p.param("RSVP")
				continue
			}
			out[p.Name] = formatProp(p)
		}
		return out
	}
	return nil
}

func TestSetPartstatAndReply(t *testing.T) {
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		ics      string
		answer   Answer
		rid      string // override written ("" = master)
		replyRID string // RECURRENCE-ID line of the REPLY
		dtstart  string
	}{
		{"accept series", invite, Answer{User: "alice@example.com", Partstat: PartstatAccepted, Now: now},
			"", "", "DTSTART;TZID=Europe/Berlin:20260309T100000"},
		{"decline series", invite, Answer{User: "ALICE@example.com", Partstat: PartstatDeclined, Comment: "Away, sorry", Now: now},
			"", "", "DTSTART;TZID=Europe/Berlin:20260309T100000"},
		{"tentative existing override", invite, Answer{User: "alice@example.com", Partstat: PartstatTentative,
			Instance: time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC), Now: now},
			"20260316T100000", "RECURRENCE-ID;TZID=Europe/Berlin:20260316T100000", "DTSTART;TZID=Europe/Berlin:20260316T110000"},
		{"accept new occurrence", invite, Answer{User: "alice@example.com", Partstat: PartstatAccepted,
			Instance: time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC), Now: now},
			"20260323T100000", "RECURRENCE-ID;TZID=Europe/Berlin:20260323T100000", "DTSTART;TZID=Europe/Berlin:20260323T100000"},
		{"single", singleInvite, Answer{User: "alice@example.com", Partstat: PartstatAccepted, Now: now},
			"", "", "DTSTART:20260310T090000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored, uid, err := EventFromInvitation([]byte(tt.ics))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(stored), "METHOD:") || uid == "" {
				t.Fatalf("stored object keeps METHOD or lost the UID %q:\n%s", uid, stored)
			}
			updated, err := SetPartstat(stored, tt.answer)
			if err != nil {
				t.Fatal(err)
			}
			ev := veventLines(t, updated, tt.rid)
			if ev == nil {
				t.Fatalf("no VEVENT %q in\n%s", tt.rid, updated)
			}
			if got := ev["ATTENDEE alice@example.com"]; got != tt.answer.Partstat+"/TRUE" {
				t.Errorf("stored PARTSTAT/RSVP %q", got)
			}
			if got := ev["ATTENDEE bob@example.com"]; tt.rid == "" && tt.ics == invite && got != "NEEDS-ACTION/TRUE" {
				t.Errorf("another attendee changed: %q", got)
			}
			if ev["SEQUENCE"] != "" && ev["SEQUENCE"] != "SEQUENCE:2" {
				t.Errorf("SEQUENCE changed: %q", ev["SEQUENCE"])
			}
			if tt.answer.Instance.IsZero() && tt.ics == invite {
				// The whole series: the override is answered too.
				if got := veventLines(t, updated, "20260316T100000")["ATTENDEE alice@example.com"]; got != tt.answer.Partstat+"/TRUE" {
					t.Errorf("override PARTSTAT %q", got)
				}
			}
			if _, err := ToEAS(ClassCalendar, updated, Options{UserAddress: "alice@example.com"}); err != nil {
				t.Errorf("stored event does not convert: %v", err)
			}

			reply, org, err := Reply(updated, tt.answer)
			if err != nil {
				t.Fatal(err)
			}
			if org != "jeff@example.com" {
				t.Errorf("organizer %q", org)
			}
			root, err := parseObject(reply)
			if err != nil {
				t.Fatalf("reply does not parse: %v\n%s", err, reply)
			}
			if root.text("METHOD") != "REPLY" {
				t.Errorf("METHOD %q", root.text("METHOD"))
			}
			events := root.childrenNamed("VEVENT")
			if len(events) != 1 {
				t.Fatalf("%d VEVENTs in the reply", len(events))
			}
			r := events[0]
			atts := r.all("ATTENDEE")
			if len(atts) != 1 || !sameAddr(attendeeOf(atts[0]).email, "alice@example.com") || atts[0].param("PARTSTAT") != tt.answer.Partstat || atts[0].param("RSVP") != "" {
				t.Errorf("reply attendees %v", atts)
			}
			if r.text("UID") != uid || r.text("DTSTAMP") != "20260305T120000Z" || r.get("ORGANIZER") == nil {
				t.Errorf("reply UID %q DTSTAMP %q", r.text("UID"), r.text("DTSTAMP"))
			}
			if tt.ics == invite && r.text("SEQUENCE") != "2" {
				t.Errorf("reply SEQUENCE %q", r.text("SEQUENCE"))
			}
			gotRID := ""
			if p := r.get("RECURRENCE-ID"); p != nil {
				gotRID = formatProp(p)
			}
			if gotRID != tt.replyRID {
				t.Errorf("reply RECURRENCE-ID %q, want %q", gotRID, tt.replyRID)
			}
			if p := r.get("DTSTART"); p == nil || formatProp(p) != tt.dtstart {
				t.Errorf("reply DTSTART %v, want %q", p, tt.dtstart)
			}
			if r.get("RRULE") != nil || r.get("VALARM") != nil || len(r.Children) != 0 {
				t.Error("reply carries the RRULE or an alarm")
			}
			if tz := root.childrenNamed("VTIMEZONE"); strings.Contains(tt.dtstart, "TZID") != (len(tz) == 1) {
				t.Errorf("%d VTIMEZONEs for %q", len(tz), tt.dtstart)
			}
			if tt.answer.Comment != "" && r.text("COMMENT") != tt.answer.Comment {
				t.Errorf("COMMENT %q", r.text("COMMENT"))
			}
			// The invitation's own view of the REPLY.
			back, err := ParseInvitation(reply, "jeff@example.com")
			if err != nil || back.Method != "REPLY" || back.AttendeeStatus != tt.answer.Partstat {
				t.Errorf("reply read back: %+v %v", back, err)
			}
		})
	}
}

func TestAnswerErrors(t *testing.T) {
	stored, _, err := EventFromInvitation([]byte(invite))
	if err != nil {
		t.Fatal(err)
	}
	single, _, _ := EventFromInvitation([]byte(singleInvite))
	tests := []struct {
		name string
		data []byte
		a    Answer
		want error
	}{
		{"organizer", stored, Answer{User: "jeff@example.com", Partstat: PartstatAccepted}, ErrOrganizer},
		{"stranger", stored, Answer{User: "carol@example.com", Partstat: PartstatAccepted}, ErrNotAttendee},
		{"instance of a single meeting", single, Answer{User: "alice@example.com", Partstat: PartstatAccepted, Instance: time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)}, ErrNoInstance},
		{"bad partstat", stored, Answer{User: "alice@example.com", Partstat: "MAYBE"}, ErrInvalid},
		{"garbage", []byte("nonsense"), Answer{User: "alice@example.com", Partstat: PartstatAccepted}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SetPartstat(tt.data, tt.a); !errors.Is(err, tt.want) {
				t.Errorf("SetPartstat: %v, want %v", err, tt.want)
			}
			if tt.a.Partstat == "MAYBE" {
				return
			}
			if _, _, err := Reply(tt.data, tt.a); !errors.Is(err, tt.want) {
				t.Errorf("Reply: %v, want %v", err, tt.want)
			}
		})
	}
	// An invitation that came through a list: the user joins.
	join := Answer{User: "carol@example.com", Partstat: PartstatTentative, Join: true}
	updated, err := SetPartstat(stored, join)
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	if got := veventLines(t, updated, "")["ATTENDEE carol@example.com"]; got != "TENTATIVE/" {
		t.Errorf("joined attendee %q", got)
	}
	if reply, _, err := Reply(updated, join); err != nil || !strings.Contains(string(reply), "PARTSTAT=TENTATIVE:mailto:carol@example.com") {
		t.Errorf("join reply %v:\n%s", err, reply)
	}
	if _, err := SetPartstat(stored, Answer{User: "jeff@example.com", Partstat: PartstatAccepted, Join: true}); !errors.Is(err, ErrOrganizer) {
		t.Errorf("organizer joining: %v", err)
	}
	if !IsITIPError(ErrOrganizer) || IsITIPError(ErrInvalid) {
		t.Error("IsITIPError")
	}
}
