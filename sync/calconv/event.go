package calconv

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// attendee is an ATTENDEE or the ORGANIZER as EAS sees it.
type attendee struct {
	email, name string
	status      int // AttendeeStatus (MS-ASCAL): 0 unknown, 2 tentative, 3 accept, 4 decline, 5 not responded
	typ         int // AttendeeType (MS-ASCAL): 1 required, 2 optional, 3 resource
	rsvp        bool
	prop        *prop
}

// eventData is the EAS view of one VEVENT (master or override).
type eventData struct {
	comp          *component
	allDay        bool
	start, end    time.Time // instants; for all-day events midnight UTC of the dates
	zone          *zone     // zone of DTSTART; utcZone for all-day and UTC events
	subject       string
	location      string
	body, html    string
	busy          int
	sensitivity   int
	reminder      int // minutes before the start; -1 none
	alarm         *alarmRef
	categories    []string
	dtstamp       time.Time
	organizer     attendee
	attendees     []attendee
	cancelled     bool
	disallow      bool
	replyTime     time.Time
	rec           *recurrence
	recExact      bool
	recurrenceID  time.Time
	hasRecurrence bool
}

func partstatToStatus(p string) int {
	switch strings.ToUpper(p) {
	case "ACCEPTED":
		return 3
	case "TENTATIVE":
		return 2
	case "DECLINED":
		return 4
	case "NEEDS-ACTION":
		return 5
	}
	return 0
}

func statusToPartstat(s int) string {
	switch s {
	case 2:
		return "TENTATIVE"
	case 3:
		return "ACCEPTED"
	case 4:
		return "DECLINED"
	case 5:
		return "NEEDS-ACTION"
	}
	return ""
}

func attendeeOf(p *prop) attendee {
	a := attendee{email: mailAddr(p.Value), name: p.param("CN"), prop: p, typ: 1}
	if a.email == "" || strings.ContainsAny(a.email, ": ") {
		if e := p.param("EMAIL"); e != "" {
			a.email = e
		}
	}
	a.status = partstatToStatus(p.param("PARTSTAT"))
	switch strings.ToUpper(p.param("ROLE")) {
	case "OPT-PARTICIPANT", "NON-PARTICIPANT":
		a.typ = 2
	}
	switch strings.ToUpper(p.param("CUTYPE")) {
	case "RESOURCE", "ROOM":
		a.typ = 3
	}
	a.rsvp = strings.EqualFold(p.param("RSVP"), "TRUE")
	return a
}

// splitEvents returns the master VEVENT and its overrides. An object
// with only overrides (an invitation to one occurrence) yields its first
// VEVENT as a single event.
func splitEvents(root *component) (master *component, overrides []*component, err error) {
	if root.Name != "VCALENDAR" {
		return nil, nil, fmt.Errorf("%w: %s is not a VCALENDAR", ErrUnsupported, root.Name)
	}
	var first *component
	for _, c := range root.Children {
		if c.Name != "VEVENT" {
			continue
		}
		if first == nil {
			first = c
		}
		if c.get("RECURRENCE-ID") == nil && master == nil {
			master = c
		}
	}
	if first == nil {
		return nil, nil, fmt.Errorf("%w: no VEVENT in the VCALENDAR", ErrUnsupported)
	}
	if master == nil {
		return first, nil, nil
	}
	uid := master.text("UID")
	for _, c := range root.Children {
		if c.Name == "VEVENT" && c != master && c.get("RECURRENCE-ID") != nil && c.text("UID") == uid {
			overrides = append(overrides, c)
		}
	}
	return master, overrides, nil
}

func readEvent(cal *calendar, c *component, isMaster bool) (*eventData, error) {
	ev := &eventData{comp: c, reminder: -1}
	st, ok, err := cal.timeOf(c, "DTSTART")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: VEVENT without DTSTART", ErrInvalid)
	}
	ev.allDay, ev.start, ev.zone = st.date, st.t, st.zone
	if ev.allDay {
		ev.zone = utcZone
	}
	if en, ok, err := cal.timeOf(c, "DTEND"); err != nil {
		return nil, err
	} else if ok {
		ev.end = en.t
		if ev.allDay && !en.date {
			w := en.zone.wall(en.t)
			ev.end = time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
		}
	} else if p := c.get("DURATION"); p != nil {
		days, secs, ok := parseDuration(p.Value)
		if !ok {
			return nil, fmt.Errorf("%w: DURATION %q", ErrInvalid, p.Value)
		}
		ev.end = addDuration(ev.start, ev.zone, days, secs)
	} else if ev.allDay {
		ev.end = ev.start.AddDate(0, 0, 1)
	} else {
		ev.end = ev.start
	}
	if ev.end.Before(ev.start) || (ev.allDay && !ev.end.After(ev.start)) {
		ev.end = ev.start
		if ev.allDay {
			ev.end = ev.start.AddDate(0, 0, 1)
		}
	}
	ev.subject = c.text("SUMMARY")
	ev.location = c.text("LOCATION")
	ev.body = c.text("DESCRIPTION")
	for _, p := range c.all("X-ALT-DESC") {
		if strings.EqualFold(p.param("FMTTYPE"), "text/html") {
			ev.html = unescapeText(p.Value)
		}
	}
	ev.busy = busyOf(c)
	ev.sensitivity = sensitivityOf(c)
	startT := ev.start
	if a := findAlarm(cal, c, ev.start, ev.end, true, true, ev.zone, &startT); a != nil {
		ev.alarm = a
		ev.reminder = int(ev.start.Sub(a.at) / time.Minute)
	}
	ev.categories = categoriesOf(c)
	for _, name := range []string{"DTSTAMP", "LAST-MODIFIED", "CREATED"} {
		if t, ok, _ := cal.timeOf(c, name); ok {
			ev.dtstamp = t.t
			break
		}
	}
	if p := c.get("ORGANIZER"); p != nil {
		ev.organizer = attendeeOf(p)
	}
	for _, p := range c.all("ATTENDEE") {
		if a := attendeeOf(p); a.email != "" {
			ev.attendees = append(ev.attendees, a)
		}
	}
	ev.cancelled = strings.EqualFold(c.text("STATUS"), "CANCELLED")
	ev.disallow = strings.EqualFold(c.text("X-MICROSOFT-DISALLOW-COUNTER"), "TRUE")
	if t, ok, _ := cal.timeOf(c, "X-MICROSOFT-CDO-REPLYTIME"); ok {
		ev.replyTime = t.t
	}
	if isMaster {
		if p := c.get("RRULE"); p != nil {
			ev.hasRecurrence = true
			if r, err := parseRRule(p.Value); err == nil {
				if rec, exact, ok := r.toEAS(ev.zone.wall(ev.start)); ok {
					rec.Until = untilOf(cal, r.until, ev)
					ev.rec, ev.recExact = &rec, exact && c.get("RDATE") == nil
				}
			}
		}
	} else if it, ok, _ := cal.timeOf(c, "RECURRENCE-ID"); ok {
		ev.recurrenceID = it.t
	}
	return ev, nil
}

