package calconv

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// taskData is the EAS view of a VTODO (MS-ASTASK).
type taskData struct {
	comp          *component
	subject       string
	body, html    string
	importance    int
	start, due    *icalTime
	complete      bool
	completed     time.Time
	sensitivity   int
	alarm         *alarmRef
	categories    []string
	rec           *recurrence
	hasRecurrence bool
}

// importanceOf maps PRIORITY (RFC 5545 3.8.1.9) to Importance
// (MS-ASTASK 2.2.2.14): 1–4 high (2), 5 and undefined normal (1), 6–9
// low (0).
func importanceOf(c *component) int {
	n, err := strconv.Atoi(strings.TrimSpace(c.text("PRIORITY")))
	switch {
	case err != nil || n == 0 || n == 5:
		return 1
	case n >= 1 && n <= 4:
		return 2
	default:
		return 0
	}
}

func readTask(cal *calendar, c *component) (*taskData, error) {
	td := &taskData{comp: c}
	td.subject = c.text("SUMMARY")
	td.body = c.text("DESCRIPTION")
	for _, p := range c.all("X-ALT-DESC") {
		if strings.EqualFold(p.param("FMTTYPE"), "text/html") {
			td.html = unescapeText(p.Value)
		}
	}
	td.importance = importanceOf(c)
	if it, ok, err := cal.timeOf(c, "DTSTART"); err != nil {
		return nil, err
	} else if ok {
		td.start = &it
	}
	if it, ok, err := cal.timeOf(c, "DUE"); err != nil {
		return nil, err
	} else if ok {
		td.due = &it
	} else if p := c.get("DURATION"); p != nil && td.start != nil {
		if days, secs, ok := parseDuration(p.Value); ok {
			d := *td.start
			d.t = addDuration(d.t, d.zone, days, secs)
			td.due = &d
		}
	}
	pc, _ := strconv.Atoi(strings.TrimSpace(c.text("PERCENT-COMPLETE")))
	td.complete = strings.EqualFold(c.text("STATUS"), "COMPLETED") || c.get("COMPLETED") != nil || pc == 100
	if td.complete {
		for _, name := range []string{"COMPLETED", "LAST-MODIFIED", "DTSTAMP"} {
			if it, ok, _ := cal.timeOf(c, name); ok {
				td.completed = it.t
				break
			}
		}
	}
	td.sensitivity = sensitivityOf(c)
	var s, e time.Time
	z := utcZone
	if td.start != nil {
		s, z = td.start.t, td.start.zone
	}
	if td.due != nil {
		e = td.due.t
		if td.start == nil {
			z = td.due.zone
		}
	}
	td.alarm = findAlarm(cal, c, s, e, td.start != nil, td.due != nil, z, nil)
	td.categories = categoriesOf(c)
	if p := c.get("RRULE"); p != nil {
		td.hasRecurrence = true
		anchor := td.start
		if anchor == nil {
			anchor = td.due
		}
		if r, err := parseRRule(p.Value); err == nil && anchor != nil {
			if rec, _, ok := r.toEAS(anchor.zone.wall(anchor.t)); ok {
				rec.Start = anchor.zone.wall(anchor.t)
				ev := &eventData{allDay: anchor.date, start: anchor.t, zone: anchor.zone}
				if ev.zone == floatingZone {
					ev.zone = utcZone
				}
				if u := untilOf(cal, r.until, ev); !u.IsZero() {
					rec.Until = ev.zone.wall(u)
				}
				td.rec = &rec
			}
		}
	}
	return td, nil
}

// local renders a task date as MS-ASTASK wants StartDate and DueDate:
// the wall-clock time in the task's zone written as if it were UTC.
func local(it *icalTime) time.Time { return it.zone.wall(it.t) }

