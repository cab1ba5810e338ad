package calconv

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// Errors. Every error of this package wraps one of them.
var (
	// ErrInvalid: the stored object or the client's data is broken
	// (syntax, missing DTSTART, bad TimeZone blob, …). The engine skips
	// such an object and logs it.
	ErrInvalid = errors.New("calconv: invalid data")
	// ErrUnsupported: the class is unknown, the object is not of the
	// class, or the protocol version does not have the class (Notes
	// before 14.0).
	ErrUnsupported = errors.New("calconv: unsupported")
)

// Options are the per-request settings of a conversion.
type Options struct {
	// Version is the negotiated protocol version; "" is read as 14.1.
	Version eas.Version
	// BodyPrefs are the client's BodyPreference elements. The body is
	// sent as the first preference of type 1 (plain) or 2 (HTML), plain
	// text when there is none; TruncationSize, AllOrNone and Preview
	// apply.
	BodyPrefs []server.BodyPreference
	// UserAddress is the account's e-mail address: it decides whether
	// the user organised a meeting (MeetingStatus 1) or received it (3),
	// and which ATTENDEE is the user (ResponseType, ResponseRequested).
	UserAddress string
	// Now stamps DTSTAMP, LAST-MODIFIED, REV and COMPLETED defaults; the
	// zero value means time.Now().
	Now time.Time
}

func (o Options) version() eas.Version {
	if o.Version == "" {
		return eas.V141
	}
	return o.Version
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now().UTC().Truncate(time.Second)
	}
	return o.Now.UTC().Truncate(time.Second)
}

// Classes.
const (
	ClassCalendar = "Calendar"
	ClassTasks    = "Tasks"
	ClassNotes    = "Notes"
	ClassContacts = "Contacts"
)

// recoverPanics turns a panic into an ErrInvalid error, as a last line
// of defence for the sync engine; the fuzz tests switch it off so that
// panics are found, not hidden.
var recoverPanics = true

func guard(err *error, what string) {
	if !recoverPanics {
		return
	}
	if r := recover(); r != nil {
		*err = fmt.Errorf("calconv: %s: %w: internal error: %v\n%s", what, ErrInvalid, r, debug.Stack())
	}
}

// ToEAS converts one stored object (a VCALENDAR with a VEVENT and its
// RECURRENCE-ID overrides, a VTODO or a VJOURNAL; or a VCARD) into the
// AirSync:ApplicationData of class "Calendar", "Tasks", "Notes" or
// "Contacts".
func ToEAS(class string, data []byte, opts Options) (app *wbxml.Element, err error) {
	defer guard(&err, class+" to EAS")
	root, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("calconv: %s: %w", class, err)
	}
	switch class {
	case ClassCalendar:
		app, err = eventToEAS(root, opts)
	case ClassTasks:
		app, err = taskToEAS(root, opts)
	case ClassNotes:
		app, err = noteToEAS(root, opts)
	case ClassContacts:
		app, err = contactToEAS(root, opts)
	default:
		return nil, fmt.Errorf("calconv: class %q: %w", class, ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("calconv: %s: %w", class, err)
	}
	return app, nil
}

// FromEAS turns a client's ApplicationData into the object to store.
// existing is the stored object (nil for an Add): what the EAS class
// cannot express (X- properties, VALARMs we do not map, vCard fields
// without an EAS field, RRULEs EAS can only approximate while the client
// leaves the recurrence alone) is kept from it. uid is the object's UID:
// the stored one, else for an Add the client's Calendar:UID or
// Calendar:ClientUid when usable, else a new random one.
//
// For a protocol 16.x Change of one occurrence the engine adds the
// Change's airsyncbase:InstanceId to app as a child; the occurrence then
// becomes (or updates) a RECURRENCE-ID override of existing.
func FromEAS(class string, app *wbxml.Element, existing []byte, opts Options) (data []byte, uid string, err error) {
	defer guard(&err, class+" from EAS")
	if app == nil {
		return nil, "", fmt.Errorf("calconv: %s: %w: no ApplicationData", class, ErrInvalid)
	}
	var old *component
	if existing != nil {
		if old, err = parseObject(existing); err != nil {
			return nil, "", fmt.Errorf("calconv: %s: stored object: %w", class, err)
		}
	}
	var root *component
	switch class {
	case ClassCalendar:
		root, uid, err = eventFromEAS(app, old, opts)
	case ClassTasks:
		root, uid, err = taskFromEAS(app, old, opts)
	case ClassNotes:
		root, uid, err = noteFromEAS(app, old, opts)
	case ClassContacts:
		root, uid, err = contactFromEAS(app, old, opts)
	default:
		return nil, "", fmt.Errorf("calconv: class %q: %w", class, ErrUnsupported)
	}
	if err != nil {
		return nil, "", fmt.Errorf("calconv: %s: %w", class, err)
	}
	return encodeObject(root), uid, nil
}

