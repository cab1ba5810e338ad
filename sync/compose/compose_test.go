package compose

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"easbridge/server/eas"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fixedBoundaries returns a Composer with boundaries BOUNDARY-1, -2, ….
func fixedBoundaries() Composer {
	n := 0
	return Composer{Boundary: func() string {
		n++
		return fmt.Sprintf("BOUNDARY-%d", n)
	}}
}

// originalFor parses an original fixture.
func originalFor(t *testing.T, name string) Original {
	t.Helper()
	for _, o := range originalShapes {
		if o.name == name {
			orig, err := OriginalFromMessage(strings.NewReader(o.raw))
			if err != nil {
				t.Fatalf("OriginalFromMessage(%s): %v", name, err)
			}
			t.Cleanup(func() { orig.Close() })
			return orig
		}
	}
	t.Fatalf("no original %q", name)
	return Original{}
}

func clientFor(t *testing.T, name string) string {
	t.Helper()
	for _, c := range clientShapes {
		if c.name == name {
			return c.raw
		}
	}
	t.Fatalf("no client shape %q", name)
	return ""
}

// part is one leaf of a parsed-back message.
type part struct {
	path      string // "1.2"
	mediaType string
	parent    string // media type of the enclosing multipart
	disp      string
	filename  string
	cid       string
	raw       []byte // transfer-decoded, charset untouched
	text      string // charset-decoded (text/* only)
}

// parseBack checks that out is a valid MIME message for go-message (every
// entity readable) and returns its header and leaves.
func parseBack(t *testing.T, out []byte) (mail.Header, []part) {
	t.Helper()
	// go-message must read all of it.
	mr, err := mail.CreateReader(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("mail.CreateReader: %v\n%s", err, out)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("mail.Reader.NextPart: %v\n%s", err, out)
		}
		if _, err := io.ReadAll(p.Body); err != nil {
			t.Fatalf("read part: %v", err)
		}
	}
	e, err := message.Read(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Walk(func(path []int, e *message.Entity, err error) error { return err }); err != nil {
		t.Fatalf("Walk: %v", err)
	}

	// Our own raw walk, for bytes as transmitted.
	br := bufio.NewReader(bytes.NewReader(out))
	th, err := textproto.ReadHeader(br)
	if err != nil {
		t.Fatal(err)
	}
	var parts []part
	var walk func(th textproto.Header, body io.Reader, path, parent string)
	walk = func(th textproto.Header, body io.Reader, path, parent string) {
		h := message.Header{Header: th}
		mt, params, err := h.ContentType()
		if err != nil {
			t.Fatalf("part %s: Content-Type: %v", path, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := textproto.NewMultipartReader(body, params["boundary"])
			for i := 1; ; i++ {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("part %s: %v", path, err)
				}
				walk(p.Header, p, strings.TrimPrefix(path+"."+fmt.Sprint(i), "."), mt)
			}
		}
		disp, dparams, _ := h.ContentDisposition()
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		dec, err := transferDecoder(h.Get("Content-Transfer-Encoding"), body)
		if err != nil {
			t.Fatalf("part %s: %v", path, err)
		}
		raw, err := io.ReadAll(dec)
		if err != nil {
			t.Fatalf("part %s: %v", path, err)
		}
		p := part{path: path, mediaType: mt, parent: parent, disp: disp, filename: name, cid: normalizeCID(h.Get("Content-Id")), raw: raw}
		if strings.HasPrefix(mt, "text/") {
			e, err := message.New(h, bytes.NewReader(raw))
			if err == nil || message.IsUnknownCharset(err) {
				// message.New would undo the transfer encoding again.
				e, _ = message.New(message.Header{Header: withoutCTE(th)}, bytes.NewReader(raw))
				b, _ := io.ReadAll(e.Body)
				p.text = string(b)
			}
		}
		parts = append(parts, p)
	}
	walk(th, br, "", "")
	return mail.Header{Header: message.Header{Header: th}}, parts
}

func withoutCTE(th textproto.Header) textproto.Header {
	h := th.Copy()
	h.Del("Content-Transfer-Encoding")
	return h
}

// bodyPart returns the first non-attachment leaf of type mt.
func bodyPart(parts []part, mt string) *part {
	for i := range parts {
		if parts[i].mediaType == mt && parts[i].disp != "attachment" {
			return &parts[i]
		}
	}
	return nil
}

func findFile(parts []part, name string) *part {
	for i := range parts {
		if parts[i].filename == name {
			return &parts[i]
		}
	}
	return nil
}

func findCID(parts []part, cid string) *part {
	for i := range parts {
		if parts[i].cid == cid {
			return &parts[i]
		}
	}
	return nil
}

