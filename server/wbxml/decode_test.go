package wbxml

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// doc prefixes a body with the EAS header.
func doc(body ...byte) []byte {
	return append([]byte{0x03, 0x01, 0x6A, 0x00}, body...)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		err    error
		offset int
	}{
		{"empty input", nil, ErrTruncated, 0},
		{"header only", doc(), ErrTruncated, 4},
		{"version 1.0", []byte{0x00, 0x01, 0x6A, 0x00, 0x05}, ErrBadHeader, 0},
		{"version 1.4", []byte{0x04, 0x01, 0x6A, 0x00, 0x05}, ErrBadHeader, 0},
		{"truncated public id", []byte{0x03}, ErrTruncated, 1},
		{"public id continues past end", []byte{0x03, 0x81}, ErrTruncated, 2},
		{"public id in string table", []byte{0x03, 0x00, 0x00, 0x6A, 0x00, 0x05}, ErrStringTable, 1},
		{"charset latin-1", []byte{0x03, 0x01, 0x04, 0x00, 0x05}, ErrBadHeader, 2},
		{"charset missing", []byte{0x03, 0x01}, ErrTruncated, 2},
		{"string table length missing", []byte{0x03, 0x01, 0x6A}, ErrTruncated, 3},
		{"non-empty string table", []byte{0x03, 0x01, 0x6A, 0x02, 'a', 0x00, 0x05}, ErrStringTable, 3},
		{"mb_u_int32 of 6 bytes", []byte{0x03, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00}, ErrBadMultiByte, 1},
		{"mb_u_int32 over 2^32", []byte{0x03, 0x90, 0x80, 0x80, 0x80, 0x00}, ErrBadMultiByte, 1},
		{"opaque length bad", doc(0x45, 0x4B, 0xC3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), ErrBadMultiByte, 7},
		{"root not closed", doc(0x45), ErrTruncated, 5},
		{"child not closed", doc(0x45, 0x5C, 0x4F), ErrTruncated, 7},
		{"string not terminated", doc(0x45, 0x4B, 0x03, 'a', 'b'), ErrTruncated, 9},
		{"opaque longer than input", doc(0x45, 0x4B, 0xC3, 0x05, 'a', 'b'), ErrTruncated, 10},
		{"opaque length truncated", doc(0x45, 0x4B, 0xC3, 0x81), ErrTruncated, 8},
		{"switch page truncated", doc(0x00), ErrTruncated, 5},
		{"unknown code page 26", doc(0x00, 26, 0x05), ErrUnknownPage, 5},
		{"unknown code page 255", doc(0x00, 0xFF, 0x05), ErrUnknownPage, 5},
		{"unknown token on page 0", doc(0x2A), ErrUnknownToken, 4},
		{"unknown token with content", doc(0x45, 0x7F, 0x01, 0x01), ErrUnknownToken, 5},
		{"unknown token after switch", doc(0x00, 0x05, 0x0D), ErrUnknownToken, 6},
		{"token 0x11 on Find", doc(0x00, 25, 0x0F), ErrUnknownToken, 6},
		{"attributes", doc(0x85), ErrAttributes, 4},
		{"attributes and content", doc(0xC5, 0x01, 0x01), ErrAttributes, 4},
		{"ENTITY", doc(0x45, 0x02, 0x41, 0x01), ErrUnsupportedToken, 5},
		{"LITERAL", doc(0x04, 0x00), ErrUnsupportedToken, 4},
		{"EXT_I_0", doc(0x45, 0x40, 'a', 0x00, 0x01), ErrUnsupportedToken, 5},
		{"PI", doc(0x43), ErrUnsupportedToken, 4},
		{"LITERAL_C", doc(0x44, 0x00), ErrUnsupportedToken, 4},
		{"EXT_T_0", doc(0x45, 0x80, 0x00, 0x01), ErrUnsupportedToken, 5},
		{"LITERAL_A", doc(0x84, 0x00), ErrUnsupportedToken, 4},
		{"EXT_0", doc(0x45, 0xC0, 0x01), ErrUnsupportedToken, 5},
		{"LITERAL_AC", doc(0xC4, 0x00), ErrUnsupportedToken, 4},
		{"STR_T", doc(0x45, 0x83, 0x00, 0x01), ErrStringTable, 5},
		{"END without element", doc(0x01), ErrMalformed, 4},
		{"text before root", doc(0x03, 'a', 0x00, 0x05), ErrMalformed, 4},
		{"opaque before root", doc(0xC3, 0x00, 0x05), ErrMalformed, 4},
		{"second root", doc(0x05, 0x05), ErrMalformed, 5},
		{"data after root", doc(0x45, 0x01, 0x00, 0x01), ErrMalformed, 6},
		{"END after root", doc(0x45, 0x01, 0x01), ErrMalformed, 6},
		{"text then child", doc(0x45, 0x03, 'a', 0x00, 0x0B, 0x01), ErrMixedContent, 8},
		{"child then text", doc(0x45, 0x0B, 0x03, 'a', 0x00, 0x01), ErrMixedContent, 6},
		{"opaque then text", doc(0x45, 0xC3, 0x01, 'x', 0x03, 'a', 0x00, 0x01), ErrMixedContent, 8},
		{"text then opaque", doc(0x45, 0x03, 'a', 0x00, 0xC3, 0x00, 0x01), ErrMixedContent, 8},
		{"child then opaque", doc(0x45, 0x0B, 0xC3, 0x00, 0x01), ErrMixedContent, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode(% X) = %s, want error %v", tt.in, XMLString(e), tt.err)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("Decode(% X) error %v, want %v", tt.in, err, tt.err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is no *DecodeError", err)
			}
			if de.Offset != tt.offset {
				t.Errorf("offset %d, want %d (%v)", de.Offset, tt.offset, err)
			}
			if !strings.HasPrefix(err.Error(), "wbxml: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	sync := &Element{Space: NSAirSync, Name: "Sync"}
	tests := []struct {
		name string
		in   []byte
		want *Element
	}{
		{"empty root", doc(0x05), sync},
		{"root with content bit but no content", doc(0x45, 0x01), sync},
		{"WBXML 1.1 header", []byte{0x01, 0x01, 0x6A, 0x00, 0x05}, sync},
		{"WBXML 1.2 header", []byte{0x02, 0x01, 0x6A, 0x00, 0x05}, sync},
		{"other public id", []byte{0x03, 0x81, 0x01, 0x6A, 0x00, 0x05}, sync},
		{"padded mb_u_int32", []byte{0x03, 0x80, 0x01, 0x80, 0x80, 0x6A, 0x00, 0x05}, sync},
		{"switch to page 0 before root", doc(0x00, 0x00, 0x05), sync},
		{"redundant switches", doc(0x00, 0x07, 0x00, 0x00, 0x45, 0x00, 0x00, 0x01), sync},
		{"empty string ignored", doc(0x45, 0x03, 0x00, 0x01), sync},
		{"split strings are joined", doc(0x45, 0x4B, 0x03, 'a', 'b', 0x00, 0x03, 'c', 0x00, 0x01, 0x01),
			New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "abc"))},
		{"split opaque is joined", doc(0x45, 0x4B, 0xC3, 0x01, 'a', 0xC3, 0x02, 0x00, 'c', 0x01, 0x01),
			New(NSAirSync, "Sync", Opaque(NSAirSync, "SyncKey", []byte{'a', 0, 'c'}))},
		{"empty opaque", doc(0x45, 0x4B, 0xC3, 0x00, 0x01, 0x01),
			New(NSAirSync, "Sync", Opaque(NSAirSync, "SyncKey", nil))},
		{"text is not trimmed", doc(0x45, 0x4B, 0x03, ' ', '\r', '\n', 'x', '\t', 0x00, 0x01, 0x01),
			New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", " \r\nx\t"))},
		{"invalid UTF-8 passes through", doc(0x45, 0x4B, 0x03, 0xFF, 0xFE, 0x00, 0x01, 0x01),
			New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "\xFF\xFE"))},
		{"page state survives END", doc(0x45, 0x00, 0x11, 0x4A, 0x46, 0x03, '1', 0x00, 0x01, 0x01, 0x46, 0x01, 0x01),
			New(NSAirSync, "Sync",
				New(NSAirSyncBase, "Body", Text(NSAirSyncBase, "Type", "1")),
				Empty(NSAirSyncBase, "Type"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(got, tt.want) {
				t.Fatalf("got %s\nwant %s", XMLString(got), XMLString(tt.want))
			}
		})
	}
}

