package calconv

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.xml")

var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func testOpts(v eas.Version) Options {
	return Options{Version: v, UserAddress: "alice@example.com", Now: testNow,
		BodyPrefs: []server.BodyPreference{{Type: 1}}}
}

// classOf guesses the class of a test object from its content.
func classOf(data []byte) string {
	switch {
	case bytes.Contains(data, []byte("BEGIN:VCARD")):
		return ClassContacts
	case bytes.Contains(data, []byte("BEGIN:VTODO")):
		return ClassTasks
	case bytes.Contains(data, []byte("BEGIN:VJOURNAL")):
		return ClassNotes
	}
	return ClassCalendar
}

func testObjects(t testing.TB) []string {
	var files []string
	for _, pat := range []string{"testdata/*.ics", "testdata/*.vcf"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d test objects", len(files))
	}
	return files
}

// TestGolden converts every testdata object for protocol 14.1 and 16.1
// and compares the XML form with testdata/<name>.<version>.golden.xml
// (go test ./sync/calconv -run TestGolden -update rewrites them). The
// output must also survive a WBXML round trip.
func TestGolden(t *testing.T) {
	for _, file := range testObjects(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []eas.Version{eas.V141, eas.V161} {
			name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
			t.Run(name+"/"+string(v), func(t *testing.T) {
				app, err := ToEAS(classOf(data), data, testOpts(v))
				if err != nil {
					t.Fatalf("ToEAS: %v", err)
				}
				var buf bytes.Buffer
				if err := wbxml.ToXML(&buf, app); err != nil {
					t.Fatalf("ToXML: %v", err)
				}
				b, err := wbxml.Encode(app)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				back, err := wbxml.Decode(b)
				if err != nil || !wbxml.Equal(back, app) {
					t.Fatalf("WBXML round trip: %v", err)
				}
				golden := filepath.Join("testdata", name+"."+string(v)+".golden.xml")
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update)", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s differs:\n%s", golden, buf.String())
				}
			})
		}
	}
}

// TestGoldenRoundTrip feeds every converted object back through FromEAS
// with the stored object as existing: nothing the client did not change
// may change, apart from the stamps.
func TestGoldenRoundTrip(t *testing.T) {
	for _, file := range testObjects(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []eas.Version{eas.V121, eas.V141, eas.V161} {
			class := classOf(data)
			if class == ClassNotes && v == eas.V121 {
				continue
			}
			t.Run(filepath.Base(file)+"/"+string(v), func(t *testing.T) {
				opts := testOpts(v)
				app, err := ToEAS(class, data, opts)
				if err != nil {
					t.Fatal(err)
				}
				out, uid, err := FromEAS(class, app, data, opts)
				if err != nil {
					t.Fatalf("FromEAS: %v", err)
				}
				if uid != UIDOf(data) {
					t.Errorf("uid %q, want %q", uid, UIDOf(data))
				}
				if got, want := normalise(out), normalise(data); got != want {
					t.Errorf("round trip changed the object:\n--- got\n%s\n--- want\n%s", got, want)
				}
				app2, err := ToEAS(class, out, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !wbxml.Equal(stripStamps(app2), stripStamps(app)) {
					t.Errorf("second conversion differs:\n%s\n%s", app2, app)
				}
			})
		}
	}
}

// normalise re-encodes an object and drops the stamps FromEAS sets.
func normalise(data []byte) string {
	root, err := parseObject(data)
	if err != nil {
		return "ERROR " + err.Error()
	}
	var drop func(c *component)
	drop = func(c *component) {
		for _, n := range []string{"DTSTAMP", "LAST-MODIFIED", "REV"} {
			c.del(n)
		}
		for _, ch := range c.Children {
			drop(ch)
		}
	}
	drop(root)
	return string(encodeObject(root))
}

func stripStamps(e *wbxml.Element) *wbxml.Element {
	c := *e
	c.Children = nil
	for _, ch := range e.Children {
		switch ch.Name {
		case "DtStamp", "LastModifiedDate":
			continue
		}
		if len(ch.Children) > 0 {
			ch = stripStamps(ch)
		}
		c.Children = append(c.Children, ch)
	}
	return &c
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
