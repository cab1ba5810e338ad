package demo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

// The seeded collections.
const (
	calendarPath = calendarHome + "calendar/"
	tasksPath    = calendarHome + "tasks/"
	notesPath    = calendarHome + "notes/"
	contactsPath = contactsHome + "contacts/"
)

// newDAVStore creates the collections and seeds them relative to now.
// address is the demo user's e-mail address (an attendee of one event).
func newDAVStore(address string, now time.Time, clock func() time.Time) (*davStore, error) {
	s := &davStore{
		clock:     clock,
		calendars: make(map[string]*davCollection),
		books:     make(map[string]*davCollection),
	}
	for _, c := range []caldav.Calendar{
		{Path: calendarPath, Name: "Calendar", Description: "Demo calendar", SupportedComponentSet: []string{ical.CompEvent}},
		{Path: tasksPath, Name: "Tasks", Description: "Demo tasks", SupportedComponentSet: []string{ical.CompToDo}},
		{Path: notesPath, Name: "Notes", Description: "Demo notes", SupportedComponentSet: []string{ical.CompJournal}},
	} {
		s.calendars[c.Path] = &davCollection{calendar: c, objects: make(map[string]*davObject)}
	}
	s.books[contactsPath] = &davCollection{
		book: carddav.AddressBook{
			Path:        contactsPath,
			Name:        "Contacts",
			Description: "Demo contacts",
			SupportedAddressData: []carddav.AddressDataType{
				{ContentType: vcard.MIMEType, Version: "3.0"},
			},
		},
		objects: make(map[string]*davObject),
	}

	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return nil, fmt.Errorf("load Europe/Berlin: %w", err)
	}
	g := calendarSeeder{now: now, loc: berlin, address: address}
	for _, o := range g.objects() {
		if _, err := s.putCalendarObject(o.path, o.cal, "", "", now); err != nil {
			return nil, fmt.Errorf("seed %s: %w", o.path, err)
		}
	}
	for name, card := range seedContacts(now) {
		p := contactsPath + name + ".vcf"
		if _, err := s.putAddressObject(p, card, "", "", now); err != nil {
			return nil, fmt.Errorf("seed %s: %w", p, err)
		}
	}
	return s, nil
}

type seedObject struct {
	path string
	cal  *ical.Calendar
}

// calendarSeeder builds the demo events, tasks and notes.
type calendarSeeder struct {
	now     time.Time
	loc     *time.Location
	address string
}

// at returns local time hour:min, days after today, in g.loc.
func (g calendarSeeder) at(days, hour, min int) time.Time {
	t := g.now.In(g.loc)
	return time.Date(t.Year(), t.Month(), t.Day()+days, hour, min, 0, 0, g.loc)
}

// date returns the date days after today (for all-day values).
func (g calendarSeeder) date(days int) time.Time {
	t := g.now.In(g.loc)
	return time.Date(t.Year(), t.Month(), t.Day()+days, 0, 0, 0, 0, time.UTC)
}

// calendar returns an empty VCALENDAR, with the Europe/Berlin VTIMEZONE
// when the components use local times.
func (g calendarSeeder) calendar(withTZ bool, comps ...*ical.Component) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, "-//easbridge//demo//EN")
	cal.Props.SetText(ical.PropVersion, "2.0")
	if withTZ {
		cal.Children = append(cal.Children, berlinTimezone())
	}
	cal.Children = append(cal.Children, comps...)
	return cal
}

// component returns a VEVENT, VTODO or VJOURNAL with UID, DTSTAMP and
// SUMMARY.
func (g calendarSeeder) component(name, uid, summary string) *ical.Component {
	c := ical.NewComponent(name)
	c.Props.SetText(ical.PropUID, uid+"@easbridge.demo")
	c.Props.SetDateTime(ical.PropDateTimeStamp, g.now.UTC())
	c.Props.SetDateTime(ical.PropCreated, g.now.Add(-30*24*time.Hour).UTC())
	c.Props.SetText(ical.PropSummary, summary)
	return c
}

func (g calendarSeeder) event(uid, summary string, start, end time.Time) *ical.Component {
	e := g.component(ical.CompEvent, uid, summary)
	e.Props.SetDateTime(ical.PropDateTimeStart, start)
	e.Props.SetDateTime(ical.PropDateTimeEnd, end)
	return e
}

