package mailconv

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

// Fuzz targets (go test -fuzz=FuzzX ./sync/mailconv). Each parser of this
// package has one: the message converter (random header bytes, bodies and
// Part trees), MessageFromRaw, ParseChange (random WBXML), the keyword
// mapping, DraftMIME. They must never panic and always give valid UTF-8
// without NUL in every text element.

// byteSource hands out fuzz bytes, zero when they run out.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() byte {
	if s.i >= len(s.b) {
		return 0
	}
	c := s.b[s.i]
	s.i++
	return c
}

// take returns the next n bytes of b (fewer at the end).
func (s *byteSource) take(b []byte, n int, off *int) []byte {
	if *off >= len(b) {
		return nil
	}
	end := min(len(b), *off+n)
	out := b[*off:end]
	*off = end
	return out
}

var fuzzTypes = []struct{ typ, sub string }{
	{"text", "plain"}, {"text", "html"}, {"multipart", "mixed"}, {"multipart", "alternative"},
	{"multipart", "related"}, {"multipart", "signed"}, {"application", "pkcs7-mime"}, {"image", "png"},
	{"message", "rfc822"}, {"text", "calendar"}, {"application", "octet-stream"}, {"", ""}, {"TEXT", "HTML"},
	{"multipart", "digest"},
}

var (
	fuzzEncodings = []string{"", "7bit", "base64", "quoted-printable", "8bit", "x-uuencode", "BASE64"}
	fuzzCharsets  = []string{"", "utf-8", "iso-8859-1", "shift_jis", "koi8-r", "x-unknown", "iso-2022-jp", "utf-16", "windows-1252", "gb18030"}
)

// fuzzPart builds a Part tree from fuzz bytes: each byte picks a type,
// encoding, charset, flags and a child count; bodies are cut from body.
func fuzzPart(src *byteSource, body []byte, off *int, path []int, depth int) *source.Part {
	t := fuzzTypes[int(src.next())%len(fuzzTypes)]
	p := &source.Part{Path: path, Type: t.typ, Subtype: t.sub, Params: map[string]string{}}
	f := src.next()
	p.Encoding = fuzzEncodings[int(src.next())%len(fuzzEncodings)]
	p.Params["charset"] = fuzzCharsets[int(src.next())%len(fuzzCharsets)]
	switch f & 3 {
	case 1:
		p.Disposition = "attachment"
	case 2:
		p.Disposition = "inline"
	}
	if f&4 != 0 {
		p.ID = string(src.take(body, 8, off))
	}
	if f&8 != 0 {
		p.DispParams = map[string]string{"filename": string(src.take(body, 12, off)), "filename*0*": "utf-8''%E2%82", "filename*1": string(src.take(body, 3, off))}
	}
	if f&16 != 0 {
		p.Params["name*"] = string(src.take(body, 10, off))
		p.Description = string(src.take(body, 10, off))
	}
	if f&32 != 0 {
		p.Params["method"] = "REQUEST"
		p.Params["protocol"] = "application/pkcs7-signature"
		p.Params["start"] = p.ID
	}
	p.BodyTruncated = f&64 != 0
	p.Size = int64(int8(src.next())) * 97
	p.Lines = int64(int8(src.next()))
	if strings.EqualFold(p.Type, "multipart") && depth < 8 {
		n := int(src.next() % 5)
		for i := range n {
			if src.next() == 0xff {
				p.Children = append(p.Children, nil)
				continue
			}
			p.Children = append(p.Children, fuzzPart(src, body, off, append(slices.Clip(path), i+1), depth+1))
		}
		return p
	}
	p.Body = src.take(body, int(src.next())*4, off)
	return p
}

