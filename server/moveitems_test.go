package server

import (
	"testing"

	"easbridge/server/wbxml"
)

func moveOp(src, from, to string) *wbxml.Element {
	ns := wbxml.NSMove
	m := wbxml.New(ns, "Move")
	for _, kv := range [][2]string{{"SrcMsgId", src}, {"SrcFldId", from}, {"DstFldId", to}} {
		if kv[1] != "" {
			m.Add(wbxml.Text(ns, kv[0], kv[1]))
		}
	}
	return m
}

func TestMoveItems(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("14.1", "mv1")
	ns := wbxml.NSMove
	r := h.do(c, "MoveItems", wbxml.New(ns, "MoveItems",
		moveOp("1:1", "1", "3"),    // success
		moveOp("1:1", "1", "3"),    // already moved: invalid source
		moveOp("1:2", "1", "77"),   // no such folder: invalid destination
		moveOp("1:3", "1", "1"),    // same folder
		moveOp("locked", "1", "3"), // locked
		moveOp("gone", "1", "3"),   // eas.ErrNotFound: invalid source
		moveOp("1:4", "1", "down"), // unavailable: locked, retry
		moveOp("", "1", "3"),       // no SrcMsgId
		moveOp("1:5", "", "3"),     // no SrcFldId
		moveOp("1:5", "1", ""),     // no DstFldId
	))
	type res struct{ src, status, dst string }
	var got []res
	for _, e := range r.Root.All(ns, "Response") {
		got = append(got, res{e.ChildText(ns, "SrcMsgId"), e.ChildText(ns, "Status"), e.ChildText(ns, "DstMsgId")})
	}
	want := []res{
		{"1:1", "3", "3:8"}, {"1:1", "1", ""}, {"1:2", "2", ""}, {"1:3", "4", ""}, {"locked", "7", ""},
		{"gone", "1", ""}, {"1:4", "7", ""}, {"", "1", ""}, {"1:5", "1", ""}, {"1:5", "2", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("answers %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("move %d: %v, want %v", i, got[i], want[i])
		}
	}
	// The first Response's children in schema order: SrcMsgId, Status,
	// DstMsgId (MS-ASCMD 6.31).
	first := r.Root.Child(ns, "Response")
	if first.Children[0].Name != "SrcMsgId" || first.Children[1].Name != "Status" || first.Children[2].Name != "DstMsgId" {
		t.Errorf("order: %s", wbxml.XMLString(first))
	}
	if r := h.do(c, "MoveItems", wbxml.New(ns, "MoveItems")); r.Status() != 103 {
		t.Errorf("empty MoveItems: status %d", r.Status())
	}
	old := h.itemsClient("12.1", "mv2")
	if r := h.do(old, "MoveItems", wbxml.New(ns, "MoveItems")); r.HTTPStatus != 400 {
		t.Errorf("12.1 empty MoveItems: HTTP %d", r.HTTPStatus)
	}
}