func (g calendarSeeder) objects() []seedObject {
	var out []seedObject
	add := func(coll, name string, cal *ical.Calendar) {
		out = append(out, seedObject{path: coll + name + ".ics", cal: cal})
	}

	// Weekly stand-up, started two weeks ago; next week's is moved to 11:00.
	first := g.at(-14, 9, 30)
	standup := g.event("standup", "Team stand-up", first, first.Add(15*time.Minute))
	standup.Props.SetText(ical.PropLocation, "Video call")
	rrule := ical.NewProp(ical.PropRecurrenceRule)
	rrule.Value = "FREQ=WEEKLY;COUNT=10"
	standup.Props.Set(rrule)
	moved := g.event("standup", "Team stand-up (moved)", g.at(7, 11, 0), g.at(7, 11, 15))
	moved.Props.SetText(ical.PropLocation, "Video call")
	moved.Props.SetDateTime(ical.PropRecurrenceID, g.at(7, 9, 30))
	setInt(moved.Props, ical.PropSequence, 1)
	add(calendarPath, "standup", g.calendar(true, standup, moved))

	// A meeting with attendees, organised by someone else.
	kickoff := g.event("garden-kickoff", "Kick-off: community garden", g.at(1, 10, 0), g.at(1, 11, 30))
	kickoff.Props.SetText(ical.PropLocation, "Meeting room Linde")
	kickoff.Props.SetText(ical.PropDescription, "Agenda:\n1. Budget\n2. Timeline\n3. Who builds the raised beds?")
	kickoff.Props.Set(calAddress(ical.PropOrganizer, "Sophie Laurent", "sophie.laurent@example.org", nil))
	for _, a := range []struct{ name, addr, role, partstat string }{
		{"Demo User", g.address, "REQ-PARTICIPANT", "NEEDS-ACTION"},
		{"Anna Schmidt", "anna.schmidt@example.com", "REQ-PARTICIPANT", "ACCEPTED"},
		{"Tom Becker", "tom.becker@example.com", "OPT-PARTICIPANT", "TENTATIVE"},
	} {
		kickoff.Props.Add(calAddress(ical.PropAttendee, a.name, a.addr, map[string]string{
			"ROLE": a.role, "PARTSTAT": a.partstat, "RSVP": "TRUE", "CUTYPE": "INDIVIDUAL",
		}))
	}
	add(calendarPath, "garden-kickoff", g.calendar(true, kickoff))

	// An appointment with a reminder.
	dentist := g.event("dentist", "Dentist", g.at(2, 14, 0), g.at(2, 14, 45))
	dentist.Props.SetText(ical.PropLocation, "Dr. Weber, Hauptstraße 12, Berlin")
	alarm := ical.NewComponent(ical.CompAlarm)
	alarm.Props.SetText(ical.PropAction, "DISPLAY")
	alarm.Props.SetText(ical.PropDescription, "Dentist")
	trigger := ical.NewProp(ical.PropTrigger)
	trigger.Value = "-PT30M"
	alarm.Props.Set(trigger)
	dentist.Children = append(dentist.Children, alarm)
	add(calendarPath, "dentist", g.calendar(true, dentist))

	// An all-day event.
	party := g.component(ical.CompEvent, "summer-party", "Summer party")
	party.Props.SetDate(ical.PropDateTimeStart, g.date(5))
	party.Props.SetDate(ical.PropDateTimeEnd, g.date(6))
	party.Props.SetText(ical.PropTransparency, "TRANSPARENT")
	party.Props.SetText(ical.PropLocation, "Community garden")
	add(calendarPath, "summer-party", g.calendar(false, party))

	// A past evening event.
	dinner := g.event("dinner-lena", "Dinner with Lena", g.at(-3, 19, 0), g.at(-3, 21, 30))
	dinner.Props.SetText(ical.PropLocation, "Trattoria Da Marco")
	add(calendarPath, "dinner-lena", g.calendar(true, dinner))

	// Tasks: one due soon, one completed, one in progress without due date.
	seeds := g.component(ical.CompToDo, "buy-seeds", "Buy seeds for the raised bed")
	seeds.Props.SetDateTime(ical.PropDue, g.at(3, 18, 0))
	seeds.Props.SetText(ical.PropStatus, "NEEDS-ACTION")
	setInt(seeds.Props, ical.PropPriority, 1)
	add(tasksPath, "buy-seeds", g.calendar(true, seeds))

	passport := g.component(ical.CompToDo, "renew-passport", "Renew passport")
	passport.Props.SetDate(ical.PropDue, g.date(-1))
	passport.Props.SetText(ical.PropStatus, "COMPLETED")
	passport.Props.SetDateTime(ical.PropCompleted, g.now.Add(-2*24*time.Hour).UTC())
	setInt(passport.Props, ical.PropPercentComplete, 100)
	add(tasksPath, "renew-passport", g.calendar(false, passport))

	plan := g.component(ical.CompToDo, "plan-party", "Plan the summer party")
	plan.Props.SetText(ical.PropStatus, "IN-PROCESS")
	plan.Props.SetText(ical.PropDescription, "Drinks, music, a rain plan.")
	setInt(plan.Props, ical.PropPercentComplete, 40)
	add(tasksPath, "plan-party", g.calendar(false, plan))

	// Notes.
	wifi := g.component(ical.CompJournal, "guest-wifi", "Guest Wi-Fi")
	wifi.Props.SetDate(ical.PropDateTimeStart, g.date(-5))
	wifi.Props.SetText(ical.PropDescription, "Network: Gartenhaus\nPassword: tomaten-und-basilikum")
	add(notesPath, "guest-wifi", g.calendar(false, wifi))

	ideas := g.component(ical.CompJournal, "garden-ideas", "Ideas for the garden")
	ideas.Props.SetDate(ical.PropDateTimeStart, g.date(-1))
	ideas.Props.SetText(ical.PropDescription, "- Herb spiral by the terrace\n- Rain barrel at the shed\n- Sunflowers along the fence")
	add(notesPath, "garden-ideas", g.calendar(false, ideas))

	return out
}

