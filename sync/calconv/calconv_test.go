package calconv

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

func TestToEASErrors(t *testing.T) {
	tests := []struct {
		name, class, data string
		want              error
	}{
		{"garbage", ClassCalendar, "\x00\xff garbage", ErrInvalid},
		{"empty", ClassContacts, "", ErrInvalid},
		{"unclosed", ClassCalendar, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101T000000Z\n", ErrInvalid},
		{"mismatched end", ClassCalendar, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\n", ErrInvalid},
		{"line without colon", ClassCalendar, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART\nEND:VEVENT\nEND:VCALENDAR\n", ErrInvalid},
		{"bad quote", ClassCalendar, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=\"X:2026\nEND:VEVENT\nEND:VCALENDAR\n", ErrInvalid},
		{"no dtstart", ClassCalendar, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nEND:VEVENT\nEND:VCALENDAR\n", ErrInvalid},
		{"bad dtstart", ClassCalendar, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026-01-01\nEND:VEVENT\nEND:VCALENDAR\n", ErrInvalid},
		{"bad duration", ClassCalendar, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101T000000Z\nDURATION:1H\nEND:VEVENT\nEND:VCALENDAR\n", ErrInvalid},
		{"event as task", ClassTasks, string(eventICS("DTSTART:20260105T090000Z", "")), ErrUnsupported},
		{"card as event", ClassCalendar, "BEGIN:VCARD\nVERSION:3.0\nFN:x\nEND:VCARD\n", ErrUnsupported},
		{"event as card", ClassContacts, string(eventICS("DTSTART:20260105T090000Z", "")), ErrUnsupported},
		{"unknown class", "Email", string(eventICS("DTSTART:20260105T090000Z", "")), ErrUnsupported},
		{"deep nesting", ClassCalendar, strings.Repeat("BEGIN:X\n", 100), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ToEAS(tt.class, []byte(tt.data), testOpts(eas.V141))
			if !errors.Is(err, tt.want) {
				t.Errorf("err %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := ToEAS(ClassNotes, readTestdata(t, "note.ics"), testOpts(eas.V121)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Notes on 12.1: %v", err)
	}
}

func TestUIDOf(t *testing.T) {
	for file, want := range map[string]string{
		"event-berlin.ics":     "berlin-1@example.com",
		"task-due.ics":         "task-1@example.com",
		"note.ics":             "note-1@example.com",
		"contact-v3.vcf":       "contact-1@example.com",
		"contact-v4.vcf":       "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
		"event-allday-dst.ics": "allday-1@example.com",
	} {
		if got := UIDOf(readTestdata(t, file)); got != want {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
	if UIDOf([]byte("nonsense")) != "" {
		t.Error("UID of nonsense")
	}
}

func TestBodyPreferences(t *testing.T) {
	ics := eventICS("DTSTART:20260105T090000Z", "DESCRIPTION:Line one\\nLine <two> & ümlaut\r\n")
	tests := []struct {
		name  string
		prefs []server.BodyPreference
		v     eas.Version
		want  string
	}{
		{"default plain", nil, eas.V141, "Type=1 EstimatedDataSize=30 Data=Line one\r\nLine <two> & ümlaut"},
		{"html", []server.BodyPreference{{Type: 2}}, eas.V141,
			"Type=2 EstimatedDataSize=69 Data=<html><body>Line one<br>\nLine &lt;two&gt; &amp; ümlaut</body></html>"},
		{"rtf only falls back to plain", []server.BodyPreference{{Type: 3}}, eas.V141, "Type=1 EstimatedDataSize=30 Data=Line one\r\nLine <two> & ümlaut"},
		{"truncated at a rune boundary", []server.BodyPreference{{Type: 1, TruncationSize: 24}}, eas.V141,
			"Type=1 EstimatedDataSize=30 Truncated=1 Data=Line one\r\nLine <two> & "},
		{"all or none", []server.BodyPreference{{Type: 1, TruncationSize: 5, AllOrNone: true}}, eas.V141,
			"Type=1 EstimatedDataSize=30 Truncated=1"},
		{"preview", []server.BodyPreference{{Type: 1, Preview: 10}}, eas.V141,
			"Type=1 EstimatedDataSize=30 Data=Line one\r\nLine <two> & ümlaut Preview=Line one L"},
		{"no preview on 12.1", []server.BodyPreference{{Type: 1, Preview: 10}}, eas.V121,
			"Type=1 EstimatedDataSize=30 Data=Line one\r\nLine <two> & ümlaut"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOpts(tt.v)
			opts.BodyPrefs = tt.prefs
			app, err := ToEAS(ClassCalendar, ics, opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range app.Child(wbxml.NSAirSyncBase, "Body").Children {
				got = append(got, c.Name+"="+c.Text)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("body %q\nwant %q", g, tt.want)
			}
		})
	}
	// HTML from the client becomes DESCRIPTION text and X-ALT-DESC.
	app := calXML(t, eas.V141, `<calendar:StartTime>20260105T090000Z</calendar:StartTime><calendar:EndTime>20260105T100000Z</calendar:EndTime>
<airsyncbase:Body><airsyncbase:Type>2</airsyncbase:Type><airsyncbase:Data>&lt;html&gt;&lt;head&gt;&lt;style&gt;p{}&lt;/style&gt;&lt;/head&gt;&lt;body&gt;&lt;p&gt;Hello &amp;amp; welcome&lt;/p&gt;&lt;p&gt;Bye&lt;br&gt;now&lt;/p&gt;&lt;/body&gt;&lt;/html&gt;</airsyncbase:Data></airsyncbase:Body>`)
	out, _, err := FromEAS(ClassCalendar, app, nil, testOpts(eas.V141))
	if err != nil {
		t.Fatal(err)
	}
	ev := firstVEvent(t, out)
	if got := ev.text("DESCRIPTION"); got != "Hello & welcome\nBye\nnow" {
		t.Errorf("DESCRIPTION %q", got)
	}
	if ev.get("X-ALT-DESC") == nil {
		t.Error("no X-ALT-DESC")
	}
}

// TestEventFieldsFromClient changes the mapped fields of a stored event
// and checks what is written and what is kept.
func TestEventFieldsFromClient(t *testing.T) {
	stored := readTestdata(t, "event-berlin.ics")
	opts := testOpts(eas.V141)
	app, err := ToEAS(ClassCalendar, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	setChild(app, wbxml.NSCalendar, "Subject", "Renamed")
	setChild(app, wbxml.NSCalendar, "BusyStatus", "3")
	setChild(app, wbxml.NSCalendar, "Sensitivity", "1")
	setChild(app, wbxml.NSCalendar, "Reminder", "30")
	removeChild(app, wbxml.NSCalendar, "Location")
	removeChild(app, wbxml.NSAirSyncBase, "Body") // ghosted: kept
	cats := app.Child(wbxml.NSCalendar, "Categories")
	cats.Children = cats.Children[:1]
	out, uid, err := FromEAS(ClassCalendar, app, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	if uid != "berlin-1@example.com" {
		t.Errorf("uid %q", uid)
	}
	ev := firstVEvent(t, out)
	checks := map[string]string{
		"SUMMARY": "Renamed", "X-MICROSOFT-CDO-BUSYSTATUS": "OOF", "TRANSP": "OPAQUE", "CLASS": "X-PERSONAL",
		"LOCATION": "", "CATEGORIES": "Work", "DESCRIPTION": "Agenda:\n1. Budget\n2. Hiring – Jürgen", "X-MOZ-GENERATION": "3",
		"DTSTAMP": "20260115T120000Z",
	}
	for k, want := range checks {
		if got := ev.text(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	alarms := ev.childrenNamed("VALARM")
	if len(alarms) != 2 || alarms[0].text("TRIGGER") != "-PT30M" || alarms[0].text("DESCRIPTION") != "Reminder" || alarms[1].text("ACTION") != "EMAIL" {
		t.Errorf("alarms:\n%s", out)
	}
	if got := formatProp(ev.get("DTSTART")); got != "DTSTART;TZID=Europe/Berlin:20260420T093000" {
		t.Errorf("DTSTART %s", got)
	}
	// No Reminder: the DISPLAY alarm goes, the EMAIL alarm stays.
	removeChild(app, wbxml.NSCalendar, "Reminder")
	out, _, err = FromEAS(ClassCalendar, app, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a := firstVEvent(t, out).childrenNamed("VALARM"); len(a) != 1 || a[0].text("ACTION") != "EMAIL" {
		t.Errorf("alarms after removal:\n%s", out)
	}
}

func TestMeetingsFromClient(t *testing.T) {
	opts := testOpts(eas.V141)
	// A new meeting organised on the phone.
	app := calXML(t, eas.V141, `<calendar:StartTime>20260105T090000Z</calendar:StartTime><calendar:EndTime>20260105T100000Z</calendar:EndTime>
<calendar:Subject>Lunch</calendar:Subject><calendar:MeetingStatus>1</calendar:MeetingStatus>
<calendar:Attendees><calendar:Attendee><calendar:Email>bob@example.com</calendar:Email><calendar:Name>Bob</calendar:Name><calendar:AttendeeType>1</calendar:AttendeeType></calendar:Attendee>
<calendar:Attendee><calendar:Email>room@example.com</calendar:Email><calendar:Name>Room</calendar:Name><calendar:AttendeeType>3</calendar:AttendeeType></calendar:Attendee></calendar:Attendees>`)
	out, _, err := FromEAS(ClassCalendar, app, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := unfolded(out)
	for _, want := range []string{"ORGANIZER:mailto:alice@example.com", "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Bob:mailto:bob@example.com",
		"CN=Room;CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT:mailto:room@example.com"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	back, err := ToEAS(ClassCalendar, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if back.ChildText(wbxml.NSCalendar, "MeetingStatus") != "1" || back.ChildText(wbxml.NSCalendar, "ResponseType") != "1" {
		t.Errorf("organiser view:\n%s", back)
	}
	// Moving it bumps SEQUENCE.
	setChild(back, wbxml.NSCalendar, "StartTime", "20260105T100000Z")
	setChild(back, wbxml.NSCalendar, "EndTime", "20260105T110000Z")
	out2, _, err := FromEAS(ClassCalendar, back, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if firstVEvent(t, out2).text("SEQUENCE") != "1" {
		t.Errorf("SEQUENCE:\n%s", out2)
	}

	// A received meeting: the attendee list is the organizer's; the
	// user's answer is taken.
	stored := readTestdata(t, "event-meeting-received.ics")
	rapp, err := ToEAS(ClassCalendar, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	removeChild(rapp, wbxml.NSCalendar, "Attendees")
	setChild(rapp, wbxml.NSCalendar, "ResponseType", "3")
	out3, _, err := FromEAS(ClassCalendar, rapp, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	s3 := unfolded(out3)
	if !strings.Contains(s3, "ATTENDEE;CN=Alice Adams;PARTSTAT=ACCEPTED:mailto:Alice@Example.com") ||
		!strings.Contains(s3, "ATTENDEE;CN=Dave Doe;PARTSTAT=ACCEPTED:mailto:dave@example.net") || !strings.Contains(s3, "ORGANIZER;CN=Dave Doe") {
		t.Errorf("received meeting:\n%s", s3)
	}
	// Cancelled.
	setChild(rapp, wbxml.NSCalendar, "MeetingStatus", "7")
	out4, _, err := FromEAS(ClassCalendar, rapp, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	if firstVEvent(t, out4).text("STATUS") != "CANCELLED" {
		t.Error("not cancelled")
	}
	if a, _ := ToEAS(ClassCalendar, out4, opts); a.ChildText(wbxml.NSCalendar, "MeetingStatus") != "7" {
		t.Errorf("MeetingStatus %s", a.ChildText(wbxml.NSCalendar, "MeetingStatus"))
	}
}

func TestEventAddMinimal(t *testing.T) {
	// 12.1 client: Calendar:UID and Calendar:Location; no Timezone; a
	// NUL byte in the subject is dropped.
	app := calXML(t, eas.V121, `<calendar:UID>phone-uid</calendar:UID><calendar:StartTime>20260105T090000Z</calendar:StartTime>
<calendar:EndTime>20260105T093000Z</calendar:EndTime><calendar:Location>Here</calendar:Location>`)
	app.Add(wbxml.Text(wbxml.NSCalendar, "Subject", "Bad\x00byte\xff"))
	out, uid, err := FromEAS(ClassCalendar, app, nil, testOpts(eas.V121))
	if err != nil {
		t.Fatal(err)
	}
	if got := firstVEvent(t, out).text("SUMMARY"); got != "Badbyte\uFFFD" {
		t.Errorf("SUMMARY %q", got)
	}
	if uid != "phone-uid" {
		t.Errorf("uid %q", uid)
	}
	ev := firstVEvent(t, out)
	if ev.text("LOCATION") != "Here" || formatProp(ev.get("DTSTART")) != "DTSTART:20260105T090000Z" {
		t.Errorf("event:\n%s", out)
	}
	// No StartTime: an error, not a broken object.
	app = calXML(t, eas.V121, `<calendar:Subject>Hi</calendar:Subject>`)
	if _, _, err := FromEAS(ClassCalendar, app, nil, testOpts(eas.V121)); !errors.Is(err, ErrInvalid) {
		t.Errorf("no StartTime: %v", err)
	}
	// A generated UID when the client sends none.
	app = calXML(t, eas.V161, `<calendar:StartTime>20260105T090000Z</calendar:StartTime>`)
	_, uid, err = FromEAS(ClassCalendar, app, nil, testOpts(eas.V161))
	if err != nil || len(uid) != 36 {
		t.Errorf("generated uid %q %v", uid, err)
	}
}

func TestTasksFromClient(t *testing.T) {
	opts := testOpts(eas.V141)
	app := calXML(t, eas.V141, `<tasks:Subject>Pay rent</tasks:Subject><tasks:Importance>2</tasks:Importance>
<tasks:UtcDueDate>2026-02-28T23:00:00.000Z</tasks:UtcDueDate><tasks:DueDate>2026-03-01T00:00:00.000Z</tasks:DueDate>
<tasks:ReminderSet>1</tasks:ReminderSet><tasks:ReminderTime>2026-02-28T08:00:00.000Z</tasks:ReminderTime>
<tasks:Complete>0</tasks:Complete><tasks:Sensitivity>0</tasks:Sensitivity>
<tasks:Recurrence><tasks:Type>2</tasks:Type><tasks:Start>2026-03-01T00:00:00.000Z</tasks:Start><tasks:Interval>1</tasks:Interval><tasks:DayOfMonth>1</tasks:DayOfMonth><tasks:Regenerate>0</tasks:Regenerate><tasks:DeadOccur>0</tasks:DeadOccur></tasks:Recurrence>`)
	out, uid, err := FromEAS(ClassTasks, app, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if uid == "" {
		t.Error("no uid")
	}
	s := unfolded(out)
	for _, want := range []string{"SUMMARY:Pay rent", "PRIORITY:1", "DUE;VALUE=DATE:20260301", "TRIGGER;VALUE=DATE-TIME:20260228T080000Z",
		"STATUS:NEEDS-ACTION", "RRULE:FREQ=MONTHLY;BYMONTHDAY=1", "DTSTART;VALUE=DATE:20260301"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	// Complete it.
	back, err := ToEAS(ClassTasks, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	setChild(back, wbxml.NSTasks, "Complete", "1")
	setChild(back, wbxml.NSTasks, "DateCompleted", "2026-02-27T10:00:00.000Z")
	out2, _, err := FromEAS(ClassTasks, back, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s2 := unfolded(out2); !strings.Contains(s2, "STATUS:COMPLETED") || !strings.Contains(s2, "COMPLETED:20260227T100000Z") {
		t.Errorf("completed:\n%s", s2)
	}
	// A stored task with a TZID keeps it when its due time moves.
	stored := readTestdata(t, "task-due.ics")
	tapp, err := ToEAS(ClassTasks, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	setChild(tapp, wbxml.NSTasks, "UtcDueDate", "2026-03-11T21:00:00.000Z")
	setChild(tapp, wbxml.NSTasks, "DueDate", "2026-03-11T17:00:00.000Z")
	out3, _, err := FromEAS(ClassTasks, tapp, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s3 := unfolded(out3); !strings.Contains(s3, "DUE;TZID=America/New_York:20260311T170000") || !strings.Contains(s3, "PERCENT-COMPLETE:40") {
		t.Errorf("moved due:\n%s", s3)
	}
}

func TestNotesFromClient(t *testing.T) {
	opts := testOpts(eas.V161)
	app := calXML(t, eas.V161, `<notes:Subject>Shopping</notes:Subject><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>Eggs&#xD;
Milk</airsyncbase:Data></airsyncbase:Body><notes:MessageClass>IPM.StickyNote</notes:MessageClass><notes:Categories><notes:Category>Home</notes:Category></notes:Categories>`)
	out, _, err := FromEAS(ClassNotes, app, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := mainComponent(mustParse(t, out), "VJOURNAL")
	if c.text("SUMMARY") != "Shopping" || c.text("DESCRIPTION") != "Eggs\nMilk" || c.text("CATEGORIES") != "Home" {
		t.Errorf("note:\n%s", out)
	}
	if _, _, err := FromEAS(ClassNotes, app, nil, testOpts(eas.V121)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("12.1: %v", err)
	}
}

func TestContactsFromClient(t *testing.T) {
	stored := readTestdata(t, "contact-v3.vcf")
	opts := testOpts(eas.V141)
	app, err := ToEAS(ClassContacts, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	setChild(app, wbxml.NSContacts, "MobilePhoneNumber", "+49 171 7654321")
	removeChild(app, wbxml.NSContacts, "Email2Address")
	setChild(app, wbxml.NSContacts, "Email3Address", `"Hans M." <hm@third.example>`)
	setChild(app, wbxml.NSContacts2, "IMAddress3", "hans@matrix.example")
	setChild(app, wbxml.NSContacts, "Birthday", "1975-05-03T22:00:00.000Z") // 4 May, local midnight in Berlin
	setChild(app, wbxml.NSContacts, "OtherAddressCity", "Hamburg")
	setChild(app, wbxml.NSContacts2, "ManagerName", "Boss")
	setChild(app, wbxml.NSContacts, "CarPhoneNumber", "+49 160 1")
	setChild(app, wbxml.NSContacts, "LastName", "Mueller")
	removeChild(app, wbxml.NSContacts, "Picture") // ghosted: kept
	out, uid, err := FromEAS(ClassContacts, app, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	if uid != "contact-1@example.com" {
		t.Errorf("uid %q", uid)
	}
	s := unfolded(out)
	for _, want := range []string{
		"TEL;TYPE=CELL;TYPE=VOICE:+49 171 7654321", "EMAIL;TYPE=INTERNET:hm@third.example", "IMPP:xmpp:hans@matrix.example",
		"BDAY:1975-05-04", "ADR:;;;Hamburg;;;", "X-MANAGER:Boss", "TEL;TYPE=CAR,VOICE:+49 160 1", "N:Mueller;Hans;Peter;Dr.;Jr.",
		"FN:Dr. Hans Peter Müller Jr.", "X-SOCIALPROFILE;TYPE=twitter", "PHOTO;ENCODING=b", "item1.X-ABLabel", "REV:20260115T120000Z",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
	if strings.Contains(s, "hans.mueller@acme.example") {
		t.Errorf("removed e-mail kept:\n%s", s)
	}
	// An empty Picture removes the photo.
	setChild(app, wbxml.NSContacts, "Picture", "")
	out2, _, err := FromEAS(ClassContacts, app, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out2), "PHOTO") {
		t.Error("photo kept")
	}
	// A new contact is vCard 3.0 with N and FN.
	napp := calXML(t, eas.V141, `<contacts:FirstName>Ann</contacts:FirstName><contacts:LastName>Lee</contacts:LastName><contacts:FileAs>Lee, Ann</contacts:FileAs>
<contacts:Email1Address>ann@example.com</contacts:Email1Address><contacts:Picture>/9j/4AAQSkZJRg==</contacts:Picture><contacts:Anniversary>2010-06-01T00:00:00.000Z</contacts:Anniversary>`)
	out3, uid3, err := FromEAS(ClassContacts, napp, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	s3 := unfolded(out3)
	for _, want := range []string{"VERSION:3.0", "N:Lee;Ann;;;", "FN:Ann Lee", "EMAIL;TYPE=INTERNET:ann@example.com", "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRg==",
		"X-ANNIVERSARY:2010-06-01", "UID:" + uid3} {
		if !strings.Contains(s3, want) {
			t.Errorf("missing %q in\n%s", want, s3)
		}
	}
	// vCard 4.0 stays 4.0.
	v4 := readTestdata(t, "contact-v4.vcf")
	app4, err := ToEAS(ClassContacts, v4, opts)
	if err != nil {
		t.Fatal(err)
	}
	setChild(app4, wbxml.NSContacts, "Spouse", "Joan Public")
	setChild(app4, wbxml.NSContacts, "HomeFaxNumber", "+1-555-0000")
	out4, _, err := FromEAS(ClassContacts, app4, v4, opts)
	if err != nil {
		t.Fatal(err)
	}
	s4 := unfolded(out4)
	for _, want := range []string{"VERSION:4.0", "RELATED;TYPE=spouse;VALUE=text:Joan Public", "TEL;TYPE=home,fax:+1-555-0000", "BDAY:--0415", "GENDER:F"} {
		if !strings.Contains(s4, want) {
			t.Errorf("missing %q in\n%s", want, s4)
		}
	}
}

func TestPictureLimit(t *testing.T) {
	big := strings.Repeat("A", maxPicture+4)
	card := "BEGIN:VCARD\nVERSION:3.0\nFN:Big\nN:Big;;;;\nPHOTO;ENCODING=b;TYPE=JPEG:" + big + "\nEND:VCARD\n"
	app, err := ToEAS(ClassContacts, []byte(card), testOpts(eas.V141))
	if err != nil {
		t.Fatal(err)
	}
	if app.Has(wbxml.NSContacts, "Picture") {
		t.Error("picture over 48 KB sent")
	}
}

// TestValidUTF8 feeds invalid UTF-8 and NUL bytes: every text sent is
// valid UTF-8 and encodes as WBXML.
func TestValidUTF8(t *testing.T) {
	ics := eventICS("DTSTART:20260105T090000Z", "DESCRIPTION:bad \xff\xfe byte\r\nLOCATION:nul\x00here\r\nCATEGORIES:\xc3\r\n")
	app, err := ToEAS(ClassCalendar, ics, testOpts(eas.V141))
	if err != nil {
		t.Fatal(err)
	}
	checkText(t, app)
	card := "BEGIN:VCARD\nVERSION:3.0\nFN:\xff\nN:\xc3\x28;;;;\nNOTE:a\x00b\nEND:VCARD\n"
	app, err = ToEAS(ClassContacts, []byte(card), testOpts(eas.V141))
	if err != nil {
		t.Fatal(err)
	}
	checkText(t, app)
}

func checkText(t *testing.T, e *wbxml.Element) {
	t.Helper()
	if !utf8.ValidString(e.Text) || strings.ContainsRune(e.Text, 0) {
		t.Errorf("%s: bad text %q", e.Name, e.Text)
	}
	for _, c := range e.Children {
		checkText(t, c)
	}
	if _, err := wbxml.Encode(e); err != nil {
		t.Errorf("encode: %v", err)
	}
}

func TestContentLines(t *testing.T) {
	// Folding, CR-only and LF line ends, groups, quoted and caret params.
	data := "BEGIN:VCARD\r\nVERSION:4.0\rFN:Ann\n  Lee\nitem1.EMAIL;TYPE=\"work,pref\";X-Q=\"a;b:c\";X-C=x^'y^nz:a@b\r\nNOTE:long " +
		strings.Repeat("ü", 60) + "\nEND:VCARD\n"
	c, err := parseObject([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if c.text("FN") != "Ann Lee" {
		t.Errorf("FN %q", c.text("FN"))
	}
	e := c.get("EMAIL")
	if e.Group != "item1" || !e.hasParamValue("TYPE", "pref") || e.param("X-Q") != "a;b:c" || e.param("X-C") != "x\"y\nz" {
		t.Errorf("EMAIL %+v", e)
	}
	out := encodeObject(c)
	for _, line := range strings.Split(string(out), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Errorf("split rune: %q", line)
		}
	}
	again, err := parseObject(out)
	if err != nil || string(encodeObject(again)) != string(out) {
		t.Errorf("re-encode: %v\n%s", err, out)
	}
}

// unfolded undoes line folding, for substring checks.
func unfolded(b []byte) string { return strings.ReplaceAll(string(b), "\r\n ", "") }
