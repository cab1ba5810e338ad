package wbxml

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	big := bytes.Repeat([]byte{0xAB}, 200) // length 200 = mb_u_int32 81 48
	tests := []struct {
		name string
		in   *Element
		want []byte
	}{
		{"empty root", Empty(NSAirSync, "Sync"), doc(0x05)},
		{"root on another page", Empty(NSFolderHierarchy, "FolderSync"), doc(0x00, 0x07, 0x16)},
		{"text", New(NSFolderHierarchy, "FolderSync", Text(NSFolderHierarchy, "SyncKey", "0")),
			doc(0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01)},
		{"int", New(NSPing, "Ping", Int(NSPing, "HeartbeatInterval", -480)),
			doc(0x00, 0x0D, 0x45, 0x48, 0x03, '-', '4', '8', '0', 0x00, 0x01, 0x01)},
		{"text kept exactly", New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", " a\r\n ")),
			doc(0x45, 0x4B, 0x03, ' ', 'a', '\r', '\n', ' ', 0x00, 0x01, 0x01)},
		{"opaque", New(NSAirSync, "Sync", Opaque(NSEmail2, "ConversationId", []byte{0, 1, 2})),
			doc(0x45, 0x00, 0x16, 0x49, 0xC3, 0x03, 0x00, 0x01, 0x02, 0x01, 0x01)},
		{"empty opaque", New(NSAirSync, "Sync", Opaque(NSAirSync, "SyncKey", nil)),
			doc(0x45, 0x4B, 0xC3, 0x00, 0x01, 0x01)},
		{"opaque with 2-byte length", New(NSAirSync, "Sync", Opaque(NSAirSync, "SyncKey", big)),
			append(append(doc(0x45, 0x4B, 0xC3, 0x81, 0x48), big...), 0x01, 0x01)},
		{"switch back after a foreign child", New(NSAirSync, "Sync",
			New(NSAirSyncBase, "Body", Int(NSAirSyncBase, "Type", 1)),
			Text(NSAirSync, "ServerId", "1")),
			doc(0x45, 0x00, 0x11, 0x4A, 0x46, 0x03, '1', 0x00, 0x01, 0x01, 0x00, 0x00, 0x4D, 0x03, '1', 0x00, 0x01, 0x01)},
		{"nil children skipped", &Element{Space: NSAirSync, Name: "Sync", Children: []*Element{nil, Empty(NSAirSync, "Partial"), nil}},
			doc(0x45, 0x26, 0x01)},
		{"only nil children is empty", &Element{Space: NSAirSync, Name: "Sync", Children: []*Element{nil}}, doc(0x05)},
		{"alias", New(NSProvision, "EASProvisionDoc", Int(NSProvision, "AllowWifi", 1)),
			doc(0x00, 0x0E, 0x4D, 0x61, 0x03, '1', 0x00, 0x01, 0x01)},
		{"find page 25", Empty(NSFind, "Find"), doc(0x00, 0x19, 0x05)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got  % X\nwant % X", got, tt.want)
			}
			back, err := Decode(got)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := Encode(back); !bytes.Equal(again, got) {
				t.Fatalf("Encode(Decode(x)) = % X, want % X", again, got)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	deep := Empty(NSAirSync, "Sync")
	for i := 1; i < DefaultMaxDepth+1; i++ {
		deep = New(NSAirSync, "Collection", deep)
	}
	cyclic := New(NSAirSync, "Sync")
	cyclic.Add(cyclic)
	tests := []struct {
		name string
		in   *Element
		err  error
		path string
	}{
		{"nil root", nil, ErrMalformed, ""},
		{"unknown name", New(NSAirSync, "Sync", Empty(NSAirSync, "Nope")), ErrUnknownTag, "Sync/Nope"},
		{"unknown space", New(NSAirSync, "Sync", Empty("Foo", "Sync")), ErrUnknownTag, "Sync/Sync"},
		{"empty space", Empty("", "Sync"), ErrUnknownTag, "Sync"},
		{"name from another page", Empty(NSAirSync, "FolderSync"), ErrUnknownTag, "FolderSync"},
		{"libwbxml spelling", Empty(NSEmail, "Reply-To"), ErrUnknownTag, "Reply-To"},
		{"text and children", &Element{Space: NSAirSync, Name: "Sync", Text: "x", Children: []*Element{Empty(NSAirSync, "Partial")}}, ErrMixedContent, "Sync"},
		{"opaque and children", &Element{Space: NSAirSync, Name: "Sync", IsOpaque: true, Children: []*Element{Empty(NSAirSync, "Partial")}}, ErrMixedContent, "Sync"},
		{"opaque and text", &Element{Space: NSAirSync, Name: "Sync", IsOpaque: true, Text: "x"}, ErrMixedContent, "Sync"},
		{"NUL in text", New(NSAirSync, "Sync", New(NSAirSync, "Collections", Text(NSAirSync, "SyncKey", "a\x00b"))), ErrInvalidText, "Sync/Collections/SyncKey"},
		{"too deep", deep, ErrTooDeep, strings.TrimSuffix(strings.Repeat("Collection/", DefaultMaxDepth), "/")},
		{"cycle", cyclic, ErrTooDeep, strings.TrimSuffix(strings.Repeat("Sync/", DefaultMaxDepth), "/")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Encode = % X, %v; want %v", got, err, tt.err)
			}
			if got != nil {
				t.Errorf("partial output % X", got)
			}
			var ee *EncodeError
			if !errors.As(err, &ee) {
				t.Fatalf("%T is no *EncodeError", err)
			}
			if ee.Path != tt.path {
				t.Errorf("path %q, want %q", ee.Path, tt.path)
			}
		})
	}
}

