package calconv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// iTIP (RFC 5546) over iMIP (RFC 6047): what a meeting message says, the
// user's answer written into the stored event, and the REPLY sent to the
// organizer.

// Errors of the iTIP functions; they wrap ErrInvalid so that callers that
// only know ErrInvalid still see bad input.
var (
	// ErrNotAttendee: the user is not an ATTENDEE of the meeting.
	ErrNotAttendee = fmt.Errorf("%w: the user is not an attendee", ErrInvalid)
	// ErrOrganizer: the user organised the meeting; organizers do not
	// answer their own meetings (MS-ASCMD 2.2.3.177.9 Status 2).
	ErrOrganizer = fmt.Errorf("%w: the user is the organizer", ErrInvalid)
	// ErrNoInstance: the occurrence named does not exist (the event does
	// not recur).
	ErrNoInstance = fmt.Errorf("%w: no such occurrence", ErrInvalid)
)

// Participation statuses (RFC 5545 3.2.12) an attendee answers with.
const (
	PartstatAccepted  = "ACCEPTED"
	PartstatTentative = "TENTATIVE"
	PartstatDeclined  = "DECLINED"
)

// Invitation is one meeting message's iTIP object as the Email class
// shows it in MeetingRequest (MS-ASEMAIL 2.2.2.48).
type Invitation struct {
	Method       string    // upper case: REQUEST, CANCEL, REPLY, …; "" when the object has none
	UID          string    // UID of the meeting
	Sequence     int       // SEQUENCE, 0 when absent
	RecurrenceID time.Time // the occurrence the message is about; zero for the whole meeting
	AllDay       bool
	Start, End   time.Time // instants; all-day events: midnight UTC of the dates
	DtStamp      time.Time
	Subject      string
	Location     string
	Organizer    string // address
	OrganizerCN  string
	Reminder     int // minutes before the start; -1 none
	// ResponseRequested: the user's ATTENDEE has RSVP=TRUE (else any
	// attendee has, when the user is not listed by address).
	ResponseRequested bool
	Sensitivity       int    // MS-ASEMAIL 2.2.2.71 (CLASS)
	BusyStatus        int    // intended busy status, MS-ASEMAIL 2.2.2.13
	TimeZone          string // base64 TIME_ZONE_INFORMATION, MS-ASDTYPE 2.7.6
	DisallowNewTime   bool   // X-MICROSOFT-DISALLOW-COUNTER
	// AttendeeStatus is the PARTSTAT of the first ATTENDEE, the answer of
	// a REPLY (upper case, "" when absent).
	AttendeeStatus string
	rec            *recurrence
}

// Recurring reports whether the message is about a recurring meeting
// (the whole series).
func (inv *Invitation) Recurring() bool { return inv.rec != nil }

// ParseInvitation reads the text/calendar part of a meeting message. The
// first VEVENT without RECURRENCE-ID is the meeting; a message about one
// occurrence only has its override. userAddress is the user's address
// (several separated by commas), for ResponseRequested.
func ParseInvitation(data []byte, userAddress string) (inv *Invitation, err error) {
	defer guard(&err, "invitation")
	root, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("calconv: invitation: %w", err)
	}
	master, _, err := splitEvents(root)
	if err != nil {
		return nil, fmt.Errorf("calconv: invitation: %w", err)
	}
	cal := newCalendar(root)
	isMaster := master.get("RECURRENCE-ID") == nil
	ev, err := readEvent(cal, master, isMaster)
	if err != nil {
		return nil, fmt.Errorf("calconv: invitation: %w", err)
	}
	inv = &Invitation{
		Method:          strings.ToUpper(strings.TrimSpace(root.text("METHOD"))),
		UID:             master.text("UID"),
		RecurrenceID:    ev.recurrenceID,
		AllDay:          ev.allDay,
		Start:           ev.start,
		End:             ev.end,
		DtStamp:         ev.dtstamp,
		Subject:         ev.subject,
		Location:        ev.location,
		Organizer:       ev.organizer.email,
		OrganizerCN:     ev.organizer.name,
		Reminder:        ev.reminder,
		Sensitivity:     ev.sensitivity,
		BusyStatus:      intendedBusy(master, ev.busy),
		TimeZone:        encodeTZBlob(ev.blob()),
		DisallowNewTime: ev.disallow,
		rec:             ev.rec,
	}
	if n, err := strconv.Atoi(strings.TrimSpace(master.text("SEQUENCE"))); err == nil && n > 0 {
		inv.Sequence = n
	}
	if p := master.get("ATTENDEE"); p != nil {
		inv.AttendeeStatus = strings.ToUpper(p.param("PARTSTAT"))
	}
	users := splitAddrs(userAddress)
	found := false
	for _, a := range ev.attendees {
		for _, u := range users {
			if sameAddr(a.email, u) {
				inv.ResponseRequested, found = a.rsvp, true
			}
		}
	}
	if !found {
		for _, a := range ev.attendees {
			inv.ResponseRequested = inv.ResponseRequested || a.rsvp
		}
	}
	return inv, nil
}

