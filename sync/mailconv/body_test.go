package mailconv

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

// bodyResult is the interesting part of an AirSyncBase:Body.
type bodyResult struct {
	typ, size, truncated, data, preview string
	hasData                             bool
}

func getBody(t *testing.T, e *wbxml.Element) bodyResult {
	t.Helper()
	b := bodyOf(e)
	if b == nil {
		t.Fatal("no Body")
	}
	var r bodyResult
	r.typ = b.ChildText(wbxml.NSAirSyncBase, "Type")
	r.size = b.ChildText(wbxml.NSAirSyncBase, "EstimatedDataSize")
	r.truncated = b.ChildText(wbxml.NSAirSyncBase, "Truncated")
	r.data, r.hasData = fieldText(b, wbxml.NSAirSyncBase, "Data")
	r.preview = b.ChildText(wbxml.NSAirSyncBase, "Preview")
	return r
}

const altMessage = `From: a@example.com
Subject: Alt
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain; charset=utf-8

Plain: äöü and more text
--b
Content-Type: text/html; charset=utf-8

<p>HTML: äöü and <b>more</b> text</p>
--b--
`

func TestBodyTypeChoice(t *testing.T) {
	plainOnly := "Subject: P\nContent-Type: text/plain; charset=utf-8\n\nJust <plain> & text\n"
	htmlOnly := "Subject: H\nContent-Type: text/html; charset=utf-8\n\n<p>Only&nbsp;HTML &amp; more</p>\n"
	tests := []struct {
		name     string
		msg      string
		prefs    []server.BodyPreference
		wantType string
		contains string
	}{
		{"default is plain", altMessage, nil, "1", "Plain: äöü"},
		{"plain asked", altMessage, []server.BodyPreference{{Type: 1}}, "1", "Plain: äöü"},
		{"html asked", altMessage, []server.BodyPreference{{Type: 2}}, "2", "<b>more</b>"},
		{"both, native html first", altMessage, []server.BodyPreference{{Type: 1}, {Type: 2}}, "2", "<b>more</b>"},
		{"both, native plain first", plainOnly, []server.BodyPreference{{Type: 2}, {Type: 1}}, "1", "Just <plain>"},
		{"html asked, plain only", plainOnly, []server.BodyPreference{{Type: 2}}, "2", "Just &lt;plain&gt; &amp; text"},
		{"plain asked, html only", htmlOnly, []server.BodyPreference{{Type: 1}}, "1", "Only\u00a0HTML & more"},
		{"rtf asked", altMessage, []server.BodyPreference{{Type: 3}}, "1", "Plain: äöü"},
		{"mime only, no mime support", altMessage, []server.BodyPreference{{Type: 4}}, "4", "Content-Type: multipart/alternative"},
		{"mime and html, no mime support", altMessage, []server.BodyPreference{{Type: 2}, {Type: 4}}, "2", "<b>more</b>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := rawMessage(t, tc.msg)
			r := getBody(t, convert(t, m, opts(eas.V141, tc.prefs...)))
			if r.typ != tc.wantType || !strings.Contains(r.data, tc.contains) {
				t.Errorf("Type %s Data %q; want Type %s containing %q", r.typ, r.data, tc.wantType, tc.contains)
			}
			if r.size != strconv.Itoa(len(r.data)) {
				t.Errorf("EstimatedDataSize %s for %d octets", r.size, len(r.data))
			}
		})
	}
}

func TestTruncation(t *testing.T) {
	m := rawMessage(t, altMessage)
	full := getBody(t, convert(t, m, opts(eas.V141, server.BodyPreference{Type: 1})))
	for _, limit := range []int{1, 7, 8, 9, 10, 11, 12, 13, len(full.data) - 1, len(full.data), len(full.data) + 10} {
		r := getBody(t, convert(t, m, opts(eas.V141, server.BodyPreference{Type: 1, TruncationSize: limit})))
		if !utf8.ValidString(r.data) || len(r.data) > limit || !strings.HasPrefix(full.data, r.data) {
			t.Errorf("limit %d: Data %q", limit, r.data)
		}
		wantTrunc := ""
		if limit < len(full.data) {
			wantTrunc = "1"
		}
		if r.truncated != wantTrunc || r.size != full.size {
			t.Errorf("limit %d: Truncated %q EstimatedDataSize %s, want %q %s", limit, r.truncated, r.size, wantTrunc, full.size)
		}
		// Cuts happen at rune boundaries: "ä" starts at octet 7.
		if limit == 8 && r.data != "Plain: " {
			t.Errorf("limit 8 cut inside a rune: %q", r.data)
		}
	}
}