// DeleteInstance removes one occurrence of the recurring event stored
// in existing: a protocol 16.x Sync Delete with an airsyncbase:InstanceId
// (MS-ASAIRS InstanceId). The occurrence gets an EXDATE and loses its
// override, if any.
func DeleteInstance(existing []byte, instanceID string, opts Options) (data []byte, err error) {
	defer guard(&err, "delete instance")
	root, err := parseObject(existing)
	if err != nil {
		return nil, fmt.Errorf("calconv: Calendar: stored object: %w", err)
	}
	at, err := parseEASTime(instanceID)
	if err != nil {
		return nil, fmt.Errorf("calconv: Calendar: InstanceId %q: %w", instanceID, err)
	}
	if err := deleteInstance(root, at, opts); err != nil {
		return nil, fmt.Errorf("calconv: Calendar: %w", err)
	}
	return encodeObject(root), nil
}

// UIDOf returns the UID of a stored object (of its first VEVENT, VTODO
// or VJOURNAL, or of the VCARD), "" when it has none or does not parse.
func UIDOf(data []byte) string {
	root, err := parseObject(data)
	if err != nil {
		return ""
	}
	if root.Name == "VCARD" {
		return root.text("UID")
	}
	for _, c := range root.Children {
		switch c.Name {
		case "VEVENT", "VTODO", "VJOURNAL":
			return c.text("UID")
		}
	}
	return ""
}

// --- UIDs ---

func newUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// usableUID accepts a client's UID when it is printable UTF-8 of at most
// 300 characters (MS-ASCAL 2.2.2.46 UID, 2.2.2.13 ClientUid).
func usableUID(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 300 {
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return ""
		}
	}
	return s
}

// --- EAS date formats (MS-ASDTYPE 2.3 dateTime, 2.7.2 compact DateTime) ---

const (
	compactTime = "20060102T150405Z"         // Calendar, Notes, InstanceId
	longTime    = "2006-01-02T15:04:05.000Z" // Tasks, Contacts
)

func compact(t time.Time) string { return t.UTC().Format(compactTime) }
func long(t time.Time) string    { return t.UTC().Format(longTime) }

// parseEASTime reads both EAS forms, with or without milliseconds and
// the Z.
func parseEASTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{compactTime, "20060102T150405", "2006-01-02T15:04:05.999Z",
		"2006-01-02T15:04:05.999", "2006-01-02T15:04:05Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: date-time %q", ErrInvalid, s)
}

// --- bodies (MS-ASAIRS 2.2.2.9 Body) ---

// bodyElement builds the airsyncbase:Body for a DESCRIPTION (text) and
// its HTML form, if any. nil when both are empty.
func bodyElement(text, htm string, opts Options) *wbxml.Element {
	if text == "" && htm == "" {
		return nil
	}
	typ := 1
	var pref server.BodyPreference
	for _, p := range opts.BodyPrefs {
		if p.Type == 1 || p.Type == 2 {
			typ, pref = p.Type, p
			break
		}
	}
	var data string
	if typ == 2 {
		data = htm
		if data == "" {
			data = textToHTML(text)
		}
	} else {
		data = text
		if data == "" {
			data = htmlToText(htm)
		}
		data = crlf(data)
	}
	data = cleanText(data)
	b := wbxml.New(wbxml.NSAirSyncBase, "Body", wbxml.Int(wbxml.NSAirSyncBase, "Type", typ),
		wbxml.Int(wbxml.NSAirSyncBase, "EstimatedDataSize", len(data)))
	truncated := pref.TruncationSize > 0 && len(data) > pref.TruncationSize
	if truncated {
		b.Add(wbxml.Int(wbxml.NSAirSyncBase, "Truncated", 1))
		if !pref.AllOrNone {
			b.Add(wbxml.Text(wbxml.NSAirSyncBase, "Data", truncUTF8(data, pref.TruncationSize)))
		}
	} else {
		b.Add(wbxml.Text(wbxml.NSAirSyncBase, "Data", data))
	}
	if pref.Preview > 0 && opts.version().AtLeast(eas.V140) {
		plain := text
		if plain == "" {
			plain = htmlToText(htm)
		}
		plain = strings.Join(strings.Fields(plain), " ")
		b.Add(wbxml.Text(wbxml.NSAirSyncBase, "Preview", truncRunes(cleanText(plain), min(pref.Preview, 255))))
	}
	return b
}