// intendedBusy is the busy status the organizer means for attendees
// (X-MICROSOFT-CDO-INTENDEDSTATUS), else the event's own.
func intendedBusy(c *component, busy int) int {
	if b, ok := cdoBusy(c.text("X-MICROSOFT-CDO-INTENDEDSTATUS")); ok {
		return b
	}
	return busy
}

func splitAddrs(s string) []string {
	var out []string
	for _, a := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if a = strings.Trim(a, "<>"); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// RecurrenceElement is the Email Recurrences element (MS-ASEMAIL
// 2.2.2.62, 2.2.2.60) of a recurring meeting, nil for a single one:
// Type, Interval, Until (compact DateTime) or Occurrences, WeekOfMonth,
// DayOfMonth, DayOfWeek, MonthOfYear, and from 14.0 email2:CalendarType
// and IsLeapMonth, from 14.1 email2:FirstDayOfWeek.
func (inv *Invitation) RecurrenceElement(v eas.Version) *wbxml.Element {
	rec := inv.rec
	if rec == nil {
		return nil
	}
	const E, E2 = wbxml.NSEmail, wbxml.NSEmail2
	r := wbxml.New(E, "Recurrence", wbxml.Int(E, "Type", rec.Type), wbxml.Int(E, "Interval", max(rec.Interval, 1)))
	if rec.Occurrences > 0 {
		r.Add(wbxml.Int(E, "Occurrences", rec.Occurrences))
	} else if !rec.Until.IsZero() {
		r.Add(wbxml.Text(E, "Until", compact(rec.Until)))
	}
	switch rec.Type {
	case 0:
		if rec.DayOfWeek != 0 {
			r.Add(wbxml.Int(E, "DayOfWeek", rec.DayOfWeek))
		}
	case 1:
		r.Add(wbxml.Int(E, "DayOfWeek", rec.DayOfWeek))
	case 2:
		r.Add(wbxml.Int(E, "DayOfMonth", rec.DayOfMonth))
	case 3:
		r.Add(wbxml.Int(E, "WeekOfMonth", rec.WeekOfMonth), wbxml.Int(E, "DayOfWeek", rec.DayOfWeek))
	case 5:
		r.Add(wbxml.Int(E, "DayOfMonth", rec.DayOfMonth), wbxml.Int(E, "MonthOfYear", rec.MonthOfYear))
	case 6:
		r.Add(wbxml.Int(E, "WeekOfMonth", rec.WeekOfMonth), wbxml.Int(E, "DayOfWeek", rec.DayOfWeek),
			wbxml.Int(E, "MonthOfYear", rec.MonthOfYear))
	}
	if v.AtLeast(eas.V140) {
		r.Add(wbxml.Int(E2, "CalendarType", 1), // MS-ASEMAIL 2.2.2.15: 1 Gregorian
			wbxml.Int(E2, "IsLeapMonth", 0))
	}
	fdow := rec.FirstDayOfWeek
	if fdow < 0 {
		fdow = 1 // RFC 5545 3.3.10: WKST defaults to Monday
	}
	if v.AtLeast(eas.V141) && fdow <= 6 {
		r.Add(wbxml.Int(E2, "FirstDayOfWeek", fdow))
	}
	return wbxml.New(E, "Recurrences", r)
}

// EventFromInvitation turns the iTIP object of a REQUEST into the
// calendar object resource to store (RFC 4791 4.1): METHOD is dropped,
// and only the VEVENTs of the meeting's UID and the VTIMEZONEs stay.
func EventFromInvitation(data []byte) (ics []byte, uid string, err error) {
	defer guard(&err, "invitation to event")
	root, err := parseObject(data)
	if err != nil {
		return nil, "", fmt.Errorf("calconv: invitation: %w", err)
	}
	master, _, err := splitEvents(root)
	if err != nil {
		return nil, "", fmt.Errorf("calconv: invitation: %w", err)
	}
	uid = master.text("UID")
	if uid == "" {
		return nil, "", fmt.Errorf("calconv: invitation: %w: VEVENT without UID", ErrInvalid)
	}
	root.del("METHOD")
	var keep []*component
	for _, c := range root.Children {
		if c.Name == "VTIMEZONE" || (c.Name == "VEVENT" && c.text("UID") == uid) {
			keep = append(keep, c)
		}
	}
	root.Children = keep
	return encodeObject(root), uid, nil
}

// Answer is the user's answer to a meeting.
type Answer struct {
	User     string    // the user's address
	Partstat string    // PartstatAccepted, PartstatTentative or PartstatDeclined
	Instance time.Time // one occurrence (16.x InstanceId); zero for the whole meeting
	Comment  string    // the user's note to the organizer, for the REPLY
	Now      time.Time // DTSTAMP; zero: time.Now
	// Join adds the user as an ATTENDEE when not listed: an invitation
	// that reached the user through a mailing list or an alias (RFC 5546
	// 3.2.3: the organizer decides what to do with such a REPLY).
	Join bool
}

func (a Answer) now() time.Time {
	if a.Now.IsZero() {
		return time.Now().UTC().Truncate(time.Second)
	}
	return a.Now.UTC().Truncate(time.Second)
}

// SetPartstat writes the user's answer into a stored event: the
// PARTSTAT of the user's ATTENDEE (RSVP stays: the organizer still wants
// to hear of a changed answer) in the
// meeting and every override, or, for one occurrence, in its override
// (created from the meeting when there is none). The organizer's
// properties (SEQUENCE, the attendee list) stay as they are.
func SetPartstat(data []byte, a Answer) (out []byte, err error) {
	defer guard(&err, "set PARTSTAT")
	switch a.Partstat {
	case PartstatAccepted, PartstatTentative, PartstatDeclined:
	default:
		return nil, fmt.Errorf("calconv: set PARTSTAT: %w: %q", ErrInvalid, a.Partstat)
	}
	root, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("calconv: set PARTSTAT: %w", err)
	}
	comps, err := answerTargets(root, a, true)
	if err != nil {
		return nil, fmt.Errorf("calconv: set PARTSTAT: %w", err)
	}
	set := false
	for _, c := range comps {
		for _, p := range c.all("ATTENDEE") {
			if sameAddr(attendeeOf(p).email, a.User) {
				p.setParam("PARTSTAT", a.Partstat)
				set = true
			}
		}
		stamp(c, a.now())
	}
	if !set && a.Join {
		for _, c := range comps {
			c.add(&prop{Name: "ATTENDEE", Value: "mailto:" + a.User, Params: []param{
				{Name: "ROLE", Values: []string{"REQ-PARTICIPANT"}}, {Name: "PARTSTAT", Values: []string{a.Partstat}}}})
		}
		set = true
	}
	if !set {
		return nil, fmt.Errorf("calconv: set PARTSTAT: %w", ErrNotAttendee)
	}
	return encodeObject(root), nil
}