// TestComposeShapes runs Reply and Forward over every client shape and
// every original shape, parses the result back and checks what must hold.
func TestComposeShapes(t *testing.T) {
	for _, os := range originalShapes {
		for _, cs := range clientShapes {
			for _, m := range []mode{modeReply, modeForward} {
				name := map[mode]string{modeReply: "reply", modeForward: "forward"}[m]
				t.Run(name+"/"+cs.name+"/"+os.name, func(t *testing.T) {
					orig := originalFor(t, os.name)
					var out bytes.Buffer
					var err error
					if m == modeReply {
						err = Reply(&out, strings.NewReader(cs.raw), orig)
					} else {
						err = Forward(&out, strings.NewReader(cs.raw), orig)
					}
					if err != nil {
						t.Fatal(err)
					}
					if cs.opaque {
						if out.String() != cs.raw {
							t.Fatalf("signed message changed:\n%s", out.String())
						}
						return
					}
					checkComposed(t, out.Bytes(), cs.plainText, cs.htmlText, cs.attach, os.plain, os.origAtt, os.inlineCID, m)
				})
			}
		}
	}
}

func checkComposed(t *testing.T, out []byte, plainText, htmlText string, clientAtt map[string]string, origPhrase string, origAtt map[string]string, inlineCID string, m mode) {
	t.Helper()
	// The client's header fields are kept byte for byte, in order.
	hdrEnd := bytes.Index(out, []byte("\r\n\r\n"))
	if hdrEnd < 0 || !strings.Contains(string(out[:hdrEnd+2]), crlf(clientHeader)) {
		t.Errorf("client header not kept:\n%s", out[:max(hdrEnd, 0)])
	}
	h, parts := parseBack(t, out)
	if h.Get("Mime-Version") == "" {
		t.Error("no MIME-Version")
	}
	marker := "wrote:"
	htmlMarker := `class="easbridge-quote"`
	if m == modeForward {
		marker = "-------- Original Message --------"
		htmlMarker = `class="easbridge-forward"`
	}

	plain := bodyPart(parts, "text/plain")
	switch {
	case plain == nil && (plainText != "" || htmlText == ""):
		t.Fatalf("no text/plain body in\n%s", out)
	case plain != nil && htmlText != "" && plainText == "":
		t.Errorf("a text/plain part was added to an HTML-only message")
	case plain != nil:
		if !strings.HasPrefix(plain.text, plainText) {
			t.Errorf("plain body does not start with the client's text %q:\n%s", plainText, plain.text)
		}
		if !strings.Contains(plain.text, marker) {
			t.Errorf("plain body has no %q:\n%s", marker, plain.text)
		}
		want := origPhrase
		if m == modeReply {
			want = "> " + origPhrase
		}
		if !strings.Contains(plain.text, want) {
			t.Errorf("plain body does not quote %q:\n%s", want, plain.text)
		}
		if !strings.Contains(plain.text, "\r\n") || strings.Contains(strings.ReplaceAll(plain.text, "\r\n", ""), "\n") {
			t.Errorf("plain body line ends are not CRLF: %q", plain.text)
		}
	}

	if htmlText != "" {
		html := bodyPart(parts, "text/html")
		if html == nil {
			t.Fatal("the client's HTML part is gone")
		}
		ci := strings.Index(html.text, htmlText)
		qi := strings.Index(html.text, htmlMarker)
		if ci < 0 || qi < ci {
			t.Errorf("HTML body: client text at %d, quote at %d:\n%s", ci, qi, html.text)
		}
		if end := strings.LastIndex(strings.ToLower(html.text), "</body"); end >= 0 && qi > end {
			t.Errorf("quote after </body>:\n%s", html.text)
		}
		if !strings.Contains(htmlToText(html.text[max(qi, 0):]), origPhrase) {
			t.Errorf("HTML quote does not show %q:\n%s", origPhrase, html.text)
		}
	}

	for name, content := range clientAtt {
		p := findFile(parts, name)
		if p == nil || string(p.raw) != content {
			t.Errorf("client attachment %q lost or changed: %+v", name, p)
		}
	}

	for name, content := range origAtt {
		if name == "" {
			continue // the inline image, checked below
		}
		p := findFile(parts, name)
		switch {
		case m == modeForward && (p == nil || string(p.raw) != content || p.disp != "attachment"):
			t.Errorf("forward: original attachment %q missing or changed: %+v", name, p)
		case m == modeReply && p != nil:
			t.Errorf("reply carries the original's attachment %q", name)
		}
	}
	if inlineCID != "" {
		img := findCID(parts, inlineCID)
		html := bodyPart(parts, "text/html")
		quotedHTML := html != nil && strings.Contains(html.text, htmlMarker)
		switch {
		case quotedHTML && (img == nil || img.parent != "multipart/related"):
			t.Errorf("inline image %q not in a multipart/related with the HTML: %+v", inlineCID, img)
		case quotedHTML && string(img.raw) != origAtt[""]:
			t.Errorf("inline image changed: %q", img.raw)
		case !quotedHTML && m == modeForward && img == nil:
			t.Errorf("forward without HTML lost the inline image")
		case !quotedHTML && m == modeReply && img != nil:
			t.Errorf("plain reply carries the inline image")
		}
	}
}

