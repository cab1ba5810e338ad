package wbxml

import "testing"

func TestConstructors(t *testing.T) {
	tests := []struct {
		name string
		got  *Element
		want Element
	}{
		{"New skips nil", New(NSAirSync, "Sync", nil, Empty(NSAirSync, "Partial"), nil),
			Element{Space: NSAirSync, Name: "Sync", Children: []*Element{{Space: NSAirSync, Name: "Partial"}}}},
		{"New without children", New(NSPing, "Ping"), Element{Space: NSPing, Name: "Ping"}},
		{"Text", Text(NSEmail, "Subject", " hi "), Element{Space: NSEmail, Name: "Subject", Text: " hi "}},
		{"Int", Int(NSAirSync, "Status", 1), Element{Space: NSAirSync, Name: "Status", Text: "1"}},
		{"Int negative", Int(NSProvision, "MaxEmailBodyTruncationSize", -1), Element{Space: NSProvision, Name: "MaxEmailBodyTruncationSize", Text: "-1"}},
		{"Opaque", Opaque(NSEmail2, "ConversationId", []byte{1}), Element{Space: NSEmail2, Name: "ConversationId", Opaque: []byte{1}, IsOpaque: true}},
		{"Empty", Empty(NSAirSync, "GetChanges"), Element{Space: NSAirSync, Name: "GetChanges"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !Equal(tt.got, &tt.want) {
				t.Fatalf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	e := Empty(NSAirSync, "Collections")
	if got := e.Add(); got != e || e.Children != nil {
		t.Fatal("Add() changed the element")
	}
	a, b := Empty(NSAirSync, "Collection"), Empty(NSAirSync, "Collection")
	if got := e.Add(nil, a).Add(b, nil); got != e {
		t.Fatal("Add does not return its receiver")
	}
	if len(e.Children) != 2 || e.Children[0] != a || e.Children[1] != b {
		t.Fatalf("children %v", e.Children)
	}
}

func TestAccessors(t *testing.T) {
	e := New(NSAirSync, "Collection",
		Text(NSAirSync, "SyncKey", "7"),
		Text(NSAirSync, "CollectionId", " 12 "),
		Text(NSAirSync, "Status", "x1"),
		Empty(NSAirSync, "GetChanges"),
		Text(NSEmail, "Subject", "email"),
		Opaque(NSEmail2, "ConversationId", []byte("cid")),
		Text(NSAirSync, "ServerId", "a"),
		Text(NSAirSync, "ServerId", "b"),
	)
	var null *Element
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Child", e.Child(NSAirSync, "SyncKey").Text, "7"},
		{"Child first of many", e.Child(NSAirSync, "ServerId").Text, "a"},
		{"Child wrong space", e.Child(NSAirSync, "Subject") == nil, true},
		{"Child missing", e.Child(NSAirSync, "Nope") == nil, true},
		{"Child on nil", null.Child(NSAirSync, "SyncKey") == nil, true},
		{"All", len(e.All(NSAirSync, "ServerId")), 2},
		{"All order", e.All(NSAirSync, "ServerId")[1].Text, "b"},
		{"All none", len(e.All(NSAirSync, "Nope")), 0},
		{"All on nil", len(null.All(NSAirSync, "ServerId")), 0},
		{"ChildText", e.ChildText(NSEmail, "Subject"), "email"},
		{"ChildText opaque", e.ChildText(NSEmail2, "ConversationId"), "cid"},
		{"ChildText empty element", e.ChildText(NSAirSync, "GetChanges"), ""},
		{"ChildText missing", e.ChildText(NSAirSync, "Nope"), ""},
		{"ChildText on nil", null.ChildText(NSAirSync, "SyncKey"), ""},
		{"Has", e.Has(NSAirSync, "GetChanges"), true},
		{"Has missing", e.Has(NSAirSync, "WindowSize"), false},
		{"Has on nil", null.Has(NSAirSync, "GetChanges"), false},
		{"Is", e.Is(NSAirSync, "Collection"), true},
		{"Is other space", e.Is(NSEmail, "Collection"), false},
		{"Is on nil", null.Is(NSAirSync, "Collection"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}

	ints := []struct {
		name  string
		tag   string
		space string
		want  int
		ok    bool
	}{
		{"plain", "SyncKey", NSAirSync, 7, true},
		{"spaces trimmed", "CollectionId", NSAirSync, 12, true},
		{"not a number", "Status", NSAirSync, 0, false},
		{"empty", "GetChanges", NSAirSync, 0, false},
		{"opaque", "ConversationId", NSEmail2, 0, false},
		{"missing", "WindowSize", NSAirSync, 0, false},
	}
	for _, tt := range ints {
		t.Run("ChildInt "+tt.name, func(t *testing.T) {
			v, ok := e.ChildInt(tt.space, tt.tag)
			if v != tt.want || ok != tt.ok {
				t.Fatalf("got %d, %v; want %d, %v", v, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := null.ChildInt(NSAirSync, "SyncKey"); ok {
		t.Fatal("ChildInt on nil")
	}
}

func TestEqual(t *testing.T) {
	base := func() *Element {
		return New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "1"), Opaque(NSEmail2, "ConversationId", []byte{1}))
	}
	tests := []struct {
		name string
		a, b *Element
		want bool
	}{
		{"same", base(), base(), true},
		{"both nil", nil, nil, true},
		{"one nil", base(), nil, false},
		{"name", base(), New(NSAirSync, "Ping"), false},
		{"text", base(), New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "2"), Opaque(NSEmail2, "ConversationId", []byte{1})), false},
		{"opaque bytes", base(), New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "1"), Opaque(NSEmail2, "ConversationId", []byte{2})), false},
		{"opaque vs text", base(), New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "1"), Text(NSEmail2, "ConversationId", "\x01")), false},
		{"children count", base(), New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "1")), false},
		{"nil and empty opaque", Opaque(NSAirSync, "SyncKey", nil), Opaque(NSAirSync, "SyncKey", []byte{}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Fatalf("Equal = %v", got)
			}
		})
	}
}