// answerTargets returns the VEVENTs an answer applies to: the meeting
// and its overrides, or the one occurrence's override (created when
// create is set and there is none). It refuses the organizer's own
// meetings and users who are not attendees.
func answerTargets(root *component, a Answer, create bool) ([]*component, error) {
	master, overrides, err := splitEvents(root)
	if err != nil {
		return nil, err
	}
	cal := newCalendar(root)
	m, err := readEvent(cal, master, master.get("RECURRENCE-ID") == nil)
	if err != nil {
		return nil, err
	}
	if m.organizer.email != "" && sameAddr(m.organizer.email, a.User) {
		return nil, ErrOrganizer
	}
	isAttendee := false
	for _, at := range m.attendees {
		isAttendee = isAttendee || sameAddr(at.email, a.User)
	}
	if !isAttendee && !a.Join {
		return nil, ErrNotAttendee
	}
	if a.Instance.IsZero() {
		return append([]*component{master}, overrides...), nil
	}
	orig := a.Instance.UTC()
	if m.allDay {
		orig = allDayDate(orig, utcZone, false)
	}
	if !m.hasRecurrence {
		// A message about one occurrence only has its override.
		if !m.recurrenceID.IsZero() && m.recurrenceID.Equal(orig) {
			return []*component{master}, nil
		}
		return nil, ErrNoInstance
	}
	for _, c := range overrides {
		if rid, ok, err := cal.timeOf(c, "RECURRENCE-ID"); ok && err == nil && origOf(rid, m).Equal(orig) {
			return []*component{c}, nil
		}
	}
	if !create {
		return []*component{master}, nil
	}
	ov := master.clone()
	for _, n := range []string{"RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "CREATED"} {
		ov.del(n)
	}
	ov.set(timeProp("RECURRENCE-ID", orig, m.zone, m.allDay))
	dur := m.end.Sub(m.start)
	start := timeProp("DTSTART", orig, m.zone, m.allDay)
	ov.set(start)
	ov.del("DURATION")
	ov.set(timeProp("DTEND", orig.Add(dur), m.zone, m.allDay))
	root.Children = append(root.Children, ov)
	return []*component{ov}, nil
}

