package wbxml

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// sync100 builds a realistic Sync response: 100 new emails, each with the
// properties a phone shows in its message list and a ~1 KB HTML preview
// ([MS-ASEMAIL] 4.1 shape).
func sync100() *Element {
	preview := strings.Repeat("<p>Hello Deborah, the quarterly numbers are attached. ", 18) // ~1 KB
	cmds := New(NSAirSync, "Commands")
	for i := range 100 {
		n := strconv.Itoa(i)
		cmds.Add(New(NSAirSync, "Add",
			Text(NSAirSync, "ServerId", "5:"+n),
			New(NSAirSync, "ApplicationData",
				Text(NSEmail, "To", `"Deborah Poe" <deborah@contoso.com>`),
				Text(NSEmail, "From", `"Jeff Hay" <jeff`+n+`@contoso.com>`),
				Text(NSEmail, "Subject", "Quarterly numbers #"+n),
				Text(NSEmail, "DateReceived", "2024-03-05T14:22:37.000Z"),
				Text(NSEmail, "DisplayTo", "Deborah Poe"),
				Text(NSEmail, "ThreadTopic", "Quarterly numbers"),
				Int(NSEmail, "Importance", 1),
				Int(NSEmail, "Read", i%2),
				New(NSAirSyncBase, "Body",
					Int(NSAirSyncBase, "Type", 2),
					Int(NSAirSyncBase, "EstimatedDataSize", 18233+i),
					Int(NSAirSyncBase, "Truncated", 1),
					Text(NSAirSyncBase, "Data", preview)),
				Text(NSEmail, "MessageClass", "IPM.Note"),
				Int(NSEmail, "InternetCPID", 65001),
				Empty(NSEmail, "Flag"),
				Text(NSEmail, "ContentClass", "urn:content-classes:message"),
				Int(NSAirSyncBase, "NativeBodyType", 2),
				Opaque(NSEmail2, "ConversationId", []byte{0xb5, 0x34, 0x0c, 0xaa, 0xb0, 0x18, 0x47, 0xe6, 0x8f, 0xd4, 0xda, 0x8c, 0xbb, 0x0d, 0x62, byte(i)}),
				Opaque(NSEmail2, "ConversationIndex", []byte{0x01, 0xda, 0x6f, 0x06, byte(i)}),
			)))
	}
	return New(NSAirSync, "Sync",
		New(NSAirSync, "Collections",
			New(NSAirSync, "Collection",
				Text(NSAirSync, "SyncKey", "1234567890"),
				Text(NSAirSync, "CollectionId", "5"),
				Int(NSAirSync, "Status", 1),
				cmds,
				Empty(NSAirSync, "MoreAvailable"))))
}

func BenchmarkDecodeSync100(b *testing.B) {
	data, err := Encode(sync100())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeSync100(b *testing.B) {
	tree := sync100()
	data, err := Encode(tree)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(tree); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToXMLSync100(b *testing.B) {
	tree := sync100()
	data, _ := Encode(tree)
	var buf bytes.Buffer
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := ToXML(&buf, tree); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSync100RoundTrip(t *testing.T) {
	tree := sync100()
	data, err := Encode(tree)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 100*1024 {
		t.Fatalf("document of %d bytes, want over 100 KB", len(data))
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(tree, back) {
		t.Fatal("round trip changed the tree")
	}
}
