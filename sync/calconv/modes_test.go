package calconv

import (
	"strings"
	"testing"
	"time"
)

func modeTodo(lines ...string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20260101T100000Z\r\n" +
		strings.Join(lines, "\r\n") + "\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
}

func modeJournal(lines ...string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VJOURNAL\r\nUID:n1\r\nDTSTAMP:20260101T100000Z\r\n" +
		strings.Join(lines, "\r\n") + "\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n")
}

func modeEvent(lines ...string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:t1\r\nDTSTAMP:20260101T100000Z\r\n" +
		strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
}

// props returns "NAME;PARAMS:VALUE" lines of the first component name.
func props(t *testing.T, data []byte, name string) map[string]string {
	t.Helper()
	root, err := parseObject(data)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	c, err := mainComponent(root, name)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	out := map[string]string{}
	for _, p := range c.Props {
		out[p.Name] = strings.TrimPrefix(formatProp(p), p.Name)
	}
	return out
}

func TestTaskAsEvent(t *testing.T) {
	tests := []struct {
		name           string
		task           []byte
		incompleteOnly bool
		offered        bool
		want           map[string]string // property -> ";params:value" ("" = absent)
	}{
		{"timed due", modeTodo("SUMMARY:Call Bob", "DUE;TZID=Europe/Berlin:20260310T170000"), false, true,
			map[string]string{"DTSTART": ";TZID=Europe/Berlin:20260310T170000", "DTEND": ";TZID=Europe/Berlin:20260310T173000", "SUMMARY": ":Call Bob", "TRANSP": ":TRANSPARENT", "CATEGORIES": ""}},
		{"date due is all day", modeTodo("SUMMARY:Taxes", "DUE;VALUE=DATE:20260430"), false, true,
			map[string]string{"DTSTART": ";VALUE=DATE:20260430", "DTEND": ";VALUE=DATE:20260501"}},
		{"start when no due", modeTodo("SUMMARY:x", "DTSTART:20260310T080000Z"), false, true,
			map[string]string{"DTSTART": ":20260310T080000Z", "DTEND": ":20260310T083000Z"}},
		{"undated not offered", modeTodo("SUMMARY:someday"), false, false, nil},
		{"completed marked", modeTodo("SUMMARY:Done thing", "DUE:20260310T080000Z", "STATUS:COMPLETED", "CATEGORIES:Work"), false, true,
			map[string]string{"SUMMARY": ":✔ Done thing", "CATEGORIES": ":Work,Completed"}},
		{"completed left out", modeTodo("SUMMARY:Done", "DUE:20260310T080000Z", "PERCENT-COMPLETE:100"), true, false, nil},
		{"open kept with incomplete only", modeTodo("SUMMARY:Open", "DUE:20260310T080000Z", "STATUS:NEEDS-ACTION"), true, true,
			map[string]string{"SUMMARY": ":Open", "UID": ":t1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok, err := TaskAsEvent(tt.task, tt.incompleteOnly)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.offered {
				t.Fatalf("offered %v, want %v", ok, tt.offered)
			}
			if !ok {
				return
			}
			got := props(t, ev, "VEVENT")
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
			// The offer is a valid event for the EAS converter.
			if _, err := ToEAS(ClassCalendar, ev, Options{}); err != nil {
				t.Errorf("ToEAS of the offered event: %v", err)
			}
		})
	}
}