func TestAllOrNone(t *testing.T) {
	m := rawMessage(t, altMessage)
	html := getBody(t, convert(t, m, opts(eas.V141, server.BodyPreference{Type: 2})))
	plain := getBody(t, convert(t, m, opts(eas.V141, server.BodyPreference{Type: 1})))
	hl, pl := len(html.data), len(plain.data)
	if pl >= hl {
		t.Fatalf("test needs HTML longer than plain: %d, %d", hl, pl)
	}
	tests := []struct {
		name            string
		prefs           []server.BodyPreference
		typ, truncated  string
		hasData         bool
		dataLen         int
		estimatedLength int
	}{
		{"fits", []server.BodyPreference{{Type: 2, TruncationSize: hl, AllOrNone: true}}, "2", "", true, hl, hl},
		{"too big alone", []server.BodyPreference{{Type: 2, TruncationSize: hl - 1, AllOrNone: true}}, "2", "1", false, 0, hl},
		{"falls back to plain", []server.BodyPreference{{Type: 2, TruncationSize: pl, AllOrNone: true}, {Type: 1, TruncationSize: pl, AllOrNone: true}}, "1", "", true, pl, pl},
		{"fallback truncates", []server.BodyPreference{{Type: 2, TruncationSize: 5, AllOrNone: true}, {Type: 1, TruncationSize: 5}}, "1", "1", true, 5, pl},
		{"nothing fits", []server.BodyPreference{{Type: 2, TruncationSize: 5, AllOrNone: true}, {Type: 1, TruncationSize: 5, AllOrNone: true}}, "2", "1", false, 0, hl},
		{"ignored without size", []server.BodyPreference{{Type: 2, AllOrNone: true}}, "2", "", true, hl, hl},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := getBody(t, convert(t, m, opts(eas.V141, tc.prefs...)))
			if r.typ != tc.typ || r.truncated != tc.truncated || r.hasData != tc.hasData || len(r.data) != tc.dataLen || r.size != strconv.Itoa(tc.estimatedLength) {
				t.Errorf("Type %s Truncated %q Data %v (%d) Size %s; want %s %q %v (%d) %d",
					r.typ, r.truncated, r.hasData, len(r.data), r.size, tc.typ, tc.truncated, tc.hasData, tc.dataLen, tc.estimatedLength)
			}
		})
	}
}

func TestPreview(t *testing.T) {
	long := "Subject: x\nContent-Type: text/plain; charset=utf-8\n\n" + strings.Repeat("word\n\n  ", 200) + "\n"
	tests := []struct {
		name string
		msg  string
		v    eas.Version
		n    int
		want string // "" = no Preview
	}{
		{"12.1 has none", altMessage, eas.V121, 100, ""},
		{"plain", altMessage, eas.V141, 100, "Plain: äöü and more text"},
		{"cut in runes", altMessage, eas.V141, 9, "Plain: äö"},
		{"collapsed and capped at 255", long, eas.V161, 1000, strings.TrimSpace(strings.Repeat("word ", 51))},
		{"html only", "Subject: x\nContent-Type: text/html\n\n<style>x{}</style><p>Hi</p><p>there</p>\n", eas.V141, 50, "Hi there"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := rawMessage(t, tc.msg)
			r := getBody(t, convert(t, m, opts(tc.v, server.BodyPreference{Type: 2, TruncationSize: 10, Preview: tc.n})))
			if r.preview != tc.want {
				t.Errorf("Preview %q, want %q", r.preview, tc.want)
			}
			if utf8.RuneCountInString(r.preview) > 255 {
				t.Errorf("Preview has %d characters", utf8.RuneCountInString(r.preview))
			}
		})
	}
}