func TestEncodeDepthLimit(t *testing.T) {
	e := Empty(NSAirSync, "Sync")
	for i := 1; i < DefaultMaxDepth; i++ {
		e = New(NSAirSync, "Collection", e)
	}
	b, err := Encode(e)
	if err != nil {
		t.Fatalf("depth %d: %v", DefaultMaxDepth, err)
	}
	if _, err := Decode(b); err != nil {
		t.Fatalf("Decode of depth %d: %v", DefaultMaxDepth, err)
	}
}

func TestAppendEncode(t *testing.T) {
	buf := make([]byte, 0, 64)
	buf = append(buf, "prefix"...)
	out, err := AppendEncode(buf, Empty(NSAirSync, "Sync"))
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:6]) != "prefix" || !bytes.Equal(out[6:], doc(0x05)) {
		t.Fatalf("got % X", out)
	}
	out2, err := AppendEncode(out[:0], nil)
	if err == nil || len(out2) != 0 {
		t.Fatalf("nil root: % X, %v", out2, err)
	}
}

func TestEncodeExactSize(t *testing.T) {
	for _, g := range loadGolden(t) {
		tree, err := Decode(g.wbxm)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Encode(tree)
		if err != nil {
			t.Fatal(err)
		}
		enc := encoder{size: len(header)}
		if err := enc.measure(tree, 1); err != nil {
			t.Fatal(err)
		}
		if enc.size != len(out) {
			t.Errorf("%s: measured %d bytes, wrote %d", g.name, enc.size, len(out))
		}
	}
}

func TestMultiByte(t *testing.T) {
	for _, v := range []uint32{0, 1, 0x7F, 0x80, 0xA0, 0x3FFF, 0x4000, 1<<28 - 1, 1 << 28, 1<<32 - 1} {
		b := appendMB(nil, v)
		if len(b) != mbLen(v) {
			t.Errorf("%d: %d bytes, mbLen %d", v, len(b), mbLen(v))
		}
		p := parser{data: b}
		got, err := p.mbUint32()
		if err != nil || got != v || p.pos != len(b) {
			t.Errorf("%d: encoded % X, read back %d, %v", v, b, got, err)
		}
	}
	if got := appendMB(nil, 0xA0); !bytes.Equal(got, []byte{0x81, 0x20}) {
		t.Errorf("0xA0 = % X, want 81 20 (WAP-192-WBXML 5.1)", got)
	}
}
