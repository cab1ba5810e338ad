package calconv

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// Folder modes (sync/foldermode): a stored object offered as another
// class, and the client's edit of that offer written back onto the stored
// object. The engine runs ToEAS/FromEAS on the offered form, so these
// functions work on iCalendar text only.
//
// Tasks as events: a VTODO becomes a VEVENT with the task's UID, dated by
// DUE (DTSTART when there is no DUE), all-day when that is a DATE, 30
// minutes long otherwise, TRANSP:TRANSPARENT. A completed task carries
// the category "Completed" and a "✔ " before its summary. Coming back,
// the task is completed when the event has that category or its summary
// starts with "✔", "✓" or "[x]" (so that phones without categories, such
// as iOS, can complete a task by editing its title), and reopened when it
// has neither. Summary, description, location, class, categories and the
// date flow back; alarms and recurrence are not offered.
//
// Notes as tasks: a VJOURNAL becomes an undated VTODO (summary,
// description, categories); completion on the phone is not written back
// (a journal entry has no completion). Notes as events: an all-day VEVENT
// on the note's DTSTART date (else the date it was created or stamped);
// summary, description, categories and the date flow back.

// CompletedCategory is the event category that marks a task offered as an
// event as completed.
const CompletedCategory = "Completed"

const doneMark = "✔ "

// donePrefixes are the summary prefixes read as "completed".
var donePrefixes = []string{"✔", "✓", "[x]", "[X]"}

// taskTime returns the property a task is dated by: DUE, else DTSTART.
func taskTime(c *component) *prop {
	if p := c.get("DUE"); p != nil {
		return p
	}
	return c.get("DTSTART")
}

func isDateProp(p *prop) bool {
	return strings.EqualFold(p.param("VALUE"), "DATE") || len(strings.TrimSpace(p.Value)) == 8
}

