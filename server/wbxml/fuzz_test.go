package wbxml

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode: Decode never panics and fails only with a *DecodeError inside
// the input; what it accepts encodes, decodes back to the same tree in
// canonical form, and survives the XML form.
//
//	go test -run='^$' -fuzz=FuzzDecode -fuzztime=60s ./server/wbxml/
func FuzzDecode(f *testing.F) {
	for _, g := range loadGolden(f) {
		f.Add(g.wbxm)
	}
	for _, seed := range [][]byte{
		doc(0x05),
		doc(0x45, 0x4B, 0x03, 'a', 0x00, 0x03, 'b', 0x00, 0x01, 0x01),
		doc(0x45, 0x4B, 0xC3, 0x81, 0x00, 0x01, 0x01),
		doc(0x00, 0x19, 0x45, 0x00, 0x11, 0x4A, 0x01, 0x01),
		{0x03, 0x80, 0x81, 0x01, 0x6A, 0x00, 0x05},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := DecodeWith(data, MaxElements(1<<16))
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is no *DecodeError", err)
			}
			if de.Offset < 0 || de.Offset > len(data) {
				t.Fatalf("offset %d outside input of %d bytes", de.Offset, len(data))
			}
			return
		}
		enc, err := Encode(tree)
		if err != nil {
			t.Fatalf("Encode of a decoded tree: %v\n%s", err, XMLString(tree))
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(tree)): %v\n% X", err, enc)
		}
		if !Equal(tree, again) {
			t.Fatalf("Decode(Encode(tree)) differs:\n%s\n%s", XMLString(tree), XMLString(again))
		}
		if enc2, err := Encode(again); err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not canonical (%v):\n% X\n% X", err, enc, enc2)
		}
		var x bytes.Buffer
		if err := ToXML(&x, tree); err != nil {
			t.Fatalf("ToXML: %v", err)
		}
		back, err := FromXML(bytes.NewReader(x.Bytes()))
		if err != nil {
			t.Fatalf("FromXML(ToXML(tree)): %v\n%s", err, x.Bytes())
		}
		if !Equal(tree, back) {
			t.Fatalf("FromXML(ToXML(tree)) differs:\n%s\n%s", x.Bytes(), XMLString(back))
		}
	})
}

// FuzzXMLRoundTrip: FromXML never panics; what it accepts converts to the
// same tree through WBXML and through ToXML, and ToXML's output is a fixed
// point.
//
//	go test -run='^$' -fuzz=FuzzXMLRoundTrip -fuzztime=60s ./server/wbxml/
func FuzzXMLRoundTrip(f *testing.F) {
	for _, g := range loadGolden(f) {
		f.Add(g.xml)
	}
	f.Add([]byte(`<Sync xmlns="AirSync:" xmlns:w="urn:easbridge:wbxml"><SyncKey w:text="base64">AA==</SyncKey></Sync>`))
	f.Add([]byte(`<Sync xmlns="AirSync"><SyncKey xml:space="preserve"> &#xD;</SyncKey></Sync>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := FromXMLWith(bytes.NewReader(data), MaxElements(1<<16))
		if err != nil {
			return
		}
		var x1 bytes.Buffer
		if err := ToXML(&x1, tree); err != nil {
			t.Fatalf("ToXML: %v", err)
		}
		back, err := FromXML(bytes.NewReader(x1.Bytes()))
		if err != nil {
			t.Fatalf("FromXML(ToXML(tree)): %v\n%s", err, x1.Bytes())
		}
		if !Equal(tree, back) {
			t.Fatalf("FromXML(ToXML(tree)) differs:\n%s\n%s", x1.Bytes(), XMLString(back))
		}
		var x2 bytes.Buffer
		if err := ToXML(&x2, back); err != nil || !bytes.Equal(x1.Bytes(), x2.Bytes()) {
			t.Fatalf("ToXML is not a fixed point (%v):\n%s\n%s", err, x1.Bytes(), x2.Bytes())
		}
		enc, err := Encode(tree)
		if err != nil {
			if errors.Is(err, ErrInvalidText) { // base64 text with a NUL byte
				return
			}
			t.Fatalf("Encode: %v\n%s", err, x1.Bytes())
		}
		dec, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(tree)): %v", err)
		}
		if !Equal(tree, dec) {
			t.Fatalf("Decode(Encode(tree)) differs:\n%s\n%s", x1.Bytes(), XMLString(dec))
		}
	})
}
