package testenv

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// DAVSeed describes what SeedDefault created for one user. Paths are
// absolute paths on the server, collections end in "/".
type DAVSeed struct {
	User      string
	Principal string // "/alice/"
	Home      string // calendar-home-set and addressbook-home-set, "/alice/"

	Calendar string // "/alice/calendar/": VEVENT, the default calendar
	Work     string // "/alice/work/": VEVENT
	Tasks    string // "/alice/tasks/": VTODO
	Notes    string // "/alice/notes/": VJOURNAL
	Contacts string // "/alice/contacts/": address book, the default one
	Office   string // "/alice/office/": address book

	Objects []DAVObject // every item stored, in creation order
}

// DAVObject is one seeded calendar object or vCard.
type DAVObject struct {
	Collection  string // path of the collection holding it
	Path        string // e.g. "/alice/calendar/alice-standup.ics"
	UID         string // iCalendar / vCard UID
	Summary     string // SUMMARY of the component, FN of the vCard
	ContentType string
	ETag        string // as returned by the PUT
	Body        []byte
}

// In returns the seeded objects of collection.
func (s DAVSeed) In(collection string) []DAVObject {
	var out []DAVObject
	for _, o := range s.Objects {
		if o.Collection == collection {
			out = append(out, o)
		}
	}
	return out
}

// Calendars returns the paths of the four seeded calendar collections.
func (s DAVSeed) Calendars() []string { return []string{s.Calendar, s.Work, s.Tasks, s.Notes} }

// AddressBooks returns the paths of the two seeded address books.
func (s DAVSeed) AddressBooks() []string { return []string{s.Contacts, s.Office} }

// SeedDefault creates for user the collections calendar (VEVENT, the
// default), work (VEVENT), tasks (VTODO), notes (VJOURNAL), contacts and
// office (address books), each holding two items. Event times are relative
// to now (the next days, UTC, one in Europe/Berlin) so they fall into
// typical sync windows. UIDs are "<user>-<key>@example.test".
func (r *Radicale) SeedDefault(t testing.TB, user string) DAVSeed {
	t.Helper()
	s, err := r.seedDefault(user, time.Now().UTC())
	if err != nil {
		t.Fatalf("testenv: seed %s: %v", user, err)
	}
	return s
}

