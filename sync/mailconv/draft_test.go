package mailconv

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

func draftData(body *wbxml.Element, extra ...*wbxml.Element) *wbxml.Element {
	e := appData(
		em("To", `"Bob Smith" <bob@example.com>, carol@example.com`),
		em("Cc", "Дмитрий <dima@example.ru>"),
		wbxml.Text(wbxml.NSEmail2, "Bcc", "secret@example.net"),
		em("Subject", "Entwurf: Grüße ☕"),
		em("Importance", "2"),
		body,
	)
	return e.Add(extra...)
}

func asbBody(typ int, data string) *wbxml.Element {
	return wbxml.New(wbxml.NSAirSyncBase, "Body", wbxml.Int(wbxml.NSAirSyncBase, "Type", typ), wbxml.Text(wbxml.NSAirSyncBase, "Data", data))
}

func TestDraftMIME(t *testing.T) {
	date := time.Date(2025, 3, 15, 10, 0, 0, 0, time.UTC)
	o := DraftOptions{From: "Alice <alice@example.org>", Date: date, MessageID: "draft-1@example.org"}
	atts := wbxml.New(wbxml.NSAirSyncBase, "Attachments",
		wbxml.New(wbxml.NSAirSyncBase, "Add",
			wbxml.Text(wbxml.NSAirSyncBase, "ClientId", "c1"),
			wbxml.Text(wbxml.NSAirSyncBase, "DisplayName", "Bericht März.pdf"),
			wbxml.Text(wbxml.NSAirSyncBase, "ContentType", "application/pdf"),
			wbxml.Opaque(wbxml.NSAirSyncBase, "Content", []byte("%PDF-1.4 \x00\x01\x02 binary")),
			wbxml.Int(wbxml.NSAirSyncBase, "Method", 1)),
		wbxml.New(wbxml.NSAirSyncBase, "Add",
			wbxml.Text(wbxml.NSAirSyncBase, "ClientId", "c2"),
			wbxml.Text(wbxml.NSAirSyncBase, "DisplayName", "logo.png"),
			wbxml.Text(wbxml.NSAirSyncBase, "ContentType", "image/png"),
			wbxml.Text(wbxml.NSAirSyncBase, "ContentId", "logo1"),
			wbxml.Int(wbxml.NSAirSyncBase, "IsInline", 1),
			wbxml.Opaque(wbxml.NSAirSyncBase, "Content", []byte("PNGDATA")),
			wbxml.Int(wbxml.NSAirSyncBase, "Method", 1)))
	tests := []struct {
		name      string
		data      *wbxml.Element
		wantType  string // MIME type of the root
		wantBody  string
		wantAtts  string
		wantTypeB string // body type sent back
	}{
		{"plain", draftData(asbBody(1, "Hallo Bob,\nbis morgen.\n")), "text/plain", "Hallo Bob,\r\nbis morgen.", "", "1"},
		{"html", draftData(asbBody(2, "<p>Hallo <b>Bob</b></p>")), "multipart/alternative", "Hallo Bob", "", "2"},
		{"attachments", draftData(asbBody(2, `<p>See <img src="cid:logo1"></p>`), atts), "multipart/mixed", "See",
			"Bericht März.pdf:application/pdf:21:|logo.png:image/png:9:logo1", "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := DraftMIME(tc.data, o)
			if err != nil {
				t.Fatal(err)
			}
			m, err := MessageFromRaw(raw, 1, []string{`\Draft`, `\Seen`}, date)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Root.Type + "/" + m.Root.Subtype; got != tc.wantType {
				t.Errorf("root %s, want %s\n%s", got, tc.wantType, raw)
			}
			e := convert(t, m, Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 2}, {Type: 1}}})
			for _, f := range []struct{ space, name, want string }{
				{wbxml.NSEmail, "To", `"Bob Smith" <bob@example.com>, carol@example.com`},
				{wbxml.NSEmail, "Cc", `"Дмитрий" <dima@example.ru>`},
				{wbxml.NSEmail2, "Bcc", "secret@example.net"},
				{wbxml.NSEmail, "From", `"Alice" <alice@example.org>`},
				{wbxml.NSEmail, "Subject", "Entwurf: Grüße ☕"},
				{wbxml.NSEmail, "Importance", "2"},
				{wbxml.NSEmail2, "IsDraft", "1"},
				{wbxml.NSEmail, "DateReceived", "2025-03-15T10:00:00.000Z"},
			} {
				if got, _ := fieldText(e, f.space, f.name); got != f.want {
					t.Errorf("%s = %q, want %q", f.name, got, f.want)
				}
			}
			b := getBody(t, e)
			plain := getBody(t, convert(t, m, Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 1}}}))
			if b.typ != tc.wantTypeB || !strings.Contains(plain.data, tc.wantBody) {
				t.Errorf("body type %s plain %q, want %s containing %q", b.typ, plain.data, tc.wantTypeB, tc.wantBody)
			}
			var atts []string
			for _, a := range e.Child(wbxml.NSAirSyncBase, "Attachments").All(wbxml.NSAirSyncBase, "Attachment") {
				p := partAt(m.Root, a.ChildText(wbxml.NSAirSyncBase, "FileReference"))
				atts = append(atts, a.ChildText(wbxml.NSAirSyncBase, "DisplayName")+":"+p.Type+"/"+p.Subtype+":"+
					a.ChildText(wbxml.NSAirSyncBase, "EstimatedDataSize")+":"+a.ChildText(wbxml.NSAirSyncBase, "ContentId"))
			}
			if got := strings.Join(atts, "|"); got != tc.wantAtts {
				t.Errorf("attachments %q, want %q", got, tc.wantAtts)
			}
			if !strings.Contains(string(raw), "Message-Id: <draft-1@example.org>") && !strings.Contains(string(raw), "Message-ID: <draft-1@example.org>") {
				t.Errorf("no Message-ID:\n%s", raw)
			}
		})
	}
	if _, err := DraftMIME(nil, o); err == nil {
		t.Error("nil data: no error")
	}
	if _, err := DraftMIME(appData(), DraftOptions{}); err == nil {
		t.Error("no From: no error")
	}
	// Generated Message-ID and date.
	raw, err := DraftMIME(appData(em("Subject", "x")), DraftOptions{From: "a@example.org"})
	if err != nil || !strings.Contains(string(raw), "@example.org>") || !strings.Contains(string(raw), "Date: ") {
		t.Errorf("defaults: %v\n%s", err, raw)
	}
}

// partAt finds a part by its dotted number.
func partAt(root *source.Part, ref string) *source.Part {
	p := root
	for _, n := range strings.Split(ref, ".") {
		i, err := strconv.Atoi(n)
		if err != nil || p == nil || i < 1 || i > len(p.Children) {
			return &source.Part{}
		}
		p = p.Children[i-1]
	}
	return p
}