// Reply builds the iTIP REPLY (RFC 5546 3.2.3) of the user's answer from
// the stored event (after SetPartstat): METHOD:REPLY, one VEVENT with
// the meeting's UID, SEQUENCE and, for one occurrence, RECURRENCE-ID;
// DTSTAMP now; the ORGANIZER; only the user's ATTENDEE with the new
// PARTSTAT; DTSTART, DTEND and SUMMARY for the organizer's reading, and
// COMMENT when the user wrote one. organizer is the address to send it
// to.
func Reply(data []byte, a Answer) (ics []byte, organizer string, err error) {
	defer guard(&err, "reply")
	root, err := parseObject(data)
	if err != nil {
		return nil, "", fmt.Errorf("calconv: reply: %w", err)
	}
	comps, err := answerTargets(root, a, false)
	if err != nil {
		return nil, "", fmt.Errorf("calconv: reply: %w", err)
	}
	src := comps[0]
	org := src.get("ORGANIZER")
	if org == nil || attendeeOf(org).email == "" {
		return nil, "", fmt.Errorf("calconv: reply: %w: the meeting has no ORGANIZER", ErrInvalid)
	}
	uid := src.get("UID")
	if uid == nil {
		return nil, "", fmt.Errorf("calconv: reply: %w: VEVENT without UID", ErrInvalid)
	}
	ev := &component{Name: "VEVENT"}
	ev.add(uid.clone())
	if p := src.get("SEQUENCE"); p != nil {
		ev.add(p.clone())
	}
	ev.add(&prop{Name: "DTSTAMP", Value: a.now().Format("20060102T150405Z")})
	if p := src.get("RECURRENCE-ID"); p != nil {
		ev.add(p.clone())
	} else if !a.Instance.IsZero() {
		// The occurrence has no override: name it in the meeting's zone.
		cal := newCalendar(root)
		m, err := readEvent(cal, src, true)
		if err != nil {
			return nil, "", fmt.Errorf("calconv: reply: %w", err)
		}
		orig := a.Instance.UTC()
		if m.allDay {
			orig = allDayDate(orig, utcZone, false)
		}
		ev.add(timeProp("RECURRENCE-ID", orig, m.zone, m.allDay))
	}
	for _, n := range []string{"DTSTART", "DTEND", "DURATION", "SUMMARY"} {
		if p := src.get(n); p != nil && (a.Instance.IsZero() || src.get("RECURRENCE-ID") != nil || n == "SUMMARY") {
			ev.add(p.clone())
		}
	}
	ev.add(org.clone())
	var me *prop
	for _, p := range src.all("ATTENDEE") {
		if me == nil && sameAddr(attendeeOf(p).email, a.User) {
			me = p.clone()
		}
	}
	if me == nil {
		return nil, "", fmt.Errorf("calconv: reply: %w", ErrNotAttendee)
	}
	me.setParam("PARTSTAT", a.Partstat)
	me.delParam("RSVP")
	ev.add(me)
	if a.Comment != "" {
		ev.add(&prop{Name: "COMMENT", Value: escapeText(a.Comment)})
	}
	out := newVCalendar()
	out.add(&prop{Name: "METHOD", Value: "REPLY"})
	for _, c := range root.Children {
		if c.Name == "VTIMEZONE" {
			out.Children = append(out.Children, c)
		}
	}
	out.Children = append(out.Children, ev)
	fixTimezones(out, nil)
	return encodeObject(out), attendeeOf(org).email, nil
}

// IsITIPError reports whether err says the meeting cannot be answered by
// this user (organizer, not an attendee, no such occurrence).
func IsITIPError(err error) bool {
	return errors.Is(err, ErrNotAttendee) || errors.Is(err, ErrOrganizer) || errors.Is(err, ErrNoInstance)
}
