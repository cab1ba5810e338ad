package app_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"easbridge/server/wbxml"
)

// Round trips of every field of calendar, contact, task and note items
// against Radicale: a phone adds a fully filled item, the object Radicale
// stores is parsed (go-ical, go-vcard) and checked property by property,
// then a second phone syncs the folder and must see every field again.

// storedProp is one property as Radicale stores it.
type storedProp struct {
	comp, name, value string // comp: "VEVENT", "VEVENT/VALARM", "VCARD", …
	params            map[string][]string
}

// want is one expectation on the stored object: a property of comp
// named name whose value is value (case-insensitive) and whose
// parameters hold the given values ("TYPE=cell" matches TYPE=CELL,VOICE).
type want struct {
	comp, name, value string
	params            []string
}

func parseStored(t *testing.T, body []byte) []storedProp {
	t.Helper()
	var out []storedProp
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("BEGIN:VCARD")) {
		card, err := vcard.NewDecoder(bytes.NewReader(body)).Decode()
		if err != nil {
			t.Fatalf("vCard from Radicale: %v\n%s", err, body)
		}
		for name, fs := range card {
			for _, f := range fs {
				out = append(out, storedProp{"VCARD", name, f.Value, f.Params})
			}
		}
		return out
	}
	cal, err := ical.NewDecoder(bytes.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("iCalendar from Radicale: %v\n%s", err, body)
	}
	var walk func(prefix string, c *ical.Component)
	walk = func(prefix string, c *ical.Component) {
		path := strings.TrimPrefix(prefix+"/"+c.Name, "/")
		for name, ps := range c.Props {
			for _, p := range ps {
				out = append(out, storedProp{path, name, p.Value, p.Params})
			}
		}
		for _, ch := range c.Children {
			walk(path, ch)
		}
	}
	for _, c := range cal.Children {
		if c.Name != "VTIMEZONE" {
			walk("", c)
		}
	}
	return out
}