// shiftProp returns a copy of a DATE/DATE-TIME property named name moved
// by d (whole days for a DATE), in its own zone's wall time.
func shiftProp(p *prop, name string, d time.Duration) (*prop, error) {
	q := p.clone()
	q.Name, q.raw = name, ""
	v := strings.TrimSpace(p.Value)
	if isDateProp(p) {
		t, err := time.Parse("20060102", v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q", ErrInvalid, p.Name, v)
		}
		q.Value = t.Add(d).Format("20060102")
		return q, nil
	}
	z := strings.HasSuffix(strings.ToUpper(v), "Z")
	w, err := time.Parse("20060102T150405", strings.TrimRight(v, "Zz"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q", ErrInvalid, p.Name, v)
	}
	q.Value = w.Add(d).Format("20060102T150405")
	if z {
		q.Value += "Z"
	}
	return q, nil
}

// offerRoot clones root without its item components, keeping time zones.
func offerRoot(root *component) *component {
	out := newVCalendar()
	for _, ch := range root.Children {
		if ch.Name == "VTIMEZONE" {
			out.Children = append(out.Children, ch.clone())
		}
	}
	return out
}

func copyText(dst, src *component, names ...string) {
	for _, n := range names {
		dst.del(n)
		for _, p := range src.all(n) {
			dst.add(p.clone())
		}
	}
}

func stampOf(c *component) []*prop {
	var out []*prop
	for _, n := range []string{"DTSTAMP", "LAST-MODIFIED", "CREATED"} {
		if p := c.get(n); p != nil {
			out = append(out, p.clone())
		}
	}
	return out
}

func isDone(c *component) bool {
	return strings.EqualFold(c.text("STATUS"), "COMPLETED") || c.get("COMPLETED") != nil ||
		strings.TrimSpace(c.text("PERCENT-COMPLETE")) == "100"
}

// TaskAsEvent renders a stored VTODO as the VEVENT offered for it. ok is
// false when the task is not offered: it has no date, or incompleteOnly
// and it is completed.
func TaskAsEvent(data []byte, incompleteOnly bool) (event []byte, ok bool, err error) {
	defer guard(&err, "task as event")
	root, err := parseObject(data)
	if err != nil {
		return nil, false, fmt.Errorf("calconv: task as event: %w", err)
	}
	c, err := mainComponent(root, "VTODO")
	if err != nil {
		return nil, false, fmt.Errorf("calconv: task as event: %w", err)
	}
	done := isDone(c)
	at := taskTime(c)
	if at == nil || (incompleteOnly && done) {
		return nil, false, nil
	}
	ev := &component{Name: "VEVENT"}
	ev.add(&prop{Name: "UID", Value: c.get("UID").valueOr(newUID())})
	ev.Props = append(ev.Props, stampOf(c)...)
	start, err := shiftProp(at, "DTSTART", 0)
	if err != nil {
		return nil, false, fmt.Errorf("calconv: task as event: %w", err)
	}
	span := 30 * time.Minute
	if isDateProp(at) {
		span = 24 * time.Hour
	}
	end, _ := shiftProp(at, "DTEND", span)
	ev.add(start)
	ev.add(end)
	summary := c.text("SUMMARY")
	if done {
		summary = doneMark + summary
	}
	ev.setText("SUMMARY", summary)
	copyText(ev, c, "DESCRIPTION", "LOCATION", "CLASS")
	cats := categoriesOf(c)
	if done {
		cats = append(cats, CompletedCategory)
	}
	setCategories(ev, cats)
	ev.add(&prop{Name: "TRANSP", Value: "TRANSPARENT"})
	out := offerRoot(root)
	out.Children = append(out.Children, ev)
	return encodeObject(out), true, nil
}

func (p *prop) valueOr(def string) string {
	if p == nil || strings.TrimSpace(p.Value) == "" {
		return def
	}
	return p.Value
}

// stripDone removes a completion mark from a summary.
func stripDone(s string) (string, bool) {
	t := strings.TrimSpace(s)
	for _, m := range donePrefixes {
		if strings.HasPrefix(t, m) {
			return strings.TrimSpace(t[len(m):]), true
		}
	}
	return s, false
}

// loadOrNew parses existing, or returns a new VCALENDAR with one component
// name carrying uid.
func loadOrNew(existing []byte, name, uid string, now time.Time) (*component, *component, error) {
	if existing == nil {
		root := newVCalendar()
		c := &component{Name: name, Props: []*prop{{Name: "UID", Value: uid},
			{Name: "CREATED", Value: now.UTC().Format("20060102T150405Z")}}}
		root.Children = append(root.Children, c)
		return root, c, nil
	}
	root, err := parseObject(existing)
	if err != nil {
		return nil, nil, err
	}
	c, err := mainComponent(root, name)
	return root, c, err
}

// copyZones adds the event calendar's VTIMEZONE of p's TZID to root when
// root has none by that id.
func copyZones(root, from *component, p *prop) {
	tzid := p.param("TZID")
	if tzid == "" {
		return
	}
	for _, ch := range root.childrenNamed("VTIMEZONE") {
		if ch.text("TZID") == tzid {
			return
		}
	}
	for _, ch := range from.childrenNamed("VTIMEZONE") {
		if ch.text("TZID") == tzid {
			root.Children = append([]*component{ch.clone()}, root.Children...)
			return
		}
	}
}

// EventToTask writes the offered event, as edited on the phone (the
// output of FromEAS on the offered VEVENT), back onto the stored task
// (nil: a new task with the event's UID).
func EventToTask(event, task []byte, now time.Time) (data []byte, err error) {
	defer guard(&err, "event to task")
	eroot, err := parseObject(event)
	if err != nil {
		return nil, fmt.Errorf("calconv: event to task: %w", err)
	}
	ev, err := mainComponent(eroot, "VEVENT")
	if err != nil {
		return nil, fmt.Errorf("calconv: event to task: %w", err)
	}
	now = now.UTC().Truncate(time.Second)
	root, c, err := loadOrNew(task, "VTODO", ev.get("UID").valueOr(newUID()), now)
	if err != nil {
		return nil, fmt.Errorf("calconv: event to task: %w", err)
	}
	summary, done := stripDone(ev.text("SUMMARY"))
	var cats []string
	for _, x := range categoriesOf(ev) {
		if strings.EqualFold(x, CompletedCategory) {
			done = true
			continue
		}
		cats = append(cats, x)
	}
	c.setText("SUMMARY", summary)
	copyText(c, ev, "DESCRIPTION", "LOCATION", "CLASS")
	setCategories(c, cats)
	if st := ev.get("DTSTART"); st != nil {
		copyZones(root, eroot, st)
		if c.get("DUE") == nil && c.get("DTSTART") != nil {
			ns, _ := shiftProp(st, "DTSTART", 0)
			c.set(ns)
		} else {
			due, _ := shiftProp(st, "DUE", 0)
			c.set(due)
			c.del("DURATION")
			if ds := c.get("DTSTART"); ds != nil {
				cal := newCalendar(root)
				s, okS, _ := cal.timeOf(c, "DTSTART")
				d, okD, _ := cal.timeOf(c, "DUE")
				if isDateProp(ds) != isDateProp(due) || !okS || !okD || s.t.After(d.t) {
					// RFC 5545 3.8.2.3: DUE is of DTSTART's type and not before it.
					ns, _ := shiftProp(due, "DTSTART", 0)
					c.set(ns)
				}
			}
		}
	}
	switch wasDone := isDone(c); {
	case done && !wasDone:
		c.set(&prop{Name: "STATUS", Value: "COMPLETED"})
		c.set(&prop{Name: "PERCENT-COMPLETE", Value: "100"})
		c.set(&prop{Name: "COMPLETED", Value: now.Format("20060102T150405Z")})
	case !done && wasDone:
		c.set(&prop{Name: "STATUS", Value: "NEEDS-ACTION"})
		c.del("COMPLETED")
		c.del("PERCENT-COMPLETE")
	}
	stamp(c, now)
	return encodeObject(root), nil
}

// NoteAsTask renders a stored VJOURNAL as the VTODO offered for it.
func NoteAsTask(data []byte) (task []byte, err error) {
	defer guard(&err, "note as task")
	root, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("calconv: note as task: %w", err)
	}
	c, err := mainComponent(root, "VJOURNAL")
	if err != nil {
		return nil, fmt.Errorf("calconv: note as task: %w", err)
	}
	t := &component{Name: "VTODO"}
	t.add(&prop{Name: "UID", Value: c.get("UID").valueOr(newUID())})
	t.Props = append(t.Props, stampOf(c)...)
	t.setText("SUMMARY", c.text("SUMMARY"))
	t.setText("DESCRIPTION", noteBody(c))
	copyText(t, c, "CATEGORIES", "CLASS")
	out := newVCalendar()
	out.Children = append(out.Children, t)
	return encodeObject(out), nil
}