func (r *Radicale) seedDefault(user string, now time.Time) (DAVSeed, error) {
	u, err := findUser(r.Users, user)
	if err != nil {
		return DAVSeed{}, err
	}
	home := "/" + u.Name + "/"
	s := DAVSeed{User: u.Name, Principal: home, Home: home}

	for _, c := range []struct {
		dst         *string
		name, title string
		comp        string
	}{
		{&s.Calendar, "calendar", "Calendar", "VEVENT"},
		{&s.Work, "work", "Work", "VEVENT"},
		{&s.Tasks, "tasks", "Tasks", "VTODO"},
		{&s.Notes, "notes", "Notes", "VJOURNAL"},
	} {
		if *c.dst, err = r.makeCalendar(u.Name, c.name, c.title, c.comp); err != nil {
			return DAVSeed{}, err
		}
	}
	if s.Contacts, err = r.makeAddressBook(u.Name, "contacts", "Contacts"); err != nil {
		return DAVSeed{}, err
	}
	if s.Office, err = r.makeAddressBook(u.Name, "office", "Office"); err != nil {
		return DAVSeed{}, err
	}

	day := now.Truncate(24 * time.Hour)
	stamp := now.Format(icalUTC)
	utc := func(days, hours int) string {
		return day.AddDate(0, 0, days).Add(time.Duration(hours) * time.Hour).Format(icalUTC)
	}
	date := func(days int) string { return day.AddDate(0, 0, days).Format("20060102") }
	local := func(days, hours int) string {
		return day.AddDate(0, 0, days).Add(time.Duration(hours) * time.Hour).Format("20060102T150405")
	}
	uid := func(key string) string { return u.Name + "-" + key + "@" + Domain }

	type item struct {
		coll, key, summary string
		lines              []string // component or vCard properties, without UID
		kind               string   // VEVENT, VTODO, VJOURNAL or VCARD
		extra              string   // text placed before the component (VTIMEZONE)
	}
	items := []item{
		{s.Calendar, "standup", "Daily standup", []string{
			"DTSTART:" + utc(1, 9), "DURATION:PT15M",
			"RRULE:FREQ=DAILY;COUNT=10", "LOCATION:Room 1",
		}, "VEVENT", ""},
		{s.Calendar, "dentist", "Dentist", []string{
			"DTSTART;VALUE=DATE:" + date(2), "DTEND;VALUE=DATE:" + date(3), "TRANSP:TRANSPARENT",
		}, "VEVENT", ""},
		{s.Work, "review", "Quarterly review", []string{
			"DTSTART;TZID=Europe/Berlin:" + local(3, 14), "DTEND;TZID=Europe/Berlin:" + local(3, 15),
			"ORGANIZER;CN=" + u.Name + ":mailto:" + u.Email(),
			"ATTENDEE;CN=Carol;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:carol@" + Domain,
			"DESCRIPTION:Numbers\\, plans and a line break\\nsecond line",
		}, "VEVENT", berlinTZ},
		{s.Work, "kickoff", "Project kickoff", []string{
			"DTSTART:" + utc(4, 13), "DTEND:" + utc(4, 14), "LOCATION:Main office",
			"BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "END:VALARM",
		}, "VEVENT", ""},
		{s.Tasks, "milk", "Buy milk", []string{
			"DUE:" + utc(1, 18), "PRIORITY:1", "STATUS:NEEDS-ACTION",
		}, "VTODO", ""},
		{s.Tasks, "taxes", "File taxes", []string{
			"DUE:" + utc(-1, 12), "STATUS:COMPLETED", "COMPLETED:" + utc(-1, 10), "PERCENT-COMPLETE:100",
		}, "VTODO", ""},
		{s.Notes, "minutes", "Meeting minutes", []string{
			"DTSTART;VALUE=DATE:" + date(0), "DESCRIPTION:Decided to ship on Friday.",
		}, "VJOURNAL", ""},
		{s.Notes, "ideas", "Ideas", []string{
			"DTSTART;VALUE=DATE:" + date(-2), "DESCRIPTION:Try the new sync window.",
		}, "VJOURNAL", ""},
		{s.Contacts, "carol", "Carol Example", []string{
			"N:Example;Carol;;;", "EMAIL;TYPE=INTERNET:carol@" + Domain, "TEL;TYPE=CELL:+49 170 0000001",
			"ORG:Example Corp",
		}, "VCARD", ""},
		{s.Contacts, "dave", "Dave Example", []string{
			"N:Example;Dave;;;", "EMAIL;TYPE=INTERNET:dave@" + Domain, "TEL;TYPE=HOME:+49 30 0000002",
		}, "VCARD", ""},
		{s.Office, "erin", "Erin Office", []string{
			"N:Office;Erin;;;", "EMAIL;TYPE=INTERNET,WORK:erin@" + Domain, "ORG:Office Ltd", "TITLE:Manager",
		}, "VCARD", ""},
		{s.Office, "frank", "Frank Office", []string{
			"N:Office;Frank;;;", "EMAIL;TYPE=INTERNET,WORK:frank@" + Domain, "ORG:Office Ltd",
		}, "VCARD", ""},
	}
	for _, it := range items {
		var b strings.Builder
		w := func(l string) { b.WriteString(l + "\r\n") }
		id := uid(it.key)
		var contentType, ext string
		if it.kind == "VCARD" {
			contentType, ext = "text/vcard; charset=utf-8", ".vcf"
			w("BEGIN:VCARD")
			w("VERSION:3.0")
			w("UID:" + id)
			w("FN:" + it.summary)
			for _, l := range it.lines {
				w(l)
			}
			w("REV:" + stamp)
			w("END:VCARD")
		} else {
			contentType, ext = "text/calendar; charset=utf-8", ".ics"
			w("BEGIN:VCALENDAR")
			w("VERSION:2.0")
			w("PRODID:-//easbridge//testenv//EN")
			if it.extra != "" {
				b.WriteString(it.extra)
			}
			w("BEGIN:" + it.kind)
			w("UID:" + id)
			w("DTSTAMP:" + stamp)
			w("SUMMARY:" + it.summary)
			for _, l := range it.lines {
				w(l)
			}
			w("END:" + it.kind)
			w("END:VCALENDAR")
		}
		path := it.coll + u.Name + "-" + it.key + ext
		body := []byte(b.String())
		etag, err := r.put(u.Name, path, contentType, body)
		if err != nil {
			return DAVSeed{}, err
		}
		s.Objects = append(s.Objects, DAVObject{
			Collection:  it.coll,
			Path:        path,
			UID:         id,
			Summary:     it.summary,
			ContentType: contentType,
			ETag:        etag,
			Body:        body,
		})
	}
	return s, nil
}

const icalUTC = "20060102T150405Z"

// berlinTZ is the VTIMEZONE for Europe/Berlin (CET/CEST since 1996).
const berlinTZ = "BEGIN:VTIMEZONE\r\n" +
	"TZID:Europe/Berlin\r\n" +
	"BEGIN:DAYLIGHT\r\n" +
	"TZOFFSETFROM:+0100\r\n" +
	"TZOFFSETTO:+0200\r\n" +
	"TZNAME:CEST\r\n" +
	"DTSTART:19700329T020000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n" +
	"END:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\n" +
	"TZOFFSETFROM:+0200\r\n" +
	"TZOFFSETTO:+0100\r\n" +
	"TZNAME:CET\r\n" +
	"DTSTART:19701025T030000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n" +
	"END:STANDARD\r\n" +
	"END:VTIMEZONE\r\n"

// String summarises the seed for test logs.
func (s DAVSeed) String() string {
	return fmt.Sprintf("seed of %s: %d objects in %v and %v", s.User, len(s.Objects), s.Calendars(), s.AddressBooks())
}