// nested returns a document of depth levels of AirSync Collection in Sync.
func nested(depth int) []byte {
	b := doc(0x45)
	for i := 1; i < depth; i++ {
		b = append(b, 0x4F)
	}
	for i := 0; i < depth; i++ {
		b = append(b, 0x01)
	}
	return b
}

func TestDecodeDepthLimit(t *testing.T) {
	if _, err := Decode(nested(DefaultMaxDepth)); err != nil {
		t.Fatalf("depth %d: %v", DefaultMaxDepth, err)
	}
	_, err := Decode(nested(DefaultMaxDepth + 1))
	var de *DecodeError
	if !errors.Is(err, ErrTooDeep) || !errors.As(err, &de) || de.Offset != 4+DefaultMaxDepth {
		t.Fatalf("depth %d: %v, want ErrTooDeep at %d", DefaultMaxDepth+1, err, 4+DefaultMaxDepth)
	}
	// An empty tag one level too deep counts too.
	b := doc(0x45, 0x4F, 0x0F, 0x01, 0x01)
	if _, err := DecodeWith(b, MaxDepth(2)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("empty tag at depth 3 with MaxDepth(2): %v", err)
	}
	if _, err := DecodeWith(b, MaxDepth(3)); err != nil {
		t.Fatalf("MaxDepth(3): %v", err)
	}
	if _, err := DecodeWith(nested(100), MaxDepth(100)); err != nil {
		t.Fatalf("MaxDepth(100): %v", err)
	}
	if _, err := DecodeWith(nested(100), MaxDepth(0)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("MaxDepth(0) must keep the default: %v", err)
	}
}