// TaskToNote writes the offered task, as edited on the phone, back onto
// the stored note (nil: a new note dated today).
func TaskToNote(task, note []byte, now time.Time) (data []byte, err error) {
	defer guard(&err, "task to note")
	troot, err := parseObject(task)
	if err != nil {
		return nil, fmt.Errorf("calconv: task to note: %w", err)
	}
	t, err := mainComponent(troot, "VTODO")
	if err != nil {
		return nil, fmt.Errorf("calconv: task to note: %w", err)
	}
	return writeNote(t, note, now)
}

func writeNote(from *component, note []byte, now time.Time) ([]byte, error) {
	now = now.UTC().Truncate(time.Second)
	root, c, err := loadOrNew(note, "VJOURNAL", from.get("UID").valueOr(newUID()), now)
	if err != nil {
		return nil, fmt.Errorf("calconv: write note: %w", err)
	}
	if note == nil {
		c.add(&prop{Name: "DTSTART", Params: []param{{Name: "VALUE", Values: []string{"DATE"}}}, Value: now.Format("20060102")})
	}
	c.setText("SUMMARY", from.text("SUMMARY"))
	if body := from.text("DESCRIPTION"); body != lf(noteBody(c)) {
		c.del("DESCRIPTION")
		c.setText("DESCRIPTION", body)
	}
	copyText(c, from, "CATEGORIES")
	stamp(c, now)
	return encodeObject(root), nil
}

// noteDate is the date a note is shown on as an event.
func noteDate(c *component) (string, bool) {
	for _, n := range []string{"DTSTART", "CREATED", "DTSTAMP", "LAST-MODIFIED"} {
		if p := c.get(n); p != nil && len(strings.TrimSpace(p.Value)) >= 8 {
			return strings.TrimSpace(p.Value)[:8], true
		}
	}
	return "", false
}

