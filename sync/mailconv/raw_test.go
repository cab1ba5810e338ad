package mailconv

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

// describePart writes a Part tree one line per part, like a BODYSTRUCTURE
// dump: path type/subtype encoding size lines disposition body.
func describePart(p *source.Part, sb *strings.Builder) {
	if p == nil {
		return
	}
	path := dotted(p.Path)
	if path == "" {
		path = "root"
	}
	fmt.Fprintf(sb, "%s %s/%s %s %d %d %q %q\n", path, p.Type, p.Subtype, p.Encoding, p.Size, p.Lines, p.Disposition, p.Body)
	for _, c := range p.Children {
		describePart(c, sb)
	}
}

func TestMessageFromRaw(t *testing.T) {
	m := loadEML(t, "related.eml", `\Seen`)
	if m.UID != 42 || !m.InternalDate.Equal(testDate) || m.Size != int64(len(m.Raw)) || len(m.Flags) != 1 {
		t.Errorf("envelope: %+v", m)
	}
	if !bytes.HasSuffix(m.Header, []byte("\r\n\r\n")) || !bytes.HasPrefix(m.Header, []byte("Date: ")) || bytes.Contains(m.Header, []byte("--outer")) {
		t.Errorf("Header %q", m.Header)
	}
	var sb strings.Builder
	describePart(m.Root, &sb)
	want := `root multipart/mixed 7bit 1674 0 "" ""
1 multipart/related 7bit 533 0 "" ""
1.1 multipart/alternative 7bit 258 0 "" ""
1.1.1 text/plain 7bit 32 0 "" "Our picks: see the HTML version."
1.1.2 text/html 7bit 108 0 "" "<html><body><h1>Picks</h1><img src=\"cid:logo@shop.example\" alt=\"logo\"><p>Great &amp; cheap</p></body></html>"
1.2 image/png base64 98 0 "" ""
2 application/zip base64 828 0 "attachment" ""
`
	if got := sb.String(); got != want {
		t.Errorf("structure:\n%s\nwant:\n%s", got, want)
	}
	zip := m.Root.Children[1]
	if zip.Params["name"] != "Katalog übersicht.zip" || zip.DispParams["filename"] != "Katalog übersicht.zip" {
		t.Errorf("zip params %q %q", zip.Params, zip.DispParams)
	}
	if m.Root.Children[0].Children[1].ID != "logo@shop.example" {
		t.Errorf("Content-ID %q", m.Root.Children[0].Children[1].ID)
	}
	if m.Root.Params["boundary"] != "outer" || m.Root.Children[0].Children[0].Children[0].Params["charset"] != "us-ascii" {
		t.Errorf("params %q", m.Root.Params)
	}

	// RFC 2231 keys stay as BODYSTRUCTURE gives them.
	a := loadEML(t, "attachments.eml")
	pdf := a.Root.Children[1]
	if pdf.DispParams["filename*"] != "utf-8''Rechnung%20M%C3%A4rz%20%E2%82%AC.pdf" || filename(pdf) != "Rechnung März €.pdf" {
		t.Errorf("pdf params %q", pdf.DispParams)
	}
	// Text attachments have no body fetched; message/rfc822 is a leaf.
	if a.Root.Children[2].Body != nil || a.Root.Children[3].Type != "message" || len(a.Root.Children[3].Children) != 0 || a.Root.Children[3].Lines == 0 {
		t.Errorf("attachments: %+v %+v", a.Root.Children[2], a.Root.Children[3])
	}

	if _, err := MessageFromRaw(nil, 1, nil, time.Time{}); err == nil {
		t.Error("empty message: no error")
	}
}

func TestMessageFromRawLenient(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"single part", "Subject: x\n\nbody\n", `root text/plain 7bit 6 1 "" "body\r\n"` + "\n"},
		{"no header", "just text", `root text/plain 7bit 9 0 "" "just text"` + "\n"},
		{"lf only header", "Subject: x\nContent-Type: text/html\n\n<b>x</b>", `root text/html 7bit 8 0 "" "<b>x</b>"` + "\n"},
		{"multipart without boundary", "Content-Type: multipart/mixed\n\n--x\nbody\n", `root text/plain 7bit 11 2 "" "--x\r\nbody\r\n"` + "\n"},
		{"never closed", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\nContent-Type: text/html\n\nsecond",
			`root multipart/mixed 7bit 52 0 "" ""` + "\n" + `1 text/plain 7bit 5 0 "" "first"` + "\n" + `2 text/html 7bit 6 0 "" "second"` + "\n"},
		{"boundary with spaces and padding", "Content-Type: multipart/alternative; boundary=\"a b\"\n\npreamble\n--a b  \n\none\n--a b--  \nepilogue\n",
			`root multipart/alternative 7bit 47 0 "" ""` + "\n" + `1 text/plain 7bit 3 0 "" "one"` + "\n"},
		{"digest default", "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\nx\n--d--\n",
			`root multipart/digest 7bit 35 0 "" ""` + "\n" + `1 message/rfc822 7bit 19 2 "" ""` + "\n"},
		{"bad content type", "Content-Type: garbage\n\nx", `root text/plain 7bit 1 0 "" "x"` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := MessageFromRaw([]byte(strings.ReplaceAll(tc.raw, "\n", "\r\n")), 1, nil, testDate)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			describePart(m.Root, &sb)
			if got := sb.String(); got != tc.want {
				t.Errorf("structure:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestApplyFetchSpec(t *testing.T) {
	m := loadEML(t, "alternative.eml")
	c := ApplyFetchSpec(m, source.FetchSpec{TextLimit: 10, RawLimit: 100})
	plain := c.Root.Children[0]
	if len(plain.Body) != 10 || !plain.BodyTruncated || len(c.Raw) != 100 || !c.RawTruncated {
		t.Errorf("limited: body %d %v raw %d %v", len(plain.Body), plain.BodyTruncated, len(c.Raw), c.RawTruncated)
	}
	if len(m.Root.Children[0].Body) == 10 || m.RawTruncated {
		t.Error("ApplyFetchSpec changed the original")
	}
	c = ApplyFetchSpec(m, source.FetchSpec{})
	if c.Raw != nil || c.Root.Children[0].Body != nil {
		t.Error("zero spec kept bodies")
	}
	// A conversion of the limited message still works.
	e := convert(t, ApplyFetchSpec(m, source.FetchSpec{TextLimit: 30}), opts(eas.V141, server.BodyPreference{Type: 2}))
	if bodyOf(e).ChildText(wbxml.NSAirSyncBase, "Truncated") != "1" {
		t.Error("limited HTML not marked truncated")
	}
	if ApplyFetchSpec(nil, source.FetchSpec{}) != nil {
		t.Error("nil message")
	}
}
