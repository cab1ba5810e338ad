package mailconv

import (
	"strings"
	"testing"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

func TestContentLocation(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{"logo.gif", "logo.gif"},
		{"http://example.com/images/\r\n logo.gif", "http://example.com/images/logo.gif"},
		{`"cid-less/photo.jpg"`, "cid-less/photo.jpg"},
		{"=?UTF-8?Q?dir=2Fmy=20file=2Ejpg?=", "dir/my file.jpg"},
		{"=?UTF-8?Q?dir=2F?=\r\n =?UTF-8?Q?x=2Ejpg?=", "dir/x.jpg"},
		{"a\x00b", "ab"},
	}
	for _, tc := range tests {
		if got := contentLocation(tc.in); got != tc.want {
			t.Errorf("contentLocation(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestContentLocationFromRaw: a structure parsed from the raw message
// (no BODYSTRUCTURE) carries Content-ID and Content-Location to the
// attachment.
func TestContentLocationFromRaw(t *testing.T) {
	raw := "From: a@example.com\r\nSubject: related\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/related; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<img src=\"images/logo.png\">\r\n" +
		"--b\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Location: images/\r\n logo.png\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n"
	m := &source.Message{UID: 7, Header: []byte(raw[:len("From: a@example.com\r\nSubject: related\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n")]),
		Raw: []byte(raw), Size: int64(len(raw))}
	e := convert(t, m, opts(eas.V141))
	atts := e.Child(wbxml.NSAirSyncBase, "Attachments")
	if atts == nil || len(atts.Children) != 1 {
		t.Fatalf("attachments: %v", atts)
	}
	a := atts.Children[0]
	got := a.ChildText(wbxml.NSAirSyncBase, "ContentId") + "|" + a.ChildText(wbxml.NSAirSyncBase, "ContentLocation") +
		"|" + a.ChildText(wbxml.NSAirSyncBase, "IsInline")
	if want := "logo@x|images/logo.png|1"; got != want {
		t.Errorf("attachment = %q, want %q", got, want)
	}
}

// TestDraftContentLocation: a draft attachment's ContentLocation (MS-ASAIRS
// 2.2.2.17.1) is written as Content-Location and read back the same,
// encoded when it is not plain ASCII.
func TestDraftContentLocation(t *testing.T) {
	ab := wbxml.NSAirSyncBase
	for _, loc := range []string{"images/logo.png", "bilder/größe 1.png", "http://example.com/" + strings.Repeat("long/", 30) + "x.png"} {
		data := draftData(asbBody(2, `<p><img src="`+loc+`"></p>`), wbxml.New(ab, "Attachments", wbxml.New(ab, "Add",
			wbxml.Text(ab, "ClientId", "c1"), wbxml.Text(ab, "DisplayName", "logo.png"), wbxml.Text(ab, "ContentType", "image/png"),
			wbxml.Text(ab, "ContentLocation", loc), wbxml.Int(ab, "IsInline", 1),
			wbxml.Opaque(ab, "Content", []byte("PNG")), wbxml.Int(ab, "Method", 1))))
		raw, err := DraftMIME(data, DraftOptions{From: "alice@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := MessageFromRaw(raw, 1, nil, testDate)
		if err != nil {
			t.Fatal(err)
		}
		a := convert(t, m, opts(eas.V161)).Child(ab, "Attachments").Child(ab, "Attachment")
		if got := a.ChildText(ab, "ContentLocation"); got != loc || a.ChildText(ab, "IsInline") != "1" {
			t.Errorf("ContentLocation %q (inline %q), want %q\n%s", got, a.ChildText(ab, "IsInline"), loc, raw)
		}
	}
}
