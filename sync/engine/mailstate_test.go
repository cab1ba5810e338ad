package engine

import (
	"errors"
	"reflect"
	"testing"
)

func TestMailStateRoundTrip(t *testing.T) {
	m := &mailState{
		Primed: true, Mailbox: "INBOX", UIDValidity: 42, ModSeq: 9000, Filter: 3,
		View:      viewOf(map[uint32]uint32{1: flagsHash([]string{`\Seen`}), 5: 7, 1000000: 9}),
		Pending:   map[uint32]pending{5: {Flags: []string{`\Flagged`, "Work"}}, 1: {Deleted: true}},
		Adds:      []uint32{99, 50, 7},
		ClientIDs: map[string]uint32{"c1": 77},
	}
	got, err := decodeMailState(m.encode(), true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viewMap(got.View), viewMap(m.View)) {
		t.Fatalf("view round trip: got %v want %v", viewMap(got.View), viewMap(m.View))
	}
	got.View, m.View = nil, nil
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
	}
	head, err := decodeMailState(m.encode(), false)
	if err != nil || head.View != nil || head.ModSeq != 9000 || len(head.Adds) != 3 {
		t.Fatalf("header only: %+v %v", head, err)
	}
	for _, bad := range [][]byte{{9}, {mailStateVersion}, m.encode()[:10]} {
		if _, err := decodeMailState(bad, true); !errors.Is(err, errBadState) {
			t.Errorf("%x: err %v", bad, err)
		}
	}
}

func TestDAVStateRoundTrip(t *testing.T) {
	d := &davState{
		Primed: true, Token: "http://radicale.org/ns/sync/abc", NextID: 12, Filter: 4,
		Items:     map[string]davItem{"/a/calendar/x.ics": {ID: 3, ETag: `"e1"`}},
		Pending:   map[string]davPending{"/a/calendar/y.ics": {ETag: `"e2"`}, "/a/calendar/z.ics": {Deleted: true}},
		ClientIDs: map[string]string{"cl": "/a/calendar/x.ics"},
	}
	got, err := decodeDAVState(d.encode(), true)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, d)
	}
	if _, err := decodeDAVState([]byte{davStateVersion, 1, 200}, true); !errors.Is(err, errBadState) {
		t.Errorf("truncated: %v", err)
	}
}

func FuzzDecodeMailState(f *testing.F) {
	f.Add((&mailState{View: viewOf(map[uint32]uint32{1: 2}), Pending: map[uint32]pending{3: {Flags: []string{"x"}}}, Adds: []uint32{9, 4}}).encode())
	f.Add(v4State(pendingDeleted)) // mailage_test.go
	f.Add((&mailState{AgedAt: 7, View: viewOf(map[uint32]uint32{3: 2}), Pending: map[uint32]pending{3: {Deleted: true, Soft: true}}}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMailState(b, true)
		if err != nil {
			return
		}
		if _, err := decodeMailState(m.encode(), true); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
	})
}

func viewOf(m map[uint32]uint32) *uidView {
	v := newView(nil)
	for u, h := range m {
		v.Set(u, h)
	}
	return v
}

func viewMap(v *uidView) map[uint32]uint32 {
	out := map[uint32]uint32{}
	v.Each(func(u, h uint32) { out[u] = h })
	return out
}

func TestUIDView(t *testing.T) {
	v := viewOf(map[uint32]uint32{3: 30, 1: 10, 7: 70})
	enc := v.appendEncoded(nil)
	w := newView(enc[1:]) // past the count (1 byte for 3)
	w.Delete(3)
	w.Set(5, 50)
	w.Set(7, 71)
	w.Set(9, 90)
	if h, ok := w.Get(7); !ok || h != 71 {
		t.Errorf("Get(7) = %d %v", h, ok)
	}
	if w.Has(3) || !w.Has(1) || w.Len() != 4 {
		t.Errorf("Has/Len wrong: %v", viewMap(w))
	}
	want := map[uint32]uint32{1: 10, 5: 50, 7: 71, 9: 90}
	if got := viewMap(w); !reflect.DeepEqual(got, want) {
		t.Errorf("merged %v want %v", got, want)
	}
}