func TestEventToTask(t *testing.T) {
	now := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	open := modeTodo("SUMMARY:Call Bob", "DUE:20260310T170000Z", "STATUS:NEEDS-ACTION", "X-KEEP:me")
	done := modeTodo("SUMMARY:Call Bob", "DUE:20260310T170000Z", "STATUS:COMPLETED", "COMPLETED:20260310T180000Z", "PERCENT-COMPLETE:100")
	tests := []struct {
		name  string
		event []byte
		task  []byte
		want  map[string]string
	}{
		{"completed by category", modeEvent("SUMMARY:Call Bob", "DTSTART:20260310T170000Z", "CATEGORIES:Completed"), open,
			map[string]string{"STATUS": ":COMPLETED", "PERCENT-COMPLETE": ":100", "COMPLETED": ":20260311T090000Z", "SUMMARY": ":Call Bob", "CATEGORIES": "", "X-KEEP": ":me"}},
		{"completed by title mark", modeEvent("SUMMARY:[x] Call Bob", "DTSTART:20260310T170000Z"), open,
			map[string]string{"STATUS": ":COMPLETED", "SUMMARY": ":Call Bob"}},
		{"offered mark kept is still completed", modeEvent("SUMMARY:✔ Call Bob", "DTSTART:20260310T170000Z", "CATEGORIES:Completed"), done,
			map[string]string{"STATUS": ":COMPLETED", "COMPLETED": ":20260310T180000Z", "SUMMARY": ":Call Bob"}},
		{"reopened", modeEvent("SUMMARY:Call Bob again", "DTSTART:20260310T170000Z"), done,
			map[string]string{"STATUS": ":NEEDS-ACTION", "COMPLETED": "", "PERCENT-COMPLETE": "", "SUMMARY": ":Call Bob again"}},
		{"moved", modeEvent("SUMMARY:Call Bob", "DTSTART;TZID=Europe/Berlin:20260312T100000", "DESCRIPTION:ring twice"), open,
			map[string]string{"DUE": ";TZID=Europe/Berlin:20260312T100000", "DESCRIPTION": ":ring twice"}},
		{"start kept before due", modeEvent("SUMMARY:x", "DTSTART:20260301T100000Z"), modeTodo("SUMMARY:x", "DTSTART:20260305T100000Z", "DUE:20260310T100000Z"),
			map[string]string{"DUE": ":20260301T100000Z", "DTSTART": ":20260301T100000Z"}},
		{"all day", modeEvent("SUMMARY:x", "DTSTART;VALUE=DATE:20260320", "DTEND;VALUE=DATE:20260321"), open,
			map[string]string{"DUE": ";VALUE=DATE:20260320"}},
		{"new task", modeEvent("SUMMARY:New one", "DTSTART:20260320T100000Z"), nil,
			map[string]string{"UID": ":t1", "DUE": ":20260320T100000Z", "SUMMARY": ":New one", "CREATED": ":20260311T090000Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := EventToTask(tt.event, tt.task, now)
			if err != nil {
				t.Fatal(err)
			}
			got := props(t, out, "VTODO")
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
		})
	}
}