// untilOf reads UNTIL: a DATE is the end of that day (all-day events:
// the date itself at midnight UTC), a local date-time is read in the
// event's zone.
func untilOf(cal *calendar, s string, ev *eventData) time.Time {
	if s == "" {
		return time.Time{}
	}
	it, err := cal.parseTime(&prop{Name: "UNTIL"}, s)
	if err != nil {
		return time.Time{}
	}
	if ev.allDay {
		w := it.zone.wall(it.t)
		return time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	}
	if it.date {
		w := ev.zone.wall(ev.start)
		d := it.t
		return ev.zone.instant(time.Date(d.Year(), d.Month(), d.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC))
	}
	if it.zone == floatingZone {
		return ev.zone.instant(it.t)
	}
	return it.t
}

// cdoBusy maps a Microsoft CDO busy status (X-MICROSOFT-CDO-BUSYSTATUS,
// X-MICROSOFT-CDO-INTENDEDSTATUS; any case) to BusyStatus; false when v
// is none of them.
func cdoBusy(v string) (int, bool) {
	switch strings.ToUpper(v) {
	case "FREE":
		return 0, true
	case "TENTATIVE":
		return 1, true
	case "BUSY":
		return 2, true
	case "OOF":
		return 3, true
	case "WORKINGELSEWHERE":
		return 4, true
	}
	return 0, false
}

// busyOf maps X-MICROSOFT-CDO-BUSYSTATUS, else TRANSP, to BusyStatus
// (MS-ASCAL 2.2.2.9): 0 free, 1 tentative, 2 busy, 3 out of office,
// 4 working elsewhere.
func busyOf(c *component) int {
	if b, ok := cdoBusy(c.text("X-MICROSOFT-CDO-BUSYSTATUS")); ok {
		return b
	}
	if strings.EqualFold(c.text("TRANSP"), "TRANSPARENT") {
		return 0
	}
	return 2
}

var busyNames = [...]string{"FREE", "TENTATIVE", "BUSY", "OOF", "WORKINGELSEWHERE"}

func setBusy(c *component, b int) {
	if b < 0 || b > 4 {
		b = 2
	}
	if b == 0 {
		c.set(&prop{Name: "TRANSP", Value: "TRANSPARENT"})
	} else {
		c.set(&prop{Name: "TRANSP", Value: "OPAQUE"})
	}
	if b == 1 || b >= 3 || c.get("X-MICROSOFT-CDO-BUSYSTATUS") != nil {
		c.set(&prop{Name: "X-MICROSOFT-CDO-BUSYSTATUS", Value: busyNames[b]})
	}
}

// meetingInfo derives MeetingStatus (MS-ASCAL 2.2.2.28): 0 for an
// appointment (no ATTENDEE other than the organizer), 1 for a meeting the
// user organised (ORGANIZER is UserAddress, or missing), 3 for a meeting
// received, plus 4 when STATUS:CANCELLED (5, 7). me is the user's own
// ATTENDEE, if any.
func (ev *eventData) meetingInfo(opts Options) (status int, organiser bool, me *attendee) {
	isMeeting := false
	for i := range ev.attendees {
		a := &ev.attendees[i]
		if !sameAddr(a.email, ev.organizer.email) {
			isMeeting = true
		}
		if me == nil && sameAddr(a.email, opts.UserAddress) {
			me = a
		}
	}
	organiser = ev.organizer.email == "" || sameAddr(ev.organizer.email, opts.UserAddress)
	if !isMeeting {
		return 0, organiser, me
	}
	status = 3
	if organiser {
		status = 1
	}
	if ev.cancelled {
		status += 4
	}
	return status, organiser, me
}

func (ev *eventData) blob() *tzInfo {
	if ev.allDay || ev.zone.isUTC() || ev.zone == floatingZone {
		return blobFor(utcZone, ev.start)
	}
	return blobFor(ev.zone, ev.start)
}

func locationEl(loc string, v eas.Version) *wbxml.Element {
	if loc == "" {
		return nil
	}
	if v.AtLeast(eas.V160) {
		// MS-ASAIRS 2.2.2.28: airsyncbase:Location replaces
		// calendar:Location from 16.0.
		return wbxml.New(wbxml.NSAirSyncBase, "Location", wbxml.Text(wbxml.NSAirSyncBase, "DisplayName", cleanText(loc)))
	}
	return wbxml.Text(wbxml.NSCalendar, "Location", cleanText(loc))
}

func attendeesEl(list []attendee) *wbxml.Element {
	if len(list) == 0 {
		return nil
	}
	const C = wbxml.NSCalendar
	e := wbxml.New(C, "Attendees")
	for _, a := range list {
		name := a.name
		if name == "" {
			name = a.email
		}
		e.Add(wbxml.New(C, "Attendee",
			wbxml.Text(C, "Email", cleanText(a.email)),
			wbxml.Text(C, "Name", cleanText(name)),
			wbxml.Int(C, "AttendeeStatus", a.status),
			wbxml.Int(C, "AttendeeType", a.typ)))
	}
	return e
}