func TestMIMEBody(t *testing.T) {
	signed := loadEML(t, "smime-signed.eml")
	plain := loadEML(t, "plain.eml")
	tests := []struct {
		name    string
		m       *source.Message
		support int
		prefs   []server.BodyPreference
		typ     string
		trunc   string
	}{
		{"support 0, S/MIME", signed, 0, []server.BodyPreference{{Type: 1}, {Type: 4}}, "1", ""},
		{"support 1, S/MIME", signed, 1, []server.BodyPreference{{Type: 1}, {Type: 4}}, "4", ""},
		{"support 1, plain message", plain, 1, []server.BodyPreference{{Type: 1}, {Type: 4}}, "1", ""},
		{"support 2", plain, 2, []server.BodyPreference{{Type: 2}, {Type: 4}}, "4", ""},
		{"support 2, no Type 4 preference", plain, 2, []server.BodyPreference{{Type: 2}}, "2", ""},
		{"support 2, truncated", plain, 2, []server.BodyPreference{{Type: 4, TruncationSize: 100}}, "4", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(eas.V141, tc.prefs...)
			o.MIMESupport = tc.support
			r := getBody(t, convert(t, tc.m, o))
			if r.typ != tc.typ || r.truncated != tc.trunc {
				t.Errorf("Type %s Truncated %q, want %s %q", r.typ, r.truncated, tc.typ, tc.trunc)
			}
			if r.typ == "4" {
				if !strings.HasPrefix(string(tc.m.Raw), r.data) || r.size != strconv.Itoa(len(tc.m.Raw)) {
					t.Errorf("MIME data is not a prefix of the raw message, or size %s", r.size)
				}
			}
		})
	}
	// A raw prefix: Truncated even when it fits TruncationSize.
	cut := ApplyFetchSpec(plain, source.FetchSpec{TextLimit: 1 << 20, RawLimit: 50})
	o := opts(eas.V141, server.BodyPreference{Type: 4})
	r := getBody(t, convert(t, cut, o))
	if r.typ != "4" || r.truncated != "1" || len(r.data) != 50 || r.size != strconv.Itoa(int(plain.Size)) {
		t.Errorf("cut raw: Type %s Truncated %q len %d size %s", r.typ, r.truncated, len(r.data), r.size)
	}
	// No raw fetched: MIME cannot be sent, plain text instead.
	noRaw := ApplyFetchSpec(plain, source.FetchSpec{TextLimit: 1 << 20})
	if r := getBody(t, convert(t, noRaw, o)); r.typ != "1" || !strings.Contains(r.data, "quarterly") {
		t.Errorf("no raw: Type %s Data %q", r.typ, r.data)
	}
	// 8-bit MIME that is not UTF-8 goes as opaque bytes, unchanged.
	koi := loadEML(t, "koi8r.eml")
	o.MIMESupport = 2
	e := convert(t, koi, o)
	d := bodyOf(e).Child(wbxml.NSAirSyncBase, "Data")
	if !d.IsOpaque || string(d.Opaque) != string(koi.Raw) {
		t.Errorf("8-bit MIME: opaque %v, %d octets", d.IsOpaque, len(d.Opaque))
	}
}

func TestCharsets(t *testing.T) {
	tests := []struct {
		name, cte, charset, body, want string
	}{
		{"latin1 qp", "quoted-printable", "ISO-8859-1", "Gr=FC=DFe, caf=E9", "Grüße, café"},
		{"windows-1252", "8bit", "windows-1252", "\x93quoted\x94 \x80", "\u201cquoted\u201d €"},
		{"shift_jis base64", "base64", "Shift_JIS", "k/qWe4zq", "日本語"},
		{"koi8-r 8bit", "8bit", "KOI8-R", "\xf0\xd2\xc9\xd7\xc5\xd4", "Привет"},
		{"iso-2022-jp 7bit", "7bit", "ISO-2022-JP", "\x1b$BF|K\\8l\x1b(B", "日本語"},
		{"utf-8 base64", "base64", "utf-8", "w6TDtsO8", "äöü"},
		{"unknown charset, utf-8 bytes", "8bit", "x-unknown", "äöü", "äöü"},
		{"unknown charset, latin-1 bytes", "8bit", "x-unknown", "\xe4\xf6\xfc", "äöü"},
		{"us-ascii with 8-bit", "8bit", "us-ascii", "\xe4", "ä"},
		{"invalid utf-8", "8bit", "utf-8", "a\xffb", "a\xffb"}, // read as Latin-1: not valid UTF-8
		{"NUL dropped", "8bit", "utf-8", "a\x00b", "ab"},
		{"quoted charset", "8bit", `"utf-8"`, "ä", "ä"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := "Subject: x\nContent-Type: text/plain; charset=" + tc.charset + "\nContent-Transfer-Encoding: " + tc.cte + "\n\n" + tc.body
			m, err := MessageFromRaw([]byte(strings.ReplaceAll(msg, "\n", "\r\n")), 1, nil, testDate)
			if err != nil {
				t.Fatal(err)
			}
			r := getBody(t, convert(t, m, opts(eas.V141)))
			want := tc.want
			if tc.name == "invalid utf-8" {
				want = "a\u00ffb"
			}
			if r.data != want {
				t.Errorf("Data %q, want %q", r.data, want)
			}
		})
	}
}