func taskToEAS(root *component, opts Options) (*wbxml.Element, error) {
	c, err := mainComponent(root, "VTODO")
	if err != nil {
		return nil, err
	}
	cal := newCalendar(root)
	td, err := readTask(cal, c)
	if err != nil {
		return nil, err
	}
	const T = wbxml.NSTasks
	app := wbxml.New(wbxml.NSAirSync, "ApplicationData")
	app.Add(bodyElement(td.body, td.html, opts))
	app.Add(textEl(T, "Subject", td.subject))
	app.Add(wbxml.Int(T, "Importance", td.importance))
	if td.start != nil {
		app.Add(wbxml.Text(T, "UtcStartDate", long(td.start.t)), wbxml.Text(T, "StartDate", long(local(td.start))))
	}
	if td.due != nil {
		app.Add(wbxml.Text(T, "UtcDueDate", long(td.due.t)), wbxml.Text(T, "DueDate", long(local(td.due))))
	}
	app.Add(listEl(T, "Categories", "Category", td.categories))
	if td.rec != nil {
		app.Add(recurrenceElement(T, *td.rec, opts.version(), long))
	}
	app.Add(wbxml.Int(T, "Complete", boolInt(td.complete)))
	if td.complete {
		done := td.completed
		if done.IsZero() {
			done = opts.now()
		}
		app.Add(wbxml.Text(T, "DateCompleted", long(done)))
	}
	app.Add(wbxml.Int(T, "Sensitivity", td.sensitivity))
	if td.alarm != nil {
		app.Add(wbxml.Text(T, "ReminderTime", long(td.alarm.at)), wbxml.Int(T, "ReminderSet", 1))
	} else {
		app.Add(wbxml.Int(T, "ReminderSet", 0))
	}
	return app, nil
}

// clientDate is one StartDate/UtcStartDate or DueDate/UtcDueDate pair.
type clientDate struct {
	utc, local       time.Time
	hasUTC, hasLocal bool
}

func (d clientDate) present() bool { return d.hasUTC || d.hasLocal }

func (d clientDate) instant() time.Time {
	if d.hasUTC {
		return d.utc
	}
	return d.local
}

func readClientDate(app *wbxml.Element, utcName, localName string) (clientDate, error) {
	var d clientDate
	var err error
	if s := childText(app, wbxml.NSTasks, utcName); s != "" {
		if d.utc, err = parseEASTime(s); err != nil {
			return d, fmt.Errorf("%s: %w", utcName, err)
		}
		d.hasUTC = true
	}
	if s := childText(app, wbxml.NSTasks, localName); s != "" {
		if d.local, err = parseEASTime(s); err != nil {
			return d, fmt.Errorf("%s: %w", localName, err)
		}
		d.hasLocal = true
	}
	return d, nil
}

// writeTaskDate sets DTSTART or DUE from the client's pair. An unchanged
// instant keeps the stored value; a stored TZID is kept; else a local
// midnight becomes a DATE and anything else a UTC date-time.
func writeTaskDate(c *component, name string, d clientDate, old *icalTime, zones map[string]*zone) {
	if !d.present() {
		c.del(name)
		return
	}
	u := d.instant()
	if old != nil {
		if old.date && d.hasLocal && local(old).Equal(d.local) {
			return
		}
		if !old.date && old.t.Equal(u) {
			return
		}
		if !old.date && old.zone != floatingZone && !old.zone.isUTC() {
			zones[old.zone.id] = old.zone
			c.set(timeProp(name, u, old.zone, false))
			return
		}
	}
	l := u
	if d.hasLocal {
		l = d.local
	}
	if l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 {
		c.set(timeProp(name, l, utcZone, true))
		return
	}
	c.set(timeProp(name, u, utcZone, false))
}

