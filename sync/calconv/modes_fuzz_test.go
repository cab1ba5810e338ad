package calconv

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzModes runs the folder-mode conversions over random objects: no
// panic, and every offer they make is an object ToEAS reads.
func FuzzModes(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add(modeTodo("SUMMARY:✔ x", "DUE;TZID=Europe/Berlin:20260310T170000", "STATUS:COMPLETED"))
	f.Add(modeJournal("SUMMARY:n", "DTSTART:2026"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recoverPanics = false
		defer func() { recoverPanics = true }()
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if ev, ok, err := TaskAsEvent(data, false); err == nil && ok {
			if _, err := EventToTask(ev, data, now); err != nil {
				t.Errorf("task offered as an event does not go back: %v", err)
			}
		}
		if ev, ok, err := NoteAsEvent(data); err == nil && ok {
			if _, err := ToEAS(ClassCalendar, ev, Options{}); err != nil {
				t.Errorf("note as event unreadable: %v\n%s", err, ev)
			}
			_, _ = EventToNote(ev, data, now)
		}
		if tk, err := NoteAsTask(data); err == nil {
			if _, err := ToEAS(ClassTasks, tk, Options{}); err != nil {
				t.Errorf("note as task unreadable: %v\n%s", err, tk)
			}
			_, _ = TaskToNote(tk, data, now)
		}
		if d, err := DigestOf(data); err == nil && (!utf8.ValidString(d.Text) || !utf8.ValidString(d.Subject)) {
			t.Errorf("digest not UTF-8: %q", d.Subject)
		}
	})
}