func sameAttendees(a, b []attendee) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameAddr(a[i].email, b[i].email) || a[i].name != b[i].name || a[i].status != b[i].status || a[i].typ != b[i].typ {
			return false
		}
	}
	return true
}

func eventToEAS(root *component, opts Options) (*wbxml.Element, error) {
	master, overrides, err := splitEvents(root)
	if err != nil {
		return nil, err
	}
	cal := newCalendar(root)
	ev, err := readEvent(cal, master, true)
	if err != nil {
		return nil, err
	}
	v := opts.version()
	const C = wbxml.NSCalendar
	app := wbxml.New(wbxml.NSAirSync, "ApplicationData")
	// MS-ASCAL 2.2.2.44 Timezone (MS-ASDTYPE 2.7.6): all-day and UTC
	// events get the UTC structure.
	app.Add(wbxml.Text(C, "Timezone", encodeTZBlob(ev.blob())))
	dtstamp := ev.dtstamp
	if dtstamp.IsZero() {
		dtstamp = opts.now()
	}
	app.Add(wbxml.Text(C, "DtStamp", compact(dtstamp)))
	app.Add(wbxml.Text(C, "StartTime", compact(ev.start)))
	app.Add(textEl(C, "Subject", ev.subject))
	app.Add(textEl(C, "UID", ev.comp.text("UID")))
	if ev.organizer.email != "" {
		app.Add(textEl(C, "OrganizerName", ev.organizer.name), textEl(C, "OrganizerEmail", ev.organizer.email))
	}
	app.Add(locationEl(ev.location, v))
	app.Add(wbxml.Text(C, "EndTime", compact(ev.end)))
	app.Add(bodyElement(ev.body, ev.html, opts))
	app.Add(wbxml.Int(C, "Sensitivity", ev.sensitivity))
	app.Add(wbxml.Int(C, "BusyStatus", ev.busy))
	app.Add(wbxml.Int(C, "AllDayEvent", boolInt(ev.allDay)))
	if ev.reminder >= 0 {
		app.Add(wbxml.Int(C, "Reminder", ev.reminder))
	}
	status, organiser, me := ev.meetingInfo(opts)
	app.Add(wbxml.Int(C, "MeetingStatus", status))
	app.Add(attendeesEl(ev.attendees))
	app.Add(listEl(C, "Categories", "Category", ev.categories))
	if ev.rec != nil {
		app.Add(recurrenceElement(C, *ev.rec, v, compact))
		app.Add(exceptionsEl(cal, ev, overrides, opts))
	}
	if v.AtLeast(eas.V140) && status != 0 {
		rr := false
		if organiser {
			for _, a := range ev.attendees {
				rr = rr || a.rsvp
			}
		} else if me != nil {
			rr = me.rsvp
		}
		app.Add(wbxml.Int(C, "ResponseRequested", boolInt(rr)))
		app.Add(wbxml.Int(C, "ResponseType", responseType(organiser, me)))
		app.Add(wbxml.Int(C, "DisallowNewTimeProposal", boolInt(ev.disallow)))
		if !ev.replyTime.IsZero() {
			app.Add(wbxml.Text(C, "AppointmentReplyTime", compact(ev.replyTime)))
		}
	}
	return app, nil
}

// responseType is ResponseType (MS-ASCAL 2.2.2.40): 1 organizer, else
// the user's PARTSTAT (2 tentative, 3 accepted, 4 declined, 5 not
// responded), 0 when the user is not an attendee.
func responseType(organiser bool, me *attendee) int {
	if organiser {
		return 1
	}
	if me == nil {
		return 0
	}
	return me.status
}

// occurrence is one entry of the Exceptions list.
type occurrence struct {
	orig    time.Time
	deleted bool
	ev      *eventData
}

// origOf turns an EXDATE or RECURRENCE-ID value into the original start
// of the occurrence as EAS names it: midnight UTC of the date for
// all-day events, else the instant.
func origOf(it icalTime, master *eventData) time.Time {
	if master.allDay {
		w := it.zone.wall(it.t)
		return time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	}
	if it.date {
		w := master.zone.wall(master.start)
		d := it.t
		return master.zone.instant(time.Date(d.Year(), d.Month(), d.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC))
	}
	if it.zone == floatingZone {
		return master.zone.instant(it.t)
	}
	return it.t
}

func occurrences(cal *calendar, master *eventData, overrides []*component) []occurrence {
	byTime := map[int64]*occurrence{}
	var list []*occurrence
	addOcc := func(o occurrence) {
		k := o.orig.Unix()
		if prev, ok := byTime[k]; ok {
			if o.deleted {
				prev.deleted, prev.ev = true, nil
			}
			return
		}
		oc := o
		byTime[k] = &oc
		list = append(list, &oc)
	}
	for _, it := range cal.timeList(master.comp, "EXDATE") {
		addOcc(occurrence{orig: origOf(it, master), deleted: true})
	}
	for _, c := range overrides {
		rid, ok, err := cal.timeOf(c, "RECURRENCE-ID")
		if !ok || err != nil {
			continue
		}
		ov, err := readEvent(cal, c, false)
		if err != nil {
			continue
		}
		o := occurrence{orig: origOf(rid, master), ev: ov}
		if ov.cancelled {
			o.deleted, o.ev = true, nil
		}
		addOcc(o)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].orig.Before(list[j].orig) })
	out := make([]occurrence, len(list))
	for i, o := range list {
		out[i] = *o
	}
	return out
}