// TestTaskEventRoundTrip: a task offered as an event and sent back
// unchanged keeps its summary, state and dates.
func TestTaskEventRoundTrip(t *testing.T) {
	for _, task := range [][]byte{
		modeTodo("SUMMARY:Open", "DUE;VALUE=DATE:20260430"),
		modeTodo("SUMMARY:Done", "DUE:20260310T080000Z", "STATUS:COMPLETED", "COMPLETED:20260310T090000Z", "CATEGORIES:Home"),
	} {
		ev, ok, err := TaskAsEvent(task, false)
		if err != nil || !ok {
			t.Fatalf("offer: %v %v", ok, err)
		}
		back, err := EventToTask(ev, task, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		before, after := props(t, task, "VTODO"), props(t, back, "VTODO")
		for _, k := range []string{"SUMMARY", "STATUS", "COMPLETED", "DUE", "CATEGORIES"} {
			if before[k] != after[k] {
				t.Errorf("%s: %q became %q", k, before[k], after[k])
			}
		}
	}
}

func TestNoteModes(t *testing.T) {
	now := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	note := modeJournal("SUMMARY:Ideas", "DESCRIPTION:one\\ntwo", "DTSTART;VALUE=DATE:20260115", "CATEGORIES:Work")

	task, err := NoteAsTask(note)
	if err != nil {
		t.Fatal(err)
	}
	if got := props(t, task, "VTODO"); got["SUMMARY"] != ":Ideas" || got["DESCRIPTION"] != ":one\\ntwo" || got["DUE"] != "" {
		t.Errorf("note as task: %v", got)
	}
	ev, ok, err := NoteAsEvent(note)
	if err != nil || !ok {
		t.Fatalf("note as event: %v %v", ok, err)
	}
	if got := props(t, ev, "VEVENT"); got["DTSTART"] != ";VALUE=DATE:20260115" || got["DTEND"] != ";VALUE=DATE:20260116" {
		t.Errorf("note as event: %v", got)
	}

	tests := []struct {
		name string
		run  func() ([]byte, error)
		want map[string]string
	}{
		{"task edit back", func() ([]byte, error) {
			return TaskToNote(modeTodo("SUMMARY:Better ideas", "DESCRIPTION:three"), note, now)
		}, map[string]string{"SUMMARY": ":Better ideas", "DESCRIPTION": ":three", "DTSTART": ";VALUE=DATE:20260115", "UID": ":n1"}},
		{"event moved back", func() ([]byte, error) {
			return EventToNote(modeEvent("SUMMARY:Ideas", "DTSTART;TZID=Europe/Berlin:20260201T003000", "DESCRIPTION:one\\ntwo"), note, now)
		}, map[string]string{"DTSTART": ";VALUE=DATE:20260201", "SUMMARY": ":Ideas"}},
		{"new note from task", func() ([]byte, error) {
			return TaskToNote(modeTodo("SUMMARY:Fresh"), nil, now)
		}, map[string]string{"SUMMARY": ":Fresh", "DTSTART": ";VALUE=DATE:20260311"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.run()
			if err != nil {
				t.Fatal(err)
			}
			got := props(t, out, "VJOURNAL")
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
		})
	}
}

func TestDigestOf(t *testing.T) {
	tests := []struct {
		name, data       string
		subject, ct, ext string
		text, notInHTML  []string
	}{
		{"event", string(modeEvent("SUMMARY:Team <sync>", "DTSTART;TZID=Europe/Berlin:20260310T090000", "DTEND;TZID=Europe/Berlin:20260310T100000", "LOCATION:Room 1", "DESCRIPTION:Agenda\\nfirst")),
			"Team <sync>", "text/calendar", ".ics", []string{"Start: Tue 10 Mar 2026 09:00 (Europe/Berlin)", "Location: Room 1", "Agenda\nfirst"}, []string{"<sync>"}},
		{"task", string(modeTodo("SUMMARY:Pay", "DUE;VALUE=DATE:20260430", "STATUS:COMPLETED")),
			"Pay", "text/calendar", ".ics", []string{"Due: Thu 30 Apr 2026", "Status: completed"}, nil},
		{"card", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nORG:Acme;Sales\r\nEMAIL:ann@example.org\r\nTEL;TYPE=CELL:+49 1\r\nEND:VCARD\r\n",
			"Ann Lee", "text/vcard", ".vcf", []string{"Organization: Acme, Sales", "E-mail: ann@example.org", "Phone: +49 1"}, nil},
		{"untitled note", string(modeJournal("DESCRIPTION:text only")), "(no title)", "text/calendar", ".ics", []string{"text only"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DigestOf([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if d.Subject != tt.subject || d.ContentType != tt.ct || d.Ext != tt.ext {
				t.Errorf("got %q %q %q", d.Subject, d.ContentType, d.Ext)
			}
			for _, s := range tt.text {
				if !strings.Contains(d.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, d.Text)
				}
			}
			for _, s := range tt.notInHTML {
				if strings.Contains(d.HTML, s) {
					t.Errorf("HTML has unescaped %q", s)
				}
			}
		})
	}
	if _, err := DigestOf([]byte("garbage")); err == nil {
		t.Error("garbage digested")
	}
}