// TestFetchLimit: a body cut by the IMAP fetch is marked truncated and its
// size extrapolated.
func TestFetchLimit(t *testing.T) {
	text := strings.Repeat("Zeile mit Umlauten äöü und mehr Text.\n", 200)
	msg := "Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" + text
	m := rawMessage(t, msg)
	full := getBody(t, convert(t, m, opts(eas.V141)))
	cut := ApplyFetchSpec(m, source.FetchSpec{TextLimit: 1000})
	r := getBody(t, convert(t, cut, opts(eas.V141)))
	if r.truncated != "1" || !strings.HasPrefix(full.data, r.data) || len(r.data) == 0 || !utf8.ValidString(r.data) {
		t.Fatalf("cut: Truncated %q, Data %q", r.truncated, r.data)
	}
	est, _ := strconv.Atoi(r.size)
	fullSize, _ := strconv.Atoi(full.size)
	if est < fullSize*8/10 || est > fullSize*12/10 {
		t.Errorf("EstimatedDataSize %d, full size %d", est, fullSize)
	}
	// A QP escape cut in the middle.
	for limit := int64(1); limit < 60; limit++ {
		c := ApplyFetchSpec(m, source.FetchSpec{TextLimit: limit})
		r := getBody(t, convert(t, c, opts(eas.V141)))
		if !strings.HasPrefix(full.data, r.data) {
			t.Errorf("limit %d: %q is not a prefix", limit, r.data)
		}
	}
}

func TestBodyPart(t *testing.T) {
	m := rawMessage(t, altMessage)
	o := opts(eas.V161, server.BodyPreference{Type: 1})
	o.BodyPartPrefs = []server.BodyPreference{{Type: 2, TruncationSize: 10, Preview: 20}}
	e := convert(t, m, o)
	bp := e.Child(wbxml.NSAirSyncBase, "BodyPart")
	if bp == nil {
		t.Fatal("no BodyPart")
	}
	if bp.ChildText(wbxml.NSAirSyncBase, "Status") != "1" || bp.ChildText(wbxml.NSAirSyncBase, "Type") != "2" ||
		bp.ChildText(wbxml.NSAirSyncBase, "Truncated") != "1" || len(bp.ChildText(wbxml.NSAirSyncBase, "Data")) > 10 ||
		bp.ChildText(wbxml.NSAirSyncBase, "Preview") != "Plain: äöü and more" {
		t.Errorf("BodyPart:\n%s", wbxml.XMLString(bp))
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"<p>a</p><p>b</p>", "a\r\n\r\nb"},
		{"a<br>b<br><br>c", "a\r\nb\r\n\r\nc"},
		{"<div>a</div><div>b</div>", "a\r\nb"},
		{"  lots   of\n\t space  ", "lots of space"},
		{"<head><title>T</title><style>p{}</style></head><body>x</body>", "x"},
		{"<script>if (a < b) {}</script>ok", "ok"},
		{"a<!-- <p>hidden</p> -->b", "ab"},
		{"&lt;tag&gt; &amp; &eacute; &#233; &#xE9; &bogus;", "<tag> & é é é &bogus;"},
		{"<ul><li>one<li>two</ul>", "- one\r\n- two"},
		{"<table><tr><td>a</td><td>b</td></tr></table>", "a b"},
		{"<pre>  keep\n  this</pre>", "  keep\r\n  this"},
		{"1 < 2 and 3 > 2", "1 < 2 and 3 > 2"},
		{"<a href='x>y'>link</a>", "link"},
		{"cut <b", "cut"},
		{"<!DOCTYPE html><html>x", "x"},
	}
	for _, tc := range tests {
		if got := htmlToText(tc.in); got != tc.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSpec(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want source.FetchSpec
	}{
		{"none: plain, whole", Options{}, source.FetchSpec{TextLimit: MaxTextLimit}},
		{"small truncation", Options{BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 500}}}, source.FetchSpec{TextLimit: MinTextLimit}},
		{"headroom", Options{BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 100000}}}, source.FetchSpec{TextLimit: 400000}},
		{"largest wins", Options{BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 100000}, {Type: 2, TruncationSize: 200000}}}, source.FetchSpec{TextLimit: 800000}},
		{"no truncation wins", Options{BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 1000}, {Type: 2}}}, source.FetchSpec{TextLimit: MaxTextLimit}},
		{"huge capped", Options{BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 1 << 30}}}, source.FetchSpec{TextLimit: MaxTextLimit}},
		{"type 4 without MIME support", Options{BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 5000}, {Type: 4, TruncationSize: 9000}}}, source.FetchSpec{TextLimit: 20000}},
		{"type 4 with MIME support", Options{MIMESupport: 1, BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 5000}, {Type: 4, TruncationSize: 9000}}}, source.FetchSpec{TextLimit: 20000, RawLimit: 9000}},
		{"type 4 only", Options{BodyPrefs: []server.BodyPreference{{Type: 4}}}, source.FetchSpec{TextLimit: MinTextLimit, RawLimit: MaxRawLimit}},
		{"body part prefs count", Options{BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 100}}, BodyPartPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 10000}}}, source.FetchSpec{TextLimit: 40000}},
	}
	for _, tc := range tests {
		if got := Spec(tc.o); got != tc.want {
			t.Errorf("%s: Spec = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