// TestComposeGolden pins the exact output for representative pairs.
func TestComposeGolden(t *testing.T) {
	tests := []struct {
		mode         mode
		client, orig string
	}{
		{modeReply, "plain-no-mime", "plain"},
		{modeReply, "plain-latin1-qp-flowed", "latin1"},
		{modeReply, "html", "html-with-inline-image"},
		{modeReply, "html", "plain"},
		{modeReply, "plain-no-mime", "html-with-inline-image"},
		{modeReply, "alternative", "alternative-with-attachment"},
		{modeReply, "mixed-with-attachment", "plain"},
		{modeReply, "mixed-attachment-only", "html-with-inline-image"},
		{modeReply, "related-html-with-image", "html-with-inline-image"},
		{modeReply, "signed", "plain"},
		{modeForward, "plain-no-mime", "alternative-with-attachment"},
		{modeForward, "plain-no-mime", "html-with-inline-image"},
		{modeForward, "html", "html-with-inline-image"},
		{modeForward, "alternative", "plain"},
		{modeForward, "mixed-with-attachment", "alternative-with-attachment"},
		{modeForward, "related-html-with-image", "html-with-inline-image"},
	}
	for _, tt := range tests {
		name := map[mode]string{modeReply: "reply", modeForward: "forward"}[tt.mode] + "-" + tt.client + "-" + tt.orig
		t.Run(name, func(t *testing.T) {
			orig := originalFor(t, tt.orig)
			c := fixedBoundaries()
			var out bytes.Buffer
			var err error
			if tt.mode == modeReply {
				err = c.Reply(&out, strings.NewReader(clientFor(t, tt.client)), orig)
			} else {
				err = c.Forward(&out, strings.NewReader(clientFor(t, tt.client)), orig)
			}
			if err != nil {
				t.Fatal(err)
			}
			parseBack(t, out.Bytes())
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, out.Bytes(), want)
			}
		})
	}
}

// TestComposeHandBuiltOriginal: an Original built by hand (as from IMAP
// parts), with attachments opened through a callback.
func TestComposeHandBuiltOriginal(t *testing.T) {
	var opened atomic.Int32
	orig := Original{
		Header:   []byte("From: Bob <bob@example.test>\r\nSubject: Report\r\nDate: Mon, 2 Mar 2026 08:00:00 +0000\r\nTo: alice@example.test\r\n\r\n"),
		HTMLBody: "<p>Report &amp; numbers</p>",
		Attachments: []OriginalAttachment{{
			Filename: "report.csv",
			Open: func() (io.ReadCloser, error) {
				opened.Add(1)
				return io.NopCloser(strings.NewReader("a,b\r\n1,2\r\n")), nil
			},
		}},
	}
	var out bytes.Buffer
	client := crlf("From: alice@example.test\nTo: carol@example.test\nSubject: Fwd: Report\n\nFYI\n")
	if err := Forward(&out, strings.NewReader(client), orig); err != nil {
		t.Fatal(err)
	}
	_, parts := parseBack(t, out.Bytes())
	p := findFile(parts, "report.csv")
	if p == nil || string(p.raw) != "a,b\r\n1,2\r\n" || p.mediaType != "text/csv" {
		t.Fatalf("attachment: %+v", p)
	}
	if opened.Load() != 1 {
		t.Errorf("Open called %d times", opened.Load())
	}
	plain := bodyPart(parts, "text/plain")
	if plain == nil || !strings.Contains(plain.text, "Report & numbers") || !strings.Contains(plain.text, "Subject: Report") {
		t.Errorf("plain quote of an HTML-only original: %+v", plain)
	}
}