func taskFromEAS(app *wbxml.Element, old *component, opts Options) (*component, string, error) {
	const T = wbxml.NSTasks
	now := opts.now()
	var root, c *component
	var td *taskData
	var cal *calendar
	var err error
	if old != nil {
		root = old
		if c, err = mainComponent(root, "VTODO"); err != nil {
			return nil, "", err
		}
		cal = newCalendar(root)
		if td, err = readTask(cal, c); err != nil {
			return nil, "", err
		}
	} else {
		root = newVCalendar()
		c = &component{Name: "VTODO", Props: []*prop{{Name: "UID", Value: newUID()},
			{Name: "CREATED", Value: now.Format("20060102T150405Z")}}}
		root.Children = append(root.Children, c)
		cal = newCalendar(root)
		td, _ = readTask(cal, c)
	}
	zones := map[string]*zone{}
	if s := childText(app, T, "Subject"); s != td.subject {
		c.setText("SUMMARY", s)
	}
	if text, htm, ok := clientBody(app, T); ok && text != lf(td.body) {
		c.setText("DESCRIPTION", text)
		c.del("X-ALT-DESC")
		if htm != "" {
			c.add(&prop{Name: "X-ALT-DESC", Params: []param{{Name: "FMTTYPE", Values: []string{"text/html"}}}, Value: escapeText(htm)})
		}
	}
	if v, ok := app.ChildInt(T, "Importance"); ok && v != td.importance && v >= 0 && v <= 2 {
		c.set(&prop{Name: "PRIORITY", Value: [...]string{"9", "5", "1"}[v]})
	}
	start, err := readClientDate(app, "UtcStartDate", "StartDate")
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	due, err := readClientDate(app, "UtcDueDate", "DueDate")
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	writeTaskDate(c, "DTSTART", start, td.start, zones)
	writeTaskDate(c, "DUE", due, td.due, zones)
	if due.present() || !start.present() {
		c.del("DURATION")
	}
	// DTSTART and DUE must have the same value type (RFC 5545 3.8.2.3).
	if ds, dd := c.get("DTSTART"), c.get("DUE"); ds != nil && dd != nil {
		sDate := strings.EqualFold(ds.param("VALUE"), "DATE")
		dDate := strings.EqualFold(dd.param("VALUE"), "DATE")
		if sDate != dDate {
			if it, err := cal.parseTime(ds, ds.Value); err == nil {
				if dDate {
					c.set(timeProp("DTSTART", local(&it), utcZone, true))
				} else {
					c.set(timeProp("DTSTART", it.t, utcZone, false))
				}
			}
		}
	}
	// Completion.
	if v, ok := app.ChildInt(T, "Complete"); ok {
		done := v == 1
		if done {
			when := now
			if s := childText(app, T, "DateCompleted"); s != "" {
				if t, err := parseEASTime(s); err == nil {
					when = t
				}
			}
			if !td.complete || !td.completed.Equal(when) {
				c.set(&prop{Name: "STATUS", Value: "COMPLETED"})
				c.set(timeProp("COMPLETED", when, utcZone, false))
				if c.get("PERCENT-COMPLETE") != nil {
					c.set(&prop{Name: "PERCENT-COMPLETE", Value: "100"})
				}
			}
		} else if td.complete {
			c.set(&prop{Name: "STATUS", Value: "NEEDS-ACTION"})
			c.del("COMPLETED")
			if pc := c.text("PERCENT-COMPLETE"); pc == "100" {
				c.del("PERCENT-COMPLETE")
			}
		}
	}
	if c.get("STATUS") == nil && old == nil {
		c.add(&prop{Name: "STATUS", Value: "NEEDS-ACTION"})
	}
	if v, ok := app.ChildInt(T, "Sensitivity"); ok && v >= 0 && v <= 3 && v != td.sensitivity {
		setSensitivity(c, v)
	}
	// Reminder.
	set, _ := app.ChildInt(T, "ReminderSet")
	if s := childText(app, T, "ReminderTime"); set == 1 && s != "" {
		at, err := parseEASTime(s)
		if err != nil {
			return nil, "", fmt.Errorf("%w: ReminderTime: %v", ErrInvalid, err)
		}
		if td.alarm == nil || !td.alarm.at.Equal(at) {
			trig := &prop{Name: "TRIGGER", Params: []param{{Name: "VALUE", Values: []string{"DATE-TIME"}}}, Value: at.UTC().Format("20060102T150405Z")}
			setAlarmTrigger(c, td.alarm, trig)
		}
	} else {
		removeAlarm(c, td.alarm)
	}
	cats, _ := childList(app, T, "Categories", "Category")
	if !sameStrings(cats, td.categories) {
		setCategories(c, cats)
	}
	// Recurrence.
	if r := app.Child(T, "Recurrence"); r != nil {
		rec, err := parseRecurrenceElement(T, r)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if c.get("DTSTART") == nil && !rec.Start.IsZero() {
			// RFC 5545 3.8.5.3: the recurrence set starts at DTSTART.
			dueDate := c.get("DUE") != nil && strings.EqualFold(c.get("DUE").param("VALUE"), "DATE")
			midnight := rec.Start.Hour() == 0 && rec.Start.Minute() == 0 && rec.Start.Second() == 0
			c.set(timeProp("DTSTART", rec.Start, utcZone, midnight || dueDate))
		}
		anchor := c.get("DTSTART")
		if anchor == nil {
			anchor = c.get("DUE")
		}
		var wall time.Time
		isDate := false
		if anchor != nil {
			if it, err := cal.parseTime(anchor, anchor.Value); err == nil {
				wall, isDate = local(&it), it.date
			}
		}
		if wall.IsZero() {
			wall = rec.Start
		}
		if td.rec == nil || !sameRecurrence(rec, *td.rec, true) {
			until := ""
			if !rec.Until.IsZero() {
				if isDate {
					until = rec.Until.Format("20060102")
				} else {
					until = rec.Until.UTC().Format("20060102T150405Z")
				}
			}
			val, err := rec.rruleValue(wall, until)
			if err != nil {
				return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			c.set(&prop{Name: "RRULE", Value: val})
		}
	} else if td.hasRecurrence {
		c.del("RRULE")
		c.del("RDATE")
		c.del("EXDATE")
	}
	stamp(c, now)
	fixTimezones(root, zones)
	return root, c.text("UID"), nil
}

// --- Notes (MS-ASNOTE) ↔ VJOURNAL ---

func noteToEAS(root *component, opts Options) (*wbxml.Element, error) {
	if !opts.version().AtLeast(eas.V140) {
		return nil, fmt.Errorf("%w: Notes need protocol 14.0 or later (MS-ASNOTE 2.2.2)", ErrUnsupported)
	}
	c, err := mainComponent(root, "VJOURNAL")
	if err != nil {
		return nil, err
	}
	cal := newCalendar(root)
	const N = wbxml.NSNotes
	app := wbxml.New(wbxml.NSAirSync, "ApplicationData")
	app.Add(bodyElement(noteBody(c), "", opts))
	app.Add(textEl(N, "Subject", c.text("SUMMARY")))
	app.Add(wbxml.Text(N, "MessageClass", "IPM.StickyNote"))
	mod := opts.now()
	for _, name := range []string{"LAST-MODIFIED", "DTSTAMP", "CREATED"} {
		if it, ok, _ := cal.timeOf(c, name); ok {
			mod = it.t
			break
		}
	}
	app.Add(wbxml.Text(N, "LastModifiedDate", compact(mod)))
	app.Add(listEl(N, "Categories", "Category", categoriesOf(c)))
	return app, nil
}

// noteBody joins the DESCRIPTIONs of a VJOURNAL (it may have several).
func noteBody(c *component) string {
	var parts []string
	for _, p := range c.all("DESCRIPTION") {
		parts = append(parts, unescapeText(p.Value))
	}
	return strings.Join(parts, "\n\n")
}

func noteFromEAS(app *wbxml.Element, old *component, opts Options) (*component, string, error) {
	if !opts.version().AtLeast(eas.V140) {
		return nil, "", fmt.Errorf("%w: Notes need protocol 14.0 or later (MS-ASNOTE 2.2.2)", ErrUnsupported)
	}
	const N = wbxml.NSNotes
	now := opts.now()
	var root, c *component
	var err error
	if old != nil {
		root = old
		if c, err = mainComponent(root, "VJOURNAL"); err != nil {
			return nil, "", err
		}
	} else {
		root = newVCalendar()
		c = &component{Name: "VJOURNAL", Props: []*prop{{Name: "UID", Value: newUID()},
			{Name: "CREATED", Value: now.Format("20060102T150405Z")},
			{Name: "DTSTART", Params: []param{{Name: "VALUE", Values: []string{"DATE"}}}, Value: now.Format("20060102")}}}
		root.Children = append(root.Children, c)
	}
	if s := childText(app, N, "Subject"); s != c.text("SUMMARY") {
		c.setText("SUMMARY", s)
	}
	if text, _, ok := clientBody(app, ""); ok && text != lf(noteBody(c)) {
		c.del("DESCRIPTION")
		c.setText("DESCRIPTION", text)
	}
	cats, _ := childList(app, N, "Categories", "Category")
	if !sameStrings(cats, categoriesOf(c)) {
		setCategories(c, cats)
	}
	stamp(c, now)
	return root, c.text("UID"), nil
}
