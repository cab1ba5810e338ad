package mailconv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

// testDate is the INTERNALDATE of every test message.
var testDate = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// loadEML reads testdata/name and builds the fetched message.
func loadEML(t testing.TB, name string, flags ...string) *source.Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := MessageFromRaw(raw, 42, flags, testDate)
	if err != nil {
		t.Fatalf("MessageFromRaw(%s): %v", name, err)
	}
	return m
}

// rawMessage builds a message from text with LF line ends.
func rawMessage(t testing.TB, text string, flags ...string) *source.Message {
	t.Helper()
	m, err := MessageFromRaw([]byte(strings.ReplaceAll(text, "\n", "\r\n")), 7, flags, testDate)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func opts(v eas.Version, prefs ...server.BodyPreference) Options {
	return Options{Version: v, BodyPrefs: prefs}
}

func convert(t testing.TB, m *source.Message, o Options) *wbxml.Element {
	t.Helper()
	e, err := ApplicationData(m, o)
	if err != nil {
		t.Fatalf("ApplicationData: %v", err)
	}
	checkTree(t, e)
	return e
}

// checkTree fails when any text in the tree is not valid UTF-8 or holds a
// NUL, or when the tree does not encode.
func checkTree(t testing.TB, e *wbxml.Element) {
	t.Helper()
	var walk func(e *wbxml.Element)
	walk = func(e *wbxml.Element) {
		if !e.IsOpaque && (!utf8.ValidString(e.Text) || strings.IndexByte(e.Text, 0) >= 0) {
			t.Fatalf("%s:%s has invalid text %q", e.Space, e.Name, e.Text)
		}
		for _, c := range e.Children {
			walk(c)
		}
	}
	walk(e)
	if _, err := wbxml.Encode(e); err != nil {
		t.Fatalf("Encode: %v", err)
	}
}

// fieldText returns the text of the Email field space:name, and whether it is
// there.
func fieldText(e *wbxml.Element, space, name string) (string, bool) {
	c := e.Child(space, name)
	if c == nil {
		return "", false
	}
	if c.IsOpaque {
		return string(c.Opaque), true
	}
	return c.Text, true
}

func bodyOf(e *wbxml.Element) *wbxml.Element { return e.Child(wbxml.NSAirSyncBase, "Body") }

func xmlOf(t testing.TB, e *wbxml.Element) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := wbxml.ToXML(&b, e); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
