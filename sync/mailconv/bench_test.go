package mailconv

import (
	"fmt"
	"mime/quotedprintable"
	"strings"
	"testing"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// benchMessage is a typical 20 KB newsletter-style message: a header with
// a few Received lines, multipart/alternative with a quoted-printable UTF-8
// plain part and a larger HTML part.
func benchMessage() []byte {
	var h strings.Builder
	for i := range 6 {
		fmt.Fprintf(&h, "Received: from relay%d.example.net (relay%d.example.net [192.0.2.%d])\r\n\tby mx.example.com with ESMTPS id abc%d\r\n\tfor <me@example.com>; Mon, 3 Mar 2025 09:1%d:02 +0100\r\n", i, i, i, i, i)
	}
	h.WriteString("Date: Mon, 3 Mar 2025 09:13:55 +0100\r\n" +
		"From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\r\n" +
		"To: Me <me@example.com>, \"Team, Sales\" <sales@example.com>\r\n" +
		"Cc: boss@example.com\r\n" +
		"Subject: =?UTF-8?Q?W=C3=B6chentliche_=C3=9Cbersicht?= =?UTF-8?Q?_f=C3=BCr_M=C3=A4rz?=\r\n" +
		"Message-ID: <bench-1@example.de>\r\nReferences: <root-1@example.de>\r\nIn-Reply-To: <root-1@example.de>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n")
	para := "Grüße aus dem Büro – hier ist die wöchentliche Übersicht mit allen Zahlen, Terminen und offenen Punkten. "
	var plain, html strings.Builder
	for i := 0; plain.Len() < 5000; i++ {
		fmt.Fprintf(&plain, "%d. %s\n\n", i, para)
	}
	html.WriteString("<html><head><style>body{font-family:sans-serif} td{padding:4px}</style></head><body>")
	for i := 0; html.Len() < 11000; i++ {
		fmt.Fprintf(&html, "<p class=\"x\"><b>%d.</b> %s<a href=\"https://example.com/item/%d\">mehr&nbsp;&raquo;</a></p>\n", i, para, i)
	}
	html.WriteString("</body></html>\n")
	qp := func(s string) string {
		var b strings.Builder
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return strings.ReplaceAll(strings.ReplaceAll(b.String(), "\r\n", "\n"), "\n", "\r\n")
	}
	return []byte(h.String() +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(plain.String()) +
		"\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(html.String()) +
		"\r\n--b1--\r\n")
}

// BenchmarkApplicationData converts the 20 KB message for a 14.1 client
// that asks for HTML (32 KB) with a 255-character preview, and encodes
// nothing: the conversion alone, as the Sync handler calls it per item.
func BenchmarkApplicationData(b *testing.B) {
	raw := benchMessage()
	m, err := MessageFromRaw(raw, 1, []string{`\Seen`, "Work"}, testDate)
	if err != nil {
		b.Fatal(err)
	}
	o := Options{Version: eas.V141, UserAddress: "me@example.com",
		BodyPrefs:     []server.BodyPreference{{Type: 2, TruncationSize: 32768, Preview: 255}},
		FileReference: func(p []int) string { return "ref" }}
	e, err := ApplicationData(m, o)
	if err != nil || bodyOf(e).ChildText(wbxml.NSAirSyncBase, "Type") != "2" {
		b.Fatalf("%v %v", err, e)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ApplicationData(m, o); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchMessage(t *testing.T) {
	raw := benchMessage()
	if len(raw) < 19000 || len(raw) > 22000 {
		t.Errorf("bench message is %d octets, want about 20 KB", len(raw))
	}
	m, err := MessageFromRaw(raw, 1, nil, testDate)
	if err != nil {
		t.Fatal(err)
	}
	e := convert(t, m, Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 32768, Preview: 255}}})
	if r := getBody(t, e); r.typ != "2" || r.truncated != "" || !strings.Contains(r.preview, "Grüße aus dem Büro") {
		t.Errorf("bench body: %+v", r)
	}
}