// NoteAsEvent renders a stored VJOURNAL as an all-day VEVENT on its date;
// ok is false when the note has no date at all.
func NoteAsEvent(data []byte) (event []byte, ok bool, err error) {
	defer guard(&err, "note as event")
	root, err := parseObject(data)
	if err != nil {
		return nil, false, fmt.Errorf("calconv: note as event: %w", err)
	}
	c, err := mainComponent(root, "VJOURNAL")
	if err != nil {
		return nil, false, fmt.Errorf("calconv: note as event: %w", err)
	}
	day, ok := noteDate(c)
	if !ok {
		return nil, false, nil
	}
	start := &prop{Name: "DTSTART", Params: []param{{Name: "VALUE", Values: []string{"DATE"}}}, Value: day}
	end, err := shiftProp(start, "DTEND", 24*time.Hour)
	if err != nil {
		return nil, false, fmt.Errorf("calconv: note as event: %w", err)
	}
	ev := &component{Name: "VEVENT"}
	ev.add(&prop{Name: "UID", Value: c.get("UID").valueOr(newUID())})
	ev.Props = append(ev.Props, stampOf(c)...)
	ev.add(start)
	ev.add(end)
	ev.setText("SUMMARY", c.text("SUMMARY"))
	ev.setText("DESCRIPTION", noteBody(c))
	copyText(ev, c, "CATEGORIES", "CLASS")
	ev.add(&prop{Name: "TRANSP", Value: "TRANSPARENT"})
	out := newVCalendar()
	out.Children = append(out.Children, ev)
	return encodeObject(out), true, nil
}

// EventToNote writes the offered event, as edited on the phone, back onto
// the stored note (nil: a new note): summary, description, categories and
// the date.
func EventToNote(event, note []byte, now time.Time) (data []byte, err error) {
	defer guard(&err, "event to note")
	eroot, err := parseObject(event)
	if err != nil {
		return nil, fmt.Errorf("calconv: event to note: %w", err)
	}
	ev, err := mainComponent(eroot, "VEVENT")
	if err != nil {
		return nil, fmt.Errorf("calconv: event to note: %w", err)
	}
	out, err := writeNote(ev, note, now)
	if err != nil {
		return nil, err
	}
	st := ev.get("DTSTART")
	if st == nil || len(strings.TrimSpace(st.Value)) < 8 {
		return out, nil
	}
	root, _ := parseObject(out)
	c, _ := mainComponent(root, "VJOURNAL")
	day := strings.TrimSpace(st.Value)[:8]
	if !isDateProp(st) {
		// A timed event: its date in its own zone (or UTC).
		cal := newCalendar(eroot)
		if it, ok, _ := cal.timeOf(ev, "DTSTART"); ok {
			day = it.zone.wall(it.t).Format("20060102")
		}
	}
	c.set(&prop{Name: "DTSTART", Params: []param{{Name: "VALUE", Values: []string{"DATE"}}}, Value: day})
	return encodeObject(root), nil
}

// Digest is the readable summary of a stored object offered as an e-mail
// (groupware as e-mail).
type Digest struct {
	Subject     string
	Text        string // plain text
	HTML        string // the same as a small HTML document
	Date        time.Time
	ContentType string // of the attached original: text/calendar or text/vcard
	Ext         string // ".ics" or ".vcf"
}