func TestComposeErrors(t *testing.T) {
	orig := Original{Header: []byte("From: bob@example.test\r\n\r\n"), PlainBody: "hi"}
	openErr := errors.New("IMAP connection lost")
	failing := Original{
		Header:    orig.Header,
		PlainBody: "hi",
		Attachments: []OriginalAttachment{{
			Filename: "x.bin",
			Open:     func() (io.ReadCloser, error) { return nil, openErr },
		}},
	}
	const okClient = "From: alice@example.test\r\nTo: bob@example.test\r\n\r\nhello\r\n"
	tests := []struct {
		name       string
		client     string
		orig       Original
		forward    bool
		wantStatus eas.Status
		wantErr    error
	}{
		{name: "malformed header", client: "From alice\r\n\r\nx", orig: orig, wantStatus: eas.StatusInvalidMIME},
		{name: "bad Content-Type", client: "From: a@x.test\r\nContent-Type: text/plain; =\r\n\r\nx", orig: orig, wantStatus: eas.StatusInvalidMIME},
		{name: "multipart without boundary", client: "From: a@x.test\r\nContent-Type: multipart/alternative\r\n\r\nx", orig: orig, wantStatus: eas.StatusInvalidMIME},
		{name: "header too large", client: "X-A: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n", orig: orig, wantStatus: eas.StatusInvalidMIME},
		{name: "attachment Open fails", client: okClient, orig: failing, forward: true, wantErr: openErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.forward {
				err = Forward(io.Discard, strings.NewReader(tt.client), tt.orig)
			} else {
				err = Reply(io.Discard, strings.NewReader(tt.client), tt.orig)
			}
			if tt.wantStatus != 0 {
				if st, _ := eas.StatusOf(err); st != tt.wantStatus {
					t.Fatalf("err = %v, want status %d", err, tt.wantStatus)
				}
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// genReader yields n bytes without holding them.
type genReader struct{ n, off int64 }

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.n-g.off)]
	for i := range p {
		p[i] = byte(g.off + int64(i))
	}
	g.off += int64(len(p))
	return len(p), nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestForwardStreamsAttachments: a 30 MB attachment is streamed from Open
// to the output; the heap does not grow with it.
func TestForwardStreamsAttachments(t *testing.T) {
	const size = 30 << 20
	orig := Original{
		Header:    []byte("From: bob@example.test\r\nSubject: big\r\n\r\n"),
		PlainBody: "see attachment",
		Attachments: []OriginalAttachment{{
			Filename: "big.bin",
			Open:     func() (io.ReadCloser, error) { return io.NopCloser(&genReader{n: size}), nil },
		}},
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	cw := &countWriter{}
	err := Forward(cw, strings.NewReader("From: alice@example.test\r\nTo: carol@example.test\r\n\r\nFYI\r\n"), orig)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if cw.n < size*4/3 {
		t.Errorf("wrote %d bytes, want > %d", cw.n, size*4/3)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("heap growth %d KB", growth>>10)
	if growth > 10<<20 {
		t.Errorf("heap grew by %d MB forwarding 30 MB", growth>>20)
	}
}

func TestInsertBeforeBodyEnd(t *testing.T) {
	const ins = "[Q]"
	tests := []struct {
		name, in, want string
	}{
		{"body end", "<html><body><p>x</p></body></html>", "<html><body><p>x</p>[Q]</body></html>"},
		{"upper case", "<HTML><BODY>x</BODY></HTML>", "<HTML><BODY>x[Q]</BODY></HTML>"},
		{"last of several", "<body>a</body>b</body >c", "<body>a</body>b[Q]</body >c"},
		{"none", "<p>fragment</p>", "<p>fragment</p>\r\n[Q]"},
		{"empty", "", "\r\n[Q]"},
		{"partial tag at the end", "<p>x</p></bod", "<p>x</p></bod\r\n[Q]"},
		{"far from the end", "<body>x</body>" + strings.Repeat("y", maxHoldBack+10), "<body>x</body>" + strings.Repeat("y", maxHoldBack+10) + "\r\n[Q]"},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/onebyte=%v", tt.name, oneByte), func(t *testing.T) {
				var r io.Reader = strings.NewReader(tt.in)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				var out bytes.Buffer
				if err := insertBeforeBodyEnd(&out, r, ins); err != nil {
					t.Fatal(err)
				}
				if out.String() != tt.want {
					got, want := out.String(), tt.want
					if len(got) > 200 {
						got, want = got[len(got)-100:], want[len(want)-100:]
					}
					t.Errorf("got  %q\nwant %q", got, want)
				}
			})
		}
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>Hello <b>World</b></p><p>Bye</p>", "Hello World\nBye"},
		{"<html><head><title>T</title><style>p{}</style></head><body>a&amp;b<br>c&nbsp;d</body></html>", "a&b\nc d"},
		{"<div>line\n  wrapped\n in source</div><script>x()</script><!-- c -->", "line wrapped in source"},
		{"<p>a</p>\n\n\n<p></p><p></p><p>b</p>", "a\n\nb"},
	}
	for _, tt := range tests {
		if got := htmlToText(tt.in); got != tt.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBodyInner(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<html><head><style>x</style></head><body class="a"><p>x</p></body></html>`, "<p>x</p>"},
		{`<!DOCTYPE html><html><head><title>t</title></head><p>y</p></html>`, "<p>y</p>"},
		{`<p>fragment</p>`, "<p>fragment</p>"},
	}
	for _, tt := range tests {
		if got := bodyInner(tt.in); got != tt.want {
			t.Errorf("bodyInner(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