// exceptionsEl writes Exceptions (MS-ASCAL 2.2.2.22): EXDATEs and
// cancelled overrides as Deleted, overrides with their start, end and
// subject and every other field that differs from the master.
func exceptionsEl(cal *calendar, master *eventData, overrides []*component, opts Options) *wbxml.Element {
	occs := occurrences(cal, master, overrides)
	if len(occs) == 0 {
		return nil
	}
	v := opts.version()
	const C = wbxml.NSCalendar
	list := wbxml.New(C, "Exceptions")
	for _, o := range occs {
		e := wbxml.New(C, "Exception")
		if o.deleted {
			e.Add(wbxml.Int(C, "Deleted", 1))
		}
		if v.AtLeast(eas.V160) {
			e.Add(wbxml.Text(wbxml.NSAirSyncBase, "InstanceId", compact(o.orig)))
		} else {
			e.Add(wbxml.Text(C, "ExceptionStartTime", compact(o.orig)))
		}
		if ov := o.ev; ov != nil {
			e.Add(textEl(C, "Subject", ov.subject))
			e.Add(wbxml.Text(C, "StartTime", compact(ov.start)), wbxml.Text(C, "EndTime", compact(ov.end)))
			if ov.body != master.body || ov.html != master.html {
				e.Add(bodyElement(ov.body, ov.html, opts))
			}
			if ov.location != master.location {
				e.Add(locationEl(ov.location, v))
			}
			if !sameStrings(ov.categories, master.categories) {
				e.Add(listEl(C, "Categories", "Category", ov.categories))
			}
			if ov.sensitivity != master.sensitivity {
				e.Add(wbxml.Int(C, "Sensitivity", ov.sensitivity))
			}
			if ov.busy != master.busy {
				e.Add(wbxml.Int(C, "BusyStatus", ov.busy))
			}
			if ov.allDay != master.allDay {
				e.Add(wbxml.Int(C, "AllDayEvent", boolInt(ov.allDay)))
			}
			if ov.reminder != master.reminder && ov.reminder >= 0 {
				e.Add(wbxml.Int(C, "Reminder", ov.reminder))
			}
			if !ov.dtstamp.IsZero() {
				e.Add(wbxml.Text(C, "DtStamp", compact(ov.dtstamp)))
			}
			if v.AtLeast(eas.V140) && !sameAttendees(ov.attendees, master.attendees) {
				e.Add(attendeesEl(ov.attendees))
			}
		}
		list.Add(e)
	}
	return list
}

// --- client → iCalendar ---

// clientEvent is the client's ApplicationData (or one Exception) with
// presence flags: an element missing from a top-level Change removes the
// property (MS-ASCMD 2.2.3.179: nothing is ghosted without a Supported
// list), except Body, which clients omit when they did not edit it, and
// the enumerations (BusyStatus, Sensitivity, AllDayEvent, MeetingStatus),
// which have no "none".
type clientEvent struct {
	tz                      *tzInfo
	allDay, hasAllDay       bool
	start, end              time.Time
	hasStart, hasEnd        bool
	subject                 string
	hasSubject              bool
	location                string
	hasLocation             bool
	body, html              string
	hasBody                 bool
	busy, sensitivity       int
	hasBusy, hasSensitivity bool
	reminder                int
	hasReminder             bool
	categories              []string
	hasCategories           bool
	uid                     string
	organizerEmail, orgName string
	attendees               []attendee
	hasAttendees            bool
	meetingStatus           int
	hasMeetingStatus        bool
	responseType            int
	hasResponseType         bool
	disallow, hasDisallow   bool
	rec                     *recurrence
	exceptions              []clientException
	hasExceptions           bool
	instanceID              time.Time
	hasInstance             bool
}

type clientException struct {
	orig    time.Time
	deleted bool
	ev      *clientEvent
}