func TestDecodeLimits(t *testing.T) {
	b := doc(0x45, 0x0B, 0x0B, 0x0B, 0x01) // 4 elements
	if _, err := DecodeWith(b, MaxElements(4)); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeWith(b, MaxElements(3)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("MaxElements(3): %v", err)
	}
	if _, err := DecodeWith(b, MaxSize(int64(len(b)))); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeWith(b, MaxSize(int64(len(b)-1))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("MaxSize: %v", err)
	}
	if _, err := NewDecoder(bytes.NewReader(b), MaxSize(int64(len(b)-1))).Decode(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("NewDecoder MaxSize: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestNewDecoder(t *testing.T) {
	in := doc(0x45, 0x4B, 0x03, '1', 0x00, 0x01, 0x01)
	e, err := NewDecoder(bytes.NewReader(in)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	if got := e.ChildText(NSAirSync, "SyncKey"); got != "1" {
		t.Fatalf("SyncKey %q", got)
	}
	if _, err := NewDecoder(errReader{}).Decode(); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("reader error: %v", err)
	}
	if _, err := NewDecoder(bytes.NewReader(in[:5])).Decode(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
}

// TestDecodeCopies checks that the tree does not alias the input.
func TestDecodeCopies(t *testing.T) {
	in := doc(0x45, 0x4B, 0x03, 'a', 0x00, 0x01, 0x4D, 0xC3, 0x01, 'b', 0x01, 0x01)
	e, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0
	}
	if e.ChildText(NSAirSync, "SyncKey") != "a" || string(e.Child(NSAirSync, "ServerId").Opaque) != "b" {
		t.Fatalf("tree changed with the input: %s", XMLString(e))
	}
}

// TestDecodeChildrenAppend checks that appending to a decoded Children slice
// does not overwrite a neighbour's children (they share a slab).
func TestDecodeChildrenAppend(t *testing.T) {
	in := doc(0x45, 0x4F, 0x0B, 0x01, 0x4F, 0x0D, 0x01, 0x01)
	e, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	first, second := e.Children[0], e.Children[1]
	first.Add(Empty(NSAirSync, "Status"))
	if len(second.Children) != 1 || second.Children[0].Name != "ServerId" {
		t.Fatalf("neighbour changed: %s", XMLString(e))
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	_, err := Decode(doc(0x00, 0x05, 0x2A))
	want := "wbxml: unknown tag token: token 0x2A on code page 5 (Move) (at byte 6)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}