// fuzzOptions picks conversion options from two bytes.
func fuzzOptions(a, b byte, size uint16) Options {
	o := Options{Version: allVersions[int(a)%len(allVersions)], MIMESupport: int(a>>3) % 3}
	for i := range 3 {
		if b&(1<<i) == 0 {
			continue
		}
		o.BodyPrefs = append(o.BodyPrefs, server.BodyPreference{
			Type: []int{1, 2, 4}[i], TruncationSize: int(size) >> i,
			AllOrNone: b&(8<<i) != 0, Preview: int(size % 300),
		})
	}
	if b&64 != 0 {
		o.BodyPartPrefs = []server.BodyPreference{{Type: 2, TruncationSize: int(size), Preview: 10}}
	}
	if a&128 != 0 {
		o.UserAddress = "me@example.com, other@example.org"
		o.FileReference = func(p []int) string { return "ref:" + dotted(p) }
	}
	return o
}

// checkConverted converts m with o and checks the result.
func checkConverted(t *testing.T, m *source.Message, o Options) {
	e, err := ApplicationData(m, o)
	if err != nil {
		t.Fatalf("ApplicationData: %v", err)
	}
	checkTree(t, e)
	if s := wbxml.XMLString(e); strings.HasPrefix(s, "<!--") {
		t.Fatalf("ToXML failed: %s", s)
	}
	if _, err := Properties(wbxml.NSSearch, m, o); err != nil {
		t.Fatalf("Properties: %v", err)
	}
}

func addSeeds(f *testing.F, add func(raw []byte)) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		add(raw)
	}
}

func FuzzApplicationData(f *testing.F) {
	addSeeds(f, func(raw []byte) {
		hb := headerBlock(raw)
		f.Add(hb, raw[len(hb):], []byte{2, 0, 3, 1, 10, 2, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 40}, `\Seen Work $Category_A=20B`, byte(3), byte(7), uint16(100), false)
	})
	f.Add([]byte("Subject: =?utf-8?q?=FF?=\r\n\r\n"), []byte("\xff\xfe\x00"), []byte{0, 0, 2, 1, 3}, "", byte(0), byte(0), uint16(0), true)
	f.Fuzz(func(t *testing.T, header, body, tree []byte, flags string, a, b byte, size uint16, raw bool) {
		src := &byteSource{b: tree}
		off := 0
		m := &source.Message{UID: 9, Header: header, Flags: strings.Fields(flags), InternalDate: testDate, Size: int64(size)}
		if len(tree) > 0 && tree[0] != 0xff {
			m.Root = fuzzPart(src, body, &off, []int{}, 0)
		}
		if raw {
			m.Raw = append(slices.Clip(header), body...)
			m.RawTruncated = a&1 != 0
		}
		checkConverted(t, m, fuzzOptions(a, b, size))
	})
}