// DigestOf summarises a VCALENDAR (event, task or note) or a vCard.
func DigestOf(data []byte) (d Digest, err error) {
	defer guard(&err, "digest")
	root, err := parseObject(data)
	if err != nil {
		return d, fmt.Errorf("calconv: digest: %w", err)
	}
	var lines [][2]string
	add := func(label, value string) {
		if value = strings.TrimSpace(value); value != "" {
			lines = append(lines, [2]string{label, value})
		}
	}
	var body string
	var c *component
	switch root.Name {
	case "VCARD":
		c = root
		d.ContentType, d.Ext = "text/vcard", ".vcf"
		d.Subject = c.text("FN")
		if d.Subject == "" {
			d.Subject = strings.Join(strings.Fields(strings.Join(structured(c.get("N").valueOr("")), " ")), " ")
		}
		add("Organization", strings.Trim(strings.Join(structured(c.get("ORG").valueOr("")), ", "), ", "))
		add("Title", c.text("TITLE"))
		for _, p := range c.all("EMAIL") {
			add("E-mail", unescapeText(p.Value))
		}
		for _, p := range c.all("TEL") {
			add("Phone", telValue(p))
		}
		for _, p := range c.all("ADR") {
			add("Address", strings.Join(strings.Fields(strings.Join(structured(p.Value), " ")), " "))
		}
		add("Birthday", c.text("BDAY"))
		body = c.text("NOTE")
		d.Date = parseStamp(c.get("REV"))
	case "VCALENDAR":
		d.ContentType, d.Ext = "text/calendar", ".ics"
		cal := newCalendar(root)
		for _, ch := range root.Children {
			if ch.Name == "VEVENT" || ch.Name == "VTODO" || ch.Name == "VJOURNAL" {
				c = ch
				break
			}
		}
		if c == nil {
			return d, fmt.Errorf("calconv: digest: %w: no event, task or note", ErrUnsupported)
		}
		when := func(name string) string {
			it, ok, _ := cal.timeOf(c, name)
			if !ok {
				return ""
			}
			if it.date {
				return it.t.Format("Mon 2 Jan 2006")
			}
			s := it.zone.wall(it.t).Format("Mon 2 Jan 2006 15:04")
			if it.zone != nil && it.zone.id != "" {
				s += " (" + it.zone.id + ")"
			} else if it.zone.isUTC() && it.zone != floatingZone {
				s += " UTC"
			}
			return s
		}
		d.Subject = c.text("SUMMARY")
		switch c.Name {
		case "VEVENT":
			add("Start", when("DTSTART"))
			add("End", when("DTEND"))
			add("Location", c.text("LOCATION"))
			if p := c.get("RRULE"); p != nil {
				add("Repeats", p.Value)
			}
			if p := c.get("ORGANIZER"); p != nil {
				add("Organizer", mailAddr(p.Value))
			}
			for _, p := range c.all("ATTENDEE") {
				add("Attendee", mailAddr(p.Value))
			}
		case "VTODO":
			add("Start", when("DTSTART"))
			add("Due", when("DUE"))
			status := "open"
			if isDone(c) {
				status = "completed"
			}
			add("Status", status)
		case "VJOURNAL":
			add("Date", when("DTSTART"))
		}
		if cats := categoriesOf(c); len(cats) > 0 {
			add("Categories", strings.Join(cats, ", "))
		}
		body = noteBody(c)
		for _, n := range []string{"LAST-MODIFIED", "DTSTAMP", "CREATED"} {
			if t := parseStamp(c.get(n)); !t.IsZero() {
				d.Date = t
				break
			}
		}
	default:
		return d, fmt.Errorf("calconv: digest: %w: %s", ErrUnsupported, root.Name)
	}
	d.Subject = cleanText(strings.TrimSpace(d.Subject))
	if d.Subject == "" {
		d.Subject = "(no title)"
	}
	var txt, htm strings.Builder
	txt.WriteString(d.Subject + "\n\n")
	htm.WriteString("<!DOCTYPE html><html><body><h3>" + html.EscapeString(d.Subject) + "</h3><table>")
	for _, l := range lines {
		v := cleanText(l[1])
		txt.WriteString(l[0] + ": " + v + "\n")
		htm.WriteString("<tr><th align=\"left\">" + html.EscapeString(l[0]) + "</th><td>" + html.EscapeString(v) + "</td></tr>")
	}
	htm.WriteString("</table>")
	if body = cleanText(strings.TrimSpace(body)); body != "" {
		txt.WriteString("\n" + body + "\n")
		htm.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(body), "\n", "<br>") + "</p>")
	}
	htm.WriteString("</body></html>")
	d.Text, d.HTML = txt.String(), htm.String()
	return d, nil
}

func parseStamp(p *prop) time.Time {
	if p == nil {
		return time.Time{}
	}
	v := strings.TrimSpace(p.Value)
	for _, f := range []string{"20060102T150405Z", "2006-01-02T15:04:05Z", "20060102T150405"} {
		if t, err := time.Parse(f, v); err == nil {
			return t
		}
	}
	return time.Time{}
}
