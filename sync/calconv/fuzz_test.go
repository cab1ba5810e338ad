package calconv

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

var (
	fuzzClasses  = []string{ClassCalendar, ClassTasks, ClassNotes, ClassContacts}
	fuzzVersions = []eas.Version{eas.V121, eas.V140, eas.V141, eas.V160, eas.V161}
)

func fuzzSeeds(f *testing.F) [][]byte {
	files, _ := filepath.Glob("testdata/*.ics")
	more, _ := filepath.Glob("testdata/*.vcf")
	var out [][]byte
	for _, file := range append(files, more...) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzToEAS converts random bytes as each class and version: no panic,
// and whatever comes out is valid UTF-8 WBXML that FromEAS takes back.
func FuzzToEAS(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add(s, uint8(i))
	}
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=\"a\":20260101T000000\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\nEND:VEVENT\nEND:VCALENDAR"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		recoverPanics = false
		defer func() { recoverPanics = true }()
		class := fuzzClasses[int(sel)%len(fuzzClasses)]
		opts := testOpts(fuzzVersions[int(sel)/len(fuzzClasses)%len(fuzzVersions)])
		defer slow(t, time.Now())
		app, err := ToEAS(class, data, opts)
		if err != nil {
			return
		}
		checkText(t, app)
		out, _, err := FromEAS(class, app, data, opts)
		if err != nil {
			return
		}
		if _, err := parseObject(out); err != nil {
			t.Fatalf("FromEAS wrote an object that does not parse: %v\n%s", err, out)
		}
	})
}

// FuzzFromEAS decodes random WBXML as a client's ApplicationData and
// applies it to nothing (an Add) or to a stored object: no panic, and a
// stored result parses and converts again.
func FuzzFromEAS(f *testing.F) {
	seeds := fuzzSeeds(f)
	for i, s := range seeds {
		class := classOf(s)
		app, err := ToEAS(class, s, testOpts(eas.V161))
		if err != nil {
			continue
		}
		b, err := wbxml.Encode(app)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i))
	}
	f.Fuzz(func(t *testing.T, b []byte, sel uint8) {
		recoverPanics = false
		defer func() { recoverPanics = true }()
		app, err := wbxml.Decode(b)
		if err != nil {
			return
		}
		defer slow(t, time.Now())
		class := fuzzClasses[int(sel)%len(fuzzClasses)]
		opts := testOpts(fuzzVersions[int(sel)/4%len(fuzzVersions)])
		var existing []byte
		if sel&0x80 != 0 && len(seeds) > 0 {
			existing = seeds[int(sel)%len(seeds)]
		}
		data, _, err := FromEAS(class, app, existing, opts)
		if err != nil {
			return
		}
		if _, err := parseObject(data); err != nil {
			t.Fatalf("stored object does not parse: %v\n%s", err, data)
		}
		back, err := ToEAS(class, data, opts)
		if err != nil {
			t.Fatalf("stored object does not convert: %v\n%s", err, data)
		}
		checkText(t, back)
	})
}

// slow fails an input that takes more than a second (the fuzzer then
// keeps it): conversion must stay linear in the input.
func slow(t *testing.T, start time.Time) {
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}