func FuzzMessageFromRaw(f *testing.F) {
	addSeeds(f, func(raw []byte) { f.Add(raw, byte(7), uint16(300)) })
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--b\r\n"), byte(2), uint16(5))
	f.Fuzz(func(t *testing.T, raw []byte, b byte, size uint16) {
		m, err := MessageFromRaw(raw, 1, []string{`\Seen`}, testDate)
		if len(raw) == 0 {
			if err == nil {
				t.Fatal("empty raw: no error")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var walk func(p *source.Part, path []int)
		walk = func(p *source.Part, path []int) {
			if !slices.Equal(p.Path, path) {
				t.Fatalf("part path %v, want %v", p.Path, path)
			}
			if p.Body != nil && (len(p.Body) > len(raw) || int64(len(p.Body)) != p.Size) {
				t.Fatalf("body of %v: %d octets, size %d", path, len(p.Body), p.Size)
			}
			for i, c := range p.Children {
				walk(c, append(slices.Clip(path), i+1))
			}
		}
		walk(m.Root, []int{})
		checkConverted(t, m, fuzzOptions(b, b>>2|1, size))
		checkConverted(t, ApplyFetchSpec(m, source.FetchSpec{TextLimit: int64(size % 64), RawLimit: int64(size)}), fuzzOptions(b>>1, 7, size))
	})
}

func FuzzParseChange(f *testing.F) {
	seeds := []*wbxml.Element{
		appData(em("Read", "1"), wbxml.Empty(wbxml.NSEmail, "Flag"), cats("A", "B C")),
		appData(wbxml.New(wbxml.NSEmail, "Flag", em("Status", "2"), em("FlagType", "for Follow Up"),
			tk("StartDate", "2025-03-20T00:00:00.000Z"), tk("ReminderSet", "0"))),
		appData(wbxml.New(wbxml.NSEmail, "Flag", em("Status", "1"), em("CompleteTime", "2025-03-20T00:00:00.000Z"))),
		wbxml.New(wbxml.NSAirSync, "Sync", wbxml.New(wbxml.NSAirSync, "Change", appData(cats("Проект", "$x")))),
	}
	for _, s := range seeds {
		b, err := wbxml.Encode(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := wbxml.Decode(data)
		if err != nil {
			return
		}
		var walk func(e *wbxml.Element, depth int)
		walk = func(e *wbxml.Element, depth int) {
			ch, err := ParseChange(e)
			if err == nil {
				add, remove := IMAPFlags(ch, []string{`\Seen`, "Work", "$Category_A=20B", "$label1"})
				for _, k := range append(add, remove...) {
					if !isAtom(strings.TrimPrefix(k, `\`)) {
						t.Fatalf("flag %q is not an atom", k)
					}
				}
				if ch.Categories != nil {
					for _, c := range *ch.Categories {
						k := KeywordForCategory(c)
						if back, ok := CategoryForKeyword(k); !ok || back != c || !isAtom(k) {
							t.Fatalf("category %q → %q → %q, %v", c, k, back, ok)
						}
					}
				}
			}
			if depth < 4 {
				for _, c := range e.Children {
					walk(c, depth+1)
				}
			}
		}
		walk(tree, 0)
	})
}

func FuzzKeywords(f *testing.F) {
	for _, s := range []string{"Work", "Project X", "Проект", "$Category_=ZZ", "$label2", "\\Seen", "a=b", "Junk", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c, ok := CategoryForKeyword(s); ok && (!utf8.ValidString(c) || strings.IndexByte(c, 0) >= 0) {
			t.Fatalf("CategoryForKeyword(%q) = %q", s, c)
		}
		c := strings.TrimSpace(clean(s))
		if c == "" {
			return
		}
		k := KeywordForCategory(c)
		if !isAtom(k) {
			t.Fatalf("KeywordForCategory(%q) = %q, not an atom", c, k)
		}
		if back, ok := CategoryForKeyword(k); !ok || back != c {
			t.Fatalf("round trip %q → %q → %q, %v", c, k, back, ok)
		}
		add, _ := IMAPFlags(Change{Categories: &[]string{s}}, nil)
		if len(add) != 1 || add[0] != k {
			t.Fatalf("IMAPFlags add %q, want [%q]", add, k)
		}
	})
}

func FuzzDraftMIME(f *testing.F) {
	for _, s := range []*wbxml.Element{
		draftData(asbBody(1, "hello\nworld")),
		draftData(asbBody(2, "<p>x</p>"), wbxml.New(wbxml.NSAirSyncBase, "Attachments", wbxml.New(wbxml.NSAirSyncBase, "Add",
			wbxml.Text(wbxml.NSAirSyncBase, "DisplayName", "a.txt"), wbxml.Opaque(wbxml.NSAirSyncBase, "Content", []byte("abc"))))),
	} {
		b, err := wbxml.Encode(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := wbxml.Decode(data)
		if err != nil {
			return
		}
		raw, err := DraftMIME(tree, DraftOptions{From: "Me <me@example.com>", Date: testDate, MessageID: "d@x"})
		if err != nil {
			return
		}
		m, err := MessageFromRaw(raw, 1, []string{`\Draft`}, testDate)
		if err != nil {
			t.Fatal(err)
		}
		checkConverted(t, m, Options{Version: eas.V161})
	})
}