func (w want) matches(p storedProp) bool {
	if p.comp != w.comp || !strings.EqualFold(p.name, w.name) || !strings.EqualFold(p.value, w.value) {
		return false
	}
	for _, kv := range w.params {
		k, v, _ := strings.Cut(kv, "=")
		found := false
		for pk, vals := range p.params {
			if !strings.EqualFold(pk, k) {
				continue
			}
			for _, x := range vals {
				for _, y := range strings.Split(x, ",") {
					found = found || strings.EqualFold(y, v)
				}
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// easField reads a path like "Calendar:Attendees/Calendar:Attendee/Calendar:Email"
// and returns every match joined by ",".
func easField(app *wbxml.Element, path string) string {
	cur := []*wbxml.Element{app}
	for _, step := range strings.Split(path, "/") {
		ns, name, _ := strings.Cut(step, ":")
		var next []*wbxml.Element
		for _, e := range cur {
			next = append(next, e.All(ns, name)...)
		}
		cur = next
	}
	var vals []string
	for _, e := range cur {
		vals = append(vals, e.Text)
	}
	return strings.Join(vals, ",")
}

type fieldCase struct {
	name       string
	version    string
	folderType int
	app        []*wbxml.Element // ApplicationData children of the Add
	marker     string           // text that finds the stored object
	stored     []want
	back       map[string]string // EAS path → value on a second phone
}

func el(ns, name, text string) *wbxml.Element { return wbxml.Text(ns, name, text) }

func fieldCases() []fieldCase {
	C, B, K, K2, T, N := wbxml.NSCalendar, wbxml.NSAirSyncBase, wbxml.NSContacts, wbxml.NSContacts2, wbxml.NSTasks, wbxml.NSNotes
	berlin := tzBlob(-60, [4]uint16{10, 0, 5, 3}, [4]uint16{3, 0, 5, 2}, -60)
	return []fieldCase{{
		name: "calendar 16.1", version: "16.1", folderType: 8, marker: "fields-event-1@example.test",
		app: []*wbxml.Element{
			el(C, "Timezone", berlin),
			wbxml.New(B, "Body", el(B, "Type", "1"), el(B, "Data", "Agenda:\r\nBudget")),
			el(C, "StartTime", "20261214T090000Z"), el(C, "EndTime", "20261214T100000Z"),
			el(C, "Subject", "Planning"),
			wbxml.New(B, "Location", el(B, "DisplayName", "Room 7")),
			el(C, "AllDayEvent", "0"), el(C, "BusyStatus", "1"), el(C, "Sensitivity", "2"), el(C, "Reminder", "30"),
			el(C, "MeetingStatus", "1"),
			wbxml.New(C, "Categories", el(C, "Category", "Work"), el(C, "Category", "Travel")),
			wbxml.New(C, "Attendees",
				wbxml.New(C, "Attendee", el(C, "Email", "bob@example.test"), el(C, "Name", "Bob"), el(C, "AttendeeType", "1")),
				wbxml.New(C, "Attendee", el(C, "Email", "carol@example.test"), el(C, "Name", "Carol"), el(C, "AttendeeType", "2"))),
			wbxml.New(C, "Recurrence", el(C, "Type", "1"), el(C, "Interval", "2"), el(C, "DayOfWeek", "10"), el(C, "Until", "20270301T090000Z")),
			el(C, "ClientUid", "fields-event-1@example.test"),
		},
		stored: []want{
			{"VEVENT", "UID", "fields-event-1@example.test", nil},
			{"VEVENT", "SUMMARY", "Planning", nil},
			{"VEVENT", "LOCATION", "Room 7", nil},
			{"VEVENT", "DESCRIPTION", `Agenda:\nBudget`, nil},
			{"VEVENT", "DTSTART", "20261214T100000", []string{"TZID=Europe/Berlin"}},
			{"VEVENT", "DTEND", "20261214T110000", []string{"TZID=Europe/Berlin"}},
			{"VEVENT", "CLASS", "PRIVATE", nil},
			{"VEVENT", "X-MICROSOFT-CDO-BUSYSTATUS", "TENTATIVE", nil},
			{"VEVENT", "CATEGORIES", "Work,Travel", nil},
			{"VEVENT", "ORGANIZER", "mailto:alice@example.test", nil},
			{"VEVENT", "ATTENDEE", "mailto:bob@example.test", []string{"CN=Bob"}},
			{"VEVENT", "ATTENDEE", "mailto:carol@example.test", []string{"CN=Carol", "ROLE=OPT-PARTICIPANT"}},
			{"VEVENT/VALARM", "TRIGGER", "-PT30M", nil},
			{"VEVENT/VALARM", "ACTION", "DISPLAY", nil},
		},
		back: map[string]string{
			"Calendar:Subject": "Planning", "AirSyncBase:Location/AirSyncBase:DisplayName": "Room 7",
			"AirSyncBase:Body/AirSyncBase:Data": "Agenda:\r\nBudget",
			"Calendar:StartTime":                "20261214T090000Z", "Calendar:EndTime": "20261214T100000Z",
			"Calendar:BusyStatus": "1", "Calendar:Sensitivity": "2", "Calendar:Reminder": "30", "Calendar:AllDayEvent": "0",
			"Calendar:Categories/Calendar:Category":                      "Work,Travel",
			"Calendar:Attendees/Calendar:Attendee/Calendar:Email":        "bob@example.test,carol@example.test",
			"Calendar:Attendees/Calendar:Attendee/Calendar:AttendeeType": "1,2",
			"Calendar:Recurrence/Calendar:Type":                          "1", "Calendar:Recurrence/Calendar:Interval": "2",
			"Calendar:Recurrence/Calendar:DayOfWeek": "10", "Calendar:OrganizerEmail": "alice@example.test",
			"Calendar:UID": "fields-event-1@example.test", "Calendar:MeetingStatus": "1",
		},
	}, {
		name: "calendar 14.1 with exceptions", version: "14.1", folderType: 8, marker: "fields-event-2@example.test",
		app: []*wbxml.Element{
			el(C, "Timezone", berlin),
			el(C, "StartTime", "20261207T090000Z"), el(C, "EndTime", "20261207T093000Z"),
			el(C, "Subject", "Standup"), el(C, "Location", "Room 2"), el(C, "AllDayEvent", "0"), el(C, "BusyStatus", "2"),
			el(C, "UID", "fields-event-2@example.test"),
			wbxml.New(C, "Recurrence", el(C, "Type", "0"), el(C, "Interval", "1"), el(C, "Occurrences", "5")),
			wbxml.New(C, "Exceptions",
				wbxml.New(C, "Exception", el(C, "Deleted", "1"), el(C, "ExceptionStartTime", "20261208T090000Z")),
				wbxml.New(C, "Exception", el(C, "ExceptionStartTime", "20261209T090000Z"), el(C, "Subject", "Standup (long)"),
					el(C, "StartTime", "20261209T090000Z"), el(C, "EndTime", "20261209T100000Z"))),
		},
		stored: []want{
			{"VEVENT", "RRULE", "FREQ=DAILY;COUNT=5", nil},
			{"VEVENT", "EXDATE", "20261208T100000", []string{"TZID=Europe/Berlin"}},
			{"VEVENT", "RECURRENCE-ID", "20261209T100000", []string{"TZID=Europe/Berlin"}},
			{"VEVENT", "SUMMARY", "Standup (long)", nil},
			{"VEVENT", "DTEND", "20261209T110000", []string{"TZID=Europe/Berlin"}},
			{"VEVENT", "LOCATION", "Room 2", nil},
		},
		back: map[string]string{
			"Calendar:Subject": "Standup", "Calendar:Location": "Room 2", "Calendar:BusyStatus": "2",
			"Calendar:Recurrence/Calendar:Type": "0", "Calendar:Recurrence/Calendar:Occurrences": "5",
			"Calendar:Exceptions/Calendar:Exception/Calendar:ExceptionStartTime": "20261208T090000Z,20261209T090000Z",
			"Calendar:Exceptions/Calendar:Exception/Calendar:Deleted":            "1",
			"Calendar:Exceptions/Calendar:Exception/Calendar:Subject":            "Standup (long)",
			"Calendar:Exceptions/Calendar:Exception/Calendar:EndTime":            "20261209T100000Z",
		},
	}, {
		name: "contact 14.1", version: "14.1", folderType: 9, marker: "Quincy",
		app: []*wbxml.Element{
			// FileAs is FN; Outlook's default "Last, First" would become the
			// display name, so the phone names the card itself here.
			el(K, "FileAs", "Ada Quincy (Acme)"), el(K, "FirstName", "Ada"), el(K, "LastName", "Quincy"), el(K, "MiddleName", "B."),
			el(K, "Title", "Dr."), el(K, "Suffix", "Jr."),
			el(K, "CompanyName", "Acme"), el(K, "Department", "Research"), el(K, "JobTitle", "Chemist"),
			el(K, "Email1Address", "ada@acme.example"), el(K, "Email2Address", "ada@home.example"),
			el(K, "MobilePhoneNumber", "+49 170 1111111"), el(K, "BusinessPhoneNumber", "+49 30 2222222"), el(K, "HomePhoneNumber", "+49 30 3333333"),
			el(K, "BusinessAddressStreet", "Hauptstr. 1"), el(K, "BusinessAddressCity", "Berlin"), el(K, "BusinessAddressPostalCode", "10115"),
			el(K, "BusinessAddressCountry", "Germany"),
			el(K, "HomeAddressStreet", "Nebenweg 2"), el(K, "HomeAddressCity", "Potsdam"),
			el(K, "Birthday", "1980-02-29T00:00:00.000Z"), el(K, "Anniversary", "2010-06-01T00:00:00.000Z"),
			wbxml.New(B, "Body", el(B, "Type", "1"), el(B, "Data", "Met at the fair")),
			wbxml.New(K, "Categories", el(K, "Category", "Clients")),
			el(K, "WebPage", "https://ada.example/"),
			el(K, "Picture", "/9j/4AAQSkZJRgABAQ=="),
			el(K2, "IMAddress", "ada@jabber.example"), el(K2, "NickName", "Adi"),
		},
		stored: []want{
			{"VCARD", "FN", "Ada Quincy (Acme)", nil},
			{"VCARD", "N", "Quincy;Ada;B.;Dr.;Jr.", nil},
			{"VCARD", "ORG", "Acme;Research", nil},
			{"VCARD", "TITLE", "Chemist", nil},
			{"VCARD", "EMAIL", "ada@acme.example", nil},
			{"VCARD", "EMAIL", "ada@home.example", nil},
			{"VCARD", "TEL", "+49 170 1111111", []string{"TYPE=CELL"}},
			{"VCARD", "TEL", "+49 30 2222222", []string{"TYPE=WORK"}},
			{"VCARD", "TEL", "+49 30 3333333", []string{"TYPE=HOME"}},
			{"VCARD", "ADR", ";;Hauptstr. 1;Berlin;;10115;Germany", []string{"TYPE=WORK"}},
			{"VCARD", "ADR", ";;Nebenweg 2;Potsdam;;;", []string{"TYPE=HOME"}},
			{"VCARD", "BDAY", "1980-02-29", nil},
			{"VCARD", "X-ANNIVERSARY", "2010-06-01", nil},
			{"VCARD", "NOTE", "Met at the fair", nil},
			{"VCARD", "CATEGORIES", "Clients", nil},
			{"VCARD", "URL", "https://ada.example/", nil},
			{"VCARD", "PHOTO", "/9j/4AAQSkZJRgABAQ==", nil},
			{"VCARD", "IMPP", "xmpp:ada@jabber.example", nil},
			{"VCARD", "NICKNAME", "Adi", nil},
		},
		back: map[string]string{
			"Contacts:FileAs": "Ada Quincy (Acme)", "Contacts:FirstName": "Ada", "Contacts:LastName": "Quincy", "Contacts:MiddleName": "B.",
			"Contacts:Title": "Dr.", "Contacts:Suffix": "Jr.", "Contacts:CompanyName": "Acme", "Contacts:Department": "Research",
			"Contacts:JobTitle": "Chemist", "Contacts:Email1Address": "ada@acme.example", "Contacts:Email2Address": "ada@home.example",
			"Contacts:MobilePhoneNumber": "+49 170 1111111", "Contacts:BusinessPhoneNumber": "+49 30 2222222",
			"Contacts:HomePhoneNumber": "+49 30 3333333", "Contacts:BusinessAddressStreet": "Hauptstr. 1",
			"Contacts:BusinessAddressCity": "Berlin", "Contacts:BusinessAddressPostalCode": "10115", "Contacts:BusinessAddressCountry": "Germany",
			"Contacts:HomeAddressStreet": "Nebenweg 2", "Contacts:HomeAddressCity": "Potsdam",
			"Contacts:Birthday": "1980-02-29T00:00:00.000Z", "Contacts:Anniversary": "2010-06-01T00:00:00.000Z",
			"AirSyncBase:Body/AirSyncBase:Data": "Met at the fair", "Contacts:Categories/Contacts:Category": "Clients",
			"Contacts:WebPage": "https://ada.example/", "Contacts:Picture": "/9j/4AAQSkZJRgABAQ==",
			"Contacts2:IMAddress": "ada@jabber.example", "Contacts2:NickName": "Adi",
		},
	}, {
		name: "task 16.1", version: "16.1", folderType: 7, marker: "Quarterly report",
		app: []*wbxml.Element{
			wbxml.New(B, "Body", el(B, "Type", "1"), el(B, "Data", "Numbers from Q3")),
			el(T, "Subject", "Quarterly report"), el(T, "Importance", "2"),
			el(T, "UtcStartDate", "2026-12-01T08:00:00.000Z"), el(T, "StartDate", "2026-12-01T09:00:00.000Z"),
			el(T, "UtcDueDate", "2026-12-10T16:00:00.000Z"), el(T, "DueDate", "2026-12-10T17:00:00.000Z"),
			el(T, "Complete", "0"), el(T, "ReminderSet", "1"), el(T, "ReminderTime", "2026-12-10T08:00:00.000Z"),
			el(T, "Sensitivity", "0"),
			wbxml.New(T, "Categories", el(T, "Category", "Office")),
			wbxml.New(T, "Recurrence", el(T, "Type", "2"), el(T, "Interval", "1"), el(T, "DayOfMonth", "10"), el(T, "Start", "2026-12-10T00:00:00.000Z")),
		},
		stored: []want{
			{"VTODO", "SUMMARY", "Quarterly report", nil},
			{"VTODO", "DESCRIPTION", "Numbers from Q3", nil},
			{"VTODO", "PRIORITY", "1", nil},
			{"VTODO", "CATEGORIES", "Office", nil},
			{"VTODO/VALARM", "TRIGGER", "20261210T080000Z", nil},
			{"VTODO", "RRULE", "FREQ=MONTHLY;BYMONTHDAY=10", nil},
			{"VTODO", "DTSTART", "20261201T080000Z", nil},
			{"VTODO", "DUE", "20261210T160000Z", nil},
			{"VTODO", "STATUS", "NEEDS-ACTION", nil},
		},
		back: map[string]string{
			"Tasks:Subject": "Quarterly report", "AirSyncBase:Body/AirSyncBase:Data": "Numbers from Q3", "Tasks:Importance": "2",
			"Tasks:UtcStartDate": "2026-12-01T08:00:00.000Z", "Tasks:UtcDueDate": "2026-12-10T16:00:00.000Z",
			"Tasks:Complete": "0", "Tasks:ReminderSet": "1", "Tasks:ReminderTime": "2026-12-10T08:00:00.000Z",
			"Tasks:Categories/Tasks:Category": "Office", "Tasks:Recurrence/Tasks:Type": "2", "Tasks:Recurrence/Tasks:DayOfMonth": "10",
		},
	}, {
		name: "completed task 14.1", version: "14.1", folderType: 7, marker: "Renew passport",
		app: []*wbxml.Element{
			el(T, "Subject", "Renew passport"), el(T, "Importance", "0"),
			el(T, "UtcDueDate", "2026-11-30T23:00:00.000Z"), el(T, "DueDate", "2026-12-01T00:00:00.000Z"),
			el(T, "Complete", "1"), el(T, "DateCompleted", "2026-11-28T10:00:00.000Z"), el(T, "ReminderSet", "0"),
		},
		stored: []want{
			{"VTODO", "SUMMARY", "Renew passport", nil},
			{"VTODO", "STATUS", "COMPLETED", nil},
			{"VTODO", "COMPLETED", "20261128T100000Z", nil},
			{"VTODO", "PRIORITY", "9", nil},
			{"VTODO", "DUE", "20261201", []string{"VALUE=DATE"}},
		},
		back: map[string]string{
			"Tasks:Subject": "Renew passport", "Tasks:Complete": "1", "Tasks:DateCompleted": "2026-11-28T10:00:00.000Z",
			"Tasks:Importance": "0", "Tasks:DueDate": "2026-12-01T00:00:00.000Z",
		},
	}, {
		name: "note 16.1", version: "16.1", folderType: 10, marker: "Gift ideas",
		app: []*wbxml.Element{
			el(N, "Subject", "Gift ideas"),
			wbxml.New(B, "Body", el(B, "Type", "1"), el(B, "Data", "Books, tea")),
			wbxml.New(N, "Categories", el(N, "Category", "Private")),
			el(N, "MessageClass", "IPM.StickyNote"),
		},
		stored: []want{
			{"VJOURNAL", "SUMMARY", "Gift ideas", nil},
			{"VJOURNAL", "DESCRIPTION", `Books\, tea`, nil},
			{"VJOURNAL", "CATEGORIES", "Private", nil},
		},
		back: map[string]string{
			"Notes:Subject": "Gift ideas", "AirSyncBase:Body/AirSyncBase:Data": "Books, tea", "Notes:Categories/Notes:Category": "Private",
			"Notes:MessageClass": "IPM.StickyNote",
		},
	}}
}

func TestDAVFieldRoundTrips(t *testing.T) {
	w, seed := davWorld(t)
	ns := wbxml.NSAirSync
	colls := map[int]string{8: seed.Calendar, 9: seed.Contacts, 7: seed.Tasks, 10: seed.Notes}
	for i, tc := range fieldCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := davPhone(t, w, tc.version, fmt.Sprintf("fields1-%d", i))
			var coll string
			for _, f := range folderIDs(t, c) {
				if f.Type == tc.folderType {
					coll = f.ServerID
				}
			}
			key, _ := syncAll(t, c, coll)
			a := syncOnce(t, c, coll, key, 100, wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "f1"),
				wbxml.New(ns, "ApplicationData", tc.app...)))
			if len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "1" {
				t.Fatalf("add: %s", wbxml.XMLString(a.root))
			}
			// Radicale's side.
			var body []byte
			for _, p := range w.dav.List(t, "alice", colls[tc.folderType]) {
				if b, _ := w.dav.Get(t, "alice", p); bytes.Contains(b, []byte(tc.marker)) {
					body = b
				}
			}
			if body == nil {
				for _, p := range w.dav.List(t, "alice", colls[tc.folderType]) {
					b, _ := w.dav.Get(t, "alice", p)
					t.Logf("%s:\n%s", p, b)
				}
				t.Fatalf("no object with %q in %s", tc.marker, colls[tc.folderType])
			}
			props := parseStored(t, body)
			for _, wnt := range tc.stored {
				ok := false
				for _, p := range props {
					ok = ok || wnt.matches(p)
				}
				if !ok {
					t.Errorf("Radicale lacks %s %s=%q %v", wnt.comp, wnt.name, wnt.value, wnt.params)
				}
			}
			if t.Failed() {
				t.Logf("stored:\n%s", body)
			}
			// Back to a second phone.
			other := davPhone(t, w, tc.version, fmt.Sprintf("fields2-%d", i))
			folderIDs(t, other)
			_, got := syncAll(t, other, coll)
			var item *wbxml.Element
			for _, d := range got {
				if strings.Contains(wbxml.XMLString(d), tc.marker) || easField(d, "Calendar:UID") == tc.marker {
					item = d
				}
			}
			if item == nil {
				t.Fatalf("the second phone does not get the item")
			}
			for path, v := range tc.back {
				if got := easField(item, path); got != v {
					t.Errorf("second phone: %s = %q, want %q", path, got, v)
				}
			}
			if t.Failed() {
				t.Logf("second phone got:\n%s", wbxml.XMLString(item))
			}
		})
	}
}
