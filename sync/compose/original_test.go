package compose

import (
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

func TestOriginalFromMessage(t *testing.T) {
	type att struct {
		filename, contentType, cid string
		inline                     bool
		content                    string
	}
	tests := []struct {
		name        string
		raw         string
		plain, html string
		atts        []att
		subject     string // a header line that must be in Header
	}{
		{
			name:    "plain",
			raw:     originalShapes[0].raw,
			plain:   "Lunch at noon?\r\n> an older line\r\n\r\nJörg\r\n",
			subject: "Subject: Lunch?",
		},
		{
			name: "html related with inline image",
			raw:  originalShapes[1].raw,
			html: `<html><head><style>p{color:red}</style></head><body><p>Lunch at <i>noon</i>?</p><img src="cid:logo@orig"></body></html>`,
			atts: []att{{contentType: "image/png", cid: "logo@orig", inline: true, content: "\x89PNG\r\n\x1a\n"}},
		},
		{
			name:  "alternative with attachment",
			raw:   originalShapes[2].raw,
			plain: "Lunch at noon? Menu attached.",
			html:  "<p>Lunch at noon? Menu attached.</p>",
			atts:  []att{{filename: "menü.pdf", contentType: "application/pdf", content: "%PDF-1.7\nmenü"}},
		},
		{
			name:    "latin1 quoted-printable",
			raw:     originalShapes[3].raw,
			plain:   "Schöne Grüße aus Köln.\r\n",
			subject: "Subject: =?iso-8859-1?q?Gr=FC=DFe?=",
		},
		{
			name: "windows-1252 base64, text attachment keeps its bytes, rfc822 attachment, second text part",
			raw: crlf(`From: a@example.test
Subject: x
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: base64

k1F1b3RlZJQgq2d1aWxsZW1ldHO7IIA1

--b1
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

caf=E9
--b1
Content-Type: text/plain; charset=iso-8859-1; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"
Content-Transfer-Encoding: quoted-printable

caf=E9 au lait
--b1
Content-Type: message/rfc822

From: b@example.test
Subject: inner

inner body
--b1--
`),
			plain: "“Quoted” «guillemets» €5",
			atts: []att{
				{contentType: "text/plain; charset=iso-8859-1", inline: false, content: "caf\xe9"},
				{filename: "notes.txt", contentType: "text/plain; charset=iso-8859-1", content: "caf\xe9 au lait"},
				{contentType: "message/rfc822", content: "From: b@example.test\r\nSubject: inner\r\n\r\ninner body"},
			},
		},
		{
			name: "unknown charset and header-only",
			raw:  "From: a@example.test\r\nContent-Type: text/plain; charset=x-unknown-42\r\n\r\nab\xffc\r\n",
			// bytes kept, invalid UTF-8 replaced
			plain: "ab\uFFFDc\r\n",
		},
		{
			name: "signed original: the signed text is the body",
			raw: crlf(`From: a@example.test
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=s

--s
Content-Type: text/plain; charset=utf-8

Signed body.
--s
Content-Type: application/pkcs7-signature; name=smime.p7s
Content-Disposition: attachment; filename=smime.p7s
Content-Transfer-Encoding: base64

AAEC
--s--
`),
			plain: "Signed body.",
			atts:  []att{{filename: "smime.p7s", contentType: "application/pkcs7-signature", content: "\x00\x01\x02"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := OriginalFromMessage(strings.NewReader(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if o.PlainBody != tt.plain {
				t.Errorf("PlainBody = %q, want %q", o.PlainBody, tt.plain)
			}
			if o.HTMLBody != tt.html {
				t.Errorf("HTMLBody = %q, want %q", o.HTMLBody, tt.html)
			}
			if !strings.HasSuffix(string(o.Header), "\r\n\r\n") || (tt.subject != "" && !strings.Contains(string(o.Header), tt.subject+"\r\n")) {
				t.Errorf("Header = %q", o.Header)
			}
			if len(o.Attachments) != len(tt.atts) {
				t.Fatalf("%d attachments, want %d: %+v", len(o.Attachments), len(tt.atts), o.Attachments)
			}
			for i, w := range tt.atts {
				a := o.Attachments[i]
				if a.Filename != w.filename || a.ContentType != w.contentType || a.ContentID != w.cid || a.Inline != w.inline {
					t.Errorf("attachment %d = %+v, want %+v", i, a, w)
				}
				for range 2 { // Open may be called again
					rc, err := a.Open()
					if err != nil {
						t.Fatal(err)
					}
					b, err := io.ReadAll(rc)
					rc.Close()
					if err != nil || string(b) != w.content {
						t.Errorf("attachment %d content = %q, %v; want %q", i, b, err, w.content)
					}
				}
			}
		})
	}
}

// TestOriginalSpoolFile: attachments live in one temporary file, read
// concurrently, removed by Close.
func TestOriginalSpoolFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	const big = 3 << 20
	raw := crlf("From: a@example.test\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=a.bin\nContent-Transfer-Encoding: base64\n\n") +
		strings.Repeat("QUJD\r\n", big/3) + crlf("--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=b.bin\n\nxyz\n--b--\n")
	o, err := OriginalFromMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Fatalf("%d files in TMPDIR, want the one spool file", len(files))
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			a := o.Attachments[i%2]
			rc, err := a.Open()
			if err != nil {
				t.Error(err)
				return
			}
			defer rc.Close()
			n, err := io.Copy(io.Discard, rc)
			want := int64(big)
			if a.Filename == "b.bin" {
				want = 3
			}
			if err != nil || n != want {
				t.Errorf("%s: read %d bytes, %v; want %d", a.Filename, n, err, want)
			}
		})
	}
	wg.Wait()
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	files, _ = os.ReadDir(dir)
	if len(files) != 0 {
		t.Fatalf("spool file left behind: %v", files)
	}

	// A failing read removes the spool too.
	bad := io.MultiReader(strings.NewReader(raw[:len(raw)/2]), iotestErrReader{})
	if _, err := OriginalFromMessage(bad); err == nil {
		t.Fatal("no error from a failing reader")
	}
	files, _ = os.ReadDir(dir)
	if len(files) != 0 {
		t.Fatalf("spool file left behind after an error: %v", files)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// TestOriginalBodyLimit: bodies beyond MaxBodyText are cut at a character
// boundary and marked.
func TestOriginalBodyLimit(t *testing.T) {
	body := strings.Repeat("ä", MaxBodyText/2+10) // 2 bytes each
	o, err := OriginalFromMessage(strings.NewReader("From: a@example.test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx" + body))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if !strings.HasSuffix(o.PlainBody, truncatedNote) || len(o.PlainBody) > MaxBodyText+len(truncatedNote) {
		t.Fatalf("len %d, suffix %q", len(o.PlainBody), o.PlainBody[len(o.PlainBody)-10:])
	}
	if strings.ContainsRune(o.PlainBody, '\uFFFD') {
		t.Error("a character was cut in two")
	}
}