func parseClientEvent(e *wbxml.Element, top bool) (*clientEvent, error) {
	const C, B = wbxml.NSCalendar, wbxml.NSAirSyncBase
	ce := &clientEvent{}
	var err error
	if s := childText(e, C, "Timezone"); s != "" {
		if ce.tz, err = parseTZBlob(s); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if v, ok := e.ChildInt(C, "AllDayEvent"); ok {
		ce.allDay, ce.hasAllDay = v == 1, true
	}
	if s := childText(e, C, "StartTime"); s != "" {
		if ce.start, err = parseEASTime(s); err != nil {
			return nil, fmt.Errorf("StartTime: %w", err)
		}
		ce.hasStart = true
	}
	if s := childText(e, C, "EndTime"); s != "" {
		if ce.end, err = parseEASTime(s); err != nil {
			return nil, fmt.Errorf("EndTime: %w", err)
		}
		ce.hasEnd = true
	}
	if e.Has(C, "Subject") {
		ce.subject, ce.hasSubject = childText(e, C, "Subject"), true
	}
	if e.Has(C, "Location") {
		ce.location, ce.hasLocation = childText(e, C, "Location"), true
	}
	if l := e.Child(B, "Location"); l != nil {
		ce.location, ce.hasLocation = childText(l, B, "DisplayName"), true
	}
	ce.body, ce.html, ce.hasBody = clientBody(e, C)
	if v, ok := e.ChildInt(C, "BusyStatus"); ok && v >= 0 && v <= 4 {
		ce.busy, ce.hasBusy = v, true
	}
	if v, ok := e.ChildInt(C, "Sensitivity"); ok && v >= 0 && v <= 3 {
		ce.sensitivity, ce.hasSensitivity = v, true
	}
	if v, ok := e.ChildInt(C, "Reminder"); ok && v >= 0 && v <= 60*24*366 {
		ce.reminder, ce.hasReminder = v, true
	}
	ce.categories, ce.hasCategories = childList(e, C, "Categories", "Category")
	if v, ok := e.ChildInt(C, "MeetingStatus"); ok {
		ce.meetingStatus, ce.hasMeetingStatus = v, true
	}
	if v, ok := e.ChildInt(C, "ResponseType"); ok {
		ce.responseType, ce.hasResponseType = v, true
	}
	if v, ok := e.ChildInt(C, "DisallowNewTimeProposal"); ok {
		ce.disallow, ce.hasDisallow = v == 1, true
	}
	if at := e.Child(C, "Attendees"); at != nil {
		ce.hasAttendees = true
		for _, a := range at.All(C, "Attendee") {
			x := attendee{email: strings.TrimSpace(childText(a, C, "Email")), name: strings.TrimSpace(childText(a, C, "Name")), typ: 1}
			x.email = mailAddr(x.email)
			if v, ok := a.ChildInt(C, "AttendeeStatus"); ok {
				x.status = v
			}
			if v, ok := a.ChildInt(C, "AttendeeType"); ok && v >= 1 && v <= 3 {
				x.typ = v
			}
			if x.email != "" {
				ce.attendees = append(ce.attendees, x)
			}
		}
	}
	if s := childText(e, B, "InstanceId"); s != "" {
		if ce.instanceID, err = parseEASTime(s); err != nil {
			return nil, fmt.Errorf("InstanceId: %w", err)
		}
		ce.hasInstance = true
	}
	if !top {
		return ce, nil
	}
	ce.uid = usableUID(childText(e, C, "UID"))
	if ce.uid == "" {
		ce.uid = usableUID(childText(e, C, "ClientUid"))
	}
	ce.organizerEmail = mailAddr(childText(e, C, "OrganizerEmail"))
	ce.orgName = childText(e, C, "OrganizerName")
	if r := e.Child(C, "Recurrence"); r != nil {
		rec, err := parseRecurrenceElement(C, r)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		ce.rec = &rec
	}
	if ex := e.Child(C, "Exceptions"); ex != nil {
		ce.hasExceptions = true
		for _, x := range ex.All(C, "Exception") {
			cx := clientException{}
			s := childText(x, C, "ExceptionStartTime")
			if s == "" {
				s = childText(x, B, "InstanceId")
			}
			if s == "" {
				return nil, fmt.Errorf("%w: Exception without ExceptionStartTime", ErrInvalid)
			}
			if cx.orig, err = parseEASTime(s); err != nil {
				return nil, fmt.Errorf("ExceptionStartTime: %w", err)
			}
			if v, ok := x.ChildInt(C, "Deleted"); ok && v == 1 {
				cx.deleted = true
			} else if cx.ev, err = parseClientEvent(x, false); err != nil {
				return nil, err
			}
			ce.exceptions = append(ce.exceptions, cx)
		}
	}
	return ce, nil
}

// allDayDate turns a client's all-day StartTime/EndTime into a date
// (midnight UTC): a value at midnight UTC is taken as it is (16.x
// clients, UTC zones); otherwise the value is read in the zone of the
// client's TimeZone (12.1–14.1: midnight local time) and rounded down
// (start) or up (end) to a date.
func allDayDate(t time.Time, z *zone, up bool) time.Time {
	u := t.UTC()
	if u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 {
		return u
	}
	w := z.wall(t)
	d := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	if up && w.After(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// eventWriter carries the state of one FromEAS conversion.
type eventWriter struct {
	cal   *calendar
	opts  Options
	now   time.Time
	zones map[string]*zone // zones used in written values, by TZID
}

func eventFromEAS(app *wbxml.Element, old *component, opts Options) (*component, string, error) {
	ce, err := parseClientEvent(app, true)
	if err != nil {
		return nil, "", err
	}
	w := &eventWriter{opts: opts, now: opts.now(), zones: map[string]*zone{}}
	var root, master *component
	var overrides []*component
	var oldEv *eventData
	if old != nil {
		root = old
		if master, overrides, err = splitEvents(root); err != nil {
			return nil, "", err
		}
		w.cal = newCalendar(root)
		if oldEv, err = readEvent(w.cal, master, true); err != nil {
			return nil, "", err
		}
	} else {
		if ce.hasInstance {
			return nil, "", fmt.Errorf("%w: InstanceId without a stored event", ErrInvalid)
		}
		root = newVCalendar()
		uid := ce.uid
		if uid == "" {
			uid = newUID()
		}
		master = &component{Name: "VEVENT", Props: []*prop{{Name: "UID", Value: escapeText(uid)}}}
		master.add(&prop{Name: "CREATED", Value: w.now.Format("20060102T150405Z")})
		root.Children = append(root.Children, master)
		w.cal = newCalendar(root)
	}
	uid := master.text("UID")
	if ce.hasInstance {
		if oldEv.rec == nil && !oldEv.hasRecurrence {
			return nil, "", fmt.Errorf("%w: InstanceId for an event that does not recur", ErrInvalid)
		}
		if err := w.applyOccurrence(root, master, oldEv, overrides, ce.instanceID, ce); err != nil {
			return nil, "", err
		}
	} else if err := w.applyMaster(root, master, oldEv, overrides, ce); err != nil {
		return nil, "", err
	}
	fixTimezones(root, w.zones)
	return root, uid, nil
}

// zoneFor picks the zone to write the client's times in: the stored
// zone when the client sent no TimeZone or one with the same rules, else
// the zone the blob resolves to.
func (w *eventWriter) zoneFor(ce *clientEvent, old *eventData, ref time.Time) *zone {
	if ce.tz == nil {
		if old != nil && !old.allDay {
			return old.zone
		}
		return utcZone
	}
	if old != nil && !old.allDay && old.zone != floatingZone && !old.zone.isUTC() {
		r := ce.tz.rule()
		y := ref.Add(time.Duration(r.std) * time.Second).Year()
		if sameRules(old.zone.rulesFor(y, ref), r, y) {
			return old.zone
		}
	}
	return zoneFromBlob(ce.tz, ref)
}

func (w *eventWriter) useZone(z *zone) {
	if z != nil && z.id != "" && !z.isUTC() && z != floatingZone {
		w.zones[z.id] = z
	}
}

// times computes the start, end, all-day flag and zone of a client
// event; defStart/defEnd apply when it sent none.
func (w *eventWriter) times(ce *clientEvent, old *eventData, defStart, defEnd time.Time, defAllDay bool) (start, end time.Time, allDay bool, z *zone) {
	allDay = defAllDay
	if ce.hasAllDay {
		allDay = ce.allDay
	}
	start, end = defStart, defEnd
	if ce.hasStart {
		start = ce.start
	}
	if ce.hasEnd {
		end = ce.end
	} else if ce.hasStart && old != nil {
		end = start.Add(old.end.Sub(old.start))
	}
	if end.Before(start) {
		end = start
	}
	z = w.zoneFor(ce, old, start)
	if allDay {
		bz := utcZone
		if ce.tz != nil {
			bz = zoneFromBlob(ce.tz, start)
		}
		start = allDayDate(start, bz, false)
		end = allDayDate(end, bz, true)
		if !end.After(start) {
			end = start.AddDate(0, 0, 1)
		}
		z = utcZone
	}
	return start, end, allDay, z
}

// applyTimes writes DTSTART/DTEND unless they are unchanged.
func (w *eventWriter) applyTimes(c *component, old *eventData, start, end time.Time, allDay bool, z *zone) bool {
	if old != nil && old.allDay == allDay && old.start.Equal(start) && old.end.Equal(end) {
		return false
	}
	w.useZone(z)
	c.set(timeProp("DTSTART", start, z, allDay))
	c.del("DURATION")
	c.set(timeProp("DTEND", end, z, allDay))
	return true
}

// applyFields writes the fields every VEVENT has (master or override).
func (w *eventWriter) applyFields(c *component, old *eventData, ce *clientEvent, top bool) {
	oldOr := func(f func(*eventData) string) string {
		if old == nil {
			return ""
		}
		return f(old)
	}
	if ce.hasSubject || top {
		if ce.subject != oldOr(func(e *eventData) string { return e.subject }) {
			c.setText("SUMMARY", ce.subject)
		}
	}
	if ce.hasLocation || top {
		if ce.location != oldOr(func(e *eventData) string { return e.location }) {
			c.setText("LOCATION", ce.location)
		}
	}
	if ce.hasBody && ce.body != oldOr(func(e *eventData) string { return lf(e.body) }) {
		c.setText("DESCRIPTION", ce.body)
		c.del("X-ALT-DESC")
		if ce.html != "" {
			c.add(&prop{Name: "X-ALT-DESC", Params: []param{{Name: "FMTTYPE", Values: []string{"text/html"}}}, Value: escapeText(ce.html)})
		}
	}
	if ce.hasBusy && (old == nil || old.busy != ce.busy) {
		setBusy(c, ce.busy)
	}
	if ce.hasSensitivity && (old == nil || old.sensitivity != ce.sensitivity) {
		setSensitivity(c, ce.sensitivity)
	}
	if ce.hasReminder || top {
		oldRem, ref := -1, (*alarmRef)(nil)
		if old != nil {
			oldRem, ref = old.reminder, old.alarm
		}
		switch {
		case !ce.hasReminder:
			removeAlarm(c, ref)
		case ce.reminder != oldRem:
			trig := &prop{Name: "TRIGGER", Value: triggerValue(ce.reminder)}
			if ref != nil && ref.alarm.get("TRIGGER") != nil && strings.EqualFold(ref.alarm.get("TRIGGER").param("RELATED"), "END") {
				ref.alarm.get("TRIGGER").delParam("RELATED")
			}
			setAlarmTrigger(c, ref, trig)
		}
	}
	if ce.hasCategories || top {
		var oldCats []string
		if old != nil {
			oldCats = old.categories
		}
		if !sameStrings(ce.categories, oldCats) {
			setCategories(c, ce.categories)
		}
	}
}

// applyAttendees writes ATTENDEEs (and ORGANIZER for a new meeting).
// Meetings the user did not organise keep their attendee list: only the
// organizer can change it (RFC 6638); the user's own answer comes from
// ResponseType or the user's AttendeeStatus.
func (w *eventWriter) applyAttendees(c *component, old *eventData, ce *clientEvent, top bool) {
	organiser := true
	var oldList []attendee
	if old != nil {
		_, organiser, _ = old.meetingInfo(w.opts)
		oldList = old.attendees
	}
	if !organiser {
		me := -1
		for i, a := range oldList {
			if sameAddr(a.email, w.opts.UserAddress) {
				me = i
			}
		}
		if me < 0 {
			return
		}
		status := -1
		if ce.hasResponseType && ce.responseType >= 2 && ce.responseType <= 5 {
			status = ce.responseType
		}
		for _, a := range ce.attendees {
			if sameAddr(a.email, w.opts.UserAddress) && a.status >= 2 && a.status != oldList[me].status {
				status = a.status
			}
		}
		if status >= 2 && status != oldList[me].status {
			oldList[me].prop.setParam("PARTSTAT", statusToPartstat(status))
			oldList[me].prop.delParam("RSVP")
		}
		return
	}
	if !ce.hasAttendees && !top {
		return
	}
	if sameAttendees(ce.attendees, oldList) {
		return
	}
	byAddr := map[string]*prop{}
	for _, a := range oldList {
		byAddr[strings.ToLower(a.email)] = a.prop
	}
	c.del("ATTENDEE")
	for _, a := range ce.attendees {
		p := byAddr[strings.ToLower(a.email)]
		if p == nil {
			p = &prop{Name: "ATTENDEE", Value: "mailto:" + a.email}
			p.setParam("PARTSTAT", "NEEDS-ACTION")
			p.setParam("RSVP", "TRUE")
		} else {
			prev := attendeeOf(p)
			if a.status != prev.status && a.status >= 2 {
				p.setParam("PARTSTAT", statusToPartstat(a.status))
			}
		}
		if a.name != "" && a.name != a.email {
			p.setParam("CN", a.name)
		}
		switch a.typ {
		case 2:
			p.setParam("ROLE", "OPT-PARTICIPANT")
			p.delParam("CUTYPE")
		case 3:
			p.setParam("CUTYPE", "RESOURCE")
			p.setParam("ROLE", "NON-PARTICIPANT")
		default:
			if attendeeOf(p).typ != 1 {
				p.setParam("ROLE", "REQ-PARTICIPANT")
				p.delParam("CUTYPE")
			}
		}
		c.add(p)
	}
	if len(ce.attendees) > 0 && c.get("ORGANIZER") == nil && top {
		email, name := w.opts.UserAddress, ce.orgName
		if ce.organizerEmail != "" && email == "" {
			email = ce.organizerEmail
		}
		if email != "" {
			p := &prop{Name: "ORGANIZER", Value: "mailto:" + email}
			if name != "" {
				p.setParam("CN", name)
			}
			c.add(p)
		}
	}
	if len(ce.attendees) == 0 && old != nil && old.organizer.email != "" && sameAddr(old.organizer.email, w.opts.UserAddress) {
		c.del("ORGANIZER") // no attendees left: an appointment again
	}
}

func (w *eventWriter) applyMaster(root, master *component, old *eventData, overrides []*component, ce *clientEvent) error {
	var defStart, defEnd time.Time
	defAllDay := false
	if old != nil {
		defStart, defEnd, defAllDay = old.start, old.end, old.allDay
	} else {
		if !ce.hasStart {
			return fmt.Errorf("%w: new event without StartTime", ErrInvalid)
		}
	}
	start, end, allDay, z := w.times(ce, old, defStart, defEnd, defAllDay)
	timesChanged := w.applyTimes(master, old, start, end, allDay, z)
	if !timesChanged && old != nil {
		z = old.zone
	}
	w.applyFields(master, old, ce, true)
	w.applyAttendees(master, old, ce, true)
	if ce.hasMeetingStatus {
		cancelled := ce.meetingStatus&4 != 0
		if old == nil || old.cancelled != cancelled {
			if cancelled {
				master.set(&prop{Name: "STATUS", Value: "CANCELLED"})
			} else {
				master.del("STATUS")
			}
		}
	}
	if ce.hasDisallow && (old == nil || old.disallow != ce.disallow) {
		if ce.disallow {
			master.set(&prop{Name: "X-MICROSOFT-DISALLOW-COUNTER", Value: "TRUE"})
		} else {
			master.del("X-MICROSOFT-DISALLOW-COUNTER")
		}
	}
	// Recurrence.
	newEv := &eventData{comp: master, allDay: allDay, start: start, end: end, zone: z}
	rruleChanged := false
	switch {
	case ce.rec == nil:
		if old != nil && old.hasRecurrence {
			rruleChanged = true
			master.del("RRULE")
			master.del("RDATE")
			master.del("EXDATE")
			removeOverrides(root, overrides, nil)
			overrides = nil
		}
	case old != nil && old.rec != nil && sameRecurrence(*ce.rec, *old.rec, allDay):
		// Unchanged: keep the stored RRULE, even one EAS approximates.
	default:
		until := ""
		if !ce.rec.Until.IsZero() {
			if allDay {
				until = ce.rec.Until.UTC().Format("20060102")
			} else {
				until = ce.rec.Until.UTC().Format("20060102T150405Z")
			}
		}
		val, err := ce.rec.rruleValue(z.wall(start), until)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if old == nil || old.comp.get("RRULE") == nil || old.comp.get("RRULE").Value != val {
			master.set(&prop{Name: "RRULE", Value: val})
			master.del("RDATE")
			rruleChanged = true
		}
	}
	if master.get("RRULE") != nil {
		if err := w.applyExceptions(root, master, newEv, overrides, ce); err != nil {
			return err
		}
	}
	if old != nil {
		status, organiser, _ := old.meetingInfo(w.opts)
		if status != 0 && organiser && (timesChanged || rruleChanged) {
			seq, _ := strconv.Atoi(master.text("SEQUENCE"))
			master.set(&prop{Name: "SEQUENCE", Value: strconv.Itoa(seq + 1)})
		}
	}
	stamp(master, w.now)
	return nil
}

func removeOverrides(root *component, overrides []*component, keep map[*component]bool) {
	drop := map[*component]bool{}
	for _, o := range overrides {
		if !keep[o] {
			drop[o] = true
		}
	}
	kept := root.Children[:0]
	for _, c := range root.Children {
		if !drop[c] {
			kept = append(kept, c)
		}
	}
	root.Children = kept
}

// applyExceptions makes EXDATEs and overrides match the client's
// Exceptions. Cancelled overrides the client reports as deleted are
// kept; overrides and EXDATEs the client no longer lists are removed.
func (w *eventWriter) applyExceptions(root, master *component, m *eventData, overrides []*component, ce *clientEvent) error {
	type ovr struct {
		comp *component
		ev   *eventData
	}
	existing := map[int64]ovr{}
	for _, c := range overrides {
		rid, ok, err := w.cal.timeOf(c, "RECURRENCE-ID")
		if !ok || err != nil {
			continue
		}
		ev, err := readEvent(w.cal, c, false)
		if err != nil {
			continue
		}
		existing[origOf(rid, m).Unix()] = ovr{c, ev}
	}
	oldEx := map[int64]bool{}
	for _, it := range w.cal.timeList(master, "EXDATE") {
		oldEx[origOf(it, m).Unix()] = true
	}
	keep := map[*component]bool{}
	var deleted []time.Time
	for _, x := range ce.exceptions {
		orig := x.orig
		if m.allDay {
			orig = allDayDate(orig, utcZone, false)
		}
		k := orig.Unix()
		if x.deleted {
			if o, ok := existing[k]; ok && o.ev.cancelled {
				keep[o.comp] = true
				continue
			}
			deleted = append(deleted, orig)
			continue
		}
		o, ok := existing[k]
		var comp *component
		var oldOv *eventData
		if ok {
			comp, oldOv = o.comp, o.ev
		} else {
			comp = master.clone()
			for _, n := range []string{"RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE", "CREATED"} {
				comp.del(n)
			}
			comp.set(timeProp("RECURRENCE-ID", orig, m.zone, m.allDay))
			w.useZone(m.zone)
			root.Children = append(root.Children, comp)
			oldOv, _ = readEvent(w.cal, comp, false)
		}
		keep[comp] = true
		eff := effective(ce, x.ev)
		dur := m.end.Sub(m.start)
		start, end, allDay, z := w.times(eff, nil, orig, orig.Add(dur), m.allDay)
		if !eff.hasStart {
			start, end, allDay, z = orig, orig.Add(dur), m.allDay, m.zone
		}
		if ce.tz == nil && !allDay {
			z = m.zone
		}
		w.applyTimes(comp, oldOv, start, end, allDay, z)
		w.applyFields(comp, oldOv, eff, false)
		if x.ev.hasAttendees {
			w.applyAttendees(comp, oldOv, x.ev, false)
		}
		stamp(comp, w.now)
	}
	// Overrides not listed any more revert to normal occurrences.
	var drop []*component
	for _, o := range existing {
		if !keep[o.comp] {
			drop = append(drop, o.comp)
		}
	}
	removeOverrides(root, drop, nil)
	// EXDATEs.
	sort.Slice(deleted, func(i, j int) bool { return deleted[i].Before(deleted[j]) })
	same := len(deleted) == len(oldEx)
	for _, d := range deleted {
		same = same && oldEx[d.Unix()]
	}
	if !same {
		master.del("EXDATE")
		if len(deleted) > 0 {
			p := timeProp("EXDATE", deleted[0], m.zone, m.allDay)
			vals := make([]string, len(deleted))
			for i, d := range deleted {
				vals[i] = timeProp("EXDATE", d, m.zone, m.allDay).Value
			}
			p.Value = strings.Join(vals, ",")
			master.add(p)
			w.useZone(m.zone)
		}
	}
	return nil
}

// effective overlays an Exception's fields on the master's: what an
// Exception leaves out is the master's value (MS-ASCAL 2.2.2.21).
func effective(master, ex *clientEvent) *clientEvent {
	e := *ex
	if !e.hasSubject {
		e.subject, e.hasSubject = master.subject, master.hasSubject
	}
	if !e.hasLocation {
		e.location, e.hasLocation = master.location, master.hasLocation
	}
	if !e.hasBody {
		e.body, e.html, e.hasBody = master.body, master.html, master.hasBody
	}
	if !e.hasBusy {
		e.busy, e.hasBusy = master.busy, master.hasBusy
	}
	if !e.hasSensitivity {
		e.sensitivity, e.hasSensitivity = master.sensitivity, master.hasSensitivity
	}
	// Reminder is not inherited: an override has its own VALARMs (or
	// none), and EAS cannot say "no reminder" in an Exception.
	if !e.hasCategories {
		e.categories, e.hasCategories = master.categories, master.hasCategories
	}
	if e.tz == nil {
		e.tz = master.tz
	}
	return &e
}

// applyOccurrence handles a 16.x Change of one occurrence (InstanceId):
// the occurrence's override is created or updated with the fields the
// client sent; fields it left out are the master's.
func (w *eventWriter) applyOccurrence(root, master *component, m *eventData, overrides []*component, at time.Time, ce *clientEvent) error {
	orig := at
	if m.allDay {
		orig = allDayDate(at, utcZone, false)
	}
	var comp *component
	var oldOv *eventData
	for _, c := range overrides {
		if rid, ok, err := w.cal.timeOf(c, "RECURRENCE-ID"); ok && err == nil && origOf(rid, m).Equal(orig) {
			comp = c
			oldOv, _ = readEvent(w.cal, c, false)
		}
	}
	if comp == nil {
		comp = master.clone()
		for _, n := range []string{"RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE", "CREATED"} {
			comp.del(n)
		}
		comp.set(timeProp("RECURRENCE-ID", orig, m.zone, m.allDay))
		root.Children = append(root.Children, comp)
		oldOv, _ = readEvent(w.cal, comp, false)
	}
	w.useZone(m.zone)
	dur := m.end.Sub(m.start)
	start, end, allDay, z := w.times(ce, oldOv, orig, orig.Add(dur), m.allDay)
	w.applyTimes(comp, oldOv, start, end, allDay, z)
	w.applyFields(comp, oldOv, ce, false)
	if ce.hasAttendees || ce.hasResponseType {
		w.applyAttendees(comp, oldOv, ce, false)
	}
	stamp(comp, w.now)
	return nil
}

func deleteInstance(root *component, at time.Time, opts Options) error {
	master, overrides, err := splitEvents(root)
	if err != nil {
		return err
	}
	cal := newCalendar(root)
	m, err := readEvent(cal, master, true)
	if err != nil {
		return err
	}
	if !m.hasRecurrence {
		return fmt.Errorf("%w: InstanceId for an event that does not recur", ErrInvalid)
	}
	orig := at
	if m.allDay {
		orig = allDayDate(at, utcZone, false)
	}
	for _, it := range cal.timeList(master, "EXDATE") {
		if origOf(it, m).Equal(orig) {
			return nil
		}
	}
	var drop []*component
	for _, c := range overrides {
		if rid, ok, err := cal.timeOf(c, "RECURRENCE-ID"); ok && err == nil && origOf(rid, m).Equal(orig) {
			drop = append(drop, c)
		}
	}
	removeOverrides(root, drop, nil)
	master.add(timeProp("EXDATE", orig, m.zone, m.allDay))
	stamp(master, opts.now())
	zones := map[string]*zone{}
	if !m.allDay && m.zone.id != "" {
		zones[m.zone.id] = m.zone
	}
	fixTimezones(root, zones)
	return nil
}

// fixTimezones makes the VTIMEZONEs of root match the TZIDs in use: the
// stored definition of a TZID is kept, a missing one is generated from
// zones, unused ones are dropped. VTIMEZONEs come first.
func fixTimezones(root *component, zones map[string]*zone) {
	used := map[string]bool{}
	var ref time.Time
	var walk func(c *component)
	walk = func(c *component) {
		for _, p := range c.Props {
			if tz := p.param("TZID"); tz != "" {
				used[tz] = true
				if ref.IsZero() && (p.Name == "DTSTART" || p.Name == "DUE") {
					if t, err := time.Parse("20060102T150405", p.Value); err == nil {
						ref = t
					}
				}
			}
		}
		for _, ch := range c.Children {
			walk(ch)
		}
	}
	have := map[string]*component{}
	var others []*component
	for _, c := range root.Children {
		if c.Name == "VTIMEZONE" {
			if id := c.text("TZID"); id != "" && have[id] == nil {
				have[id] = c
			}
			continue
		}
		others = append(others, c)
		walk(c)
	}
	if ref.IsZero() {
		ref = time.Now().UTC()
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []*component
	for _, id := range ids {
		if c := have[id]; c != nil {
			out = append(out, c)
			continue
		}
		z := zones[id]
		if z == nil || z.isUTC() {
			continue
		}
		if z.vtz != nil {
			out = append(out, z.vtz)
			continue
		}
		out = append(out, vtimezoneFor(z, z.instant(ref)))
	}
	root.Children = append(out, others...)
}