// clientBody reads an airsyncbase:Body (or the legacy body of space).
// present is false when the client sent no usable body (no element, no
// Data, a truncated body, or RTF/MIME we cannot read): the stored body
// is then kept.
func clientBody(app *wbxml.Element, legacy string) (text, htm string, present bool) {
	if b := app.Child(wbxml.NSAirSyncBase, "Body"); b != nil {
		if t, ok := b.ChildInt(wbxml.NSAirSyncBase, "Truncated"); ok && t != 0 {
			return "", "", false
		}
		if !b.Has(wbxml.NSAirSyncBase, "Data") {
			if b.Has(wbxml.NSAirSyncBase, "Type") && !b.Has(wbxml.NSAirSyncBase, "EstimatedDataSize") {
				return "", "", true // <Body><Type>1</Type></Body>: cleared
			}
			return "", "", false
		}
		data := cleanText(b.ChildText(wbxml.NSAirSyncBase, "Data"))
		typ, _ := b.ChildInt(wbxml.NSAirSyncBase, "Type")
		switch typ {
		case 0, 1:
			return lf(data), "", true
		case 2:
			return lf(htmlToText(data)), data, true
		default:
			return "", "", false
		}
	}
	if legacy != "" && app.Has(legacy, "Body") {
		return lf(cleanText(app.ChildText(legacy, "Body"))), "", true
	}
	return "", "", false
}

func crlf(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	return strings.ReplaceAll(lf(s), "\n", "\r\n")
}

