package noteconv

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
)

var (
	created  = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	modified = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	internal = time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC)
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Note
	}{{
		name: "apple html note",
		raw: `Date: Mon, 2 Mar 2026 10:30:00 +0000
From: alice@example.org
X-Uniform-Type-Identifier: com.apple.mail-note
X-Mail-Created-Date: Sun, 1 Mar 2026 09:00:00 +0000
X-Universally-Unique-Identifier: 3B0E4F3C-1D2A-4B5C-8D9E-0F1A2B3C4D5E
Subject: Shopping
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable
Mime-Version: 1.0

<div>Shopping</div><div>Milk =E2=80=93 2 l</div>
`,
		want: Note{Subject: "Shopping", HTML: "<div>Shopping</div><div>Milk – 2 l</div>\r\n", Text: "Shopping\nMilk – 2 l",
			Created: created, Modified: modified, UUID: "3B0E4F3C-1D2A-4B5C-8D9E-0F1A2B3C4D5E", Apple: true},
	}, {
		name: "plain message without the note header",
		raw: `Subject: =?iso-8859-1?q?Caf=E9?=
Keywords: Work, Home
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Line one=E9
Line two
`,
		want: Note{Subject: "Café", Text: "Line oneé\nLine two\n", Categories: []string{"Work", "Home"},
			Created: internal, Modified: internal},
	}, {
		name: "multipart alternative takes both forms",
		raw: `Subject: Both
Date: Mon, 2 Mar 2026 10:30:00 +0000
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain

plain form
--b
Content-Type: text/html

<p>html form</p>
--b--
`,
		want: Note{Subject: "Both", Text: "plain form", HTML: "<p>html form</p>", Created: modified, Modified: modified},
	}, {
		name: "no content type is plain text",
		raw:  "Subject: x\n\nbody\n",
		want: Note{Subject: "x", Text: "body\n", Created: internal, Modified: internal},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(crlf(tc.raw), internal)
			if err != nil {
				t.Fatal(err)
			}
			got.Created, got.Modified = got.Created.UTC(), got.Modified.UTC()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, n := range []Note{
		{Subject: "Grüße, Welt", Text: "ä\nb", Categories: []string{"Privat", "Ärger, groß"}, Created: created, Modified: modified, UUID: "U1"},
		{Subject: "HTML", HTML: "<div>a very long line " + strings.Repeat("x", 200) + "</div>", Created: created, Modified: modified, UUID: "U2"},
	} {
		raw := n.Message("alice@example.org")
		got, err := Parse(raw, internal)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Apple || got.Subject != n.Subject || got.UUID != n.UUID || !got.Created.Equal(created) || !got.Modified.Equal(modified) {
			t.Errorf("header fields: %#v\n%s", got, raw)
		}
		if n.HTML != "" && strings.TrimSpace(got.HTML) != n.HTML || n.HTML == "" && strings.TrimSpace(got.Text) != n.Text {
			t.Errorf("body: %q / %q\n%s", got.Text, got.HTML, raw)
		}
		wantCats := []string(nil)
		for _, c := range n.Categories {
			wantCats = append(wantCats, strings.ReplaceAll(c, ",", " "))
		}
		if !reflect.DeepEqual(got.Categories, wantCats) {
			t.Errorf("categories %q, want %q", got.Categories, wantCats)
		}
		for _, line := range strings.Split(string(raw), "\r\n") {
			if len(line) > 998 {
				t.Errorf("line longer than RFC 5322 allows: %d", len(line))
			}
		}
	}
}

func TestToEAS(t *testing.T) {
	n := Note{Subject: "S", Text: "hello", HTML: "<b>hello</b>", Categories: []string{"A"}, Modified: modified}
	tests := []struct {
		name     string
		prefs    []server.BodyPreference
		version  eas.Version
		wantType string
		wantData string
		wantErr  bool
	}{
		{name: "html preferred", prefs: []server.BodyPreference{{Type: 2}}, wantType: "2", wantData: "<b>hello</b>"},
		{name: "plain", prefs: []server.BodyPreference{{Type: 1}}, wantType: "1", wantData: "hello"},
		{name: "truncated", prefs: []server.BodyPreference{{Type: 1, TruncationSize: 2}}, wantType: "1", wantData: "he"},
		{name: "12.1 has no notes", version: eas.V121, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, err := ToEAS(n, calconv.Options{BodyPrefs: tc.prefs, Version: tc.version})
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b := app.Child(wbxml.NSAirSyncBase, "Body")
			if b.ChildText(wbxml.NSAirSyncBase, "Type") != tc.wantType || b.ChildText(wbxml.NSAirSyncBase, "Data") != tc.wantData {
				t.Errorf("body %s", wbxml.XMLString(b))
			}
			N := wbxml.NSNotes
			if app.ChildText(N, "Subject") != "S" || app.ChildText(N, "MessageClass") != "IPM.StickyNote" ||
				app.ChildText(N, "LastModifiedDate") != "20260302T103000Z" || app.Child(N, "Categories").ChildText(N, "Category") != "A" {
				t.Errorf("fields %s", wbxml.XMLString(app))
			}
		})
	}
}

func TestFromEAS(t *testing.T) {
	N, B := wbxml.NSNotes, wbxml.NSAirSyncBase
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	old := Note{Subject: "Old", Text: "old body", Categories: []string{"K"}, Created: created, Modified: modified, UUID: "U", Apple: true}
	tests := []struct {
		name string
		app  *wbxml.Element
		old  Note
		want Note
	}{{
		name: "add plain",
		app: wbxml.New(wbxml.NSAirSync, "ApplicationData", wbxml.Text(N, "Subject", "New"),
			wbxml.New(B, "Body", wbxml.Text(B, "Type", "1"), wbxml.Text(B, "Data", "a\r\nb"))),
		want: Note{Subject: "New", Text: "a\nb", Created: now, Modified: now},
	}, {
		name: "change subject keeps body, categories and creation",
		app:  wbxml.New(wbxml.NSAirSync, "ApplicationData", wbxml.Text(N, "Subject", "Renamed")),
		old:  old,
		want: Note{Subject: "Renamed", Text: "old body", Categories: []string{"K"}, Created: created, Modified: now, UUID: "U", Apple: true},
	}, {
		name: "change html body and clear categories",
		app: wbxml.New(wbxml.NSAirSync, "ApplicationData", wbxml.Text(N, "Subject", "Old"), wbxml.New(N, "Categories"),
			wbxml.New(B, "Body", wbxml.Text(B, "Type", "2"), wbxml.Text(B, "Data", "<p>x</p>"))),
		old:  old,
		want: Note{Subject: "Old", Text: "x", HTML: "<p>x</p>", Created: created, Modified: now, UUID: "U", Apple: true},
	}, {
		name: "no subject takes the first line",
		app: wbxml.New(wbxml.NSAirSync, "ApplicationData",
			wbxml.New(B, "Body", wbxml.Text(B, "Type", "1"), wbxml.Text(B, "Data", "Title line\nmore"))),
		want: Note{Subject: "Title line", Text: "Title line\nmore", Created: now, Modified: now},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromEAS(tc.app, tc.old, calconv.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.UUID == "" {
				if len(got.UUID) != 36 {
					t.Errorf("new UUID %q", got.UUID)
				}
				got.UUID = ""
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}