// calAddress returns an ORGANIZER or ATTENDEE property.
func calAddress(name, cn, addr string, params map[string]string) *ical.Prop {
	p := ical.NewProp(name)
	p.Value = "mailto:" + addr
	p.Params.Set("CN", cn)
	for k, v := range params {
		p.Params.Set(k, v)
	}
	return p
}

func setInt(props ical.Props, name string, v int) {
	p := ical.NewProp(name)
	p.Value = strconv.Itoa(v)
	props.Set(p)
}

// berlinTimezone returns the VTIMEZONE for Europe/Berlin (EU rules since
// 1996).
func berlinTimezone() *ical.Component {
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.SetText(ical.PropTimezoneID, "Europe/Berlin")
	for _, r := range []struct {
		comp, name, from, to, start, rule string
	}{
		{ical.CompTimezoneDaylight, "CEST", "+0100", "+0200", "19700329T020000", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"},
		{ical.CompTimezoneStandard, "CET", "+0200", "+0100", "19701025T030000", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"},
	} {
		c := ical.NewComponent(r.comp)
		c.Props.SetText(ical.PropTimezoneName, r.name)
		for _, kv := range [][2]string{
			{ical.PropTimezoneOffsetFrom, r.from},
			{ical.PropTimezoneOffsetTo, r.to},
			{ical.PropDateTimeStart, r.start},
			{ical.PropRecurrenceRule, r.rule},
		} {
			p := ical.NewProp(kv[0])
			p.Value = kv[1]
			c.Props.Set(p)
		}
		tz.Children = append(tz.Children, c)
	}
	return tz
}

// seedContacts returns the demo address book, by file name.
func seedContacts(now time.Time) map[string]vcard.Card {
	type addr struct {
		typ                                     string
		street, city, region, postcode, country string
	}
	type person struct {
		file, given, family, org, title, bday, note string
		emails, phones                              [][2]string // type, value
		addrs                                       []addr
	}
	people := []person{
		{
			file: "anna-schmidt", given: "Anna", family: "Schmidt",
			org: "Grünwerk GmbH", title: "Project Manager", bday: "1988-04-12",
			emails: [][2]string{{"WORK", "anna.schmidt@example.com"}, {"HOME", "anna.s@example.net"}},
			phones: [][2]string{{"CELL", "+49 151 23456789"}, {"WORK", "+49 30 1234567"}},
			addrs: []addr{
				{"WORK", "Friedrichstraße 100", "Berlin", "Berlin", "10117", "Germany"},
				{"HOME", "Kastanienallee 7", "Berlin", "Berlin", "10435", "Germany"},
			},
		},
		{
			file: "tom-becker", given: "Tom", family: "Becker",
			org: "Grünwerk GmbH", title: "Legal Counsel",
			emails: [][2]string{{"WORK", "tom.becker@example.com"}, {"HOME", "tom@becker.example.org"}},
			phones: [][2]string{{"WORK", "+49 30 1234568"}, {"CELL", "+49 160 98765432"}},
			addrs: []addr{
				{"WORK", "Friedrichstraße 100", "Berlin", "Berlin", "10117", "Germany"},
			},
		},
		{
			file: "lena-wagner", given: "Lena", family: "Wagner",
			bday: "1991-09-30", note: "Met at the climbing gym.",
			emails: [][2]string{{"HOME", "lena.wagner@example.org"}, {"WORK", "l.wagner@uni-koeln.example.com"}},
			phones: [][2]string{{"CELL", "+49 176 55512345"}, {"HOME", "+49 221 4567890"}},
			addrs: []addr{
				{"HOME", "Severinstraße 21", "Köln", "Nordrhein-Westfalen", "50678", "Germany"},
			},
		},
		{
			file: "jonas-mueller", given: "Jonas", family: "Müller",
			org: "Müller Holzbau", title: "Carpenter", note: "Built the raised bed.",
			emails: [][2]string{{"WORK", "jonas@mueller-holzbau.example.net"}, {"HOME", "jonas.mueller@example.com"}},
			phones: [][2]string{{"WORK", "+49 33 2012345"}, {"CELL", "+49 171 2223334"}},
			addrs: []addr{
				{"WORK", "Am Sägewerk 3", "Potsdam", "Brandenburg", "14469", "Germany"},
				{"HOME", "Lindenweg 5", "Potsdam", "Brandenburg", "14467", "Germany"},
			},
		},
		{
			file: "sophie-laurent", given: "Sophie", family: "Laurent",
			org: "Grünwerk GmbH", title: "Head of Operations", bday: "1983-02-05",
			emails: [][2]string{{"WORK", "sophie.laurent@example.org"}, {"HOME", "sophie@laurent.example.com"}},
			phones: [][2]string{{"WORK", "+49 30 1234500"}, {"CELL", "+33 6 12 34 56 78"}},
			addrs: []addr{
				{"WORK", "Friedrichstraße 100", "Berlin", "Berlin", "10117", "Germany"},
				{"HOME", "12 rue des Lilas", "Paris", "Île-de-France", "75011", "France"},
			},
		},
	}

	out := make(map[string]vcard.Card, len(people))
	for _, p := range people {
		c := make(vcard.Card)
		c.SetValue(vcard.FieldVersion, "3.0")
		c.SetValue(vcard.FieldUID, p.file+"@easbridge.demo")
		c.SetValue(vcard.FieldFormattedName, p.given+" "+p.family)
		c.SetName(&vcard.Name{GivenName: p.given, FamilyName: p.family})
		if p.org != "" {
			c.SetValue(vcard.FieldOrganization, p.org)
		}
		if p.title != "" {
			c.SetValue(vcard.FieldTitle, p.title)
		}
		if p.bday != "" {
			c.SetValue(vcard.FieldBirthday, p.bday)
		}
		if p.note != "" {
			c.SetValue(vcard.FieldNote, p.note)
		}
		for i, e := range p.emails {
			types := []string{"INTERNET", e[0]}
			if i == 0 {
				types = append(types, "PREF")
			}
			c.Add(vcard.FieldEmail, &vcard.Field{Value: e[1], Params: vcard.Params{vcard.ParamType: types}})
		}
		for _, t := range p.phones {
			types := []string{t[0]}
			if t[0] != "CELL" {
				types = append(types, "VOICE")
			}
			c.Add(vcard.FieldTelephone, &vcard.Field{Value: t[1], Params: vcard.Params{vcard.ParamType: types}})
		}
		for _, a := range p.addrs {
			c.AddAddress(&vcard.Address{
				Field:         &vcard.Field{Params: vcard.Params{vcard.ParamType: {a.typ}}},
				StreetAddress: a.street,
				Locality:      a.city,
				Region:        a.region,
				PostalCode:    a.postcode,
				Country:       a.country,
			})
		}
		c.SetRevision(now.UTC())
		out[p.file] = c
	}
	return out
}