func lf(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func truncRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

func textToHTML(s string) string {
	return "<html><body>" + strings.ReplaceAll(html.EscapeString(lf(s)), "\n", "<br>\n") + "</body></html>"
}

// htmlToText is a small tag stripper: block ends and <br> become line
// breaks, <style>/<script>/<head> content is dropped, entities are
// decoded.
func htmlToText(s string) string {
	var b strings.Builder
	skip := ""
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			if skip == "" {
				b.WriteString(s)
			}
			break
		}
		if skip == "" {
			b.WriteString(s[:i])
		}
		s = s[i:]
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		tag := strings.ToLower(strings.Trim(s[1:j], "/ \t\r\n"))
		closing := strings.HasPrefix(s, "</")
		if k := strings.IndexAny(tag, " \t\r\n/"); k >= 0 {
			tag = tag[:k]
		}
		s = s[j+1:]
		switch {
		case skip != "":
			if closing && tag == skip {
				skip = ""
			}
		case tag == "style" || tag == "script" || tag == "head" || tag == "title":
			if !closing {
				skip = tag
			}
		case tag == "br":
			b.WriteByte('\n')
		case closing && (tag == "p" || tag == "div" || tag == "li" || tag == "tr" || tag == "h1" || tag == "h2" || tag == "h3"):
			b.WriteByte('\n')
		}
	}
	out := html.UnescapeString(b.String())
	out = strings.ReplaceAll(out, "\u00a0", " ")
	lines := strings.Split(lf(out), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// --- small EAS element helpers ---

func textEl(space, name, value string) *wbxml.Element {
	if value == "" {
		return nil
	}
	return wbxml.Text(space, name, cleanText(value))
}

func listEl(space, outer, inner string, items []string) *wbxml.Element {
	if len(items) == 0 {
		return nil
	}
	e := wbxml.New(space, outer)
	for _, it := range items {
		e.Add(wbxml.Text(space, inner, cleanText(it)))
	}
	return e
}

// childList reads <outer><inner>…</inner>…</outer>; present is false
// without the outer element.
func childList(app *wbxml.Element, space, outer, inner string) (items []string, present bool) {
	o := app.Child(space, outer)
	if o == nil {
		return nil, false
	}
	for _, c := range o.All(space, inner) {
		v := strings.TrimSpace(cleanText(c.Text))
		if v != "" {
			items = append(items, v)
		}
	}
	return items, true
}

func childText(app *wbxml.Element, space, name string) string {
	c := app.Child(space, name)
	if c == nil || c.IsOpaque {
		return ""
	}
	return cleanText(c.Text)
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// --- iCalendar values ---

// floatingZone marks date-times without TZID or Z: read as UTC (the
// user's zone is unknown here) and written back floating.
var floatingZone = &zone{id: "", rule: &tzRule{}}

// icalTime is a parsed DATE or DATE-TIME value.
type icalTime struct {
	t    time.Time // the instant; a DATE is midnight UTC of the date
	date bool
	zone *zone // utcZone, floatingZone, or the TZID's zone; utcZone for DATE
}

// calendar indexes a VCALENDAR's VTIMEZONEs and caches resolved zones.
type calendar struct {
	root  *component
	vtz   map[string]*component
	zones map[string]*zone
}

func newCalendar(root *component) *calendar {
	c := &calendar{root: root, vtz: map[string]*component{}, zones: map[string]*zone{}}
	for _, ch := range root.childrenNamed("VTIMEZONE") {
		if id := ch.text("TZID"); id != "" {
			c.vtz[id] = ch
		}
	}
	return c
}

func (c *calendar) zone(tzid string, ref time.Time) *zone {
	if z, ok := c.zones[tzid]; ok {
		return z
	}
	z := resolveTZID(tzid, c.vtz[tzid], ref)
	if z.loc == time.UTC && !strings.Contains(tzid, "/") {
		z = utcZone
	}
	c.zones[tzid] = z
	return z
}

// parseTime reads one value of p (a DATE or DATE-TIME).
func (c *calendar) parseTime(p *prop, value string) (icalTime, error) {
	value = strings.TrimSpace(value)
	isDate := strings.EqualFold(p.param("VALUE"), "DATE") || len(value) == 8
	if isDate {
		d, err := time.Parse("20060102", value)
		if err != nil {
			return icalTime{}, fmt.Errorf("%w: %s %q", ErrInvalid, p.Name, value)
		}
		return icalTime{t: d, date: true, zone: utcZone}, nil
	}
	if strings.HasSuffix(value, "Z") || strings.HasSuffix(value, "z") {
		t, err := time.Parse("20060102T150405", value[:len(value)-1])
		if err != nil {
			return icalTime{}, fmt.Errorf("%w: %s %q", ErrInvalid, p.Name, value)
		}
		return icalTime{t: t, zone: utcZone}, nil
	}
	w, err := time.Parse("20060102T150405", value)
	if err != nil {
		return icalTime{}, fmt.Errorf("%w: %s %q", ErrInvalid, p.Name, value)
	}
	tzid := p.param("TZID")
	if tzid == "" {
		return icalTime{t: w, zone: floatingZone}, nil
	}
	z := c.zone(tzid, w)
	return icalTime{t: z.instant(w), zone: z}, nil
}

func (c *calendar) timeOf(comp *component, name string) (icalTime, bool, error) {
	p := comp.get(name)
	if p == nil {
		return icalTime{}, false, nil
	}
	it, err := c.parseTime(p, p.Value)
	return it, err == nil, err
}

// timeList reads every value of every property name (EXDATE, RDATE).
func (c *calendar) timeList(comp *component, name string) []icalTime {
	var out []icalTime
	for _, p := range comp.all(name) {
		if strings.EqualFold(p.param("VALUE"), "PERIOD") {
			continue
		}
		for _, v := range strings.Split(p.Value, ",") {
			if it, err := c.parseTime(p, v); err == nil {
				out = append(out, it)
			}
		}
	}
	return out
}

// timeProp writes instant t as property name in zone z (or as a DATE).
func timeProp(name string, t time.Time, z *zone, date bool) *prop {
	p := &prop{Name: name}
	switch {
	case date:
		p.Params = []param{{Name: "VALUE", Values: []string{"DATE"}}}
		p.Value = t.UTC().Format("20060102")
	case z == floatingZone:
		p.Value = t.UTC().Format("20060102T150405")
	case z.isUTC():
		p.Value = t.UTC().Format("20060102T150405Z")
	default:
		p.Params = []param{{Name: "TZID", Values: []string{z.id}}}
		p.Value = z.wall(t).Format("20060102T150405")
	}
	return p
}

// parseDuration reads an RFC 5545 dur-value as days (nominal) and
// seconds (exact).
func parseDuration(s string) (days, secs int, ok bool) {
	s = strings.TrimSpace(strings.ToUpper(s))
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, 0, false
	}
	s = s[1:]
	inTime := false
	for len(s) > 0 {
		if s[0] == 'T' {
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || i > 9 {
			return 0, 0, false
		}
		n, _ := strconv.Atoi(s[:i])
		switch unit := s[i]; {
		case unit == 'W' && !inTime:
			days += 7 * n
		case unit == 'D' && !inTime:
			days += n
		case unit == 'H' && inTime:
			secs += 3600 * n
		case unit == 'M' && inTime:
			secs += 60 * n
		case unit == 'S' && inTime:
			secs += n
		default:
			return 0, 0, false
		}
		s = s[i+1:]
	}
	if days > 100000 || secs > 100000*86400 {
		return 0, 0, false
	}
	if neg {
		days, secs = -days, -secs
	}
	return days, secs, true
}

// addDuration adds a nominal-days-plus-seconds duration to t in z
// (days keep the wall-clock time across DST changes).
func addDuration(t time.Time, z *zone, days, secs int) time.Time {
	if days != 0 {
		if z == nil || z.isUTC() || z == floatingZone {
			t = t.AddDate(0, 0, days)
		} else {
			t = z.instant(z.wall(t).AddDate(0, 0, days))
		}
	}
	return t.Add(time.Duration(secs) * time.Second)
}

// triggerValue formats minutes before an anchor as a TRIGGER duration.
func triggerValue(minutes int) string {
	switch {
	case minutes == 0:
		return "PT0S"
	case minutes < 0:
		return "PT" + strconv.Itoa(-minutes) + "M"
	case minutes%1440 == 0:
		return "-P" + strconv.Itoa(minutes/1440) + "D"
	case minutes%60 == 0:
		return "-PT" + strconv.Itoa(minutes/60) + "H"
	default:
		return "-PT" + strconv.Itoa(minutes) + "M"
	}
}

// mailAddr strips "mailto:" from a CAL-ADDRESS.
func mailAddr(v string) string {
	v = strings.TrimSpace(unescapeText(v))
	if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
		v = v[7:]
	}
	return v
}

func sameAddr(a, b string) bool {
	return a != "" && strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// stamp sets DTSTAMP (and LAST-MODIFIED) of an iCalendar component.
func stamp(c *component, now time.Time) {
	c.set(&prop{Name: "DTSTAMP", Value: now.UTC().Format("20060102T150405Z")})
	c.set(&prop{Name: "LAST-MODIFIED", Value: now.UTC().Format("20060102T150405Z")})
}

// newVCalendar returns an empty VCALENDAR (RFC 5545 3.4).
func newVCalendar() *component {
	return &component{Name: "VCALENDAR", Props: []*prop{
		{Name: "VERSION", Value: "2.0"},
		{Name: "PRODID", Value: "-//easbridge//calconv//EN"},
	}}
}

// mainComponent returns the first child name of root, checking that
// root is a VCALENDAR.
func mainComponent(root *component, name string) (*component, error) {
	if root.Name != "VCALENDAR" {
		return nil, fmt.Errorf("%w: %s is not a VCALENDAR", ErrUnsupported, root.Name)
	}
	for _, c := range root.Children {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: no %s in the VCALENDAR", ErrUnsupported, name)
}

// sensitivityOf maps CLASS to Sensitivity (MS-ASCAL 2.2.2.41): PUBLIC 0,
// X-PERSONAL 1 (our spelling; iCalendar has no "personal"), PRIVATE 2,
// CONFIDENTIAL 3. Other x-names read as private (RFC 5545 3.8.1.3).
func sensitivityOf(c *component) int {
	switch v := strings.ToUpper(strings.TrimSpace(c.text("CLASS"))); v {
	case "", "PUBLIC":
		return 0
	case "X-PERSONAL", "PERSONAL":
		return 1
	case "CONFIDENTIAL":
		return 3
	default:
		return 2
	}
}

func setSensitivity(c *component, s int) {
	switch s {
	case 0:
		if c.get("CLASS") != nil {
			c.set(&prop{Name: "CLASS", Value: "PUBLIC"})
		}
	case 1:
		c.set(&prop{Name: "CLASS", Value: "X-PERSONAL"})
	case 3:
		c.set(&prop{Name: "CLASS", Value: "CONFIDENTIAL"})
	default:
		c.set(&prop{Name: "CLASS", Value: "PRIVATE"})
	}
}

func categoriesOf(c *component) []string {
	var out []string
	for _, p := range c.all("CATEGORIES") {
		out = append(out, textList(p.Value)...)
	}
	return out
}

func setCategories(c *component, cats []string) {
	if len(cats) == 0 {
		c.del("CATEGORIES")
		return
	}
	c.set(&prop{Name: "CATEGORIES", Value: joinTextList(cats)})
}
